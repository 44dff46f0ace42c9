"""Build the Chinese course, notebooks/zh/, from the English notebooks and the catalog i18n/zh/.

The English notebooks are the one source. The catalog holds one JSON file per notebook,
``i18n/zh/<notebook stem>.json``: cell id -> {"en_hash": sha256 of the English cell source, "en": that
source, "zh": the Chinese markdown} (or, for a code cell, "code": the same code with translated comments
and labels). An entry whose en_hash differs from the English cell's current hash is *stale*.

    .venv/bin/python scripts/build_zh.py                 # build notebooks/zh/ (no execution)
    OMP_NUM_THREADS=2 .venv/bin/python scripts/build_zh.py --execute   # ... and execute those that need it
    .venv/bin/python scripts/build_zh.py --check         # exit 1 and list what is missing, stale or out of date
    .venv/bin/python scripts/build_zh.py --todo [--format md|json] [NOTEBOOK ...]   # what a translator does next
    .venv/bin/python scripts/build_zh.py --import FILE   # write translations {notebook: {cell_id: text}} into the catalog
    .venv/bin/python scripts/build_zh.py --review 03     # English and Chinese side by side, for a second reader

How a Chinese notebook is made from the English one (same cells, same ids, same order):
* markdown: the catalog's Chinese text; the English text where the translation is missing or stale;
  relative links that are not course notebooks get one more ``../`` (``figures/x.png`` -> ``../figures/x.png``),
  links to course notebooks stay and so open the Chinese chapter; ``{{t:STEM}}`` becomes the run time that
  the English index gives notebook STEM (so times are never typed in the translation);
* code: the English code, or the catalog's translated code (same tokens, only comments and strings differ);
  string literals that start with ``../`` get one more ``../`` (the notebook is one folder deeper);
* a first code cell (id ``zh-setup``) sets the package's language to Chinese (figure labels, explorer,
  exercise verdicts) and the Chinese font, unless the catalog's ``"_notebook": {"setup_cell": false}``.
Where every code cell is the English one, the English outputs are copied. Otherwise the notebook must be
executed (kernel ddim-teach, OMP_NUM_THREADS=2): ``--execute`` does it, and the hash of the code it ran is kept
in the notebook's metadata, so a later build reuses those outputs while the code stays the same.
"""
from __future__ import annotations

import argparse
import copy
import difflib
import hashlib
import io
import json
import os
import re
import signal
import sys
import time
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EN_DIR = ROOT / "notebooks"
ZH_DIR = EN_DIR / "zh"
CATALOG_DIR = ROOT / "i18n" / "zh"
STATUS_FILE = CATALOG_DIR / "STATUS"
KERNEL = "ddim-teach"
META_KEY = "ddim_teach_zh"
SETUP_ID = "zh-setup"
SETUP_SOURCE = (
    "# 中文版：本课程包绘制的图、探索器和练习的判定都用中文显示（ddim_teach.i18n）。\n"
    "from ddim_teach import i18n\n"
    'i18n.set_language("zh")  # 同时调用 i18n.use_chinese_font()，让 matplotlib 能显示中文'
)
INDEX_ROW = re.compile(r"^(\| (?:\d+|L) \| \[.*?\]\((\w+)\.ipynb\).*\|)( [^|]* )\|\s*$")


class CatalogError(Exception):
    """A problem with the catalog or an import file, reported as one clear message."""


# --------------------------------------------------------------------------------------------- basics

