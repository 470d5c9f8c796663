"""Split-conformal prediction sets (ConformalMDN) and the density region they
are made of (GaussianMixtureDistribution.density_region).

The coverage guarantee is checked the way it is stated: over many random
draws of calibration and test rows, for a model that is deliberately poor,
whose own highest-density regions miss their coverage by far."""

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skmdn import ConformalMDN, GaussianMixtureDistribution, MDNRegressor
from skmdn.datasets import make_spiral

from mixture_helpers import random_mixtures


def scipy_pdf(y, weights, means, scales):
    """sum_k w_k N(y; mu_k, sigma_k) for one 1-D mixture, with scipy."""
    return sum(w * norm.pdf(y, m, s) for w, m, s in zip(weights, means, scales))


# -- density_region -----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_density_region_is_where_the_density_reaches_the_level(seed):
    """On a fine grid, a point is inside the returned intervals exactly where
    scipy's mixture density is at least the level (but for grid points
    within a few grid steps of an end), and the ends sit on the level."""
    weights, means, scales = random_mixtures(20, 4, seed=seed)
    dist = GaussianMixtureDistribution(weights, means, scales)
    rng = np.random.default_rng(seed)
    grid = np.linspace(-10, 10, 20_001)
    step = grid[1] - grid[0]
    levels = np.empty(20)
    for row in range(20):
        peak = scipy_pdf(grid, weights[row], means[row], scales[row]).max()
        levels[row] = peak * rng.uniform(0.02, 0.9)
    intervals = dist.density_region(levels)
    for row in range(20):
        density = scipy_pdf(grid, weights[row], means[row], scales[row])
        ends = intervals[row][~np.isnan(intervals[row, :, 0])]
        inside = np.any((ends[:, :1] <= grid) & (grid <= ends[:, 1:]), axis=0)
        near_an_end = np.min(np.abs(grid[:, None] - ends.ravel()[None, :]), axis=1) < 3 * step
        assert_array_equal(inside[~near_an_end], (density >= levels[row])[~near_an_end])
        assert_allclose(
            scipy_pdf(ends.ravel(), weights[row], means[row], scales[row]), levels[row],
            rtol=1e-6,
        )


def test_density_region_at_the_hdr_threshold_is_the_hdr():
    weights, means, scales = random_mixtures(30, 3, seed=5)
    dist = GaussianMixtureDistribution(weights, means, scales)
    intervals, threshold = dist.hdr(0.8)
    assert_allclose(dist.density_region(threshold), intervals, rtol=1e-9, atol=1e-9)


def test_density_region_above_the_peak_is_empty_and_levels_are_checked():
    dist = GaussianMixtureDistribution([[1.0]], [[0.0]], [[1.0]])
    assert dist.density_region(1.0).shape == (1, 0, 2)  # the peak is 0.399
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="level must be positive"):
            dist.density_region(bad)
    two = GaussianMixtureDistribution([[1.0]], [[[0.0, 1.0]]], [[[1.0, 1.0]]])
    with pytest.raises(ValueError, match="single output"):
        two.density_region(0.1)


def test_one_output_given_as_a_column_has_an_hdr():
    """Means of shape (n, K, 1) (a model fitted on y of shape (n, 1)) give the
    same region as (n, K)."""
    weights, means, scales = random_mixtures(10, 3, seed=2)
    flat = GaussianMixtureDistribution(weights, means, scales)
    column = GaussianMixtureDistribution(weights, means[..., None], scales[..., None])
    assert_allclose(column.hdr(0.9)[0], flat.hdr(0.9)[0])
    assert_allclose(column.density_region(0.05), flat.density_region(0.05))


