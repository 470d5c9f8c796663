"""skmdn.metrics against independent references, the scorers inside
scikit-learn's model selection, and the estimator's prediction conveniences.

CRPS is checked against the Gaussian closed form, Monte Carlo and numerical
integration of its definition; PIT against scipy and uniformity; the simple
measures against hand-computed values. Models are small (200 rows of
make_inverse_sine, 30 epochs of a 16-unit layer) and fitted once per module.
"""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.integrate import quad
from scipy.stats import kstest, norm
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmdn import GaussianMixtureDistribution, MDNRegressor
from skmdn import metrics
from skmdn.datasets import make_inverse_sine

from mixture_helpers import random_mixtures

# max_iter=30 stops every fit on max_iter, which warns; expected here.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(n_components=3, hidden_layer_sizes=(16,), max_iter=30, random_state=0)


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
