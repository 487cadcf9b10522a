"""The schematic of the SB and DB circuits."""

import itertools

import matplotlib.pyplot as plt
import pytest
from matplotlib.collections import Collection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text

from dbcode.viz.schematic import plot_circuits
from dbcode.viz.style import COLORS, LABELS


@pytest.fixture(scope="module")
def fig():
    fig = plot_circuits()
    fig.canvas.draw()
    yield fig
    plt.close(fig)


def _texts(fig):
    """Every text the figure draws: titles, labels, annotations, legend entries (not the
    tick labels of the hidden axes)."""
    hidden = {t for ax in fig.axes for axis in (ax.xaxis, ax.yaxis) for t in axis.findobj(Text)}
    texts = fig.findobj(lambda a: isinstance(a, Text) and a not in hidden)
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def _colours(artist):
    """The RGBA colours ``artist`` paints with (fully transparent ones left out)."""
    if isinstance(artist, Line2D):
        found = [artist.get_color(), artist.get_markerfacecolor(), artist.get_markeredgecolor()]
    elif isinstance(artist, Patch):
        found = [artist.get_facecolor(), artist.get_edgecolor()]
    elif isinstance(artist, Collection):
        found = [*artist.get_facecolors(), *artist.get_edgecolors()]
    elif isinstance(artist, Text):
        found = [artist.get_color()]
    else:
        found = []
    rgba = [to_rgba(c) for c in found if not (isinstance(c, str) and c == "none")]
    return [c for c in rgba if c[3] > 0]


def test_two_panels_titled_sb_and_db(fig):
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    titles = [ax.get_title(loc="left") + ax.get_title() for ax in fig.axes]
    assert titles[0].startswith(LABELS["sb"]) and "somatic balance" in titles[0]
    assert titles[1].startswith(LABELS["db"]) and "dendritic balance" in titles[1]


def test_texts_say_where_inhibition_lands(fig):
    sb, db = (" ".join(t.get_text() for t in ax.texts).replace("\n", " ") for ax in fig.axes)
    assert "inhibition" in sb and "on the soma" in sb
    assert "inhibition" in db and "on the dendrite" in db
    assert "Hebbian" in sb and "balances the soma" in sb
    assert "local coding error" in db and "balances each dendrite" in db
    # the figure carries no equation numbers: the book's and the paper's differ
    assert "Eq" not in sb + db


def test_colours_come_from_the_style(fig):
    allowed = {to_rgba(c)[:3] for c in COLORS.values()}
    used = set()
    for artist in fig.findobj(lambda a: a.get_visible()):
        for r, g, b, _ in _colours(artist):
            if max(r, g, b) - min(r, g, b) > 1e-6:  # not a grey
                used.add((r, g, b))
    assert used <= allowed, f"colours outside dbcode.viz.style: {used - allowed}"
    assert {to_rgba(COLORS["sb"])[:3], to_rgba(COLORS["db"])[:3]} <= used


def test_texts_are_readable_and_do_not_overlap(fig):
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _texts(fig)]
    assert len(boxes) > 20
    assert min(t.get_fontsize() for t in _texts(fig)) >= 8
    overlapping = [
        (a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if ba.overlaps(bb)
    ]
    assert overlapping == []