def source(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _split(text: str) -> list[str]:
    """nbformat's on-disk form of a source: lines, each keeping its newline."""
    return text.splitlines(keepends=True)


def _normalise(text: str) -> str:
    """The English source as hashed: the index's "runs in" column is masked, since scripts/time_notebooks.py
    rewrites it whenever times are measured; the translation writes {{t:STEM}} there instead."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = INDEX_ROW.match(line)
        if m:
            lines[i] = m.group(1) + " {{t}} |"
    return "\n".join(lines)


def en_hash(text: str) -> str:
    return hashlib.sha256(_normalise(text).encode("utf-8")).hexdigest()


def english_notebooks() -> list[Path]:
    return sorted(EN_DIR.glob("*.ipynb"))


def read_nb(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def dumps_nb(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def catalog_path(stem: str) -> Path:
    return CATALOG_DIR / f"{stem}.json"


def load_catalog(stem: str) -> dict:
    p = catalog_path(stem)
    if not p.exists():
        return {}
    try:
        cat = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise CatalogError(f"{p.relative_to(ROOT)} is not valid JSON: {e}") from None
    if not isinstance(cat, dict):
        raise CatalogError(f"{p.relative_to(ROOT)} must hold a JSON object (cell id -> entry)")
    for cid, entry in cat.items():
        if cid == "_notebook":
            continue
        if not isinstance(entry, dict) or "en_hash" not in entry or not ({"zh", "code"} & set(entry)):
            raise CatalogError(f"{p.relative_to(ROOT)}: entry {cid!r} must be an object with \"en_hash\" and "
                               "\"zh\" (markdown) or \"code\" (code cell)")
    return cat


def save_catalog(stem: str, cat: dict, en_nb: dict) -> None:
    """Write the catalog in the English notebook's cell order (entries for deleted cells last), readable diffs."""
    order = {c["id"]: i for i, c in enumerate(en_nb["cells"])}
    keys = sorted((k for k in cat if k != "_notebook"), key=lambda k: (order.get(k, len(order)), k))
    out = {"_notebook": cat["_notebook"]} if "_notebook" in cat else {}
    for k in keys:
        e = cat[k]
        out[k] = {f: e[f] for f in ("en_hash", "en", "zh", "code") if f in e}
    CATALOG_DIR.mkdir(parents=True, exist_ok=True)
    catalog_path(stem).write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def translation_complete() -> bool:
    """The single switch: i18n/zh/STATUS says `complete` (tests enforce the catalog) or `in-progress`."""
    return STATUS_FILE.exists() and STATUS_FILE.read_text().split()[:1] == ["complete"]


# --------------------------------------------------------------------------------------------- status

def cell_status(en_nb: dict, cat: dict) -> list[dict]:
    """One row per cell that needs a translator: markdown missing or stale, a code translation stale,
    and catalog entries whose cell is gone from the English notebook ("orphan")."""
    rows = []
    ids = set()
    for c in en_nb["cells"]:
        cid = c.get("id")
        ids.add(cid)
        text = source(c)
        entry = cat.get(cid)
        if c["cell_type"] == "markdown":
            if not has_words(text) and (entry is None or "zh" not in entry):
                continue   # only math, code or links: shown as it is
            if entry is None or "zh" not in entry:
                rows.append({"id": cid, "type": "markdown", "status": "missing", "en": text})
            elif entry["en_hash"] != en_hash(text):
                rows.append({"id": cid, "type": "markdown", "status": "stale", "en": text,
                             "old_en": entry.get("en"), "old_zh": entry["zh"]})
        elif c["cell_type"] == "code" and entry is not None and "code" in entry:
            if entry["en_hash"] != en_hash(text):
                rows.append({"id": cid, "type": "code", "status": "stale", "en": text,
                             "old_en": entry.get("en"), "old_zh": entry["code"]})
    for cid in cat:
        if cid != "_notebook" and cid not in ids:
            rows.append({"id": cid, "type": "?", "status": "orphan", "en": None})
    return rows


def has_words(text: str) -> bool:
    """Whether a markdown text has English words to translate (outside math, code spans and link targets)."""
    bare = re.sub(r"\$\$.+?\$\$|\$[^$\n]+?\$|`[^`\n]*`|\]\([^)]*\)|<[^>]+>", " ", text, flags=re.DOTALL)
    return re.search(r"[A-Za-z]{3,}", bare) is not None


# --------------------------------------------------------------------------------------------- building

_LINK = re.compile(r"(\]\(|src=\")([^)\"\s]+)")


def rewrite_links(text: str, stem: str = "") -> str:
    """Links as the English notebooks write them, made right for notebooks/zh/.

    A link to a heading of a course notebook (``00_index.ipynb#Notation``) follows the heading's translation,
    given in that notebook's catalog as ``"_notebook": {"anchors": {"Notation": "符号约定"}}``."""
    def fix(m):
        target = m.group(2)
        path, _, frag = target.partition("#")
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
            return m.group(0)
        if not path or (path.endswith(".ipynb") and (EN_DIR / path).exists()):
            if frag:
                anchors = _anchors(Path(path).stem if path else stem)
                frag = anchors.get(frag, frag)
                return m.group(1) + path + "#" + frag
            return m.group(0)
        return m.group(1) + "../" + target
    return _LINK.sub(fix, text)


def _anchors(stem: str) -> dict:
    return load_catalog(stem).get("_notebook", {}).get("anchors", {}) if stem else {}


def rewrite_code(text: str) -> str:
    """String literals with a path relative to notebooks/ get one more ../ (notebooks/zh is one folder deeper)."""
    return re.sub(r"""(?<![\w])([rbfRBF]?["'])\.\./""", r"\1../../", text)


def index_times() -> dict[str, str]:
    """The "runs in" column of the English index, by notebook stem: what {{t:STEM}} becomes."""
    p = EN_DIR / "00_index.ipynb"
    out = {}
    if p.exists():
        for c in read_nb(p)["cells"]:
            if c["cell_type"] == "markdown":
                for line in source(c).split("\n"):
                    m = INDEX_ROW.match(line)
                    if m:
                        out[m.group(2)] = m.group(3).strip()
    return out


def fill_times(text: str, times: dict[str, str]) -> str:
    def sub(m):
        if m.group(1) not in times:
            raise CatalogError(f"{{{{t:{m.group(1)}}}}}: the English index gives no run time for {m.group(1)}")
        return times[m.group(1)]
    return re.sub(r"\{\{t:(\w+)\}\}", sub, text)


def code_hash(nb: dict) -> str:
    items = [(c["id"], source(c)) for c in nb["cells"] if c["cell_type"] == "code"]
    items.append(("kernel", nb.get("metadata", {}).get("kernelspec", {}).get("name", "")))
    return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode()).hexdigest()


