"""The committed records of paper-scale sweeps: small summaries of every finished network.

:func:`export_summary` writes ``results/<scale>/<name>.json`` (and the input weights
beside it where a sweep keeps them) from the result store; chapters read them with
:func:`load_summary`. A record is never replaced by one with fewer networks unless
asked to: networks of the committed record that the store lacks (a sweep spanning
machines or sessions, each with its own store) are kept as they are, and
:func:`committed_jobs` tells a sweep which networks it need not compute again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from dbcode.analysis.losses import final_loss
from dbcode.core.jsonutil import to_json
from dbcode.core.repo import repo_root
from dbcode.run.jobs import Job
from dbcode.run.registry import SWEEPS
from dbcode.run.store import Result, ResultStore
from dbcode.run.sweep import job_key


def summarize_network(
    job: Job, result: Result, describe: Callable[[Job, Result], dict] | None = None
) -> dict:
    """The few numbers of one finished network that a paper-scale summary keeps."""
    arrays = result.arrays
    row = {
        "job_id": job_identity(job),
        "experiment": job.experiment,
        "scale": job.scale,
        "seed": job.seed,
        "variant": job.params.variant,
        "n_z": job.params.n_z,
        "data": dict(job.data),
        "final_loss": final_loss(arrays["test_loss"]),
        "diverged": bool(result.meta.get("diverged", False)),
        "diverged_at": result.meta.get("diverged_at"),
        "test_loss": [float(v) for v in arrays["test_loss"]],
        "eval_at": [int(v) for v in arrays["eval_at"]],
        "rate_hz": float(np.mean(arrays["rates_hz"])),
        "below_1hz_at_test": int(np.sum(arrays["rates_hz"] < 1.0)),
        "train_rate_hz": float(np.mean(arrays["train_rates_hz"])),
        "runtime_s": float(result.meta["runtime_s"]),
        "code_version": result.provenance.get("code_version"),
        "data_source": result.meta.get("data_source"),
    }
    if describe is not None and not row["diverged"]:  # no features in non-finite weights
        row.update(describe(job, result))
    return row


def job_identity(job: Job) -> str:
    """What names a job's network in a record across code versions: a hash of its
    parameters, data options and seed (the store's key adds the code version)."""
    wanted = json.dumps([to_json(job.key_params(), tag_dataclasses=True), job.seed], sort_keys=True)
    return hashlib.sha256(wanted.encode()).hexdigest()[:24]


def fields_path(path) -> Path:
    """The ``.npz`` beside a summary ``<name>.json`` holding its networks' ``F``."""
    path = Path(path)
    return path.with_name(f"{path.stem}_fields.npz")


BEST_SUFFIX = "_best"
"""Suffix of the name of a network's ``F`` at its lowest test loss in :func:`fields_path`."""


def field_name(row: dict) -> str:
    """Name of a network's final ``F`` in :func:`fields_path`: ``<variant>_n<N_z>_s<seed>``,
    followed by ``_<condition>`` for rows with a ``condition`` column (spaces and
    punctuation as ``-``); its ``F`` where it coded best: the same with
    :data:`BEST_SUFFIX`."""
    name = f"{row['variant']}_n{row['n_z']}_s{row['seed']}"
    if "condition" in row:
        name += "_" + re.sub(r"[^0-9A-Za-z]+", "-", str(row["condition"])).strip("-")
    return name


def states_path(path) -> Path:
    """Where the final network states of the record at ``path`` are kept."""
    path = Path(path)
    return path.with_name(f"{path.stem}_states.npz")


STATE_ARRAYS = ("F", "D", "W", "b")
"""The arrays of a network's final state kept with ``keep_states`` (with its ``sigma``)."""


def load_states(name: str, scale: str = "paper") -> dict[str, dict[str, np.ndarray]]:
    """The committed final network states of a sweep (see :func:`export_summary`) by
    :func:`field_name`: ``{name: {"F", "D", "W", "b", "sigma"}}``; empty when there are
    none."""
    path = summary_path(name, scale)
    if path is None or not states_path(path).is_file():
        return {}
    out: dict[str, dict[str, np.ndarray]] = {}
    with np.load(states_path(path)) as npz:
        for key in npz.files:
            network, array = key.rsplit(".", 1)
            out.setdefault(network, {})[array] = npz[key].astype(float)
    return out


def load_fields(name: str, scale: str = "paper") -> dict[str, np.ndarray]:
    """The committed receptive fields of a sweep (see :func:`export_summary`), by
    :func:`field_name`; empty when there are none."""
    path = summary_path(name, scale)
    if path is None or not fields_path(path).is_file():
        return {}
    with np.load(fields_path(path)) as npz:
        return {k: npz[k].astype(float) for k in npz.files}


def _stored_networks(store: ResultStore) -> dict[str, list[tuple[str, str]]]:
    """Store entries of networks by ``[params, seed]`` (as JSON): ``(created, key)`` of
    every code version that computed one."""
    found: dict[str, list[tuple[str, str]]] = {}
    for key in store.keys():
        try:
            provenance = json.loads((store.root / f"{key}.json").read_text())["provenance"]
        except (OSError, ValueError, KeyError):
            continue
        if provenance.get("kind") == "network":
            wanted = json.dumps([provenance["params"], provenance["seed"]], sort_keys=True)
            found.setdefault(wanted, []).append((str(provenance.get("created", "")), key))
    return found


class RecordShrinks(ValueError):
    """An export would replace a committed record by one with fewer networks."""


def _row_id(row: dict) -> str:
    data = ",".join(f"{k}={v}" for k, v in sorted(row.get("data", {}).items()))
    return f"{row['variant']} n_z={row['n_z']} seed={row['seed']}" + (f" {data}" if data else "")


def _committed_rows_by_job(jobs: Sequence[Job], rows: Sequence[dict]) -> dict[int, dict]:
    """The committed row of each job (by index) that has one: by :func:`job_identity`,
    or, for rows written before it was kept, by variant, ``N_z``, seed and data options
    where those name exactly one job of the sweep."""
    by_identity = {job_identity(job): i for i, job in enumerate(jobs)}
    by_id: dict[str, list[int]] = {}
    for i, job in enumerate(jobs):
        by_id.setdefault(_row_id(_job_row_stub(job)), []).append(i)
    found: dict[int, dict] = {}
    for row in rows:
        if "job_id" in row:
            index = by_identity.get(row["job_id"])
        else:
            matches = by_id.get(_row_id(row), [])
            index = matches[0] if len(matches) == 1 else None
        if index is not None:
            found[index] = row
    return found


def _job_row_stub(job: Job) -> dict:
    return {
        "variant": job.params.variant,
        "n_z": job.params.n_z,
        "seed": job.seed,
        "data": dict(job.data),
    }


def _read_record(path: Path) -> tuple[list[dict], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Rows, field arrays and state arrays of the record at ``path`` (empty if none)."""
    if not path.is_file():
        return [], {}, {}
    rows = json.loads(path.read_text()).get("networks", [])
    arrays = []
    for extra in (fields_path(path), states_path(path)):
        if extra.is_file():
            with np.load(extra) as npz:
                arrays.append({k: npz[k] for k in npz.files})
        else:
            arrays.append({})
    return rows, arrays[0], arrays[1]


def committed_jobs(jobs: Sequence[Job], path) -> list[Job]:
    """The jobs whose network the record at ``path`` already holds (see
    :func:`export_summary`): a sweep need not compute them again."""
    rows, _, _ = _read_record(Path(path))
    found = _committed_rows_by_job(jobs, rows)
    return [job for i, job in enumerate(jobs) if i in found]


def rows_without_parameters(path) -> int:
    """How many rows of the record at ``path`` lack the ``job_id`` that names their
    parameters (rows written before it was kept): they match a job by variant, ``N_z``,
    seed and data options only, so they cannot tell a changed parameter."""
    rows, _, _ = _read_record(Path(path))
    return sum("job_id" not in row for row in rows)


def export_summary(
    jobs: Sequence[Job],
    store: ResultStore,
    path,
    *,
    describe: Callable[[Job, Result], dict] | None = None,
    keep_fields: bool = False,
    keep_states: bool = False,
    force: bool = False,
) -> dict:
    """Write the summary of every finished job of a sweep to a small JSON file (the
    committed record of paper-scale runs); unfinished jobs are counted, not listed.

    A job counts as finished when the store holds a network with its parameters and
    seed, or when the record at ``path`` already lists it: such a row (and its arrays)
    is kept as committed, so a sweep that spans stores loses nothing. From the store,
    the entry of the current code version is taken where there is one, else the newest
    of an older version (each row records the version that computed it), so a long
    sweep keeps its record across code changes that leave the rules alone.
    ``describe`` adds columns to every row (see :func:`summarize_network`);
    ``keep_fields`` writes every network's input weights beside the record, final and
    (where the store has them) at the network's lowest test loss; ``keep_states`` its
    final state (:data:`STATE_ARRAYS` in single precision and ``sigma``) in
    :func:`states_path`.

    Parameters
    ----------
    force : bool
        Write only what the store holds, dropping the committed rows it lacks.

    Raises
    ------
    RecordShrinks
        If ``path`` holds networks that are neither in the store nor jobs of this sweep
        (its grid changed): nothing is written unless ``force``; the message lists them.
    """
    path = Path(path)
    old_rows, old_fields, old_states = _read_record(path) if not force else ([], {}, {})
    committed = _committed_rows_by_job(jobs, old_rows)
    stored = _stored_networks(store)
    rows, fields, states = [], {}, {}
    for index, job in enumerate(jobs):
        current = job_key(job)
        wanted = json.dumps(
            [to_json(job.key_params(), tag_dataclasses=True), job.seed], sort_keys=True
        )
        candidates = sorted(stored.get(wanted, []), reverse=True)
        keys = [current] * (current in store) + [key for _, key in candidates]
        entry = next((e for e in map(store.get, keys) if e is not None), None)
        if entry is None:
            if index in committed:  # finished elsewhere: keep the committed row as it is
                row = committed[index]
                rows.append(row)
                name = field_name(row)
                for key, value in old_fields.items():
                    if key in (name, name + BEST_SUFFIX):
                        fields[key] = value
                for key, value in old_states.items():
                    if key.rsplit(".", 1)[0] == name:
                        states[key] = value
            continue
        rows.append(summarize_network(job, entry, describe))
        if keep_fields:
            fields[field_name(rows[-1])] = entry.arrays["F"].astype(np.float16)
            if "F_best" in entry.arrays:  # where the network coded best
                best = entry.arrays["F_best"].astype(np.float16)
                fields[field_name(rows[-1]) + BEST_SUFFIX] = best
        if keep_states:
            for array in STATE_ARRAYS:
                states[f"{field_name(rows[-1])}.{array}"] = entry.arrays[array].astype(np.float32)
            states[f"{field_name(rows[-1])}.sigma"] = np.float64(entry.meta["sigma"])
    summary = to_json({"total": len(jobs), "done": len(rows), "networks": rows})
    if path.is_file() and not force:
        old = {_row_id(row) for row in old_rows}
        dropped = sorted(old - {_row_id(row) for row in summary["networks"]})
        if dropped:
            raise RecordShrinks(
                f"{path} has {len(old)} networks, {len(dropped)} of which are neither in "
                f"the store {store.root} nor jobs of this sweep (its grid changed?): "
                + "; ".join(dropped[:10])
                + (" ..." if len(dropped) > 10 else "")
                + ". Nothing written: pass --force to replace the record by what the "
                "store holds."
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=1, sort_keys=True, allow_nan=False) + "\n")
    if fields:
        np.savez_compressed(fields_path(path), **fields)
    if states:
        np.savez_compressed(states_path(path), **states)
    return summary


def summary_path(name: str, scale: str = "paper") -> Path | None:
    """Where the committed summary of a sweep lives (``results/<scale>/<name>.json`` in
    the repository), or ``None`` outside a source checkout."""
    root = repo_root()
    return None if root is None else root / "results" / scale / f"{name}.json"


def load_summary(name: str, scale: str = "paper") -> dict | None:
    """The committed summary of a sweep (see :func:`export_summary`), if there is one."""
    path = summary_path(name, scale)
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text())


def losses_by_condition(
    summary: dict,
    condition: Callable[[dict], object],
    variants: Sequence[str] = ("sb", "db"),
    loss: Callable[[dict], float] = lambda row: row["final_loss"],
) -> dict:
    """Losses of a summary (see :func:`export_summary`) as ``{variant: {condition:
    array over seeds}}``, conditions sorted; ``condition`` maps a row to its key and
    ``loss`` to its loss (default: the final loss)."""
    table: dict = {v: {} for v in variants}
    for row in summary["networks"]:
        if row["variant"] in table:
            table[row["variant"]].setdefault(condition(row), []).append(loss(row))
    return {
        v: {k: np.array(losses) for k, losses in sorted(by_k.items())} for v, by_k in table.items()
    }


def committed_records(scale: str = "paper") -> list[dict]:
    """One line per committed sweep summary (see :func:`export_summary`): how many of
    its networks are done and how long they took (seconds, as measured by each run)."""
    records = []
    for name in sorted(SWEEPS):
        summary = load_summary(name, scale)
        if not summary:
            continue
        runtimes = [row["runtime_s"] for row in summary["networks"]]
        records.append(
            {
                "name": name,
                "done": summary["done"],
                "total": summary["total"],
                "runtime_mean_s": float(np.mean(runtimes)) if runtimes else None,
                "runtime_min_s": min(runtimes, default=None),
                "runtime_max_s": max(runtimes, default=None),
                "code_versions": sorted(
                    {row.get("code_version") or "?" for row in summary["networks"]}
                ),
            }
        )
    return records
