"""skmdn.metrics against independent references, the scorers inside
scikit-learn's model selection, and the estimator's prediction conveniences.

CRPS is checked against the Gaussian closed form, Monte Carlo and numerical
integration of its definition, and its blocked computation against the
unblocked formula and a memory bound; PIT against scipy and uniformity; the
weighted KS distance against scipy and repeated values; the simple measures
against hand-computed values. The scorers are checked inside meta-estimators
(searches, pipelines, TransformedTargetRegressor) against the distribution
worked out here, with sample weights (also under metadata routing) against
repeated rows, and for one predict_dist per evaluation. Models are small (200
rows of make_inverse_sine, 5 or 30 epochs of a 16-unit layer); the shared
ones are fitted once per module.
"""

import copy
import math
import os
import pickle
import tracemalloc

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from scipy.integrate import quad
from scipy.special import ndtr
from scipy.stats import kstest, norm
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import BaggingRegressor
from sklearn.linear_model import LinearRegression
from sklearn.metrics import check_scoring, r2_score
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_val_score,
    cross_validate,
)
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)

from skmdn import GaussianMixtureDistribution, MDNRegressor
from skmdn import _mixture, metrics
from skmdn.datasets import make_inverse_sine

from mixture_helpers import random_mixtures

# max_iter=30 stops every fit on max_iter, which warns; expected here.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(n_components=3, hidden_layer_sizes=(16,), max_iter=30, random_state=0)
# For the meta-estimator tests, which fit many models: what is checked does
# not depend on how well they fit.
TINY = dict(SMALL, max_iter=5)


def draw_per_row(weights, means, scales, n_draws, rng):
    """n_draws values from each row's 1-D mixture (n, K), made here with
    numpy: inverse-CDF choice of the component, then a normal draw."""
    n_rows = len(weights)
    cumulative = np.cumsum(weights, axis=1)
    cumulative[:, -1] = 1.0
    component = np.argmax(rng.random((n_rows, n_draws, 1)) < cumulative[:, None, :], axis=2)
    rows = np.arange(n_rows)[:, None]
    return means[rows, component] + scales[rows, component] * rng.standard_normal((n_rows, n_draws))


def mixture_cdf(t, weights, means, scales):
    return sum(w * norm.cdf(t, m, s) for w, m, s in zip(weights, means, scales))


def mixture_sf(t, weights, means, scales):
    return sum(w * norm.sf(t, m, s) for w, m, s in zip(weights, means, scales))


# -- CRPS ---------------------------------------------------------------------------


def test_crps_single_gaussian_closed_form():
    """K = 1: CRPS(N(mu, sigma^2), y) = sigma (z (2 Phi(z) - 1) + 2 phi(z) -
    1/sqrt(pi)), z = (y - mu)/sigma (Gneiting & Raftery 2007). A handful of
    O(1) terms either way: rtol 1e-12 (plus 1e-14 sigma absolute where the
    terms nearly cancel, y at the mean)."""
    rng = np.random.default_rng(0)
    means = rng.normal(size=50) * 5
    scales = np.exp(rng.normal(size=50))
    z = np.concatenate([rng.normal(size=45) * 2, [0.0, 10.0, -10.0, 1e-8, 40.0]])
    y = means + scales * z
    expected = scales * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / math.sqrt(math.pi))
    dist = GaussianMixtureDistribution(np.ones((50, 1)), means[:, None], scales[:, None])
    result = metrics.crps(y, dist)
    assert result.shape == (50,)
    assert_allclose(result, expected, rtol=1e-12, atol=1e-14 * scales.max())


def test_crps_mixture_matches_monte_carlo():
    """CRPS = E|X - y| - E|X - X'| / 2: 10^6 pairs (X, X') drawn here per row;
    the mean of D = |X - y| - |X - X'|/2 has standard error std(D)/sqrt(N).
    Five standard errors: a correct closed form fails with probability ~6e-7
    per row (and the seed is fixed)."""
    weights, means, scales = random_mixtures(3, 4, seed=1)
    y = np.array([0.3, -4.0, 2.5])
    result = metrics.crps(y, GaussianMixtureDistribution(weights, means, scales))
    rng = np.random.default_rng(2)
    n = 1_000_000
    x = draw_per_row(weights, means, scales, n, rng)
    x_prime = draw_per_row(weights, means, scales, n, rng)
    d = np.abs(x - y[:, None]) - 0.5 * np.abs(x - x_prime)
    se = d.std(axis=1) / math.sqrt(n)
    assert np.all(np.abs(d.mean(axis=1) - result) < 5 * se), (d.mean(axis=1), result, se)


def crps_by_quadrature(y, weights, means, scales):
    """CRPS = int (F(t) - 1{t >= y})^2 dt: int_{-inf}^y F^2 + int_y^inf (1 - F)^2,
    with 1 - F summed from survival functions. Beyond 40 sigma of every
    component the integrands are below Phi(-40)^2 ~ 1e-700: the range is cut
    there; component means and mean +- 3 sigma are break points for quad."""
    low = min(np.min(means - 40 * scales), y)
    high = max(np.max(means + 40 * scales), y)
    breaks = np.concatenate([means, means - 3 * scales, means + 3 * scales])
    options = dict(limit=500, epsabs=1e-11, epsrel=1e-11)
    left = quad(lambda t: mixture_cdf(t, weights, means, scales) ** 2, low, y,
                points=breaks[(breaks > low) & (breaks < y)], **options)[0]
    right = quad(lambda t: mixture_sf(t, weights, means, scales) ** 2, y, high,
                 points=breaks[(breaks > y) & (breaks < high)], **options)[0]
    return left + right


