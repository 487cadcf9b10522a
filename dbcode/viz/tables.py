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
