"""GaussianMixtureDistribution: densities, modes, moments, sampling, validation.

Every expectation is computed independently of the class: densities from
scipy.stats.norm, modes by brute-force search over dense grids (polished with
scipy.optimize where a grid alone is too coarse), moments by quadrature, and
sampling checked by Monte Carlo against closed forms.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.integrate import trapezoid
from scipy.optimize import minimize
from scipy.special import logsumexp
from scipy.stats import norm

from skmdn import GaussianMixtureDistribution

from mixture_helpers import random_mixtures


def brute_log_density(points, weights, means, scales):
    """log sum_k w_k prod_d N(points_d; means_kd, scales_kd) for ONE mixture.

    points: (n_points, d); weights: (K,); means, scales: (K, d). Independent of
    the class under test: scipy's univariate log densities, summed over the
    diagonal's outputs, then a log-sum-exp over components.
    """
    component = norm.logpdf(points[:, None, :], means[None], scales[None]).sum(axis=2)
    with np.errstate(divide="ignore"):
        return logsumexp(np.log(weights)[None] + component, axis=1)


def single(weights, means, scales):
    """A one-row distribution of a 1-D target from per-component lists."""
    return GaussianMixtureDistribution([weights], [means], [scales])


# -- densities ----------------------------------------------------------------------


def test_log_prob_single_component_is_scipy_norm():
    rng = np.random.default_rng(0)
    means = rng.normal(size=(50, 1)) * 10
    scales = np.exp(rng.normal(size=(50, 1)))
    y = means[:, 0] + scales[:, 0] * rng.normal(size=50) * 3
    dist = GaussianMixtureDistribution(np.ones((50, 1)), means, scales)
    assert_allclose(dist.log_prob(y), norm.logpdf(y, means[:, 0], scales[:, 0]), rtol=1e-12)


def test_log_prob_mixture_is_sum_of_scipy_densities():
    weights, means, scales = random_mixtures(100, 4, seed=1)
    y = np.random.default_rng(2).normal(scale=2.0, size=100)
    expected = np.log(np.sum(weights * norm.pdf(y[:, None], means, scales), axis=1))
    dist = GaussianMixtureDistribution(weights, means, scales)
    assert_allclose(dist.log_prob(y), expected, rtol=1e-11)
    assert_allclose(dist.pdf(y), np.exp(expected), rtol=1e-11)


def test_log_prob_multivariate_is_product_of_univariate_normals():
    """Diagonal covariance: each component's density is a product over outputs."""
    weights, means, scales = random_mixtures(100, 3, n_outputs=3, seed=3)
    y = np.random.default_rng(4).normal(scale=2.0, size=(100, 3))
    component = np.prod(norm.pdf(y[:, None, :], means, scales), axis=2)
    expected = np.log(np.sum(weights * component, axis=1))
    dist = GaussianMixtureDistribution(weights, means, scales)
    log_prob = dist.log_prob(y)
    assert log_prob.shape == (100,)
    assert_allclose(log_prob, expected, rtol=1e-11)
    assert_allclose(dist.pdf(y), np.exp(log_prob), rtol=1e-15)


def test_log_prob_is_finite_far_in_the_tails():
    """Thousands of standard deviations out the densities underflow, the log
    densities must not: compare with a log-space evaluation from scipy."""
    weights, means, scales = random_mixtures(20, 3, seed=5)
    y = np.linspace(-1e4, 1e4, 20)
    dist = GaussianMixtureDistribution(weights, means, scales)
    expected = logsumexp(np.log(weights) + norm.logpdf(y[:, None], means, scales), axis=1)
    assert np.all(np.isfinite(dist.log_prob(y)))
    assert_allclose(dist.log_prob(y), expected, rtol=1e-12)


