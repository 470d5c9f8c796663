"""GaussianMixtureDistribution's distribution API against independent references.

CDF, quantiles, central intervals, highest-density regions, modes, covariance,
the TensorFlow Probability export and the sampling temperature. Every expected
value comes from outside the class: scipy.stats.norm, explicit sums over
components, scipy.optimize root finding, or Monte Carlo draws made here with
numpy (never with the class's own sampler, except where the sampler itself is
what is checked). Densities, log densities and CDFs already have their own tests
in test_mixture.py; here they are used as trusted building blocks only where
test_mixture.py checks them against scipy.
"""

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import brentq, minimize_scalar
from scipy.stats import norm

from skmdn import GaussianMixtureDistribution

from mixture_helpers import random_mixtures


def single(weights, means, scales):
    """A one-row distribution of a 1-D target from per-component lists."""
    return GaussianMixtureDistribution([weights], [means], [scales])


def scipy_cdf(y, weights, means, scales):
    """sum_k w_k Phi((y - mu_k) / sigma_k) for ONE 1-D mixture, y of any shape."""
    y = np.asarray(y, dtype=np.float64)
    return sum(w * norm.cdf(y, m, s) for w, m, s in zip(weights, means, scales))


def scipy_sf(y, weights, means, scales):
    """1 - CDF, summed from scipy's survival functions (accurate in the right tail)."""
    y = np.asarray(y, dtype=np.float64)
    return sum(w * norm.sf(y, m, s) for w, m, s in zip(weights, means, scales))


def scipy_pdf(y, weights, means, scales):
    y = np.asarray(y, dtype=np.float64)
    return sum(w * norm.pdf(y, m, s) for w, m, s in zip(weights, means, scales))


def draw(weights, means, scales, n, rng):
    """n draws from ONE mixture (1-D: means (K,), or d outputs: means (K, d)),
    made here with numpy, independently of GaussianMixtureDistribution.sample."""
    weights, means, scales = (np.asarray(a, dtype=np.float64) for a in (weights, means, scales))
    component = rng.choice(len(weights), size=n, p=weights / weights.sum())
    noise = rng.standard_normal((n,) + means.shape[1:])
    return means[component] + scales[component] * noise


# -- CDF ------------------------------------------------------------------------------


def test_cdf_single_component_is_scipy_norm():
    """K = 1: the CDF is scipy's normal CDF. Both go through the same special
    function (ndtr), so agreement is to rounding of the standardisation:
    rtol 1e-12, and far in the tails (|z| up to 30) too."""
    rng = np.random.default_rng(0)
    means = rng.normal(size=(60, 1)) * 10
    scales = np.exp(rng.normal(size=(60, 1)))
    z = np.concatenate([rng.normal(size=50) * 3, [-30.0, -10.0, 0.0, 10.0, 30.0, -8.0, 8.0, 1e-9, -37.0, 5.0]])
    y = means[:, 0] + scales[:, 0] * z
    dist = GaussianMixtureDistribution(np.ones((60, 1)), means, scales)
    cdf = dist.cdf(y)
    assert cdf.shape == (60,)
    assert_allclose(cdf, norm.cdf(y, means[:, 0], scales[:, 0]), rtol=1e-12, atol=1e-300)


def test_cdf_mixture_is_weighted_sum_of_scipy_cdfs():
    """K > 1: brute-force sum_k w_k Phi((y - mu_k)/sigma_k), row by row; a sum
    of at most K terms in [0, 1], so agreement to 1e-14 absolute."""
    for n_components, seed in [(2, 1), (4, 2), (7, 3)]:
        weights, means, scales = random_mixtures(40, n_components, seed=seed)
        y = np.random.default_rng(seed + 10).normal(scale=3.0, size=40)
        expected = np.array([scipy_cdf(y[i], weights[i], means[i], scales[i]) for i in range(40)])
        assert_allclose(
            GaussianMixtureDistribution(weights, means, scales).cdf(y), expected, rtol=0, atol=1e-14
        )


def test_cdf_limits_and_monotonicity():
    """F(-inf) = 0 and F(+inf) = 1 (sum of the weights: to rounding, 1e-15),
    and F is non-decreasing on a sorted grid."""
    dist = GaussianMixtureDistribution(*random_mixtures(5, 3, seed=4))
    assert_allclose(dist.cdf(np.array([-np.inf, np.inf])), np.tile([0.0, 1.0], (5, 1)), rtol=0, atol=1e-15)
    grid = np.linspace(-12, 12, 2001)
    assert np.all(np.diff(dist.cdf(grid), axis=1) >= 0)


def test_cdf_multi_output_is_per_output_marginal():
    """d > 1: one point per row (n, d) gives (n, d); column j is the 1-D CDF of
    output j's marginal mixture (weights shared, means/scales of output j)."""
    weights, means, scales = random_mixtures(30, 3, n_outputs=3, seed=5)
    y = np.random.default_rng(6).normal(scale=2.0, size=(30, 3))
    cdf = GaussianMixtureDistribution(weights, means, scales).cdf(y)
    assert cdf.shape == (30, 3)
    for j in range(3):
        expected = [scipy_cdf(y[i, j], weights[i], means[i, :, j], scales[i, :, j]) for i in range(30)]
        assert_allclose(cdf[:, j], expected, rtol=0, atol=1e-14)


def test_cdf_grid_shapes_1d():
    """1-D target, per the class Notes: a shared grid (m,) with m != n or
    (1, m) gives (n, m); a per-row grid (n, m) gives (n, m); (n,) is one point
    per row, and a shared grid of length n must be passed as grid[None, :]."""
    n = 6
    weights, means, scales = random_mixtures(n, 3, seed=7)
    dist = GaussianMixtureDistribution(weights, means, scales)
    grid = np.linspace(-4, 4, 9)
    expected = np.array([scipy_cdf(grid, weights[i], means[i], scales[i]) for i in range(n)])
    assert dist.cdf(grid).shape == (n, 9)
    assert_allclose(dist.cdf(grid), expected, atol=1e-14)
    assert_allclose(dist.cdf(grid[None, :]), expected, atol=1e-14)
    per_row = grid[None, :] + np.arange(n)[:, None]
    expected_per_row = np.array([scipy_cdf(per_row[i], weights[i], means[i], scales[i]) for i in range(n)])
    assert dist.cdf(per_row).shape == (n, 9)
    assert_allclose(dist.cdf(per_row), expected_per_row, atol=1e-14)
    # A grid of length n: as (n,) one point per row, as (1, n) shared.
    square = np.linspace(-1, 1, n)
    assert dist.cdf(square).shape == (n,)
    assert dist.cdf(square[None, :]).shape == (n, n)
    assert_allclose(dist.cdf(square), np.diag(dist.cdf(square[None, :])), atol=1e-15)


