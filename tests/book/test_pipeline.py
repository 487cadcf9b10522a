"""dbcode.book.pipeline: table of contents, chapter selection, frozen metrics, and an end-to-end
build of a toy book (papermill + jupyter-book) made in a temporary folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from dbcode.book import pipeline, tolerances
from dbcode.viz import figures

NOTEBOOK_HEADER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---
"""

TOY_CHAPTER = NOTEBOOK_HEADER + textwrap.dedent("""
    # Toy chapter

    Some prose with math $x^2$.

    ```{code-cell} ipython3
    :tags: [parameters]

    scale = "ci"
    seed = 0
    ```

    ```{code-cell} ipython3
    import os
    import sys

    import matplotlib.pyplot as plt
    import numpy as np

    from dbcode.viz.figures import save_figure

    rng = np.random.default_rng(seed)
    values = rng.normal(size=100)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.hist(values, bins=10)
    entry = save_figure(
        fig, "toyfig", chapter="toy", scale=scale, seeds=[seed], params={"n": 100},
        data_source="numpy normal", key_numbers={"mean": float(values.mean())},
    )
    print(scale, seed, entry["cell"], sys.executable)
    ```
""")

BAD_CHAPTER = NOTEBOOK_HEADER + textwrap.dedent("""
    # Bad chapter

    ```{code-cell} ipython3
    :tags: [parameters]

    scale = "ci"
    seed = 0
    ```

    ```{code-cell} ipython3
    raise ValueError("this cell fails on purpose")
    ```
""")

CONFIG = textwrap.dedent("""\
    title: Toy book
    only_build_toc_files: true
    exclude_patterns: [_build, figures]
    execute:
      execute_notebooks: "off"
    """)


def make_book(root: Path, chapters: dict[str, str]) -> Path:
    """A book at ``root`` with an index page and the given ``book/<name>.md`` chapters."""
    (root / "book").mkdir(parents=True)
    (root / "_config.yml").write_text(CONFIG)
    toc = "format: jb-book\nroot: book/index\n"
    if chapters:
        toc += "chapters:\n" + "".join(f"  - file: book/{name}\n" for name in chapters)
    (root / "_toc.yml").write_text(toc)
    (root / "book" / "index.md").write_text("# Toy book\n\nThe start page.\n")
    for name, text in chapters.items():
        (root / "book" / f"{name}.md").write_text(text)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] not in ("_build", "figures")
    }


# --------------------------------------------------------------------------- unit tests
def test_read_toc_nested(tmp_path):
    (tmp_path / "_toc.yml").write_text(
        textwrap.dedent("""\
        format: jb-book
        root: book/intro
        parts:
          - caption: A
            chapters:
              - file: book/a.md
                sections:
                  - file: book/a1
          - caption: B
            chapters:
              - file: book/b
        """)
    )
    assert pipeline.read_toc(tmp_path) == ["book/intro", "book/a.md", "book/a1", "book/b"]


def test_collect_chapters_kinds_and_missing(tmp_path):
    make_book(tmp_path, {"toy": TOY_CHAPTER})
    chapters = pipeline.collect_chapters(tmp_path)
    assert [(c.name, c.notebook) for c in chapters] == [("index", False), ("toy", True)]
    assert chapters[1].staged_relpath == Path("book/toy.ipynb")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/index\nchapters:\n  - file: book/toy\n  - file: book/nope\n"
    )
    with pytest.raises(pipeline.BuildError, match="book/nope"):
        pipeline.collect_chapters(tmp_path)


def test_select_chapters(tmp_path):
    make_book(tmp_path, {"toy": TOY_CHAPTER, "bad": BAD_CHAPTER})
    chapters = pipeline.collect_chapters(tmp_path)
    assert [c.name for c in pipeline.select_chapters(chapters, None)] == ["toy", "bad"]
    assert [c.name for c in pipeline.select_chapters(chapters, ["book/bad"])] == ["bad"]
    with pytest.raises(pipeline.BuildError, match="unknown chapter"):
        pipeline.select_chapters(chapters, ["nope"])
    with pytest.raises(pipeline.BuildError, match="plain page"):
        pipeline.select_chapters(chapters, ["index"])


