"""Course-wide rules that nbval does not check: links resolve, every chapter is navigable and small."""
import json
import re
from pathlib import Path

import pytest

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
CHAPTERS = [p for p in NOTEBOOKS if re.match(r"(0[1-9]|1[0-9])_", p.name)]


def _markdown(p: Path) -> str:
    return "\n".join("".join(c["source"]) for c in json.loads(p.read_text())["cells"] if c["cell_type"] == "markdown")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_links_resolve_and_size(path):
    assert path.stat().st_size < 2_000_000, f"{path.name} is {path.stat().st_size / 1e6:.1f} MB (limit 2 MB)"
    for target in re.findall(r"\]\(([^)#\s]+\.ipynb)(?:#[^)]*)?\)", _markdown(path)):
        assert (NB_DIR / target).exists(), f"{path.name} links to missing {target}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_has_navigation_goals_and_exercises(path):
    md = _markdown(path)
    assert "What you will learn" in md
    assert "(00_index.ipynb)" in md and "(00_index.ipynb#Notation)" in md
    n = int(path.name[:2])
    prev = [p.name for p in NOTEBOOKS if p.name.startswith(f"{n - 1:02d}_")]
    assert prev and f"]({prev[0]})" in md, f"{path.name} lacks a link back to {prev}"
    nxt = [p.name for p in NOTEBOOKS if p.name.startswith(f"{n + 1:02d}_")]
    if nxt:
        assert f"]({nxt[0]})" in md, f"{path.name} lacks a link on to {nxt[0]}"
    cells = json.loads(path.read_text())["cells"]
    assert any(c.get("metadata", {}).get("nbgrader", {}).get("solution") for c in cells), \
        f"{path.name} has no exercise (a folded solution cell with nbgrader metadata)"
    # a question whose answer the notebook runs above the fold is a demonstration, not a worked example
    assert "## Worked example" not in md and "**Worked example" not in md, f"{path.name} still says 'worked example'"


def test_index_lists_every_chapter_and_defines_notation():
    md = _markdown(NB_DIR / "00_index.ipynb")
    assert "## Notation" in md
    for p in CHAPTERS:
        assert f"]({p.name})" in md, f"the index does not list {p.name}"
