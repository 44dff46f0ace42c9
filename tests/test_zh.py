"""The Chinese course (notebooks/zh/, built by scripts/build_zh.py from the catalog i18n/zh/) and ddim_teach.i18n.

One switch, ``i18n/zh/STATUS``: while it says ``in-progress`` the two completeness tests (every English cell
translated and current; every generated notebook as the build makes it) are skipped, and their skip reasons
list what is missing. When it says ``complete`` they fail on any missing or stale translation, naming the
notebook and the cell. Everything else here runs either way: the staleness machinery is tried on a copy.
"""
import contextlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import socket
import string
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ddim_teach import i18n

ROOT = Path(__file__).resolve().parents[1]
ZH_DIR = ROOT / "notebooks" / "zh"
spec = importlib.util.spec_from_file_location("build_zh", ROOT / "scripts" / "build_zh.py")
build_zh = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_zh)


@pytest.fixture(autouse=True)
def _english_again():
    yield
    i18n.set_language("en", font=False)
    matplotlib.rcdefaults()


# --------------------------------------------------------------------------------------------- the catalog

def _gate(what: str, problems: list[str]):
    if problems and not build_zh.translation_complete():
        pytest.skip(f"i18n/zh/STATUS is in-progress; when it says `complete` this fails on {what}: "
                    + "; ".join(problems)[:1500])


def test_translations_current():
    """Every English markdown cell has a Chinese translation made from its current text."""
    problems = []
    for p in build_zh.english_notebooks():
        for r in build_zh.cell_status(build_zh.read_nb(p), build_zh.load_catalog(p.stem)):
            problems.append(f"{p.name} cell {r['id']}: {r['status']}")
    _gate("these translations", problems)
    assert not problems, ("translations missing or stale (run `scripts/build_zh.py --todo`): "
                          + "; ".join(problems))


def test_generated_notebooks_match_the_build():
    """notebooks/zh/ is exactly what scripts/build_zh.py makes now (executed where its code differs)."""
    report = build_zh.check(build_zh.english_notebooks())
    problems = [f"notebooks/zh/{stem}.ipynb {r['notebook']}" for stem, r in report.items() if r["notebook"]]
    _gate("these notebooks", problems)
    assert not problems, "; ".join(problems)


def test_catalog_files_are_well_formed():
    names = {p.stem for p in build_zh.english_notebooks()}
    files = sorted(build_zh.CATALOG_DIR.glob("*.json"))
    assert files, "no catalog in i18n/zh/"
    for f in files:
        assert f.stem in names, f"{f.name} belongs to no English notebook"
        cat = build_zh.load_catalog(f.stem)   # raises CatalogError on a malformed entry
        for cid, e in cat.items():
            if cid != "_notebook":
                assert re.fullmatch(r"[0-9a-f]{64}", e["en_hash"]), f"{f.name} {cid}: en_hash is not a sha256"
                assert build_zh.en_hash(e["en"]) == e["en_hash"], f"{f.name} {cid}: en_hash is not the hash of en"
    assert build_zh.STATUS_FILE.read_text().split()[0] in ("in-progress", "complete")


def test_translated_index_keeps_the_notation_table_and_terms():
    cat = build_zh.load_catalog("00_index")
    zh = "\n".join(e["zh"] for k, e in cat.items() if k != "_notebook" and "zh" in e)
    for term in ("前向过程", "反向过程", "后验", "非马尔可夫", "隐式", "概率流 ODE", "去噪扩散概率模型", "噪声调度",
                 "信噪比", "采样步数", "确定性采样", "反演"):
        assert term in zh, term
    assert "## 符号约定" in zh and "| `alphas_cumprod` |" in zh


