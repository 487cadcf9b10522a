"""The named sweeps of the paper's figures, registered by the chapters.

A chapter module registers each sweep its figures need (``register("fig4b", jobs,
describe=...)``): how to build its jobs at a scale, and which columns of its own a
committed record keeps for every network. The command line and the records
(:mod:`dbcode.run.records`) look sweeps up here; ``import dbcode.chapters`` registers
all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dbcode.model.params import ParameterError, check_count, check_scale
from dbcode.run.jobs import Job
from dbcode.run.store import Result

__all__ = ["SWEEPS", "NamedSweep", "named_jobs", "named_sweep", "register"]


@dataclass(frozen=True)
class NamedSweep:
    """One named sweep.

    Attributes
    ----------
    name : str
        Figure id, e.g. ``"fig4b"``.
    jobs : callable
        ``(scale, n_seeds or None) -> list of Job``; ``None`` means the sweep's default
        number of seeds.
    describe : callable, optional
        ``(job, result) -> dict`` of extra columns of a network's row in the record
        (e.g. the distinct bars of a bars network).
    keep_fields : bool
        Keep every network's input weights ``F`` beside the record (receptive fields).
    keep_states : bool
        Keep every network's final state (``F``, ``D``, ``W``, ``b``, ``sigma``) beside
        the record, for analyses at frozen weights.
    """

    name: str
    jobs: Callable[[str, int | None], list[Job]]
    describe: Callable[[Job, Result], dict] | None = None
    keep_fields: bool = False
    keep_states: bool = False


SWEEPS: dict[str, NamedSweep] = {}
"""Registered sweeps by name."""


def register(
    name: str,
    jobs: Callable[[str, int | None], list[Job]],
    *,
    describe: Callable[[Job, Result], dict] | None = None,
    keep_fields: bool = False,
    keep_states: bool = False,
) -> NamedSweep:
    """Register (or replace) the named sweep ``name``; returns it."""
    SWEEPS[name] = NamedSweep(name, jobs, describe, keep_fields, keep_states)
    return SWEEPS[name]


def named_sweep(name: str) -> NamedSweep:
    """The registered sweep ``name`` (:class:`ParameterError` naming the others)."""
    if name not in SWEEPS:
        known = ", ".join(sorted(SWEEPS)) or "none registered: import dbcode.chapters"
        raise ParameterError(f"unknown sweep {name!r}; choose one of {known}")
    return SWEEPS[name]


def named_jobs(name: str, scale: str = "ci", n_seeds: int | None = None) -> list[Job]:
    """The jobs of a named sweep at ``scale``; ``n_seeds`` seeds per condition (``None``:
    the sweep's default).

    Raises
    ------
    ParameterError
        For an unknown name or scale, or a number of seeds below 1.
    """
    sweep = named_sweep(name)
    check_scale(scale)
    if n_seeds is not None:
        check_count(n_seeds, "the number of seeds")
    return sweep.jobs(scale, n_seeds)
