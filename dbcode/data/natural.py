"""On/off-transformed 8 x 8 patches of whitened natural images.

Mikulasch, Rudelt & Priesemann (2020), Figs 4-5 and Methods: the networks learn from
patches of Olshausen & Field's ten whitened 512 x 512 images (``IMAGES.mat`` of the
sparsenet package). The images are first downscaled by a factor 0.5; then every
whitened pixel value ``v`` of an 8 x 8 patch feeds two inputs, an on channel and an
off channel, ``sigmoid(16 (v - 0.15))`` and ``sigmoid(16 (-v - 0.15))``. The inputs
are non-negative and mostly close to 0 or 1, and ``n_x = 2 * 64 = 128``.

The authors' protocol, which the loader follows: the half-size images lose a border
(4 pixels at the start of each axis, 8 or more at the end), the patches form a grid over
each image at every offset of 0-5 pixels (:func:`grid_corners`, about 3.2 * 10^5
patches), and every presentation is a fresh draw from that pool (:class:`PatchPool`;
``patches="fixed"`` instead cycles over ``n_train`` patches drawn once).

``IMAGES.mat`` is not shipped. Offline the images are one of :data:`OFFLINE_SOURCES`,
whitened the way sparsenet whitened its images (:func:`whiten`: the filter
``f exp(-(f / f0)**4)``, then the whole set scaled to mean variance 0.1). The default,
``"dead-leaves"``, is a synthetic set (:mod:`dbcode.data.dead_leaves`) whose patches
match the whitened Olshausen images on the measures of
:mod:`dbcode.analysis.image_statistics`; ``"skimage"`` (ten photographs that come with
scikit-image) and ``"textures"`` (its natural textures) are the other candidates the
natural-images chapter compares.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Literal

import numpy as np

from dbcode.data import Dataset, Folder, choose_source, data_dir, file_md5
from dbcode.data.download import fetch
from dbcode.model import fpmath

PATCH = 8
N_PIXELS = PATCH * PATCH
IMAGE_SIZE = 512
GAIN = 16.0
OFFSET = 0.15
IMAGES_MAT_URL = "https://rctn.org/bruno/sparsenet/IMAGES.mat"
IMAGES_MAT_MD5 = "b20cb33935e95b556cb83bef5e9afcf1"
BORDER_START = 4
"""Pixels of a half-size image dropped before the first grid row and column."""
GRID_OFFSETS = 6
"""The patch grid is laid at every offset of 0 ... GRID_OFFSETS - 1 pixels."""
OFFLINE_PHOTOS = (
    "camera",
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "coins",
    "moon",
    "grass",
    "gravel",
    "motorcycle",
)
"""Photographs of ``skimage.data`` used offline (``"motorcycle"`` is the left image
of ``stereo_motorcycle``); all ship with scikit-image, none is downloaded."""

TEXTURES = ("grass", "gravel", "moon")
"""The natural textures of ``skimage.data`` (512 x 512 each, shipped with the package)."""
OFFLINE_SOURCES = {
    "dead-leaves": "synthetic dead-leaves images of graded contrast (dbcode.data.dead_leaves)",
    "skimage": "scikit-image photographs (" + ", ".join(OFFLINE_PHOTOS) + ")",
    "textures": "scikit-image textures (" + ", ".join(TEXTURES) + ")",
}
"""The offline image sets by source name, each whitened like sparsenet; the first is the
default substitute for ``IMAGES.mat``."""
DEFAULT_SUBSTITUTE = "dead-leaves"

Source = Literal["auto", "images_mat", "dead-leaves", "skimage", "textures"]
Patches = Literal["fresh", "fixed"]


def _load_photo(name: str) -> np.ndarray:
    from skimage import data

    if name == "motorcycle":
        return data.stereo_motorcycle()[0]
    return getattr(data, name)()


def default_cache_dir() -> Path:
    """``$DBCODE_DATA/sparsenet``, by default ``~/.cache/dbcode/sparsenet``."""
    return data_dir("sparsenet")


def onoff_transform(v: np.ndarray) -> np.ndarray:
    """Split whitened pixel values into on and off channels.

    Parameters
    ----------
    v : np.ndarray
        Whitened values, shape ``(..., 64)``.

    Returns
    -------
    np.ndarray
        Shape ``(..., 128)``: ``sigmoid(16 (v - 0.15))`` followed by
        ``sigmoid(16 (-v - 0.15))``, all in (0, 1).
    """
    v = np.asarray(v, dtype=np.float64)
    return np.concatenate(
        [fpmath.expit_array(GAIN * (v - OFFSET)), fpmath.expit_array(GAIN * (-v - OFFSET))], axis=-1
    )


def receptive_field(F_row: np.ndarray) -> np.ndarray:
    """Receptive field of one neuron as shown in the paper: ``F_on - F_off``.

    Parameters
    ----------
    F_row : np.ndarray
        Weights of one neuron onto the 128 inputs (on channel first).

    Returns
    -------
    np.ndarray
        Array of shape ``(8, 8)``.
    """
    F_row = np.asarray(F_row)
    return (F_row[:N_PIXELS] - F_row[N_PIXELS:]).reshape(PATCH, PATCH)


def whiten(images: np.ndarray, f0_fraction: float = 0.4, variance: float = 0.1) -> np.ndarray:
    """Whiten square images as sparsenet did and scale the set to a mean variance.

    Each image is filtered in the 2-D Fourier domain with
    ``f * exp(-(f / f0)**4)``, where ``f`` is the radial frequency in cycles per
    image and ``f0 = f0_fraction * N``. The ramp flattens the roughly ``1/f``
    amplitude spectrum of natural images, the exponential removes the corners of
    the spectrum. Then the whole set is scaled by one factor so that the mean of the
    images' variances is ``variance`` (sparsenet:
    ``IMAGES = sqrt(0.1) * IMAGES / sqrt(mean(var(IMAGES)))``): faint images stay faint.

    Parameters
    ----------
    images : np.ndarray
        Stack of shape ``(M, N, N)``.
    f0_fraction : float, default 0.4
        Cut-off frequency as a fraction of the image size.
    variance : float, default 0.1
        Mean variance of the whitened images.

    Returns
    -------
    np.ndarray
        Whitened stack, float64, same shape, zero mean.
    """
    images = np.asarray(images, dtype=np.float64)
    n = images.shape[-1]
    if images.shape[-2] != n:
        raise ValueError(f"images must be square, got shape {images.shape[-2:]}")
    fy, fx = np.meshgrid(np.fft.fftfreq(n, 1.0 / n), np.fft.fftfreq(n, 1.0 / n), indexing="ij")
    f = np.sqrt(fx * fx + fy * fy)
    q = f / (f0_fraction * n)
    q2 = q * q
    # fpmath.exp, not np.exp: NumPy's exp rounds differently on CPUs with AVX-512
    kernel = f * fpmath.exp_array(-(q2 * q2))
    white = np.fft.ifft2(np.fft.fft2(images) * kernel).real
    return white * np.sqrt(variance / white.var(axis=(-2, -1)).mean())


def _grey(photo: np.ndarray) -> np.ndarray:
    if photo.ndim == 2:
        return photo
    # the luminance weights of skimage.color.rgb2gray, summed in a fixed order (rgb2gray's
    # matrix product goes to OpenBLAS, whose rounding depends on the CPU)
    r, g, b = photo[..., 0], photo[..., 1], photo[..., 2]
    return (0.2125 * r + 0.7154 * g) + 0.0721 * b


def offline_raw_images(source: str = "skimage", size: int = IMAGE_SIZE) -> np.ndarray:
    """The images of an offline source before whitening, grey, square, ``size`` pixels.

    Parameters
    ----------
    source : {"dead-leaves", "skimage", "textures"}
        See :data:`OFFLINE_SOURCES`. Photographs are centre-cropped and resized.
    size : int, default 512
        Side length of the square output images.

    Returns
    -------
    np.ndarray
        Array of shape ``(n_images, size, size)`` with values in [0, 1].
    """
    if source == "dead-leaves":
        from dbcode.data.dead_leaves import dead_leaves_set

        return np.array(dead_leaves_set(size=size))
    if source not in OFFLINE_SOURCES:
        raise ValueError(
            f"unknown offline source {source!r}; choose one of {list(OFFLINE_SOURCES)}"
        )
    from skimage.transform import resize
    from skimage.util import img_as_float

    images = []
    for name in OFFLINE_PHOTOS if source == "skimage" else TEXTURES:
        grey = _grey(img_as_float(_load_photo(name)))
        h, w = grey.shape
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        square = grey[top : top + side, left : left + side]
        if square.shape != (size, size):
            square = resize(square, (size, size), anti_aliasing=True)
        images.append(square)
    return np.stack(images)


@functools.lru_cache(maxsize=3)
def offline_whitened_images(source: str = DEFAULT_SUBSTITUTE) -> np.ndarray:
    """Whitened images of an offline source, ``(n_images, 512, 512)``, computed once per
    process.

    Returns
    -------
    np.ndarray
        Read-only array; see :func:`whiten` and :func:`offline_raw_images`.
    """
    white = whiten(offline_raw_images(source))
    white.flags.writeable = False
    return white


def load_images_mat(path: str | os.PathLike | None = None) -> np.ndarray:
    """Olshausen's ten whitened images from ``IMAGES.mat``.

    Parameters
    ----------
    path : path-like, optional
        The file, or a directory containing ``IMAGES.mat``; default
        :func:`default_cache_dir`.

    Returns
    -------
    np.ndarray
        Array of shape ``(10, 512, 512)`` (image index first).

    Raises
    ------
    FileNotFoundError
        If the file does not exist; the message says how to get it.
    ValueError
        If the file is not a readable MAT file with an ``IMAGES`` array of shape
        ``(512, 512, n)``, or if a file named ``IMAGES.mat`` (the published name) does
        not have the published checksum (a damaged download).
    """
    from scipy.io import loadmat

    path = Path(path) if path is not None else default_cache_dir()
    if path.is_dir() or path.suffix != ".mat":
        path = path / "IMAGES.mat"
    if not path.is_file():
        raise FileNotFoundError(
            f"IMAGES.mat not found at {path}. To get it, run "
            f"dbcode.data.natural.download_images_mat({str(path.parent)!r}) while "
            f"online (or download {IMAGES_MAT_URL} there yourself, or set "
            f"DBCODE_DATA), or use source='dead-leaves' for the offline substitute."
        )
    redo = f"delete it and run dbcode.data.natural.download_images_mat({str(path.parent)!r})"
    if path.name == "IMAGES.mat" and (md5 := file_md5(path)) != IMAGES_MAT_MD5:
        raise ValueError(
            f"{path} is damaged: its MD5 is {md5}, the published file's is {IMAGES_MAT_MD5}; "
            f"{redo}. (To use images of your own, give the file another name and pass "
            "its path.)"
        )
    try:
        images = loadmat(path)["IMAGES"]
    except Exception as err:  # scipy raises several kinds for a truncated or foreign file
        raise ValueError(
            f"{path} is not a readable MAT file with an IMAGES array "
            f"({type(err).__name__}: {err}); {redo}"
        ) from None
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or images.shape[0] != images.shape[1] or images.shape[0] < PATCH * 2:
        raise ValueError(f"{path}: IMAGES has shape {images.shape}, expected (N, N, n_images)")
    return np.moveaxis(images, -1, 0)


def download_images_mat(cache_dir: Folder = None) -> Path:
    """Download sparsenet's ``IMAGES.mat`` into ``cache_dir`` (default
    :func:`default_cache_dir`), verified against its MD5 checksum, and return its path.

    Needs internet access; a file already present with the right checksum is kept; an
    ``OSError`` says when the download failed or had another checksum.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return fetch([IMAGES_MAT_URL], "IMAGES.mat", IMAGES_MAT_MD5, cache_dir)