def test_zh_links_resolve():
    """Every relative link of a Chinese notebook opens a file (chapters link to the Chinese chapters)."""
    for p in sorted(ZH_DIR.glob("*.ipynb")):
        nb = build_zh.read_nb(p)
        md = "\n".join(build_zh.source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
        for target in re.findall(r"\]\(([^)\s]+)\)", md):
            path = target.split("#")[0]
            if path and not re.match(r"^[a-z]+:", target):
                assert (ZH_DIR / path).exists(), f"{p.name} links to missing {target}"


def test_readme_zh_links_resolve_and_the_readme_links_to_it():
    text = (ROOT / "README.zh-CN.md").read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if not re.match(r"^[a-z]+:", target):
            assert (ROOT / target.split("#")[0]).exists(), f"README.zh-CN.md links to missing {target}"
    assert "(README.zh-CN.md)" in (ROOT / "README.md").read_text()


def test_zh_notebooks_whose_code_differs_are_executed_and_set_chinese():
    """Every Chinese notebook either copies the English outputs (same code) or has its own execution of its own
    code (the zh-setup cell sets the language first); nbval runs notebooks/zh/ too (it is under testpaths)."""
    for p in sorted(ZH_DIR.glob("*.ipynb")):
        nb = build_zh.read_nb(p)
        meta = nb["metadata"][build_zh.META_KEY]
        assert nb["metadata"]["kernelspec"]["name"] == "ddim-teach"
        ids = [c["id"] for c in nb["cells"]]
        assert len(ids) == len(set(ids)), f"{p.name}: duplicate cell ids"
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        if build_zh.SETUP_ID in ids:
            assert ids.index(build_zh.SETUP_ID) <= 1 and meta["outputs"] == "executed", p.name
            assert 'i18n.set_language("zh")' in build_zh.source(code[0])
        if meta["outputs"] == "executed" and "code_hash" in meta:
            assert meta["code_hash"] == build_zh.code_hash(nb), f"{p.name}: outputs of other code"
            assert all(c["execution_count"] for c in code), f"{p.name}: a code cell was not run"


# --------------------------------------------------------------------------------------------- the machinery, on a copy

def _ids(nb_path: Path, cell_type: str) -> list[str]:
    return [c["id"] for c in build_zh.read_nb(nb_path)["cells"] if c["cell_type"] == cell_type]


def _pretend_executed(en_path: Path):
    """Write the Chinese notebook as `--execute` would, without running a kernel (the outputs are not the point)."""
    nb, state = build_zh.build(en_path)
    assert state == "needs-execution"
    for i, c in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        c["execution_count"] = i + 1
    nb["metadata"][build_zh.META_KEY]["code_hash"] = build_zh.code_hash(nb)
    (build_zh.ZH_DIR / en_path.name).write_text(build_zh.dumps_nb(nb))


@pytest.fixture
def course_copy(tmp_path, monkeypatch):
    """A temporary course: the English notebooks, a catalog translating every markdown cell of 00_index and
    lecture_explorer (through --import), and their Chinese notebooks as the build makes them."""
    en, zh, cat = tmp_path / "notebooks", tmp_path / "notebooks" / "zh", tmp_path / "i18n" / "zh"
    zh.mkdir(parents=True), cat.mkdir(parents=True)
    for p in build_zh.english_notebooks():
        shutil.copy(p, en / p.name)
    (cat / "STATUS").write_text("complete\n")
    for name, value in (("EN_DIR", en), ("ZH_DIR", zh), ("CATALOG_DIR", cat), ("STATUS_FILE", cat / "STATUS")):
        monkeypatch.setattr(build_zh, name, value)
    data = {stem: {cid: f"译文 {cid}" for cid in _ids(en / f"{stem}.ipynb", "markdown")}
            for stem in ("00_index", "lecture_explorer")}
    data["00_index"]["_notebook"] = {"setup_cell": False}
    (tmp_path / "t.json").write_text(json.dumps(data, ensure_ascii=False))
    assert build_zh.import_file(tmp_path / "t.json")[0] == sum(len(v) for v in data.values()) - 1
    assert build_zh.cmd_build([en / "00_index.ipynb"], do_execute=False, quiet=True) == 0   # outputs copied
    _pretend_executed(en / "lecture_explorer.ipynb")
    for stem in ("00_index", "lecture_explorer"):
        assert build_zh.check([en / f"{stem}.ipynb"])[stem] == {"missing": [], "stale": [], "orphan": [],
                                                                 "notebook": None}
    return en


def _edit_english_cell(path: Path, cid: str, fn):
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if c["id"] == cid)
    cell["source"] = fn(build_zh.source(cell)).splitlines(keepends=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def test_editing_an_english_cell_makes_its_translation_stale(course_copy, capsys):
    index = course_copy / "00_index.ipynb"
    cid = _ids(index, "markdown")[-1]
    _edit_english_cell(index, cid, lambda s: s + "\n\nA new sentence.")
    report = build_zh.check([index])["00_index"]
    assert report["stale"] == [cid]
    assert "differs" in report["notebook"]
    assert build_zh.cmd_check([index], lint_too=False) == 1
    assert f"00_index:\n  1 stale: {cid}" in capsys.readouterr().out
    # the test of the real course fails the same way, naming the notebook and the cell
    with pytest.raises(AssertionError, match=f"00_index.ipynb cell {cid}: stale"):
        test_translations_current()
    # the todo shows the translator the English diff and the old translation
    rows = build_zh.todo([index])["00_index"]
    assert [(r["id"], r["status"]) for r in rows] == [(cid, "stale")]
    assert "A new sentence." in rows[0]["en"] and rows[0]["old_zh"] == f"译文 {cid}"
    assert "+A new sentence." in "\n".join(__import__("difflib").unified_diff(rows[0]["old_en"].split("\n"),
                                                                              rows[0]["en"].split("\n")))
    # while stale, the Chinese notebook shows the current English text rather than an outdated translation
    nb, _ = build_zh.build(index)
    assert "A new sentence." in build_zh.source(next(c for c in nb["cells"] if c["id"] == cid))
    # importing a new translation records the new hash and makes it current again
    (course_copy / "t2.json").write_text(json.dumps({"00_index": {cid: "新的译文"}}))
    assert build_zh.import_file(course_copy / "t2.json")[0] == 1
    assert build_zh.check([index])["00_index"]["stale"] == []


def test_editing_english_code_asks_for_execution(course_copy):
    # 00_index (no zh-setup cell): an untranslated code cell stays the English code with the English outputs
    index = course_copy / "00_index.ipynb"
    code_id = _ids(index, "code")[0]
    _edit_english_cell(index, code_id, lambda s: s + "\nprint(1)")
    report = build_zh.check([index])["00_index"]
    assert report["stale"] == [] and "differs" in report["notebook"]
    nb, state = build_zh.build(index)
    assert state == "ok" and build_zh.source(next(c for c in nb["cells"] if c["id"] == code_id)).endswith("print(1)")
    # the lecture app runs its own code (the zh-setup cell): a change to the English code asks for execution
    lecture = course_copy / "lecture_explorer.ipynb"
    _edit_english_cell(lecture, _ids(lecture, "code")[-1], lambda s: s + "\nprint(1)")
    assert "needs executing" in build_zh.check([lecture])["lecture_explorer"]["notebook"]
    nb, state = build_zh.build(lecture)
    assert state == "needs-execution" and nb["cells"][1]["id"] == build_zh.SETUP_ID
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in nb["cells"] if c["cell_type"] == "code")