def test_cdf_grid_shapes_multi_output():
    """d outputs: a shared grid (m, d) or (1, m, d) gives (n, m, d); a per-row
    grid (n, m, d) gives (n, m, d); values are the per-output marginals."""
    n, d = 4, 2
    weights, means, scales = random_mixtures(n, 3, n_outputs=d, seed=8)
    dist = GaussianMixtureDistribution(weights, means, scales)
    grid = np.stack([np.linspace(-3, 3, 7), np.linspace(2, -2, 7)], axis=1)  # (7, 2)
    expected = np.array(
        [[scipy_cdf(grid[:, j], weights[i], means[i, :, j], scales[i, :, j]) for j in range(d)] for i in range(n)]
    ).transpose(0, 2, 1)
    for points in (grid, grid[None]):
        result = dist.cdf(points)
        assert result.shape == (n, 7, d)
        assert_allclose(result, expected, atol=1e-14)
    per_row = np.tile(grid, (n, 1, 1))
    assert dist.cdf(per_row).shape == (n, 7, d)
    assert_allclose(dist.cdf(per_row), expected, atol=1e-14)


def test_weights_within_tolerance_of_one_are_renormalised():
    """The constructor accepts rows of weights that sum to one within 1e-6
    (float32 weights, rounded weights). They must describe a probability
    distribution all the same: F(+inf) = 1 to rounding, the median of a
    symmetric mixture is its centre, and a level above sum(w) still has a
    quantile with F(ppf(q)) = q. Weights of 0.3333333 each (sum 1 - 1e-7)
    give the first two away by 1e-7 and the third by ~1e-7 if they are
    used unnormalised; 1e-12 is far below that and far above rounding."""
    dist = single([0.3333333] * 3, [-1.0, 0.0, 1.0], [1.0, 1.0, 1.0])
    assert_allclose(dist.cdf(np.array([np.inf])), [1.0], rtol=0, atol=1e-15)
    assert abs(dist.ppf(0.5)[0]) < 1e-12
    level = 1 - 1e-8
    quantile = dist.ppf(level)
    assert abs(scipy_sf(quantile[0], [1 / 3] * 3, [-1.0, 0.0, 1.0], [1.0] * 3) - 1e-8) < 1e-12


# -- quantiles ----------------------------------------------------------------------

LEVELS = np.array([1e-9, 1e-4, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1 - 1e-4, 1 - 1e-9])


def test_ppf_single_component_is_scipy_norm():
    """K = 1: the quantile is mu + sigma * Phi^-1(q), scipy's norm.ppf; the
    bracket of component quantiles has zero width, so only rounding separates
    them (rtol 1e-12)."""
    rng = np.random.default_rng(10)
    means = rng.normal(size=(20, 1)) * 100
    scales = np.exp(rng.normal(size=(20, 1)) * 3)
    dist = GaussianMixtureDistribution(np.ones((20, 1)), means, scales)
    expected = norm.ppf(LEVELS[None, :], means, scales)
    assert_allclose(dist.ppf(LEVELS), expected, rtol=1e-12)
    # Multi-output K = 1: each output's own normal.
    multi = GaussianMixtureDistribution(np.ones((20, 1)), np.stack([means, -means], 2), np.stack([scales, 2 * scales], 2))
    result = multi.ppf(LEVELS)
    assert result.shape == (20, LEVELS.size, 2)
    assert_allclose(result[..., 0], expected, rtol=1e-12)
    assert_allclose(result[..., 1], norm.ppf(LEVELS[None, :], -means, 2 * scales), rtol=1e-12)


# (weights, means, scales) of hard rows for the quantile solver.
HARD_QUANTILE_CASES = {
    "nearly_equal_components": ([0.5, 0.5], [0.0, 1e-9], [1.0, 1.0 + 1e-9]),
    "dominant_weight": ([0.999, 0.001], [0.0, 5.0], [1.0, 0.1]),
    "dominant_light_spike": ([0.999, 0.001], [0.0, 0.5], [1.0, 1e-6]),
    "tiny_sigmas": ([0.3, 0.7], [0.0, 1e-5], [1e-6, 1e-6]),
    "far_apart_modes": ([0.4, 0.6], [0.0, 1e6], [1.0, 1.0]),
    "huge_and_tiny_sigmas": ([0.4, 0.6], [0.0, 1.0], [1e3, 1e-6]),
    "single_component": ([1.0], [3.0], [0.2]),
    "five_components": ([0.1, 0.2, 0.3, 0.25, 0.15], [-3.0, -1.0, 0.0, 2.0, 8.0], [0.5, 0.1, 2.0, 0.01, 1.0]),
}


def cdf_tolerance(x, pdf):
    """What |F(ppf(q)) - q| can be for the best float64 answer.

    Moving x by one float64 spacing changes F by pdf(x) * spacing(x); the root
    is only representable to that (it dominates next to a narrow component far
    from 0). 1e-10 covers the solver's own stopping rule (a step below 1e-12 of
    the smallest scale moves F by at most ~4e-13) and summation rounding.
    """
    return 1e-10 + 2.0 * pdf * np.spacing(np.abs(x))


