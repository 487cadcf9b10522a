"""Markdown tables for the chapters' generated text."""

from __future__ import annotations

from collections.abc import Sequence


def md_escape(text) -> str:
    """``text`` safe inside a Markdown table cell (no ``|``, no line breaks)."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def md_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A Markdown table with ``header`` and one line per row (cells escaped)."""
    lines = ["| " + " | ".join(md_escape(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _number(value) -> str:
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    return f"{value:.4g}"


def key_number_tables(manifest: dict) -> str:
    """The key numbers of every figure of a manifest, one collapsed table per figure
    (HTML ``<details>``, so the browser's search finds every number, and the page
    stays short): the summary line names the figure, its chapter, scale and seeds."""
    parts = []
    for fig_id, entry in sorted(manifest.items()):
        if not entry:
            continue
        numbers = sorted((entry.get("key_numbers") or {}).items())
        seeds = ", ".join(map(str, entry.get("seeds") or [])) or "none"
        summary = (
            f"<code>{fig_id}</code>: {entry.get('chapter', '')} chapter, scale "
            f"{entry.get('scale', '')}, seeds {seeds}, {len(numbers)} key numbers"
        )
        table = md_table(["key number", "value"], [[f"`{k}`", _number(v)] for k, v in numbers])
        parts.append(
            f"<details>\n<summary>{summary}</summary>\n\n"
            + (table if numbers else "No key numbers (a drawing).")
            + "\n\n</details>\n"
        )
    return "\n".join(parts)