def test_crps_matches_numerical_integration_of_definition():
    """Quadrature of the definition on a few rows (random, and a bimodal row
    observed between, on and far outside its branches) to 1e-6 absolute; the
    quadrature's own error is ~1e-10."""
    weights, means, scales = random_mixtures(4, 3, seed=3)
    y = np.array([0.1, -1.5, 3.0, 0.0])
    bimodal = ([0.3, 0.7], [-3.0, 3.0], [0.5, 0.5])
    cases = [(y[i], weights[i], means[i], scales[i]) for i in range(4)]
    cases += [(value, *map(np.array, bimodal)) for value in (0.0, 3.0, -3.2, 20.0)]
    for value, w, m, s in cases:
        result = metrics.crps(np.array([value]), GaussianMixtureDistribution([w], [m], [s]))
        assert result.shape == (1,)
        assert abs(result[0] - crps_by_quadrature(value, w, m, s)) < 1e-6, (value, w, m, s)


def test_crps_matches_scoringrules():
    """Against an independent implementation of the mixture's closed form,
    scoringrules' crps_mixnorm, on 200 random rows with 1 to 6 components
    (observations in the bulk and far in the tails)."""
    import scoringrules

    rng = np.random.default_rng(7)
    for n_components in (1, 2, 6):
        weights, means, scales = random_mixtures(200, n_components, seed=n_components)
        y = rng.normal(scale=3.0, size=200) * rng.choice([1.0, 10.0], size=200, p=[0.9, 0.1])
        expected = scoringrules.crps_mixnorm(y, means, scales, weights)
        result = metrics.crps(y, GaussianMixtureDistribution(weights, means, scales))
        assert_allclose(result, expected, rtol=1e-10, atol=1e-12)


def test_energy_score_matches_scoringrules_on_the_same_draws():
    """The energy score of two outputs equals scoringrules' fair ensemble
    estimator given the draws the method makes with the same seed."""
    import scoringrules

    weights, means, scales = random_mixtures(40, 3, n_outputs=2, seed=1)
    dist = GaussianMixtureDistribution(weights, means, scales)
    y = np.random.default_rng(0).normal(scale=2.0, size=(40, 2))
    draws = dist.sample(300, random_state=0)
    assert_allclose(
        dist.energy_score(y, n_samples=300, random_state=0),
        scoringrules.es_ensemble(y, draws, estimator="fair"),
        rtol=1e-12,
    )
    assert metrics.mean_energy_score(y, dist, n_samples=300, random_state=0) == pytest.approx(
        scoringrules.es_ensemble(y, draws, estimator="fair").mean(), rel=1e-12
    )
    # No rows: no scores, as the CRPS.
    empty = GaussianMixtureDistribution(*random_mixtures(0, 3, n_outputs=2))
    assert empty.energy_score(np.zeros((0, 2)), n_samples=10).shape == (0,)


def test_energy_score_of_one_output_estimates_the_crps():
    """For one output the energy score is the CRPS: the Monte Carlo estimate
    averaged over 200 rows is within four standard errors of the closed
    form."""
    weights, means, scales = random_mixtures(200, 3, seed=4)
    dist = GaussianMixtureDistribution(weights, means, scales)
    y = np.random.default_rng(1).normal(scale=2.0, size=200)
    difference = dist.energy_score(y, n_samples=500, random_state=2) - dist.crps(y)
    assert abs(difference.mean()) < 4 * difference.std(ddof=1) / math.sqrt(200)
    assert abs(difference.mean()) < 0.01 * dist.crps(y).mean()


def test_pinball_loss_and_interval_score_match_scoringrules():
    import scoringrules

    weights, means, scales = random_mixtures(100, 3, seed=6)
    dist = GaussianMixtureDistribution(weights, means, scales)
    y = np.random.default_rng(3).normal(scale=2.0, size=100)
    for level in (0.1, 0.5, 0.9):
        expected = scoringrules.quantile_score(y, dist.ppf([level])[:, 0], level).mean()
        assert metrics.mean_pinball_loss(y, dist, level) == pytest.approx(expected, rel=1e-12)
    lower, upper = dist.interval(0.8)
    expected = scoringrules.interval_score(y, lower, upper, 0.2).mean()
    assert metrics.mean_interval_score(y, lower, upper, 0.8) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="quantile"):
        metrics.mean_pinball_loss(y, dist, 1.0)


def test_crps_multi_output_scores_each_marginal():
    """d > 1: (n, d), column j the 1-D CRPS of output j's marginal mixture."""
    weights, means, scales = random_mixtures(20, 3, n_outputs=3, seed=4)
    y = np.random.default_rng(5).normal(scale=2.0, size=(20, 3))
    result = metrics.crps(y, GaussianMixtureDistribution(weights, means, scales))
    assert result.shape == (20, 3)
    for j in range(3):
        marginal = GaussianMixtureDistribution(weights, means[:, :, j], scales[:, :, j])
        assert_allclose(result[:, j], metrics.crps(y[:, j], marginal), rtol=1e-12)


def test_mean_crps_and_sample_weight():
    """mean_crps is the (weighted) mean of crps over rows, averaging the
    outputs first for d > 1; integer weights equal repeating rows."""
    weights, means, scales = random_mixtures(10, 3, seed=6)
    dist = GaussianMixtureDistribution(weights, means, scales)
    y = np.random.default_rng(7).normal(size=10)
    values = metrics.crps(y, dist)
    counts = np.array([1, 0, 2, 3, 1, 1, 4, 0, 1, 2])
    assert_allclose(metrics.mean_crps(y, dist), values.mean(), rtol=1e-14)
    assert_allclose(metrics.mean_crps(y, dist, sample_weight=counts), np.average(values, weights=counts), rtol=1e-14)
    repeated = np.repeat(np.arange(10), counts)
    assert_allclose(
        metrics.mean_crps(y, dist, sample_weight=counts), metrics.mean_crps(y[repeated], dist[repeated]), rtol=1e-12
    )
    multi = GaussianMixtureDistribution(*random_mixtures(10, 3, n_outputs=2, seed=8))
    y2 = np.random.default_rng(9).normal(size=(10, 2))
    per_row = metrics.crps(y2, multi).mean(axis=1)
    assert_allclose(metrics.mean_crps(y2, multi, sample_weight=counts), np.average(per_row, weights=counts), rtol=1e-14)


