"""On-disk store of simulation results, keyed by parameters, seed and code version.

Chapters of the book call :func:`cached` with the parameters of an expensive run; the
result is computed once and then loaded from disk until the parameters, the seed or
the simulation code (:func:`~dbcode.run.codeversion.code_version`) changes.

An entry consists of two files in the store's root:

* ``<key>.npz``: the result arrays;
* ``<key>.json``: metrics/meta data, provenance (parameters, seed, code version, git
  commit, creation time, runtime) and a SHA-256 checksum over the arrays and the JSON
  content.

Both files are written to temporary files in the same directory and then moved in
place with ``os.replace``, the JSON file last, so an interrupted write never
leaves an entry that looks complete. An entry whose files cannot be read or whose
checksum does not match is reported with a warning, deleted and treated as a miss.

Environment variables
---------------------
``DBCODE_CACHE``
    Root directory of the default store.
``DBCODE_NO_CACHE=1``
    :func:`cached` always computes and stores nothing.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import platform
import re
import socket
import tempfile
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

from dbcode.core import repo as repo_module
from dbcode.core.jsonutil import to_json
from dbcode.run.codeversion import code_version

__all__ = [
    "Result",
    "ResultStore",
    "cached",
    "caching_disabled",
    "default_root",
    "key_for",
]

KIND_PATTERN = re.compile(r"^[A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)*$")
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+-[0-9a-f]{24}$")
SNAPSHOT_SUFFIX = ".snapshot.npz"


def _canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def key_for(kind: str, params: Any, seed: Any) -> str:
    """Stable key of one computation.

    Parameters
    ----------
    kind : str
        Name of the computation, e.g. ``"bars-run"``; letters, digits, ``_``, ``.``
        and single ``-`` between them. It prefixes the key.
    params : dict or dataclass
        Parameters; see :func:`dbcode.core.jsonutil.to_json` for what may appear in them.
    seed : int or sequence of int or None
        Random seed.

    Returns
    -------
    str
        ``"<kind>-<24 hex digits>"``, a hash of kind, parameters, seed and
        :func:`~dbcode.run.codeversion.code_version`.
    """
    if not KIND_PATTERN.match(kind):
        raise ValueError(f"kind must match {KIND_PATTERN.pattern}, got {kind!r}")
    payload = {
        "kind": kind,
        "params": to_json(params, arrays="hash", tag_dataclasses=True),
        "seed": to_json(seed, arrays="hash", tag_dataclasses=True),
    }
    payload["code_version"] = code_version()
    return f"{kind}-{hashlib.sha256(_canonical_json(payload).encode()).hexdigest()[:24]}"


def default_root() -> Path:
    """Root of the default store.

    Returns
    -------
    Path
        ``$DBCODE_CACHE`` if set; else ``<repo>/.cache/dbcode`` when ``dbcode``
        runs from a source checkout; else ``~/.cache/dbcode``.
    """
    if env := os.environ.get("DBCODE_CACHE"):
        return Path(env).expanduser()
    repo = repo_module.PACKAGE_DIR.parent
    if (repo / ".git").exists():
        return repo / ".cache" / "dbcode"
    return Path("~/.cache/dbcode").expanduser()


def caching_disabled() -> bool:
    """True if the environment variable ``DBCODE_NO_CACHE`` is set to ``1``."""
    return os.environ.get("DBCODE_NO_CACHE", "") == "1"


@dataclasses.dataclass
class Result:
    """One stored or freshly computed result.

    Attributes
    ----------
    arrays : dict of str to np.ndarray
        Result arrays.
    meta : dict
        JSON-serialisable metrics and meta data.
    provenance : dict
        ``key``, ``kind``, ``params``, ``seed``, ``code_version``, ``git_commit``,
        ``created`` (ISO 8601, UTC), ``runtime_s``, ``python``, ``numpy``.
    from_cache : bool
        True if the result was loaded from the store.
    """

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]
    provenance: dict[str, Any]
    from_cache: bool = False


def _checksum(arrays: Mapping[str, np.ndarray], meta: Any, provenance: Any) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        data = np.ascontiguousarray(arrays[name])
        header = _canonical_json([name, data.dtype.str, list(data.shape)])
        digest.update(header.encode())
        digest.update(data.tobytes())
    digest.update(_canonical_json({"meta": meta, "provenance": provenance}).encode())
    return digest.hexdigest()


class CorruptEntry(Exception):
    """An entry whose files are unreadable or fail the checksum."""


class ResultStore:
    """A directory of cached results.

    Parameters
    ----------
    root : path-like, optional
        Directory of the store (created on the first write); default
        :func:`default_root`.
    """

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    def __repr__(self) -> str:
        return f"ResultStore({str(self.root)!r})"

    def _paths(self, key: str) -> tuple[Path, Path]:
        if not KEY_PATTERN.match(key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / f"{key}.npz", self.root / f"{key}.json"

    def snapshot_path(self, key: str) -> Path:
        """Where the training snapshot of the entry ``key`` lives while it is computed
        (see :mod:`dbcode.model.checkpoints`): a computation killed part-way resumes
        from it."""
        return self.root / f"{self._paths(key)[0].stem}{SNAPSHOT_SUFFIX}"

    def __contains__(self, key: str) -> bool:
        """Whether an entry exists (without verifying it; :meth:`get` does)."""
        return self._paths(key)[1].is_file()

    def keys(self) -> list[str]:
        """Keys of all entries, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.stem for p in self.root.glob("*.json") if KEY_PATTERN.match(p.stem))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def get(self, key: str) -> Result | None:
        """Load and verify an entry.

        Parameters
        ----------
        key : str
            Key from :func:`key_for`.

        Returns
        -------
        Result or None
            The entry with ``from_cache=True``, or None if there is none. A corrupt
            entry is deleted with a warning and also gives None.
        """
        npz, sidecar = self._paths(key)
        if not sidecar.is_file():
            return None
        try:
            return self._read(npz, sidecar)
        except CorruptEntry as err:
            warnings.warn(
                f"cache entry {key} in {self.root} is corrupt ({err}); deleted, will recompute",
                RuntimeWarning,
                stacklevel=2,
            )
            self.delete(key)
            return None

    @staticmethod
    def _read(npz: Path, sidecar: Path) -> Result:
        try:
            record = json.loads(sidecar.read_text())
            with np.load(npz, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
            meta, provenance, checksum = record["meta"], record["provenance"], record["checksum"]
        except (
            OSError,
            ValueError,
            EOFError,
            KeyError,
            TypeError,
            zipfile.BadZipFile,
            zlib.error,
        ) as err:
            raise CorruptEntry(f"{type(err).__name__}: {err}") from err
        if _checksum(arrays, meta, provenance) != checksum:
            raise CorruptEntry("checksum mismatch")
        return Result(arrays=arrays, meta=meta, provenance=provenance, from_cache=True)

    def put(
        self,
        key: str,
        arrays: Mapping[str, np.ndarray],
        meta: Mapping[str, Any],
        provenance: Mapping[str, Any],
    ) -> Result:
        """Store an entry atomically, replacing any entry with the same key.

        Parameters
        ----------
        key : str
            Key from :func:`key_for`.
        arrays : mapping of str to array-like
            Numeric arrays (object arrays are refused).
        meta, provenance : mapping
            JSON-serialisable after :func:`dbcode.core.jsonutil.to_json` (arrays in them become
            lists).

        Returns
        -------
        Result
            The entry as it will be loaded later (JSON-normalised meta data),
            ``from_cache=False``.
        """
        npz, sidecar = self._paths(key)
        arrays = {str(name): np.asarray(value) for name, value in arrays.items()}
        for name, value in arrays.items():
            if value.dtype.hasobject:
                raise TypeError(f"array {name!r} has dtype object; only numeric arrays are stored")
        meta = to_json(meta, tag_dataclasses=True)
        provenance = to_json(provenance, tag_dataclasses=True)
        record = {"meta": meta, "provenance": provenance}
        record["checksum"] = _checksum(arrays, meta, provenance)

        self.root.mkdir(parents=True, exist_ok=True)
        with _temporary(self.root, npz.name) as (npz_file, npz_tmp):
            with _temporary(self.root, sidecar.name) as (json_file, json_tmp):
                np.savez_compressed(npz_file, **arrays)  # recorded spikes compress ~10x
                json_file.write(
                    json.dumps(record, indent=1, sort_keys=True, allow_nan=False).encode()
                )
                for handle in (npz_file, json_file):
                    handle.flush()
                    os.fsync(handle.fileno())
                    handle.close()
                os.replace(npz_tmp, npz)
                os.replace(json_tmp, sidecar)
        return Result(arrays=arrays, meta=meta, provenance=provenance, from_cache=False)

    def delete(self, key: str) -> None:
        """Remove an entry if it exists."""
        for path in self._paths(key):
            path.unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove all entries, claims, training snapshots and left-over temporary files
        (nothing else)."""
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            stem, suffix = path.stem, path.suffix
            is_entry = suffix in (".npz", ".json", ".claim") and KEY_PATTERN.match(stem)
            is_temp = path.name.startswith(".") and path.name.endswith(".tmp")
            is_snapshot = path.name.endswith(SNAPSHOT_SUFFIX) and KEY_PATTERN.match(
                path.name[: -len(SNAPSHOT_SUFFIX)]
            )
            if path.is_file() and (is_entry or is_temp or is_snapshot):
                path.unlink()

    @contextmanager
    def claim(
        self, key: str, *, poll_s: float = 1.0, notify: Callable[[str], None] | None = None
    ) -> Iterator[None]:
        """Hold the claim on computing ``key``: one process at a time computes an entry.

        The claim is a file ``<key>.claim`` created atomically (``O_EXCL``) with the
        claimant's host, process id and start time. While another live process holds
        it, this waits (polling every ``poll_s`` seconds, telling ``notify`` once who
        computes it); the caller then finds the entry in the store instead of
        computing it again. A claim left by a process that died (same host, process
        gone) or older than ``STALE_CLAIM_S`` is taken over.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{self._paths(key)[1].stem}.claim"
        told = False
        while True:
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _read_claim(path)
                if holder is None or _claim_is_stale(holder):
                    path.unlink(missing_ok=True)
                    continue
                if not told and notify is not None:
                    notify(
                        f"{key} is being computed by process {holder.get('pid')} on "
                        f"{holder.get('host')} since {holder.get('started')}; waiting for it"
                    )
                    told = True
                time.sleep(poll_s)
                continue
            with os.fdopen(fd, "w") as fh:
                json.dump(
                    {
                        "host": socket.gethostname(),
                        "pid": os.getpid(),
                        "started": _now_iso(),
                        "time": time.time(),
                    },
                    fh,
                )
            break
        try:
            yield
        finally:
            path.unlink(missing_ok=True)


STALE_CLAIM_S = 24 * 3600.0
"""Age after which a claim from another host is taken over (a paper-scale network takes
at most a few hours)."""


def _read_claim(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}  # released meanwhile: try again
    except (OSError, ValueError):
        # being written this instant, or garbage: garbage older than a minute is stale
        try:
            return None if time.time() - path.stat().st_mtime > 60 else {}
        except FileNotFoundError:
            return {}


def _claim_is_stale(holder: dict) -> bool:
    if not holder:
        return False
    if holder.get("host") == socket.gethostname():
        try:
            os.kill(int(holder["pid"]), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, KeyError, ValueError, TypeError):
            return False
        return False
    return time.time() - float(holder.get("time", 0.0)) > STALE_CLAIM_S


def _now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


@contextmanager
def _temporary(directory: Path, name: str) -> Iterator[tuple[IO[bytes], Path]]:
    """A temporary file next to its final location; removed unless moved away."""
    handle = tempfile.NamedTemporaryFile(
        dir=directory, prefix=f".{name}.", suffix=".tmp", delete=False
    )
    tmp = Path(handle.name)
    try:
        yield handle, tmp
    finally:
        handle.close()
        tmp.unlink(missing_ok=True)


def cached(
    kind: str,
    params: Any,
    seed: Any,
    compute: Callable[[], tuple[Mapping[str, np.ndarray], Mapping[str, Any]]],
    store: ResultStore | None = None,
    force: bool = False,
) -> Result:
    """Return the stored result of a computation, computing and storing it if needed.

    Parameters
    ----------
    kind, params, seed
        Identify the computation (see :func:`key_for`).
    compute : callable
        Called without arguments on a miss; returns ``(arrays, meta)``.
    store : ResultStore, optional
        Default: ``ResultStore()`` at :func:`default_root`.
    force : bool, default False
        Recompute and overwrite even if an entry exists.

    Returns
    -------
    Result
        ``from_cache`` tells whether ``compute`` was skipped. With
        ``DBCODE_NO_CACHE=1`` nothing is read or written.
    """
    key = key_for(kind, params, seed)
    if caching_disabled():
        return _compute(kind, params, seed, key, compute, None)
    store = store if store is not None else ResultStore()
    if not force and (hit := store.get(key)) is not None:
        return hit
    with store.claim(key, notify=lambda message: print(message, flush=True)):
        # another process may have computed it while this one waited for the claim
        if not force and (hit := store.get(key)) is not None:
            return hit
        return _compute(kind, params, seed, key, compute, store)


def _compute(kind, params, seed, key, compute, store: ResultStore | None) -> Result:
    start = time.perf_counter()
    arrays, meta = compute()
    runtime = time.perf_counter() - start
    provenance = {
        "key": key,
        "kind": kind,
        "params": to_json(params, arrays="hash", tag_dataclasses=True),
        "seed": to_json(seed, arrays="hash", tag_dataclasses=True),
        "code_version": code_version(),
        "git_commit": repo_module.git_commit(),
        "created": _now_iso(),
        "runtime_s": runtime,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    if store is not None:
        return store.put(key, arrays, meta, provenance)
    return Result(
        arrays={name: np.asarray(value) for name, value in arrays.items()},
        meta=to_json(meta, tag_dataclasses=True),
        provenance=provenance,
        from_cache=False,
    )