@pytest.mark.parametrize("case", HARD_QUANTILE_CASES)
def test_ppf_inverts_cdf_and_matches_brentq(case):
    """For each hard row, F(ppf(q)) = q (see cdf_tolerance), with F summed
    from scipy (the right tail from survival functions, where 1 - F is tiny),
    and ppf agrees with scipy's brentq on that F, to the distance a CDF error
    of 1e-10 corresponds to (1e-10 / pdf) plus rounding of x."""
    weights, means, scales = HARD_QUANTILE_CASES[case]
    dist = single(weights, means, scales)
    quantiles = dist.ppf(LEVELS)[0]
    assert quantiles.shape == LEVELS.shape
    assert np.all(np.diff(quantiles) >= 0)
    for level, x in zip(LEVELS, quantiles):
        pdf = scipy_pdf(x, weights, means, scales)
        if level < 0.5:
            error = scipy_cdf(x, weights, means, scales) - level
        else:
            error = (1 - level) - scipy_sf(x, weights, means, scales)
        assert abs(error) <= cdf_tolerance(x, pdf), (case, level, x, error)

        # brentq on the scipy CDF inside the bracket of the component quantiles.
        component_quantiles = norm.ppf(level, means, scales)
        low, high = np.min(component_quantiles), np.max(component_quantiles)
        if high > low:
            low, high = low - 1e-9 * (1 + abs(low)), high + 1e-9 * (1 + abs(high))
            root = brentq(
                lambda t: scipy_cdf(t, weights, means, scales) - level,
                low, high, xtol=1e-300, rtol=1e-15, maxiter=2000,
            )
        else:
            root = low
        root_pdf = scipy_pdf(root, weights, means, scales)
        tolerance = 2e-10 / root_pdf + 8 * np.spacing(abs(root)) + 1e-12 * min(scales)
        assert abs(x - root) <= tolerance, (case, level, x, root)


def test_ppf_random_mixtures_invert_cdf():
    """Many random rows, K = 4, scales from 1e-6 to 1e3: F(ppf(q)) = q to
    cdf_tolerance, with F from scipy row by row."""
    weights, means, scales = random_mixtures(60, 4, seed=11, log_scale_range=(1e-6, 1e3))
    dist = GaussianMixtureDistribution(weights, means, scales)
    quantiles = dist.ppf(LEVELS)
    for i in range(60):
        x = quantiles[i]
        cdf = scipy_cdf(x, weights[i], means[i], scales[i])
        sf = scipy_sf(x, weights[i], means[i], scales[i])
        error = np.where(LEVELS < 0.5, cdf - LEVELS, (1 - LEVELS) - sf)
        pdf = scipy_pdf(x, weights[i], means[i], scales[i])
        assert np.all(np.abs(error) <= cdf_tolerance(x, pdf)), i


def test_ppf_multi_output_is_marginal_quantile():
    """d > 1: ppf gives (n, m, d), and column j is the 1-D ppf of output j's
    marginal, to the same cdf tolerance."""
    weights, means, scales = random_mixtures(10, 3, n_outputs=3, seed=12)
    dist = GaussianMixtureDistribution(weights, means, scales)
    result = dist.ppf(LEVELS)
    assert result.shape == (10, LEVELS.size, 3)
    assert dist.ppf(0.3).shape == (10, 3)
    for j in range(3):
        marginal = GaussianMixtureDistribution(weights, means[:, :, j], scales[:, :, j])
        # Far in the tails (level 1 - 1e-9) the density is tiny and x is fixed
        # only to ~1e-12 / pdf; rtol 1e-9 allows for that, the CDF check below
        # is the precise one.
        assert_allclose(result[:, :, j], marginal.ppf(LEVELS), rtol=1e-9)
        for i in range(10):
            cdf = scipy_cdf(result[i, 1:-1, j], weights[i], means[i, :, j], scales[i, :, j])
            assert_allclose(cdf, LEVELS[1:-1], rtol=0, atol=1e-10)


def test_ppf_extreme_levels_and_shapes():
    """Level 0 is -inf and 1 is +inf (the support is the real line); a scalar
    level gives (n,), a 1-D array (n, m)."""
    dist = GaussianMixtureDistribution(*random_mixtures(5, 3, seed=13))
    both = dist.ppf([0.0, 0.5, 1.0])
    assert both.shape == (5, 3)
    assert np.all(both[:, 0] == -np.inf) and np.all(both[:, 2] == np.inf)
    assert np.all(np.isfinite(both[:, 1]))
    assert dist.ppf(0.5).shape == (5,)
    assert np.all(dist.ppf(0.0) == -np.inf) and np.all(dist.ppf(1.0) == np.inf)
    assert dist.ppf(np.array([0.2])).shape == (5, 1)


@pytest.mark.parametrize("q", [-0.1, 1.1, [0.5, -1e-12], [0.5, 1 + 1e-12], [[0.1, 0.2]], np.nan, [0.5, np.nan]])
def test_ppf_rejects_invalid_levels(q):
    """Levels outside [0, 1], NaN, and 2-D arrays are refused."""
    dist = GaussianMixtureDistribution(*random_mixtures(3, 2))
    with pytest.raises(ValueError, match="Quantile levels"):
        dist.ppf(q)


