"""Build pipeline: execute the chapters once with papermill, then build the book from the outputs.

The chapters listed in ``_toc.yml`` are MyST Markdown notebooks (``.md`` with a jupytext
header) or output-free ``.ipynb`` files. :func:`build`

1. reads ``_toc.yml`` and fails if a listed file is missing (:func:`collect_chapters`);
2. copies ``_config.yml``, ``_toc.yml``, ``book/`` and ``figures/`` into a staging tree
   ``_build/stage/`` that mirrors the repository (:func:`stage_sources`);
3. converts every notebook chapter to ``.ipynb`` (jupytext) and executes it with papermill
   in ``_build/stage/book/``, with the parameters ``scale`` and ``seed``; the executed
   copy replaces the ``.md`` source in the staging tree, and papermill's injected cell is
   tagged ``remove-cell`` (:func:`execute_chapter`);
4. runs ``jupyter-book build _build/stage -W -n --keep-going --all`` with
   ``execute_notebooks: "off"`` (nothing is executed twice); the pages land in
   ``_build/html/`` (:func:`build_html`);
5. compares the ``key_numbers`` of ``figures/manifest.json`` with the committed manifest
   (:func:`check_frozen_metrics`).

Nothing outside ``_build/`` and ``figures/`` is written. A failing cell makes the build
fail; the executed notebook with the traceback stays in ``_build/stage/`` for inspection.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbcode.book import tolerances
from dbcode.book.metrics import MetricsReport, check_frozen_metrics
from dbcode.book.pdf import build_pdf
from dbcode.book.status import write_status_pages
from dbcode.core.cpuenv import baseline_library_variables
from dbcode.core.repo import locked, repo_root, run_git
from dbcode.model.params import SCALES
from dbcode.viz import figures as _figures

__all__ = [
    "BuildError",
    "BuildReport",
    "Chapter",
    "ChapterRun",
    "MetricsReport",
    "build",
    "build_html",
    "check_frozen_metrics",
    "collect_chapters",
    "committed_manifest",
    "execute_chapter",
    "find_root",
    "is_notebook",
    "measure_tolerances",
    "read_toc",
    "select_chapters",
    "stage_sources",
]

STAGE = Path("_build") / "stage"
HTML = Path("_build") / "html"
KERNEL_NAME = "python3"
REMOVE_TAG = "remove-cell"
INJECTED_TAG = "injected-parameters"
# Suffixes Jupyter Book accepts for a toc entry without suffix, in its order of preference.
_SUFFIXES = (".md", ".ipynb", ".rst")
# What stage_sources copies from the repository.
_STAGE_DIRS = ("book", "figures")
_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", ".DS_Store", "*.pyc")


class BuildError(RuntimeError):
    """The build cannot proceed or a chapter failed; the message says what to do."""


# =========================================================================== chapters
@dataclass(frozen=True)
class Chapter:
    """One file listed in ``_toc.yml``."""

    entry: str  #: the toc entry, e.g. ``"book/bars"``
    source: Path  #: absolute path of the source file
    notebook: bool  #: executed by the pipeline (otherwise copied as a page)

    @property
    def name(self) -> str:
        """File stem, e.g. ``"bars"``: what ``--chapters`` and ``save_figure(chapter=)`` use."""
        return self.source.stem

    @property
    def relpath(self) -> Path:
        """Source path relative to the repository root, e.g. ``book/bars.md``."""
        return Path(self.entry).with_suffix(self.source.suffix)

    @property
    def staged_relpath(self) -> Path:
        """Path in the staging tree: notebooks become ``.ipynb``."""
        return self.relpath.with_suffix(".ipynb") if self.notebook else self.relpath


@dataclass
class ChapterRun:
    """Outcome of one chapter in :func:`build`."""

    chapter: Chapter
    output: Path
    status: str  #: ``"executed"``, ``"reused"``, ``"kept"``, ``"failed"`` or ``"page"``
    seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def find_root(start: Path | str | None = None) -> Path:
    """The book's root: the closest folder at or above ``start`` with ``_toc.yml`` and
    ``_config.yml`` (default: the current directory, then the package's checkout)."""
    candidates = [Path(start) if start is not None else Path.cwd()]
    if start is None and (root := repo_root()) is not None:
        candidates.append(root)
    for base in candidates:
        base = base.resolve()
        for folder in (base, *base.parents):
            if (folder / "_toc.yml").is_file() and (folder / "_config.yml").is_file():
                return folder
    raise BuildError(
        f"no _toc.yml and _config.yml found at or above {candidates[0]}; "
        "run from the repository or pass --root"
    )


def _toc_files(node: Any) -> Iterable[str]:
    if isinstance(node, Mapping):
        if "file" in node:
            yield str(node["file"])
        if "root" in node:
            yield str(node["root"])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key) or ():
                yield from _toc_files(child)
    elif isinstance(node, list):
        for child in node:
            yield from _toc_files(child)


