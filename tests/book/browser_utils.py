"""Helpers of ``tests/book/test_browser.py``: the built pages, the browser, what a page shows.

The browser is the system's Chromium (Debian package ``chromium``) driven by Playwright;
Playwright's own browser download is never used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import yaml

from dbcode.book import pipeline
from dbcode.book.browser import (  # noqa: F401  (re-exported for the tests)
    CHROMIUM_ARGS,
    LOCAL_SCHEMES,
    find_chromium,
    in_ci,
)

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / pipeline.HTML
SCREENSHOTS = ROOT / "_build" / "screenshots"

VIEWPORT = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class BookPage:
    """One page of ``_toc.yml`` and its built HTML file."""

    chapter: pipeline.Chapter

    @property
    def name(self) -> str:
        return self.chapter.name

    @property
    def html(self) -> Path:
        return HTML / f"{self.chapter.entry}.html"

    @property
    def url(self) -> str:
        return self.html.as_uri()


def book_pages(root: Path = ROOT) -> list[BookPage]:
    """Every file listed in ``_toc.yml``, in reading order."""
    return [BookPage(chapter) for chapter in pipeline.collect_chapters(root)]


@dataclass(frozen=True)
class LaunchSettings:
    """Repository and Binder settings of ``_config.yml``."""

    repository_url: str
    branch: str
    binderhub_url: str

    @property
    def binder_prefix(self) -> str:
        """Start of every Binder link, e.g.
        ``https://mybinder.org/v2/gh/<owner>/<repo>/<branch>``."""
        slug = urlparse(self.repository_url).path.strip("/")
        return f"{self.binderhub_url.rstrip('/')}/v2/gh/{slug}/{self.branch}"


def launch_settings(root: Path = ROOT) -> LaunchSettings:
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return LaunchSettings(
        repository_url=config["repository"]["url"].rstrip("/"),
        branch=config["repository"].get("branch", "main"),
        binderhub_url=config["launch_buttons"]["binderhub_url"],
    )


# Resolves when MathJax has typeset the page (MathJax 3 loads deferred): true, false if it
# never started, null on pages without math (Sphinx loads MathJax only where there is math).
WAIT_FOR_MATHJAX = """async () => {
    if (!document.querySelector('script[src*="mathjax"]')) return null;
    for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
        await new Promise(r => setTimeout(r, 50));
    if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return false;
    await MathJax.startup.promise;
    return true;
}"""

# Resolves when every image finished loading (successfully or not).
WAIT_FOR_IMAGES = """() => Promise.all([...document.images].map(img => img.complete ? null :
    new Promise(resolve => { img.addEventListener('load', resolve);
                             img.addEventListener('error', resolve); })))"""

# True when every embedded widget view has been rendered by the widget manager, which
# inserts a `.widget-subarea` before each view's <script> tag.
WIDGETS_RENDERED = """() => [...document.querySelectorAll(
        'script[type="application/vnd.jupyter.widget-view+json"]')]
    .every(s => s.previousElementSibling
                && s.previousElementSibling.classList.contains('widget-subarea')
                && s.previousElementSibling.childElementCount > 0)"""

# What a reader sees: math, images, widgets, cell errors, launch links.
PAGE_REPORT = r"""() => {
    const article = document.querySelector('article') || document.body;
    const visible = el => el.checkVisibility ? el.checkVisibility() : el.offsetParent !== null;

    const math = [...document.querySelectorAll('.math')];
    const unrendered = math.filter(el => !el.querySelector('mjx-container'))
                           .map(el => el.textContent.trim().slice(0, 80));

    const prose = [];
    const skip = 'pre, code, script, style, textarea, mjx-container, .cell_input, .highlight';
    const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
    const tex = /\$\$|\\begin\b|\\end\{|\\\(|\\\)|\\\[|\\\]|\\[A-Za-z]{2,}/;
    while (walker.nextNode()) {
        const node = walker.currentNode, el = node.parentElement;
        if (!el || el.closest(skip) || !visible(el)) continue;
        if (tex.test(node.textContent)) prose.push(node.textContent.trim().slice(0, 120));
    }

    const views = [...document.querySelectorAll(
        'script[type="application/vnd.jupyter.widget-view+json"]')];
    const widgetAreas = views.map(s => s.previousElementSibling)
        .filter(el => el && el.classList.contains('widget-subarea'));

    const outputs = [...document.querySelectorAll('.cell_output')];
    return {
        mathCount: math.length,
        mjxCount: document.querySelectorAll('mjx-container').length,
        unrenderedMath: unrendered,
        mathErrors: document.querySelectorAll('mjx-merror').length,
        rawTex: prose,
        images: [...document.images].map(img => ({
            src: img.currentSrc || img.src, naturalWidth: img.naturalWidth,
            shownWidth: img.getBoundingClientRect().width,
            inArticle: article.contains(img), visible: visible(img)})),
        widgetViews: views.length,
        renderedWidgets: widgetAreas.filter(el => el.querySelector('.jupyter-widgets')).length,
        emptyDropdowns: widgetAreas.flatMap(el => [...el.querySelectorAll('select')])
            .filter(sel => !sel.multiple && sel.selectedIndex < 0)
            .map(sel => [...sel.options].map(o => o.text).join(' | ')),
        widgetClasses: widgetAreas.map(el => [...new Set([...el.querySelectorAll('[class]')]
            .flatMap(e => [...e.classList]).filter(c => c.startsWith('widget-')))].sort()),
        errorOutputs: document.querySelectorAll(
            '.output.error, .output.traceback, .output.stderr').length,
        tracebacks: outputs.filter(el => /Traceback|Error:/.test(el.innerText)).length,
        overflowingOutputs: [...outputs.flatMap(el => [...el.querySelectorAll('pre')]),
                             ...[...article.querySelectorAll('div.highlight pre')]
                                 .filter(pre => !pre.closest('.cell'))]
            .filter(pre => visible(pre) && pre.scrollWidth > pre.clientWidth + 1)
            .map(pre => pre.innerText.split('\n')[0].slice(0, 80)),
        binderLinks: [...document.querySelectorAll('a[href*="/v2/gh/"]')].map(a => a.href),
        links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    };
}"""
