"""Statistics of natural-image inputs: how well a set of images stands in for Olshausen's.

The networks of Fig 5 learn from patches of Olshausen & Field's whitened images
(``IMAGES.mat``), which are not shipped. Whether a substitute is faithful is measured on
what shapes the code the networks learn (:func:`image_statistics`):

* the fraction of strongly oriented patches (orientation index of the patch's positive
  half above :data:`dbcode.analysis.orientation.ORIENTED`): edges and lines, which
  Gabor-like fields code;
* the participation ratio of the on-channel inputs, ``(sum l)^2 / sum l^2`` over the
  eigenvalues ``l`` of their covariance: how many dimensions the inputs spread over;
* the share of near-blank patches, in which no on-channel input exceeds 0.5 (all
  whitened values below the on/off offset 0.15): what faint regions contribute;
* the excess kurtosis of the whitened pixel values: how sparse the whitened images are;
* the slope of the radially averaged amplitude spectrum before whitening (natural
  scenes: about -1, the ``1/f`` law sparsenet's whitening filter undoes);
* the range of the whitened images' variances (sparsenet scales the set, not each
  image).

:data:`OLSHAUSEN_REFERENCE` holds the values measured on the positive half of the
whitened Olshausen images (the only form of them at hand when they were measured, with
definitions that need not match these in every detail); where ``IMAGES.mat`` is present
the chapter measures it with this module instead.
"""

from __future__ import annotations

import numpy as np

from dbcode.analysis.orientation import ORIENTED, orientation_index
from dbcode.data.natural import N_PIXELS, OFFSET, PATCH, PatchPool, onoff_transform

OLSHAUSEN_REFERENCE = {
    "frac_oriented": 0.11,
    "frac_oriented_lo": 0.03,
    "frac_oriented_hi": 0.22,
    "participation_ratio": 19.7,
    "frac_blank": 0.20,
    "variance_lo": 0.012,
    "variance_hi": 0.20,
    "spectrum_slope": -1.0,
}
"""Reference values of the whitened Olshausen set: oriented fraction (whole set and
range over its images), participation ratio, near-blank share, range of the images'
variances (sparsenet's set scaling), and the ``1/f`` amplitude law of natural scenes
(Field 1987), which ``IMAGES.mat`` itself cannot show because it holds the images only
after whitening."""

MEASURES = {
    "frac_oriented": "oriented patches",
    "participation_ratio": "participation ratio (on inputs)",
    "frac_blank": "near-blank patches",
    "kurtosis": "kurtosis of whitened pixels",
    "spectrum_slope": "amplitude-spectrum slope (before whitening)",
    "variance_range": "variances of the whitened images",
}
"""The measures of :func:`image_statistics`, by key, with the label a table shows."""


def oriented(patches: np.ndarray) -> np.ndarray:
    """Whether each patch's positive half (``max(v, 0)``) is strongly oriented
    (orientation index above :data:`~dbcode.analysis.orientation.ORIENTED`)."""
    positive = np.maximum(np.asarray(patches, dtype=float), 0.0)
    return np.array([orientation_index(p.reshape(PATCH, PATCH)) > ORIENTED for p in positive])


def participation_ratio(x: np.ndarray) -> float:
    """``(sum l)^2 / sum l^2`` of the eigenvalues of the covariance of ``x`` (rows:
    samples): 1 if the inputs vary along one direction, ``x.shape[1]`` if along all
    alike."""
    lam = np.linalg.eigvalsh(np.cov(np.asarray(x, dtype=float).T))
    return float(lam.sum() ** 2 / np.sum(lam * lam))


def blank(patches: np.ndarray) -> np.ndarray:
    """Whether each patch is near-blank: no on-channel input above 0.5, i.e. every
    whitened value below the on/off offset."""
    return np.asarray(patches).max(axis=1) < OFFSET


