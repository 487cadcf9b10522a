"""Projected run time of every paper-scale sweep on 1 core and on 64 cores.

Each distinct condition of a named sweep (its parameters without the seed; for Fig 6A
also without beta, ``sigma2_final``, which leaves the work unchanged) is trained for a short prefix of
its run, seed 0, into a temporary store. The training time per presentation, times the
paper's number of presentations, is the projected time of one network. A sweep's time
on 1 core is the sum over its networks; on 64 cores the makespan of the
longest-job-first schedule. Where ``results/paper/<sweep>.json`` holds finished
paper-scale networks, their measured runtimes calibrate the projection: the ratio of
measured to projected time over the conditions that have both scales every projection
of that sweep (a prefix runs under other load and cache conditions than a whole run).
Usage::

    python benchmarks/project_paper_sweeps.py [--fraction 0.002] [--sweeps fig4b fig5b]

The prefix covers ``fraction`` of a run (at least ``--min-presentations``), all phases
of a phased protocol counted as full training, so the projection is an upper bound for
protocols that begin by training the decoder alone.
"""

from __future__ import annotations

import argparse
import heapq
import json
import tempfile
from collections import defaultdict

import dbcode.chapters  # noqa: F401  (registers the named sweeps)
from dbcode.run import records, registry
from dbcode.run.jobs import Job, run_network
from dbcode.run.store import ResultStore

SEEDS = {"fig3c": 1, "fig4b": 50, "fig5b": 1, "fig6a": 1}
"""Seeds per condition in the paper's figures (Fig 4B: 50 networks per c)."""
IGNORED = {"fig6a": ("sigma2_final",)}
"""Parameters that do not change a network's work (its cost class ignores them)."""


def cost_class(name: str, job: Job) -> str:
    params = job.params.to_dict()
    for key in IGNORED.get(name, ()):
        params.pop(key, None)
    return json.dumps([job.experiment, params, job.data], sort_keys=True, default=str)


def prefix_job(job: Job, presentations: int) -> Job:
    overrides = dict(
        job.overrides,
        n_presentations=presentations,
        n_evals=1,
        n_test_eval=min(20, job.params.n_test_eval),
    )
    if job.params.phases:
        overrides["phases"] = (("all", presentations),)
    return Job(job.experiment, job.scale, seed=0, overrides=overrides, data=dict(job.data))


def seconds_per_presentation(job: Job, presentations: int) -> float:
    with tempfile.TemporaryDirectory() as root:
        result = run_network(
            prefix_job(job, presentations), store=ResultStore(root), progress=False
        )
    return float(result.meta["runtime_s"]) / presentations


def makespan(durations: list[float], cores: int) -> float:
    """Finishing time of the longest-job-first schedule on ``cores`` cores."""
    loads = [0.0] * min(cores, max(1, len(durations)))
    for d in sorted(durations, reverse=True):
        heapq.heapreplace(loads, loads[0] + d)
    return max(loads)


def row_class(variant: str, n_z: int, data: dict) -> str:
    return json.dumps([variant, int(n_z), data], sort_keys=True)


def measured_runtimes(name: str) -> dict[str, list[float]]:
    """Runtimes of the committed paper-scale networks of a sweep, by variant, N_z and
    data options."""
    summary = records.load_summary(name, "paper") or {"networks": []}
    out: dict[str, list[float]] = defaultdict(list)
    for row in summary["networks"]:
        if "n_z" in row:
            out[row_class(row["variant"], row["n_z"], row["data"])].append(row["runtime_s"])
    return out


def project(name: str, fraction: float, min_presentations: int) -> dict:
    jobs = registry.named_jobs(name, "paper", SEEDS[name])
    classes: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        classes[cost_class(name, job)].append(job)
    measured = measured_runtimes(name)
    projected, sizes, pairs = [], [], []
    for members in classes.values():
        job = members[0]
        n = job.params.n_presentations
        k = max(min_presentations, int(fraction * n))
        seconds = seconds_per_presentation(job, k) * n
        projected.append(seconds)
        sizes.append(len(members))
        done = measured.get(row_class(job.params.variant, job.params.n_z, job.data))
        if done:
            pairs.append((sum(done) / len(done), seconds))
    ratio = sum(m for m, _ in pairs) / sum(p for _, p in pairs) if pairs else 1.0
    durations = [ratio * s for s, k in zip(projected, sizes) for _ in range(k)]
    return {
        "networks": len(jobs),
        "classes": len(classes),
        "calibration": ratio,
        "calibrated_on": len(pairs),
        "per_job_min_s": ratio * min(projected),
        "per_job_max_s": ratio * max(projected),
        "one_core_s": sum(durations),
        "cores_64_s": makespan(durations, 64),
    }


def _hours(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.002)
    parser.add_argument("--min-presentations", type=int, default=300)
    parser.add_argument("--sweeps", nargs="+", default=list(SEEDS), choices=list(SEEDS))
    args = parser.parse_args(argv)
    run_network(
        prefix_job(registry.named_jobs("fig4b", "paper", 1)[0], 5),
        store=ResultStore(tempfile.mkdtemp()),
        progress=False,
    )  # compile once
    print("| sweep | networks | per network | calibration | 1 core | 64 cores |")
    print("|---|---|---|---|---|---|")
    for name in args.sweeps:
        p = project(name, args.fraction, args.min_presentations)
        calibration = (
            f"x {p['calibration']:.2f} ({p['calibrated_on']} conditions)"
            if p["calibrated_on"]
            else "none"
        )
        print(
            f"| {name} | {p['networks']} | {_hours(p['per_job_min_s'])} - "
            f"{_hours(p['per_job_max_s'])} | {calibration} | {_hours(p['one_core_s'])} | "
            f"{_hours(p['cores_64_s'])} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