def test_zero_weight_component_is_ignored():
    with_zero = GaussianMixtureDistribution([[1.0, 0.0]], [[1.0, 50.0]], [[2.0, 0.5]])
    alone = GaussianMixtureDistribution([[1.0]], [[1.0]], [[2.0]])
    for y in (-3.0, 1.0, 50.0):
        assert_allclose(with_zero.log_prob([y]), alone.log_prob([y]), rtol=1e-14)
    assert_allclose(with_zero.mode(), [1.0], atol=1e-12)
    draws = with_zero.sample(10_000, random_state=0)
    # 50 is 24 standard deviations from the only live component.
    assert np.all(np.abs(draws - 1.0) < 20.0)


def test_log_prob_rejects_wrong_shapes():
    dist = GaussianMixtureDistribution(*random_mixtures(5, 2, n_outputs=2))
    with pytest.raises(ValueError, match="does not fit 5 rows of a 2-output"):
        dist.log_prob(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="grid of points must have shape"):
        dist.log_prob(np.zeros((4, 3, 2)))
    with pytest.raises(ValueError, match="does not fit"):
        dist.log_prob(np.zeros((2, 3, 4, 2)))


def test_log_prob_broadcasts_grids():
    """A shared grid (m,) or (1, m) and a per-row grid (n, m) give (n, m)."""
    dist = GaussianMixtureDistribution(*random_mixtures(5, 3))
    grid = np.linspace(-3, 3, 7)
    expected = np.stack([dist.log_prob(np.full(5, value)) for value in grid], axis=1)
    assert_allclose(dist.log_prob(grid), expected, rtol=1e-13)
    assert_allclose(dist.log_prob(grid[None, :]), expected, rtol=1e-13)
    assert_allclose(dist.log_prob(np.tile(grid, (5, 1))), expected, rtol=1e-13)
    multi = GaussianMixtureDistribution(*random_mixtures(5, 3, n_outputs=2))
    points = np.stack([grid, grid[::-1]], axis=1)  # (7, 2): a shared grid
    expected = np.stack([multi.log_prob(np.tile(point, (5, 1))) for point in points], axis=1)
    assert_allclose(multi.log_prob(points), expected, rtol=1e-13)
    assert_allclose(multi.log_prob(np.tile(points, (5, 1, 1))), expected, rtol=1e-13)


# -- modes ------------------------------------------------------------------------

N_GRID = 200_000


def grid_mode_1d(weights, means, scales):
    """Brute-force argmax of one 1-D mixture.

    The grid is the union of N_GRID points over mean +- 6 sigma of every
    component (one shared grid over [min, max] would be useless when the
    components are 1e6 apart with sigma 1). Returns the best grid point, its
    log density and the coarsest grid spacing h. The true global mode lies
    within h / 2 of a grid point, and is not below any grid point.
    """
    weights, means, scales = map(np.asarray, (weights, means, scales))
    grid = np.concatenate(
        [np.linspace(m - 6 * s, m + 6 * s, N_GRID) for m, s in zip(means, scales)]
    )
    log_density = brute_log_density(grid[:, None], weights, means[:, None], scales[:, None])
    best = np.argmax(log_density)
    spacing = np.max(12 * scales / (N_GRID - 1))
    return grid[best], log_density[best], spacing


