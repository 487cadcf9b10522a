"""Images without axes, and mosaics of many small ones (weights, receptive fields)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from dbcode.viz.style import CMAP_IMAGE


def show_image(
    ax,
    image: np.ndarray,
    *,
    cmap: str = CMAP_IMAGE,
    vmin: float | None = None,
    vmax: float | None = None,
    symmetric: bool = False,
    title: str = "",
) -> None:
    """``image`` on ``ax`` pixel by pixel, without ticks; ``symmetric`` centres the
    colour scale on zero at the image's largest magnitude. NaN pixels are white."""
    image = np.asarray(image, dtype=float)
    if symmetric:
        lim = np.nanmax(np.abs(image)) if np.isfinite(image).any() else 1.0
        vmin, vmax = -(lim or 1.0), lim or 1.0
    colours = plt.get_cmap(cmap).with_extremes(bad="white")
    ax.imshow(image, cmap=colours, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def mosaic(tiles: np.ndarray, cols: int, gap: int = 1, common_scale: bool = False) -> np.ndarray:
    """Tile images ``tiles`` (shape ``(n, h, w)``) into one, ``cols`` per row, each
    scaled to a largest magnitude of 1 (with ``common_scale``: all by one factor, so
    that the largest magnitude of all is 1, as the paper shows receptive fields), with
    NaN in the gaps of ``gap`` pixels."""
    tiles = np.asarray(tiles, dtype=float)
    n, h, w = tiles.shape
    if common_scale:
        tiles = tiles / max(np.abs(tiles).max(), 1e-12)
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, cols)
        norm = 1.0 if common_scale else max(np.abs(tile).max(), 1e-12)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tile / norm
    return out


def show_mosaic(
    ax,
    tiles: np.ndarray,
    cols: int,
    *,
    cmap: str = CMAP_IMAGE,
    vmin: float = -1.0,
    vmax: float = 1.0,
    title: str = "",
    common_scale: bool = False,
) -> None:
    """:func:`mosaic` of ``tiles`` shown with :func:`show_image`."""
    image = mosaic(tiles, cols, common_scale=common_scale)
    show_image(ax, image, cmap=cmap, vmin=vmin, vmax=vmax, title=title)