# -- ConformalMDN ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def spiral():
    X, y = make_spiral(3200, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def poor_model(spiral):
    """An overfitted density: 100 training rows, 1,000 epochs without early
    stopping or scale calibration, so it is far too confident."""
    X, y = spiral
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MDNRegressor(
            max_iter=1000, early_stopping=False, calibrate_scales=False, random_state=0
        ).fit(X[:100], y[:100])


@pytest.mark.parametrize("method", ["hdr", "cqr"])
def test_coverage_is_guaranteed_even_for_a_poor_model(spiral, poor_model, method):
    """Split conformal with n = 100 calibration rows covers a new row with
    probability ceil(0.9 * 101) / 101 = 91 / 101 exactly (continuous
    scores): averaged over 300 random calibration/test draws from 2,200
    held-out rows, the coverage is that to within 0.005 (about three
    standard errors of the average; the rank ceil(0.9 * n), one lower,
    would give 90 / 101), while
    the poor model's own 90% HDR covers less than 80% of the rows."""
    X, y = spiral
    pool_X, pool_y = X[1000:], y[1000:]
    rng = np.random.default_rng(1)
    coverages = []
    for _ in range(300):
        rows = rng.permutation(len(pool_y))
        calibration, test = rows[:100], rows[100:600]
        sets = ConformalMDN(poor_model, prefit=True, method=method)
        sets.fit(pool_X[calibration], pool_y[calibration])
        assert sets.n_calibration_ == 100
        coverages.append(sets.contains(pool_X[test], pool_y[test]).mean())
    assert abs(np.mean(coverages) - 91 / 101) < 0.005
    own, _ = poor_model.predict_dist(pool_X).hdr(0.9)
    own_coverage = np.mean(
        np.any((own[:, :, 0] <= pool_y[:, None]) & (pool_y[:, None] <= own[:, :, 1]), axis=1)
    )
    assert own_coverage < 0.8


@pytest.fixture(scope="module")
def trained(spiral):
    X, y = spiral
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return ConformalMDN(
            MDNRegressor(max_iter=150, random_state=0), random_state=0, calibration_fraction=0.3
        ).fit(X[:2000], y[:2000])


def test_fit_trains_a_clone_on_the_rest_and_calibrates_on_the_fraction(trained):
    assert trained.n_calibration_ == 600
    assert trained.estimator_.n_features_in_ == 1
    assert not hasattr(trained.estimator, "model_")  # the parameter stays unfitted
    assert trained.estimator_.t_ // trained.estimator_.n_iter_ <= 1400


def test_hdr_sets_follow_the_branches(spiral, trained):
    """The HDR set is the superlevel set of the density at exp(-threshold):
    its ends have that log density, contains() agrees with the intervals,
    and on the spiral (several branches per x) the sets are far shorter than
    the conformalised quantile intervals at the same coverage."""
    X, y = spiral
    X_test, y_test = X[2000:], y[2000:]
    intervals = trained.predict_set(X_test)
    ends = intervals[~np.isnan(intervals[:, :, 0])]
    rows = np.nonzero(~np.isnan(intervals[:, :, 0]))[0]
    dist = trained.estimator_.predict_dist(X_test)
    assert_allclose(dist[rows].log_prob(ends[:, 0]), -trained.threshold_, atol=1e-6)
    assert_allclose(dist[rows].log_prob(ends[:, 1]), -trained.threshold_, atol=1e-6)
    by_intervals = np.any(
        (intervals[:, :, 0] <= y_test[:, None]) & (y_test[:, None] <= intervals[:, :, 1]), axis=1
    )
    assert_array_equal(by_intervals, trained.contains(X_test, y_test))
    assert intervals.shape[1] >= 2  # some rows' sets have several intervals
    quantile = ConformalMDN(trained.estimator_, prefit=True, method="cqr").fit(
        X[1400:2000], y[1400:2000]
    )
    assert trained.set_length(X_test).mean() < 0.5 * quantile.set_length(X_test).mean()


def test_cqr_interval_is_the_mixture_quantiles_widened_by_the_threshold(spiral, trained):
    X, y = spiral
    cqr = ConformalMDN(trained.estimator_, prefit=True, method="cqr", coverage=0.8)
    cqr.fit(X[1400:2000], y[1400:2000])
    intervals = cqr.predict_set(X[2000:2010])
    quantiles = trained.estimator_.predict_dist(X[2000:2010]).ppf([0.1, 0.9])
    assert intervals.shape == (10, 1, 2)
    assert_allclose(intervals[:, 0, 0], quantiles[:, 0] - cqr.threshold_)
    assert_allclose(intervals[:, 0, 1], quantiles[:, 1] + cqr.threshold_)
    assert_array_equal(cqr.predict(X[2000:2010]), trained.estimator_.predict(X[2000:2010]))


def test_too_few_calibration_rows_give_the_whole_line(spiral, trained):
    """ceil((5 + 1) * 0.9) = 6 > 5 calibration rows: no finite threshold
    keeps the guarantee, so every set is everything."""
    X, y = spiral
    sets = ConformalMDN(trained.estimator_, prefit=True).fit(X[1400:1405], y[1400:1405])
    assert sets.threshold_ == math.inf
    assert_array_equal(sets.predict_set(X[:3]), np.tile([[[-np.inf, np.inf]]], (3, 1, 1)))
    assert sets.contains(X[:3], y[:3] + 100.0).all()


def test_the_threshold_is_the_conformal_rank_of_the_scores(spiral, trained):
    """With n calibration rows, the ceil((n + 1) * coverage)-th smallest
    score -log p(y | x), computed here from the model's own log_likelihood:
    the 7th of 9 at 0.7 (where 10 * 0.7 is 7.000000000000001 in floating
    point) and the 91st of 100 at 0.9."""
    X, y = spiral
    for n_rows, coverage, rank in ((9, 0.7, 7), (100, 0.9, 91)):
        rows = slice(1400, 1400 + n_rows)
        scores = np.sort(-trained.estimator_.log_likelihood(X[rows], y[rows]))
        sets = ConformalMDN(trained.estimator_, prefit=True, coverage=coverage)
        assert sets.fit(X[rows], y[rows]).threshold_ == pytest.approx(scores[rank - 1], rel=1e-12)


def test_several_outputs_have_membership_but_not_intervals():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(400, 2))
    Y = np.column_stack([X[:, 0] + 0.1 * rng.normal(size=400), X[:, 1] ** 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sets = ConformalMDN(
            MDNRegressor(n_components=2, max_iter=20), random_state=0
        ).fit(X, Y)
    inside = sets.contains(X, Y)
    assert inside.shape == (400,) and inside.dtype == bool
    with pytest.raises(ValueError, match="contains"):
        sets.predict_set(X)
    with pytest.raises(ValueError, match="one output"):
        ConformalMDN(sets.estimator_, prefit=True, method="cqr").fit(X, Y)


def test_a_pipeline_and_bad_settings(spiral):
    X, y = spiral
    pipeline = make_pipeline(StandardScaler(), MDNRegressor(n_components=2, max_iter=3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sets = ConformalMDN(pipeline, random_state=0).fit(X[:300], y[:300])
    assert sets.contains(X[300:400], y[300:400]).shape == (100,)
    with pytest.raises(NotFittedError):
        ConformalMDN(MDNRegressor(), prefit=True).fit(X[:10], y[:10])
    with pytest.raises(InvalidParameterError, match="coverage"):
        ConformalMDN(coverage=1.0).fit(X[:10], y[:10])
    with pytest.raises(ValueError, match="calibration_fraction"):
        ConformalMDN(calibration_fraction=0.01).fit(X[:10], y[:10])
    with pytest.raises(NotFittedError):
        ConformalMDN().predict_set(X[:2])
    with pytest.raises(ValueError, match="NaN or infinity"):
        ConformalMDN(sets.estimator_, prefit=True).fit(X[:10], np.full(10, np.nan))