def test_is_notebook(tmp_path):
    (tmp_path / "page.md").write_text("---\ntitle: x\n---\n# Page\n")
    (tmp_path / "nb.md").write_text(TOY_CHAPTER)
    (tmp_path / "plain.md").write_text("# Plain\n")
    assert not pipeline.is_notebook(tmp_path / "page.md")
    assert pipeline.is_notebook(tmp_path / "nb.md")
    assert not pipeline.is_notebook(tmp_path / "plain.md")


def _entry(scale="ci", **numbers):
    return {"scale": scale, "key_numbers": numbers}


def test_frozen_metrics_use_the_measured_tolerances():
    committed = {
        "f1": _entry(loss=1.0, rate=10.0, tiny=0.0, label="bars", nan=None, onset="none"),
        "f2": _entry(loss=1.0),
        "f3": _entry("paper", loss=1.0),
    }
    measured = tolerances.tolerances_from(
        {
            0: committed,
            1: {
                "f1": _entry(loss=1.01, rate=11.0, tiny=0.0, label="bars", nan=None, onset=0.5),
                "f2": _entry(loss=1.02),
            },
            2: {
                "f1": _entry(loss=0.99, rate=9.0, tiny=0.0, label="bars", nan=None, onset="none"),
                "f2": _entry(loss=0.98),
            },
        }
    )
    assert measured["numbers"]["f1"]["loss"]["sd"] == pytest.approx(0.01)
    assert measured["numbers"]["f1"]["loss"]["tolerance"] == pytest.approx(0.06)
    assert measured["numbers"]["f1"]["tiny"]["tolerance"] == tolerances.ABS_FLOOR
    assert measured["unstable"] == {"f1": {"onset": ["none", 0.5, "none"]}}

    ok = {
        "f1": _entry(loss=1.05, rate=14.0, tiny=0.0, label="bars", nan=None, onset=1.0),
        "f2": _entry(loss=1.0, extra=3.0),
        "f3": _entry("ci", loss=5.0),
        "f4": _entry(loss=2.0),
    }
    report = pipeline.check_frozen_metrics(committed, figures.jsonable(ok), tolerances=measured)
    assert report.ok, report.format()
    assert report.compared == 7 and report.equal == 4
    notes = "\n".join(report.notes)
    assert "f4: new figure" in notes and "f3: committed at scale 'paper'" in notes
    assert "f2.extra: new number" in notes and "f1.onset: 'none' -> 1.0 (varies" in notes

    bad = {
        "f1": _entry(loss=1.07, rate=16.5, tiny=1e-9, label="scenes", nan=1.0, onset="none"),
        "f2": _entry(),
    }
    report = pipeline.check_frozen_metrics(committed, figures.jsonable(bad), tolerances=measured)
    assert not report.ok
    text = report.format()
    for expected in ("f1.loss", "f1.rate", "f1.tiny", "f1.label", "f1.nan", "f2.loss: committed"):
        assert expected in text
    assert "tolerance 0.06 = measured seed spread 0.01 x 6" in text
    assert "commit the regenerated figures/" in text


def test_without_measured_tolerances_numbers_must_be_equal():
    committed = {"f": _entry(loss=1.0, same=2.0)}
    report = pipeline.check_frozen_metrics(committed, {"f": _entry(loss=1.0 + 1e-15, same=2.0)})
    assert not report.ok and "no measured tolerance" in report.failures[0]
    assert report.equal == 1


def test_frozen_metrics_without_baseline():
    report = pipeline.check_frozen_metrics(None, {"f": _entry(loss=1.0)})
    assert report.ok and report.compared == 0
    report = pipeline.check_frozen_metrics({"gone": _entry(loss=1.0)}, {})
    assert report.ok and any("gone: committed but no longer" in n for n in report.notes)


def test_launch_links_point_at_sources(tmp_path):
    make_book(tmp_path, {"toy": TOY_CHAPTER})
    page = tmp_path / "html" / "book" / "toy.html"
    page.parent.mkdir(parents=True)
    page.write_text(
        '<a href="https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/book/toy.ipynb">'
        '<a href="https://example.org/book/toy.ipynb">'
    )
    pipeline._fix_launch_links(tmp_path / "html", pipeline.collect_chapters(tmp_path))
    text = page.read_text()
    assert "urlpath=lab/tree/book/toy.md" in text
    assert "https://example.org/book/toy.ipynb" in text  # other links are left alone