def _setup_cell() -> dict:
    return {"cell_type": "code", "execution_count": None, "id": SETUP_ID, "metadata": {}, "outputs": [],
            "source": _split(SETUP_SOURCE)}


def build(en_path: Path, times: dict | None = None, force: bool = False) -> tuple[dict, str]:
    """The Chinese notebook for ``en_path`` and its state: "ok" (outputs copied or reused) or "needs-execution"."""
    times = index_times() if times is None else times
    en_nb = read_nb(en_path)
    cat = load_catalog(en_path.stem)
    opts = cat.get("_notebook", {})
    nb = copy.deepcopy(en_nb)
    same_code = True
    for c in nb["cells"]:
        text = source(c)
        entry = cat.get(c.get("id"))
        fresh = entry is not None and entry["en_hash"] == en_hash(text)
        if c["cell_type"] == "markdown":
            new = entry["zh"] if fresh and "zh" in entry else text
            c["source"] = _split(fill_times(rewrite_links(new, en_path.stem), times))
        elif c["cell_type"] == "code":
            new = rewrite_code(entry["code"] if fresh and "code" in entry else text)
            if new != text:
                same_code = False
                c["source"] = _split(new)
    if opts.get("setup_cell", True):
        same_code = False
        at = 1 if nb["cells"] and nb["cells"][0]["cell_type"] == "markdown" else 0
        nb["cells"].insert(at, _setup_cell())
    meta = {"source": f"notebooks/{en_path.name}", "built_by": "scripts/build_zh.py"}
    nb["metadata"][META_KEY] = meta
    if same_code:
        meta["outputs"] = "copied from the English notebook"
        return nb, "ok"

    h = code_hash(nb)
    meta["outputs"] = "executed"
    nb["metadata"].pop("widgets", None)   # the English widget state describes the English outputs
    old_path = ZH_DIR / en_path.name
    old = read_nb(old_path) if old_path.exists() else None
    if not force and old is not None and old.get("metadata", {}).get(META_KEY, {}).get("code_hash") == h:
        by_id = {c.get("id"): c for c in old["cells"] if c["cell_type"] == "code"}
        for c in nb["cells"]:
            if c["cell_type"] == "code":
                o = by_id[c["id"]]
                c["outputs"], c["execution_count"] = o.get("outputs", []), o.get("execution_count")
                c["metadata"] = o.get("metadata", {})
        if "widgets" in old.get("metadata", {}):   # the saved widget state belongs to these outputs
            nb["metadata"]["widgets"] = old["metadata"]["widgets"]
        meta["code_hash"] = h
        return nb, "ok"
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            c["outputs"], c["execution_count"] = [], None
            c["metadata"].pop("execution", None)
    return nb, "needs-execution"


