"""The built pages: one numbering, and the reproduction status where a reader looks.

Sphinx numbers the book's own figures and equations by chapter (``Fig. 3.2``,
``(2.5)``); the paper's figures and equations are always named as the paper's. These
tests read the HTML that ``make book`` built (``_build/html``).
"""

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from dbcode.book import pipeline
from dbcode.book import status as st

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / pipeline.HTML
CHAPTERS = ("derivation", "mnist", "bars", "scenes", "delays", "discussion")
PAPER_REFERENCE = re.compile(r"\b(?:SI )?(?:Figs?|Eqs?)\.? ?S?\d+[A-H]?(?![.\d])")
"""The paper's way to name its figures and equations; the book's own are ``Fig. 3.2``."""
QUALIFIED = re.compile(r"paper")
WINDOW = 60  # characters around a reference within which it must name the paper


def _page(name: str) -> BeautifulSoup:
    path = HTML / "book" / f"{name}.html"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make book`")
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return soup.find("article") or soup


def _prose(article: BeautifulSoup) -> str:
    """The text a reader reads: without code, outputs of code cells that are code, and
    MathJax sources."""
    article = BeautifulSoup(str(article), "html.parser")
    for tag in article.select(
        "pre, code, .cell_input, script, style, .math, .headerlink, .caption-number"
    ):
        tag.decompose()
    for table in article.select("table"):  # a column headed as the paper's figures
        head = table.select_one("thead th")
        if head is not None and "paper" in head.get_text().lower():
            for cell in table.select("tbody td:first-child"):
                cell.decompose()
    return " ".join(article.get_text(" ").split())


@pytest.mark.parametrize("name", CHAPTERS)
def test_no_caption_carries_two_numbers(name):
    for caption in _page(name).select("figcaption, .caption"):
        number = caption.select_one(".caption-number")
        text = caption.get_text(" ", strip=True)
        if number is not None:
            text = text[len(number.get_text(" ", strip=True)) :].strip()
        assert not re.match(r"^\W*(Figs?|Figure)\.? ?S?\d", text), (
            f"{name}: a caption numbered {number.get_text() if number else '-'} starts with "
            f"another figure number: {text[:80]!r}"
        )


@pytest.mark.parametrize("name", CHAPTERS[:-1])
def test_figures_are_numbered_by_chapter(name):
    numbers = [n.get_text(strip=True) for n in _page(name).select("figcaption .caption-number")]
    assert numbers, f"{name}: no numbered figure"
    chapter = CHAPTERS.index(name) + 1
    for n in numbers:
        assert re.match(rf"^Fig\. {chapter}\.\d+", n), f"{name}: figure number {n!r}"


@pytest.mark.parametrize("name", ["intro", *CHAPTERS])
def test_every_reference_to_the_paper_says_so(name):
    text = _prose(_page(name))
    bare = []
    for m in PAPER_REFERENCE.finditer(text):
        window = text[max(0, m.start() - WINDOW) : m.end() + WINDOW]
        if not QUALIFIED.search(window):
            bare.append(window)
    assert not bare, f"{name}: references that do not name the paper:\n" + "\n".join(bare)


def test_the_intro_shows_the_status_table_and_the_circuits():
    page = _page("intro")
    rows = [r for t in page.select("table") for r in t.select("tbody tr")]
    figures = [r.select("td")[0].get_text(" ", strip=True) for r in rows]
    assert figures[: len(st.PANELS)] == [p.figure for p in st.PANELS]
    for row in rows[: len(st.PANELS)]:
        assert row.select("td")[-1].get_text(strip=True) in st.VERDICTS
    assert any("circuits" in img.get("src", "") for img in page.select("img"))


@pytest.mark.parametrize("name", sorted({p.chapter for p in st.PANELS}))
def test_each_chapter_opens_with_its_status(name):
    page = _page(name)
    box = page.select_one(".admonition.tip")
    assert box is not None and "What this chapter reproduces" in box.get_text()
    for panel in (p for p in st.PANELS if p.chapter == name):
        assert panel.figure in box.get_text()


@pytest.mark.parametrize("name", sorted({p.chapter for p in st.PANELS}))
def test_titles_of_chapters_run_only_at_the_reduced_scale_say_so(name):
    from dbcode.viz.figures import load_manifest

    rows = [r for r in st.evaluate(st.key_numbers(load_manifest())) if r.panel.chapter == name]
    title = _page(name).select_one("h1").get_text(" ", strip=True)
    if all(r.paper_verdict == st.NOT_RUN for r in rows):
        assert "reduced scale" in title, f"{name}: {title!r} does not say it is not at paper scale"
    else:
        assert "reduced scale only" not in title, title


@pytest.mark.parametrize("name", CHAPTERS)
def test_no_cell_leaves_an_empty_output(name):
    """Progress bars and silenced prints leave nothing behind on the page."""
    empty = [
        str(out)[:120]
        for out in _page(name).select("div.cell_output")
        if not out.get_text(strip=True) and not out.select("img, svg, table, iframe, script")
    ]
    assert not empty, f"{name}: empty cell outputs: {empty}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_no_cell_shows_the_text_of_an_object_in_place_of_its_content(name):
    """A Markdown or figure object with nothing to show falls back to its Python text
    (``<IPython.core.display.Markdown object>``), which means nothing to a reader."""
    shown = [
        out.get_text(" ", strip=True)[:120]
        for out in _page(name).select("div.cell_output")
        if re.search(r"<[\w.]+ object(?: at 0x[0-9a-f]+)?>", out.get_text())
    ]
    assert not shown, f"{name}: cell outputs showing an object's text: {shown}"
