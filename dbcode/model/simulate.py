"""Training and test evaluation of one network: the loop around the fast kernel.

:func:`train` runs the learning phases of a :class:`~dbcode.model.params.Params` on a data
set, evaluates the decoder loss on the held-out test set at regular checkpoints with
all plasticity off, and returns a :class:`RunResult` with everything a chapter plots.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from dbcode.core.progress import progress_bar
from dbcode.model import fpmath, kernels, prng
from dbcode.model.checkpoints import load_checkpoint, run_identity, save_checkpoint
from dbcode.model.params import ParameterError, Params
from dbcode.model.rules import NetworkState, Rates, initial_state, trace_threshold

MAX_STEPS_PER_CHUNK = 2_000_000
"""Steps per kernel call in training: the progress bar moves and divergence is caught
between calls. Results do not depend on it (the noise generator's state carries over)."""


def noise_state(source) -> np.ndarray:
    """The kernel's noise generator (:mod:`dbcode.model.prng`) from ``source``: an
    integer seed, a ``numpy.random.SeedSequence``, a ``numpy.random.Generator`` (one
    64-bit draw seeds it) or an existing ``(4,) uint64`` state (used as is)."""
    if isinstance(source, np.ndarray) and source.dtype == np.uint64 and source.shape == (4,):
        return source
    if isinstance(source, np.random.SeedSequence):
        return prng.new_state(int(source.generate_state(1, np.uint64)[0]))
    if isinstance(source, np.random.Generator):
        return prng.new_state(int(source.bit_generator.random_raw()))
    if isinstance(source, (int, np.integer)) and not isinstance(source, bool) and source >= 0:
        return prng.new_state(
            int(np.random.SeedSequence(int(source)).generate_state(1, np.uint64)[0])
        )
    raise ParameterError(
        "noise must be a non-negative integer seed, a numpy SeedSequence or Generator, or "
        f"a (4,) uint64 generator state; got {type(source).__name__}"
    )


def horizon_steps(params: Params) -> int:
    """Longest window over which the spike-to-spike mode bounds the spike
    probabilities: a quarter of the trace time constant (at least 4 steps)."""
    return max(4, min(1000, int(round(0.25 * params.tau / params.dt))))


@dataclass
class Segment:
    """What one call of the kernel produced."""

    loss: np.ndarray  # mean decoder loss per presentation
    counts: np.ndarray  # spikes per presentation and neuron
    record: dict = field(default_factory=dict)  # per-step records of the first steps


@dataclass
class RunResult:
    """Outcome of :func:`train`.

    Attributes
    ----------
    params, seed : the run's parameters and seed.
    state : NetworkState
        Final weights; ``W`` holds the somatic inhibition the soma sees (``-F D`` for
        analytic DB, ``sum_i W3`` for the dendritic variants).
    train_loss : (n_presentations,) array
        Mean decoder loss of every training presentation (with plasticity on).
    eval_at : (n_evals + 1,) int array
        Presentations after which the test set was evaluated (0 = before learning).
    test_loss : (n_evals + 1,) array
        Test decoder loss (Eq 1) at those checkpoints, plasticity off.
    rates_hz : (N_z,) array
        Firing rate of each neuron during the final test evaluation.
    train_rates_hz : (N_z,) array
        Firing rate of each neuron over the last 10 % of training (homeostasis on).
    test_counts : (n_test_eval, N_z) array
        Spikes per test image and neuron in the final evaluation.
    record : dict
        Per-step records of the start of the final evaluation (``s``, ``z``, ``exc``,
        ``inh``, ``u``, ``x``) when asked for with ``n_record``.
    runtime_s : float
    F_best : (N_z, N_x) array or None
        The input weights at the test evaluation with the lowest (finite) test loss,
        where the network coded best (``None`` without a finite test loss).
    best_at : int or None
        Presentations after which that evaluation came.
    diverged_at : int or None
        ``None`` for a network that trained to the end. Otherwise the number of
        training presentations after which its state (weights, bias, traces or loss)
        was found not finite and training stopped: the state is the one found, the
        losses and rates from there on are NaN and ``test_counts`` is empty.
    """

    params: Params
    seed: int
    state: NetworkState
    train_loss: np.ndarray
    eval_at: np.ndarray
    test_loss: np.ndarray
    rates_hz: np.ndarray
    train_rates_hz: np.ndarray
    test_counts: np.ndarray
    record: dict
    runtime_s: float
    diverged_at: int | None = None
    F_best: np.ndarray | None = None
    best_at: int | None = None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def final_loss(self) -> float:
        """Test loss of the last evaluation (NaN for a diverged network)."""
        return float(self.test_loss[-1])


def rate_vector(rates: Rates) -> np.ndarray:
    return np.array([rates.F, rates.D, rates.W, rates.b, rates.Fbar, rates.decay, rates.sigma])


def check_inputs(images: np.ndarray, n_x: int | None = None, what: str = "images") -> np.ndarray:
    """Validate a (n, N_x) input array before any simulation starts."""
    images = np.asarray(images, dtype=float)
    if images.ndim != 2:
        raise ParameterError(
            f"{what} must be a 2-D array (n_images, n_inputs), got shape {images.shape}"
        )
    if images.shape[0] == 0:
        raise ParameterError(f"{what} is empty")
    if images.shape[1] == 0:
        raise ParameterError(
            f"{what} have no inputs (shape {images.shape}); each image needs "
            "at least one input channel"
        )
    if n_x is not None and images.shape[1] != n_x:
        raise ParameterError(
            f"{what} have {images.shape[1]} inputs per image but the network has {n_x}"
        )
    if not np.all(np.isfinite(images)):
        raise ParameterError(f"{what} contain NaN or infinite values; clean the data first")
    return np.ascontiguousarray(images)


class _ArrayInputs:
    """An input array seen as a pool that training draws presentations from."""

    def __init__(self, images: np.ndarray):
        self.images = images
        self.n_x = images.shape[1]

    def __len__(self) -> int:
        return len(self.images)

    def inputs(self, indices) -> np.ndarray:
        return self.images[indices]


def training_pool(train_images):
    """``train_images`` as a pool (``len``, ``n_x``, ``inputs(indices)``): an input
    array is validated with :func:`check_inputs` and wrapped; an object that already
    has ``inputs`` (e.g. :class:`dbcode.data.natural.PatchPool`) is checked on its first
    inputs."""
    if not hasattr(train_images, "inputs"):
        return _ArrayInputs(check_inputs(train_images, what="train_images"))
    if len(train_images) == 0:
        raise ParameterError("the training pool is empty")
    check_inputs(train_images.inputs(np.arange(min(len(train_images), 16))), what="train pool")
    return train_images


STATE_ARRAYS = ("F", "D", "W", "W3", "Fbar", "b", "z")
"""The arrays of a :class:`~dbcode.model.rules.NetworkState`, in the order of its fields."""


def state_is_finite(state: NetworkState) -> bool:
    """Whether every weight, bias, trace and ``sigma`` of ``state`` is finite."""
    return math.isfinite(state.sigma) and all(
        bool(np.isfinite(getattr(state, name)).all()) for name in STATE_ARRAYS
    )


def check_state(state: NetworkState, params: Params, n_x: int) -> None:
    """Validate a state before the kernel sees it; makes its arrays C-contiguous float64
    in place.

    Raises
    ------
    ParameterError
        Naming the first array with a wrong shape, a non-numeric dtype or non-finite
        values (the kernel would read out of bounds or compute garbage).
    """
    n_z = params.n_z
    shapes = {
        "F": (n_z, n_x),
        "D": (n_x, n_z),
        "W": (n_z, n_z),
        "b": (n_z,),
        "z": (n_z,),
        "W3": (n_z, n_x, n_z) if params.is_dendritic else None,
        "Fbar": (n_z, n_x) if params.variant == "db-slow" else None,
    }
    for name, shape in shapes.items():
        value = np.asarray(getattr(state, name))
        if value.dtype.kind not in "iuf":
            raise ParameterError(
                f"state.{name} has dtype {value.dtype}; it must hold real numbers (float64)"
            )
        if shape is None:  # not used by this variant
            if value.size:
                value = np.ascontiguousarray(value, dtype=float)
            else:
                value = np.zeros((0,) * (3 if name == "W3" else 2))
        elif value.shape != shape:
            raise ParameterError(
                f"state.{name} has shape {value.shape}, but a {params.variant!r} network of "
                f"n_z={n_z} neurons on {n_x} inputs needs {shape}"
            )
        value = np.ascontiguousarray(value, dtype=float)
        if not np.isfinite(value).all():
            raise ParameterError(f"state.{name} contains NaN or infinite values")
        setattr(state, name, value)
    sigma = state.sigma
    if not (isinstance(sigma, (int, float, np.floating)) and math.isfinite(sigma) and sigma > 0):
        raise ParameterError(f"state.sigma must be a positive finite number, got {sigma!r}")
    state.sigma = float(sigma)


def _staggered_copy(a: np.ndarray, k: int) -> np.ndarray:
    """A C-contiguous copy of ``a`` whose address is ``k`` cache lines past a page
    boundary plus NumPy's own offset: rows of equal-sized matrices then differ in their
    address modulo 4 kB, so the processor does not mistake loads from one for loads of
    what was just stored to the other (4K aliasing)."""
    pad = 8 * k  # 64-byte lines of float64
    buf = np.empty(a.size + 8 * 4, dtype=float)
    out = buf[pad : pad + a.size].reshape(a.shape)
    out[...] = a
    return out


def run_segment(
    state: NetworkState,
    params: Params,
    images: np.ndarray,
    order: np.ndarray,
    x_start: np.ndarray,
    noise,
    rates: Rates,
    exact: bool = False,
    n_record: int = 0,
    diagnostics: np.ndarray | None = None,
    spike_log: np.ndarray | None = None,
) -> Segment:
    """Run presentations ``images[order]`` on ``state`` (in place) with the kernel.

    ``noise`` is the spiking noise (see :func:`noise_state`; a generator state passed in
    is advanced in place). ``params.engine`` chooses spike-to-spike or per-step spiking;
    ``exact`` applies every update in its own step (per-step spiking). ``diagnostics``
    (5 ints, optional) accumulates the kernel's counts of tested candidates, bound
    computations, bound violations, spikes and steps; ``spike_log`` (``(n, 2)`` ints,
    optional) receives step and neuron of the first ``n`` spikes (see
    :func:`dbcode.model.kernels.run_presentations`).
    """
    n_x = images.shape[1]
    check_state(state, params, n_x)
    n_z = params.n_z
    n_steps = params.steps_per_presentation
    rng = noise_state(noise)
    if diagnostics is None:
        diagnostics = np.zeros(5, dtype=np.int64)
    if spike_log is None:
        spike_log = np.zeros((0, 2), dtype=np.int64)
    n_record = min(n_record, len(order) * n_steps)
    rec = {name: np.zeros((n_record, n_z)) for name in ("s", "z", "exc", "inh", "u")}
    loss = np.zeros(len(order))
    counts = np.zeros((len(order), n_z), dtype=np.int64)
    sigma_box = np.array([state.sigma])
    W3 = state.W3 if state.W3.size else np.zeros((1, 1, 1))
    Fbar = state.Fbar if state.Fbar.size else np.zeros((1, 1))
    Dt = _staggered_copy(state.D.T, 1)
    Wt = _staggered_copy(state.W.T, 2)  # the kernel holds both transposed
    kernels.run_presentations(
        kernels.VARIANT_CODES[params.variant],
        images,
        np.asarray(order, dtype=np.int64),
        np.ascontiguousarray(x_start, dtype=float),
        rng,
        n_steps,
        params.fade_steps,
        state.F,
        Dt,
        Wt,
        W3,
        Fbar,
        state.b,
        state.z,
        sigma_box,
        rate_vector(rates),
        fpmath.exp(-params.dt / params.tau),
        trace_threshold(params),
        params.rho * params.dt / 1000.0,
        params.sigma2_final,
        params.F_floor,
        params.bias_outside,
        exact,
        params.engine == "spike-to-spike",
        horizon_steps(params),
        diagnostics,
        spike_log,
        loss,
        counts,
        rec["s"],
        rec["z"],
        rec["exc"],
        rec["inh"],
        rec["u"],
    )
    state.sigma = float(sigma_box[0])
    state.D[:] = Dt.T
    state.W[:] = Wt.T
    if n_record:
        fade = params.fade_steps
        k = np.arange(n_record) % n_steps
        a = np.ones(n_record) if fade == 0 else np.minimum(1.0, (k + 1) / fade)
        first = np.arange(n_record) // n_steps
        prev = np.concatenate([[x_start], images[order[:-1]]])
        rec["x"] = prev[first] + a[:, None] * (images[order[first]] - prev[first])
    return Segment(loss=loss, counts=counts, record=rec if n_record else {})


def evaluate(
    state: NetworkState,
    params: Params,
    test_images: np.ndarray,
    noise,
    n_record: int = 0,
) -> Segment:
    """Test evaluation with all plasticity off (decoder, weights, threshold, sigma).

    The network starts silent (``z = 0``) and sees the test images in order; the
    state passed in is not modified. ``noise``: see :func:`noise_state`.
    """
    frozen = state.copy()
    frozen.z[:] = 0.0
    n = len(test_images)
    generator = noise_state(noise)
    return run_segment(
        frozen,
        params,
        test_images,
        np.arange(n),
        test_images[0],
        generator,
        Rates.of(params, learn=False),
        n_record=n_record,
    )


def _chunks(params: Params) -> list[tuple[str, bool, int]]:
    """Split training into (phase, late rates, presentations) pieces."""
    pieces = []
    total = sum(n for _, n in params.phase_plan())
    late_from = total if params.late_after is None else int(round(params.late_after * total))
    start = 0
    for what, n in params.phase_plan():
        for lo, hi, late in (
            (start, min(start + n, late_from), False),
            (max(start, late_from), start + n, True),
        ):
            if hi > lo:
                pieces.append((what, late, hi - lo))
        start += n
    return pieces


def train(
    params: Params,
    train_images: np.ndarray,
    test_images: np.ndarray,
    seed: int = 0,
    *,
    exact: bool = False,
    n_record: int = 0,
    progress: bool | None = None,
    state: NetworkState | None = None,
    checkpoint: str | os.PathLike | None = None,
) -> RunResult:
    """Learn online on ``train_images`` and evaluate on ``test_images``.

    Parameters
    ----------
    params : Params
        Validated before anything runs.
    train_images : (n, N_x) array, or a pool
        Every presentation is an input drawn uniformly from it: an array's rows, or a
        pool's inputs (``len(pool)``, ``pool.inputs(indices)``, ``pool.n_x``; see
        :func:`training_pool`), which lets a run draw each presentation afresh from a
        pool too large to hold as an array.
    test_images : (n, N_x) array
    seed : int
        All randomness (initial weights, image order, spiking noise, evaluation noise)
        derives from it: the same seed gives the same numbers bitwise.
    exact : bool
        Per-step updates instead of the event-driven scheme (slower; see
        :mod:`dbcode.model.kernels`).
    n_record : int
        Steps of the final test evaluation to record.
    progress : bool or None
        Show a progress bar (``None``: only when interactive).
    state : NetworkState, optional
        Start from this state (copied) instead of the initial conditions.
    checkpoint : path, optional
        Write a snapshot of the run there after every test evaluation and, if it holds
        one of this run (same parameters, seed, data and starting state), continue from
        it: the result has the same bits as an uninterrupted run, and ``runtime_s``
        counts the time of the earlier attempts up to the snapshot. The caller removes
        the file when the result is safe (see :mod:`dbcode.model.checkpoints`).
    """
    params.validate()
    pool = training_pool(train_images)
    n_x = pool.n_x
    test_images = check_inputs(test_images, n_x, what="test_images")
    test_images = test_images[: params.n_test_eval]
    root = np.random.SeedSequence(seed)
    init_ss, train_ss, eval_ss = root.spawn(3)
    if state is None:
        state = initial_state(params, n_x, np.random.default_rng(init_ss))
    else:
        if not isinstance(state, NetworkState):
            raise ParameterError(
                f"state must be a NetworkState (e.g. RunResult.state), got {type(state).__name__}"
            )
        state = NetworkState(
            *(np.array(getattr(state, name)) for name in STATE_ARRAYS), sigma=state.sigma
        )
    order_ss, noise_ss = train_ss.spawn(2)
    pieces = _chunks(params)
    total = sum(n for *_, n in pieces)
    eval_at = np.unique(np.linspace(0, total, max(1, params.n_evals) + 1).round().astype(int))
    eval_rngs = eval_ss.spawn(len(eval_at))
    n_steps = params.steps_per_presentation
    per_chunk = max(1, MAX_STEPS_PER_CHUNK // n_steps)
    # the image order and the noise are drawn independently of how training is cut
    # into kernel calls: the same seed gives the same bits for any chunk size
    orders = np.random.default_rng(order_ss).integers(len(pool), size=total + 1)
    noise = noise_state(noise_ss)

    started = time.perf_counter()
    check_state(state, params, n_x)
    x_prev = pool.inputs(orders[total : total + 1])[0]
    live = params.test_protocol == "authors"
    if live:  # the authors test on their first training inputs
        test_images = np.ascontiguousarray(pool.inputs(orders[: params.n_test_eval]))

    def test(k: int, n_record: int = 0) -> Segment:
        nonlocal x_prev
        if not live:
            return evaluate(state, params, test_images, eval_rngs[k], n_record=n_record)
        frozen = Rates.of(params, learn=False)
        seg = run_segment(
            state,
            params,
            test_images,
            np.arange(len(test_images)),
            x_prev,
            noise_state(eval_rngs[k]),
            frozen,
            n_record=n_record,
        )
        x_prev = test_images[-1]
        return seg

    best = {"loss": np.inf, "F": None, "at": None}

    def keep_if_best(loss: float, at: int) -> None:
        if np.isfinite(loss) and loss < best["loss"]:
            best.update(loss=loss, F=state.F.copy(), at=at)

    train_loss = np.full(total, np.nan)
    train_counts = np.zeros((total, params.n_z), dtype=np.int64)
    tail_start = total - max(1, total // 10)  # the rows train_rates_hz reads
    identity = run_identity(
        params, seed, n_x, len(pool), pool.inputs(orders[:1]), test_images,
        *(getattr(state, name) for name in STATE_ARRAYS), state.sigma,
    )  # fmt: skip
    snapshot = None if checkpoint is None else load_checkpoint(checkpoint, identity)
    if snapshot is None:
        done, earlier_s = 0, 0.0
        test_loss = [test(0).loss.mean()]
        keep_if_best(test_loss[0], 0)
    else:
        done, earlier_s = int(snapshot["done"]), float(snapshot["runtime_s"])
        for name in STATE_ARRAYS:
            setattr(state, name, snapshot[name].copy())
        state.sigma = float(snapshot["sigma"])
        noise[:] = snapshot["noise"]
        x_prev = snapshot["x_prev"].copy()
        test_loss = [float(v) for v in snapshot["test_loss"]]
        if snapshot["best_at"].size:
            best.update(
                loss=float(snapshot["best_loss"]),
                F=snapshot["best_F"].copy(),
                at=int(snapshot["best_at"][0]),
            )
        train_loss[:done] = snapshot["train_loss"]
        if done > tail_start:
            train_counts[tail_start:done] = snapshot["tail_counts"]

    def save_snapshot() -> None:
        has_best = best["at"] is not None
        save_checkpoint(
            checkpoint,
            identity,
            {
                **{name: getattr(state, name) for name in STATE_ARRAYS},
                "sigma": np.float64(state.sigma),
                "noise": noise,
                "x_prev": np.asarray(x_prev),
                "done": np.int64(done),
                "runtime_s": np.float64(earlier_s + time.perf_counter() - started),
                "test_loss": np.array(test_loss),
                "best_loss": np.float64(best["loss"]),
                "best_F": best["F"] if has_best else np.zeros((0, 0)),
                "best_at": np.array([best["at"]] if has_best else [], dtype=np.int64),
                "train_loss": train_loss[:done],
                # a presentation has at most steps_per_presentation spikes per neuron
                "tail_counts": train_counts[tail_start:done].astype(np.uint16)
                if done > tail_start
                else np.zeros((0, params.n_z), dtype=np.uint16),
            },
        )

    diverged_at = None
    with progress_bar(total, f"{params.variant} training", enabled=progress) as bar:
        bar.update(done)
        end = 0
        for what, late, n in pieces:
            rates = Rates.of(params, what, late)
            end += n  # the presentations before this piece ends (done may be past it)
            while done < end and diverged_at is None:
                next_eval = eval_at[np.searchsorted(eval_at, done, side="right")]
                m = min(per_chunk, end - done, next_eval - done)
                images = np.ascontiguousarray(pool.inputs(orders[done : done + m]))
                seg = run_segment(
                    state, params, images, np.arange(m), x_prev, noise, rates, exact=exact
                )
                train_loss[done : done + m] = seg.loss
                train_counts[done : done + m] = seg.counts
                x_prev = images[-1]
                bad = np.flatnonzero(~np.isfinite(seg.loss))
                if bad.size or not state_is_finite(state):
                    # the first presentation whose loss is not finite, else the chunk's end
                    diverged_at = done + (int(bad[0]) + 1 if bad.size else m)
                    train_loss[diverged_at:] = np.nan
                    bar.set_postfix_str(f"diverged after {diverged_at} presentations")
                    break
                done += m
                bar.update(m)
                if done in eval_at:
                    k = int(np.searchsorted(eval_at, done))
                    last = done == total
                    seg_eval = test(k, n_record=n_record if last else 0)
                    test_loss.append(seg_eval.loss.mean())
                    keep_if_best(test_loss[-1], done)
                    if not np.isfinite(test_loss[-1]):
                        diverged_at = done
                        break
                    if checkpoint is not None and not last:
                        save_snapshot()
    if total == 0:
        seg_eval = test(0, n_record=n_record)
    if params.variant == "db":
        # W = -F D (SI Eq 13) as rules.optimal_inhibition, in a fixed order of sums: the
        # stored weights are the same bits on every CPU (OpenBLAS's are not)
        state.W = -fpmath.matmul(state.F, state.D)
    elif params.is_dendritic:
        state.W = state.W3.sum(axis=1)
    if diverged_at is not None:  # no final evaluation: losses and rates from there on NaN
        test_loss += [np.nan] * (len(eval_at) - len(test_loss))
        test_loss[-1] = np.nan
        rates_hz, train_rates_hz = np.full(params.n_z, np.nan), np.full(params.n_z, np.nan)
        test_counts, record = np.zeros((0, params.n_z), dtype=np.int64), {}
    else:
        rates_hz = seg_eval.counts.sum(axis=0) / (len(test_images) * params.t_present / 1000.0)
        tail = train_counts[-max(1, total // 10) :]
        train_rates_hz = tail.sum(axis=0) / (len(tail) * params.t_present / 1000.0)
        test_counts, record = seg_eval.counts, seg_eval.record
    return RunResult(
        params=params,
        seed=seed,
        state=state,
        train_loss=train_loss,
        eval_at=eval_at,
        test_loss=np.array(test_loss),
        rates_hz=rates_hz,
        train_rates_hz=train_rates_hz,
        test_counts=test_counts,
        record=record,
        runtime_s=earlier_s + time.perf_counter() - started,
        diverged_at=diverged_at,
        F_best=best["F"],
        best_at=best["at"],
    )