def excess_kurtosis(values: np.ndarray) -> float:
    """Fourth standardised moment minus 3 (0 for a Gaussian)."""
    v = np.asarray(values, dtype=float).ravel()
    d = v - v.mean()
    return float(np.mean(d**4) / np.mean(d * d) ** 2 - 3.0)


def spectrum_slope(raw: np.ndarray, f_lo: int = 4, f_hi: int = 128) -> float:
    """Slope of ``log`` radially averaged amplitude against ``log f`` (cycles per
    image) between ``f_lo`` and ``f_hi``, of a stack ``(M, N, N)`` of raw images."""
    raw = np.asarray(raw, dtype=float)
    n = raw.shape[-1]
    freqs = np.fft.fftfreq(n, 1.0 / n)
    f = np.sqrt(freqs[:, None] ** 2 + freqs[None, :] ** 2)
    centred = raw - raw.mean(axis=(-2, -1), keepdims=True)
    amplitude = np.abs(np.fft.fft2(centred)).mean(axis=0)
    ring = np.round(f).astype(int).ravel()
    radial = np.bincount(ring, amplitude.ravel()) / np.bincount(ring)
    k = np.arange(f_lo, f_hi)
    return float(np.polyfit(np.log(k), np.log(radial[k]), 1)[0])


def image_statistics(
    images: np.ndarray,
    raw: np.ndarray | None = None,
    variances: np.ndarray | None = None,
    n_patches: int = 20_000,
    seed: int = 0,
) -> dict:
    """The measures of :data:`MEASURES` for a set of whitened, half-size images.

    Parameters
    ----------
    images : (M, H, W) array
        Whitened, half-size images (what the patches are cut from).
    raw : (M, N, N) array, optional
        The same images before whitening, for the spectrum slope (``None``: not
        measured, e.g. for ``IMAGES.mat``).
    variances : (M,) array, optional
        Variances of the whitened full-size images (default: of ``images``).
    n_patches : int
        Patches drawn uniformly from the grid pool (:class:`PatchPool`).
    seed : int

    Returns
    -------
    dict
        ``frac_oriented`` with ``frac_oriented_lo``/``_hi`` (smallest and largest over
        the images), ``participation_ratio``, ``frac_blank``, ``kurtosis``,
        ``spectrum_slope`` (or ``None``), ``variance_lo``/``_hi``, ``n_images``.
    """
    pool = PatchPool(images)
    rng = np.random.default_rng(seed)
    index = rng.integers(len(pool), size=n_patches)
    patches = pool.patches(index)
    is_oriented = oriented(patches)
    which = pool.corners[index, 0]
    per_image = [is_oriented[which == m].mean() for m in range(len(images)) if np.any(which == m)]
    on = onoff_transform(patches)[:, :N_PIXELS]
    if variances is None:
        variances = np.asarray(images).var(axis=(1, 2))
    return {
        "n_images": len(images),
        "frac_oriented": float(is_oriented.mean()),
        "frac_oriented_lo": float(min(per_image)),
        "frac_oriented_hi": float(max(per_image)),
        "participation_ratio": participation_ratio(on),
        "frac_blank": float(blank(patches).mean()),
        "kurtosis": excess_kurtosis(images),
        "spectrum_slope": None if raw is None else spectrum_slope(raw),
        "variance_lo": float(np.min(variances)),
        "variance_hi": float(np.max(variances)),
    }


def source_statistics(source: str, **kw) -> dict:
    """:func:`image_statistics` of one source of :func:`dbcode.data.natural.load_scenes`
    (``"images_mat"`` needs the file; its spectrum slope is not measured)."""
    from dbcode.data import natural

    if source == "images_mat":
        white = natural.load_images_mat()
        raw = None
    else:
        raw = natural.offline_raw_images(source)
        white = natural.offline_whitened_images(source)
    return image_statistics(
        natural.downscale_half(white), raw=raw, variances=white.var(axis=(1, 2)), **kw
    )