def test_ppf_emits_no_runtime_warnings():
    """A quantile inside a narrow spike far from the solver's starting point:
    the start is so far in every component's tail that the density (the Newton
    slope) is subnormal, and value / slope overflows. The step is rejected
    (it leaves the bracket) and the answer is right, but a valid call must not
    leak numpy's "overflow encountered in divide" RuntimeWarning to users."""
    dist = single(
        [0.55140445, 0.15392222, 0.11157776, 0.18309557],
        [-4.86963167, -0.43784222, -0.99320011, 2.18696054],
        [3.08482297e-05, 1.04921313e-03, 1.03048503e-03, 1.59531920e-01],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        quantile = dist.ppf(0.5)
    weights, means, scales = dist.weights[0], dist.means[0, :, 0], dist.scales[0, :, 0]
    assert abs(scipy_cdf(quantile[0], weights, means, scales) - 0.5) <= cdf_tolerance(
        quantile[0], scipy_pdf(quantile[0], weights, means, scales)
    )


# -- central intervals --------------------------------------------------------------


@pytest.mark.parametrize("coverage", [0.5, 0.9, 0.99])
def test_interval_is_ppf_at_central_levels(coverage):
    """interval(c) = (ppf((1 - c)/2), ppf((1 + c)/2)), 1-D (n,) and d > 1 (n, d)."""
    dist = GaussianMixtureDistribution(*random_mixtures(8, 3, seed=14))
    lower, upper = dist.interval(coverage)
    assert lower.shape == upper.shape == (8,)
    assert_allclose(lower, dist.ppf((1 - coverage) / 2), rtol=1e-14, atol=1e-14)
    assert_allclose(upper, dist.ppf((1 + coverage) / 2), rtol=1e-14, atol=1e-14)
    assert np.all(lower < upper)
    multi = GaussianMixtureDistribution(*random_mixtures(8, 3, n_outputs=2, seed=15))
    lower, upper = multi.interval(coverage)
    assert lower.shape == upper.shape == (8, 2)
    assert_allclose(lower, multi.ppf((1 - coverage) / 2), rtol=1e-14, atol=1e-14)
    assert_allclose(upper, multi.ppf((1 + coverage) / 2), rtol=1e-14, atol=1e-14)


def test_interval_monte_carlo_coverage():
    """Draws made here from each row's mixture fall inside interval(c) with
    frequency c, and below it with frequency (1 - c)/2. A frequency from N
    independent draws has standard error sqrt(p (1 - p) / N); five standard
    errors fail a correct interval with probability ~6e-7 per comparison (the
    seed is fixed anyway), while an interval that is off by 0.5% of mass
    (e.g. a wrong level) is ~10 standard errors off at N = 200000."""
    rng = np.random.default_rng(16)
    weights, means, scales = random_mixtures(4, 3, seed=17)
    weights[0] = [0.98, 0.01, 0.01]
    dist = GaussianMixtureDistribution(weights, means, scales)
    n = 200_000
    for coverage in (0.5, 0.9):
        lower, upper = dist.interval(coverage)
        for i in range(len(dist)):
            draws = draw(weights[i], means[i], scales[i], n, rng)
            inside = np.mean((draws >= lower[i]) & (draws <= upper[i]))
            below = np.mean(draws < lower[i])
            se = math.sqrt(coverage * (1 - coverage) / n)
            assert abs(inside - coverage) < 5 * se, (i, coverage, inside)
            tail = (1 - coverage) / 2
            assert abs(below - tail) < 5 * math.sqrt(tail * (1 - tail) / n), (i, coverage, below)


@pytest.mark.parametrize("coverage", [0.0, 1.0, -0.5, 1.5, np.nan])
def test_interval_and_hdr_reject_coverage_outside_unit_interval(coverage):
    """Coverage must lie strictly inside (0, 1); NaN is refused too."""
    dist = GaussianMixtureDistribution(*random_mixtures(3, 2))
    with pytest.raises(ValueError, match="coverage"):
        dist.interval(coverage)
    with pytest.raises(ValueError, match="coverage"):
        dist.hdr(coverage)


# -- highest-density regions ----------------------------------------------------------


@pytest.mark.parametrize("coverage", [0.05, 0.5, 0.9, 0.99])
def test_hdr_of_single_gaussian_is_central_interval(coverage):
    """For one Gaussian the density decreases away from the mean, so the HDR
    is the central interval mu +- sigma Phi^-1((1 + c)/2) and the threshold is
    the density at its ends; to 1e-8 of sigma (ends) and relative 1e-8."""
    rng = np.random.default_rng(18)
    means = rng.normal(size=(10, 1)) * 10
    scales = np.exp(rng.normal(size=(10, 1)) * 2)
    intervals, threshold = GaussianMixtureDistribution(np.ones((10, 1)), means, scales).hdr(coverage)
    assert intervals.shape == (10, 1, 2) and threshold.shape == (10,)
    half = norm.ppf((1 + coverage) / 2) * scales[:, 0]
    assert_allclose((intervals[:, 0, 0] - means[:, 0]) / scales[:, 0], -half / scales[:, 0], rtol=0, atol=1e-8)
    assert_allclose((intervals[:, 0, 1] - means[:, 0]) / scales[:, 0], half / scales[:, 0], rtol=0, atol=1e-8)
    assert_allclose(threshold, norm.pdf(half, 0, scales[:, 0]), rtol=1e-8)


@pytest.mark.parametrize("coverage", [0.3, 0.9])
def test_hdr_of_symmetric_bimodal_mixture(coverage):
    """Equal weights at -5 and +5 (sigma 1): two intervals, mirror images of
    each other, each the central c-interval of its own component (the other
    component's density there is below 1e-14 of the threshold, so 1e-8 holds)."""
    dist = single([0.5, 0.5], [-5.0, 5.0], [1.0, 1.0])
    intervals, threshold = dist.hdr(coverage)
    assert intervals.shape == (1, 2, 2)
    (a, b), (c, d) = intervals[0]
    assert a < b < c < d
    assert_allclose([a, b], [-d, -c], rtol=0, atol=1e-8)
    half = norm.ppf((1 + coverage) / 2)
    assert_allclose([a, b, c, d], [-5 - half, -5 + half, 5 - half, 5 + half], rtol=0, atol=1e-8)
    assert_allclose(threshold, 0.5 * norm.pdf(half), rtol=1e-8)


def hdr_rows():
    """Random K = 3..5 rows (scales 1e-3 to 10) and hand-made hard rows:
    a dominant weight, a light spike of sigma 1e-6 on a wide component,
    a sigma-1e3 component, and equal-height peaks."""
    rng = np.random.default_rng(19)
    rows = []
    for n_components in (3, 4, 5):
        for _ in range(25):
            weights = rng.dirichlet(np.full(n_components, 0.7))
            means = rng.normal(scale=3.0, size=n_components)
            scales = np.exp(rng.uniform(np.log(1e-3), np.log(10.0), size=n_components))
            rows.append((weights, means, scales))
    rows += [
        ([0.999, 0.0005, 0.0005], [0.0, 3.0, -4.0], [1.0, 0.5, 2.0]),
        ([0.999, 0.001, 0.0], [0.0, 3.0, 1.0], [1.0, 1e-6, 1.0]),
        ([0.001, 0.999, 0.0], [0.0, 0.1, 1.0], [1.0, 1e-6, 1.0]),
        ([0.5, 0.3, 0.2], [0.0, 1e-6, 2.0], [1e-6, 1e3, 1.0]),
        ([0.6, 0.3, 0.1], [0.0, 5.0, -5.0], [1e-6, 1e3, 3.0]),
        ([0.45, 0.45, 0.1], [-2.0, 2.0, 0.0], [0.5, 0.5, 1e-3]),
        ([0.2, 0.3, 0.5], [0.0, 0.3, 0.6], [0.2, 0.2, 0.2]),
    ]
    weights = np.zeros((len(rows), 5))
    means = np.zeros((len(rows), 5))
    scales = np.ones((len(rows), 5))
    for i, (w, m, s) in enumerate(rows):
        weights[i, : len(w)], means[i, : len(m)], scales[i, : len(s)] = w, m, s
    return weights, means, scales


def hdr_violations(intervals, threshold, weights, means, scales, coverage):
    """What is wrong with one row's HDR (intervals (n_intervals, 2) padded with
    NaN, threshold t), checked against scipy only. Returns a list of strings.

    - the returned intervals are sorted and disjoint, padding only at the end;
    - their exact mass (scipy CDF differences) is ``coverage`` to 1e-8;
    - the density at every end is t to relative 1e-8;
    - just inside every end the density is above t, just outside below; "just"
      is a step that changes the density by ~1e-6 relative (1e-6 t / |p'|),
      far beyond the ends' error, capped at a quarter of the distance to the
      nearest other end;
    - on a dense grid (every component's mean +- 10 sigma, 401 points each) a
      point is inside the region exactly when p >= t, except within one such
      step of an end: nothing with p >= t is left out (no missed peak);
    - the total length is at most that of the central interval (the HDR is the
      shortest region with that mass), to 1e-9 relative.
    """
    problems = []
    valid = ~np.isnan(intervals[:, 0])
    if np.any(np.isnan(intervals[valid])) or not np.all(valid[: valid.sum()]):
        problems.append(f"padding not at the end, or half-NaN intervals: {intervals}")
    ends = intervals[valid]
    if ends.size == 0:
        return problems + ["no interval"]
    flat = ends.ravel()
    if np.any(np.diff(flat) <= 0):
        problems.append(f"intervals not sorted and disjoint: {ends}")
    mass = np.sum(scipy_cdf(ends[:, 1], weights, means, scales) - scipy_cdf(ends[:, 0], weights, means, scales))
    if abs(mass - coverage) > 1e-8:
        problems.append(f"mass {mass!r} != coverage {coverage}")
    density = scipy_pdf(flat, weights, means, scales)
    if np.any(np.abs(density / threshold - 1) > 1e-8):
        problems.append(f"density at the ends {density} != threshold {threshold}")
    slope = np.abs(
        sum(w * norm.pdf(flat, m, s) * (m - flat) / s**2 for w, m, s in zip(weights, means, scales))
    )
    neighbours = np.abs(flat[:, None] - flat[None, :])
    np.fill_diagonal(neighbours, np.inf)
    with np.errstate(divide="ignore"):
        step = np.minimum(1e-6 * threshold / slope, 0.25 * neighbours.min(axis=1))
    step = np.maximum(step, 1e3 * np.spacing(np.abs(flat)))
    direction = np.tile([1.0, -1.0], len(ends))  # +1 into the interval at a lower end
    inside = scipy_pdf(flat + direction * step, weights, means, scales)
    outside = scipy_pdf(flat - direction * step, weights, means, scales)
    if not (np.all(inside > threshold) and np.all(outside < threshold)):
        problems.append(f"density just inside {inside} / just outside {outside} vs threshold {threshold}")
    grid = np.sort(np.concatenate([m + s * np.linspace(-10, 10, 401) for m, s in zip(means, scales)]))
    near_end = np.min(np.abs(grid[:, None] - flat[None, :]) / step[None, :], axis=1) <= 1
    in_region = np.any((grid[:, None] >= ends[None, :, 0]) & (grid[:, None] <= ends[None, :, 1]), axis=1)
    above = scipy_pdf(grid, weights, means, scales) >= threshold
    wrong = (in_region != above) & ~near_end
    if np.any(wrong):
        problems.append(f"region != {{p >= t}} at {grid[wrong][:5]}")
    lower = brentq(lambda t: scipy_cdf(t, weights, means, scales) - (1 - coverage) / 2, -1e7, 1e7, xtol=1e-300, rtol=1e-15)
    upper = brentq(lambda t: scipy_sf(t, weights, means, scales) - (1 - coverage) / 2, -1e7, 1e7, xtol=1e-300, rtol=1e-15)
    length = np.sum(ends[:, 1] - ends[:, 0])
    if length > (upper - lower) * (1 + 1e-9):
        problems.append(f"HDR length {length} > central interval length {upper - lower}")
    return problems


@pytest.mark.parametrize("coverage", [0.05, 0.5, 0.9, 0.99])
def test_hdr_is_the_highest_density_region(coverage):
    """For random and hard mixtures the returned region is {p >= t} with mass
    ``coverage``: see hdr_violations for every property and its tolerance."""
    weights, means, scales = hdr_rows()
    intervals, threshold = GaussianMixtureDistribution(weights, means, scales).hdr(coverage)
    assert intervals.ndim == 3 and intervals.shape[::2] == (len(weights), 2)
    failures = {}
    for i in range(len(weights)):
        used = weights[i] > 0
        problems = hdr_violations(intervals[i], threshold[i], weights[i, used], means[i, used], scales[i, used], coverage)
        if problems:
            failures[i] = problems
    assert not failures, f"{len(failures)} of {len(weights)} rows fail: " + "; ".join(
        f"row {i} {weights[i].round(4)}, {means[i].round(4)}, {scales[i]}: {p}" for i, p in list(failures.items())[:6]
    )


def test_hdr_pads_with_nan():
    """Rows with fewer intervals than the widest row are padded with NaN (both
    ends), and every returned end and threshold is finite."""
    dist = GaussianMixtureDistribution(
        [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]],
        [[0.0, 0.0, 0.0], [-5.0, 5.0, 0.0], [-10.0, 0.0, 10.0]],
        np.ones((3, 3)),
    )
    intervals, threshold = dist.hdr(0.9)
    assert intervals.shape == (3, 3, 2)
    assert np.all(np.isfinite(intervals[0, 0])) and np.all(np.isnan(intervals[0, 1:]))
    assert np.all(np.isfinite(intervals[1, :2])) and np.all(np.isnan(intervals[1, 2]))
    assert np.all(np.isfinite(intervals[2]))
    assert np.all(np.isfinite(threshold))


