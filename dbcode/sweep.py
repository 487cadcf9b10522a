"""Sweeps of many networks on Dask: the local cores by default, any Dask cluster alike.

A sweep is a list of :class:`~dbcode.experiments.Job`. :func:`run` submits the jobs that
are not yet in the :class:`~dbcode.cache.ResultStore` to a Dask cluster; every worker
writes its finished network to the store at once (atomically), so an interrupted sweep
loses at most the networks that were running and a rerun skips the rest. The store must
be on a file system the workers share with the client (one machine, or a cluster's
shared home/scratch).

The named sweeps of the paper's figures are in :data:`SWEEPS`; the command line
(``python -m dbcode sweep fig4b --scale paper``) runs them.

Clusters
--------
- default: ``dask.distributed.LocalCluster`` with one single-threaded worker process
  per core (``workers=N`` to choose);
- ``scheduler="tcp://host:8786"``: an existing scheduler (``dask scheduler`` on one
  machine, ``dask worker tcp://host:8786`` on others);
- ``scheduler=cluster``: any cluster object, e.g. from ``dask_jobqueue`` (optional)::

      from dask_jobqueue import SLURMCluster
      cluster = SLURMCluster(cores=1, processes=1, memory="2GB", walltime="04:00:00")
      cluster.scale(jobs=64)
      dbcode.sweep.run(jobs, scheduler=cluster)
"""

from __future__ import annotations

import datetime
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cache import Result, ResultStore, caching_disabled, key_for
from .experiments import Job, default_workers, run_network
from .params import ParameterError, check_count, check_scale
from .progress import progress_bar


def job_key(job: Job) -> str:
    """The store key of a job's network (also its Dask task name)."""
    return key_for("network", job.key_params(), job.seed)


def pending(jobs: Sequence[Job], store: ResultStore) -> list[Job]:
    """Jobs whose network is not in the store yet, or whose entry is corrupt (the store
    checks every entry's checksum and drops a corrupt one)."""
    if caching_disabled():
        return list(jobs)
    return [job for job in jobs if store.get(job_key(job)) is None]


def _work(job: Job, root: str) -> float:
    """Worker side: compute and store one network; returns its runtime in seconds."""
    result = run_network(job, store=ResultStore(root), progress=False)
    return float(result.meta["runtime_s"])


SCHEDULER_TIMEOUT_S = 10.0


class SchedulerUnreachable(ConnectionError):
    """The Dask scheduler given by address did not answer."""


def client_for(scheduler=None, workers: int | None = None):
    """A Dask client: a new ``LocalCluster``, a scheduler address, or a cluster object."""
    from dask.distributed import Client, LocalCluster

    if scheduler is None:
        if workers is not None and workers < 1:
            raise ParameterError(f"workers must be at least 1, got {workers}")
        cluster = LocalCluster(
            n_workers=workers or default_workers(), threads_per_worker=1, processes=True,
            # dashboard on any free port: never clashes. Worker logs are silenced up to
            # CRITICAL: on shutdown a worker's heartbeat can race the closing scheduler and
            # log a harmless ERROR into the calling cell; a failed job still raises in
            # the client through its future.
            dashboard_address=":0", silence_logs=logging.CRITICAL,
        )
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout=SCHEDULER_TIMEOUT_S), None
    except (OSError, TimeoutError) as err:
        raise SchedulerUnreachable(
            f"no Dask scheduler answered at {scheduler} within {SCHEDULER_TIMEOUT_S:g} s "
            f"({type(err).__name__}). Start one there (dask scheduler; dask worker "
            f"{scheduler}), or leave out the scheduler to use the cores of this machine."
        ) from None