def downscale_half(images: np.ndarray) -> np.ndarray:
    """Downscale a stack ``(M, N, N)`` by 0.5 with 2 x 2 block means."""
    m, h, w = images.shape
    return images[:, : h // 2 * 2, : w // 2 * 2].reshape(m, h // 2, 2, w // 2, 2).mean(axis=(2, 4))


def sample_patches(images: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Random 8 x 8 patches of whitened images, flattened.

    Parameters
    ----------
    images : np.ndarray
        Stack of shape ``(M, H, W)``.
    n : int
        Number of patches; image and position are uniform for each.
    rng : np.random.Generator
        Source of randomness.

    Returns
    -------
    np.ndarray
        Array of shape ``(n, 64)`` of whitened values (before the on/off transform).
    """
    m, h, w = images.shape
    which = rng.integers(m, size=n)
    rows = rng.integers(h - PATCH + 1, size=n)
    cols = rng.integers(w - PATCH + 1, size=n)
    offsets = np.arange(PATCH)
    r = rows[:, None, None] + offsets[None, :, None]
    c = cols[:, None, None] + offsets[None, None, :]
    return images[which[:, None, None], r, c].reshape(n, N_PIXELS)


def grid_corners(shape: tuple[int, int, int]) -> np.ndarray:
    """Top-left corners of the authors' patch grid over a stack of half-size images.

    For every offset ``(di, dj)`` in ``0 ... GRID_OFFSETS - 1`` the image, without its
    first :data:`BORDER_START` pixels, is cut into adjacent 8 x 8 tiles starting at
    ``BORDER_START + di`` (rows) and ``BORDER_START + dj`` (columns), and the tiles end
    at the last multiple of 8 below ``side - BORDER_START - offset``, as in the authors'
    ``get_natural_scenes``. For ten 256 x 256 images: 178^2 patches per image,
    316 840 in all.

    Parameters
    ----------
    shape : (M, H, W)

    Returns
    -------
    np.ndarray
        ``(n, 3)`` int64 array of (image, row, column).
    """
    m, h, w = shape

    def starts(side):
        out = []
        for off in range(GRID_OFFSETS):
            first = BORDER_START + off
            end = (side - BORDER_START - off) // PATCH * PATCH  # exclusive
            out.append(np.arange(first, end - PATCH + 1, PATCH))
        return out

    rows, cols = starts(h), starts(w)
    blocks = []
    for r in rows:
        for c in cols:
            rr, cc = np.meshgrid(r, c, indexing="ij")
            blocks.append(np.stack([rr.ravel(), cc.ravel()], axis=1))
    rc = np.concatenate(blocks) if blocks else np.zeros((0, 2), dtype=np.int64)
    if len(rc) == 0:
        raise ValueError(f"images of shape {(h, w)} are too small for the patch grid")
    image = np.repeat(np.arange(m), len(rc))
    return np.column_stack([image, np.tile(rc, (m, 1))]).astype(np.int64)


class PatchPool:
    """The patches of the authors' grid (:func:`grid_corners`) over whitened half-size
    images, as inputs on demand.

    A training run draws every presentation afresh from the pool: ``len(pool)`` is the
    number of patches, ``pool.inputs(indices)`` the on/off inputs of the patches
    ``indices``, ``pool.n_x = 128``. The pool holds only the images and the corners
    (a few MB), not the 3 * 10^5 input vectors.
    """

    def __init__(self, images: np.ndarray):
        self.images = np.asarray(images, dtype=np.float64)
        self.corners = grid_corners(self.images.shape)

    def __len__(self) -> int:
        return len(self.corners)

    @property
    def n_x(self) -> int:
        return 2 * N_PIXELS

    def patches(self, indices) -> np.ndarray:
        """Whitened values of the patches ``indices``, shape ``(n, 64)``."""
        corners = self.corners[np.asarray(indices, dtype=np.int64)]
        offsets = np.arange(PATCH)
        r = corners[:, 1, None, None] + offsets[None, :, None]
        c = corners[:, 2, None, None] + offsets[None, None, :]
        return self.images[corners[:, 0, None, None], r, c].reshape(len(corners), N_PIXELS)

    def inputs(self, indices) -> np.ndarray:
        """On/off inputs (:func:`onoff_transform`) of the patches ``indices``, ``(n, 128)``."""
        return onoff_transform(self.patches(indices))


def input_statistics(x: np.ndarray) -> dict[str, float]:
    """Mean and the fractions of inputs below 0.01 and above 0.9."""
    return {
        "mean": float(x.mean()),
        "frac_below_0.01": float((x < 0.01).mean()),
        "frac_above_0.9": float((x > 0.9).mean()),
    }


def resolve_source(
    source: Source = "auto",
    cache_dir: Folder = None,
    *,
    quiet: bool = True,
    patches: Patches = "fresh",
) -> dict:
    """Which images :func:`load_scenes` reads with these options: Olshausen's
    ``IMAGES.mat`` (with its MD5 checksum) or one of :data:`OFFLINE_SOURCES` (with the
    version of the package that ships or generates it).

    ``source="auto"`` takes ``IMAGES.mat`` if it is in ``cache_dir``, else the
    default substitute ``"dead-leaves"``. Unless ``quiet``, says which source it took
    (see :func:`dbcode.data.say_source`). ``patches`` does not change the source; it is
    accepted so that every loader option can be passed.
    """
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    check_patches(patches)
    return choose_source(
        "natural images",
        source,
        files={"IMAGES.mat": folder / "IMAGES.mat"},
        real="images_mat",
        substitute=DEFAULT_SUBSTITUTE,
        package="numpy",
        alternatives={"skimage": "scikit-image", "textures": "scikit-image"},
        cache_dir=cache_dir,
        quiet=quiet,
    )


def check_patches(patches) -> str:
    """``patches`` if it is ``"fresh"`` or ``"fixed"``, else a ValueError."""
    if patches not in ("fresh", "fixed"):
        raise ValueError(f"patches must be 'fresh' or 'fixed', got {patches!r}")
    return patches


def scene_images(source: Source = "auto", cache_dir: Folder = None) -> tuple[np.ndarray, str]:
    """The whitened, half-size images of a source and their description."""
    source = resolve_source(source, cache_dir, quiet=False)["source"]
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if source == "images_mat":
        whitened = load_images_mat(cache_dir)
        description = f"Olshausen IMAGES.mat ({cache_dir / 'IMAGES.mat'})"
    else:
        whitened = offline_whitened_images(source)
        description = OFFLINE_SOURCES[source] + ", whitened like sparsenet"
        if source == DEFAULT_SUBSTITUTE:
            description += " (offline default)"
    return downscale_half(whitened), description


def load_scenes(
    n_train: int,
    n_test: int,
    seed: int,
    source: Source = "auto",
    cache_dir: Folder = None,
    patches: Patches = "fresh",
) -> Dataset:
    """On/off inputs from 8 x 8 patches of whitened, half-size natural images.

    Parameters
    ----------
    n_train, n_test : int
        Number of training and test patches, drawn independently (uniformly, with
        replacement) from the grid pool of all images (:class:`PatchPool`).
    seed : int
        Seed of ``np.random.default_rng``.
    source : {"auto", "images_mat", "dead-leaves", "skimage", "textures"}, default "auto"
        ``"images_mat"``: Olshausen's ``IMAGES.mat`` from ``cache_dir``. The others:
        :data:`OFFLINE_SOURCES`. ``"auto"``: ``IMAGES.mat`` if present, else
        ``"dead-leaves"``.
    cache_dir : path-like, optional
        Directory with ``IMAGES.mat``; default :func:`default_cache_dir`.
    patches : {"fresh", "fixed"}, default "fresh"
        ``"fresh"``: training draws every presentation afresh from the pool (the
        authors' protocol; :attr:`dbcode.data.Dataset.pool` is set). ``"fixed"``: training cycles
        over the ``n_train`` patches of ``Dataset.train``.

    Returns
    -------
    Dataset
        ``n_x = 128``, ``image_shape = (8, 8)``. ``meta`` holds ``images`` (the
        whitened, downscaled images, float32), ``image_variance`` (their mean
        variance), ``pool_size`` and ``input_statistics`` of the training inputs (see
        :func:`input_statistics`).

    Raises
    ------
    FileNotFoundError
        If ``source="images_mat"`` and the file is missing.
    ValueError
        If ``source`` or ``patches`` is unknown.
    """
    check_patches(patches)
    images, description = scene_images(source, cache_dir)
    pool = PatchPool(images)
    rng = np.random.default_rng(seed)
    train = pool.inputs(rng.integers(len(pool), size=n_train))
    test = pool.inputs(rng.integers(len(pool), size=n_test))
    if patches == "fresh":
        description += f"; fresh patches from a grid of {len(pool)}"
    else:
        description += f"; {n_train} fixed patches"
    return Dataset(
        name="scenes",
        train=train,
        test=test,
        image_shape=(PATCH, PATCH),
        source=description,
        pool=pool if patches == "fresh" else None,
        meta={
            "images": images.astype(np.float32),
            "image_variance": float(images.var(axis=(1, 2)).mean()),
            "pool_size": len(pool),
            "input_statistics": input_statistics(train),
        },
    )
