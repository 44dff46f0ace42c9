"""Write the student's release of the course: every notebook without its folded solutions.

    .venv/bin/python scripts/make_student.py                 # writes student/ (make student)
    .venv/bin/python scripts/make_student.py --out DIR

In the course as shipped each exercise is a stub, a check, and a folded solution cell (nbgrader metadata
``solution: true``, ``### BEGIN SOLUTION`` / ``### END SOLUTION``), so that a student alone can look. For a class
that hands work in, the release drops the solution cells: each exercise then appears once, as the stub with its
check, in English and in Chinese. (nbgrader's own generate_assignment would turn each solution cell into a second
stub, since it empties solution cells rather than removing them; this needs no database either.) The release keeps
the layout the notebooks expect: DIR/notebooks/ (with zh/ and figures/) and DIR/docs/RESULTS.md, which notebooks
read as ../docs/RESULTS.md. An existing DIR is replaced only if it is a release written by this script and holds
nothing else: the release's marker file lists every file the script wrote, and a file it did not write (a student's
work, grading notes) is never deleted: the run is refused, naming it. DIR may not lie inside the sources the script
reads (notebooks/, docs/). The release is built in a temporary folder beside DIR and moved into place at the end,
so a failure (a notebook that is not valid JSON, say) leaves no half-written release behind.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
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
    try:
        nb = json.loads(src.read_text(encoding="utf-8"))
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ValueError("no list of cells")
    except (ValueError, UnicodeDecodeError) as e:   # JSONDecodeError is a ValueError
        raise SystemExit(f"{src}: not a readable notebook ({e}); fix or restore it (git checkout -- {src.name})") \
            from None
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


HEADER = "written by scripts/make_student.py; the files it wrote:"


def written_files(out: Path) -> set[str] | None:
    """The files a release at ``out`` says it wrote (paths relative to it), or None where ``out`` is no release."""
    mark = out / MARK
    if not mark.is_file():
        return None
    lines = mark.read_text(encoding="utf-8").splitlines()
    return set(lines[1:]) if lines and lines[0] == HEADER else set()   # an older marker listed nothing


def _check_out(out: Path) -> None:
    """Refuse an ``out`` inside the sources (or holding them), and an existing ``out`` that is not a release written
    here or that holds files the script did not write: nothing of the user's is ever deleted."""
    sources = (ROOT / "notebooks", ROOT / "docs")
    if any(out == d or out.is_relative_to(d) for d in sources) or ROOT.is_relative_to(out):
        raise SystemExit(f"--out {out} is inside the course's sources ({', '.join(str(d) for d in sources)}) or holds "
                         f"them; choose a folder outside them, e.g. {ROOT / 'student'}")
    if not out.exists():
        return
    own = written_files(out)
    if own is None:
        raise SystemExit(f"{out} exists and is not a student release written by this script; "
                         "choose another --out or remove it yourself")
    own_dirs = {q.as_posix() for rel in own for q in Path(rel).parents}
    foreign = sorted(p.relative_to(out).as_posix() + ("/" if p.is_dir() else "") for p in out.rglob("*")
                     if p.relative_to(out).as_posix() not in (own_dirs if p.is_dir() else own | {MARK}))
    if foreign:
        shown = ", ".join(foreign[:8]) + (f" and {len(foreign) - 8} more" if len(foreign) > 8 else "")
        raise SystemExit(f"{out} holds files this script did not write: {shown}. Nothing was changed; move them "
                         "out (or choose another --out) and run again")


def _remove_release(out: Path) -> None:
    """Delete the files a release wrote (and the folders they leave empty); nothing else is there (_check_out)."""
    for rel in written_files(out) or ():
        (out / rel).unlink(missing_ok=True)
    (out / MARK).unlink()
    for d in sorted((p for p in out.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        d.rmdir()
    out.rmdir()


def build(stage: Path) -> int:
    """Write the release into ``stage``; return the number of solution cells removed."""
    removed = 0
    for lang, lang_dir, rel in (("en", ROOT / "notebooks", Path("notebooks")),
                                ("zh", ROOT / "notebooks" / "zh", Path("notebooks/zh"))):
        (stage / rel).mkdir(parents=True, exist_ok=True)
        for src in sorted(lang_dir.glob("*.ipynb")):
            removed += release_notebook(src, stage / rel / src.name, lang)
        if (lang_dir / "figures").is_dir():
            shutil.copytree(lang_dir / "figures", stage / rel / "figures")
    (stage / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "RESULTS.md", stage / "docs" / "RESULTS.md")
    files = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if not p.is_dir())
    (stage / MARK).write_text("\n".join([HEADER, *files]) + "\n", encoding="utf-8")
    return removed


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "student")
    a = p.parse_args(argv)
    out = a.out.resolve()
    _check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        removed = build(stage)
        if out.exists():
            _remove_release(out)
        stage.rename(out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)    # gone already when renamed
    print(f"student release in {out}: {removed} solution cells removed (English and Chinese)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