MODE_CASES_1D = {
    # Two nearly equal, overlapping components (unimodal sum): the mode is
    # close to the middle, NOT at the heavier component's mean 0.8.
    "overlapping-near-equal": ([0.49, 0.51], [-0.8, 0.8], [1.0, 1.0], 0.8),
    # Bimodal, nearly equal: the global mode is the heavier bump, pulled
    # towards the other one by its tail.
    "bimodal-near-equal": ([0.48, 0.52], [-1.2, 1.2], [1.0, 1.0], 1.2),
    # Three components: the light middle one sits where the heavier outer
    # ones overlap, so the mode (~0.08) is near 0, far from the heaviest mean
    # 1. (Weights are asymmetric so that the global mode is unique.)
    "light-middle-wins": ([0.34, 0.3, 0.36], [-1.0, 0.0, 1.0], [0.8, 0.8, 0.8], 1.0),
    # One dominant weight: the mode is near, but not exactly at, its mean.
    "dominant": ([0.98, 0.02], [0.0, 3.0], [1.0, 1.0], None),
    # Tiny sigmas, one sigma apart, at 1.0 (1e-6 is 4.5e9 float64 ulps there).
    "tiny-sigmas": ([0.3, 0.7], [1.0, 1.0 + 1e-6], [1e-6, 1e-6], None),
    # Far-apart modes, in both orders of weight.
    "far-apart-heavy-second": ([0.4, 0.6], [0.0, 1e6], [1.0, 1.0], None),
    "far-apart-heavy-first": ([0.6, 0.4], [0.0, 1e6], [1.0, 1.0], None),
    # A narrow light spike beats a broad heavy component.
    "narrow-spike": ([0.7, 0.3], [0.0, 0.5], [1.0, 0.01], None),
    "single-component": ([1.0], [3.0], [2.0], None),
}


@pytest.mark.parametrize("case", list(MODE_CASES_1D), ids=list(MODE_CASES_1D))
def test_mode_matches_brute_force_grid(case):
    """The returned mode is at least as dense as every point of a 200k-point
    per-component grid (up to 1e-12 of rounding in log space), and lies within
    two grid spacings of the grid's argmax: the true mode is within h / 2 of
    some grid point, and the grid argmax can be one point further off only
    where the log density is flat to rounding."""
    weights, means, scales, heavy_mean = MODE_CASES_1D[case]
    dist = single(weights, means, scales)
    mode = dist.mode()
    assert mode.shape == (1,)
    grid_mode, grid_log_density, spacing = grid_mode_1d(weights, means, scales)
    assert dist.log_prob(mode)[0] >= grid_log_density - 1e-12 * max(1.0, abs(grid_log_density))
    assert abs(mode[0] - grid_mode) <= 2 * spacing
    if heavy_mean is not None:
        # The brute force confirms the case is a hard one: the answer is not
        # the heavier component's mean.
        assert abs(grid_mode - heavy_mean) > 100 * spacing
        assert abs(mode[0] - heavy_mean) > 100 * spacing


def test_mode_of_many_random_rows_beats_their_grids():
    """Vectorised over 300 random 1-D rows (K = 4, scales spanning 20x): each
    returned mode is at least as dense as every point of a 5001-point grid
    over that row's mean +- 6 sigma range. The comparison holds whatever the
    grid resolution, because the global mode is at least as high as any
    point."""
    weights, means, scales = random_mixtures(300, 4, seed=7)
    dist = GaussianMixtureDistribution(weights, means, scales)
    lows, highs = (means - 6 * scales).min(axis=1), (means + 6 * scales).max(axis=1)
    grid = lows[:, None] + (highs - lows)[:, None] * np.linspace(0, 1, 5001)[None]
    component = norm.logpdf(grid[:, :, None], means[:, None, :], scales[:, None, :])
    grid_best = logsumexp(np.log(weights)[:, None, :] + component, axis=2).max(axis=1)
    mode_log_density = dist.log_prob(dist.mode())
    assert np.all(mode_log_density >= grid_best - 1e-12 * np.maximum(1, np.abs(grid_best)))


def grid_mode_2d(weights, means, scales, n=1001):
    """Brute-force argmax of one 2-D mixture: an n x n grid over the mean
    +- 5 sigma box of all components, its best point polished by BFGS on
    minus the log density (the grid spacing, ~1e-2 here, is far coarser than
    the comparison tolerance)."""
    weights, means, scales = map(np.asarray, (weights, means, scales))
    low, high = (means - 5 * scales).min(axis=0), (means + 5 * scales).max(axis=0)
    axes = [np.linspace(low[j], high[j], n) for j in range(2)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 2)
    log_density = brute_log_density(grid, weights, means, scales)
    start = grid[np.argmax(log_density)]
    result = minimize(
        lambda y: -brute_log_density(y[None], weights, means, scales)[0],
        start,
        method="BFGS",
        options={"gtol": 1e-12},
    )
    return result.x, -result.fun


