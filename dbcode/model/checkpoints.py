"""Snapshots of a training run, so that a run killed part-way resumes where it stopped.

A paper-scale network can take longer than the session or allocation that runs it.
:func:`dbcode.model.simulate.train` given a ``checkpoint`` path writes a snapshot after
every test evaluation (the network state, the noise generator's state, the last input,
the losses so far) and, started again with the same path, parameters, seed and data,
continues from the last snapshot. Because the run's bits do not depend on how training
is cut into kernel calls, the resumed run gives the same bits as one that was never
interrupted. A snapshot of another run (other parameters, seed or data) is ignored.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["load_checkpoint", "run_identity", "save_checkpoint"]


def run_identity(*parts) -> str:
    """A digest naming a run by what determines its bits (``repr`` of each part; arrays
    by their bytes)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(repr((part.dtype.str, part.shape)).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def save_checkpoint(path, identity: str, arrays: dict) -> None:
    """Write ``arrays`` (and the run's ``identity``) to ``path`` atomically: a reader
    sees the previous snapshot or this one, never a part of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez_compressed(handle, identity=np.array(identity), **arrays)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def load_checkpoint(path, identity: str) -> dict | None:
    """The snapshot at ``path`` if it belongs to the run ``identity``, else ``None`` (no
    file; another run's snapshot; an unreadable file, with a warning)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            if str(npz["identity"]) != identity:
                return None
            return {name: npz[name] for name in npz.files if name != "identity"}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        warnings.warn(
            f"ignoring the unreadable training snapshot {path} ({error}); training starts "
            "from the beginning",
            stacklevel=2,
        )
        return None
