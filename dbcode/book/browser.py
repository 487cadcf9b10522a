"""The system's headless Chromium, as the book's pipeline and tests use it: found on the
``PATH``, launched without a sandbox or background traffic, and with every request that
is not local refused (the pages must work offline)."""

from __future__ import annotations

import os
import shutil

__all__ = ["CHROMIUM_ARGS", "CHROMIUM_NAMES", "LOCAL_SCHEMES", "find_chromium", "in_ci"]

CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
"""Requests a page may make without a network."""


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set to anything but a false value."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find_chromium() -> str | None:
    """Path of the system's Chromium, or ``None``."""
    for name in CHROMIUM_NAMES:
        if path := shutil.which(name):
            return path
    return None


def block_network(context) -> None:
    """Abort every request of a Playwright browser ``context`` that is not local."""
    context.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith(LOCAL_SCHEMES) else r.abort(),
    )