def test_hdr_rejects_multi_output():
    """The HDR of a joint density over several outputs is not a union of
    intervals: refused with ValueError."""
    dist = GaussianMixtureDistribution(*random_mixtures(3, 2, n_outputs=2))
    with pytest.raises(ValueError, match="single output"):
        dist.hdr(0.9)


# -- modes --------------------------------------------------------------------------


def scipy_local_max(weights, means, scales, start):
    """A local maximum of one 1-D mixture's log density near ``start``, by
    scipy's bounded scalar minimiser within +- 3 of the smallest scale."""
    width = 3 * np.min(scales)
    result = minimize_scalar(
        lambda t: -np.log(scipy_pdf(t, weights, means, scales)),
        bounds=(start - width, start + width), method="bounded", options={"xatol": 1e-12},
    )
    return result.x


def test_modes_of_well_separated_bimodal_mixtures():
    """Two components 8 sigma apart: two modes, highest density first, each
    within 1e-6 of scipy's local maximiser near its component mean, and the
    reported log density equals log p there (from scipy) to 1e-12."""
    weights = np.array([[0.3, 0.7], [0.6, 0.4], [0.5, 0.5]])
    means = np.array([[-4.0, 4.0], [0.0, 10.0], [-2.0, 2.0]])
    scales = np.array([[1.0, 1.0], [1.0, 0.5], [0.25, 0.5]])
    modes, log_density = GaussianMixtureDistribution(weights, means, scales).modes()
    assert modes.shape == (3, 2) and log_density.shape == (3, 2)
    assert np.all(log_density[:, 0] > log_density[:, 1])
    for i in range(3):
        expected = [scipy_local_max(weights[i], means[i], scales[i], m) for m in means[i]]
        heights = [np.log(scipy_pdf(x, weights[i], means[i], scales[i])) for x in expected]
        order = np.argsort(heights)[::-1]
        assert_allclose(modes[i], np.array(expected)[order], rtol=0, atol=1e-6)
        assert_allclose(log_density[i], np.log(scipy_pdf(modes[i], weights[i], means[i], scales[i])), rtol=1e-12)