def test_missing_translation_is_listed_and_the_english_used(course_copy):
    lecture = course_copy / "lecture_explorer.ipynb"
    cid = _ids(lecture, "markdown")[-1]
    cat = build_zh.load_catalog("lecture_explorer")
    del cat[cid]
    build_zh.catalog_path("lecture_explorer").write_text(json.dumps(cat, ensure_ascii=False))
    assert build_zh.check([lecture])["lecture_explorer"]["missing"] == [cid]
    nb, _ = build_zh.build(lecture)
    english = build_zh.source(next(c for c in build_zh.read_nb(lecture)["cells"] if c["id"] == cid))
    assert build_zh.source(next(c for c in nb["cells"] if c["id"] == cid)) == build_zh.rewrite_links(english)


def test_translated_code_must_keep_the_code(course_copy):
    index = course_copy / "00_index.ipynb"
    cid = _ids(index, "code")[0]
    english = build_zh.source(next(c for c in build_zh.read_nb(index)["cells"] if c["id"] == cid))
    (course_copy / "c.json").write_text(json.dumps({"00_index": {cid: english + "\n# 中文注释"}}))
    assert build_zh.import_file(course_copy / "c.json")[0] == 1
    nb, state = build_zh.build(index)
    assert state == "needs-execution"   # its code differs from the English now: the outputs must be its own
    assert build_zh.source(next(c for c in nb["cells"] if c["id"] == cid)).endswith("# 中文注释")


