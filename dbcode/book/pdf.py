"""The whole book as one PDF, built offline: Sphinx's single-page HTML of the staged book,
printed by headless Chromium (the browser the tests use) once MathJax has typeset it.

The PDF lands next to the HTML book (``_build/html/book.pdf``), where the introduction
links to it. Without Chromium the step is skipped with a message (and fails in CI, which
installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from dbcode.book.browser import CHROMIUM_ARGS, block_network, find_chromium, in_ci

__all__ = ["PDF_NAME", "PdfError", "build_pdf", "print_pdf"]

PDF_NAME = "book.pdf"
"""File name of the PDF inside the HTML folder."""

_MATHJAX_DONE = """async () => {
    if (!document.querySelector('script[src*="mathjax"]')) return null;
    for (let i = 0; i < 400 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
        await new Promise(r => setTimeout(r, 50));
    if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return false;
    await MathJax.startup.promise;
    return true;
}"""


class PdfError(RuntimeError):
    """The single-page build or the printing failed."""


def _single_page(stage: Path, output_root: Path) -> Path:
    cmd = [
        sys.executable,
        "-c",
        "from jupyter_book.cli.main import main; main()",
        "build",
        str(stage),
        "--path-output",
        str(output_root),
        "--builder",
        "singlehtml",
        "-q",
    ]
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL)
    index = output_root / "_build" / "singlehtml" / "index.html"
    if proc.returncode != 0 or not index.is_file():
        raise PdfError(f"the single-page build failed (exit {proc.returncode})")
    # index.html only redirects to the root page, which holds the whole book. That page
    # (book/intro.html) links its scripts, styles and images relative to the folder
    # root, so it is printed from a copy there.
    target = re.search(r"url=([^\"']+)", index.read_text(encoding="utf-8"))
    page = index.parent / target.group(1) if target else index
    if not page.is_file():
        raise PdfError(f"the single-page build has no {page}")
    whole = index.parent / "whole-book.html"
    shutil.copyfile(page, whole)
    return whole


def print_pdf(page: Path, target: Path, chromium: str, timeout_ms: int = 120_000) -> Path:
    """Print the HTML file ``page`` to ``target`` (A4, backgrounds, network blocked)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            block_network(context)
            tab = context.new_page()
            tab.set_default_timeout(timeout_ms)
            tab.goto(Path(page).resolve().as_uri(), wait_until="load")
            # False when MathJax did not start (the browser test checks the pages'
            # maths); the PDF is printed all the same
            tab.evaluate(_MATHJAX_DONE)
            tab.emulate_media(media="print")
            tmp = target.with_suffix(".tmp.pdf")
            tab.pdf(
                path=str(tmp),
                format="A4",
                print_background=True,
                margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"},
            )
            os.replace(tmp, target)
        finally:
            browser.close()
    return target


def build_pdf(stage: Path, output_root: Path, html_dir: Path, *, log=print) -> Path | None:
    """Build the single-page HTML of ``stage`` and print it to ``html_dir/book.pdf``.

    Returns the PDF's path, or ``None`` when Chromium is missing outside CI.

    Raises
    ------
    PdfError
        The build or the printing failed, or Chromium is missing in CI (``CI`` set).
    """
    chromium = find_chromium()
    if chromium is None:
        message = "chromium is not installed (Debian: apt-get install chromium): no PDF"
        if in_ci():
            raise PdfError(message)
        log(f"  {'pdf':<16} {'-':>8}  skipped: {message}")
        return None
    page = _single_page(stage, output_root)
    return print_pdf(page, html_dir / PDF_NAME, chromium)