def test_overlapping_components_have_one_mode():
    """Equal components at +-0.5 with sigma 1 (closer than 2 sigma): the
    mixture is unimodal with its mode at 0 by symmetry. Exactly one mode,
    within 1e-9 of 0, with log density log p(0) from scipy."""
    modes, log_density = single([0.5, 0.5], [-0.5, 0.5], [1.0, 1.0]).modes()
    assert modes.shape == (1, 1) and log_density.shape == (1, 1)
    assert abs(modes[0, 0]) < 1e-9
    assert_allclose(log_density[0, 0], np.log(scipy_pdf(0.0, [0.5, 0.5], [-0.5, 0.5], [1.0, 1.0])), rtol=1e-12)


def test_modes_padding_with_nan_and_minus_inf():
    """Rows with fewer modes than the widest row: NaN modes and -inf log
    densities in the padding, finite values before it."""
    dist = GaussianMixtureDistribution(
        [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]],
        [[-0.5, 0.5, 0.0], [-5.0, 5.0, 1.0], [-10.0, 0.0, 10.0]],
        np.ones((3, 3)),
    )
    modes, log_density = dist.modes()
    assert modes.shape == (3, 3)
    assert np.isfinite(modes[0, 0]) and np.all(np.isnan(modes[0, 1:]))
    assert np.all(log_density[0, 1:] == -np.inf)
    assert np.all(np.isfinite(modes[1, :2])) and np.isnan(modes[1, 2]) and log_density[1, 2] == -np.inf
    assert np.all(np.isfinite(modes[2])) and np.all(np.isfinite(log_density[2]))
    assert_allclose(np.sort(modes[2]), [-10.0, 0.0, 10.0], atol=1e-6)


# Rows where a climb starts exactly on a stationary point that is not a
# maximum: by symmetry the gradient there is exactly zero.
STATIONARY_START_ROWS = {
    # 1-D: a light middle component at the midpoint of two equal peaks; the
    # outer components make p convex there (p'' ~ +3.6e-5 against -4e-8 from
    # the middle one), so 0 is a local MINIMUM between the two modes.
    "1d_light_middle_component": ([[0.49999995, 0.49999995, 1e-7]], [[-5.0, 5.0, 0.0]], [[1.0, 1.0, 1.0]]),
    # 1-D: a zero-weight component at the midpoint (weights can underflow to 0).
    "1d_zero_weight_middle": ([[0.5, 0.5, 0.0]], [[-5.0, 5.0, 0.0]], [[1.0, 1.0, 1.0]]),
    # d = 2, the textbook bimodal case: the pair starting point (the peak of
    # the product of the two components) is their midpoint, a saddle.
    "2d_symmetric_pair": ([[0.5, 0.5]], [[[-5.0, 0.0], [5.0, 0.0]]], [[[1.0, 1.0], [1.0, 1.0]]]),
    "2d_symmetric_diagonal_pair": ([[0.5, 0.5]], [[[-2.0, 1.0], [2.0, -1.0]]], [[[1.0, 1.0], [1.0, 1.0]]]),
}


@pytest.mark.parametrize("case", STATIONARY_START_ROWS)
def test_modes_are_local_maxima(case):
    """Every reported mode is a local maximum: log p (from scipy) is lower at
    distance h = 1e-3 (sigma 1 here) in every coordinate and diagonal
    direction; at a maximum the drop is ~h^2/2 ~ 5e-7 in log p, far above
    rounding. Each of these mixtures has exactly the two modes at its two
    component means (up to 1e-3: the other component's pull is < 1e-4 here),
    so a stationary point that the climb started on (a minimum or a saddle,
    where the gradient is exactly zero) must not be reported as a third."""
    weights, means, scales = (np.asarray(a, dtype=np.float64) for a in STATIONARY_START_ROWS[case])
    modes, log_density = GaussianMixtureDistribution(weights, means, scales).modes()
    points = modes[0].reshape(modes.shape[1], -1)
    valid = ~np.isnan(points[:, 0])
    d = points.shape[1]
    flat_means = means[0].reshape(means.shape[1], d)
    flat_scales = scales[0].reshape(scales.shape[1], d)

    def log_p(x):
        component = norm.logpdf(x[None, :], flat_means, flat_scales).sum(axis=1)
        with np.errstate(divide="ignore"):
            return np.logaddexp.reduce(np.log(weights[0]) + component)

    directions = np.eye(d) if d == 1 else np.array([[1, 0], [0, 1], [1, 1], [1, -1]]) / np.array([[1], [1], [2**0.5], [2**0.5]])
    not_maxima = [
        point for point in points[valid]
        if any(log_p(point + s * 1e-3 * v) >= log_p(point) for v in directions for s in (1.0, -1.0))
    ]
    assert not not_maxima, f"reported modes that are not local maxima: {not_maxima}"
    assert valid.sum() == 2
    heavy = weights[0] > 0.25
    assert_allclose(np.sort(points[valid], axis=0), np.sort(flat_means[heavy], axis=0), atol=1e-3)