def execute(nb: dict, path: Path, timeout: int = 600) -> dict:
    """Execute ``nb`` as notebooks/zh/<name> would run (kernel ddim-teach, cwd notebooks/zh, 2 threads)."""
    import nbformat
    from nbclient import NotebookClient

    os.environ["OMP_NUM_THREADS"] = os.environ.get("OMP_NUM_THREADS", "2")
    node = nbformat.reads(json.dumps(nb), as_version=4)
    NotebookClient(node, timeout=timeout, kernel_name=KERNEL, resources={"metadata": {"path": str(path.parent)}}).execute()
    done = json.loads(nbformat.writes(node))
    widgets = done["metadata"].get("widgets")
    done["metadata"] = nb["metadata"]   # the build's metadata, not the kernel's re-stamped language_info
    if widgets:
        done["metadata"]["widgets"] = widgets
    done["metadata"][META_KEY]["code_hash"] = code_hash(nb)
    return done


# --------------------------------------------------------------------------------------------- lint

_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.DOTALL)

# The glossary's enforced terms (i18n/zh/GUIDE.md, "Enforced terms"): (a variant the lint rejects, the term to use).
ENFORCED = (
    (r"散点(?!图)", "斑点"),                    # speckle (散点图, a scatter plot, is another thing)
    (r"图带", "图条"),                          # strip
    (r"模型调用次数", "网络调用次数"),            # network calls
    (r"时间步序列", "时间步列表"),                # the list of timesteps
    (r"(?<!软件)包里|本包", "软件包"),            # the package
    (r"(?<![\w/])notebook \d", "第 N 章"),      # a chapter by number
    (r"「|」", "“”"),                           # quotes
    (r"指向项", "方向项"),                      # the direction term of eq. 12
)


def enforced_terms(zh: str) -> list[str]:
    """The glossary variants in a Chinese text, each with the term to use instead."""
    prose = re.sub(r"`[^`\n]*`|\]\([^)]*\)", "", _MATH.sub("", zh))     # not inside math, code spans or link targets
    return [f"'{m.group(0)}': use {use}" for pat, use in ENFORCED for m in re.finditer(pat, prose)]


def lint(en: str, zh: str, kind: str) -> list[str]:
    """What a translation must keep from the English: math, links, code spans, NBVAL markers, structure."""
    problems = []
    if kind == "markdown":
        words = lambda m: re.sub(r"\\text\{[^{}]*\}", r"\\text{}", m)   # \text{...} may be translated
        zh_math = {words(m) for m in _MATH.findall(zh)}
        missing_math = [m for m in _MATH.findall(en) if words(m) not in zh_math]
        if missing_math:
            problems.append("math not kept verbatim: " + ", ".join(missing_math[:4]))
        links = lambda s: sorted(re.findall(r"\]\(([^)\s]+)\)", s))
        if links(en) != links(zh):
            problems.append(f"links differ: English {links(en)}, Chinese {links(zh)}")
        code = [m for m in re.findall(r"`[^`\n]+`", en) if m not in zh]
        if code:
            problems.append("code spans not kept: " + ", ".join(code[:4]))
        for tag in ("<details>", "</details>", "<summary>"):
            if en.count(tag) != zh.count(tag):
                problems.append(f"{tag} appears {en.count(tag)} times in English, {zh.count(tag)} in Chinese")
        heads = lambda s: [len(m) for m in re.findall(r"^(#+) ", s, re.MULTILINE)]
        extra_ok = [h for h in heads(zh) if h < 3 or h in heads(en)]   # a Chinese-only subsection (###) is allowed
        problems += enforced_terms(zh)
        if heads(en) != extra_ok:
            problems.append(f"heading levels differ: English {heads(en)}, Chinese {heads(zh)}")
    else:
        problems += enforced_terms(zh)
        if _code_tokens(en) != _code_tokens(zh):
            problems.append("the code differs (only comments and string contents may be translated)")
        marks = lambda s: re.findall(r"#\s*(NBVAL_\w+|## BEGIN SOLUTION|## END SOLUTION)", s)
        if marks(en) != marks(zh):
            problems.append(f"markers differ: English {marks(en)}, Chinese {marks(zh)}")
    return problems


