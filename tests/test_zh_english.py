"""Every word a Chinese reader sees in the Chinese notebooks is Chinese: no run of three or more English words in a
code cell's printed output or in an exercise stub (its docstring and its NotImplementedError message).

What stays English by design, and is not scanned: source listings (``inspect.getsource`` / ``getdoc``), identifiers
(anything with ``_``, ``.``, ``(``), and the names of methods, schedules and spacings (``trailing``, ``linear``…), which
the course keeps in English in both languages (i18n/zh/GUIDE.md). Figure titles and labels are drawn by the package
(``ddim_teach.i18n``) or given by the translated code, and are not read here."""
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