def test_import_rejects_what_would_break_the_notebook(course_copy):
    index = course_copy / "00_index.ipynb"
    code_id, md_id = _ids(index, "code")[0], _ids(index, "markdown")[0]
    before = build_zh.catalog_path("00_index").read_text()
    bad = course_copy / "bad.json"
    for data, message in (({"00_index": {"nope": "x"}}, "no cell with id 'nope'"),
                          ({"99_none": {"x": "y"}}, "no English notebook"),
                          ({"00_index": {code_id: "print('changed code')"}}, "the code differs"),
                          ({"00_index": {md_id: "  "}}, "non-empty"),
                          ({"00_index": {md_id: build_zh.source(build_zh.read_nb(index)["cells"][0])}},
                           "is the English text itself")):
        bad.write_text(json.dumps(data))
        with pytest.raises(build_zh.CatalogError, match=message):
            build_zh.import_file(bad)
    assert build_zh.catalog_path("00_index").read_text() == before   # nothing written by a failed import


def test_todo_template_round_trip(course_copy, capsys):
    lecture = course_copy / "lecture_explorer.ipynb"
    cat = build_zh.load_catalog("lecture_explorer")
    cid = _ids(lecture, "markdown")[0]
    del cat[cid]
    build_zh.catalog_path("lecture_explorer").write_text(json.dumps(cat, ensure_ascii=False))
    assert build_zh.cmd_todo([lecture], "template", False) == 0
    template = json.loads(capsys.readouterr().out)
    assert list(template) == ["lecture_explorer"] and list(template["lecture_explorer"]) == [cid]
    template["lecture_explorer"][cid] = "# 译文"
    (course_copy / "filled.json").write_text(json.dumps(template, ensure_ascii=False))
    assert build_zh.import_file(course_copy / "filled.json")[0] == 1
    assert build_zh.todo([lecture]) == {}
    assert not build_zh.has_words("$x_t$ `eps_hat` [→](01_forward_process.ipynb)") and build_zh.has_words("The map")


def test_review_prints_both_languages(course_copy, capsys):
    assert build_zh.cmd_review([course_copy / "lecture_explorer.ipynb"]) == 0
    out = capsys.readouterr().out
    cid = _ids(course_copy / "lecture_explorer.ipynb", "markdown")[0]
    assert f"## {cid} (markdown, current)" in out and f"译文 {cid}" in out and "English:" in out


def test_links_and_paths_are_rewritten_for_the_zh_folder():
    assert build_zh.rewrite_links("[a](01_forward_process.ipynb) [b](figures/05_explorer.png) "
                                  "[c](https://x.org/a.png) [d](#top) [e](../docs/RESULTS.md)") == (
        "[a](01_forward_process.ipynb) [b](../figures/05_explorer.png) [c](https://x.org/a.png) [d](#top) "
        "[e](../../docs/RESULTS.md)")
    assert build_zh.rewrite_links("[n](00_index.ipynb#Notation)") == "[n](00_index.ipynb#符号约定)"
    assert build_zh.rewrite_code('Path("../docs/RESULTS.md") + x/"../y"') == 'Path("../../docs/RESULTS.md") + x/"../../y"'


def test_lint_catches_lost_math_links_and_markers():
    en = "## Idea\n\nThe $\\bar\\alpha_t$ of [notebook 1](01_forward_process.ipynb) and `eps_hat`."
    assert build_zh.lint(en, "## 思路\n\n[第 1 章](01_forward_process.ipynb) 的 $\\bar\\alpha_t$ 和 `eps_hat`。",
                         "markdown") == []
    problems = build_zh.lint(en, "# 思路\n\n第 1 章的 $\\alpha_t$。", "markdown")
    assert len(problems) == 4, problems
    assert build_zh.lint("# NBVAL_CHECK_OUTPUT\nplt.title('noise')  # the noise",
                         "# NBVAL_CHECK_OUTPUT\nplt.title('噪声')  # 噪声", "code") == []
    assert build_zh.lint("# NBVAL_CHECK_OUTPUT\nx = 1", "x = 1", "code")


