"""Dead-leaves images: a synthetic stand-in for natural scenes.

A dead-leaves image is a stack of opaque discs ("leaves") of random position, size and
grey level, each hiding what lies beneath it (Matheron 1968; Lee, Mumford & Huang
2001). With radii distributed as ``p(r) ~ r**-3`` the image is statistically
scale-invariant over the range of radii, and its amplitude spectrum falls as ``1/f``
like that of natural scenes, which is what sparsenet's whitening filter assumes.

The images are painted front to back: the first disc drawn is the front-most, and a
later disc only fills the pixels still uncovered, until every pixel is covered. The
grey levels of one image are uniform in ``0.5 +- contrast / 2``; the images of a set
differ in contrast, so that after whitening and scaling the set to a common variance
some images are faint (like the smooth or distant parts of a natural scene, which give
near-blank patches) and others strong. The defaults (:data:`R_MIN`,
:data:`CONTRAST_RANGE`) were chosen so that the patches match the whitened Olshausen
images on the measures of :mod:`dbcode.analysis.image_statistics`; the natural-images
chapter shows the comparison.

All arithmetic is elementary or from :mod:`dbcode.model.fpmath`, so the images are the
same bits on every CPU.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from dbcode.model import fpmath

SIZE = 512
N_IMAGES = 10
R_MIN = 1.5
"""Smallest disc radius in pixels of a 512 x 512 image (the largest is half the image)."""
CONTRAST_RANGE = 8.0
"""Ratio of the strongest to the faintest image's contrast; the contrasts of a set are
spaced evenly on a log scale in between."""
SEED = 2026
BATCH = 1 << 17


@njit(cache=True)
def _paint(image, covered, cy, cx, r, grey):
    """Paint discs front to back into the pixels not yet covered; returns how many
    pixels are still uncovered after this batch."""
    n = image.shape[0]
    left = 0
    for i in range(n):
        for j in range(n):
            if not covered[i, j]:
                left += 1
    for d in range(r.shape[0]):
        if left == 0:
            break
        rr = r[d] * r[d]
        y0, y1 = max(0, int(cy[d] - r[d])), min(n, int(cy[d] + r[d]) + 1)
        x0, x1 = max(0, int(cx[d] - r[d])), min(n, int(cx[d] + r[d]) + 1)
        for i in range(y0, y1):
            dy = i - cy[d]
            for j in range(x0, x1):
                if covered[i, j]:
                    continue
                dx = j - cx[d]
                if dy * dy + dx * dx <= rr:
                    image[i, j] = grey[d]
                    covered[i, j] = True
                    left -= 1
    return left


def dead_leaves_image(
    size: int, rng: np.random.Generator, r_min: float = R_MIN, contrast: float = 1.0
) -> np.ndarray:
    """One dead-leaves image.

    Parameters
    ----------
    size : int
        Side length in pixels.
    rng : np.random.Generator
        Source of the discs' positions, radii and grey levels.
    r_min : float
        Smallest radius (pixels); the largest is ``size / 2``. Radii follow
        ``p(r) ~ r**-3`` between the two (inverse-CDF sampling).
    contrast : float
        Grey levels are uniform in ``[0.5 - contrast / 2, 0.5 + contrast / 2]``.

    Returns
    -------
    np.ndarray
        ``(size, size)`` float64 image.
    """
    image = np.zeros((size, size))
    covered = np.zeros((size, size), dtype=np.bool_)
    a, b = r_min**-2, (size / 2.0) ** -2
    left = size * size
    while left > 0:
        u, cy, cx, g = rng.random((4, BATCH))
        r = 1.0 / np.sqrt(a - u * (a - b))
        left = _paint(image, covered, cy * size, cx * size, r, 0.5 + contrast * (g - 0.5))
    return image


def contrasts(n_images: int = N_IMAGES, contrast_range: float = CONTRAST_RANGE) -> np.ndarray:
    """The contrasts of a set: ``contrast_range**(-k / (n - 1))`` for ``k = n-1 ... 0``
    (faintest first; :mod:`dbcode.model.fpmath`'s exp and log, whose bits do not depend
    on the CPU, then repeated division)."""
    if n_images == 1:
        return np.ones(1)
    step = fpmath.exp(fpmath.log(contrast_range) / (n_images - 1))
    out = np.ones(n_images)
    for k in range(n_images - 2, -1, -1):
        out[k] = out[k + 1] / step
    return out


@functools.lru_cache(maxsize=2)
def dead_leaves_set(
    n_images: int = N_IMAGES,
    size: int = SIZE,
    seed: int = SEED,
    r_min: float = R_MIN,
    contrast_range: float = CONTRAST_RANGE,
) -> np.ndarray:
    """A set of dead-leaves images of graded contrast, ``(n_images, size, size)``,
    computed once per process (read-only).

    The contrasts are :func:`contrasts`; every image has its own generator spawned from
    ``seed``.
    """
    children = np.random.SeedSequence(seed).spawn(n_images)
    stack = np.stack(
        [
            dead_leaves_image(size, np.random.default_rng(ss), r_min, c)
            for ss, c in zip(children, contrasts(n_images, contrast_range))
        ]
    )
    stack.flags.writeable = False
    return stack
