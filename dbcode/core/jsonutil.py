"""One conversion of results, parameters and provenance to strict JSON."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
import os
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

__all__ = ["dumps", "to_json"]

Arrays = Literal["list", "hash", "summary"]


def to_json(
    obj: Any,
    *,
    arrays: Arrays = "list",
    max_array: int = 1000,
    tag_dataclasses: bool = False,
    strict: bool = True,
) -> Any:
    """Convert ``obj`` to plain JSON types, deterministically.

    Mappings become dicts with string keys, tuples and lists lists, sets lists sorted
    by their JSON text, numpy scalars Python numbers, paths strings, enums their value,
    dataclasses dicts (tagged with ``"__dataclass__": <class name>`` if
    ``tag_dataclasses``) and non-finite floats ``None`` (strict JSON has no NaN: results
    flag elsewhere what a missing value means, e.g. ``diverged``).

    Parameters
    ----------
    arrays : {"list", "hash", "summary"}
        numpy arrays as nested lists; as dtype, shape and SHA-256 of their bytes (for
        cache keys); or as lists up to ``max_array`` elements and ``{"shape", "dtype",
        "mean"}`` beyond (for the figure manifest).
    strict : bool
        Raise ``TypeError`` for an object without a JSON form (cache keys must not
        depend on ``repr``); otherwise use its ``repr``.
    """

    def again(value):
        return to_json(
            value,
            arrays=arrays,
            max_array=max_array,
            tag_dataclasses=tag_dataclasses,
            strict=strict,
        )

    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, int):
        return int(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        values = {f.name: again(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return {"__dataclass__": type(obj).__qualname__, **values} if tag_dataclasses else values
    if isinstance(obj, Mapping):
        return {str(k): again(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [again(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted((again(v) for v in obj), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(obj, enum.Enum):
        return again(obj.value)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, np.generic):
        return again(obj.item())
    if isinstance(obj, np.ndarray):
        if arrays == "hash":
            data = np.ascontiguousarray(obj)
            return {
                "__ndarray__": data.dtype.str,
                "shape": list(data.shape),
                "sha256": hashlib.sha256(data.tobytes()).hexdigest(),
            }
        if arrays == "list" or obj.size <= max_array:
            return again(obj.tolist())
        summary = {"shape": list(obj.shape), "dtype": str(obj.dtype)}
        if np.issubdtype(obj.dtype, np.number):
            summary["mean"] = again(float(np.mean(obj)))
        return summary
    if strict:
        raise TypeError(f"cannot convert {type(obj).__name__} to JSON: {obj!r}")
    return repr(obj)


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` of :func:`to_json` ``(obj)``, keys sorted, NaN refused."""
    kwargs.setdefault("sort_keys", True)
    return json.dumps(to_json(obj), allow_nan=False, **kwargs)
