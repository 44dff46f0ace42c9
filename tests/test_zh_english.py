"""Every word a Chinese reader sees in the Chinese notebooks is Chinese: no run of three or more English words in a
code cell's printed output, in the texts it gives its figures and widgets, or in an exercise stub (its docstring and its
NotImplementedError message).

What stays English by design, and is not scanned: source listings (``inspect.getsource`` / ``getdoc``), identifiers
(anything with ``_``, ``.``, ``(``), and the names of methods, schedules and spacings (``trailing``, ``linear``…), which
the course keeps in English in both languages (i18n/zh/GUIDE.md). Figure titles and labels are drawn by the package
(``ddim_teach.i18n``, whose strings tests/test_zh.py checks) or given by the translated code, which is read here:
the strings a cell passes to a title, label, legend or annotation call."""
import json
import re
from pathlib import Path

import pytest

ZH = Path(__file__).resolve().parents[1] / "notebooks" / "zh"
WORD = r"[A-Za-z][a-z]+"                      # an English word: a letter then lower-case letters (not an acronym)
RUN = re.compile(rf"(?<![\w.(])({WORD}(?:[ ,]+{WORD}){{2,}})(?![\w(])")
KEPT = {"trailing", "leading", "linspace", "linear", "cosine", "scaled", "sigmoid", "logsnr", "karras", "epsilon",
        "sample", "prediction", "fixed", "small", "large", "True", "False", "None", "tensor", "dtype", "torch",
        "float", "correct", "unknown"}


def english_runs(text: str) -> list[str]:
    found = []
    for m in RUN.finditer(text):
        words = re.findall(WORD, m.group(1))
        if sum(w not in KEPT for w in words) >= 3:
            found.append(m.group(1))
    return found


def _outputs(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        out.append("".join(o.get("text", "")))
        out.append("".join(o.get("data", {}).get("text/plain", "")))
    return "\n".join(out)


def test_the_scan_finds_english_and_passes_chinese():
    assert english_runs("noise std of the last four steps") and english_runs("S = 10, leading (starts at 900)") == []
    assert not english_runs("最后四步的噪声标准差 trailing linear") and not english_runs("model_output x0_hat dtype torch.float64")


FIGURE_CALLS = {"set_title", "set_xlabel", "set_ylabel", "suptitle", "title", "xlabel", "ylabel", "text", "annotate",
                "set_label", "show_images", "show_strip"}
FIGURE_KEYWORDS = {"title", "label", "xlabel", "ylabel", "description"}


def figure_texts(code: str) -> list[str]:
    """The string constants a code cell gives to a figure (titles, axis labels, legend labels, annotations) or to a
    widget (``description=``): what the picture shows, read from the code that draws it."""
    import ast
    try:
        tree = ast.parse("\n".join(l for l in code.splitlines() if not l.lstrip().startswith(("%", "!"))))
    except SyntaxError:
        return []

    def strings(node):
        return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in FIGURE_CALLS:
                for arg in node.args:
                    out += strings(arg)
            for kw in node.keywords:
                if kw.arg in FIGURE_KEYWORDS:
                    out += strings(kw.value)
    return out


def test_figure_texts_are_read_from_the_drawing_code():
    code = 'ax.set_title(f"noise level of the last step {t}"); viz.show_images(x, title="t = 0")\nW.Dropdown(description="a b c")'
    assert figure_texts(code) == ["noise level of the last step ", "t = 0", "a b c"]


@pytest.mark.parametrize("path", sorted(ZH.glob("*.ipynb")), ids=lambda p: p.name)
def test_no_english_in_the_figures_a_chinese_reader_sees(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    found = [(c["id"], r) for c in cells if c["cell_type"] == "code"
             for t in figure_texts("".join(c["source"])) for r in english_runs(t)]
    assert not found, found[:20]


@pytest.mark.parametrize("path", sorted(ZH.glob("*.ipynb")), ids=lambda p: p.name)
def test_no_english_in_what_a_chinese_reader_sees(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    found = []
    for c in cells:
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"])
        if "getsource" in src or "getdoc" in src:
            continue
        found += [(c["id"], "output", r) for r in english_runs(_outputs(c))]
        if "raise NotImplementedError" in src and "BEGIN SOLUTION" not in src:
            texts = re.findall(r'"""(.*?)"""', src, re.S) + re.findall(r'NotImplementedError\("(.*?)"\)', src)
            found += [(c["id"], "stub", r) for t in texts for r in english_runs(t)]
    assert not found, found[:20]