def test_check_command_line_reports_and_exits():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_zh.py"), "--check", "00", "lecture_explorer"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode in (0, 1) and ("OK" in r.stdout or "not up to date" in r.stdout), r.stdout + r.stderr
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_zh.py"), "--todo", "no_such_notebook"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "no English notebook 'no_such_notebook'" in r.stderr


# --------------------------------------------------------------------------------------------- i18n and fonts

def test_language_setting():
    assert i18n.get_language() == "en"
    with pytest.raises(ValueError, match="unknown language 'fr'; choose one of 'en', 'zh'"):
        i18n.set_language("fr")
    i18n.set_language("zh", font=False)
    assert i18n.tr("explorer.steps") == "步数" and i18n.tr("explorer.steps", lang="en") == "steps"
    assert i18n.tr("explorer.computing", setting="η = 0") == "正在计算 η = 0…"
    with pytest.raises(KeyError, match="no UI string 'nope'"):
        i18n.tr("nope")


def test_using_sets_the_language_for_a_block_only():
    with i18n.using("zh") as lang:
        assert lang == "zh" and i18n.tr("explorer.seed") == "种子"
    assert i18n.get_language() == "en"
    with i18n.using(None):
        assert i18n.get_language() == "en"
    with pytest.raises(ValueError, match="unknown language"), i18n.using("jp"):
        pass


def test_exercise_verdicts_in_chinese():
    import inspect

    from ddim_teach import exercises
    if "lang" not in inspect.signature(exercises.check).parameters:
        pytest.skip("exercises.check has no lang= yet: the i18n patch for ddim_teach/exercises is not applied")
    name = sorted(exercises.EXERCISES)[0]
    ex = exercises.EXERCISES[name]

    def stub(*args, **kwargs):
        raise NotImplementedError

    assert "not implemented yet" in exercises.check(name, stub).message
    assert exercises.check(name, stub, lang="zh").message == i18n.tr("check.not_implemented", lang="zh", name=name)
    assert exercises.check(name, ex.reference, lang="zh").message.startswith(f"✓ {name}：在全部")
    i18n.set_language("zh", font=False)
    assert "返回了 None" in exercises.check(name, lambda *a, **k: None).message
    assert exercises.check(name, stub, lang="en").message.startswith(f"✗ {name}: not implemented yet")


def test_every_ui_string_has_both_languages_with_the_same_fields():
    fields = lambda s: sorted(f for _, f, _, _ in string.Formatter().parse(s) if f)
    for key, entry in i18n.STRINGS.items():
        assert set(entry) == {"en", "zh"}, key
        assert fields(entry["en"]) == fields(entry["zh"]), key
        assert not re.search(r"[\u4e00-\u9fff]", entry["en"]), key


def _glyph_warnings(title: str, xlabel: str) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.plot([0, 1], [1, 0])
        ax.set_title(title), ax.set_xlabel(xlabel), ax.set_ylabel("信噪比 SNR")
        fig.canvas.draw()
        plt.close(fig)
    return [str(w.message) for w in caught if "Glyph" in str(w.message)]


def test_chinese_labels_render_without_missing_glyphs():
    title = i18n.tr("explorer.final", lang="zh", eta=0.5, steps=20, spacing="trailing", seed=3)
    xlabel = "采样步数 S；噪声调度 ᾱ_t；x̂₀、ε̂、σ_t"
    # without a Chinese font, matplotlib warns once per missing glyph: the check below can fail
    assert any("missing from font" in w for w in _glyph_warnings(title, xlabel))
    name = i18n.use_chinese_font()
    assert name is not None, "no Chinese font: pip install noto-cjk-sans-otc (a dependency of the course)"
    if importlib.util.find_spec("noto_cjk_sans_otc") is not None:   # the pip-installed font comes first
        assert name == "Noto Sans CJK SC"
    assert matplotlib.rcParams["font.family"] == ["DejaVu Sans", name]
    assert _glyph_warnings(title, xlabel) == []
    assert i18n.missing_glyphs(title + xlabel) == []


