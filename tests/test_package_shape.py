"""The package's shape: no import cycles (function-level imports included), the formulas at the bottom, and
sampler loops short enough to read in one screen."""
import ast
import inspect
from pathlib import Path

import pytest

from ddim_teach import samplers

PKG = Path(__file__).resolve().parents[1] / "ddim_teach"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports, anywhere in its body (relative and absolute imports)."""
    modules = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                candidates = [target] + [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                candidates = [a.name for a in node.names]
            else:
                continue
            # a module's own packages are imported before it anyway: `from . import x` depends on x, not on `.`
            deps |= {c for c in candidates if c in modules and c != name and not name.startswith(c + ".")}
        graph[name] = deps
    return graph


def _cycle(graph):
    state = {}

    def visit(n, stack):
        state[n] = "open"
        for d in sorted(graph[n]):
            if d.startswith(n + "."):  # a package importing its own submodule is not a cycle
                continue
            if state.get(d) == "open":
                return stack[stack.index(d):] + [d] if d in stack else [n, d]
            if d not in state:
                found = visit(d, stack + [d])
                if found:
                    return found
        state[n] = "done"
        return None
    for n in sorted(graph):
        if n not in state:
            found = visit(n, [n])
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) is not None
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycles():
    cycle = _cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_formulas_and_checks_are_at_the_bottom():
    g = import_graph()
    assert g["ddim_teach.checks"] == set()
    assert g["ddim_teach.formulas"] == {"ddim_teach.checks"}


@pytest.mark.parametrize("loop", [samplers.sample_ddim, samplers.sample_ddpm, samplers.sample_heun,
                                  samplers.invert_ddim])
def test_each_sampler_is_one_short_loop(loop):
    src = inspect.getsource(loop)
    body = [ln for ln in src.split('"""', 2)[2].splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert len(body) <= 30, f"{loop.__name__}: {len(body)} lines of code"
    assert src.count("for i, t in enumerate(") == 1