def _code_tokens(text: str):
    """The code's tokens with comments dropped and every string literal reduced to its kind."""
    body = "\n".join(l for l in text.split("\n") if not l.lstrip().startswith(("%", "!")))
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(body).readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                continue
            if tok.type == tokenize.STRING:
                out.append("STRING")
            elif tok.type in (getattr(tokenize, "FSTRING_MIDDLE", -1),):
                out.append("FSTRING_MIDDLE")
            else:
                out.append(tok.string)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return ["<untokenizable>", body]
    return out


# --------------------------------------------------------------------------------------------- commands

def _resolve(name: str) -> Path:
    stem = Path(name).name.removesuffix(".ipynb")
    p = EN_DIR / f"{stem}.ipynb"
    if not p.exists():
        matches = [q for q in english_notebooks() if q.stem.startswith(stem)]
        if len(matches) != 1:
            raise CatalogError(f"no English notebook {name!r}; the notebooks are: "
                               + ", ".join(q.stem for q in english_notebooks()))
        p = matches[0]
    return p


def cmd_build(paths, do_execute: bool, force=False, quiet=False, timeout: int = 600) -> int:
    ZH_DIR.mkdir(exist_ok=True)
    times = index_times()
    pending, failed = [], []
    for p in paths:
        nb, state = build(p, times, force and do_execute)
        out = ZH_DIR / p.name
        text = dumps_nb(nb)
        if state == "needs-execution" and do_execute:
            t0 = time.perf_counter()
            try:
                nb = execute(nb, out, timeout)
            except Exception as e:  # a failing cell: report it, keep the old file, go on with the others
                failed.append(p.name)
                first = (str(e).strip().splitlines() or [type(e).__name__])[0]
                print(f"{out.relative_to(ROOT)}: FAILED after {time.perf_counter() - t0:.1f} s: {first}")
                continue
            text = dumps_nb(nb)
            state = f"executed in {time.perf_counter() - t0:.1f} s"
        elif state == "needs-execution":
            pending.append(p.name)
        changed = not out.exists() or out.read_text(encoding="utf-8") != text
        if changed:
            out.write_text(text, encoding="utf-8")
        if not quiet:
            print(f"{out.relative_to(ROOT)}: {state}{'' if changed else ' (unchanged)'}")
    if pending:
        print(f"\n{len(pending)} notebook(s) need executing: OMP_NUM_THREADS=2 .venv/bin/python scripts/build_zh.py "
              f"--execute {' '.join(pending)}")
    if failed:
        print(f"\n{len(failed)} notebook(s) failed to execute (left as they were): {' '.join(failed)}")
        return 1
    return 0


def check(paths) -> dict:
    """Everything that is not as it should be, by notebook: translations, and the generated files."""
    report = {}
    times = index_times()
    for p in paths:
        en_nb = read_nb(p)
        rows = cell_status(en_nb, load_catalog(p.stem))
        problems = {"missing": [r["id"] for r in rows if r["status"] == "missing"],
                    "stale": [r["id"] for r in rows if r["status"] == "stale"],
                    "orphan": [r["id"] for r in rows if r["status"] == "orphan"], "notebook": None}
        nb, state = build(p, times)
        out = ZH_DIR / p.name
        if not out.exists():
            problems["notebook"] = "missing: run scripts/build_zh.py --execute"
        elif state == "needs-execution":
            problems["notebook"] = "its code changed and it needs executing: scripts/build_zh.py --execute"
        elif out.read_text(encoding="utf-8") != dumps_nb(nb):
            problems["notebook"] = "differs from what the build makes: run scripts/build_zh.py"
        report[p.stem] = problems
    for extra in sorted({q.name for q in ZH_DIR.glob("*.ipynb")} - {q.name for q in english_notebooks()}):
        report[Path(extra).stem] = {"missing": [], "stale": [], "orphan": [], "notebook":
                                    "has no English source: delete it"}
    return report