def read_toc(root: Path | str) -> list[str]:
    """File entries of ``<root>/_toc.yml`` in reading order (root first)."""
    import yaml

    path = Path(root) / "_toc.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = list(dict.fromkeys(_toc_files(data)))
    if not entries:
        raise BuildError(f"{path} lists no files")
    return entries


def _front_matter(text: str) -> dict:
    import yaml

    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    try:
        data = yaml.safe_load(text[3:end])
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def is_notebook(path: Path | str) -> bool:
    """``.ipynb`` files, and ``.md`` files whose front matter has ``jupytext`` or
    ``kernelspec`` (MyST Markdown notebooks)."""
    path = Path(path)
    if path.suffix == ".ipynb":
        return True
    if path.suffix == ".md":
        meta = _front_matter(path.read_text(encoding="utf-8"))
        return "jupytext" in meta or "kernelspec" in meta
    return False


def _resolve(root: Path, entry: str) -> Path | None:
    base = root / entry
    if base.suffix in _SUFFIXES:
        return base if base.is_file() else None
    for suffix in _SUFFIXES:
        candidate = base.with_name(base.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def collect_chapters(root: Path | str) -> list[Chapter]:
    """All files of ``_toc.yml``; raises :class:`BuildError` naming every missing file."""
    root = Path(root).resolve()
    chapters, missing = [], []
    for entry in read_toc(root):
        source = _resolve(root, entry)
        if source is None:
            missing.append(entry)
            continue
        clean = entry[: -len(source.suffix)] if entry.endswith(source.suffix) else entry
        chapters.append(Chapter(entry=clean, source=source, notebook=is_notebook(source)))
    if missing:
        raise BuildError(
            "files listed in _toc.yml do not exist: "
            + ", ".join(missing)
            + " (create them or remove them from _toc.yml)"
        )
    return chapters


def select_chapters(chapters: Sequence[Chapter], names: Iterable[str] | None) -> list[Chapter]:
    """Chapters matching ``names`` (file stem ``bars``, entry ``book/bars`` or path
    ``book/bars.md``); all notebook chapters when ``names`` is empty or ``None``."""
    if not names:
        return [c for c in chapters if c.notebook]
    selected, unknown = [], []
    for name in names:
        key = name.rstrip("/")
        hits = [c for c in chapters if key in (c.name, c.entry, str(c.relpath), c.source.name)]
        if not hits:
            unknown.append(name)
        for hit in hits:
            if not hit.notebook:
                raise BuildError(f"{name}: {hit.relpath} is a plain page, not a notebook")
            if hit not in selected:
                selected.append(hit)
    if unknown:
        known = ", ".join(c.name for c in chapters if c.notebook) or "(none)"
        raise BuildError(f"unknown chapter(s) {', '.join(unknown)}; notebook chapters: {known}")
    return selected


# =========================================================================== staging
def stage_sources(root: Path, stage: Path, chapters: Sequence[Chapter]) -> None:
    """Recreate ``stage`` from the repository: config, toc, ``book/`` and ``figures/``.

    Notebook sources are not copied (their executed ``.ipynb`` replaces them); toc entries
    are written without suffix so that the ``.ipynb`` is found.
    """
    import yaml

    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    shutil.copy2(root / "_config.yml", stage / "_config.yml")

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    _strip_toc_suffixes(toc)
    (stage / "_toc.yml").write_text(
        "# Generated by dbcode.book.pipeline from ../../_toc.yml: do not edit.\n"
        + yaml.safe_dump(toc, sort_keys=False),
        encoding="utf-8",
    )

    notebook_sources = {c.source.resolve() for c in chapters if c.notebook}
    for folder in _STAGE_DIRS:
        if (root / folder).is_dir():
            shutil.copytree(root / folder, stage / folder, ignore=_IGNORE, symlinks=False)
    for chapter in chapters:
        if chapter.notebook:
            copied = stage / chapter.relpath
            if copied.exists() and chapter.source.resolve() in notebook_sources:
                copied.unlink()
        else:
            (stage / chapter.relpath).parent.mkdir(parents=True, exist_ok=True)
            if not (stage / chapter.relpath).exists():
                shutil.copy2(chapter.source, stage / chapter.relpath)


def _strip_toc_suffixes(node: Any) -> None:
    if isinstance(node, dict):
        for key in ("file", "root"):
            if key in node and Path(str(node[key])).suffix in _SUFFIXES:
                node[key] = str(Path(str(node[key])).with_suffix(""))
        for value in node.values():
            _strip_toc_suffixes(value)
    elif isinstance(node, list):
        for child in node:
            _strip_toc_suffixes(child)


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def code_fingerprint() -> str:
    """Version of the whole package (:func:`dbcode.run.codeversion.package_digest`): an
    executed chapter is stale when it changes."""
    from dbcode.run.codeversion import package_digest

    return package_digest()


def records_fingerprint(root: Path) -> str:
    """Digest of the committed paper-scale records (``results/``, names and contents),
    which the chapters read: an executed chapter is stale when a record changes."""
    digest = hashlib.sha256()
    results = root / "results"
    if results.is_dir():
        for path in sorted(p for p in results.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(results)).encode() + b"\0")
            digest.update(_sha256_bytes(path.read_bytes()).encode())
    return digest.hexdigest()