def test_crps_rejects_y_of_wrong_length():
    """y must hold one value per row of the distribution."""
    dist = GaussianMixtureDistribution(*random_mixtures(5, 2))
    with pytest.raises(ValueError, match="one value per row"):
        metrics.crps(np.zeros(4), dist)


def crps_unblocked(y, weights, means, scales):
    """The CRPS formula over all rows at once, (n, K, K, d) temporaries and
    all (as skmdn computed it before blocking): y (n, d), means (n, K, d)."""

    def term(difference, scale):
        z = difference / scale
        return 2.0 * scale * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi) + difference * (2.0 * ndtr(z) - 1.0)

    to_observation = np.einsum("nk,nkd->nd", weights, term(means - y[:, None, :], scales))
    between = term(
        means[:, :, None, :] - means[:, None, :, :],
        np.sqrt(scales[:, :, None, :] ** 2 + scales[:, None, :, :] ** 2),
    )
    return to_observation - 0.5 * np.einsum("nk,nj,nkjd->nd", weights, weights, between)


def test_crps_in_blocks_equals_the_unblocked_formula(monkeypatch):
    """With a budget of 3 rows per block (103 rows: 35 blocks, the last one
    short), 1-D and multi-output, the result equals the unblocked formula
    computed here to the last bit (each row's arithmetic is the same); the
    spy on _map_blocks shows that the rows were indeed split. Zero rows give
    an empty result of the right shape."""
    block_counts, map_blocks = [], _mixture._map_blocks

    def spy(function, blocks):
        block_counts.append(len(blocks))
        return map_blocks(function, blocks)

    monkeypatch.setattr(_mixture, "_map_blocks", spy)
    for n_components, n_outputs, seed in ((3, None, 20), (5, 2, 21), (1, None, 22)):
        weights, means, scales = random_mixtures(103, n_components, n_outputs=n_outputs, seed=seed)
        d = 1 if n_outputs is None else n_outputs
        y = np.random.default_rng(seed).normal(scale=2.0, size=(103, d))
        monkeypatch.setattr(_mixture, "_CRPS_BLOCK_ELEMENTS", 3 * n_components**2 * d * (os.cpu_count() or 1))
        dist = GaussianMixtureDistribution(weights, means, scales)
        result = metrics.crps(y[:, 0] if n_outputs is None else y, dist)
        # The distribution's own (renormalised) weights, as crps uses them.
        expected = crps_unblocked(y, dist.weights, dist.means, dist.scales)
        assert_array_equal(result, expected[:, 0] if n_outputs is None else expected)
        assert block_counts[-1] == 35
    empty = GaussianMixtureDistribution(np.ones((0, 2)) / 2, np.zeros((0, 2)), np.ones((0, 2)))
    assert metrics.crps(np.zeros(0), empty).shape == (0,)


def test_crps_memory_is_bounded_for_many_rows():
    """20,000 rows of 25 components: one (n, K, K) float64 temporary of the
    unblocked formula is 100 MB (it held some 570 MB at its peak). Blocked,
    the peak of new allocations seen by tracemalloc (numpy reports its
    buffers to it) stays under 40 MB, whatever the number of cores; the
    result equals the unblocked formula on the first 300 rows."""
    weights, means, scales = random_mixtures(20_000, 25, seed=23)
    y = np.random.default_rng(24).normal(scale=2.0, size=20_000)
    dist = GaussianMixtureDistribution(weights, means, scales)
    tracemalloc.start()
    try:
        result = metrics.crps(y, dist)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.shape == (20_000,)
    assert peak < 40e6, f"peak {peak / 1e6:.1f} MB"
    head = slice(0, 300)
    expected = crps_unblocked(y[head, None], dist.weights[head], dist.means[head], dist.scales[head])
    assert_array_equal(result[head], expected[:, 0])


# -- PIT ------------------------------------------------------------------------------


def test_pit_of_draws_from_the_distribution_is_uniform():
    """y_i drawn (here, with numpy) from row i's own mixture: F_i(y_i) is
    exactly uniform, so the KS p-value is itself uniform and p > 0.01 fails a
    correct PIT for 1% of seeds (the seed is fixed: deterministic). With 3000
    rows the KS test has power: the same y scored under twice the true scales
    gives p < 1e-6. The values equal scipy's mixture CDF at y (1e-14)."""
    weights, means, scales = random_mixtures(3000, 3, seed=10)
    y = draw_per_row(weights, means, scales, 1, np.random.default_rng(11))[:, 0]
    values = metrics.pit(y, GaussianMixtureDistribution(weights, means, scales))
    assert values.shape == (3000,)
    expected = np.array([mixture_cdf(y[i], weights[i], means[i], scales[i]) for i in range(50)])
    assert_allclose(values[:50], expected, rtol=0, atol=1e-14)
    assert kstest(values, "uniform").pvalue > 0.01
    too_wide = metrics.pit(y, GaussianMixtureDistribution(weights, means, 2 * scales))
    assert kstest(too_wide, "uniform").pvalue < 1e-6


def test_pit_multi_output_shape_and_uniformity():
    """d > 1: (n, d), each output's marginal CDF at y; every column uniform
    (p > 0.01 each, as above; fixed seed)."""
    weights, means, scales = random_mixtures(2000, 3, n_outputs=2, seed=12)
    rng = np.random.default_rng(13)
    component = np.array([rng.choice(3, p=w) for w in weights])
    rows = np.arange(2000)
    y = means[rows, component] + scales[rows, component] * rng.standard_normal((2000, 2))
    dist = GaussianMixtureDistribution(weights, means, scales)
    values = metrics.pit(y, dist)
    assert values.shape == (2000, 2)
    assert_allclose(values, dist.cdf(y), rtol=0, atol=0)
    for j in range(2):
        assert kstest(values[:, j], "uniform").pvalue > 0.01


