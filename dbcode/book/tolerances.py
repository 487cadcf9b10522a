"""Tolerances of the frozen key numbers, measured from their seed-to-seed spread.

On x86-64 with the locked versions a build gives the same bits as the committed one
(see :mod:`dbcode.model.fpmath`), so the frozen-metrics check finds every key number
*equal*. Another platform (ARM, another libm or numba) differs in the last bits, and
the spiking dynamics turn that into another trajectory: its numbers are those of
another seed. Each number therefore gets the tolerance

    ``tolerance = max(K_SD * sd, REL_FLOOR * |value|, ABS_FLOOR)``

where ``sd`` is the standard deviation of the number over CI-scale builds with
:data:`DEFAULT_SEEDS` (the committed seed 0 among them). A number that does not
depend on the seed (a parameter, an identity that holds to rounding) gets the floors.
A key number that is not a number and differs between seeds is listed as unstable and
not compared.

``python -m dbcode tolerances`` reruns the measurement
(:func:`dbcode.book.pipeline.measure_tolerances`) and writes ``figures/tolerances.json``;
:func:`dbcode.book.metrics.check_frozen_metrics` reads it.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping
from pathlib import Path
from typing import Any

K_SD = 6.0
"""Tolerance in standard deviations of the seed spread. A number on another platform is
like another seed's, so its distance from the committed value has about ``sqrt(2) sd``;
6 sd leaves room for the uncertainty of an sd measured from a handful of seeds."""
REL_FLOOR = 1e-6
ABS_FLOOR = 1e-12
DEFAULT_SEEDS = (0, 1000, 2000, 3000, 4000, 5000, 6000, 7000)
"""Build seeds of the measurement. Chapters use ``seed, seed + 1, ...`` for their
networks, so the builds' seeds are far apart: no network is shared between them."""
FILE_NAME = "tolerances.json"


def rule_text() -> str:
    return f"tolerance = max({K_SD:g} x seed-to-seed sd, {REL_FLOOR:g} x |value|, {ABS_FLOOR:g})"


def _number(value: Any) -> float | None:
    """The float of a key-number entry (plain or ``{"value": ...}``), ``None`` for
    strings, lists, booleans and missing values."""
    if isinstance(value, Mapping):
        value = value.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _plain(value: Any) -> Any:
    return value.get("value") if isinstance(value, Mapping) else value


def tolerances_from(manifests: Mapping[int, Mapping[str, Any]]) -> dict:
    """Tolerances from the manifests of builds with different seeds.

    Parameters
    ----------
    manifests : mapping of seed to manifest
        ``figures/manifest.json`` of each build (same scale).

    Returns
    -------
    dict
        ``rule``, ``seeds``, ``numbers`` (``{fig_id: {name: {"sd", "tolerance",
        "min", "max", "n"}}}``) and ``unstable`` (``{fig_id: {name: [values]}}``).
    """
    seeds = sorted(manifests)
    numbers: dict[str, dict] = {}
    unstable: dict[str, dict] = {}
    fig_ids = sorted({fig for m in manifests.values() for fig in m})
    for fig in fig_ids:
        entries = [manifests[s][fig] for s in seeds if fig in manifests[s]]
        names = sorted({n for e in entries for n in (e.get("key_numbers") or {})})
        for name in names:
            raw = [_plain((e.get("key_numbers") or {}).get(name)) for e in entries]
            values = [_number(v) for v in raw]
            if all(v is not None and math.isfinite(v) for v in values):
                sd = statistics.stdev(values) if len(values) > 1 else 0.0
                scale = max(abs(v) for v in values)
                numbers.setdefault(fig, {})[name] = {
                    "sd": sd,
                    "tolerance": max(K_SD * sd, REL_FLOOR * scale, ABS_FLOOR),
                    "min": min(values),
                    "max": max(values),
                    "n": len(values),
                }
            elif any(
                json.dumps(v, sort_keys=True) != json.dumps(raw[0], sort_keys=True) for v in raw
            ):
                unstable.setdefault(fig, {})[name] = raw
    return {
        "rule": rule_text(),
        "k_sd": K_SD,
        "rel_floor": REL_FLOOR,
        "abs_floor": ABS_FLOOR,
        "seeds": seeds,
        "numbers": numbers,
        "unstable": unstable,
    }


def path(root: Path) -> Path:
    return Path(root) / "figures" / FILE_NAME


def load(root: Path) -> dict | None:
    """The committed tolerances of the book at ``root`` (``None`` if there are none)."""
    p = path(root)
    return json.loads(p.read_text()) if p.is_file() else None


def write(root: Path, measured: Mapping[str, Any]) -> Path:
    target = path(root)
    target.write_text(json.dumps(measured, indent=1, sort_keys=True, allow_nan=False) + "\n")
    return target