@pytest.mark.parametrize(
    "weights, means, scales",
    [
        # Two overlapping anisotropic components of unequal weight: the mode
        # (~(0.95, -0.12)) is pulled 0.18 off the heavier mean by the other.
        ([0.3, 0.7], [[-1.0, 0.5], [1.0, -0.3]], [[1.0, 0.5], [0.7, 1.2]]),
        # Three components, the heaviest being broad: the mode sits on a
        # narrow lighter one.
        ([0.5, 0.3, 0.2], [[0.0, 0.0], [2.0, 1.0], [-2.0, 1.5]], [[2.0, 2.0], [0.3, 0.3], [0.5, 0.2]]),
        # A cross: two long thin components lying across each other. Their
        # overlap near the origin is denser (log density -0.69) than either
        # mean (-1.33), where hill-climbing from the means stops.
        ([0.5, 0.5], [[-1.0, 0.0], [0.0, -1.0]], [[3.0, 0.1], [0.1, 3.0]]),
    ],
    ids=["overlapping", "narrow-light-component", "cross"],
)
def test_mode_2d_matches_grid_and_optimizer(weights, means, scales):
    """d = 2: the mode is the global maximum. The reference is a 1001 x 1001
    grid argmax polished by BFGS to ~1e-8; so the mode must agree to 1e-6 in
    location and 1e-9 in log density."""
    dist = GaussianMixtureDistribution([weights], [means], [scales])
    mode = dist.mode()
    assert mode.shape == (1, 2)
    reference, reference_log_density = grid_mode_2d(weights, means, scales)
    assert dist.log_prob(mode)[0] >= reference_log_density - 1e-9
    assert_allclose(mode[0], reference, atol=1e-6)


def test_mode_is_vectorised_over_rows():
    """Rows are independent: the mode of a stack equals the stacked modes."""
    weights, means, scales = random_mixtures(40, 3, n_outputs=2, seed=8)
    dist = GaussianMixtureDistribution(weights, means, scales)
    modes = dist.mode()
    assert modes.shape == (40, 2)
    for row in (0, 17, 39):
        assert_allclose(dist[row].mode()[0], modes[row], rtol=1e-12, atol=1e-12)


def test_one_output_kernel_finds_the_general_kernels_peaks():
    """One output has its own compiled kernel (cheap to compile), written out
    in scalars; the general kernel runs the same climbs for any d. On 2,000
    random rows (K = 8, scales spanning 40x, some components of weight 0 or
    far from the rest, some identical) both end the same climbs on maxima, at
    the same points and densities up to rounding."""
    from skmdn import _modes

    weights, means, scales = random_mixtures(2000, 8, seed=11, log_scale_range=(0.05, 2.0))
    weights[:100, 0] = 0.0
    means[100:200, 1] = 1e6
    means[200:300, 2], scales[200:300, 2] = means[200:300, 3], scales[200:300, 3]
    weights /= weights.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        log_normalisers = np.log(weights) - np.log(scales) - 0.5 * np.log(2 * np.pi)
    results = []
    for kernel in (_modes._univariate_maxima, _modes._maxima):
        points, log_density = np.empty((2000, 8, 1)), np.empty((2000, 8))
        kernel(log_normalisers, means[..., None], scales[..., None], points, log_density)
        results.append((points[..., 0], log_density))
    (points, log_density), (general_points, general_log_density) = results
    found = np.isfinite(log_density)
    assert_array_equal(found, np.isfinite(general_log_density))
    assert found.sum(axis=1).min() >= 1 and found.sum() > 4000
    assert_allclose(log_density[found], general_log_density[found], rtol=1e-12, atol=1e-12)
    assert_allclose(points[found], general_points[found], rtol=1e-12, atol=1e-12)


