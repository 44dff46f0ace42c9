"""bench.read_markdown reads back what bench.markdown writes, and the table recorded in docs/RESULTS.md."""
from pathlib import Path

import pytest

from ddim_teach import bench

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_read_markdown_inverts_markdown(lang):
    from ddim_teach import i18n
    table = {(10, 0.0): (26.934, None), (20, 0.0): (18.67, None), (10, 1.0): (30.36, None),
             (10, "sigma_hat"): (104.66, None)}
    with i18n.using(lang):
        text = bench.markdown(table, 11.372, 512, (10, 20), (0.0, 1.0, "sigma_hat"))
    assert ("越低越好" in text) == (lang == "zh")
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
def test_sampler_variants_carry_paired_differences_to_the_first_row(monkeypatch):
    import functools

    from ddim_teach import bench, metrics
    # 20 bootstrap resamples instead of 200: what is under test is that each row carries its paired difference
    monkeypatch.setattr(metrics, "fd_difference_interval", functools.partial(metrics.fd_difference_interval, n_boot=20))
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


def test_solver_table_reads_back_what_bench_prints():
    calls = (5, 10)
    table = {("DDIM η=0, trailing", 5): (5, 5, 72.681, 62.55, 82.81, (57.08, 48.38, 65.77)),
             ("DDIM η=0, trailing", 10): (10, 10, 29.74, 23.29, 36.19, (-1.5, -2.25, -0.75)),
             ("Heun, Karras ρ = 7", 5): (3, 5, 3582.5, 3489.04, 3675.96, (3566.9, 3473.13, 3660.67)),
             ("Heun, Karras ρ = 7", 10): (5, 9, 63.53, 51.55, 75.5, None)}
    n, fds, paired = bench.read_solver_markdown("intro\n\n" + bench.solver_markdown(table, 512, calls) + "\n\nafter")
    assert n == 512
    assert fds["DDIM η=0, trailing"] == {5: (72.68, 62.55, 82.81, 5), 10: (29.74, 23.29, 36.19, 10)}
    assert fds["Heun, Karras ρ = 7"][10] == (63.53, 51.55, 75.5, 9)           # the cell that says "(9 calls, S=5)"
    assert "DPM-Solver++(2M), trailing" in fds and fds["DPM-Solver++(2M), trailing"] == {}   # an absent row: all "–"
    assert paired["DDIM η=0, trailing"][10] == (-1.5, -2.25, -0.75)
    assert 10 not in paired["Heun, Karras ρ = 7"] and paired["Heun, Karras ρ = 7"][5][0] == 3566.9


def test_the_recorded_solver_table_reads():
    n, fds, paired = bench.read_solver_markdown((Path(__file__).resolve().parents[1] / "docs" / "RESULTS.md").read_text())
    assert n == 512 and set(fds) == set(paired) == {label for label, _, _ in bench.SOLVERS}
    assert paired["DDIM η=0, trailing"][50] == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("text", ["", "MNIST-FD (lower is better) against model calls, n = 512, x\n"])
def test_read_solver_markdown_refuses_what_is_not_a_table(text):
    with pytest.raises(ValueError):
        bench.read_solver_markdown(text)


def _features(seed, n=40, shift=0.0):
    import torch
    return torch.randn(n, 6, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + shift


def test_table_intervals_pair_each_row_with_the_first_in_its_column():
    from ddim_teach import metrics
    feats = {"reference": _features(0), (10, 0.0): _features(1, shift=0.5), (10, 1.0): _features(1, shift=0.8),
             (20, 0.0): _features(2), (20, 1.0): _features(3)}
    iv = bench.table_intervals(feats)
    assert set(iv) == {(10, 0.0), (10, 1.0), (20, 0.0), (20, 1.0)}
    assert iv[(10, 0.0)][1] is None and iv[(20, 0.0)][1] is None        # the row everything is compared with
    assert iv[(10, 1.0)][0] == metrics.fd_interval(feats[(10, 1.0)], feats["reference"])
    assert iv[(10, 1.0)][1] == metrics.fd_difference_interval(feats[(10, 1.0)], feats[(10, 0.0)], feats["reference"])
    d, lo, hi = iv[(10, 1.0)][1]
    assert lo < d < hi and d > 0          # the same points moved further from the reference: a larger FD


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_read_intervals_markdown_inverts_intervals_markdown(lang):
    from ddim_teach import i18n
    iv = {(10, 0.0): ((26.934, 22.01, 31.86), None), (10, 1.0): ((30.36, 25.0, 35.7), (3.43, 1.02, 5.84)),
          (20, 0.0): ((18.67, 15.2, 22.1), None), (20, 1.0): ((23.16, 19.0, 27.3), (4.49, -0.51, 9.5))}
    with i18n.using(lang):
        text = bench.intervals_markdown(iv, 512, (10, 20), (0.0, 1.0))
    n, cells, paired = bench.read_intervals_markdown("before\n\n" + text + "\n\nafter")
    assert n == 512
    assert cells == {"η=0": {10: (26.93, 22.01, 31.86), 20: (18.67, 15.2, 22.1)},
                     "η=1": {10: (30.36, 25.0, 35.7), 20: (23.16, 19.0, 27.3)}}
    assert paired == {"η=1": {10: (3.43, 1.02, 5.84), 20: (4.49, -0.51, 9.5)}}


def test_read_intervals_markdown_refuses_what_is_not_one():
    with pytest.raises(ValueError, match="no FD interval table"):
        bench.read_intervals_markdown(bench.markdown({(10, 0.0): (1.0, None)}, 1.0, 8, (10,), (0.0,)))


def test_read_markdown_reads_its_own_table_when_the_interval_table_follows():
    text = (ROOT / "docs" / "RESULTS.md").read_text()      # notebook 9 reads the whole file
    assert "<!-- table-intervals -->" in text
    floor, n, rows = bench.read_markdown(text)
    assert rows["η=0"][10] == 26.93 and rows["η=1"][1000] == 16.53 and len(rows) == 5


def test_read_intervals_markdown_reads_the_recorded_block_and_the_whole_file():
    text = (ROOT / "docs" / "RESULTS.md").read_text()
    block = bench.read_intervals_markdown(text.split("<!-- table-intervals -->")[1])
    assert bench.read_intervals_markdown(text) == block          # Table 1 above it and the tables after it are not read
    n, cells, paired = block
    assert n == 512 and cells["η=0"][10] == (26.93, 20.89, 32.96) and paired["σ̂"][10][1] > 0
    assert set(cells) == {"η=0", "η=0.2", "η=0.5", "η=1", "σ̂"} and set(paired) == set(cells) - {"η=0"}
