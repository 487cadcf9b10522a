"""Simulation parameters, their validation and the presets of the paper's experiments.

Units: times in ms, rates in Hz, learning rates per ms (they are multiplied by ``dt``
when applied in one step), as in the paper's Methods and SI parameter tables.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields

VARIANTS = ("sb", "db", "db-slow", "db-simultaneous")
"""Learning schemes: somatic balance, analytic dendritic balance, and the two explicit
dendritic implementations of the SI (slow feed-forward adaptation, simultaneous)."""

DENDRITIC_VARIANTS = ("db-slow", "db-simultaneous")
INITS = ("zero", "small", "mnist")
TEST_PROTOCOLS = ("separate", "authors")
ENGINES = ("spike-to-spike", "per-step")
"""How the kernel draws the spikes: ``"spike-to-spike"`` jumps from one step in which a
neuron may spike to the next by thinning (exact in distribution, see
:mod:`dbcode.model.kernels`); ``"per-step"`` tests every neuron in every step. Each
preset takes the faster one as measured by ``benchmarks/bench_kernels.py``: per-step for
the small networks (bars, MNIST: 9 or 16 neurons), spike-to-spike for the natural-image
and delay networks (100-200 neurons)."""


class ParameterError(ValueError):
    """A parameter set that cannot be simulated; the message says what to change."""


@dataclass(frozen=True)
class Params:
    """All parameters of one network run.

    Attributes
    ----------
    variant : {"sb", "db", "db-slow", "db-simultaneous"}
        Learning scheme (see :data:`VARIANTS`).
    n_z : int
        Number of coding neurons.
    dt : float
        Time step in ms; also the transmission delay of inhibition.
    tau : float
        Decay time constant of the postsynaptic traces ``z`` (ms).
    trace_cutoff : float
        Cut a trace to zero once it falls below what a single spike leaves after
        ``trace_cutoff * tau`` (the authors truncate each spike's kernel at 5 tau, which
        leaves the traces of neurons silent for longer exactly zero; see
        :func:`dbcode.model.rules.trace_threshold`); 0 keeps every trace.
    t_present : float
        Duration of one image presentation (ms).
    fade : float
        Fraction of a presentation during which the input fades linearly from the
        previous image to the new one.
    rho : float
        Target rate of every neuron for the homeostatic threshold (Hz).
    sigma_init, sigma2_final : float
        Initial stochasticity ``sigma`` and final variance ``sigma**2 = beta``.
    eta_sigma : float
        Annealing rate of ``sigma`` (0: ``sigma**2`` is ``sigma2_final`` throughout).
    eta_F, eta_D, eta_W, eta_b : float
        Learning rates of input weights (Eq 6/9), decoder (Eq 10), inhibition
        (Eq 4/8) and homeostatic bias.
    eta_Fbar : float
        Learning rate of the integration variable of ``"db-slow"`` (SI).
    decay : float
        Weight decay ``lambda`` of ``"db-simultaneous"`` (per ms).
    F_floor : float
        Floor of ``|F_ji|`` where the dendritic rules divide by it.
    late_after, eta_F_late, eta_D_late, eta_W_late, eta_b_late : float or None
        Learning rates switch to their ``*_late`` values after the fraction
        ``late_after`` of the training presentations (``None``: no switch).
    bias_outside : bool
        Place the homeostatic bias outside the ``1/sigma**2`` bracket
        (``u = (Fx + Wz + c)/sigma**2 + b``) as in the natural-image runs.
    engine : {"spike-to-spike", "per-step"}
        How the kernel draws the spikes (see :data:`ENGINES`); both give the same
        statistics, not the same spikes.
    init : {"zero", "small", "mnist"}
        Initial weights: all zero; small positive input weights (needed by the
        explicit dendritic variants, which divide by ``F``); or the published MNIST
        initialisation.
    n_presentations : int
        Training presentations.
    phases : tuple of (str, int)
        Learning phases as (what learns, presentations), e.g.
        ``(("decoder", 60000), ("inhibition", 30000), ("all", 120000))``; empty means
        everything learns for ``n_presentations``.
    n_train, n_test : int
        Sizes of the training and test sets.
    n_evals : int
        Test evaluations spread over training (for the loss curve).
    n_test_eval : int
        Test images per evaluation.
    test_protocol : {"separate", "authors"}
        ``"separate"``: every test evaluation starts from a silent copy of the network
        (``z = 0``) on the first ``n_test_eval`` test images. ``"authors"``: as in the
        authors' code, the test images are the first ``n_test_eval`` training
        presentations, and the test runs on the live network (plasticity off) from
        its current traces, which training then continues from.
    """

    variant: str = "db"
    n_z: int = 16
    dt: float = 1.0
    tau: float = 10.0
    trace_cutoff: float = 0.0
    t_present: float = 100.0
    fade: float = 0.3
    rho: float = 15.0
    sigma_init: float = 1.0
    sigma2_final: float = 0.1
    eta_sigma: float = 7e-8
    eta_F: float = 5e-5
    eta_D: float = 5e-5
    eta_W: float = 1e-4
    eta_b: float = 1e-2
    eta_Fbar: float = 5e-4
    decay: float = 0.0
    F_floor: float = 0.002
    late_after: float | None = None
    eta_F_late: float | None = None
    eta_D_late: float | None = None
    eta_W_late: float | None = None
    eta_b_late: float | None = None
    bias_outside: bool = False
    engine: str = "per-step"
    init: str = "zero"
    n_presentations: int = 10_000
    phases: tuple = ()
    n_train: int = 5_000
    n_test: int = 500
    n_evals: int = 10
    n_test_eval: int = 200
    test_protocol: str = "separate"
    data: dict = field(default_factory=dict)

    def replace(self, **changes) -> Params:
        """A copy with ``changes`` applied; unknown names raise :class:`ParameterError`."""
        unknown = sorted(set(changes) - {f.name for f in fields(self)})
        if unknown:
            raise ParameterError(
                f"unknown parameter(s) {unknown}; valid names are "
                f"{sorted(f.name for f in fields(self))}"
            )
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def steps_per_presentation(self) -> int:
        return int(round(self.t_present / self.dt))

    @property
    def fade_steps(self) -> int:
        return int(round(self.fade * self.steps_per_presentation))

    @property
    def is_dendritic(self) -> bool:
        return self.variant in DENDRITIC_VARIANTS

    def phase_plan(self) -> list[tuple[str, int]]:
        """The learning phases as a list of (what learns, presentations)."""
        return list(self.phases) if self.phases else [("all", self.n_presentations)]

    def validate(self) -> Params:
        """Raise :class:`ParameterError` naming the first impossible setting."""
        if self.variant not in VARIANTS:
            raise ParameterError(
                f"unknown variant {self.variant!r}; choose one of {', '.join(VARIANTS)}"
            )
        if self.init not in INITS:
            raise ParameterError(f"unknown init {self.init!r}; choose one of {INITS}")
        if self.engine not in ENGINES:
            raise ParameterError(f"unknown engine {self.engine!r}; choose one of {ENGINES}")
        if not isinstance(self.n_z, int) or self.n_z < 1:
            raise ParameterError(f"n_z must be a positive integer, got {self.n_z!r}")
        positive = ("dt", "tau", "t_present", "rho", "sigma_init", "sigma2_final")
        for name in positive:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ParameterError(f"{name} must be a positive finite number, got {value!r}")
        rates = ("eta_sigma", "eta_F", "eta_D", "eta_W", "eta_b", "eta_Fbar", "decay", "F_floor")
        rates_late = ("eta_F_late", "eta_D_late", "eta_W_late", "eta_b_late")
        for name in rates + rates_late:
            value = getattr(self, name)
            if value is None and name in rates_late:
                continue
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ParameterError(f"{name} must be a non-negative number, got {value!r}")
        cutoff = self.trace_cutoff
        if not (isinstance(cutoff, (int, float)) and math.isfinite(cutoff) and cutoff >= 0):
            raise ParameterError(
                f"trace_cutoff is a multiple of tau (0: no cutoff), got {cutoff!r}"
            )
        if 0 < cutoff and round(cutoff * self.tau / self.dt) < 1:
            raise ParameterError(
                f"trace_cutoff={cutoff} tau is shorter than one step dt={self.dt} ms: "
                "raise it or use 0 (no cutoff)"
            )
        if not 0.0 <= self.fade <= 1.0:
            raise ParameterError(f"fade is a fraction of a presentation in [0, 1], got {self.fade}")
        if self.steps_per_presentation < 1:
            raise ParameterError(
                f"t_present={self.t_present} ms is shorter than one step dt={self.dt} ms"
            )
        if abs(self.steps_per_presentation * self.dt - self.t_present) > 1e-6 * self.t_present:
            raise ParameterError(
                f"t_present={self.t_present} ms is not a whole number of steps of dt={self.dt} ms"
            )
        if self.rho * self.dt / 1000.0 >= 1.0:
            raise ParameterError(
                f"rho={self.rho} Hz asks for {self.rho * self.dt / 1000:.2f} spikes per step of "
                f"dt={self.dt} ms; a neuron can fire at most one spike per step: lower rho or dt"
            )
        if self.late_after is not None and not 0.0 <= self.late_after <= 1.0:
            raise ParameterError(f"late_after is a fraction in [0, 1], got {self.late_after}")
        for name in ("n_presentations", "n_train", "n_test", "n_evals", "n_test_eval"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "n_evals" else 1):
                raise ParameterError(f"{name} must be a positive integer, got {value!r}")
        if self.test_protocol not in TEST_PROTOCOLS:
            raise ParameterError(
                f"unknown test_protocol {self.test_protocol!r}; choose one of "
                f"{', '.join(TEST_PROTOCOLS)}"
            )
        if self.n_test_eval > self.n_test:
            raise ParameterError(
                f"n_test_eval={self.n_test_eval} exceeds the test set n_test={self.n_test}"
            )
        for phase in self.phases:
            if (
                not isinstance(phase, (tuple, list))
                or len(phase) != 2
                or phase[0] not in PHASE_LEARNING
                or not isinstance(phase[1], int)
                or phase[1] < 0
            ):
                raise ParameterError(
                    f"phases entries are (what, presentations) with what in "
                    f"{sorted(PHASE_LEARNING)}, got {phase!r}"
                )
        if self.is_dendritic and self.init == "zero":
            raise ParameterError(
                f"variant {self.variant!r} divides by the input weights and cannot start "
                "from F = 0: use init='small' or init='mnist'"
            )
        return self


PHASE_LEARNING = {
    # what learns in each phase: decoder, inhibition, input weights (the homeostatic
    # threshold and the annealing of sigma run in every phase)
    "frozen": (False, False, False),
    "decoder": (True, False, False),
    "inhibition": (True, True, False),
    "all": (True, True, True),
}


# --- presets -----------------------------------------------------------------------
# Paper scale: the parameters of the published figures (Methods and SI tables).
# CI scale: shortened training with proportionally larger learning rates, chosen so the
# paper's effects still show (measured in the chapters, reported in the appendix).

# fmt: off
_BARS = Params(
    variant="db", n_z=16, dt=1.0, rho=15.0, sigma2_final=0.1, eta_sigma=7e-8,
    eta_F=5e-5, eta_D=5e-5, eta_W=1e-4, eta_b=1e-2, n_presentations=1_000_000,
    n_train=10_000, n_test=1_000, n_evals=20, n_test_eval=500, trace_cutoff=5.0,
)

_MNIST = Params(
    variant="db", n_z=9, dt=0.1, rho=15.0, sigma_init=math.sqrt(0.1), sigma2_final=0.1,
    eta_sigma=0.0, eta_F=1e-5, eta_D=5e-6, eta_W=3e-5, eta_b=7e-3, init="mnist",
    phases=(("decoder", 60_000), ("inhibition", 30_000), ("all", 120_000)),
    n_presentations=210_000, n_train=4_000, n_test=1_000, n_evals=21, n_test_eval=300,
    trace_cutoff=5.0,
)

_SCENES = Params(
    variant="db", n_z=100, dt=0.1, rho=10.0, sigma2_final=0.13, eta_sigma=7e-8,
    eta_F=4e-5, eta_D=4e-5, eta_W=1e-4, eta_b=6e-3, late_after=2 / 15,
    eta_F_late=3e-5, eta_D_late=3e-5, eta_W_late=7e-5, eta_b_late=4e-3,
    bias_outside=True, n_presentations=1_500_000, n_train=20_000, n_test=1_000,
    n_evals=15, n_test_eval=300, engine="spike-to-spike", trace_cutoff=5.0,
)

_DELAYS = _SCENES.replace(n_z=200, rho=5.0)

PRESETS: dict[str, dict[str, Params]] = {
    "bars": {
        "paper": _BARS,
        "ci": _BARS.replace(
            n_presentations=6_000, eta_F=3e-4, eta_D=3e-4, eta_W=6e-4, eta_sigma=7e-6,
            n_evals=6, n_test_eval=200, n_train=5_000, n_test=500,
        ),
    },
    "mnist": {
        "paper": _MNIST,
        "ci": _MNIST.replace(
            phases=(("decoder", 1_000), ("inhibition", 1_000), ("all", 8_000)),
            n_presentations=10_000, eta_F=1e-4, eta_D=5e-5, eta_W=3e-4, n_evals=10,
            n_test_eval=100, n_test=300,
        ),
    },
    "scenes": {
        "paper": _SCENES,
        "ci": _SCENES.replace(
            n_presentations=6_000, eta_F=4e-4, eta_D=4e-4, eta_W=1e-3, eta_b=6e-2,
            eta_F_late=3e-4, eta_D_late=3e-4, eta_W_late=7e-4, eta_b_late=4e-2,
            eta_sigma=7e-6, n_train=5_000, n_test=300, n_evals=6, n_test_eval=100,
        ),
    },
}
PRESETS["delays"] = {
    "paper": _DELAYS,
    "ci": PRESETS["scenes"]["ci"].replace(n_z=200, rho=5.0, n_presentations=3_000),
}

# fmt: on
SCALES = ("ci", "paper")
"""The two scales of every experiment: the reduced default CI runs, and the paper's."""


def check_scale(scale) -> str:
    """``scale`` if it is one of :data:`SCALES`, else a :class:`ParameterError`."""
    if scale not in SCALES:
        raise ParameterError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    return scale


def check_count(value, what: str) -> int:
    """``value`` if it is a positive integer, else a :class:`ParameterError` naming
    ``what``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"{what} must be a positive integer, got {value!r}")
    return value


def preset(experiment: str, scale: str = "ci", **overrides) -> Params:
    """Parameters of one of the paper's experiments at a given scale.

    Parameters
    ----------
    experiment : {"bars", "mnist", "scenes", "delays"}
    scale : {"ci", "paper"}
        ``"paper"`` is the published protocol; ``"ci"`` the reduced default.
    **overrides
        Any :class:`Params` field.
    """
    if overrides.get("variant") in DENDRITIC_VARIANTS and "init" not in overrides:
        if PRESETS.get(experiment, {}).get(scale, Params()).init == "zero":
            overrides["init"] = "small"
    if experiment not in PRESETS:
        raise ParameterError(
            f"unknown experiment {experiment!r}; choose one of {', '.join(PRESETS)}"
        )
    check_scale(scale)
    return PRESETS[experiment][scale].replace(**overrides).validate()