def cmd_check(paths, lint_too: bool) -> int:
    report = check(paths)
    bad = 0
    for stem, pr in report.items():
        lines = []
        for kind in ("missing", "stale", "orphan"):
            if pr[kind]:
                lines.append(f"  {len(pr[kind])} {kind}: {', '.join(pr[kind])}")
        if pr["notebook"]:
            lines.append(f"  notebooks/zh/{stem}.ipynb {pr['notebook']}")
        if lines:
            bad += 1
            print(f"{stem}:\n" + "\n".join(lines))
        if lint_too:
            for cid, msg in lint_catalog(stem):
                print(f"  lint {cid}: {msg}")
    status = "complete" if translation_complete() else "in-progress"
    print(f"{'OK' if not bad else f'{bad} notebook(s) not up to date'} (i18n/zh/STATUS: {status})")
    return 1 if bad else 0


def lint_catalog(stem: str) -> list[tuple[str, str]]:
    p = EN_DIR / f"{stem}.ipynb"
    if not p.exists():
        return []
    cells = {c["id"]: c for c in read_nb(p)["cells"]}
    out = []
    for cid, e in load_catalog(stem).items():
        if cid == "_notebook" or cid not in cells:
            continue
        en = source(cells[cid])
        for field, kind in (("zh", "markdown"), ("code", "code")):
            if field in e:
                out += [(cid, m) for m in lint(en, e[field], kind)]
    return out


def todo(paths, code_too=False) -> dict:
    out = {}
    for p in paths:
        en_nb = read_nb(p)
        rows = [r for r in cell_status(en_nb, load_catalog(p.stem)) if r["status"] != "orphan"]
        if code_too:
            cat = load_catalog(p.stem)
            for c in en_nb["cells"]:
                if c["cell_type"] == "code" and c["id"] not in cat and _shows_text(source(c)):
                    rows.append({"id": c["id"], "type": "code", "status": "optional", "en": source(c)})
        if rows:
            out[p.stem] = rows
    return out


def _shows_text(code: str) -> bool:
    """A code cell that draws or prints English words (titles, labels, legends, printed sentences)."""
    return bool(re.search(r"(set_title|suptitle|set_xlabel|set_ylabel|label=|title=|print\(f?[\"'][A-Za-z]{3,} )",
                          code))


def cmd_todo(paths, fmt: str, code_too: bool) -> int:
    data = todo(paths, code_too)
    if fmt == "json":
        print(json.dumps(data, indent=1, ensure_ascii=False))
        return 0
    if fmt == "template":   # the --import format, English in place: replace each text by its translation
        print(json.dumps({stem: {r["id"]: r["en"] for r in rows} for stem, rows in data.items()}, indent=1,
                         ensure_ascii=False))
        return 0
    n = sum(len(v) for v in data.values())
    print(f"# Cells to translate: {n}\n")
    print("Write the translations as {\"NOTEBOOK\": {\"CELL_ID\": \"中文\"}} in a JSON file and run "
          "`.venv/bin/python scripts/build_zh.py --import FILE`. Rules: i18n/zh/GUIDE.md.\n")
    for stem, rows in data.items():
        print(f"## {stem}\n")
        for r in rows:
            print(f"### {r['id']} ({r['type']}, {r['status']})\n")
            if r["status"] == "stale" and r.get("old_en") is not None:
                diff = difflib.unified_diff(r["old_en"].split("\n"), r["en"].split("\n"), "English then",
                                            "English now", lineterm="", n=1)
                print("What changed in the English:\n\n```diff\n" + "\n".join(diff) + "\n```\n")
                print("The old translation:\n\n```text\n" + r["old_zh"] + "\n```\n")
            print("English:\n\n````text\n" + r["en"] + "\n````\n")
    return 0


def cmd_review(paths) -> int:
    """English and Chinese side by side, cell by cell, for a second reader who checks for meaning drift."""
    for p in paths:
        cat = load_catalog(p.stem)
        print(f"# {p.stem}\n")
        for c in read_nb(p)["cells"]:
            e = cat.get(c.get("id"))
            field = "zh" if c["cell_type"] == "markdown" else "code"
            if not e or field not in e:
                continue
            state = "current" if e["en_hash"] == en_hash(source(c)) else "STALE"
            print(f"## {c['id']} ({c['cell_type']}, {state})\n\nEnglish:\n\n````text\n{source(c)}\n````\n\n"
                  f"中文:\n\n````text\n{e[field]}\n````\n")
            for m in lint(source(c), e[field], c["cell_type"]):
                print(f"- lint: {m}")
            print()
    return 0


