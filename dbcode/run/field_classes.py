"""Receptive-field classes of a committed record, fitted once and committed beside it.

Classifying a field (:func:`dbcode.analysis.field_fits.classify_field`) takes two
least-squares fits, tens of milliseconds; a paper-scale record of the Fig 5B grid holds
several thousand fields, and a chapter that refitted them on every build would spend
minutes on work whose answer does not change. :func:`write_record_classes` fits every
field of a record's ``<name>_fields.npz`` and writes ``<name>_classes.json`` beside it;
:func:`record_classes` reads it back. Each network's entry carries a digest of its
field array and the file the version of the fitting code (:func:`classifier_version`),
so an entry is used only for the very array and code that produced it: anything else
is fitted again, and a test holds the committed file to the current fields and code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from dbcode.analysis.field_fits import classify_fields
from dbcode.analysis.orientation import receptive_fields
from dbcode.core.progress import progress_bar
from dbcode.run.codeversion import code_version

__all__ = [
    "CLASSIFIER_MODULES",
    "classes_path",
    "classifier_version",
    "field_digest",
    "network_classes",
    "record_classes",
    "write_record_classes",
]

CLASSIFIER_MODULES = (
    "dbcode.analysis.field_fits",
    "dbcode.analysis.orientation",
    "dbcode.data.natural",
)
"""The modules whose code decides a field's class: the fits, and the mapping of a row of
``F`` to its on-minus-off field."""


_COLUMNS = ("class", "r2_gabor", "r2_dog")


def classifier_version() -> str:
    """:func:`~dbcode.run.codeversion.code_version` of :data:`CLASSIFIER_MODULES`."""
    return code_version(CLASSIFIER_MODULES)


def classes_path(path) -> Path:
    """The ``<name>_classes.json`` beside a summary ``<name>.json``."""
    path = Path(path)
    return path.with_name(f"{path.stem}_classes.json")


def field_digest(F: np.ndarray) -> str:
    """A digest of a network's input weights ``F`` as the record stores them (half
    precision), the same for the stored array and for its widened copy."""
    array = np.ascontiguousarray(np.asarray(F, dtype=np.float16))
    head = f"{array.shape}".encode()
    return hashlib.sha256(head + array.tobytes()).hexdigest()[:24]


def network_classes(F: np.ndarray) -> list[dict]:
    """Fits and class of every receptive field of ``F`` (one per neuron)."""
    return classify_fields(receptive_fields(np.asarray(F, dtype=float)))


def _committed(path: Path) -> dict:
    target = classes_path(path)
    if not target.is_file():
        return {}
    stored = json.loads(target.read_text())
    if stored.get("classifier") != classifier_version():
        return {}
    return stored.get("networks", {})


def record_classes(
    fields: Mapping[str, np.ndarray], path=None, progress: bool | None = None
) -> dict[str, list[dict]]:
    """Per-field fits and class of every network in ``fields`` (keys as in
    :func:`dbcode.run.records.load_fields`): taken from the committed classes beside the
    record at ``path`` where they were fitted to the same array by the same code, fitted
    here otherwise (with a progress bar)."""
    committed = _committed(Path(path)) if path is not None else {}
    out, todo = {}, []
    for key, F in fields.items():
        entry = committed.get(key)
        if entry is not None and entry["fields"] == field_digest(F):
            columns = entry["classes"]
            out[key] = [dict(zip(columns, values)) for values in zip(*columns.values())]
        else:
            todo.append(key)
    if todo:
        with progress_bar(len(todo), "fitting receptive fields", progress, "network") as bar:
            for key in todo:
                out[key] = network_classes(fields[key])
                bar.update()
    return {key: out[key] for key in fields}


def write_record_classes(path, fields: Mapping[str, np.ndarray]) -> Path:
    """Fit (where the committed file does not already hold them) and write the classes
    of every network of ``fields`` beside the record at ``path``; returns the file."""
    classes = record_classes(fields, path)
    lines = []
    for key in sorted(fields):
        columns = {name: [row[name] for row in classes[key]] for name in _COLUMNS}
        entry = {"fields": field_digest(fields[key]), "classes": columns}
        lines.append(f" {json.dumps(key)}: {json.dumps(entry, allow_nan=False)}")
    target = classes_path(path)
    # one network per line: a new network is a one-line change of the committed file
    target.write_text(
        f'{{"classifier": {json.dumps(classifier_version())}, "networks": {{\n'
        + ",\n".join(lines)
        + "\n}}\n"
    )
    return target
