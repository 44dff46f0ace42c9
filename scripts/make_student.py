"""Write the student's release of the course: every notebook without its folded solutions.

    .venv/bin/python scripts/make_student.py                 # writes student/ (make student)
    .venv/bin/python scripts/make_student.py --out DIR

In the course as shipped each exercise is a stub, a check, and a folded solution cell (nbgrader metadata
``solution: true``, ``### BEGIN SOLUTION`` / ``### END SOLUTION``), so that a student alone can look. For a class
that hands work in, the release drops the solution cells: each exercise then appears once, as the stub with its
check, in English and in Chinese. (nbgrader's own generate_assignment would turn each solution cell into a second
stub, since it empties solution cells rather than removing them; this needs no database either.) The release keeps
the layout the notebooks expect: DIR/notebooks/ (with zh/ and figures/) and DIR/docs/RESULTS.md, which notebooks
read as ../docs/RESULTS.md. An existing DIR is replaced only if it is a release written by this script.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = ".ddim-teach-student-release"


def is_solution(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


NOTE = {"en": "**Student release.** In this copy of the course the exercises' folded solutions are removed: each "
              "exercise is its stub and its check. (The full course, with solutions, is the project's `notebooks/`.)",
        "zh": "**学生版。** 这份课程副本去掉了练习的折叠参考答案：每道练习只有待填写的函数和它的检查。"
              "（带参考答案的完整课程在项目的 `notebooks/` 中。）"}


def release_notebook(src: Path, dst: Path, lang: str = "en") -> int:
    nb = json.loads(src.read_text(encoding="utf-8"))
    before = len(nb["cells"])
    nb["cells"] = [c for c in nb["cells"] if not is_solution(c)]
    removed = before - len(nb["cells"])
    if src.stem == "00_index":      # the index says the solutions are folded below each exercise: not here
        nb["cells"].insert(0, {"cell_type": "markdown", "id": "student-release", "metadata": {}, "source": NOTE[lang]})
    text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if "### BEGIN SOLUTION" in text:
        raise SystemExit(f"{src}: a solution marker outside a solution cell")
    dst.write_text(text, encoding="utf-8")
    return removed


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "student")
    a = p.parse_args(argv)
    out = a.out.resolve()
    if out.exists():
        if not (out / MARK).exists():
            raise SystemExit(f"{out} exists and is not a student release written by this script; "
                             "choose another --out or remove it yourself")
        shutil.rmtree(out)
    removed = 0
    for lang, lang_dir, rel in (("en", ROOT / "notebooks", Path("notebooks")),
                                ("zh", ROOT / "notebooks" / "zh", Path("notebooks/zh"))):
        (out / rel).mkdir(parents=True, exist_ok=True)
        for src in sorted(lang_dir.glob("*.ipynb")):
            removed += release_notebook(src, out / rel / src.name, lang)
        if (lang_dir / "figures").is_dir():
            shutil.copytree(lang_dir / "figures", out / rel / "figures")
    (out / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "RESULTS.md", out / "docs" / "RESULTS.md")
    (out / MARK).write_text("written by scripts/make_student.py\n")
    print(f"student release in {out}: {removed} solution cells removed (English and Chinese)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
