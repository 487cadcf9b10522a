"""Reading a chapter's key numbers from figures/manifest.json for its claim tests."""

import pytest

from dbcode.viz.figures import load_manifest


def key_numbers(fig_id: str, chapter: str) -> dict:
    """The key numbers a chapter recorded for ``fig_id`` (values without tolerances);
    fails, saying how to produce them, when the chapter has not written the figure."""
    entry = load_manifest().get(fig_id)
    if entry is None:
        pytest.fail(
            f"figure {fig_id!r} is missing from figures/manifest.json: run "
            f"`python -m dbcode build --chapters {chapter}`"
        )
    return {k: v["value"] if isinstance(v, dict) else v for k, v in entry["key_numbers"].items()}
