"""The built book in a real browser: every page of ``_toc.yml``, opened from disk offline.

Runs after the book was built (``make test`` builds it first; otherwise run
``make book``). Headless Chromium (Debian's ``chromium``) is driven by Playwright with
every request that is not local aborted, so the pages must work without a network.
Each page is checked for what a reader must see: typeset equations, loaded figures,
rendered widgets, no error output, Binder links to the chapter's source in the
repository. A full-page screenshot of each page is written to
``_build/screenshots/<page>.png``.

Without Chromium the tests are skipped on a developer machine and fail in CI
(``CI=true``), where ``.ci/run`` installs it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field

import pytest
from browser_utils import (
    CHROMIUM_ARGS,
    HTML,
    LOCAL_SCHEMES,
    PAGE_REPORT,
    ROOT,
    SCREENSHOTS,
    VIEWPORT,
    WAIT_FOR_IMAGES,
    WAIT_FOR_MATHJAX,
    WIDGETS_RENDERED,
    BookPage,
    book_pages,
    find_chromium,
    in_ci,
    launch_settings,
)

from dbcode.viz.legibility import PAGE_WIDTH_PX

PAGES = book_pages()
# sphinx-thebe writes `const THEBE_JS_URL` into every page twice; thebe is not enabled, so
# the second declaration failing changes nothing a reader sees.
KNOWN_SCRIPT_NOISE = ("Identifier 'THEBE_JS_URL' has already been declared",)
WIDGET_TIMEOUT_MS = 20_000


def uses_widgets(page: BookPage) -> bool:
    return page.chapter.notebook and "ipywidgets" in page.chapter.source.read_text("utf-8")


@dataclass
class Visit:
    """What loading one page produced."""

    report: dict
    aborted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    mathjax_ready: bool | None = None
    seconds: float = 0.0


@pytest.fixture(scope="module")
def browser():
    if not (HTML / "book").is_dir():
        pytest.fail(f"{HTML.relative_to(ROOT)} has no built book: run `make book` first")
    chromium = find_chromium()
    if chromium is None:
        message = "chromium is not installed (Debian: apt-get install chromium)"
        if in_ci():
            pytest.fail(f"{message}; .ci/run installs it before `make test`")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def visit(browser):
    """``visit(page)``: load ``page`` once (network blocked), screenshot it, report."""
    visits: dict[str, Visit] = {}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def load(page: BookPage) -> Visit:
        if page.name in visits:
            return visits[page.name]
        if not page.html.is_file():
            pytest.fail(f"{page.html.relative_to(ROOT)} is missing: run `make book`")
        context = browser.new_context(viewport=VIEWPORT)
        aborted, missing, errors = [], [], []

        def route(request_route):
            url = request_route.request.url
            if url.startswith(LOCAL_SCHEMES):
                request_route.continue_()
            else:
                aborted.append(url)
                request_route.abort()

        context.route("**/*", route)
        tab = context.new_page()
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on(
            "requestfailed",
            lambda req: missing.append(req.url) if req.url.startswith("file:") else None,
        )
        start = time.perf_counter()
        tab.goto(page.url, wait_until="load")
        mathjax_ready = tab.evaluate(WAIT_FOR_MATHJAX)
        tab.evaluate(WAIT_FOR_IMAGES)
        if uses_widgets(page):
            try:
                tab.wait_for_function(WIDGETS_RENDERED, timeout=WIDGET_TIMEOUT_MS)
            except Exception:  # playwright TimeoutError: the assertions say what is missing
                pass
        report = tab.evaluate(PAGE_REPORT)
        tab.screenshot(path=str(SCREENSHOTS / f"{page.name}.png"), full_page=True)
        seconds = time.perf_counter() - start
        context.close()
        visits[page.name] = Visit(
            report=report,
            aborted=aborted,
            missing=missing,
            script_errors=[e for e in errors if not e.startswith(KNOWN_SCRIPT_NOISE)],
            mathjax_ready=mathjax_ready,
            seconds=seconds,
        )
        return visits[page.name]

    return load


def by_name(pages):
    return pytest.mark.parametrize("page", pages, ids=lambda p: p.name)


@by_name(PAGES)
def test_page_loads_nothing_from_the_network(page, visit):
    result = visit(page)
    assert not result.aborted, f"{page.name}: requests that need a network: {result.aborted}"
    if result.report["mathCount"]:
        assert result.mathjax_ready, f"{page.name}: MathJax did not start without a network"


@by_name(PAGES)
def test_math_is_typeset(page, visit):
    report = visit(page).report
    assert not report["unrenderedMath"], (
        f"{page.name}: equations MathJax did not typeset: {report['unrenderedMath'][:5]}"
    )
    assert report["mjxCount"] >= report["mathCount"]
    assert report["mathErrors"] == 0, f"{page.name}: {report['mathErrors']} MathJax errors"
    assert not report["rawTex"], f"{page.name}: raw LaTeX in the text: {report['rawTex'][:5]}"


def test_chapters_with_equations_show_them(visit):
    """The derivation is the page with the most equations; it must have typeset math."""
    pages = [p for p in PAGES if p.name == "derivation"]
    assert pages, "_toc.yml lists no derivation chapter"
    assert visit(pages[0]).report["mjxCount"] > 10


@by_name(PAGES)
def test_every_image_loaded(page, visit):
    broken = [img["src"][-80:] for img in visit(page).report["images"] if img["naturalWidth"] == 0]
    assert not broken, f"{page.name}: images that did not load: {broken}"


@by_name(PAGES)
def test_figures_are_shown_as_the_legibility_check_assumes(page, visit):
    """:mod:`dbcode.viz.legibility` assumes that a figure is shown at its natural width
    or, when wider, at least ``PAGE_WIDTH_PX`` wide: no image is shown smaller. Only the
    visible images of the article count (the theme's icons, such as the launch menu's
    logos, are not figures and are hidden until their menu opens)."""
    images = visit(page).report["images"]
    shown = [
        img for img in images if img["naturalWidth"] > 0 and img["inArticle"] and img["visible"]
    ]
    manifest = json.loads((ROOT / "figures" / "manifest.json").read_text())
    if any(entry.get("chapter") == page.name for entry in manifest.values()):
        assert shown, f"{page.name}: its figures are not among the visible images of the page"
    smaller = [
        (img["src"][-40:], img["naturalWidth"], img["shownWidth"])
        for img in shown
        if img["shownWidth"] < min(img["naturalWidth"], PAGE_WIDTH_PX) - 1
    ]
    assert not smaller, f"{page.name}: images shown smaller than assumed: {smaller}"


@by_name(PAGES)
def test_no_page_shows_controls_that_cannot_react(page, visit):
    """The live explorers need a kernel; on the static pages their cells are removed and
    the precomputed explorers stand in (next test)."""
    report = visit(page).report
    assert report["widgetViews"] == 0, (
        f"{page.name}: {report['widgetViews']} ipywidgets views on the static page, whose "
        "controls would not react (tag the live explorer's cell remove-cell)"
    )


EXPLORER_PAGES = [p for p in PAGES if "precomputed_explorer(" in p.chapter.source.read_text()]

# Moves every control of every explorer on the page through all its options (the others
# at their current value) and reports, for each setting, the key of the grid point, the
# frame the page shows and the one it should show.
MOVE_EXPLORERS = r"""() => [...document.querySelectorAll('.dbcode-explorer')].map(root => {
    const frames = JSON.parse(root.querySelector('script.dbcode-explorer-frames').textContent);
    const controls = [...root.querySelectorAll('[data-control]')];
    const image = root.querySelector('img.dbcode-explorer-frame');
    const state = root.querySelector('.dbcode-explorer-state');
    const steps = [];
    for (const control of controls) {
        const n = control.tagName === 'SELECT' ? control.options.length : Number(control.max) + 1;
        for (let v = 0; v < n; v++) {
            const before = image.src;
            control.value = String(v);
            control.dispatchEvent(new Event(control.tagName === 'SELECT' ? 'change' : 'input'));
            const key = controls.map(c => c.value).join('-');
            steps.push({control: control.dataset.control, option: v, key: key,
                        shown: image.src === (frames[key] || {}).src,
                        changed: image.src !== before, state: state.textContent,
                        label: (frames[key] || {}).label, stateKey: root.dataset.state,
                        labels: JSON.parse(control.dataset.labels)});
        }
    }
    return {frames: Object.keys(frames).length,
            distinct: new Set(Object.values(frames).map(f => f.src)).size, steps: steps};
})"""


@by_name(EXPLORER_PAGES)
def test_static_explorers_show_the_figure_of_every_setting(page, browser):
    """Every control of every precomputed explorer, moved through all its options: the
    page shows the frame of the chosen grid point and names it, and the figure changes
    whenever the setting does."""
    context = browser.new_context(viewport=VIEWPORT)
    context.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith(LOCAL_SCHEMES) else r.abort(),
    )
    tab = context.new_page()
    tab.goto(page.url, wait_until="load")
    explorers = tab.evaluate(MOVE_EXPLORERS)
    context.close()
    assert explorers, f"{page.name}: the chapter builds an explorer but the page shows none"
    for explorer in explorers:
        assert explorer["distinct"] == explorer["frames"], "two grid points share a figure"
        for step in explorer["steps"]:
            where = f"{page.name}: {step['control']} = option {step['option']}"
            assert step["shown"], f"{where}: the figure is not the frame of {step['key']}"
            assert step["stateKey"] == step["key"] and step["state"] == step["label"], where
            assert step["labels"][step["option"]] in step["state"], where
        moved = [s for s in explorer["steps"] if s["option"] > 0]
        assert all(s["changed"] for s in moved), f"{page.name}: a control did not redraw"


@by_name(PAGES)
def test_no_cell_shows_an_error(page, visit):
    report = visit(page).report
    assert report["errorOutputs"] == 0, (
        f"{page.name}: {report['errorOutputs']} error or stderr outputs"
    )
    assert report["tracebacks"] == 0, f"{page.name}: a cell output shows a traceback"


@by_name(PAGES)
def test_printed_output_and_commands_stay_inside_their_box(page, visit):
    """Cell outputs wrap (book.css); the commands quoted in the prose are kept short."""
    overflowing = visit(page).report["overflowingOutputs"]
    assert not overflowing, f"{page.name}: lines run past their box: {overflowing}"


@by_name(PAGES)
def test_launch_buttons_point_at_the_repository(page, visit):
    settings = launch_settings()
    report = visit(page).report
    assert settings.repository_url in report["links"], (
        f"{page.name}: no link to the repository {settings.repository_url}"
    )
    if not page.chapter.notebook:
        return
    source = page.chapter.relpath.as_posix()
    assert (ROOT / source).is_file()
    binder = report["binderLinks"]
    assert binder, f"{page.name}: no Binder launch button"
    for href in binder:
        assert href.startswith(settings.binder_prefix), (
            f"{page.name}: Binder link {href} does not start with {settings.binder_prefix}"
        )
        assert re.search(rf"urlpath=[^&]*tree/{re.escape(source)}(?:$|&)", href), (
            f"{page.name}: Binder link {href} does not open {source}"
        )


@by_name(PAGES)
def test_no_script_errors_or_missing_files(page, visit):
    result = visit(page)
    assert not result.script_errors, f"{page.name}: uncaught script errors {result.script_errors}"
    assert not result.missing, f"{page.name}: local files not found: {result.missing}"
