"""Saving figures with provenance: ``figures/<fig_id>.{png,svg}`` plus ``figures/manifest.json``.

Every figure of the book is written by :func:`save_figure`, which also records how it was
made (chapter, scale, seeds, parameters, data source, code version, key numbers) in one
JSON manifest. The manifest is committed together with the figures; the frozen-metrics
check (:func:`dbcode.book.metrics.check_frozen_metrics`) compares the ``key_numbers`` of a
fresh build against the committed ones.

Where figures go
----------------
1. ``$DBCODE_FIGURES`` if set (the pipeline sets it for the chapters it runs);
2. ``<repository>/figures`` when ``dbcode`` is imported from a checkout (editable
   install): the repository is the parent of the package folder and holds ``_toc.yml``;
3. ``./figures`` otherwise (non-editable install outside the repository).

Key numbers
-----------
``key_numbers`` maps a name to the number (or string, list, flag) the figure shows.
:func:`dbcode.book.metrics.check_frozen_metrics` compares them with the committed manifest:
equal bits on x86-64 with the locked versions, elsewhere within the tolerance measured
from each number's seed-to-seed spread (:mod:`dbcode.book.tolerances`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dbcode.core.jsonutil import to_json
from dbcode.core.repo import git_state, locked, repo_root
from dbcode.viz.legibility import MIN_TEXT_PX, covered_by_legends, readable_points, smallest_text
from dbcode.viz.style import GUIDE


def jsonable(obj: Any) -> Any:
    """Manifest form of ``obj``: :func:`~dbcode.core.jsonutil.to_json` with large arrays
    summarised and unknown objects by their ``repr``."""
    return to_json(obj, arrays="summary", strict=False)


__all__ = [
    "MANIFEST_NAME",
    "SCALE_LABELS",
    "figure_caption_suffix",
    "figures_dir",
    "jsonable",
    "load_manifest",
    "manifest_path",
    "save_figure",
    "scale_label",
    "stamp_scale",
    "write_manifest",
]

MANIFEST_NAME = "manifest.json"
DPI = 120
FORMATS = ("png", "svg")

#: Human-readable description of each scale, drawn into every figure.
SCALE_LABELS = {
    "ci": "ci (reduced)",
    "paper": "paper",
}

_FIG_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# --------------------------------------------------------------------------- locations
def figures_dir() -> Path:
    """Folder that receives figures and the manifest (see module docstring)."""
    env = os.environ.get("DBCODE_FIGURES")
    if env:
        return Path(env).expanduser().resolve()
    root = repo_root()
    if root is not None:
        return root / "figures"
    return Path.cwd() / "figures"


def manifest_path(directory: Path | str | None = None) -> Path:
    """Path of ``manifest.json`` in ``directory`` (default :func:`figures_dir`)."""
    return Path(directory if directory is not None else figures_dir()) / MANIFEST_NAME


# --------------------------------------------------------------------------- scale stamp
def scale_label(scale: str) -> str:
    """Short text naming the scale, e.g. ``"scale: ci (reduced)"``."""
    return f"scale: {SCALE_LABELS.get(scale, scale)}"


def figure_caption_suffix(scale: str) -> str:
    """Sentence to append to a caption so the reader knows which scale produced it."""
    if scale == "paper":
        return " Simulated at paper scale."
    return (
        f" Simulated at reduced scale `{scale}` for continuous integration; "
        "run `make paper` for the paper-scale figure."
    )


def stamp_scale(fig, scale: str, *, fontsize: float | None = None):
    """Write :func:`scale_label` under the lower right corner of what ``fig`` draws.

    ``fontsize`` defaults to the smallest size that stays readable at page width
    (:func:`dbcode.viz.legibility.readable_points`). Idempotent: a second call replaces
    the first stamp. Returns the text artist.
    """
    if fontsize is None:
        fontsize = max(7.0, readable_points(float(fig.get_size_inches()[0]), MIN_TEXT_PX + 0.5))
    for artist in list(fig.texts):
        if artist.get_gid() == "dbcode-scale-stamp":
            artist.remove()
    # Below everything else, right-aligned with the right edge of what is drawn, so
    # that it never covers a label that reaches beyond the figure's frame.
    fig.canvas.draw()
    drawn = fig.get_tightbbox(fig.canvas.get_renderer())
    width, height = fig.get_size_inches()
    return fig.text(
        drawn.x1 / width,
        drawn.y0 / height,
        scale_label(scale),
        ha="right",
        va="top",
        fontsize=fontsize,
        color=GUIDE,
        gid="dbcode-scale-stamp",
    )


# --------------------------------------------------------------------------- manifest IO
def load_manifest(path: Path | str | None = None) -> dict[str, dict]:
    """Read a manifest (``{}`` when the file does not exist)."""
    path = Path(path) if path is not None else manifest_path()
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if text.strip() else {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a manifest must be a JSON object mapping fig_id to entry")
    return data


def write_manifest(manifest: Mapping[str, Any], path: Path | str | None = None) -> Path:
    """Write ``manifest`` atomically (temporary file + rename), keys sorted."""
    path = Path(path) if path is not None else manifest_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(jsonable(dict(manifest)), indent=2, sort_keys=True, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


# --------------------------------------------------------------------------- provenance
def _execution_count() -> int | None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipython comes with ipykernel
        return None
    shell = get_ipython()
    return getattr(shell, "execution_count", None) if shell is not None else None


def _version() -> str:
    from dbcode import __version__

    return __version__


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- main entry
def save_figure(
    fig,
    fig_id: str,
    *,
    chapter: str,
    scale: str,
    seeds,
    params,
    data_source: str,
    key_numbers: Mapping[str, Any],
    runtime_s: float | None = None,
    caption: str | None = None,
    cell: int | str | None = None,
    stamp: bool = True,
    directory: Path | str | None = None,
) -> dict[str, Any]:
    """Save ``fig`` as ``<fig_id>.png`` and ``<fig_id>.svg`` and record it in the manifest.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure. Its scale is stamped into the lower right corner (``stamp=False``
        to skip).
    fig_id : str
        File stem, e.g. ``"fig4b"`` (letters, digits, ``_ . -``).
    chapter : str
        Name of the chapter that makes the figure: its file stem, e.g. ``"bars"``. The
        pipeline uses it to drop figures a chapter no longer makes.
    scale : str
        ``"ci"`` or ``"paper"`` (the chapter's ``scale`` parameter).
    seeds : int or sequence of int
        Every seed that went into the figure.
    params : object
        Parameters of the simulation(s): a dataclass, a mapping, or anything
        :func:`jsonable` understands.
    data_source : str
        Where the input data came from (e.g. ``"dbcode.data.bars(seed=0)"`` or
        ``"MNIST via pooch, sha256 …"``).
    key_numbers : mapping
        The numbers the figure shows, checked against the committed manifest (see the
        module docstring).
    runtime_s : float, optional
        Simulation time in seconds behind the figure.
    caption : str, optional
        Caption text, stored in the manifest.
    cell : int or str, optional
        Label of the producing cell; defaults to the IPython execution count.
    directory : path, optional
        Output folder; default :func:`figures_dir`.

    Returns
    -------
    dict
        The manifest entry that was written.
    """
    if not isinstance(fig_id, str) or not _FIG_ID.match(fig_id):
        raise ValueError(f"invalid fig_id {fig_id!r}: use letters, digits, '_', '.', '-'")
    if not isinstance(key_numbers, Mapping):
        raise TypeError("key_numbers must be a mapping of name -> number or {'value': ...}")
    for name, value in key_numbers.items():
        if isinstance(value, Mapping) and "value" not in value:
            raise ValueError(f"key_numbers[{name!r}] is a mapping without 'value'")

    import matplotlib

    out = Path(directory) if directory is not None else figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    if stamp:
        stamp_scale(fig, scale)
    smallest = smallest_text(fig)
    covered = covered_by_legends(fig)

    files = []
    # Reproducible files: no date in the SVG, stable element ids.
    with matplotlib.rc_context({"svg.hashsalt": fig_id, "svg.fonttype": "path"}):
        for fmt in FORMATS:
            target = out / f"{fig_id}.{fmt}"
            tmp = out / f".{fig_id}.tmp.{fmt}"
            metadata = {"Date": None} if fmt == "svg" else {}
            fig.savefig(tmp, format=fmt, dpi=DPI, bbox_inches="tight", metadata=metadata)
            os.replace(tmp, target)
            files.append(target.name)

    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        seeds = [seeds]
    entry = {
        "fig_id": fig_id,
        "chapter": chapter,
        "cell": cell if cell is not None else _execution_count(),
        "scale": scale,
        "seeds": jsonable(list(seeds)),
        "params": jsonable(params),
        "data_source": data_source,
        "dbcode_version": _version(),
        "git": git_state(),
        "runtime_s": None if runtime_s is None else round(float(runtime_s), 3),
        "key_numbers": jsonable(key_numbers),
        "caption": caption,
        "smallest_text": None if smallest is None else vars(smallest),
        "covered_by_legends": covered,
        "files": files,
        "created": _now(),
    }
    path = manifest_path(out)
    with locked(path):
        manifest = load_manifest(path)
        manifest[fig_id] = entry
        write_manifest(manifest, path)
    return entry
