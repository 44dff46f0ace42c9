"""bench.read_markdown reads back what bench.markdown writes, and the table recorded in docs/RESULTS.md."""
from pathlib import Path

import pytest

from ddim_teach import bench

ROOT = Path(__file__).resolve().parents[1]


def test_read_markdown_inverts_markdown():
    table = {(10, 0.0): (26.934, None), (20, 0.0): (18.67, None), (10, 1.0): (30.36, None),
             (10, "sigma_hat"): (104.66, None)}
    text = bench.markdown(table, 11.372, 512, (10, 20), (0.0, 1.0, "sigma_hat"))
    floor, n, rows = bench.read_markdown(text)
    assert (floor, n) == (11.37, 512)
    assert rows == {"η=0": {10: 26.93, 20: 18.67}, "η=1": {10: 30.36}, "σ̂": {10: 104.66}}


def test_read_markdown_reads_the_recorded_table():
    text = (ROOT / "docs" / "RESULTS.md").read_text().split("<!-- table -->")[1]
    floor, n, rows = bench.read_markdown(text)
    assert n == 512 and 0 < floor < 20
    assert set(rows) == {"η=0", "η=0.2", "η=0.5", "η=1", "σ̂"} and all(len(r) == 5 for r in rows.values())


@pytest.mark.parametrize("text", ["", "| | S=10 |\n|---|---|\n| η=0 | 1.0 |",
                                  "MNIST-FD (lower is better), n = 8 samples per cell; real-vs-real floor at n = 8: **1.00**"])
def test_read_markdown_refuses_what_is_not_a_table(text):
    with pytest.raises(ValueError, match="MNIST-FD table"):
        bench.read_markdown(text)


@pytest.mark.slow
def test_sampler_variants_carry_paired_differences_to_the_first_row():
    from ddim_teach import bench
    from ddim_teach.pretrained import load_classifier, load_pretrained
    model, s = load_pretrained()
    rows = bench.sampler_variants(model, s, load_classifier(), n=8)
    assert [r[0] for r in rows] == [label for label, _ in bench.SAMPLER_VARIANTS]
    assert rows[0][4] == (0.0, 0.0, 0.0)                   # the first row against itself
    for label, fd, conf, pmax, (d, lo, hi) in rows[1:]:
        assert lo <= d <= hi and abs(d - (fd - rows[0][1])) < 1e-9


def test_samplers_table_reads_back_what_bench_prints():
    rows = [("plain", 15.6, 0.857, 0.953, (0.0, 0.0, 0.0)), ("clipped", 16.94, 0.852, 0.951, (1.334, -0.351, 3.02))]
    text = "intro\n\n" + "\n".join([bench.SAMPLERS_HEADER] + [bench.samplers_markdown_row(*r) for r in rows]) + "\n\nmore"
    got = bench.read_samplers_markdown(text)
    assert got == {"plain": (15.6, (0.0, 0.0, 0.0)), "clipped": (16.94, (1.33, -0.35, 3.02))}
    with pytest.raises(ValueError, match="no --samplers table here"):
        bench.read_samplers_markdown("| sampler | MNIST-FD |")


def test_the_recorded_samplers_table_reads():
    text = (Path(__file__).resolve().parents[1] / "docs" / "RESULTS.md").read_text()
    rows = bench.read_samplers_markdown(text)
    assert rows["DDIM η=0, S=50, trailing (the bar's setting)"][1] == (0.0, 0.0, 0.0) and len(rows) == 4
