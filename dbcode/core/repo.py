"""The source checkout the package lives in: where it is, its git state, file locks."""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import tempfile
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The ``dbcode`` package folder."""


def repo_root() -> Path | None:
    """The repository checkout that contains this package, or ``None``.

    A folder counts as the repository when it holds ``_toc.yml`` and ``pyproject.toml``
    next to the ``dbcode`` package folder (true for ``pip install -e .``).
    """
    root = PACKAGE_DIR.parent
    if (root / "_toc.yml").is_file() and (root / "pyproject.toml").is_file():
        return root
    return None


def run_git(args: list[str], cwd: Path) -> subprocess.CompletedProcess | None:
    """``git ARGS`` in ``cwd`` (text output, 10 s timeout); ``None`` if git cannot run."""
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None


def git_state(root: Path | None = None) -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the repository, or ``None`` outside git.

    ``dirty`` ignores changes under ``figures/`` (which a build rewrites).
    """
    root = root if root is not None else repo_root()
    if root is None:
        return None
    sha = run_git(["rev-parse", "HEAD"], root)
    status = run_git(
        ["status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)figures"], root
    )
    if sha is None or status is None or sha.returncode or status.returncode:
        return None
    return {"commit": sha.stdout.strip(), "dirty": bool(status.stdout.strip())}


def git_commit(root: Path | None = None) -> str | None:
    """The commit of :func:`git_state`, or ``None`` outside git."""
    state = git_state(root)
    return state["commit"] if state else None


@contextlib.contextmanager
def locked(path: Path):
    """Exclusive lock for updating ``path``, so concurrent writers do not lose entries.

    The lock file lives in the temporary folder, not next to ``path``.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    key = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"dbcode-manifest-{key}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
