"""The package's folders are its layers: every import points down, none forms a cycle.

Each folder of ``dbcode/`` is one layer, lowest first in :data:`LAYERS`. A module may
import from its own layer and from the layers below it, never from one above; and no
chain of imports (function-local ones included) leads from a module back to itself.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "dbcode"
LAYERS = ("core", "model", "data", "analysis", "run", "viz", "chapters", "book")
ENTRY_POINTS = {"dbcode", "dbcode.__main__"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports, wherever the import stands."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [module] + [f"{module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        found.update(t for t in targets if t.split(".")[0] == "dbcode")
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    return {
        name: {t for t in _imports(path) if t in modules and t != name}
        for name, path in modules.items()
    }


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_is_in_a_layer(graph):
    assert sorted(m for m in graph if _layer(m) is None and m not in ENTRY_POINTS) == []


def test_imports_point_down(graph):
    upward = sorted(
        f"{module} ({_layer(module)}) imports {target} ({_layer(target)})"
        for module, targets in graph.items()
        if module not in ENTRY_POINTS
        for target in targets
        if _layer(target) is not None
        and LAYERS.index(_layer(target)) > LAYERS.index(_layer(module))
    )
    assert upward == []


def test_no_import_cycles(graph):
    cycles, state = [], {}

    def visit(module, stack):
        state[module] = "open"
        for target in sorted(graph[module]):
            if target.rpartition(".")[0] == module or module.rpartition(".")[0] == target:
                continue  # a package and its own modules
            if state.get(target) == "open":
                cycles.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                visit(target, [*stack, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_scan_sees_an_upward_import(tmp_path):
    """The check can fail: a model module importing a chapter is reported."""
    bad = tmp_path / "dbcode" / "model" / "x.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("def f():\n    from ..chapters import bars\n")
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path / "dbcode"
    try:
        assert _imports(bad) >= {"dbcode.chapters", "dbcode.chapters.bars"}
    finally:
        PACKAGE = saved