def _reads_manifest(chapter: Chapter) -> bool:
    """Whether a chapter shows the figures' manifest (the appendix's key numbers), which
    every chapter executed before it in the same build rewrites."""
    return "load_manifest" in chapter.source.read_text(encoding="utf-8")


def _provenance(
    chapter: Chapter, scale: str, seed: int, fingerprint: str, records: str = ""
) -> dict:
    return {
        "source": str(chapter.relpath),
        "source_sha256": _sha256_bytes(chapter.source.read_bytes()),
        "code_sha256": fingerprint,
        "records_sha256": records,
        "scale": scale,
        "seed": seed,
    }


def _load_notebook(path: Path):
    import jupytext
    import nbformat

    if path.suffix == ".ipynb":
        return nbformat.read(path, as_version=4)
    return jupytext.read(path)


def _parameters_cell(nb) -> int | None:
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return index
    return None


def _strip_outputs(nb) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def _tag_injected(nb) -> int:
    """Add ``remove-cell`` to papermill's injected-parameters cell(s); return how many."""
    count = 0
    for cell in nb.cells:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if INJECTED_TAG in tags:
            if REMOVE_TAG not in tags:
                tags.append(REMOVE_TAG)
            count += 1
    return count


@contextlib.contextmanager
def _environ(**values: str):
    old = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute_chapter(
    chapter: Chapter,
    output: Path,
    *,
    scale: str = "ci",
    seed: int = 0,
    figures: Path | None = None,
    kernel_name: str = KERNEL_NAME,
    provenance: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> float:
    """Convert ``chapter`` to ``.ipynb`` and execute it with papermill into ``output``.

    The working directory is the folder of ``output``; the kernel is ``python3`` run by
    the current interpreter (jupyter_client substitutes ``sys.executable`` for
    ``python``), and ``DBCODE_FIGURES`` points at ``figures``. Returns the wall time in
    seconds; raises ``papermill.PapermillExecutionError`` when a cell fails (the
    executed notebook with the traceback is written all the same).
    """
    import nbformat
    import papermill

    nb = _load_notebook(chapter.source)
    if _parameters_cell(nb) is None:
        raise BuildError(
            f"{chapter.relpath}: no code cell tagged 'parameters' "
            '(add `:tags: [parameters]` with `scale = "ci"` and `seed = 0`)'
        )
    _strip_outputs(nb)
    nb.metadata["kernelspec"] = {
        "name": kernel_name,
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    # The chapter's analysis (NumPy, OpenBLAS, glibc) runs on the libraries' baseline
    # code, so its numbers have the same bits on every x86-64 CPU, as the kernels' do.
    env = {
        **baseline_library_variables(),
        # progress bars are for a reader running a chapter; in the static page a bar is
        # an empty gap, and nbval's second run (from the store) would show none
        "DBCODE_PROGRESS": "0",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    if figures is not None:
        env["DBCODE_FIGURES"] = str(figures)
    # The kernel's own log is noise in the build output: ipykernel's notice about
    # unencrypted local TCP, and the "KeyboardInterrupt caught in kernel" it logs as an
    # error when jupyter_client interrupts it on shutdown (it always does) while a
    # message is still being handled. Cell outputs and errors are unaffected.
    engine_kwargs: dict[str, Any] = {"extra_arguments": ["--IPKernelApp.log_level=CRITICAL"]}
    if timeout:
        engine_kwargs["execution_timeout"] = timeout
    start = time.perf_counter()
    try:
        with _environ(**env):
            papermill.execute_notebook(
                nb,
                str(output),
                parameters={"scale": scale, "seed": seed},
                kernel_name=kernel_name,
                cwd=str(output.parent),
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                **engine_kwargs,
            )
    finally:
        seconds = time.perf_counter() - start
        if output.exists():
            executed = nbformat.read(output, as_version=4)
            _tag_injected(executed)
            meta = dict(provenance or {})
            meta.update({"seconds": round(seconds, 2)})
            executed.metadata["dbcode"] = meta
            nbformat.write(executed, output)
    return seconds


def _executed_copy(output: Path):
    """The notebook at ``output`` if it is a successful execution, else ``None``."""
    import nbformat

    if not output.is_file():
        return None
    try:
        nb = nbformat.read(output, as_version=4)
    except Exception:
        return None
    meta = nb.metadata.get("dbcode", {})
    if not meta.get("executed") or nb.metadata.get("papermill", {}).get("exception"):
        return None
    return nb


def _stale_reasons(nb, provenance: Mapping[str, Any]) -> list[str]:
    """What differs between an executed copy and ``provenance`` (empty: fresh)."""
    meta = nb.metadata.get("dbcode", {})
    names = {
        "source_sha256": "source",
        "code_sha256": "dbcode code",
        "records_sha256": "committed records",
    }
    return [names.get(k, k) for k, v in provenance.items() if meta.get(k) != v]


# =========================================================================== html
def build_html(stage: Path, output_root: Path, *, strict: bool = True) -> Path:
    """``jupyter-book build <stage> -W -n --keep-going --all -q`` into ``<output_root>/_build/html``.

    Returns the path of ``index.html``; raises :class:`BuildError` when Sphinx fails.
    """
    cmd = [
        sys.executable,
        "-c",
        "from jupyter_book.cli.main import main; main()",
        "build",
        str(stage),
        "--path-output",
        str(output_root),
        "--all",
        "-q",  # Sphinx warnings only; the status lines would bury them
    ]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL)
    index = output_root / "_build" / "html" / "index.html"
    if proc.returncode != 0:
        raise BuildError(
            f"jupyter-book build failed (exit {proc.returncode}); the warnings above "
            "are errors under -W (a file under _build/stage/ stands for the source of the "
            "same name in the repository, e.g. book/<chapter>.md)"
        )
    if not index.is_file():
        raise BuildError(f"jupyter-book build produced no {index}")
    return index


def committed_manifest(root: Path, *, ref: str = "HEAD") -> dict | None:
    """``figures/manifest.json`` as committed at ``ref``; ``{}`` if git knows the repository
    but not the file, ``None`` outside git."""
    inside = run_git(["rev-parse", "--is-inside-work-tree"], root)
    if inside is None or inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    top = run_git(["rev-parse", "--show-toplevel"], root).stdout.strip()
    rel = (root.resolve() / "figures" / _figures.MANIFEST_NAME).relative_to(Path(top).resolve())
    shown = run_git(["show", f"{ref}:{rel.as_posix()}"], root)
    if shown is None or shown.returncode != 0:
        return {}
    return json.loads(shown.stdout) if shown.stdout.strip() else {}


# =========================================================================== build
@dataclass
class BuildReport:
    """What :func:`build` did."""

    root: Path
    stage: Path
    scale: str
    seed: int
    runs: list[ChapterRun] = field(default_factory=list)
    html: Path | None = None
    metrics: MetricsReport | None = None
    pruned: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[ChapterRun]:
        return [r for r in self.runs if not r.ok]

    def timings(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "seed": self.seed,
            "total_s": round(self.seconds, 1),
            "chapters": {
                r.chapter.name: {"status": r.status, "seconds": round(r.seconds, 1)}
                for r in self.runs
                if r.chapter.notebook
            },
        }


def _prune_stale_figures(figdir: Path, chapters: Iterable[str], since: str) -> list[str]:
    """Drop manifest entries (and files) of ``chapters`` that were not rewritten ``since``."""
    path = _figures.manifest_path(figdir)
    names = set(chapters)
    with locked(path):
        manifest = _figures.load_manifest(path)
        stale = [
            fig_id
            for fig_id, entry in manifest.items()
            if entry.get("chapter") in names and str(entry.get("created", "")) < since
        ]
        for fig_id in stale:
            for name in manifest[fig_id].get("files", []):
                with contextlib.suppress(FileNotFoundError):
                    (figdir / name).unlink()
            del manifest[fig_id]
        if stale:
            _figures.write_manifest(manifest, path)
    return stale


def _log(message: str) -> None:
    print(message, flush=True)


def build(
    root: Path | str | None = None,
    *,
    scale: str = "ci",
    seed: int = 0,
    chapters: Sequence[str] | None = None,
    html: bool = True,
    reuse: bool = False,
    strict_metrics: bool = False,
    timeout: float | None = None,
    log=_log,
) -> BuildReport:
    """Execute the notebook chapters of ``_toc.yml`` and build the book.

    Parameters
    ----------
    root : path, optional
        Folder with ``_toc.yml`` and ``_config.yml`` (default: :func:`find_root`).
    scale, seed :
        Papermill parameters passed to every chapter.
    chapters : list of str, optional
        Execute these chapters (file stems); the others keep their executed copy in the
        staging tree while their source is unchanged, and are executed when they have none.
    html : bool
        Run ``jupyter-book build`` after executing (default True).
    reuse : bool
        Skip chapters whose executed copy in the staging tree matches the source, the
        dbcode code, ``scale`` and ``seed`` (what ``make test`` uses after ``make book``).
    strict_metrics : bool
        Raise :class:`BuildError` when a key number moved beyond its tolerance (otherwise
        the comparison is only printed).
    timeout : float, optional
        Per-cell timeout in seconds.

    Raises
    ------
    BuildError
        A listed file is missing, a chapter failed, the HTML build failed, or (with
        ``strict_metrics``) a frozen metric moved.
    """
    import datetime as dt

    import nbformat

    if scale not in SCALES:
        raise BuildError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    t0 = time.perf_counter()
    root = find_root(root)
    stage = root / STAGE
    figdir = root / "figures"
    report = BuildReport(root=root, stage=stage, scale=scale, seed=seed)

    all_chapters = collect_chapters(root)
    selected = select_chapters(all_chapters, chapters)
    fingerprint = code_fingerprint()
    records = records_fingerprint(root)
    baseline = committed_manifest(root)
    if baseline is None:  # not a git checkout: compare against the manifest before the build
        baseline = _figures.load_manifest(_figures.manifest_path(figdir))

    # Keep executed copies before the staging tree is recreated. A selected chapter keeps
    # its copy only with `reuse` and when fresh. Any other chapter keeps its copy while its
    # source is unchanged (a copy made with other code, scale or seed is kept and says so);
    # without a usable copy it is executed too, since the book needs every output (figure
    # labels that other pages reference live in the outputs).
    kept: dict[Path, tuple[Any, str]] = {}
    for chapter in all_chapters:
        if not chapter.notebook:
            continue
        nb = _executed_copy(stage / chapter.staged_relpath)
        if nb is None:
            continue
        stale = _stale_reasons(nb, _provenance(chapter, scale, seed, fingerprint, records))
        if chapter in selected:
            if reuse and not stale:
                kept[chapter.source] = (nb, "reused (executed copy is fresh)")
        elif "source" not in stale:
            note = f"stale: {', '.join(stale)} differ" if stale else "fresh"
            kept[chapter.source] = (nb, f"kept its executed copy ({note})")
    stage_sources(root, stage, all_chapters)

    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    n_nb = sum(c.notebook for c in all_chapters)
    log(
        f"dbcode build: scale={scale} seed={seed} chapters={len(selected)}/{n_nb} "
        f"stage={stage.relative_to(root)}"
    )
    executed_names = []
    for chapter in all_chapters:
        out = stage / chapter.staged_relpath
        if not chapter.notebook:
            report.runs.append(ChapterRun(chapter, out, "page"))
            continue
        prov = _provenance(chapter, scale, seed, fingerprint, records)
        if chapter.source in kept and executed_names and _reads_manifest(chapter):
            del kept[chapter.source]  # the chapters executed above rewrote the manifest
        if chapter.source in kept:
            nb, note = kept[chapter.source]
            nbformat.write(nb, out)
            status = "reused" if chapter in selected else "kept"
            report.runs.append(ChapterRun(chapter, out, status))
            log(f"  {chapter.name:<16} {'-':>8}  {note}")
            continue
        why = "" if chapter in selected else " (no executed copy of the current source)"
        try:
            seconds = execute_chapter(
                chapter,
                out,
                scale=scale,
                seed=seed,
                figures=figdir,
                provenance={**prov, "executed": True},
                timeout=timeout,
            )
        except BuildError:
            raise
        except Exception as exc:  # papermill.PapermillExecutionError and kernel failures
            seconds = _mark_failed(out)
            message = _short_error(exc)
            report.runs.append(ChapterRun(chapter, out, "failed", seconds, message))
            log(f"  {chapter.name:<16} {seconds:7.1f}s  FAILED: {message}")
            continue
        executed_names.append(chapter.name)
        report.runs.append(ChapterRun(chapter, out, "executed", seconds))
        log(f"  {chapter.name:<16} {seconds:7.1f}s  executed{why}")

    if report.failed:
        report.seconds = time.perf_counter() - t0
        lines = [f"{len(report.failed)} chapter(s) failed:"]
        lines += [
            f"  {r.chapter.relpath}: {r.error}\n    executed copy with the traceback: {r.output}"
            for r in report.failed
        ]
        raise BuildError("\n".join(lines))

    if executed_names and not chapters:
        report.pruned = _prune_stale_figures(figdir, executed_names, started)
        for fig_id in report.pruned:
            log(f"  removed figure {fig_id}: its chapter no longer makes it")
    # Chapters may have (re)written figures: refresh the staged copy for image links.
    if figdir.is_dir():
        shutil.rmtree(stage / "figures", ignore_errors=True)
        shutil.copytree(figdir, stage / "figures", ignore=_IGNORE)

    _write_timings(root, report, t0)
    current = _figures.load_manifest(_figures.manifest_path(figdir))
    # The status table and the chapters' status boxes describe this build's figures.
    write_status_pages(current, stage / "book")
    report.metrics = check_frozen_metrics(baseline, current, tolerances=tolerances.load(root))
    log(report.metrics.format())
    if strict_metrics and not report.metrics.ok:
        raise BuildError("frozen metrics changed:\n" + report.metrics.format())

    if html:
        t_html = time.perf_counter()
        report.html = build_html(stage, root)
        _fix_launch_links(report.html.parent, all_chapters)
        log(f"  {'html':<16} {time.perf_counter() - t_html:7.1f}s  jupyter-book build -W -n")
        t_pdf = time.perf_counter()
        pdf = build_pdf(stage, root, report.html.parent, log=log)
        if pdf is not None:
            log(f"  {'pdf':<16} {time.perf_counter() - t_pdf:7.1f}s  {pdf.relative_to(root)}")
    report.seconds = time.perf_counter() - t0
    _write_timings(root, report, t0)
    log(f"dbcode build: done in {report.seconds:.1f} s")
    if report.html is not None:
        log(f"open {report.html}")
    return report


def _fix_launch_links(html_dir: Path, chapters: Iterable[Chapter]) -> None:
    """Point Binder launch links at the chapter sources in the repository.

    The staged book is built from executed ``.ipynb`` copies, so the theme links to
    ``book/<name>.ipynb``, which is not in the repository; the source is ``book/<name>.md``
    (a MyST notebook that jupytext opens on Binder).
    """
    for chapter in chapters:
        if not chapter.notebook or chapter.source.suffix == ".ipynb":
            continue
        page = html_dir / f"{chapter.entry}.html"
        if not page.is_file():
            continue
        text = page.read_text(encoding="utf-8")
        new = re.sub(
            rf"(urlpath=(?:lab/)?tree/){re.escape(chapter.entry)}\.ipynb",
            rf"\g<1>{chapter.relpath.as_posix()}",
            text,
        )
        if new != text:
            page.write_text(new, encoding="utf-8")


def _write_timings(root: Path, report: BuildReport, t0: float) -> None:
    report.seconds = time.perf_counter() - t0
    path = root / "_build" / f"timings-{report.scale}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.timings(), indent=2) + "\n", encoding="utf-8")


def _mark_failed(output: Path) -> float:
    import nbformat

    if not output.exists():
        return 0.0
    nb = nbformat.read(output, as_version=4)
    meta = nb.metadata.setdefault("dbcode", {})
    meta["executed"] = False
    meta["failed"] = True
    nbformat.write(nb, output)
    return float(meta.get("seconds", 0.0))


def _short_error(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    if ename:
        cell = getattr(exc, "exec_count", None)
        where = f" in cell [{cell}]" if cell is not None else ""
        return f"{ename}: {evalue}{where}"
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


# =========================================================================== tolerances
def measure_tolerances(
    root: Path,
    seeds: Sequence[int] = tolerances.DEFAULT_SEEDS,
    *,
    scale: str = "ci",
    work: Path | None = None,
    log=print,
) -> dict:
    """Execute every chapter once per seed (no HTML) and derive the tolerances.

    Each seed's build has its own staging tree and figures folder under ``work``
    (default ``_build/tolerances``); finished builds are kept and reused, so an
    interrupted measurement resumes. Networks come from the result store as usual.
    """
    work = Path(work) if work is not None else Path(root) / "_build" / "tolerances"
    chapters = collect_chapters(root)
    manifests = {}
    for seed in seeds:
        folder = work / f"{scale}-seed{seed}"
        done = folder / "done"
        if not done.is_file():
            stage = folder / "stage"
            stage_sources(root, stage, chapters)
            for chapter in chapters:
                if chapter.notebook:
                    seconds = execute_chapter(
                        chapter,
                        stage / chapter.staged_relpath,
                        scale=scale,
                        seed=seed,
                        figures=folder / "figures",
                    )
                    log(f"  seed {seed}: {chapter.name:<12} {seconds:7.1f} s")
            done.write_text("ok\n")
        manifests[seed] = _figures.load_manifest(_figures.manifest_path(folder / "figures"))
        log(f"seed {seed}: {len(manifests[seed])} figures")
    return tolerances.tolerances_from(manifests)