def test_modes_are_the_local_maxima_of_a_fine_grid():
    """On 300 random rows with K = 20 overlapping components (scales 0.1-1,
    so a row often has ten or more modes, some shallow), compared with the
    local maxima of log p on a grid with spacing 1e-3 (a hundredth of the
    narrowest scale): every mode found is a grid maximum (within one grid
    step, and at least as high: a true peak is not lower than the grid points
    around it, by at most 1e-4 here); every grid maximum more than 0.02 nats
    above the dips beside it is found, and so is each row's highest (the
    documented limit of the search: a shallower peak between components can
    be passed by)."""
    rng = np.random.default_rng(7)
    n_rows, n_components = 300, 20
    weights = rng.dirichlet(np.ones(n_components), n_rows)
    means = rng.normal(scale=3.0, size=(n_rows, n_components))
    scales = rng.uniform(0.1, 1.0, size=(n_rows, n_components))
    dist = GaussianMixtureDistribution(weights, means, scales)
    modes, log_density = dist.modes()
    grid = np.arange(means.min() - 3.0, means.max() + 3.0, 1e-3)
    on_grid = dist.log_prob(grid)
    inner = on_grid[:, 1:-1]
    peak = (inner > on_grid[:, :-2]) & (inner > on_grid[:, 2:])
    dip = (inner < on_grid[:, :-2]) & (inner < on_grid[:, 2:])
    n_shallow = 0
    for row in range(n_rows):
        found = np.sort(modes[row][np.isfinite(log_density[row])])
        grid_peaks, dips = np.flatnonzero(peak[row]), np.flatnonzero(dip[row])
        nearest = np.abs(found[:, None] - grid[1:-1][grid_peaks]).argmin(axis=1)
        assert np.unique(nearest).size == found.size, (row, found)
        assert_allclose(found, grid[1:-1][grid_peaks[nearest]], atol=1e-3)
        rise = dist[row].log_prob(found)[0] - inner[row, grid_peaks[nearest]]
        assert np.all((rise >= -1e-12) & (rise < 1e-4)), (row, rise)
        missed = np.setdiff1d(np.arange(grid_peaks.size), nearest)
        for index in missed:
            at = grid_peaks[index]
            # The dips beside it (a peak at either end has one).
            beside = np.r_[inner[row, dips[dips < at][-1:]], inner[row, dips[dips > at][:1]]]
            prominence = inner[row, at] - beside.max(initial=-np.inf)
            assert prominence < 0.02, (row, grid[1 + at], prominence)
            assert inner[row, at] < inner[row].max()
        n_shallow += missed.size
    assert n_shallow <= 3


def test_mode_is_first_of_modes():
    """mode() is the highest local maximum, modes()[0][:, 0], for 1-D and
    multi-output targets."""
    for n_outputs in (None, 2):
        dist = GaussianMixtureDistribution(*random_mixtures(40, 4, n_outputs=n_outputs, seed=20))
        modes, log_density = dist.modes()
        assert_allclose(dist.mode(), modes[:, 0], rtol=0, atol=1e-12)
        assert np.all(log_density[:, :1] >= log_density)
        assert_allclose(log_density[:, 0], dist.log_prob(dist.mode()), rtol=1e-12)


# -- covariance ------------------------------------------------------------------------


def test_covariance_closed_form():
    """sum_k w_k (diag(sigma_k^2) + mu_k mu_k^T) - mu mu^T, summed explicitly
    row by row; symmetric, with var() on its diagonal (rtol 1e-12)."""
    weights, means, scales = random_mixtures(20, 4, n_outputs=3, seed=21)
    dist = GaussianMixtureDistribution(weights, means, scales)
    covariance = dist.covariance()
    assert covariance.shape == (20, 3, 3)
    for i in range(20):
        mean = weights[i] @ means[i]
        second = sum(
            w * (np.diag(s**2) + np.outer(m, m)) for w, m, s in zip(weights[i], means[i], scales[i])
        )
        assert_allclose(covariance[i], second - np.outer(mean, mean), rtol=1e-12, atol=1e-12)
    assert_allclose(covariance, covariance.transpose(0, 2, 1), rtol=1e-14, atol=1e-15)
    assert_allclose(np.diagonal(covariance, axis1=1, axis2=2), dist.var(), rtol=1e-12)
    univariate = GaussianMixtureDistribution(*random_mixtures(5, 3, seed=22))
    assert univariate.covariance().shape == (5, 1, 1)
    assert_allclose(univariate.covariance()[:, 0, 0], univariate.var(), rtol=1e-12)


def test_covariance_matches_monte_carlo():
    """d = 2 with components whose means are correlated (so the off-diagonal
    is far from 0): np.cov of 400k draws made here. The sample covariance of
    entry (a, b) has standard error sqrt(var((Xa - ma)(Xb - mb)) / N),
    estimated from the draws; five standard errors."""
    weights = np.array([0.3, 0.5, 0.2])
    means = np.array([[-2.0, -1.0], [1.0, 1.5], [3.0, 0.0]])
    scales = np.array([[0.5, 1.0], [1.0, 0.3], [0.2, 2.0]])
    covariance = GaussianMixtureDistribution([weights], [means], [scales]).covariance()[0]
    assert abs(covariance[0, 1]) > 0.5
    draws = draw(weights, means, scales, 400_000, np.random.default_rng(23))
    centred = draws - draws.mean(axis=0)
    products = centred[:, :, None] * centred[:, None, :]
    se = products.std(axis=0) / math.sqrt(len(draws))
    assert np.all(np.abs(np.cov(draws.T) - covariance) < 5 * se)


# -- TensorFlow Probability ------------------------------------------------------------


def test_to_tfp_matches_log_prob_and_mean():
    """to_tfp() describes the same mixtures: log_prob agrees to rtol 1e-10
    (both float64; only summation order differs) and mean() to 1e-12, for a
    1-D target (batch (n,), event ()) and d = 3 (batch (n,), event (3,))."""
    rng = np.random.default_rng(24)
    for n_outputs in (None, 3):
        weights, means, scales = random_mixtures(7, 4, n_outputs=n_outputs, seed=25)
        dist = GaussianMixtureDistribution(weights, means, scales)
        tfp_dist = dist.to_tfp()
        assert tuple(tfp_dist.batch_shape) == (7,)
        assert tuple(tfp_dist.event_shape) == (() if n_outputs is None else (3,))
        assert tfp_dist.dtype.name == "float64"
        y = rng.normal(scale=2.0, size=(7,) if n_outputs is None else (7, 3))
        assert_allclose(np.asarray(tfp_dist.log_prob(y)), dist.log_prob(y), rtol=1e-10)
        assert_allclose(np.asarray(tfp_dist.mean()), dist.mean(), rtol=1e-12, atol=1e-14)


