"""Simulated steps per second of the kernel against the plain per-step NumPy loop.

Both run in the same process on the same network, with learning on (CI-scale rates),
so the ratio is what the kernel buys. Usage::

    python benchmarks/bench_kernels.py [--json results.json] [--network bars] [--variant db] [--repeat 3]
                                       [--rho 0.05] [--trace-cutoff 0]

Networks: the bars network (N_z = 16, N_x = 64, dt = 1 ms, 15 Hz per neuron) and the
natural-image network (N_z = 200, N_x = 128, dt = 0.1 ms, 5 Hz per neuron: the paper's
1000 Hz population rate). Everything runs on one core: the NumPy loop's matrix products
use one OpenBLAS thread. The last line projects the time of one paper-scale bars network
(10^6 presentations of 100 steps). ``--rho`` sets the target rate (a rate so low that
the network almost never spikes measures the work done in every step alone) and
``--trace-cutoff`` the trace cut (0: none) of both sides.
"""

from __future__ import annotations

import os

# one core: the NumPy loop's matrix products must not spread over other cores (set before
# NumPy loads OpenBLAS)
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from dbcode.chapters.scenes import POPULATION_RATE  # noqa: E402
from dbcode.data import load_dataset  # noqa: E402
from dbcode.model.params import ENGINES, VARIANTS, preset  # noqa: E402
from dbcode.model.rules import Rates, initial_state, simulate_reference  # noqa: E402
from dbcode.model.simulate import run_segment  # noqa: E402

NETWORKS = {
    # name: (experiment, n_z, presentations for the kernel, for the NumPy loop)
    "bars": ("bars", 16, 20_000, 100),
    "scenes": ("scenes", 200, 40, 2),
}


def _setup(experiment, n_z, variant, n_pres, engine="spike-to-spike", seed=0, overrides=None):
    # natural images at the paper's population rate, rho = 1000 Hz / N_z (0.1 spikes
    # per step at N_z = 200), as every natural-image network of the book
    rate = {"rho": POPULATION_RATE / n_z} if experiment == "scenes" else {}
    changes = {**rate, **(overrides or {})}
    p = preset(experiment, "ci", variant=variant, n_z=n_z, engine=engine, **changes)
    data = load_dataset(
        "scenes" if experiment == "scenes" else "bars", n_train=500, n_test=10, seed=seed
    )
    rng = np.random.default_rng(seed)
    state = initial_state(p, data.train.shape[1], rng)
    order = rng.integers(len(data.train), size=n_pres)
    return p, state, data.train, order, rng


def steps_per_second(
    experiment,
    n_z,
    variant,
    n_pres,
    numpy_loop=False,
    engine="spike-to-spike",
    repeat=3,
    overrides=None,
):
    """Steps per second of a learning run of ``n_pres`` presentations (random numbers
    included); the best of ``repeat`` runs, which is the least disturbed by other load."""
    return max(
        _steps_per_second(experiment, n_z, variant, n_pres, numpy_loop, engine, overrides or {})
        for _ in range(repeat)
    )


def _steps_per_second(experiment, n_z, variant, n_pres, numpy_loop, engine, overrides):
    p, state, images, order, rng = _setup(
        experiment, n_z, variant, n_pres, engine, overrides=overrides
    )
    rates = Rates.of(p)
    started = time.perf_counter()
    if numpy_loop:
        uniforms = rng.random((n_pres * p.steps_per_presentation, p.n_z))
        simulate_reference(p, state, images, order, images[0], uniforms, rates)
    else:
        run_segment(state, p, images, order, images[0], 1, rates)
    return n_pres * p.steps_per_presentation / (time.perf_counter() - started)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--quick", action="store_true", help="fewer steps (smoke run)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (best of them counts)")
    parser.add_argument("--network", choices=sorted(NETWORKS), help="only this network")
    parser.add_argument("--variant", choices=VARIANTS, action="append", help="only these rules")
    parser.add_argument("--rho", type=float, help="target rate in Hz instead of the preset's")
    parser.add_argument(
        "--trace-cutoff", type=float, help="trace cut in tau instead of the preset's (0: none)"
    )
    args = parser.parse_args(argv)
    overrides = {
        name: value
        for name, value in (("rho", args.rho), ("trace_cutoff", args.trace_cutoff))
        if value is not None
    }
    results = []
    for name, (experiment, n_z, n_kernel, n_numpy) in NETWORKS.items():
        if args.network not in (None, name):
            continue
        for variant in args.variant or VARIANTS:
            kernel_pres = n_kernel // (20 if args.quick else 1)
            if variant in ("db-slow", "db-simultaneous") and name == "scenes":
                kernel_pres = max(2, kernel_pres // 20)  # N_z x N_x x N_z dendritic weights
            for engine in ENGINES:
                steps_per_second(  # compile
                    experiment, n_z, variant, 2, engine=engine, repeat=1, overrides=overrides
                )
            # rounds of the NumPy loop and each engine in turn, so that a change in the
            # machine's speed (other load, the host) touches both sides of a ratio alike
            slow, fast = 0.0, dict.fromkeys(ENGINES, 0.0)
            for _ in range(args.repeat):
                slow = max(
                    slow,
                    steps_per_second(
                        experiment, n_z, variant, n_numpy, True, repeat=1, overrides=overrides
                    ),
                )
                for engine in ENGINES:
                    fast[engine] = max(
                        fast[engine],
                        steps_per_second(
                            experiment,
                            n_z,
                            variant,
                            kernel_pres,
                            engine=engine,
                            repeat=1,
                            overrides=overrides,
                        ),
                    )
            for engine in ENGINES:
                results.append(
                    {
                        "network": name,
                        "variant": variant,
                        "engine": engine,
                        "kernel_steps_per_s": fast[engine],
                        "numpy_steps_per_s": slow,
                        "speedup": fast[engine] / slow,
                    }
                )
                print(
                    f"{name:7s} {variant:16s} {engine:15s} kernel {fast[engine]:12,.0f} steps/s   "
                    f"NumPy loop {slow:9,.0f} steps/s   ratio {fast[engine] / slow:7.1f}x",
                    flush=True,
                )
    engine = preset("bars", "paper").engine  # the engine a paper-scale bars network uses
    bars_db = [
        r
        for r in results
        if r["network"] == "bars" and r["variant"] == "db" and r["engine"] == engine
    ]
    if bars_db and not overrides:  # the paper's network only
        paper_steps = 1_000_000 * 100
        print(
            f"paper-scale bars network (1e8 steps, db, {engine} engine): "
            f"{paper_steps / bars_db[0]['kernel_steps_per_s']:.0f} s projected"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