def test_set_language_zh_sets_the_font_and_warns_clearly_without_one(monkeypatch):
    i18n.set_language("zh")
    assert "DejaVu Sans" in matplotlib.rcParams["font.family"] and len(matplotlib.rcParams["font.family"]) == 2
    matplotlib.rcdefaults()
    monkeypatch.setattr(i18n, "find_chinese_font", lambda: None)
    with pytest.warns(UserWarning, match="No Chinese font found.*pip install noto-cjk-sans-otc"):
        assert i18n.use_chinese_font() is None


# --------------------------------------------------------------------------------------------- make

@pytest.mark.parametrize("args, expect", [
    (["lab", "COURSE_LANG=zh"], "--notebook-dir=notebooks/zh"),
    (["lab", "LANG=zh"], "--notebook-dir=notebooks/zh"),
    (["lab"], "--notebook-dir=notebooks "),
    (["lecture", "COURSE_LANG=zh"], "notebooks/zh/lecture_explorer.ipynb"),
    (["lecture", "LANG=zh"], "notebooks/zh/lecture_explorer.ipynb"),
])
def test_make_opens_the_chinese_course(args, expect):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    r = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert expect in r.stdout + " ", r.stdout
    if "LANG=zh" in args:
        assert "jupyterlab-language-pack-zh-CN" in r.stdout or args[0] == "lecture"