def test_weighted_ks_distance_hand_computed():
    """Values 0.2 and 0.6 with weights 3 and 1: the weighted CDF is 0.75 on
    [0.2, 0.6) and 1 from 0.6, so the distance is max(0.75 - 0.2, 1 - 0.6,
    0.2 - 0) = 0.55 (unweighted: max(0.5 - 0.2, 1 - 0.6, 0.6 - 0.5) = 0.4).
    Negative weights, a zero total or a wrong length are refused."""
    assert metrics._ks_distance_from_uniform([0.6, 0.2], [1, 3]) == pytest.approx(0.55, abs=1e-15)
    assert metrics._ks_distance_from_uniform([0.6, 0.2]) == pytest.approx(0.4, abs=1e-15)
    for bad in ([1, -1], [0, 0], [1, 2, 3]):
        with pytest.raises(ValueError, match="sample_weight"):
            metrics._ks_distance_from_uniform([0.6, 0.2], bad)


def test_weighted_ks_distance_matches_scipy_and_repeated_values():
    """Unit weights (or none): scipy's kstest statistic against the uniform
    law, also with tied values. Integer weights (zeros included): kstest of
    the values repeated that many times. Rescaling the weights changes
    nothing. Rounding only: 1e-15 absolute, and 1e-13 for the rescaled
    weights (a running sum of ~1000 inexact terms, each rounded by ~1e-16)."""
    rng = np.random.default_rng(25)
    for values in (rng.beta(2.0, 3.0, size=500), np.round(rng.random(400), 2)):
        expected = kstest(values, "uniform").statistic
        assert metrics._ks_distance_from_uniform(values) == pytest.approx(expected, abs=1e-15)
        assert metrics._ks_distance_from_uniform(values, np.ones(len(values))) == pytest.approx(expected, abs=1e-15)
        counts = rng.integers(0, 5, size=len(values))
        repeated = kstest(np.repeat(values, counts), "uniform").statistic
        assert metrics._ks_distance_from_uniform(values, counts) == pytest.approx(repeated, abs=1e-15)
        assert metrics._ks_distance_from_uniform(values, 0.37 * counts) == pytest.approx(repeated, abs=1e-13)


# -- intervals ------------------------------------------------------------------------


def test_interval_coverage_and_width_by_hand():
    """Hand-computed: y = 0..4 against five intervals, inside for rows 0, 2
    and 3 (ends inclusive: row 3 is the degenerate [3, 3]) -> 3/5; with
    weights 1..5 -> (1 + 3 + 4)/15. Widths 2, 0.5, 2, 0, 1 -> mean 1.1,
    weighted (2 + 1 + 6 + 0 + 5)/15."""
    y = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    lower = np.array([-1.0, 1.5, 1.0, 3.0, 5.0])
    upper = np.array([1.0, 2.0, 3.0, 3.0, 6.0])
    weights = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert metrics.interval_coverage(y, lower, upper) == pytest.approx(0.6, abs=1e-15)
    assert metrics.interval_coverage(y, lower, upper, sample_weight=weights) == pytest.approx(8 / 15, abs=1e-15)
    assert metrics.mean_interval_width(lower, upper) == pytest.approx(1.1, abs=1e-15)
    assert metrics.mean_interval_width(lower, upper, sample_weight=weights) == pytest.approx(14 / 15, abs=1e-15)


def test_interval_coverage_and_width_multi_output():
    """d > 1: a row counts as covered only if every output is inside; widths
    are averaged over outputs. Rows: both inside / one outside / both inside
    -> 2/3, weighted [1, 1, 2] -> 3/4; widths [1, 3], [2, 2], [0.5, 1.5]
    average to 2, 2, 1 -> 5/3, weighted (2 + 2 + 2)/4 = 1.5."""
    y = np.array([[0.0, 0.0], [0.0, 5.0], [1.0, 1.0]])
    lower = np.array([[-0.5, -1.0], [-1.0, 0.0], [0.75, 0.0]])
    upper = np.array([[0.5, 2.0], [1.0, 2.0], [1.25, 1.5]])
    assert metrics.interval_coverage(y, lower, upper) == pytest.approx(2 / 3, abs=1e-15)
    assert metrics.interval_coverage(y, lower, upper, sample_weight=[1, 1, 2]) == pytest.approx(0.75, abs=1e-15)
    assert metrics.mean_interval_width(lower, upper) == pytest.approx(5 / 3, abs=1e-15)
    assert metrics.mean_interval_width(lower, upper, sample_weight=[1, 1, 2]) == pytest.approx(1.5, abs=1e-15)


# -- log-likelihood -------------------------------------------------------------------


def test_mean_log_likelihood_is_mean_log_prob():
    """Plain and weighted means of log_prob, 1-D and d = 2."""
    for n_outputs, seed in ((None, 14), (2, 15)):
        dist = GaussianMixtureDistribution(*random_mixtures(12, 3, n_outputs=n_outputs, seed=seed))
        rng = np.random.default_rng(seed)
        y = rng.normal(size=(12,) if n_outputs is None else (12, 2))
        weights = rng.uniform(0, 3, size=12)
        log_prob = dist.log_prob(y)
        assert_allclose(metrics.mean_log_likelihood(y, dist), log_prob.mean(), rtol=1e-14)
        assert_allclose(
            metrics.mean_log_likelihood(y, dist, sample_weight=weights),
            np.sum(weights * log_prob) / weights.sum(), rtol=1e-13,
        )


# -- fitted models ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def data():
    return make_inverse_sine(200, random_state=0)


@pytest.fixture(scope="module")
def model(data):
    return MDNRegressor(**SMALL).fit(*data)


@pytest.fixture(scope="module")
def data_2d(data):
    X, t = data
    rng = np.random.RandomState(1)
    return X, np.column_stack([t, np.sin(2 * np.pi * t) + 0.05 * rng.normal(size=len(t))])