def test_modes_far_below_the_highest_peak_are_found():
    """A peak 1e-325 times as high as the row's highest is still a local maximum.

    Each climb measures its terms against the largest term where it stands,
    so no peak is lost to float64's range however low it sits.
    """
    weights = np.array([[1.0, 1e-323]])
    means, scales = np.array([[0.0, 100.0]]), np.array([[1.0, 10.0]])
    modes, log_density = GaussianMixtureDistribution(weights, means, scales).modes()
    assert modes.shape == (1, 2)
    assert_allclose(modes[0], [0.0, 100.0], atol=1e-9)
    reference = brute_log_density(modes[0][:, None], weights[0], means[0][:, None], scales[0][:, None])
    assert_allclose(log_density[0], reference, rtol=1e-12)
    assert log_density[0, 1] < log_density[0, 0] - 745.0


# -- moments ------------------------------------------------------------------------


def quadrature_moments(weights, means, scales):
    """Mean and variance of ONE 1-D mixture by the trapezoid rule on 200k
    points over mean +- 12 sigma (errors far below 1e-9 for these smooth,
    fast-decaying integrands)."""
    low, high = np.min(means - 12 * scales), np.max(means + 12 * scales)
    grid = np.linspace(low, high, 200_001)
    density = np.exp(brute_log_density(grid[:, None], weights, means[:, None], scales[:, None]))
    mean = trapezoid(grid * density, grid)
    return mean, trapezoid((grid - mean) ** 2 * density, grid)


def test_moments_1d_match_quadrature():
    weights, means, scales = random_mixtures(5, 3, seed=9)
    dist = GaussianMixtureDistribution(weights, means, scales)
    expected = np.array([quadrature_moments(*row) for row in zip(weights, means, scales)])
    assert dist.mean().shape == dist.var().shape == dist.std().shape == (5,)
    assert_allclose(dist.mean(), expected[:, 0], rtol=1e-8, atol=1e-9)
    assert_allclose(dist.var(), expected[:, 1], rtol=1e-8)
    assert_allclose(dist.std(), np.sqrt(expected[:, 1]), rtol=1e-8)


def test_moments_multivariate_are_per_output_marginals():
    """With diagonal components each output's marginal is the 1-D mixture of
    that output's means and scales; compare with its quadrature moments."""
    weights, means, scales = random_mixtures(3, 3, n_outputs=2, seed=10)
    dist = GaussianMixtureDistribution(weights, means, scales)
    assert dist.mean().shape == dist.var().shape == (3, 2)
    for j in range(2):
        expected = np.array(
            [quadrature_moments(w, m[:, j], s[:, j]) for w, m, s in zip(weights, means, scales)]
        )
        assert_allclose(dist.mean()[:, j], expected[:, 0], rtol=1e-8, atol=1e-9)
        assert_allclose(dist.var()[:, j], expected[:, 1], rtol=1e-8)


def test_moments_of_known_mixture():
    """0.5 N(-1, 1) + 0.5 N(1, 1): mean 0, variance 1 + 1 = 2 (total variance)."""
    dist = single([0.5, 0.5], [-1.0, 1.0], [1.0, 1.0])
    assert_allclose(dist.mean(), [0.0], atol=1e-15)
    assert_allclose(dist.var(), [2.0], rtol=1e-15)
    assert_allclose(dist.std(), [np.sqrt(2.0)], rtol=1e-15)


# -- sampling -----------------------------------------------------------------------

N_DRAWS = 200_000


