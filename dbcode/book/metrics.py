"""The frozen-metrics check: a build's key numbers against the committed manifest."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class MetricsReport:
    """Result of :func:`check_frozen_metrics`."""

    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    compared: int = 0
    equal: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures

    def format(self) -> str:
        lines = [
            f"frozen metrics: {self.compared} number(s) compared, {self.equal} bitwise "
            f"equal, {len(self.failures)} outside tolerance"
        ]
        lines += [f"  note: {n}" for n in self.notes]
        lines += [f"  FAIL: {f}" for f in self.failures]
        if self.failures:
            lines.append(
                "  A result moved beyond the tolerance measured from its seed-to-seed spread "
                "(figures/tolerances.json). If the change is intended, commit the regenerated "
                "figures/ (PNG, SVG and manifest.json) on purpose and measure the tolerances "
                "again (python -m dbcode tolerances); otherwise find what changed the result."
            )
        return "\n".join(lines)


def _as_float(value: Any) -> float | None:
    if isinstance(value, Mapping):
        value = value.get("value")
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("nan", "inf", "-inf"):
        return float(value)
    return None


def _plain(value: Any) -> Any:
    return value.get("value") if isinstance(value, Mapping) else value


def check_frozen_metrics(
    committed: Mapping[str, Any] | None,
    current: Mapping[str, Any],
    *,
    tolerances: Mapping[str, Any] | None = None,
    figure_ids: Iterable[str] | None = None,
) -> MetricsReport:
    """Compare ``key_numbers`` of ``current`` against ``committed`` manifests.

    A number passes when it is equal, or when ``|new - old|`` is within the tolerance
    measured from its seed-to-seed spread (:mod:`dbcode.book.tolerances`); a number with no
    measured tolerance must be equal. Other values (strings, lists, flags) must be equal,
    except those the measurement found to vary between seeds (a note). Figures missing
    from ``committed`` are new (a note), figures at a different scale are not compared
    (a note), and a number that disappeared is a failure.
    """
    report = MetricsReport()
    committed = committed or {}
    measured = (tolerances or {}).get("numbers", {})
    unstable = (tolerances or {}).get("unstable", {})
    if tolerances is None:
        report.notes.append("no figures/tolerances.json: every number must be equal")
    ids = sorted(figure_ids) if figure_ids is not None else sorted(current)
    if figure_ids is None:
        for fig_id in sorted(set(committed) - set(current)):
            report.notes.append(f"{fig_id}: committed but no longer in the manifest")
    unmeasured = []
    for fig_id in ids:
        new = current.get(fig_id)
        if new is None:
            continue
        old = committed.get(fig_id)
        if old is None:
            report.notes.append(f"{fig_id}: new figure, nothing to compare against")
            continue
        if old.get("scale") != new.get("scale"):
            report.notes.append(
                f"{fig_id}: committed at scale {old.get('scale')!r}, regenerated at "
                f"{new.get('scale')!r}; not compared"
            )
            continue
        old_numbers = old.get("key_numbers") or {}
        new_numbers = new.get("key_numbers") or {}
        for name in sorted(old_numbers):
            old_value = _plain(old_numbers[name])
            if name not in new_numbers:
                report.failures.append(f"{fig_id}.{name}: committed {old_value!r}, now missing")
                continue
            new_value = _plain(new_numbers[name])
            report.compared += 1
            if json.dumps(old_value, sort_keys=True) == json.dumps(new_value, sort_keys=True):
                report.equal += 1
                continue
            a, b = _as_float(old_value), _as_float(new_value)
            if a is not None and b is not None:
                if math.isnan(a) and math.isnan(b):
                    report.equal += 1
                    continue
                spec = measured.get(fig_id, {}).get(name)
                if spec is None:
                    unmeasured.append(f"{fig_id}.{name}")
                    report.failures.append(
                        f"{fig_id}.{name}: committed {a:.6g}, now {b:.6g}, and no measured "
                        "tolerance (run python -m dbcode tolerances)"
                    )
                elif not abs(b - a) <= spec["tolerance"]:
                    report.failures.append(
                        f"{fig_id}.{name}: committed {a:.6g}, now {b:.6g} (difference "
                        f"{abs(b - a):.3g} > tolerance {spec['tolerance']:.3g} = measured "
                        f"seed spread {spec['sd']:.3g} x {tolerances.get('k_sd', '?')})"
                    )
            elif name in unstable.get(fig_id, {}):
                report.notes.append(
                    f"{fig_id}.{name}: {old_value!r} -> {new_value!r} "
                    "(varies between seeds; not compared)"
                )
            else:
                report.failures.append(
                    f"{fig_id}.{name}: committed {old_value!r}, now {new_value!r}"
                )
        for name in sorted(set(new_numbers) - set(old_numbers)):
            report.notes.append(f"{fig_id}.{name}: new number, nothing to compare against")
    return report