@pytest.fixture(scope="module")
def model_2d(data_2d):
    return MDNRegressor(**SMALL).fit(*data_2d)


ALL_SCORERS = {
    "log_likelihood": metrics.log_likelihood_scorer,
    "crps": metrics.neg_crps_scorer,
    "pit_ks": metrics.neg_pit_ks_scorer,
    "coverage": metrics.make_coverage_error_scorer(0.8),
    "width": metrics.make_neg_interval_width_scorer(0.8),
}


def test_scorers_on_a_fitted_model(model, data):
    """Each scorer against the quantity it is documented to be, with the
    greater-is-better sign: log-likelihood = score (also weighted), -mean CRPS
    (< 0), -|coverage - nominal| (<= 0, and 0 <= -score <= max(c, 1 - c)),
    -mean width (< 0), -KS distance in [-1, 0]."""
    X, y = data
    dist = model.predict_dist(X)
    weights = np.random.default_rng(16).uniform(0, 2, size=len(y))
    assert metrics.log_likelihood_scorer(model, X, y) == pytest.approx(model.score(X, y), rel=1e-12)
    assert metrics.log_likelihood_scorer(model, X, y, sample_weight=weights) == pytest.approx(
        model.score(X, y, sample_weight=weights), rel=1e-12
    )
    neg_crps = metrics.neg_crps_scorer(model, X, y)
    assert neg_crps == pytest.approx(-metrics.mean_crps(y, dist), rel=1e-12) and neg_crps < 0
    assert metrics.neg_crps_scorer(model, X, y, sample_weight=weights) == pytest.approx(
        -metrics.mean_crps(y, dist, sample_weight=weights), rel=1e-12
    )
    for coverage in (0.5, 0.8, 0.95):
        lower, upper = dist.interval(coverage)
        observed = np.mean((y >= lower) & (y <= upper))
        error = metrics.make_coverage_error_scorer(coverage)(model, X, y)
        assert error == pytest.approx(-abs(observed - coverage), abs=1e-15)
        assert -max(coverage, 1 - coverage) <= error <= 0
        width = metrics.make_neg_interval_width_scorer(coverage)(model, X, y)
        assert width == pytest.approx(-np.mean(upper - lower), rel=1e-12) and width < 0
    ks = metrics.neg_pit_ks_scorer(model, X, y)
    assert ks == pytest.approx(-kstest(metrics.pit(y, dist), "uniform").statistic, rel=1e-12)
    assert -1 <= ks <= 0


def assert_scores_are_valid(results, prefix):
    assert np.all(np.isfinite(results[f"{prefix}log_likelihood"]))
    assert np.all(results[f"{prefix}crps"] < 0)
    assert np.all((results[f"{prefix}pit_ks"] >= -1) & (results[f"{prefix}pit_ks"] <= 0))
    assert np.all((results[f"{prefix}coverage"] >= -0.8) & (results[f"{prefix}coverage"] <= 0))
    assert np.all(results[f"{prefix}width"] < 0)


def test_scorers_in_grid_search(data):
    """All scorers as GridSearchCV(scoring=...) with refit on one of them, and
    in cross_validate: finite, correctly signed scores for every candidate and
    fold, and the refitted candidate is the best by the refit scorer."""
    X, y = data
    search = GridSearchCV(
        MDNRegressor(**SMALL), {"n_components": [2, 3]}, scoring=ALL_SCORERS, refit="crps", cv=2
    ).fit(X, y)
    assert_scores_are_valid(search.cv_results_, "mean_test_")
    assert search.best_index_ == int(np.argmax(search.cv_results_["mean_test_crps"]))
    assert search.best_score_ == pytest.approx(search.cv_results_["mean_test_crps"].max())
    # cross_validate on the bare estimator, and a single scorer as `scoring=`.
    assert_scores_are_valid(cross_validate(MDNRegressor(**SMALL), X, y, cv=2, scoring=ALL_SCORERS), "test_")
    single = GridSearchCV(MDNRegressor(**SMALL), {"n_components": [3]}, scoring=metrics.neg_crps_scorer, cv=2)
    assert single.fit(X, y).best_score_ < 0


def test_scorers_in_cross_validate_with_pipeline(data):
    """cross_validate on Pipeline(StandardScaler, MDNRegressor): the scorers
    find predict_dist at the end of the pipeline, and each fold's score equals
    the metric recomputed here from that fold's fitted pipeline (its scaler
    applied to the test rows)."""
    X, y = data
    pipeline = make_pipeline(StandardScaler(), MDNRegressor(**SMALL))
    folds = KFold(2)
    results = cross_validate(pipeline, X, y, cv=folds, scoring=ALL_SCORERS, return_estimator=True)
    assert_scores_are_valid(results, "test_")
    for (_, test), fitted, score in zip(folds.split(X), results["estimator"], results["test_crps"]):
        dist = fitted[-1].predict_dist(fitted[0].transform(X[test]))
        assert score == pytest.approx(-metrics.mean_crps(y[test], dist), rel=1e-12)
    for (_, test), fitted, score in zip(folds.split(X), results["estimator"], results["test_log_likelihood"]):
        assert score == pytest.approx(fitted.score(X[test], y[test]), rel=1e-12)
    search = GridSearchCV(pipeline, {"mdnregressor__n_components": [3]}, scoring=ALL_SCORERS, refit="log_likelihood", cv=2)
    assert_scores_are_valid(search.fit(X, y).cv_results_, "mean_test_")


def test_scorers_refuse_estimators_without_predict_dist(data):
    """A LinearRegression (or a Pipeline ending in one) has no predictive
    distribution: every scorer raises TypeError naming the problem."""
    X, y = data
    for estimator in (LinearRegression().fit(X, y), make_pipeline(StandardScaler(), LinearRegression()).fit(X, y)):
        for scorer in ALL_SCORERS.values():
            with pytest.raises(TypeError, match="no predict_dist"):
                scorer(estimator, X, y)


