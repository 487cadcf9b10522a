"""Every colour and colour map of the figures comes from :mod:`dbcode.viz.style`.

The scan reads the source of every module of ``dbcode`` (except the style module) and
the code cells of the chapters, and
fails on a colour written as a literal: a colour keyword given a string, a ``tab:`` /
hex / ``C0`` colour anywhere, a matplotlib format string with a colour letter, or a
drawing call without a colour (which would take matplotlib's default cycle, blue first).
"""

import ast
import re
from pathlib import Path

import pytest

import dbcode
from dbcode.viz import style

PACKAGE = Path(dbcode.__file__).parent
COLOUR_KEYWORDS = {
    "c",
    "color",
    "colors",
    "cmap",
    "ec",
    "edgecolor",
    "facecolor",
    "fc",
    "markeredgecolor",
    "markerfacecolor",
    "mec",
    "mfc",
}
ALLOWED_STRINGS = {"none"}  # "no colour" (hollow markers, patches without an edge)
COLOUR_LITERAL = re.compile(r"^(tab:\w+|xkcd:.+|#[0-9a-fA-F]{3,8}|C\d)$")
FORMAT_WITH_COLOUR = re.compile(r"^(?=.*[bgrcmykw])[-.:o|s^v<>*+xdDhHp_,bgrcmykw]{1,4}$")
DRAWING_CALLS = {"plot", "scatter", "bar", "barh", "hist", "errorbar", "fill_between", "step"}


IMAGE_CALLS = {"imshow", "matshow", "pcolormesh"}


def _strings(node):
    """String constants in ``node``, except keys of a subscript (``COLORS["sb"]``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, ast.Subscript):
        yield from _strings(node.value)
    else:
        for child in ast.iter_child_nodes(node):
            yield from _strings(child)


def _modules():
    """The package's modules (without the style module) and the chapters' code cells."""
    modules = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "style.py")
    return modules + sorted(BOOK.glob("*.md"))


BOOK = PACKAGE.parent / "book"


def code_cells(path: Path) -> str:
    """The code of a MyST notebook's cells, blank lines elsewhere (line numbers kept)."""
    lines, out, inside, header = path.read_text().splitlines(), [], False, False
    for line in lines:
        if line.startswith("```{code-cell}"):
            inside, header = True, False
            out.append("")
            continue
        if inside and line.startswith("```"):
            inside = False
            out.append("")
            continue
        if inside and (line.startswith(":") or line == "---"):
            header = not header if line == "---" else header
            out.append("")
            continue
        out.append(line if inside and not header else "")
    return "\n".join(out)


def _findings(path: Path) -> list[str]:
    source = code_cells(path) if path.suffix == ".md" else path.read_text()
    tree = ast.parse(source, filename=str(path))
    found = []
    where = f"{path.relative_to(PACKAGE.parent)}"
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in COLOUR_KEYWORDS:
            for sub in _strings(node.value):
                if sub.value not in ALLOWED_STRINGS:
                    found.append(f"{where}:{sub.lineno}: {node.arg}={sub.value!r}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if COLOUR_LITERAL.match(node.value):
                found.append(f"{where}:{node.lineno}: colour literal {node.value!r}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in DRAWING_CALLS
        ):
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    if FORMAT_WITH_COLOUR.match(arg.value):
                        found.append(f"{where}:{arg.lineno}: format string {arg.value!r}")
            if not any(k.arg in COLOUR_KEYWORDS for k in node.keywords):
                found.append(f"{where}:{node.lineno}: .{node.func.attr}() without a colour")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in IMAGE_CALLS and not any(k.arg == "cmap" for k in node.keywords):
                found.append(f"{where}:{node.lineno}: .{node.func.attr}() without a colour map")
    return found


def test_figure_code_takes_every_colour_from_the_style_module():
    found = [f for path in _modules() for f in _findings(path)]
    assert not found, "colours outside dbcode.viz.style:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        'ax.plot(x, y, color="tab:red")',
        'ax.plot(x, y, "k:")',
        "ax.plot(x, y)",
        'ax.imshow(a, cmap="viridis")',
        "ax.imshow(a)",
        'ax.bar(x, y, color=COLORS["sb"] if a else "0.3")',
        'colours = ("#c76d00", "0.1")',
    ],
)
def test_the_scan_catches_literal_colours(tmp_path, source):
    module = PACKAGE / "_style_probe.py"
    try:
        module.write_text(source + "\n")
        assert _findings(module)
    finally:
        module.unlink()


def test_rules_have_distinct_colours_and_blue_means_db_only():
    rule_colours = list(style.COLORS.values())
    assert len(set(rule_colours)) == len(rule_colours)
    others = [
        style.INK,
        style.EXCITATION,
        style.INHIBITION,
        style.NEUTRAL,
        style.GUIDE,
        style.FAINT,
        *style.CHANNELS,
        *style.CONDITIONS.values(),
    ]
    assert not set(others) & set(rule_colours)
    assert set(style.COLORS) == set(style.LABELS)
