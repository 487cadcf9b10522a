"""Progress bars for long runs: shown when interactive, silent otherwise or when asked."""

from __future__ import annotations

import contextlib
import os
import sys


def progress_enabled(enabled: bool | None = None) -> bool:
    """Whether to show progress: an explicit ``enabled`` wins, then the environment
    variable ``DBCODE_PROGRESS`` (``0``/``1``), then "is this an interactive session"
    (a terminal, or a Jupyter kernel)."""
    if enabled is not None:
        return enabled
    env = os.environ.get("DBCODE_PROGRESS")
    if env is not None:
        return env not in ("0", "", "false", "False")
    return sys.stderr.isatty() or "ipykernel" in sys.modules


@contextlib.contextmanager
def progress_bar(
    total: int, desc: str, enabled: bool | None = None, unit: str = "img", initial: int = 0
):
    """A tqdm bar (``tqdm.auto``: a widget in Jupyter) or a silent stand-in.

    ``initial`` items count as done before the bar starts, so they add to its position
    but not to its rate and remaining time.
    """
    if not progress_enabled(enabled):
        yield _Silent()
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=desc, unit=unit, leave=False, initial=initial) as bar:
        yield bar


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, *args, **kwargs) -> None:
        pass

    def set_postfix_str(self, *args, **kwargs) -> None:
        pass