# -- scorers: weights, meta-estimators, routing, caching ------------------------------


class RowLookup:
    """A stand-in for a fitted model: X holds row numbers of a fixed
    distribution, and predict_dist(X) returns those rows."""

    def __init__(self, dist):
        self.dist = dist

    def predict_dist(self, X):
        return self.dist[np.asarray(X)[:, 0].astype(int)]


def test_every_scorer_weighs_rows_like_repeating_them():
    """Integer sample weights (zeros included) give what the repeated rows
    give unweighted, for every scorer, 1-D and with two outputs (the PIT of
    both outputs of a row carries its weight); the weights change the score;
    the weight may also be passed positionally, as before."""
    counts = np.random.default_rng(26).integers(0, 4, size=60)
    repeated = np.repeat(np.arange(60), counts)
    X = np.arange(60)[:, None]
    for n_outputs, seed in ((None, 27), (2, 28)):
        dist = GaussianMixtureDistribution(*random_mixtures(60, 3, n_outputs=n_outputs, seed=seed))
        y = dist.sample(1, random_state=seed)[:, 0]
        model = RowLookup(dist)
        for name, scorer in ALL_SCORERS.items():
            weighted = scorer(model, X, y, sample_weight=counts)
            assert weighted == pytest.approx(scorer(model, X[repeated], y[repeated]), rel=1e-12, abs=1e-14), name
            assert weighted != scorer(model, X, y), name
            assert scorer(model, X, y, counts) == weighted


def test_scorers_pickle_and_coverage_is_checked():
    """The scorers survive pickling (n_jobs > 1 sends them to workers) with
    the same scores, and keep readable names; coverage outside (0, 1) is
    refused when the scorer is made."""
    model = RowLookup(GaussianMixtureDistribution(*random_mixtures(30, 2, seed=29)))
    X, y = np.arange(30)[:, None], np.random.default_rng(30).normal(size=30)
    for scorer in ALL_SCORERS.values():
        assert pickle.loads(pickle.dumps(scorer))(model, X, y) == scorer(model, X, y)
    assert repr(metrics.neg_crps_scorer) == "neg_crps_scorer"
    assert repr(metrics.make_coverage_error_scorer(0.8)) == "make_coverage_error_scorer(0.8)"
    for make in (metrics.make_coverage_error_scorer, metrics.make_neg_interval_width_scorer):
        with pytest.raises(ValueError, match="coverage must be in"):
            make(1.5)


def scores_of(dist, y):
    """What each of ALL_SCORERS should give for this distribution, from the
    metric functions and scipy."""
    lower, upper = dist.interval(0.8)
    return {
        "log_likelihood": metrics.mean_log_likelihood(y, dist),
        "crps": -metrics.mean_crps(y, dist),
        "pit_ks": -kstest(metrics.pit(y, dist).ravel(), "uniform").statistic,
        "coverage": -abs(metrics.interval_coverage(y, lower, upper) - 0.8),
        "width": -metrics.mean_interval_width(lower, upper),
    }


def assert_scores(estimator, X, y, expected):
    for name, scorer in ALL_SCORERS.items():
        assert scorer(estimator, X, y) == pytest.approx(expected[name], rel=1e-12, abs=1e-15), name


def test_scorers_see_through_searches(data):
    """A fitted GridSearchCV or RandomizedSearchCV is scored by its
    best_estimator_; cross_val_score of a GridSearchCV (NaN before: the
    scorers did not know it) gives each fold the CRPS of that fold's best
    estimator, recomputed here."""
    X, y = data
    grid = GridSearchCV(MDNRegressor(**TINY), {"n_components": [2, 3]}, cv=2).fit(X, y)
    randomized = RandomizedSearchCV(MDNRegressor(**TINY), {"n_components": [2, 3]}, n_iter=1, cv=2, random_state=0).fit(X, y)
    for search in (grid, randomized):
        assert_scores(search, X, y, scores_of(search.best_estimator_.predict_dist(X), y))
    folds = KFold(2)
    search = GridSearchCV(MDNRegressor(**TINY), {"n_components": [2, 3]}, cv=2)
    scores = cross_val_score(search, X, y, cv=folds, scoring=metrics.neg_crps_scorer)
    fitted = cross_validate(search, X, y, cv=folds, return_estimator=True)["estimator"]
    for (_, test), fold_search, score in zip(folds.split(X), fitted, scores):
        dist = fold_search.best_estimator_.predict_dist(X[test])
        assert score == pytest.approx(-metrics.mean_crps(y[test], dist), rel=1e-12)


def test_scorers_refuse_a_search_without_refit(data):
    """refit=False leaves no best_estimator_: a ValueError that says so."""
    X, y = data
    search = GridSearchCV(MDNRegressor(**TINY), {"n_components": [2]}, cv=2, refit=False).fit(X, y)
    for scorer in ALL_SCORERS.values():
        with pytest.raises(ValueError, match="GridSearchCV was fitted with refit=False"):
            scorer(search, X, y)


def test_scorers_see_through_nested_pipelines_and_searches(data):
    """Pipeline(StandardScaler, passthrough, GridSearchCV(Pipeline(MinMaxScaler,
    MDNRegressor))): X goes through the outer scaler, then the inner one,
    into the best MDNRegressor; the scores are those of that distribution,
    worked out here step by step."""
    X, y = data
    inner = make_pipeline(MinMaxScaler(), MDNRegressor(**TINY))
    outer = Pipeline([
        ("scale", StandardScaler()),
        ("skip", "passthrough"),
        ("search", GridSearchCV(inner, {"mdnregressor__n_components": [2, 3]}, cv=2)),
    ]).fit(X, y)
    best = outer["search"].best_estimator_
    dist = best[-1].predict_dist(best[0].transform(outer["scale"].transform(X)))
    assert_scores(outer, X, y, scores_of(dist, y))


