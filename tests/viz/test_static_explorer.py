"""The precomputed explorers: one frame per grid point, keyed by the option indices."""

import json
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from dbcode.viz.static_explorer import Control, precomputed_explorer


def _draw(a, b):
    fig, ax = plt.subplots(figsize=(1.5, 1))
    ax.set_title(f"{a} {b}")
    return fig


@pytest.fixture(scope="module")
def explorer():
    return precomputed_explorer(
        _draw,
        [
            Control("a", "size", [("1", 1), ("2", 2), ("3", 3)], default=2, slider=True),
            Control("b", "rule", [("SB", "sb"), ("DB", "db")], default="db"),
        ],
        "caption text",
        progress=False,
    )


def test_every_grid_point_has_its_own_frame(explorer):
    assert sorted(explorer.frames) == [f"{i}-{j}" for i in range(3) for j in range(2)]
    assert len({f["src"] for f in explorer.frames.values()}) == 6
    assert explorer.frames["2-0"]["label"] == "size = 3, rule = SB"


def test_the_page_shows_the_default_and_embeds_every_frame(explorer):
    html = explorer._repr_html_()
    assert explorer.frames["1-1"]["src"] in html.split("<script")[0]  # default shown first
    frames = re.search(
        r"<script type='application/json' class='dbcode-explorer-frames'>(.*?)</script>", html
    ).group(1)
    assert json.loads(frames) == explorer.frames
    assert "type='range'" in html and "<select" in html
    assert "<option value='1' selected>DB</option>" in html
    assert "caption text" in html


def test_controls_reject_a_default_outside_the_grid():
    with pytest.raises(ValueError, match="not an option"):
        Control("a", "a", [("1", 1)], default=2)
