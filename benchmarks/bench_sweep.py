"""Sweep throughput on 1 and on 2 Dask workers, as networks per minute and their ratio.

Runs the same small sweep (bars networks at CI scale, shortened) twice into empty
stores, once on a local cluster of one worker and once of two. Usage::

    python benchmarks/bench_sweep.py [--networks 8] [--presentations 6000]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from dbcode.run import sweep
from dbcode.run.jobs import Job
from dbcode.run.store import ResultStore


def jobs(n: int, presentations: int) -> list[Job]:
    return [
        Job("bars", "ci", seed=s, overrides={"variant": "db", "n_presentations": presentations})
        for s in range(n)
    ]


def networks_per_minute(workers: int, n: int, presentations: int) -> float:
    with tempfile.TemporaryDirectory() as root:
        started = time.perf_counter()
        sweep.run(jobs(n, presentations), workers=workers, store=ResultStore(root), progress=False)
        return n / (time.perf_counter() - started) * 60


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=8)
    parser.add_argument("--presentations", type=int, default=6_000)
    args = parser.parse_args(argv)
    networks_per_minute(1, 1, 10)  # compile the kernels once, outside the timing
    one = networks_per_minute(1, args.networks, args.presentations)
    two = networks_per_minute(2, args.networks, args.presentations)
    print(f"1 worker : {one:6.1f} networks/min")
    print(f"2 workers: {two:6.1f} networks/min   ratio {two / one:.2f}x")


if __name__ == "__main__":
    main()