def test_make_rejects_an_unknown_course_language():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    r = subprocess.run(["make", "-n", "lab", "COURSE_LANG=fr"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "COURSE_LANG must be en or zh" in r.stderr


# --------------------------------------------------------------------------------------------- the Chinese lecture app

SHOTS = ROOT / "test-output" / "zh"
CHROMIUM = "/usr/bin/chromium"
BROWSER_ENV = "DDIM_TEACH_REQUIRE_BROWSER"
CJK_FONT_HINT = "no Chinese system font for Chromium: apt-get install fonts-wqy-microhei (or fonts-noto-cjk)"

# Tofu check: draw two different Chinese characters and one private-use character in the page's font. Without
# a Chinese font all three come out as the same missing-glyph box; with one, the characters differ from the box.
_TOFU_JS = """(sel) => {
    const el = document.querySelector(sel); const font = getComputedStyle(el).font;
    const c = document.createElement('canvas'); c.width = 80; c.height = 80; const g = c.getContext('2d');
    g.font = font.replace(/\\d+(\\.\\d+)?px/, '48px');
    const draw = (ch) => { g.clearRect(0, 0, 80, 80); g.fillText(ch, 8, 60); return g.getImageData(0, 0, 80, 80).data.join(','); };
    return {font: font, a: draw('扩'), b: draw('散'), box: draw('\\uE000')}; }"""


def _cjk_system_font() -> bool:
    fc = shutil.which("fc-list")
    return bool(fc and subprocess.run([fc, ":lang=zh"], capture_output=True, text=True).stdout.strip())


def _require_chinese_browser():
    """Skip (or fail, where BROWSER_ENV is set) without Chromium, Playwright or a Chinese system font."""
    from conftest import require_or_skip

    require_or_skip(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM} (apt-get install chromium)", BROWSER_ENV)
    require_or_skip(importlib.util.find_spec("playwright") is not None, "Playwright is not installed", BROWSER_ENV)
    require_or_skip(_cjk_system_font(), CJK_FONT_HINT, BROWSER_ENV)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _server(cmd: list[str], log: Path, env: dict, ready, timeout: float):
    """Run ``cmd`` in log's folder (its output to ``log``) until ``ready()`` no longer raises OSError; stop it after."""
    server = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=log.parent, env=env)
    try:
        deadline = time.time() + timeout
        while True:
            try:
                ready()
                break
            except OSError:
                assert server.poll() is None and time.time() < deadline, log.read_text()[-2000:]
                time.sleep(0.5)
        yield
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()


@contextlib.contextmanager
def _chromium_page(tmp_path: Path, height: int, shot: str, log: Path):
    """A headless Chromium page, 1400 × ``height``; when the block fails, SHOTS/<shot>_FAILED.png and the texts."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, viewport={"width": 1400, "height": height},
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = ctx.new_page()
        try:
            yield page
        except Exception:
            page.screenshot(path=str(SHOTS / f"{shot}_FAILED.png"))
            print(page.inner_text("body")[:1500], log.read_text()[-2000:])
            raise
        finally:
            ctx.close()


def _assert_no_tofu(page, selector: str):
    glyphs = page.evaluate(_TOFU_JS, selector)
    assert glyphs["a"] != glyphs["b"] and glyphs["a"] != glyphs["box"], \
        f"Chinese characters render as boxes in {glyphs['font']}"


@pytest.mark.browser
def test_chinese_lecture_app_in_voila(tmp_path):
    """Voilà serves notebooks/zh/lecture_explorer.ipynb: the Chinese text renders (no tofu), a slider moves the
    picture. The screenshot is test-output/zh/lecture_zh.png."""
    _require_chinese_browser()
    spec_dir = tmp_path / "jupyter" / "kernels" / "ddim-teach"   # this interpreter as the kernel, as test_browser does
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f",
                                                               "{connection_file}"], "language": "python",
                                                      "display_name": "Python (ddim-teach)"}))
    env = {**os.environ, "JUPYTER_PATH": str(tmp_path / "jupyter"), "OMP_NUM_THREADS": "2"}
    course = tmp_path / "zh"
    course.mkdir()
    shutil.copy(ZH_DIR / "lecture_explorer.ipynb", course / "lecture_explorer.ipynb")
    port = _free_port()
    log = tmp_path / "voila.log"
    cmd = [str(Path(sys.executable).parent / "voila"), str(course / "lecture_explorer.ipynb"),
           "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"]
    with _server(cmd, log, env, lambda: socket.create_connection(("127.0.0.1", port), timeout=2).close(), 60), \
            _chromium_page(tmp_path, 1000, "lecture_zh", log) as page:
        page.goto(f"http://127.0.0.1:{port}/", wait_until="commit", timeout=120_000)
        handle = page.locator(".widget-interact .widget-slider .noUi-handle").nth(1)
        handle.wait_for(timeout=240_000)
        page.locator("h1", has_text="DDIM 探索器").wait_for(timeout=60_000)
        body = page.inner_text("body")
        assert "课堂上可以试试" in body or "Things to try" in body
        _assert_no_tofu(page, "h1")
        img = lambda: page.locator(".widget-interact img").first.get_attribute("src")
        page.wait_for_function("() => { const i = document.querySelector('.widget-interact img');"
                               " return i && i.getAttribute('src'); }", timeout=120_000)
        before, readouts = img(), page.locator(".widget-interact .widget-readout").all_inner_texts()
        handle.focus()
        handle.press("ArrowRight")
        page.wait_for_function("([old]) => { const i = document.querySelector('.widget-interact img');"
                               " return i && i.complete && i.getAttribute('src') !== old; }",
                               arg=[before], timeout=120_000)
        assert page.locator(".widget-interact .widget-readout").all_inner_texts() != readouts
        labels = page.locator(".widget-interact .widget-label").all_inner_texts()
        page.screenshot(path=str(SHOTS / "lecture_zh.png"))
        import inspect

        from ddim_teach import viz
        if "lang" in inspect.signature(viz.explorer).parameters:   # once viz speaks Chinese
            assert "步数" in labels and "种子" in labels, labels
        assert "Traceback" not in page.inner_text("body")


@pytest.mark.browser
def test_chinese_course_in_jupyterlab_with_chinese_menus(tmp_path):
    """What `make lab COURSE_LANG=zh` starts: JupyterLab on notebooks/zh with i18n/zh/jupyterlab's default
    locale zh_CN (the official language pack): the menus are Chinese and the Chinese index renders without tofu.
    The screenshot is test-output/zh/lab_zh.png."""
    from conftest import require_or_skip

    _require_chinese_browser()
    require_or_skip(importlib.util.find_spec("jupyterlab_language_pack_zh_CN") is not None,
                    "the JupyterLab language pack is not installed (pip install jupyterlab-language-pack-zh-CN)",
                    BROWSER_ENV)
    course = tmp_path / "zh"
    course.mkdir()
    shutil.copy(ZH_DIR / "00_index.ipynb", course / "00_index.ipynb")
    port = _free_port()
    token = secrets.token_hex(24)
    log = tmp_path / "lab.log"
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", "--allow-root", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", f"--ServerApp.token={token}", "--ServerApp.password=", f"--ServerApp.root_dir={course}",
           f"--LabApp.app_settings_dir={ROOT / 'i18n' / 'zh' / 'jupyterlab'}",   # as the Makefile passes it
           f"--LabApp.user_settings_dir={tmp_path / 'user'}", f"--LabApp.workspaces_dir={tmp_path / 'ws'}"]
    assert "--LabApp.app_settings_dir=$(CURDIR)/i18n/$(COURSE_LANG)/jupyterlab" in (ROOT / "Makefile").read_text()
    status = f"http://127.0.0.1:{port}/api/status?token={token}"
    with _server(cmd, log, os.environ, lambda: urllib.request.urlopen(status, timeout=2).close(), 120), \
            _chromium_page(tmp_path, 900, "lab_zh", log) as page:
        page.goto(f"http://127.0.0.1:{port}/lab/tree/00_index.ipynb?token={token}", timeout=120_000)
        page.locator(".jp-RenderedMarkdown h1", has_text="课程目录").wait_for(timeout=180_000)
        menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        assert "文件" in menus and "编辑" in menus, f"JupyterLab's menus are not in Chinese: {menus}"
        _assert_no_tofu(page, ".jp-RenderedMarkdown h1")
        page.wait_for_timeout(4000)  # JupyterLab asks about its news a moment after the page is up
        toasts = page.locator(".Toastify__toast").all_inner_texts()
        assert not toasts, f"the first screen shows a notification over the course: {toasts}"
        page.screenshot(path=str(SHOTS / "lab_zh.png"))


def test_the_lint_enforces_the_glossary_and_the_catalog_is_clean():
    assert build_zh.enforced_terms("第一个猜测是一片散点，模型调用次数 10") and not build_zh.enforced_terms("散点图里的斑点")
    assert not build_zh.enforced_terms("见 [第 6 章](06_ode_view.ipynb) 和 `notebook 6`")      # code spans and targets
    guide = (Path(__file__).resolve().parents[1] / "i18n" / "zh" / "GUIDE.md").read_text(encoding="utf-8")
    table = guide.split("### Enforced terms")[1].split("\n\n")[2]
    assert all(f"| {use} |" in table for _, use in build_zh.ENFORCED), "GUIDE.md's table and ENFORCED differ"
    problems = [(p.stem, cid, m) for p in build_zh.english_notebooks() for cid, m in build_zh.lint_catalog(p.stem)]
    assert not problems, problems[:10]


def test_readme_zh_carries_every_section_of_the_english_readme():
    root = Path(__file__).resolve().parents[1]
    en = (root / "README.md").read_text(encoding="utf-8")
    zh = (root / "README.zh-CN.md").read_text(encoding="utf-8")
    sections = {"The course": "课程内容", "The package": "软件包", "For instructors": "给授课教师", "Other commands": "其他命令"}
    assert set(re.findall(r"^## (.+)$", en, re.M)) == set(sections), "a new English section needs its Chinese one here"
    for heading in sections.values():
        assert f"\n## {heading}\n" in zh, heading
    modules = lambda text: set(re.findall(r"^\| (`[\w_]+`(?:, `[\w_]+`)*) \|", text, re.M))
    assert modules(en) == modules(zh), modules(en) ^ modules(zh)
    commands = lambda text: set(re.findall(r"make [a-z-]+", text))
    assert commands(en) <= commands(zh), commands(en) - commands(zh)
    for needle in ("conda env create", "make reset-outputs", "make test-fast", "PIP_INDEX_URL", "TORCH=cuda"):
        assert needle in zh, needle


def test_the_lint_lets_text_inside_math_be_translated_but_nothing_else():
    en = "x = $a_\\text{prev} + \\text{error}$"
    assert build_zh.lint(en, "x = $a_\\text{prev} + \\text{误差}$", "markdown") == []
    assert build_zh.lint(en, "x = $b_\\text{prev} + \\text{误差}$", "markdown")
