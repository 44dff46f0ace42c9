"""The explorer bench's harness (python -m ddim_teach.bench --explorer), on a cheap model: it plays the script,
times every move, and refuses to go on if the explorer shows another setting than the one just chosen."""
import matplotlib.pyplot as plt
import pytest

from ddim_teach import bench, bench_explorer, oracles


class TinyImageModel:
    sample_shape = (1, 28, 28)

    def __init__(self, schedule):
        self.o = oracles.GaussianOracle(schedule, mu=0.0, s=0.5)

    def __call__(self, x, t):
        return self.o(x, t)


def test_script_is_the_issues():
    moves = bench_explorer.lecture_script(100)
    head = [m for m in moves if m[0] in bench_explorer.HEADLINE]
    assert [v for s, c, v in head[:80]] == list(range(21, 101)) and {c for s, c, v in head[:80]} == {"steps"}
    assert head[80] == ("drag η to 1", "eta", 1.0)
    assert [v for s, c, v in head if s == "step the seed"] == [1, 2, 3]
    assert len(head) == 90 and moves[-3:] == [("spacing at S = 5", "spacing", sp)
                                              for sp in ("leading", "linspace", "trailing")]


def test_percentile_matches_numpy():
    import numpy as np
    xs = [0.3, 0.1, 2.0, 0.25, 0.7, 0.05, 1.1]
    for q in (0.0, 0.5, 0.95, 1.0):
        assert bench_explorer.percentile(xs, q) == pytest.approx(np.percentile(xs, 100 * q))


@pytest.mark.parametrize("prefetch", [False, True])
def test_session_times_every_move(schedule, prefetch):
    script = [("S up with the arrow key", "steps", 6), ("S up with the arrow key", "steps", 7),
              ("drag η to 1", "eta", 1.0), ("step the seed", "seed", 1), ("back to settings shown", "seed", 0),
              ("spacing at S = 5", "spacing", "leading"), ("the solver at S = 5", "solver", "dpm_solver_pp_2m")]
    rows = bench_explorer.run_session(TinyImageModel(schedule), schedule, {"n": 2, "max_steps": 10}, think=0.0,
                                      prefetch=prefetch, script=script)
    assert rows[0]["segment"] == bench_explorer.FIRST and rows[0]["control"] is None  # building the explorer
    assert [(r["control"], r["value"]) for r in rows[1:]] == [(c, v) for _, c, v in script]
    assert all(r["seconds"] > 0 and r["new_png"] for r in rows)
    lines = []
    head = bench_explorer.report(rows, log=lines.append)
    assert lines[0].split()[:3] == ["first", "picture", "p50"]
    assert head["n"] == 5 and head["max"] >= head["p95"] >= head["p50"] > 0
    assert not plt.get_fignums()


def test_cli_rejects_bad_options(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--explorer", "--think", "-1"])
    assert "--think must be >= 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--explorer", "--quick"])
    with pytest.raises(SystemExit):
        bench.main(["--explorer", "--app", "nowhere"])


def test_cli_passes_the_apps_asked_for(monkeypatch):
    """``--app lecture`` reaches the session runner (bench's check of which flags a mode uses parses it too)."""
    seen = {}
    monkeypatch.setattr(bench_explorer, "main", lambda apps, **kw: seen.update(apps=apps, **kw) or {})
    bench.main(["--explorer", "--app", "lecture", "--think", "0"])
    assert seen["apps"] == ["lecture"] and seen["think"] == 0.0
    bench.main(["--explorer", "--app", "notebook5", "lecture"])
    assert seen["apps"] == ["notebook5", "lecture"]
    bench.main(["--explorer"])
    assert seen["apps"] is None  # both


def test_session_finds_the_controls_in_any_language(schedule):
    """The bench moves the widget's ``controls`` by role, not by their (translated) labels."""
    import matplotlib
    from ddim_teach import i18n
    if i18n.find_chinese_font() is None:
        pytest.skip("no Chinese font (pip install noto-cjk-sans-otc)")
    script = [("S up with the arrow key", "steps", 6), ("drag η to 1", "eta", 1.0),
              ("spacing at S = 5", "spacing", "leading")]
    with matplotlib.rc_context():  # the Chinese figure makes the CJK font matplotlib's fallback
        rows = bench_explorer.run_session(TinyImageModel(schedule), schedule,
                                          {"n": 2, "max_steps": 10, "lang": "zh"}, think=0.0, prefetch=False,
                                          script=script)
    assert [(r["control"], r["value"]) for r in rows[1:]] == [(c, v) for _, c, v in script]
    assert not plt.get_fignums()