@pytest.mark.parametrize(
    "transformer", [StandardScaler(), MinMaxScaler(), MaxAbsScaler(), RobustScaler()], ids=lambda t: type(t).__name__
)
def test_scorers_map_an_affine_target_transform(transformer, data, data_2d):
    """TransformedTargetRegressor with an affine transformer, z = (y - b) / a
    per output: the mixture of y is the regressor's mixture of z mapped by
    y = a z + b, so (a found here from two points of the transform)
    log-likelihood(y) = log-likelihood(z) - sum_j log a_j, CRPS_j(y) = a_j
    CRPS_j(z), interval widths scale by a, and PIT and coverage do not
    change. 1-D y and y with two outputs."""
    for X, y in (data, data_2d):
        ttr = TransformedTargetRegressor(MDNRegressor(**TINY), transformer=transformer).fit(X, y)
        y_2d = y.reshape(len(y), -1)
        slope = 1.0 / (ttr.transformer_.transform(np.ones((1, y_2d.shape[1])))[0] - ttr.transformer_.transform(np.zeros((1, y_2d.shape[1])))[0])
        z = ttr.transformer_.transform(y_2d).reshape(y.shape)
        dist_z = ttr.regressor_.predict_dist(X)
        lower, upper = dist_z.interval(0.8)
        crps_z = metrics.crps(z, dist_z).reshape(len(y), -1)
        widths = ((upper - lower).reshape(len(y), -1) * slope).mean(axis=1)
        expected = {
            "log_likelihood": metrics.mean_log_likelihood(z, dist_z) - np.sum(np.log(slope)),
            "crps": -np.mean((crps_z * slope).mean(axis=1)),
            "pit_ks": -kstest(metrics.pit(z, dist_z).ravel(), "uniform").statistic,
            "coverage": -abs(metrics.interval_coverage(z, lower, upper) - 0.8),
            "width": -np.mean(widths),
        }
        for name, scorer in ALL_SCORERS.items():
            assert scorer(ttr, X, y) == pytest.approx(expected[name], rel=1e-12, abs=1e-15), name


def test_scorers_through_an_identity_target_transform(data):
    """TransformedTargetRegressor without transformer or func: the scores of
    its regressor_ on y itself."""
    X, y = data
    ttr = TransformedTargetRegressor(MDNRegressor(**TINY)).fit(X, y)
    assert_scores(ttr, X, y, scores_of(ttr.regressor_.predict_dist(X), y))


def test_scorers_refuse_a_nonlinear_target_transform(data):
    """log1p / expm1, or a QuantileTransformer: the distribution of y is not
    a Gaussian mixture; a ValueError naming TransformedTargetRegressor and
    saying why."""
    X, y = data
    for options in (dict(func=np.log1p, inverse_func=np.expm1), dict(transformer=QuantileTransformer(n_quantiles=50))):
        ttr = TransformedTargetRegressor(MDNRegressor(**TINY), **options).fit(X, y)
        for scorer in ALL_SCORERS.values():
            with pytest.raises(ValueError, match="TransformedTargetRegressor maps y through .* not a Gaussian mixture"):
                scorer(ttr, X, y)


def test_scorers_name_wrappers_they_cannot_see_through(data):
    """Wrappers other than Pipeline, searches and TransformedTargetRegressor
    get a TypeError naming the wrapper; a search over a LinearRegression
    names the regressor and where it sits."""
    X, y = data
    for wrapper in (BaggingRegressor(MDNRegressor()), MultiOutputRegressor(MDNRegressor())):
        with pytest.raises(TypeError, match=f"^{type(wrapper).__name__} has no predict_dist"):
            metrics.neg_crps_scorer(wrapper, X, y)
    search = GridSearchCV(make_pipeline(StandardScaler(), LinearRegression()), {"linearregression__fit_intercept": [True]}, cv=2).fit(X, y)
    with pytest.raises(TypeError, match=r"LinearRegression \(the last step of a Pipeline, the best_estimator_ of a GridSearchCV\) has no predict_dist"):
        metrics.neg_crps_scorer(search, X, y)


def test_sample_weight_is_routed_to_the_scorers(data):
    """With metadata routing on, cross_validate(params={"sample_weight": w})
    gives the weights to scorers that request them (on copies: the module's
    scorers stay as they were), in a scoring dict and as the single scorer:
    each fold's score is the weighted score recomputed here from that fold's
    model, not the unweighted one."""
    X, y = data
    w = np.random.default_rng(31).uniform(0, 2, size=len(y))
    folds = KFold(2)
    with sklearn.config_context(enable_metadata_routing=True):
        requested = {
            name: copy.deepcopy(scorer).set_score_request(sample_weight=True) for name, scorer in ALL_SCORERS.items()
        }
        model = MDNRegressor(**TINY).set_fit_request(sample_weight=False)
        results = cross_validate(model, X, y, cv=folds, scoring=requested, params={"sample_weight": w}, return_estimator=True)
        single = cross_validate(model, X, y, cv=folds, scoring=requested["crps"], params={"sample_weight": w})
    for fold, ((_, test), fitted) in enumerate(zip(folds.split(X), results["estimator"])):
        for name, scorer in ALL_SCORERS.items():
            weighted = scorer(fitted, X[test], y[test], sample_weight=w[test])
            assert results[f"test_{name}"][fold] == pytest.approx(weighted, rel=1e-12, abs=1e-15), name
            assert weighted != scorer(fitted, X[test], y[test]), name
        assert single["test_score"][fold] == pytest.approx(results["test_crps"][fold], rel=1e-12)


