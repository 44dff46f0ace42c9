"""Time every notebook and write the one source of the course's run times, then the tables made from it.

    OMP_NUM_THREADS=2 .venv/bin/python scripts/time_notebooks.py            # execute all, write docs/notebook_times.json, update tables
    OMP_NUM_THREADS=2 .venv/bin/python scripts/time_notebooks.py --write-back   # the same, and commit the timed run's outputs
    .venv/bin/python scripts/time_notebooks.py --tables-only                 # only rewrite the tables from the JSON

Each notebook is executed in a copy (the committed outputs are not touched, unless ``--write-back``: then the timed
run's outputs replace them, so that the run time a notebook prints is the one of the measurement) with
``jupyter nbconvert --to notebook --execute``: whole notebook, kernel start included, OMP_NUM_THREADS=2.
The README's course table, its instructor notes, the index notebook's "runs in" column and the table in
docs/RESULTS.md are written between ``<!-- times:... -->`` markers (in the index: by ``{{t:NN}}``-free rewriting of the
"runs in" column), so that no run time is ever typed by hand. tests/test_timings.py checks that they agree.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks"
JSON = ROOT / "docs" / "notebook_times.json"
ORDER = ["00_index", "01_forward_process", "02_ddpm", "03_ddim_derivation", "04_ddpm_vs_ddim",
         "05_x0_and_consistency", "06_ode_view", "07_inversion_interpolation", "08_pitfalls_clinic", "09_solvers_after_ddim",
         "10_guidance", "lecture_explorer"]
CHAPTERS = [n for n in ORDER if n[:2].isdigit() and n[:2] != "00"]


def fmt(sec: float) -> str:
    return f"{sec:.0f} s"


def measure(names, write_back: bool = False) -> dict:
    jupyter = Path(sys.executable).parent / "jupyter"
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    out = {}
    for name in names:
        src = NB / f"{name}.ipynb"
        # a hidden copy beside the original: notebooks read files relative to notebooks/ (e.g. ../docs/RESULTS.md)
        dst = NB / f".timing-{name}.ipynb"
        shutil.copy(src, dst)
        try:
            t0 = time.perf_counter()
            r = subprocess.run([str(jupyter), "nbconvert", "--to", "notebook", "--execute", "--inplace",
                                "--ExecutePreprocessor.timeout=600", str(dst)], cwd=NB, env=env,
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise SystemExit(f"{name} failed to execute:\n{r.stderr[-3000:]}")
            out[name] = round(time.perf_counter() - t0, 1)
            if write_back:
                shutil.copy(dst, src)
        finally:
            dst.unlink(missing_ok=True)
        print(f"{name:28s} {out[name]:6.1f} s", flush=True)
    return out


def _replace_between(text: str, tag: str, body: str) -> str:
    pat = re.compile(rf"(<!-- times:{tag} -->\n).*?(<!-- /times:{tag} -->)", re.S)
    if not pat.search(text):
        raise SystemExit(f"marker <!-- times:{tag} --> not found")
    return pat.sub(lambda m: m.group(1) + body + m.group(2), text)


def _time_column(text: str, link_prefix: str, t: dict) -> str:
    """Rewrite the last column of every course-table row that links to ``link_prefix``STEM.ipynb with STEM's time."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        m = re.match(rf"\| (\d+|L) \| \[.*?\]\({re.escape(link_prefix)}([\w]+)\.ipynb\)", line)
        if m and m.group(2) in t:
            cells = line.rstrip("\n").split("|")
            cells[-2] = f" {fmt(t[m.group(2)])} "
            lines[i] = "|".join(cells) + ("\n" if line.endswith("\n") else "")
    return "".join(lines)


def write_tables(data: dict) -> None:
    t = data["seconds"]
    # README: the course table's last column, and the instructor notes
    readme = _time_column((ROOT / "README.md").read_text(), "notebooks/", t)
    lecture1 = t["01_forward_process"] + t["02_ddpm"]
    body = (f"- **Timings** (whole notebook, kernel start included, {data['threads']} threads, measured {data['date']} "
            f"with `scripts/time_notebooks.py`): " + ", ".join(fmt(t[n]) for n in CHAPTERS) +
            f" for notebooks 1–{len(CHAPTERS)}; lecture 1 (notebooks 1 and 2) is {fmt(lecture1)} of computing. "
            "Details and the benchmark figures are in `docs/RESULTS.md`.\n")
    readme = _replace_between(readme, "readme", body)
    (ROOT / "README.md").write_text(readme)

    # README.zh-CN.md: the same column and notes, in Chinese
    zh_path = ROOT / "README.zh-CN.md"
    zh = _time_column(zh_path.read_text(encoding="utf-8"), "notebooks/zh/", t)
    body_zh = (f"- **运行时间**（整个 notebook，含内核启动，{data['threads']} 个线程，{data['date']} 用 "
               f"`scripts/time_notebooks.py` 实测英文版）：第 1–{len(CHAPTERS)} 章依次为 " + "、".join(fmt(t[n]) for n in CHAPTERS) +
               f"；第 1 次课（第 1、2 章）共需计算 {fmt(lecture1)}。详情和基准测试数据见 `docs/RESULTS.md`。\n")
    zh_path.write_text(_replace_between(zh, "readme-zh", body_zh), encoding="utf-8")

    # docs/RESULTS.md
    rows = "".join(f"| {n} | {t[n]:.1f} |\n" for n in ORDER)
    res = (ROOT / "docs" / "RESULTS.md").read_text()
    res = _replace_between(res, "results", f"Measured {data['date']}, {data['threads']} threads, load average before the run "
                                           f"{data['load']}:\n\n| notebook | seconds |\n|---|---|\n{rows}")
    (ROOT / "docs" / "RESULTS.md").write_text(res)

    # the index notebook's map
    idx_path = NB / "00_index.ipynb"
    nb = json.loads(idx_path.read_text())
    for c in nb["cells"]:
        if c["cell_type"] != "markdown":
            continue
        text = "".join(c["source"])
        new = _time_column(text, "", t)
        if new != text:
            c["source"] = new.splitlines(keepends=True)
    idx_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tables-only", action="store_true", help="rewrite the tables from docs/notebook_times.json")
    p.add_argument("--write-back", action="store_true",
                   help="replace each notebook's outputs with those of its timed run")
    p.add_argument("names", nargs="*", help="notebooks to time (default: all); others keep their recorded time")
    a = p.parse_args(argv)
    if a.tables_only:
        data = json.loads(JSON.read_text())
    else:
        bad = [n for n in a.names if n not in ORDER]
        if bad:
            p.error(f"unknown notebook(s) {bad}; choose from {ORDER}")
        load = f"{os.getloadavg()[0]:.2f}"
        new = measure(a.names or ORDER, write_back=a.write_back)
        old = json.loads(JSON.read_text())["seconds"] if JSON.exists() else {}
        data = {"date": dt.date.today().isoformat(), "threads": int(os.environ.get("OMP_NUM_THREADS", "2")),
                "load": load, "command": "OMP_NUM_THREADS=2 .venv/bin/python scripts/time_notebooks.py",
                "seconds": {n: new.get(n, old.get(n)) for n in ORDER}}
        JSON.write_text(json.dumps(data, indent=1) + "\n")
    write_tables(data)


if __name__ == "__main__":
    main()