def run(jobs: Sequence[Job], *, scheduler=None, workers: int | None = None,
        store: ResultStore | None = None, progress: bool | None = None,
        desc: str = "networks", on_done: Callable[[Job, float], None] | None = None
        ) -> list[Result]:
    """Compute every job not yet in the store on Dask, then return all results in order.

    Parameters
    ----------
    jobs : sequence of Job
        All are validated before anything is submitted.
    scheduler : None, str or cluster
        See the module docstring.
    workers : int, optional
        Worker processes of the default ``LocalCluster`` (default: one per core).
    store : ResultStore, optional
    progress : bool, optional
        A bar over networks (``None``: when interactive).
    on_done : callable, optional
        Called with each finished job and its runtime.
    """
    for job in jobs:
        job.validate()
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ParameterError(f"workers must be a positive number of processes, got {workers!r}")
    store = store if store is not None else ResultStore()
    todo = pending(jobs, store)
    if todo:
        client, cluster = client_for(scheduler, workers)  # fails early if unreachable
        with progress_bar(len(jobs), desc, enabled=progress, unit="net",
                          initial=len(jobs) - len(todo)) as bar:
            _submit_all(todo, store, client, cluster, bar, on_done)
    return [run_network(job, store=store) for job in jobs]


def _submit_all(todo, store, client, cluster, bar, on_done):
    from dask.distributed import as_completed

    try:
        keys = [job_key(job) for job in todo]
        futures = client.map(_work, todo, root=str(store.root), key=keys, pure=False,
                             retries=2)
        by_key = dict(zip(keys, todo))
        started = time.monotonic()
        for finished, future in enumerate(as_completed(futures), start=1):
            runtime = future.result()
            bar.update(1)
            bar.set_postfix_str(f"ends ~{finishing_clock(started, finished, len(todo))}")
            if on_done is not None:
                on_done(by_key[future.key], runtime)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def finishing_clock(started: float, finished: int, total: int) -> str:
    """Projected wall-clock time (``HH:MM``) at which ``total`` jobs end, when
    ``finished`` of them took the time since ``started`` (``time.monotonic``)."""
    elapsed = time.monotonic() - started
    remaining = elapsed / finished * (total - finished)
    end = datetime.datetime.now() + datetime.timedelta(seconds=remaining)
    return end.strftime("%H:%M")


@dataclass
class Status:
    """Progress of a sweep as seen in the store."""

    total: int
    done: int
    runtime_s: list[float]

    @property
    def mean_runtime_s(self) -> float | None:
        return sum(self.runtime_s) / len(self.runtime_s) if self.runtime_s else None

    def projected_s(self, workers: int) -> float | None:
        """Remaining wall time on ``workers`` cores at the mean runtime so far."""
        mean = self.mean_runtime_s
        return None if mean is None else (self.total - self.done) * mean / max(1, workers)

    def format(self, workers: int) -> str:
        lines = [f"{self.done} of {self.total} networks done"]
        if self.mean_runtime_s is not None:
            lines.append(f"mean runtime {self.mean_runtime_s:.1f} s per network")
            left = self.projected_s(workers)
            hours, rest = divmod(int(round(left)), 3600)
            lines.append(f"projected remaining time on {workers} worker(s): "
                         f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d} "
                         f"({left / 3600:.1f} h)")
        return "\n".join(lines)


def status(jobs: Sequence[Job], store: ResultStore | None = None) -> Status:
    """How many jobs of a sweep are in the store, and how long they took."""
    store = store if store is not None else ResultStore()
    runtimes = []
    done = 0
    for job in jobs:
        key = job_key(job)
        if key in store:
            entry = store.get(key)
            if entry is not None:
                done += 1
                runtimes.append(float(entry.meta.get("runtime_s", 0.0)))
    return Status(total=len(jobs), done=done, runtime_s=runtimes)


def _fig4b(scale: str, n_seeds: int | None) -> list[Job]:
    from . import bars_experiment

    return bars_experiment.sweep_jobs(scale, n_seeds=n_seeds)


def _fig3c(scale: str, n_seeds: int | None) -> list[Job]:
    from . import mnist_experiment

    by_rule = mnist_experiment.comparison_jobs(scale, range(3 if n_seeds is None else n_seeds))
    return [job for jobs in by_rule.values() for job in jobs]