def import_file(path: Path, force_code=False) -> tuple[int, list[str]]:
    """Write the translations of ``path`` into the catalog; returns (count, lint warnings)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"no file {path}") from None
    except json.JSONDecodeError as e:
        raise CatalogError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{path} must hold {{\"NOTEBOOK\": {{\"CELL_ID\": \"中文\"}}}}")
    staged, warnings_, n = {}, [], 0
    for name, cells in data.items():
        p = _resolve(name)
        if not isinstance(cells, dict):
            raise CatalogError(f"{name}: expected an object {{cell_id: text}}, got {type(cells).__name__}")
        en_nb = read_nb(p)
        by_id = {c.get("id"): c for c in en_nb["cells"]}
        cat = staged.get(p.stem, (None, load_catalog(p.stem)))[1]
        for cid, value in cells.items():
            if cid == "_notebook":
                cat["_notebook"] = value
                continue
            if cid not in by_id:
                raise CatalogError(f"{p.stem}: no cell with id {cid!r} in the English notebook")
            cell = by_id[cid]
            if isinstance(value, dict):
                value = value.get("zh", value.get("code"))
            if not isinstance(value, str) or not value.strip():
                raise CatalogError(f"{p.stem}/{cid}: the translation must be non-empty text")
            en = source(cell)
            if value.strip() == en.strip() and (cell["cell_type"] == "code" or has_words(en)):
                raise CatalogError(f"{p.stem}/{cid}: the translation is the English text itself (not translated yet?)")
            kind = cell["cell_type"]
            if kind not in ("markdown", "code"):
                raise CatalogError(f"{p.stem}/{cid}: a {kind} cell is not translated")
            problems = lint(en, value, kind)
            if kind == "code" and problems and not force_code:
                raise CatalogError(f"{p.stem}/{cid}: " + "; ".join(problems)
                                   + " (--force-code imports it anyway)")
            warnings_ += [f"{p.stem}/{cid}: {m}" for m in problems]
            field = "zh" if kind == "markdown" else "code"
            cat[cid] = {"en_hash": en_hash(en), "en": en, field: value.rstrip("\n")}
            n += 1
        staged[p.stem] = (en_nb, cat)
    for stem, (en_nb, cat) in staged.items():
        save_catalog(stem, cat, en_nb)
    return n, warnings_


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("notebooks", nargs="*", help="notebook stems or prefixes (default: all), e.g. 03 lecture_explorer")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--check", action="store_true", help="exit 1 listing missing/stale translations and stale notebooks")
    g.add_argument("--todo", action="store_true", help="print the cells that need a (new) translation")
    g.add_argument("--review", action="store_true", help="print English and Chinese side by side (for a reviewer)")
    g.add_argument("--import", dest="import_file", metavar="FILE", help="write {notebook: {cell_id: text}} into the catalog")
    ap.add_argument("--execute", action="store_true", help="execute the Chinese notebooks whose code changed")
    ap.add_argument("--timeout", type=int, default=600, help="--execute: seconds per cell (default 600)")
    ap.add_argument("--force", action="store_true", help="--execute: execute even where the code did not change")
    ap.add_argument("--format", choices=("md", "json", "template"), default="md",
                    help="--todo's output: md (default), json (with status, old text), or template: the --import "
                         "format with the English in place, to overwrite with the translations")
    ap.add_argument("--code", action="store_true", help="--todo: also list code cells that draw or print English words")
    ap.add_argument("--lint", action="store_true", help="--check: also list what translations fail to keep")
    ap.add_argument("--force-code", action="store_true", help="--import: accept a code translation whose code differs")
    a = ap.parse_args(argv)
    try:
        paths = [_resolve(n) for n in a.notebooks] or english_notebooks()
        if a.check:
            return cmd_check(paths, a.lint)
        if a.todo:
            return cmd_todo(paths, a.format, a.code)
        if a.review:
            return cmd_review(paths)
        if a.import_file:
            n, warns = import_file(Path(a.import_file), a.force_code)
            for w in warns:
                print("warning:", w, file=sys.stderr)
            print(f"imported {n} translation(s) into i18n/zh/; now run: .venv/bin/python scripts/build_zh.py")
            return 0
        return cmd_build(paths, a.execute, a.force, timeout=a.timeout)
    except CatalogError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    if hasattr(signal, "SIGPIPE"):   # `--todo | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