def assert_within_standard_errors(draws, mean, var, n_se=5.0):
    """Monte Carlo mean and variance of ``draws`` (axis 1) against the truth.

    The sample mean has standard error sqrt(var / N); the sample variance
    sqrt((mu4 - var^2) / N), with the fourth central moment mu4 estimated from
    the draws. Five standard errors: a correct sampler fails a comparison
    with probability ~6e-7 for a random seed (the seed is fixed anyway).
    """
    n = draws.shape[1]
    centred = draws - draws.mean(axis=1, keepdims=True)
    mu4 = np.mean(centred**4, axis=1)
    assert np.all(np.abs(draws.mean(axis=1) - mean) < n_se * np.sqrt(var / n))
    assert np.all(np.abs(draws.var(axis=1) - var) < n_se * np.sqrt((mu4 - var**2) / n))


def test_sample_shapes():
    univariate = GaussianMixtureDistribution(*random_mixtures(6, 3))
    assert univariate.sample(random_state=0).shape == (6, 1)
    assert univariate.sample(7, random_state=0).shape == (6, 7)
    multivariate = GaussianMixtureDistribution(*random_mixtures(6, 3, n_outputs=2))
    assert multivariate.sample(random_state=0).shape == (6, 1, 2)
    assert multivariate.sample(7, random_state=0).shape == (6, 7, 2)


def test_sample_moments_match_closed_form():
    weights, means, scales = random_mixtures(4, 3, seed=11)
    dist = GaussianMixtureDistribution(weights, means, scales)
    draws = dist.sample(N_DRAWS, random_state=0)
    assert_within_standard_errors(draws, dist.mean(), dist.var())


def test_sample_moments_multivariate():
    weights, means, scales = random_mixtures(2, 3, n_outputs=2, seed=12)
    dist = GaussianMixtureDistribution(weights, means, scales)
    draws = dist.sample(N_DRAWS, random_state=1)
    for j in range(2):
        assert_within_standard_errors(draws[:, :, j], dist.mean()[:, j], dist.var()[:, j])
    # Diagonal components: within a component the outputs are independent, so
    # for one component the sample correlation must vanish (SE 1/sqrt(N)).
    one = GaussianMixtureDistribution([[1.0]], [[[1.0, -2.0]]], [[[0.5, 3.0]]])
    pair = one.sample(N_DRAWS, random_state=2)[0]
    assert abs(np.corrcoef(pair[:, 0], pair[:, 1])[0, 1]) < 5 / np.sqrt(N_DRAWS)


def component_frequencies(draws, means):
    """Fraction of draws nearest to each (well-separated) component mean."""
    nearest = np.argmin(np.abs(draws[..., None] - np.asarray(means)), axis=-1)
    return np.bincount(nearest.ravel(), minlength=len(means)) / nearest.size


def test_sample_component_frequencies_follow_weights():
    """Components 100 sigma apart: each draw's component is unambiguous, and
    its frequency is within 5 binomial standard errors of the weight."""
    weights = np.array([0.2, 0.5, 0.3])
    means = [0.0, 100.0, 200.0]
    dist = single(weights, means, [1.0, 1.0, 1.0])
    frequencies = component_frequencies(dist.sample(N_DRAWS, random_state=3), means)
    assert np.all(np.abs(frequencies - weights) < 5 * np.sqrt(weights * (1 - weights) / N_DRAWS))


def test_low_temperature_concentrates_on_heaviest_component():
    """temperature=0.05 raises the weights to the 20th power: the light
    component keeps (0.3/0.7)^20 ~ 4e-8 of the mass, so none of 10^4 draws
    (expected count 4e-4) may come from it."""
    dist = single([0.3, 0.7], [-50.0, 50.0], [1.0, 1.0])
    draws = dist.sample(10_000, random_state=4, temperature=0.05)
    assert np.all(np.abs(draws - 50.0) < 10.0)
    # At temperature 1 both components appear.
    assert np.any(dist.sample(10_000, random_state=4) < 0)