def _fig5b(scale: str, n_seeds: int | None) -> list[Job]:
    from . import scenes_experiment

    seeds = range(1 if n_seeds is None else n_seeds)
    by_condition = scenes_experiment.sweep_jobs(scale, seeds)
    return [job for jobs in by_condition.values() for job in jobs]


def _fig5b_noise(scale: str, n_seeds: int | None) -> list[Job]:
    from . import scenes_experiment

    seeds = range(1 if n_seeds is None else n_seeds)
    by_condition = scenes_experiment.noise_jobs(scale, seeds)
    return [job for jobs in by_condition.values() for job in jobs]


def _fig6a(scale: str, n_seeds: int | None) -> list[Job]:
    from . import delays_experiment

    return [job for seed in range(1 if n_seeds is None else n_seeds)
            for job in delays_experiment.scan_jobs(scale, seed).values()]


SWEEPS: dict[str, Callable[[str, int | None], list[Job]]] = {
    "fig3c": _fig3c, "fig4b": _fig4b, "fig5b": _fig5b, "fig5b-noise": _fig5b_noise,
    "fig6a": _fig6a,
}
"""Named sweeps: figure id -> function (scale, number of seeds or None) -> jobs."""


def named_jobs(name: str, scale: str = "ci", n_seeds: int | None = None) -> list[Job]:
    """The jobs of a named sweep (:data:`SWEEPS`) at ``scale``; ``n_seeds`` seeds per
    condition (``None``: the sweep's default).

    Raises
    ------
    ParameterError
        For an unknown name or scale, or a number of seeds below 1.
    """
    if name not in SWEEPS:
        raise ParameterError(f"unknown sweep {name!r}; choose one of {', '.join(SWEEPS)}")
    check_scale(scale)
    if n_seeds is not None:
        check_count(n_seeds, "the number of seeds")
    return SWEEPS[name](scale, n_seeds)


def summarize_network(job: Job, result: Result, tail: int = 3) -> dict:
    """The few numbers of one finished network that a paper-scale summary keeps."""
    arrays = result.arrays
    row = {
        "experiment": job.experiment, "scale": job.scale, "seed": job.seed,
        "variant": job.params.variant, "n_z": job.params.n_z, "data": dict(job.data),
        "final_loss": float(np.mean(arrays["test_loss"][-tail:])),
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
    if row["diverged"]:
        return row  # weights are not finite: no features to measure
    if job.experiment == "bars":
        from .analysis import distinct_features
        from .data.bars import bar_templates

        row["distinct_bars"] = distinct_features(arrays["F"], bar_templates())
    if job.experiment == "scenes":
        from .scenes_experiment import orientation_summary

        row.update({f"orientation_{k}": v for k, v in orientation_summary(arrays["F"]).items()})
        row["sigma2_final"] = job.params.sigma2_final
    return row


FIELD_EXPERIMENTS = ("scenes",)
"""Experiments whose exported summary keeps the learned input weights ``F`` (receptive
fields; a few hundred kilobytes for a whole sweep) beside the JSON."""


def fields_path(path) -> Path:
    """The ``.npz`` beside a summary ``<name>.json`` holding its networks' ``F``."""
    path = Path(path)
    return path.with_name(f"{path.stem}_fields.npz")


def field_name(row: dict) -> str:
    """Name of a network's ``F`` in :func:`fields_path`: ``<variant>_n<N_z>_s<seed>``."""
    return f"{row['variant']}_n{row['n_z']}_s{row['seed']}"


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


def export_summary(jobs: Sequence[Job], store: ResultStore, path, *, force: bool = False
                   ) -> dict:
    """Write the summary of every finished job of a sweep to a small JSON file (the
    committed record of paper-scale runs); unfinished jobs are counted, not listed.

    A job counts as finished when the store holds a network with its parameters and
    seed. The entry of the current code version is taken where there is one, else the
    newest of an older version (each row records the version that computed it), so a
    long sweep keeps its record across code changes that leave the rules alone.

    Raises
    ------
    RecordShrinks
        If ``path`` holds a record with networks the new one would not have (an empty
        or another store): nothing is written unless ``force``; the message lists them.
    """
    from .cache import to_jsonable

    stored = _stored_networks(store)
    rows, fields = [], {}
    for job in jobs:
        current = job_key(job)
        wanted = json.dumps([to_jsonable(job.key_params(), hash_arrays=False), job.seed],
                            sort_keys=True)
        candidates = sorted(stored.get(wanted, []), reverse=True)
        keys = [current] * (current in store) + [key for _, key in candidates]
        entry = next((e for e in map(store.get, keys) if e is not None), None)
        if entry is not None:
            rows.append(summarize_network(job, entry))
            if job.experiment in FIELD_EXPERIMENTS:
                fields[field_name(rows[-1])] = entry.arrays["F"].astype(np.float16)
    summary = to_jsonable({"total": len(jobs), "done": len(rows), "networks": rows},
                          hash_arrays=False)
    path = Path(path)
    if path.is_file() and not force:
        old = {_row_id(row) for row in json.loads(path.read_text()).get("networks", [])}
        dropped = sorted(old - {_row_id(row) for row in summary["networks"]})
        if dropped:
            raise RecordShrinks(
                f"{path} has {len(old)} networks; the store {store.root} has {len(rows)} of "
                f"this sweep, so exporting would drop {len(dropped)}: "
                + "; ".join(dropped[:10]) + (" ..." if len(dropped) > 10 else "")
                + ". Nothing written: export from the store that holds them, or pass "
                "--force to replace the record anyway."
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=1, sort_keys=True, allow_nan=False) + "\n")
    if fields:
        np.savez_compressed(fields_path(path), **fields)
    return summary