def test_cli_help_lists_commands():
    out = subprocess.run(
        [sys.executable, "-m", "dbcode", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("build", "check-metrics", "chapters"):
        assert command in out


# --------------------------------------------------------------------------- end to end
# About 12 s on two cores (two kernels and one Sphinx build), so not marked slow.
def test_toy_book_end_to_end(tmp_path, monkeypatch):
    root = make_book(tmp_path / "toybook", {"toy": TOY_CHAPTER, "bad": BAD_CHAPTER})
    monkeypatch.setenv("DBCODE_FIGURES", str(root / "figures"))
    # Freshness depends on the dbcode sources; keep it fixed while this test runs.
    monkeypatch.setattr(pipeline, "code_fingerprint", lambda: "fixed")
    before = snapshot(root)

    # A failing cell fails the build (library call and command line), and the executed
    # copy keeps the traceback.
    with pytest.raises(pipeline.BuildError, match="ValueError: this cell fails on purpose"):
        pipeline.build(root, chapters=["bad"], html=False)
    failed = nbformat.read(root / "_build/stage/book/bad.ipynb", as_version=4)
    assert any(
        o.get("ename") == "ValueError"
        for c in failed.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dbcode",
            "build",
            "--root",
            str(root),
            "--chapters",
            "bad",
            "--no-html",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "this cell fails on purpose" in proc.stderr

    # Drop the bad chapter; build the rest end to end, with scale and seed parameters.
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/index\nchapters:\n  - file: book/toy\n"
    )
    before = snapshot(root)
    report = pipeline.build(root, scale="paper", seed=3)
    assert [(r.chapter.name, r.status) for r in report.runs] == [
        ("index", "page"),
        ("toy", "executed"),
    ]
    html = root / "_build" / "html"
    assert report.html == html / "index.html" and report.html.is_file()
    page = (html / "book" / "toy.html").read_text()
    assert "Toy chapter" in page
    assert "injected" not in page.lower(), "papermill's injected cell must be removed"

    executed = nbformat.read(root / "_build/stage/book/toy.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "remove-cell" in injected[0].metadata.tags
    assert 'scale = "paper"' in injected[0].source and "seed = 3" in injected[0].source
    printed = "".join(o.get("text", "") for o in executed.cells[-1].outputs)
    assert printed.startswith("paper 3 ")
    assert sys.executable in printed, "the kernel must run the interpreter of the build"
    assert executed.metadata.dbcode["executed"] is True
    assert executed.metadata.dbcode["scale"] == "paper"

    figs = root / "figures"
    assert (figs / "toyfig.png").is_file() and (figs / "toyfig.svg").is_file()
    manifest = json.loads((figs / "manifest.json").read_text())
    assert manifest["toyfig"]["chapter"] == "toy"
    assert manifest["toyfig"]["scale"] == "paper" and manifest["toyfig"]["seeds"] == [3]
    assert isinstance(manifest["toyfig"]["cell"], int)
    timings = json.loads((root / "_build" / "timings-paper.json").read_text())
    assert timings["chapters"]["toy"]["status"] == "executed"

    # Sources are untouched: only _build/ and figures/ changed.
    assert snapshot(root) == before

    # A second build with reuse keeps the fresh executed copy; another seed does not.
    again = pipeline.build(root, scale="paper", seed=3, html=False, reuse=True)
    assert again.runs[-1].status == "reused"
    # A committed record the chapters read changed: the executed copy is stale.
    (root / "results" / "paper").mkdir(parents=True)
    (root / "results" / "paper" / "toy.json").write_text("{}")
    fresh = pipeline.build(root, scale="paper", seed=3, html=False, reuse=True)
    assert fresh.runs[-1].status == "executed"
    shutil.rmtree(root / "results")
    assert (
        pipeline.build(root, scale="ci", seed=0, html=False, reuse=True).runs[-1].status
        == "executed"
    )

    # Executing one chapter keeps the executed copies of the others.
    (root / "book" / "bad.md").write_text(BAD_CHAPTER.replace("raise ValueError", "print"))
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/index\nchapters:\n  - file: book/toy\n  - file: book/bad\n"
    )
    one = pipeline.build(root, chapters=["bad"], html=False)
    assert [r.status for r in one.runs] == ["page", "kept", "executed"]
    kept = nbformat.read(root / "_build/stage/book/toy.ipynb", as_version=4)
    assert kept.cells[-1].outputs, "the executed copy of toy must be kept"