def test_high_temperature_flattens_weights():
    """temperature=2 gives weights proportional to sqrt(w)."""
    weights = np.array([0.1, 0.9])
    means = [0.0, 100.0]
    dist = single(weights, means, [1.0, 1.0])
    frequencies = component_frequencies(dist.sample(N_DRAWS, random_state=5, temperature=2.0), means)
    expected = np.sqrt(weights) / np.sqrt(weights).sum()
    assert np.all(np.abs(frequencies - expected) < 5 * np.sqrt(expected * (1 - expected) / N_DRAWS))


def test_sigma_temperature_scales_variance():
    """sigma_temperature multiplies each component variance: for one
    component, variance 4 * sigma^2 and unchanged mean (5 standard errors)."""
    dist = single([1.0], [3.0], [0.5])
    draws = dist.sample(N_DRAWS, random_state=6, sigma_temperature=4.0)
    assert_within_standard_errors(draws, np.array([3.0]), np.array([4.0 * 0.25]))
    # For a mixture, only the within-component part of the variance scales.
    weights, means, scales = [0.4, 0.6], [-2.0, 2.0], [0.5, 1.0]
    mixture = single(weights, means, scales)
    expected_var = np.sum(np.multiply(weights, 0.25 * np.square(scales))) + mixture.var() - np.sum(
        np.multiply(weights, np.square(scales))
    )
    draws = mixture.sample(N_DRAWS, random_state=7, sigma_temperature=0.25)
    assert_within_standard_errors(draws, mixture.mean(), expected_var)


def test_sample_random_state():
    dist = GaussianMixtureDistribution(*random_mixtures(5, 3, n_outputs=2))
    first = dist.sample(10, random_state=0)
    assert_array_equal(first, dist.sample(10, random_state=0))
    assert_array_equal(first, dist.sample(10, random_state=np.random.RandomState(0)))
    assert not np.array_equal(first, dist.sample(10, random_state=1))


@pytest.mark.parametrize("kwargs", [{"temperature": 0.0}, {"temperature": -1.0}, {"sigma_temperature": 0.0}])
def test_sample_rejects_non_positive_temperatures(kwargs):
    with pytest.raises(ValueError, match="must be positive"):
        single([1.0], [0.0], [1.0]).sample(3, **kwargs)


# -- construction, indexing, repr ---------------------------------------------------------


