"""Versions of the code that change only when its behaviour can change.

A cached network is valid as long as the code that computed it would compute it
again. :func:`code_version` hashes a *normalised* form of the simulation modules:

* each module is parsed, and every definition (function, class, constant) is hashed
  by its name and its syntax tree without docstrings, so comments, docstrings,
  formatting, the order of definitions and the file a definition lives in do not
  count;
* imports count by what they bind: ``from math import exp`` and ``from .fpmath import
  exp`` differ, but moving ``dbcode.fpmath`` to ``dbcode.model.fpmath`` does not;
* the versions of the libraries that compute (numpy, numba, llvmlite, scipy,
  scikit-image) and the machine architecture count as well: the same code with
  another numba may round differently.

:func:`package_digest` is the same normal form over the whole package, for things that
depend on every module (an executed chapter).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.metadata
import importlib.util
import platform
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "COMPUTING_LIBRARIES",
    "SIMULATION_MODULES",
    "code_version",
    "normalised_source",
    "package_digest",
]

SIMULATION_MODULES = (
    "dbcode.model",
    "dbcode.run.jobs",
    "dbcode.data",
)
"""The modules (and packages, with all their modules) that determine a simulation's
result. Editing anything else (analysis, plotting, the pipeline) keeps cached results
valid."""

COMPUTING_LIBRARIES = ("numpy", "numba", "llvmlite", "scipy", "scikit-image")
"""Libraries whose versions are part of :func:`code_version`: they compute the results."""

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def _is_string(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """Remove every statement that is a bare string: docstrings of modules, classes and
    functions, and the strings that document an assignment."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and any(_is_string(stmt) for stmt in body):
            node.body = [stmt for stmt in body if not _is_string(stmt)] or [ast.Pass()]
    return tree


def _is_internal(node: ast.ImportFrom) -> bool:
    return bool(node.level) or (node.module or "").split(".")[0] == "dbcode"


class _CanonicalImports(ast.NodeTransformer):
    """Imports from inside the package, also those inside functions, keep only the
    names they bind: ``from .sweep import run`` and ``from dbcode.run.sweep import run``
    are the same statement."""

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.ImportFrom:
        if _is_internal(node):
            return ast.ImportFrom(module="<dbcode>", names=node.names, level=0)
        return node


def _import_entries(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [f"import {a.name} as {a.asname or a.name}" for a in node.names]
    if node.module == "<dbcode>":
        # inside the package only the bound name counts: moving a module keeps it
        return [f"internal {a.asname or a.name}={a.name}" for a in node.names]
    return [f"from {node.module} import {a.name} as {a.asname or a.name}" for a in node.names]


def normalised_source(source: str) -> list[str]:
    """The normal form of one module: a sorted list of its imports and of
    ``name: syntax tree`` for every top-level statement, docstrings removed."""
    tree = _CanonicalImports().visit(_strip_docstrings(ast.parse(source)))
    entries = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
                entries += _import_entries(node)
            continue
        if isinstance(node, ast.Pass):
            continue
        name = getattr(node, "name", None)
        if name is None and isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            name = ",".join(ast.unparse(t) for t in targets)
        entries.append(
            f"{name or type(node).__name__}: "
            f"{ast.dump(node, annotate_fields=False, include_attributes=False)}"
        )
    return sorted(entries)


def _module_files(name: str) -> list[Path]:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"no module {name}")
    origin = Path(spec.origin)
    if spec.submodule_search_locations:  # a package: all its modules
        return sorted(p for p in origin.parent.rglob("*.py") if "__pycache__" not in p.parts)
    return [origin]


def _digest(files: Iterable[Path], extra: Iterable[str] = ()) -> str:
    entries = [entry for path in files for entry in normalised_source(path.read_text())]
    digest = hashlib.sha256()
    for entry in sorted(entries) + list(extra):
        digest.update(entry.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def _library_versions() -> list[str]:
    versions = []
    for name in COMPUTING_LIBRARIES:
        try:
            versions.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} missing")
    return [*versions, f"machine {platform.machine()}"]


@functools.cache
def _code_version(modules: tuple[str, ...]) -> str:
    files = sorted({path for name in modules for path in _module_files(name)})
    return _digest(files, _library_versions())


def code_version(modules: Iterable[str] = SIMULATION_MODULES) -> str:
    """Version of the simulation code: 12 hexadecimal characters of a hash of the
    normalised :data:`SIMULATION_MODULES`, the :data:`COMPUTING_LIBRARIES`' versions
    and the machine architecture (computed once per process)."""
    return _code_version(tuple(modules))


def package_digest() -> str:
    """:func:`code_version` of every module of ``dbcode`` (not cached: the pipeline
    asks once per build)."""
    files = sorted(p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts)
    return _digest(files, _library_versions())
