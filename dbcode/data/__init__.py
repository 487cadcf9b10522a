"""Input data sets of Mikulasch, Rudelt & Priesemann (2020).

The paper trains its networks on three kinds of input (Methods, "Data sets"):

* ``"bars"``: the correlated-bars task, a variant of Földiák's bars
  (:mod:`dbcode.data.bars`);
* ``"mnist"``: handwritten digits 0, 1 and 2 scaled to 16 x 16 pixels
  (:mod:`dbcode.data.mnist`);
* ``"scenes"``: on/off-transformed 8 x 8 patches of whitened natural images
  (:mod:`dbcode.data.natural`).

Every loader returns a :class:`Dataset` and draws all random numbers from
``np.random.default_rng(seed)``, so the same seed gives identical arrays.

Files that have to be downloaded (the full MNIST set, Olshausen's ``IMAGES.mat``)
are looked for in ``$DBCODE_DATA/<name>``, by default ``~/.cache/dbcode/<name>``.
Nothing is downloaded unless a ``download_*`` function is called explicitly; without
those files the loaders fall back to data that ship with installed packages.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DATASETS",
    "DataSourceWarning",
    "Dataset",
    "data_dir",
    "data_options",
    "file_md5",
    "load_dataset",
    "package_version",
    "resolve_source",
    "say_source",
]

log = logging.getLogger("dbcode.data")

Folder = str | os.PathLike | None
"""A folder given by the user (``None``: the default one)."""


class DataSourceWarning(UserWarning):
    """A loader asked for ``source="auto"`` in a folder of the user's choosing that does
    not exist, and uses the offline substitute."""


DATASETS: dict[str, tuple[str, str]] = {
    "bars": ("bars", "load_bars"),
    "mnist": ("mnist", "load_mnist"),
    "scenes": ("natural", "load_scenes"),
}
"""The data sets by name: the module of :mod:`dbcode.data` and the loader function."""


@dataclass
class Dataset:
    """A training and a test set of flattened, non-negative input vectors.

    Attributes
    ----------
    name : str
        Data set name, one of :data:`DATASETS`.
    train, test : np.ndarray
        Inputs of shape ``(n_train, n_x)`` and ``(n_test, n_x)``, float64.
    image_shape : tuple of int
        Shape of one image for display. For natural scenes this is the patch shape
        ``(8, 8)`` while ``n_x = 128`` holds the on and the off channel.
    source : str
        Human-readable provenance of the data.
    meta : dict
        Loader-specific extras (labels, bar identities, whitened images, ...).
    pool : object, optional
        A pool that training draws every presentation from afresh (``len(pool)``
        inputs, ``pool.inputs(indices)``, ``pool.n_x``), e.g.
        :class:`dbcode.data.natural.PatchPool`; ``None``: training cycles over
        ``train``.
    """

    name: str
    train: np.ndarray
    test: np.ndarray
    image_shape: tuple[int, ...]
    source: str
    meta: dict[str, Any] = field(default_factory=dict)
    pool: Any = None

    @property
    def training_inputs(self):
        """What training draws its presentations from: :attr:`pool`, else :attr:`train`."""
        return self.train if self.pool is None else self.pool

    @property
    def n_x(self) -> int:
        """Number of input channels."""
        return self.train.shape[1]


def data_dir(name: str) -> Path:
    """Directory in which downloaded files of data set ``name`` are kept.

    Parameters
    ----------
    name : str
        Sub-directory name, e.g. ``"mnist"`` or ``"sparsenet"``.

    Returns
    -------
    Path
        ``$DBCODE_DATA/<name>`` if the environment variable is set, else
        ``~/.cache/dbcode/<name>``.
    """
    root = os.environ.get("DBCODE_DATA", "~/.cache/dbcode")
    return Path(root).expanduser() / name


def file_md5(path: str | os.PathLike) -> str:
    """MD5 of a file's bytes (the checksum the data sets publish), computed once per
    file, size and modification time."""
    path = Path(path)
    stat = path.stat()
    return _md5(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _md5(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_version(name: str) -> str:
    """``"<name>==<version>"`` of an installed distribution (``"<name> missing"``)."""
    try:
        return f"{name}=={importlib.metadata.version(name)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{name} missing"


def say_source(
    what: str, resolved: dict, fallback_from: Path | None = None, explicit: bool = False
) -> dict:
    """Tell which source a loader uses: logged every time (``dbcode.data`` logger, shown
    by the command line), and a :class:`DataSourceWarning` when ``source="auto"`` fell
    back to the substitute because a folder the user named (argument or
    ``DBCODE_DATA``) does not exist: most likely a misspelled path. Returns
    ``resolved``."""
    log.info("%s: %s", what, ", ".join(f"{k}={v}" for k, v in resolved.items()))
    if fallback_from is not None and explicit and not fallback_from.parent.is_dir():
        warnings.warn(
            f"{what}: the folder {fallback_from.parent} does not exist (looked for "
            f"{fallback_from.name} there); "
            f"using the offline substitute {resolved['source']!r} instead. Check the path, "
            "or pass the substitute's source name to use it without this warning.",
            DataSourceWarning,
            stacklevel=3,
        )
    return resolved


def choose_source(
    what: str,
    source: str,
    *,
    files: dict[str, Path],
    real: str,
    substitute: str,
    package: str,
    cache_dir,
    quiet: bool,
    alternatives: dict[str, str] | None = None,
) -> dict:
    """The source a loader reads: the published files (``real``) or the offline data a
    package ships or generates (``substitute``, from ``package``), as
    ``{"source": ...}`` with the MD5 of every file read or the package's version.

    ``source="auto"`` takes ``real`` when every one of ``files`` (name -> path) exists,
    else ``substitute``. ``alternatives`` (name -> package) are further offline sources
    a user may name. Unless ``quiet``, says which source it took (:func:`say_source`);
    ``cache_dir`` is the folder the user gave (``None``: the default).
    """
    offline = {substitute: package, **(alternatives or {})}
    if source != "auto" and source != real and source not in offline:
        names = ", ".join(repr(n) for n in ("auto", real, *offline))
        raise ValueError(f"source must be one of {names}, got {source!r}")
    missing = [path for path in files.values() if not path.is_file()]
    fell_back = source == "auto" and bool(missing)
    if source == "auto":
        source = substitute if missing else real
    if source == real:
        resolved = {
            "source": real,
            "folder": str(next(iter(files.values())).parent),
            "md5": {name: file_md5(p) for name, p in files.items() if p.is_file()},
        }
    else:
        resolved = {"source": source, "package": package_version(offline[source])}
    if quiet:
        return resolved
    explicit = cache_dir is not None or "DBCODE_DATA" in os.environ
    fallback = missing[0] if fell_back else None
    return say_source(what, resolved, fallback, explicit)


def resolve_source(name: str, **options: Any) -> dict:
    """Where the inputs of data set ``name`` come from with these loader options, as
    the loader would resolve them now: ``{"source": ...}`` plus the checksum of the
    files read or the version of the package that ships the data.

    Part of every cached network's key, so that a network trained on the substitute is
    not returned once the real data are there (or after the files changed).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; valid names are {sorted(DATASETS)}")
    module = importlib.import_module(f"{__name__}.{DATASETS[name][0]}")
    return module.resolve_source(**options)


def data_options(name: str) -> list[str]:
    """The options the loader of data set ``name`` takes besides sizes and seed."""
    import inspect

    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; valid names are {sorted(DATASETS)}")
    module, loader = DATASETS[name]
    signature = inspect.signature(getattr(importlib.import_module(f"{__name__}.{module}"), loader))
    return [p for p in signature.parameters if p not in ("n_train", "n_test", "seed")]


def load_dataset(name: str, *, n_train: int, n_test: int, seed: int, **kw: Any) -> Dataset:
    """Load one of the paper's data sets by name.

    Parameters
    ----------
    name : {"bars", "mnist", "scenes"}
        Which data set.
    n_train, n_test : int
        Number of training and test inputs.
    seed : int
        Seed of the random generator that draws (or selects) the inputs.
    **kw
        Passed on to :func:`~dbcode.data.bars.load_bars`,
        :func:`~dbcode.data.mnist.load_mnist` or
        :func:`~dbcode.data.natural.load_scenes`.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        If ``name`` is not a known data set.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; valid names are {sorted(DATASETS)}")
    module, loader = DATASETS[name]
    load = getattr(importlib.import_module(f"{__name__}.{module}"), loader)
    return load(n_train=n_train, n_test=n_test, seed=seed, **kw)