# -- sampling temperature ---------------------------------------------------------------

N_DRAWS = 100_000


def component_counts(draws, means):
    """Draws per component, each draw assigned to the nearest (100-sigma apart) mean."""
    nearest = np.argmin(np.abs(draws[..., None] - np.asarray(means)), axis=-1)
    return np.stack([np.bincount(row, minlength=len(means)) for row in nearest])


# Components 100 sigma apart: the component of every draw is unambiguous.
TEMPERATURE_MEANS = [0.0, 100.0, 200.0, 300.0]
TEMPERATURE_WEIGHTS = np.array([[0.1, 0.2, 0.3, 0.4], [0.55, 0.05, 0.25, 0.15], [0.25, 0.0, 0.7, 0.05]])


def temperature_dist():
    return GaussianMixtureDistribution(
        TEMPERATURE_WEIGHTS, np.tile(TEMPERATURE_MEANS, (3, 1)), np.ones((3, 4))
    )


def test_small_temperature_concentrates_on_heaviest_component():
    """temperature 0.01 raises the weights to the 100th power: in every row the
    runner-up keeps at most (0.3 / 0.4)^100 ~ 3e-13 of the heaviest's mass, so
    all 10^5 draws (expected stray count 3e-8) come from the heaviest component."""
    counts = component_counts(temperature_dist().sample(N_DRAWS, random_state=0, temperature=0.01), TEMPERATURE_MEANS)
    assert_array_equal(np.argmax(counts, axis=1), np.argmax(TEMPERATURE_WEIGHTS, axis=1))
    assert np.all(counts.max(axis=1) == N_DRAWS)


def test_huge_temperature_gives_equal_frequencies():
    """temperature 1e6: w^(1e-6) differs from 1 by ~1e-6 |log w|, so the
    positive-weight components are equally likely (5 binomial standard
    errors); a zero weight stays zero (0^(1/T) = 0)."""
    counts = component_counts(temperature_dist().sample(N_DRAWS, random_state=1, temperature=1e6), TEMPERATURE_MEANS)
    for row, weights in zip(counts, TEMPERATURE_WEIGHTS):
        positive = weights > 0
        expected = 1.0 / positive.sum()
        frequencies = row[positive] / N_DRAWS
        assert np.all(np.abs(frequencies - expected) < 5 * math.sqrt(expected * (1 - expected) / N_DRAWS))
        assert np.all(row[~positive] == 0)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_temperature_weights_are_powered_and_normalised(temperature):
    """Component frequencies follow w^(1/T) / sum(w^(1/T)) in every row, within
    5 binomial standard errors sqrt(p (1 - p) / N)."""
    counts = component_counts(
        temperature_dist().sample(N_DRAWS, random_state=2, temperature=temperature), TEMPERATURE_MEANS
    )
    powered = TEMPERATURE_WEIGHTS ** (1.0 / temperature)
    expected = powered / powered.sum(axis=1, keepdims=True)
    se = np.sqrt(expected * (1 - expected) / N_DRAWS)
    assert np.all(np.abs(counts / N_DRAWS - expected) <= 5 * se)


# -- empty selections ---------------------------------------------------------------------


def test_zero_row_selection_gives_empty_results():
    """dist[mask] with an all-False mask is a valid zero-row distribution
    (mean, var and sample already return empty arrays); the point-wise
    methods must too, with their documented trailing shapes, rather than
    failing inside numpy (np.concatenate of no blocks)."""
    dist = GaussianMixtureDistribution(*random_mixtures(3, 2, seed=26))
    empty = dist[np.zeros(3, dtype=bool)]
    assert len(empty) == 0
    assert empty.mean().shape == (0,) and empty.sample(2).shape == (0, 2)
    assert empty.log_prob(np.zeros(0)).shape == (0,)
    assert empty.cdf(np.zeros(0)).shape == (0,)
    assert empty.log_prob(np.linspace(0, 1, 5)).shape == (0, 5)
    assert empty.ppf(0.5).shape == (0,)
    assert empty.ppf([0.1, 0.9]).shape == (0, 2)
    lower, upper = empty.interval(0.9)
    assert lower.shape == upper.shape == (0,)
    assert empty.mode().shape == (0,)


def test_event_shape_and_pit_per_output():
    """event_shape is () for a 1-D target and (n_outputs,) otherwise; pit is
    each output's marginal CDF (scipy's normal CDFs, weighted) at one
    observation per row, and refuses anything else."""
    rng = np.random.default_rng(12)
    weights = rng.dirichlet(np.ones(3), size=6)
    means, scales = rng.normal(size=(6, 3, 2)), rng.uniform(0.3, 2.0, (6, 3, 2))
    y = rng.normal(size=(6, 2))
    multi = GaussianMixtureDistribution(weights, means, scales)
    single = GaussianMixtureDistribution(weights, means[..., 0], scales[..., 0])
    assert multi.event_shape == (2,) and single.event_shape == ()
    expected = np.einsum("nk,nkd->nd", weights, norm.cdf(y[:, None, :], means, scales))
    assert_allclose(multi.pit(y), expected, rtol=1e-12)
    assert_allclose(single.pit(y[:, 0]), expected[:, 0], rtol=1e-12)
    with pytest.raises(ValueError, match="one value per row"):
        multi.pit(y[:5])
    with pytest.raises(ValueError, match="does not fit 6 rows of a 2-output"):
        multi.pit(y[:, :1])


def test_to_skpro_without_skpro_says_how_to_install_it(monkeypatch):
    """skpro is optional (tests_skpro/ tests the conversion itself): without
    it, to_skpro() raises an ImportError that names the install command."""
    import sys

    monkeypatch.setitem(sys.modules, "skpro", None)
    distribution = GaussianMixtureDistribution([[1.0]], [[0.0]], [[1.0]])
    with pytest.raises(ImportError, match="pip install skpro"):
        distribution.to_skpro()