def test_scorers_share_one_predict_dist_per_evaluation(data, model, monkeypatch):
    """Every MDNRegressor.predict_dist call is counted (with its number of
    rows). Five scorers in one scoring dict: one call per fold of
    cross_validate, bare or in a Pipeline, and in a GridSearchCV (one call
    per inner fold by its own scorer, then one per outer fold); one call for
    check_scoring's multi-metric scorer, with the scores of the scorers
    called one by one. With scikit-learn's "r2" in the dict, the five still
    add one call per fold to what "r2" alone makes, and both are right (r2
    and CRPS recomputed here): they do not share a cache entry."""
    X, y = data
    calls, predict_dist = [], MDNRegressor.predict_dist

    def counting(self, X):
        calls.append(len(X))
        return predict_dist(self, X)

    monkeypatch.setattr(MDNRegressor, "predict_dist", counting)
    folds = KFold(2)
    for estimator in (MDNRegressor(**TINY), make_pipeline(StandardScaler(), MDNRegressor(**TINY))):
        calls.clear()
        results = cross_validate(estimator, X, y, cv=folds, scoring=ALL_SCORERS)
        assert calls == [100, 100]
        assert_scores_are_valid(results, "test_")
    calls.clear()
    search = GridSearchCV(MDNRegressor(**TINY), {"n_components": [3]}, cv=2, scoring=metrics.neg_crps_scorer)
    cross_validate(search, X, y, cv=folds, scoring=ALL_SCORERS)
    assert calls == [50, 50, 100, 50, 50, 100]
    calls.clear()
    together = check_scoring(model, scoring=ALL_SCORERS)(model, X, y)
    assert calls == [200]
    for name, scorer in ALL_SCORERS.items():
        assert together[name] == scorer(model, X, y), name
    calls.clear()
    cross_validate(MDNRegressor(**TINY), X, y, cv=folds, scoring="r2")
    r2_alone = len(calls)
    calls.clear()
    results = cross_validate(MDNRegressor(**TINY), X, y, cv=folds, scoring={**ALL_SCORERS, "r2": "r2"}, return_estimator=True)
    assert len(calls) == r2_alone + 2
    for (_, test), fitted, r2, neg_crps in zip(folds.split(X), results["estimator"], results["test_r2"], results["test_crps"]):
        assert r2 == pytest.approx(r2_score(y[test], fitted.predict(X[test])), rel=1e-12)
        assert neg_crps == pytest.approx(-metrics.mean_crps(y[test], fitted.predict_dist(X[test])), rel=1e-12)


# -- estimator conveniences -----------------------------------------------------------


def test_predict_with_return_std(model, model_2d, data, data_2d):
    """predict(X, return_std=True) is (mode, std) of predict_dist(X), shaped like y."""
    for fitted, (X, y) in ((model, data), (model_2d, data_2d)):
        dist = fitted.predict_dist(X)
        mode, std = fitted.predict(X, return_std=True)
        assert mode.shape == std.shape == y.shape
        assert_allclose(mode, fitted.predict(X), rtol=0, atol=0)
        assert_allclose(mode, dist.mode(), rtol=1e-12, atol=1e-12)
        assert_allclose(std, dist.std(), rtol=1e-12)
        assert np.all(std > 0)


def test_predict_quantiles(model, model_2d, data, data_2d):
    """Shapes (n, 3) by default, (n,) for a scalar level, (n, m) for m levels,
    with a trailing output axis for 2-D y; non-decreasing in the level; equal
    to predict_dist(X).ppf."""
    X, _ = data
    n = len(X)
    levels = [0.01, 0.1, 0.5, 0.9, 0.99]
    assert model.predict_quantiles(X).shape == (n, 3)
    assert model.predict_quantiles(X, 0.5).shape == (n,)
    result = model.predict_quantiles(X, levels)
    assert result.shape == (n, 5)
    assert np.all(np.diff(result, axis=1) >= 0)
    assert_allclose(result, model.predict_dist(X).ppf(levels), rtol=1e-12)
    X2, _ = data_2d
    result_2d = model_2d.predict_quantiles(X2, levels)
    assert result_2d.shape == (n, 5, 2)
    assert model_2d.predict_quantiles(X2, 0.5).shape == (n, 2)
    assert model_2d.predict_quantiles(X2).shape == (n, 3, 2)
    assert np.all(np.diff(result_2d, axis=1) >= 0)
    assert_allclose(result_2d, model_2d.predict_dist(X2).ppf(levels), rtol=1e-12)


def test_predict_interval(model, model_2d, data, data_2d):
    """(n, 2) for 1-D y and (n, d, 2) for 2-D y; lower <= upper; equal to
    predict_dist(X).interval(coverage); a 50% interval nests in the 90% one."""
    for fitted, (X, y) in ((model, data), (model_2d, data_2d)):
        intervals = fitted.predict_interval(X, coverage=0.9)
        assert intervals.shape == y.shape + (2,)
        assert np.all(intervals[..., 0] <= intervals[..., 1])
        lower, upper = fitted.predict_dist(X).interval(0.9)
        assert_allclose(intervals[..., 0], lower, rtol=1e-12)
        assert_allclose(intervals[..., 1], upper, rtol=1e-12)
        narrow = fitted.predict_interval(X, coverage=0.5)
        assert np.all(intervals[..., 0] <= narrow[..., 0]) and np.all(narrow[..., 1] <= intervals[..., 1])


def test_sample_with_temperature(model, model_2d, data, data_2d):
    """Shapes (n, s) / (n, s, d) for any temperature; reproducible with a
    random_state, and the same draws as predict_dist(X).sample."""
    X, _ = data
    n = len(X)
    for fitted, d in ((model, None), (model_2d, 2)):
        shape = (n, 4) if d is None else (n, 4, d)
        for temperature in (0.1, 1.0, 5.0):
            draws = fitted.sample(X, n_samples=4, random_state=0, temperature=temperature, sigma_temperature=0.5)
            assert draws.shape == shape and np.all(np.isfinite(draws))
            assert_array_equal(
                draws,
                fitted.predict_dist(X).sample(4, random_state=0, temperature=temperature, sigma_temperature=0.5),
            )
        assert fitted.sample(X, random_state=0).shape == ((n, 1) if d is None else (n, 1, d))