def summary_path(name: str, scale: str = "paper") -> Path | None:
    """Where the committed summary of a sweep lives (``results/<scale>/<name>.json`` in
    the repository), or ``None`` outside a source checkout."""
    from .figures import repo_root

    root = repo_root()
    return None if root is None else root / "results" / scale / f"{name}.json"


def load_summary(name: str, scale: str = "paper") -> dict | None:
    """The committed summary of a sweep (see :func:`export_summary`), if there is one."""
    path = summary_path(name, scale)
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text())


def losses_by_condition(summary: dict, condition: Callable[[dict], object],
                        variants: Sequence[str] = ("sb", "db"),
                        loss: Callable[[dict], float] = lambda row: row["final_loss"]
                        ) -> dict:
    """Losses of a summary (see :func:`export_summary`) as ``{variant: {condition:
    array over seeds}}``, conditions sorted; ``condition`` maps a row to its key and
    ``loss`` to its loss (default: the final loss)."""
    table: dict = {v: {} for v in variants}
    for row in summary["networks"]:
        if row["variant"] in table:
            table[row["variant"]].setdefault(condition(row), []).append(loss(row))
    return {v: {k: np.array(losses) for k, losses in sorted(by_k.items())}
            for v, by_k in table.items()}


def committed_records(scale: str = "paper") -> list[dict]:
    """One line per committed sweep summary (see :func:`export_summary`): how many of
    its networks are done and how long they took (seconds, as measured by each run)."""
    records = []
    for name in SWEEPS:
        summary = load_summary(name, scale)
        if not summary:
            continue
        runtimes = [row["runtime_s"] for row in summary["networks"]]
        records.append({
            "name": name, "done": summary["done"], "total": summary["total"],
            "runtime_mean_s": float(np.mean(runtimes)) if runtimes else None,
            "runtime_min_s": min(runtimes, default=None),
            "runtime_max_s": max(runtimes, default=None),
            "code_versions": sorted({row.get("code_version") or "?"
                                     for row in summary["networks"]}),
        })
    return records
