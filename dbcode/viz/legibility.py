"""How large a figure's text appears on the book's page.

A figure is shown at its natural size (matplotlib's ``figure.dpi`` of
:data:`SCREEN_DPI` pixels per inch) or, when that is wider than the page's text column,
shrunk to the column's :data:`PAGE_WIDTH_PX`. A label of ``s`` points therefore appears
``s / 72 * min(SCREEN_DPI, PAGE_WIDTH_PX / width)`` CSS pixels high, with ``width`` the
figure's width in inches after ``bbox_inches="tight"``. :func:`smallest_text` finds the
smallest label as the reader sees it; :func:`dbcode.viz.figures.save_figure` records it
in the manifest and ``tests/viz/test_legibility.py`` holds every figure of the book to
:data:`MIN_TEXT_PX`. The browser test checks that the column is as wide as assumed.
:func:`covered_by_legends` lists the lines that a legend hides part of, which the same
test requires to be none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PAGE_WIDTH_PX = 672
"""Width in CSS pixels of the book's text column in a 1280 px wide window (the browser
test's window), where figures are shown."""

SCREEN_DPI = 100
"""Pixels per inch at which a figure is shown when it fits the column (matplotlib's
default ``figure.dpi``, which the inline backend uses)."""

MIN_TEXT_PX = 9.0
"""Smallest text height in CSS pixels counted as readable (body text is 16 px)."""


@dataclass(frozen=True)
class SmallestText:
    """The smallest visible text of a figure and how large it appears on the page."""

    text: str
    points: float
    width_in: float
    px: float


def shown_px_per_point(width_in: float) -> float:
    """CSS pixels per point of text in a figure ``width_in`` inches wide (tight)."""
    return min(SCREEN_DPI, PAGE_WIDTH_PX / width_in) / 72.0


def _drawn_texts(fig):
    """Visible, non-empty text artists of ``fig`` that lie inside its tight box."""
    from matplotlib.text import Text

    for artist in fig.findobj(Text):
        if not artist.get_visible() or not artist.get_text().strip():
            continue
        axes = artist.axes
        if axes is not None and not axes.get_visible():
            continue
        yield artist


def smallest_text(fig) -> SmallestText | None:
    """The smallest text of ``fig`` as shown on the page (``None`` if it has none).

    Tick labels outside an axis' view limits are not drawn by matplotlib and are
    skipped, as are texts that fall outside the figure's tight bounding box.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    tight = fig.get_tightbbox(renderer)
    width_in = float(tight.width)
    box = tight.transformed(fig.dpi_scale_trans)
    best = None
    for artist in _drawn_texts(fig):
        extent = artist.get_window_extent(renderer)
        if extent.width <= 0 or not box.overlaps(extent):
            continue
        points = float(artist.get_fontsize())
        if best is None or points < best.points:
            best = SmallestText(
                text=artist.get_text()[:60],
                points=points,
                width_in=round(width_in, 3),
                px=round(points * shown_px_per_point(width_in), 2),
            )
    return best


def readable_points(width_in: float, px: float = MIN_TEXT_PX) -> float:
    """Font size in points that appears ``px`` CSS pixels high in a figure ``width_in``
    inches wide."""
    return px / shown_px_per_point(width_in)


def _display_path(line, per_segment: int = 16) -> np.ndarray:
    """Points along ``line`` in display coordinates, ``per_segment`` per segment, so
    that a legend lying between two data points is seen too."""
    xy = np.column_stack([line.get_xdata(orig=False), line.get_ydata(orig=False)]).astype(float)
    xy = xy[np.isfinite(xy).all(axis=1)]
    if len(xy) == 0:
        return xy
    points = line.get_transform().transform(xy)
    if len(points) == 1 or line.get_linestyle() in ("None", "", " "):
        return points
    t = np.linspace(0.0, 1.0, per_segment, endpoint=False)[None, :, None]
    along = points[:-1, None, :] + t * (points[1:, None, :] - points[:-1, None, :])
    return np.vstack([along.reshape(-1, 2), points[-1:]])


def _covered_lines(ax, renderer) -> list[str]:
    """Labels of the lines of ``ax`` that run under its legend."""
    legend = ax.get_legend()
    if legend is None or not legend.get_visible():
        return []
    box = legend.get_window_extent(renderer)
    clip = ax.get_window_extent(renderer)
    covered = []
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        points = _display_path(line)
        x, y = points[:, 0], points[:, 1]
        inside_axes = (x >= clip.x0) & (x <= clip.x1) & (y >= clip.y0) & (y <= clip.y1)
        under = inside_axes & (x > box.x0) & (x < box.x1) & (y > box.y0) & (y < box.y1)
        if under.any():
            label = line.get_label()
            name = ax.get_title() or "axes"
            covered.append(f"{name}: {label}" if not label.startswith("_") else name)
    return covered


def covered_by_legends(fig) -> list[str]:
    """Labels of the lines of ``fig`` that run under a legend of their own axes.

    A line counts as covered when any point along it (its data points and points
    interpolated between them) falls inside the legend's box; lines without a label are
    named by their axes' title.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [name for ax in fig.axes for name in _covered_lines(ax, renderer)]


LEGEND_PLACES = (
    "upper left",
    "upper right",
    "lower left",
    "lower right",
    "center left",
    "center right",
    "upper center",
    "lower center",
)
"""Places inside the axes that :func:`place_legend` tries, in this order."""


def _extend_top(ax, fraction: float) -> None:
    low, high = ax.get_ylim()
    if ax.get_yscale() == "log":
        span = np.log10(high) - np.log10(low)
        ax.set_ylim(low, high * 10 ** (fraction * span))
    else:
        ax.set_ylim(low, high + fraction * (high - low))


def _free_to_the_right(ax) -> bool:
    """No other axes of the figure lies to the right of ``ax`` at its height."""
    mine = ax.get_position()
    for other in ax.figure.axes:
        box = other.get_position()
        if other is not ax and box.x0 >= mine.x1 - 1e-9 and box.y1 > mine.y0 and box.y0 < mine.y1:
            return False
    return True


def place_legend(ax, *, headroom: int = 6, **kwargs):
    """Draw the legend of ``ax`` where it covers none of its lines.

    Tries each of :data:`LEGEND_PLACES`; then the upper corners with the y axis raised by
    15 % of its span at a time (``headroom`` times); then, if no other panel is there,
    beside the axes to the right (else it stays in the upper left of the raised axis).
    ``kwargs`` go to ``Axes.legend``. Call it once the layout is
    final (after ``tight_layout``), since the check is made in display coordinates.
    Returns the legend.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()

    def clear(loc):
        ax.legend(loc=loc, **kwargs)
        fig.canvas.draw()
        return not _covered_lines(ax, renderer)

    for loc in LEGEND_PLACES:
        if clear(loc):
            return ax.get_legend()
    limits = ax.get_ylim()
    for _ in range(headroom):
        _extend_top(ax, 0.15)
        for loc in ("upper left", "upper right"):
            if clear(loc):
                return ax.get_legend()
    if not _free_to_the_right(ax):
        return ax.legend(loc="upper left", **kwargs)
    ax.set_ylim(limits)
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kwargs)
