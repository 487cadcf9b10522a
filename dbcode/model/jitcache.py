"""Where numba keeps the compiled kernels.

numba's own cache (``cache=True``) is invalidated only when the source file of the
cached function changes, not when a function it calls from another file does: after an
edit of :mod:`dbcode.model.fpmath`, the kernels of :mod:`dbcode.model.kernels` would
still be loaded as compiled against the old arithmetic, and give other numbers. So the
cache lives in a directory named by a digest of every source file of this package, the
numba version and the compilation target; any edit starts a new, empty cache.

A ``NUMBA_CACHE_DIR`` set by the user is left alone.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba

PACKAGE_DIR = Path(__file__).resolve().parent
TARGET_VARIABLES = ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES", "NUMBA_OPT")


def source_digest() -> str:
    """16 hexadecimal characters of a hash of this package's sources, the numba version
    and the compilation target chosen by the environment."""
    digest = hashlib.sha256(numba.__version__.encode())
    for name in TARGET_VARIABLES:
        digest.update(f"{name}={os.environ.get(name, '')}\n".encode())
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/dbcode/numba`` (``~/.cache/dbcode/numba`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dbcode" / "numba"


def configure() -> Path | None:
    """Point numba's cache at ``cache_root()/<source_digest()>`` unless the user set
    ``NUMBA_CACHE_DIR``. Must run before the first ``@njit(cache=True)`` decorator of
    the package (``dbcode.model`` calls it on import). Returns the directory used, or
    None when the user's setting stands."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    directory = cache_root() / source_digest()
    numba.config.CACHE_DIR = str(directory)
    return directory