@pytest.mark.parametrize(
    "weights, means, scales, match",
    [
        ([0.5, 0.5], [[0.0, 1.0]], [[1.0, 1.0]], "weights must have shape"),
        ([[1.0]], np.zeros((1, 1, 1, 1)), np.ones((1, 1, 1, 1)), "weights must have shape"),
        ([[0.5, 0.5]], [[0.0, 1.0, 2.0]], [[1.0, 1.0, 1.0]], "Inconsistent shapes"),
        ([[0.5, 0.5]], [[0.0, 1.0]], [[1.0, 1.0, 1.0]], "Inconsistent shapes"),
        ([[0.5, 0.5]], np.zeros((1, 2, 2)), np.ones((1, 2, 3)), "Inconsistent shapes"),
        ([[0.5, 0.5]], [[0.0, 1.0]], [[1.0, -1.0]], "scales must be positive"),
        ([[0.5, 0.5]], [[0.0, 1.0]], [[1.0, 0.0]], "scales must be positive"),
        ([[0.5, 0.5]], [[0.0, np.nan]], [[1.0, 1.0]], "finite"),
        ([[0.5, 0.5]], [[0.0, 1.0]], [[1.0, np.inf]], "finite"),
        ([[0.5, 0.6]], [[0.0, 1.0]], [[1.0, 1.0]], "sum to one"),
        ([[1.5, -0.5]], [[0.0, 1.0]], [[1.0, 1.0]], "non-negative"),
        ([[np.nan, 1.0]], [[0.0, 1.0]], [[1.0, 1.0]], "sum to one"),
    ],
    ids=[
        "weights-1d", "means-4d", "means-components", "scales-shape", "scales-outputs",
        "negative-scale", "zero-scale", "nan-mean", "inf-scale", "weights-sum",
        "negative-weight", "nan-weight",
    ],
)
def test_constructor_validation(weights, means, scales, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixtureDistribution(weights, means, scales)


def test_attributes_are_float64_3d():
    dist = GaussianMixtureDistribution([[1]], [[2]], [[3]])
    assert dist.weights.dtype == dist.means.dtype == dist.scales.dtype == np.float64
    assert dist.means.shape == dist.scales.shape == (1, 1, 1)
    assert dist.n_components == 1 and dist.n_outputs == 1


def test_len_getitem_and_repr():
    weights, means, scales = random_mixtures(6, 3, n_outputs=2, seed=13)
    dist = GaussianMixtureDistribution(weights, means, scales)
    y = np.random.default_rng(0).normal(size=(6, 2))
    assert len(dist) == 6
    assert repr(dist) == "GaussianMixtureDistribution(n_rows=6, n_components=3, n_outputs=2)"

    row = dist[2]
    assert len(row) == 1
    assert_array_equal(row.means[0], means[2])
    assert_allclose(row.log_prob(y[2:3]), dist.log_prob(y)[2:3], rtol=1e-15)
    assert_array_equal(dist[np.int64(-1)].weights[0], weights[-1])
    assert_array_equal(dist[1:4].scales, scales[1:4])
    mask = np.array([True, False, True, False, False, True])
    assert_allclose(dist[mask].log_prob(y[mask]), dist.log_prob(y)[mask], rtol=1e-15)
    assert_array_equal(dist[[5, 0]].means, means[[5, 0]])


def test_getitem_keeps_univariate_shapes():
    """A distribution of a 1-D target stays one when indexed."""
    weights, means, scales = random_mixtures(4, 2, seed=14)
    dist = GaussianMixtureDistribution(weights, means, scales)
    assert repr(dist) == "GaussianMixtureDistribution(n_rows=4, n_components=2, n_outputs=1)"
    assert dist[0].mean().shape == (1,)
    assert dist[1:3].sample(5, random_state=0).shape == (2, 5)
    assert dist[1:3].mode().shape == (2,)
    assert_allclose(dist[1:3].mode(), dist.mode()[1:3], rtol=1e-14)


def test_three_output_modes_are_maxima_at_least_as_high_as_bfgs():
    """d = 3 (the general kernel's Jacobi eigenvalues and Cholesky steps): on
    30 random rows (K = 4), every reported mode has a vanishing gradient and a
    negative definite Hessian by finite differences of scipy's log density
    (numpy's eigvalsh), and the mode is at least as high as BFGS from every
    component mean reaches."""
    weights, means, scales = random_mixtures(30, 4, n_outputs=3, seed=31)
    dist = GaussianMixtureDistribution(weights, means, scales)
    modes, log_density = dist.modes()
    best = dist.mode()
    h = 1e-4
    steps = np.eye(3) * h
    for row in range(30):

        def log_p(y, row=row):
            return brute_log_density(np.atleast_2d(y), weights[row], means[row], scales[row])[0]

        for point in modes[row][~np.isnan(modes[row][:, 0])]:
            gradient = np.array([(log_p(point + e) - log_p(point - e)) / (2 * h) for e in steps])
            hessian = np.array([
                [(log_p(point + a + b) - log_p(point + a - b) - log_p(point - a + b) + log_p(point - a - b)) / (4 * h * h)
                 for b in steps] for a in steps
            ])
            assert np.abs(gradient).max() < 1e-5 * max(1.0, np.abs(hessian).max())
            assert np.linalg.eigvalsh(hessian).max() < 0
        reached = max(
            -minimize(lambda y: -log_p(y), start, method="BFGS", options={"gtol": 1e-10}).fun
            for start in means[row]
        )
        assert log_p(best[row]) >= reached - 1e-9
        assert_allclose(log_density[row, 0], log_p(best[row]), rtol=1e-12)
