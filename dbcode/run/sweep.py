"""Sweeps of many networks on Dask: the local cores by default, any Dask cluster alike.

A sweep is a list of :class:`~dbcode.run.jobs.Job`. :func:`run` submits the jobs that
are not yet in the :class:`~dbcode.run.store.ResultStore` to a Dask cluster; every worker
writes its finished network to the store at once (atomically), so an interrupted sweep
loses at most the networks that were running and a rerun skips the rest. The store must
be on a file system the workers share with the client (one machine, or a cluster's
shared home/scratch).

The named sweeps of the paper's figures are registered by the chapters in
:mod:`dbcode.run.registry`; the command line (``python -m dbcode sweep fig4b --scale
paper``) runs them.

Clusters
--------
- default: ``dask.distributed.LocalCluster`` with one single-threaded worker process
  per core (``workers=N`` to choose);
- ``scheduler="tcp://host:8786"``: an existing scheduler (``dask scheduler`` on one
  machine, ``dask worker tcp://host:8786`` on others);
- ``scheduler=cluster``: any cluster object, e.g. from ``dask_jobqueue`` (optional)::

      from dask_jobqueue import SLURMCluster
      cluster = SLURMCluster(
          cores=1, processes=1, memory="2GB", walltime="04:00:00"
      )
      cluster.scale(jobs=64)
      dbcode.run.sweep.run(jobs, scheduler=cluster)
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dbcode.core.progress import progress_bar
from dbcode.model.params import ParameterError
from dbcode.run.jobs import Job, default_workers, run_network
from dbcode.run.store import Result, ResultStore, caching_disabled, key_for


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
    import dask
    from dask.distributed import Client

    if scheduler is None:
        if workers is not None and workers < 1:
            raise ParameterError(f"workers must be at least 1, got {workers}")
        # one job per single-threaded worker at a time: Dask's default saturation (1.1)
        # hands each worker a second job to hold, so an expensive job can wait behind
        # another on a busy worker while a free worker runs cheaper ones: the jobs would
        # not start in the order given (the most expensive first)
        with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
            cluster = _local_cluster(workers)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout=SCHEDULER_TIMEOUT_S), None
    except (OSError, TimeoutError) as err:
        raise SchedulerUnreachable(
            f"no Dask scheduler answered at {scheduler} within {SCHEDULER_TIMEOUT_S:g} s "
            f"({type(err).__name__}). Start one there (dask scheduler; dask worker "
            f"{scheduler}), or leave out the scheduler to use the cores of this machine."
        ) from None


def _local_cluster(workers):
    from dask.distributed import LocalCluster

    return LocalCluster(
        n_workers=workers or default_workers(),
        threads_per_worker=1,
        processes=True,
        # dashboard on any free port: never clashes. Worker logs are silenced up to
        # CRITICAL: on shutdown a worker's heartbeat can race the closing scheduler and
        # log a harmless ERROR into the calling cell; a failed job still raises in
        # the client through its future.
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,
    )


def run(
    jobs: Sequence[Job],
    *,
    scheduler=None,
    workers: int | None = None,
    store: ResultStore | None = None,
    progress: bool | None = None,
    desc: str = "networks",
    on_done: Callable[[Job, float], None] | None = None,
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
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ParameterError(f"workers must be a positive number of processes, got {workers!r}")
    store = store if store is not None else ResultStore()
    todo = pending(jobs, store)
    if todo:
        client, cluster = client_for(scheduler, workers)  # fails early if unreachable
        with progress_bar(
            len(jobs), desc, enabled=progress, unit="net", initial=len(jobs) - len(todo)
        ) as bar:
            _submit_all(todo, store, client, cluster, bar, on_done)
    return [run_network(job, store=store) for job in jobs]


def _submit_all(todo, store, client, cluster, bar, on_done):
    from dask.distributed import as_completed

    try:
        keys = [job_key(job) for job in todo]
        futures = client.map(_work, todo, root=str(store.root), key=keys, pure=False, retries=2)
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
            lines.append(
                f"projected remaining time on {workers} worker(s): "
                f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d} "
                f"({left / 3600:.1f} h)"
            )
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


def run_grouped(
    groups: Mapping, *, progress: bool | None = None, desc: str = "networks", **kwargs
) -> dict:
    """:func:`run` on the jobs of ``{key: job or [jobs]}`` in one sweep (most expensive
    first, so the cores stay busy to the end); returns the same structure with a
    :class:`~dbcode.run.store.Result` in place of every job."""
    flat = [
        (key, job)
        for key, group in groups.items()
        for job in (group if isinstance(group, (list, tuple)) else [group])
    ]
    order = sorted(range(len(flat)), key=lambda i: -flat[i][1].cost())
    results = run([flat[i][1] for i in order], progress=progress, desc=desc, **kwargs)
    by_index = dict(zip(order, results))
    out: dict = {}
    for i, (key, _) in enumerate(flat):
        if isinstance(groups[key], (list, tuple)):
            out.setdefault(key, []).append(by_index[i])
        else:
            out[key] = by_index[i]
    return out
