"""Correlated bars, the paper's variant of Földiák's bars task.

Mikulasch, Rudelt & Priesemann (2020), Fig 4 and Methods: images of 8 x 8 pixels
show two of 16 bars (8 horizontal, 8 vertical). The first bar has a random
orientation and position. With probability ``c`` (the correlation strength) the
second bar is the *partner* of the first: the bar of the other orientation with the
same index (horizontal ``i`` with vertical ``i``). Otherwise the second bar is drawn
at random from all 16 bars, so it may coincide with the first or be its partner.
Pixels covered by a bar are 1, all others 0.

Bars are identified by an integer id: ids 0-7 are the horizontal bars (row ``i``),
ids 8-15 the vertical bars (column ``i``); the partner of id ``k`` is ``(k + 8) % 16``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from dbcode.data import Dataset

SIDE = 8
N_BARS = 2 * SIDE
ORIENTATIONS = ("horizontal", "vertical")

Orientation = Literal["horizontal", "vertical"]


def bar_image(orientation: Orientation, index: int) -> np.ndarray:
    """One bar as an 8 x 8 image.

    Parameters
    ----------
    orientation : {"horizontal", "vertical"}
        Horizontal bars fill row ``index``, vertical bars column ``index``.
    index : int
        Position of the bar, ``0 <= index < 8``.

    Returns
    -------
    np.ndarray
        Float array of shape ``(8, 8)``, 1 on the bar and 0 elsewhere.
    """
    if orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be one of {ORIENTATIONS}, got {orientation!r}")
    if not 0 <= index < SIDE:
        raise ValueError(f"index must be in [0, {SIDE}), got {index}")
    image = np.zeros((SIDE, SIDE))
    if orientation == "horizontal":
        image[index, :] = 1.0
    else:
        image[:, index] = 1.0
    return image


def bar_templates() -> np.ndarray:
    """All 16 bars, flattened, in id order (8 horizontal, then 8 vertical).

    Returns
    -------
    np.ndarray
        Array of shape ``(16, 64)``; row ``k`` is bar id ``k``.
    """
    return np.stack([bar_image(o, i).ravel() for o in ORIENTATIONS for i in range(SIDE)])


def partner(bar_id: np.ndarray | int) -> np.ndarray | int:
    """Id of the bar of the other orientation with the same index."""
    return (bar_id + SIDE) % N_BARS


def sample_bar_ids(n: int, c: float, rng: np.random.Generator) -> np.ndarray:
    """Draw the two bar ids of ``n`` images.

    Parameters
    ----------
    n : int
        Number of images.
    c : float
        Correlation strength, the probability that the second bar is the partner of
        the first; ``0 <= c <= 1``.
    rng : np.random.Generator
        Source of randomness.

    Returns
    -------
    np.ndarray
        Integer array of shape ``(n, 2)`` with the ids of the first and second bar.
    """
    c = check_correlation(c)
    first = rng.integers(N_BARS, size=n)
    paired = rng.random(n) < c
    second = np.where(paired, partner(first), rng.integers(N_BARS, size=n))
    return np.stack([first, second], axis=1)


def render_bars(bar_ids: np.ndarray) -> np.ndarray:
    """Flattened images showing the given bars.

    Parameters
    ----------
    bar_ids : np.ndarray
        Integer array of shape ``(n, k)``: the ids of the ``k`` bars of each image.

    Returns
    -------
    np.ndarray
        Array of shape ``(n, 64)``; overlapping pixels stay at 1.
    """
    return bar_templates()[bar_ids].max(axis=1)


def sample_bars(n: int, c: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` correlated-bars images, shape ``(n, 64)`` with values in {0, 1}: the bars
    of :func:`sample_bar_ids` ``(n, c, rng)`` drawn by :func:`render_bars`."""
    return render_bars(sample_bar_ids(n, c, rng))


def resolve_source(c: float = 0.0) -> dict:
    """Bars are generated: nothing to resolve (see :func:`dbcode.data.resolve_source`)."""
    check_correlation(c)
    return {"source": "generated"}


def check_correlation(c) -> float:
    """``c`` as a float, or a ValueError saying what a correlation strength is."""
    if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0.0 <= c <= 1.0:
        raise ValueError(f"bar correlation c must be a number in [0, 1], got {c!r}")
    return float(c)


def load_bars(n_train: int, n_test: int, seed: int, c: float = 0.0) -> Dataset:
    """Training and test images of the correlated-bars task.

    Parameters
    ----------
    n_train, n_test : int
        Number of training and test images.
    seed : int
        Seed of ``np.random.default_rng``.
    c : float, default 0.0
        Correlation strength; the paper scans ``c = 0, 0.05, ..., 1``.

    Returns
    -------
    Dataset
        ``meta`` holds ``c`` and the bar ids ``train_bars``, ``test_bars`` (shape
        ``(n, 2)``) in the order of :func:`bar_templates`.
    """
    rng = np.random.default_rng(seed)
    train_ids = sample_bar_ids(n_train, c, rng)
    test_ids = sample_bar_ids(n_test, c, rng)
    return Dataset(
        name="bars",
        train=render_bars(train_ids),
        test=render_bars(test_ids),
        image_shape=(SIDE, SIDE),
        source=f"correlated bars, generated (c = {c})",
        meta={"c": c, "train_bars": train_ids, "test_bars": test_ids},
    )
