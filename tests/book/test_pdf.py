"""The PDF of the whole book that the build prints (``_build/html/book.pdf``): it has the
pages of the book and the text of every chapter's title, and the introduction links to
it."""

import re
import unicodedata
from pathlib import Path

import pytest

from dbcode.book import pipeline
from dbcode.book.browser import find_chromium, in_ci
from dbcode.book.pdf import PDF_NAME

ROOT = Path(__file__).resolve().parents[2]
PDF = ROOT / pipeline.HTML / PDF_NAME


def _titles() -> list[str]:
    titles = []
    for chapter in pipeline.collect_chapters(ROOT):
        for line in chapter.source.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                titles.append(re.sub(r"[`*]", "", line[2:]).strip())
                break
    return titles


@pytest.fixture(scope="module")
def text():
    if not PDF.is_file():
        if find_chromium() is None and not in_ci():
            pytest.skip("no chromium here, so the build printed no PDF")
        pytest.fail(f"{PDF.relative_to(ROOT)} is missing: run `make book`")
    from pypdf import PdfReader

    reader = PdfReader(PDF)
    pages = [page.extract_text() or "" for page in reader.pages]
    content = unicodedata.normalize("NFKC", " ".join(pages))  # ligatures such as "ﬃ"
    return len(reader.pages), " ".join(content.split())


def test_the_pdf_has_the_whole_book(text):
    n_pages, content = text
    assert n_pages >= 40, f"only {n_pages} pages"
    for title in _titles():
        words = " ".join(title.split()[:6])
        assert words in content, f"chapter title {title!r} is not in the PDF"
    assert "What is reproduced" in content, "the status table is missing from the PDF"
    # the dropdown under the table is printed open
    assert "behind each verdict" in content and "balance index" in content


def test_the_introduction_links_to_the_pdf():
    html = (ROOT / pipeline.HTML / "book" / "intro.html").read_text(encoding="utf-8")
    assert f'href="../{PDF_NAME}"' in html
