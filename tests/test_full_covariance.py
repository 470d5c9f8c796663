"""GaussianMixtureDistribution with full-covariance components (scale_tril),
against independent references: scipy's multivariate normal, scipy's
optimiser on a grid, Monte Carlo, TensorFlow Probability, and the diagonal
implementation where the factors are diagonal."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize
from scipy.special import logsumexp
from scipy.stats import multivariate_normal, norm

from skmdn import GaussianMixtureDistribution, MDNRegressor


def random_full(n_rows, n_components, n_outputs, seed=0, spread=2.0):
    """Dirichlet weights, N(0, spread^2) means and random covariances with
    correlations up to about +-0.95 and scales from 0.1 to 1.5."""
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.ones(n_components), size=n_rows)
    means = rng.normal(scale=spread, size=(n_rows, n_components, n_outputs))
    factors = rng.normal(size=(n_rows, n_components, n_outputs, n_outputs))
    covariance = factors @ np.swapaxes(factors, 2, 3) + 0.05 * np.eye(n_outputs)
    stds = np.exp(rng.uniform(np.log(0.1), np.log(1.5), size=(n_rows, n_components, n_outputs)))
    current = np.sqrt(np.diagonal(covariance, axis1=2, axis2=3))
    covariance *= (stds / current)[..., :, None] * (stds / current)[..., None, :]
    return weights, means, covariance


def scipy_log_prob(weights, means, covariance, y):
    n_rows, n_components = weights.shape
    return np.array([
        logsumexp([
            np.log(weights[i, k]) + multivariate_normal(means[i, k], covariance[i, k]).logpdf(y[i])
            for k in range(n_components)
        ])
        for i in range(n_rows)
    ])


@pytest.mark.parametrize("n_outputs", [2, 3])
def test_densities_marginals_and_moments_match_scipy(n_outputs):
    weights, means, covariance = random_full(20, 4, n_outputs, seed=n_outputs)
    distribution = GaussianMixtureDistribution(weights, means, scale_tril=np.linalg.cholesky(covariance))
    assert distribution.covariance_type == "full"
    y = np.random.default_rng(5).normal(scale=2.0, size=(20, n_outputs))
    assert_allclose(distribution.log_prob(y), scipy_log_prob(weights, means, covariance, y), rtol=1e-10)
    # Each output's marginal is the mixture of the components' marginals.
    stds = np.sqrt(np.diagonal(covariance, axis1=2, axis2=3))
    marginal_cdf = np.sum(weights[:, :, None] * norm.cdf(y[:, None, :], means, stds), axis=1)
    assert_allclose(distribution.cdf(y), marginal_cdf, rtol=1e-10)
    quantiles = distribution.ppf(0.3)
    assert_allclose(
        np.sum(weights[:, :, None] * norm.cdf(quantiles[:, None, :], means, stds), axis=1), 0.3, atol=1e-10
    )
    mean = np.einsum("nk,nkd->nd", weights, means)
    second = np.einsum("nk,nkij->nij", weights, covariance + means[..., :, None] * means[..., None, :])
    assert_allclose(distribution.mean(), mean, rtol=1e-12)
    assert_allclose(distribution.covariance(), second - mean[:, :, None] * mean[:, None, :], atol=1e-10)
    assert_allclose(distribution.var(), np.diagonal(distribution.covariance(), axis1=1, axis2=2), rtol=1e-10)
    # Rows keep their factors.
    assert_allclose(distribution[[3, 7]].log_prob(y[[3, 7]]), distribution.log_prob(y)[[3, 7]], rtol=1e-12)


def test_samples_follow_the_components_covariances():
    """Two rows of one strongly correlated component each: the draws' sample
    covariance is the component's (200,000 draws; within 4 standard errors),
    and sigma_temperature scales it."""
    covariance = np.array([[[[1.0, 0.9], [0.9, 1.0]]], [[[0.25, -0.2], [-0.2, 0.5]]]])
    distribution = GaussianMixtureDistribution(
        np.ones((2, 1)), np.array([[[1.0, -1.0]], [[0.0, 3.0]]]), scale_tril=np.linalg.cholesky(covariance)
    )
    draws = distribution.sample(200_000, random_state=0)
    for row in range(2):
        estimate = np.cov(draws[row].T)
        target = covariance[row, 0]
        error = np.sqrt((target**2 + np.outer(np.diag(target), np.diag(target))) / 200_000)
        assert np.all(np.abs(estimate - target) < 4 * error)
    hotter = distribution.sample(200_000, random_state=1, sigma_temperature=2.0)
    assert_allclose(np.cov(hotter[0].T), 2.0 * covariance[0, 0], rtol=0.03)


def test_energy_score_uses_the_correlation():
    """A point on the correlated component's long axis scores better than one
    as far from the mean across it: only a full covariance tells them apart."""
    covariance = np.array([[[[1.0, 0.95], [0.95, 1.0]]]])
    distribution = GaussianMixtureDistribution(
        np.ones((1, 1)), np.zeros((1, 1, 2)), scale_tril=np.linalg.cholesky(covariance)
    )
    along, across = np.array([[1.0, 1.0]]), np.array([[1.0, -1.0]])
    assert distribution.energy_score(along, random_state=0)[0] < distribution.energy_score(across, random_state=0)[0]


def grid_maxima(weights, means, covariance, row, lower, upper, n=241):
    """Every local maximum of row ``row``'s density (2 outputs): the grid's
    local maxima (strict, 8 neighbours), polished by scipy's BFGS on the
    scipy log density."""
    axis = [np.linspace(lower[i], upper[i], n) for i in range(2)]
    grid = np.stack(np.meshgrid(*axis, indexing="ij"), axis=-1).reshape(-1, 2)

    def log_p(points):
        points = np.atleast_2d(points)
        return logsumexp(
            [np.log(weights[row, k])
             + np.atleast_1d(multivariate_normal(means[row, k], covariance[row, k]).logpdf(points))
             for k in range(weights.shape[1])],
            axis=0,
        )

    values = np.reshape(log_p(grid), (n, n))
    padded = np.pad(values, 1, constant_values=-np.inf)
    is_max = np.ones_like(values, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                is_max &= values > padded[1 + di : 1 + di + n, 1 + dj : 1 + dj + n]
    found = []
    for i, j in zip(*np.nonzero(is_max)):
        result = minimize(lambda p: -float(log_p(p)[0]), [axis[0][i], axis[1][j]], method="BFGS",
                          options={"gtol": 1e-10})
        if not any(np.max(np.abs(result.x - other)) < 1e-4 for other in found):
            found.append(result.x)
    return np.array(found), log_p


@pytest.mark.parametrize("seed", range(4))
def test_modes_are_every_local_maximum_found_on_a_grid(seed):
    """With correlated components, the modes are every local maximum a fine
    grid finds, polished by scipy's optimiser (independent of the climbs),
    to 1e-6; the global mode is the highest."""
    weights, means, covariance = random_full(2, 4, 2, seed=10 + seed, spread=1.5)
    distribution = GaussianMixtureDistribution(weights, means, scale_tril=np.linalg.cholesky(covariance))
    modes, log_density = distribution.modes()
    for row in range(2):
        lower = means[row].min(axis=0) - 1.0
        upper = means[row].max(axis=0) + 1.0
        reference, log_p = grid_maxima(weights, means, covariance, row, lower, upper)
        found = modes[row][np.isfinite(log_density[row])]
        assert len(found) == len(reference), (found, reference)
        for point in reference:
            assert np.min(np.max(np.abs(found - point), axis=1)) < 1e-6
        assert_allclose(log_density[row][np.isfinite(log_density[row])], log_p(found), rtol=1e-10)
        assert_allclose(distribution.mode()[row], found[0], rtol=1e-12)


def test_diagonal_factors_give_the_diagonal_mixture():
    """scale_tril = diag(scales) is the diagonal mixture: densities, samples
    and (through the full kernel) modes agree with it."""
    rng = np.random.default_rng(3)
    weights = rng.dirichlet(np.ones(5), size=30)
    means = rng.normal(scale=2.0, size=(30, 5, 3))
    scales = np.exp(rng.uniform(np.log(0.2), np.log(1.5), size=(30, 5, 3)))
    diagonal = GaussianMixtureDistribution(weights, means, scales)
    full = GaussianMixtureDistribution(weights, means, scale_tril=scales[..., None] * np.eye(3))
    y = rng.normal(size=(30, 3))
    assert_allclose(full.log_prob(y), diagonal.log_prob(y), rtol=1e-12)
    assert_allclose(full.scales, scales, rtol=1e-15)
    assert_allclose(full.sample(5, random_state=0), diagonal.sample(5, random_state=0), rtol=1e-12)
    full_modes, full_density = full.modes()
    diagonal_modes, diagonal_density = diagonal.modes()
    assert_allclose(full_density, diagonal_density, rtol=1e-9)
    assert_allclose(np.nan_to_num(full_modes), np.nan_to_num(diagonal_modes), atol=1e-7)


def test_one_output_with_a_one_by_one_factor_is_the_scalar_mixture():
    rng = np.random.default_rng(4)
    weights = rng.dirichlet(np.ones(3), size=10)
    means, scales = rng.normal(size=(10, 3)), rng.uniform(0.2, 1.0, (10, 3))
    full = GaussianMixtureDistribution(weights, means, scale_tril=scales[..., None, None])
    scalar = GaussianMixtureDistribution(weights, means, scales)
    y = rng.normal(size=10)
    assert_allclose(full.log_prob(y), scalar.log_prob(y), rtol=1e-12)
    assert_allclose(full.mode(), scalar.mode(), rtol=1e-12)
    assert_allclose(full.hdr(0.8)[0], scalar.hdr(0.8)[0], rtol=1e-10)


def test_to_tfp_with_full_covariance():
    weights, means, covariance = random_full(6, 3, 2, seed=8)
    distribution = GaussianMixtureDistribution(weights, means, scale_tril=np.linalg.cholesky(covariance))
    y = np.random.default_rng(9).normal(size=(6, 2))
    assert_allclose(distribution.to_tfp().log_prob(y).numpy(), distribution.log_prob(y), rtol=1e-10)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"scales": np.ones((1, 1, 2)), "scale_tril": np.ones((1, 1, 2, 2))}, "either scales"),
        ({}, "either scales"),
        ({"scale_tril": np.ones((1, 1, 2, 2))}, "lower triangular"),
        ({"scale_tril": np.array([[[[1.0, 0.0], [0.3, 0.0]]]])}, "positive diagonal"),
        ({"scale_tril": np.ones((1, 1, 2))}, "shape"),
        ({"scale_tril": np.array([[[[1.0, 0.0], [np.nan, 1.0]]]])}, "finite"),
    ],
)
def test_bad_factors_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        GaussianMixtureDistribution(np.ones((1, 1)), np.zeros((1, 1, 2)), **arguments)


# -- MDNRegressor(covariance_type="full") ------------------------------------------------


def correlated_data(n_rows=600, seed=0):
    """Two outputs whose noise correlation turns with x (0.9 at the ends)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n_rows, 1))
    angle = np.pi / 3 * X[:, 0]
    along = rng.normal(scale=0.5, size=n_rows)
    across = rng.normal(scale=0.05, size=n_rows)
    y = np.column_stack(
        [np.cos(angle) * along - np.sin(angle) * across, np.sin(angle) * along + np.cos(angle) * across]
    )
    return X, 10.0 * y + [3.0, -200.0]


FAST = dict(n_components=2, hidden_layer_sizes=(16,), max_iter=60, random_state=0)


@pytest.fixture(scope="module")
def full_model():
    X, y = correlated_data()
    with pytest.warns(Warning):  # max_iter ends the fit
        return MDNRegressor(covariance_type="full", **FAST).fit(X, y), X, y


def test_full_model_scores_its_distribution_in_original_units(full_model):
    """score is the mean log density of the predicted mixtures in y's units
    (scipy's multivariate normal with the factors' covariances), and the
    factors are truly full: the fitted correlation follows the data's sign."""
    model, X, y = full_model
    distribution = model.predict_dist(X)
    assert distribution.covariance_type == "full"
    covariance = distribution.scale_tril @ np.swapaxes(distribution.scale_tril, 2, 3)
    reference = scipy_log_prob(distribution.weights, distribution.means, covariance, y)
    assert model.score(X, y) == pytest.approx(reference.mean(), rel=1e-6)
    correlation = distribution.covariance()[:, 0, 1] / np.sqrt(distribution.var().prod(axis=1))
    ends = np.abs(X[:, 0]) > 0.7
    assert np.all(np.sign(correlation[ends]) == np.sign(X[ends, 0]))
    assert np.all(np.isfinite(model.predict(X)))
    assert model.sample(X[:5], n_samples=3, random_state=0).shape == (5, 3, 2)


def test_full_beats_diagonal_components_on_correlated_noise(full_model):
    """Equal K: the full model's held-out log-likelihood is far above the
    diagonal one's (the noise's correlation reaches 0.9)."""
    model, X, y = full_model
    X_test, y_test = correlated_data(seed=1)
    with pytest.warns(Warning):
        diagonal = MDNRegressor(**FAST).fit(X, y)
    assert model.score(X_test, y_test) > diagonal.score(X_test, y_test) + 0.5


def test_full_model_saves_pickles_and_continues(full_model, tmp_path):
    import pickle

    from skmdn import load

    model, X, y = full_model
    expected = model.predict_dist(X).log_prob(y)
    model.save(tmp_path / "full.skmdn")
    loaded = load(tmp_path / "full.skmdn")
    assert loaded.covariance_type == "full"
    assert_allclose(loaded.predict_dist(X).log_prob(y), expected, rtol=0, atol=0)
    assert_allclose(pickle.loads(pickle.dumps(model)).predict_dist(X).log_prob(y), expected, rtol=0, atol=0)
    loaded.partial_fit(X, y)
    assert loaded.n_iter_ == model.n_iter_ + 1
    with pytest.raises(ValueError, match="covariance_type"):
        loaded.set_params(covariance_type="diag", warm_start=True).fit(X, y)


def test_one_output_full_equals_diagonal():
    """For one output a component's covariance is its variance: "full" trains
    and predicts exactly as "diag"."""
    X, y = correlated_data()
    with pytest.warns(Warning):
        full = MDNRegressor(covariance_type="full", **FAST).fit(X, y[:, 0])
        diagonal = MDNRegressor(**FAST).fit(X, y[:, 0])
    assert_allclose(full.predict_dist(X).means, diagonal.predict_dist(X).means, rtol=0, atol=0)


def test_full_networks_average_full_mixtures():
    X, y = correlated_data(300)
    with pytest.warns(Warning):
        pair = MDNRegressor(covariance_type="full", n_networks=2, **FAST).fit(X, y)
    distribution = pair.predict_dist(X)
    assert distribution.n_components == 4 and distribution.covariance_type == "full"
    assert_allclose(distribution.weights.sum(axis=1), 1.0)
    assert np.isfinite(pair.score(X, y))


# -- highest-density regions of several outputs -----------------------------------------


def test_hdr_membership_of_one_output_is_the_hdr_intervals():
    rng = np.random.default_rng(6)
    weights = rng.dirichlet(np.ones(3), size=40)
    distribution = GaussianMixtureDistribution(weights, rng.normal(size=(40, 3)), rng.uniform(0.2, 1.0, (40, 3)))
    y = distribution.sample(1, random_state=7)[:, 0]
    intervals, _ = distribution.hdr(0.7)
    in_intervals = np.nansum((intervals[:, :, 0] <= y[:, None]) & (y[:, None] <= intervals[:, :, 1]), axis=1) > 0
    assert np.array_equal(distribution.hdr_contains(y, 0.7), in_intervals)
    assert 5 < in_intervals.sum() < 40


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_hdr_threshold_of_two_outputs_holds_its_mass(covariance_type):
    """The region {p >= t} of the Monte Carlo threshold holds ``coverage`` of
    the mass, integrated on a fine grid (independent of the draws), to within
    four of its stated standard errors; fresh draws agree."""
    weights, means, covariance = random_full(3, 3, 2, seed=20)
    if covariance_type == "diag":
        covariance = covariance * np.eye(2)
    distribution = GaussianMixtureDistribution(weights, means, scale_tril=np.linalg.cholesky(covariance))
    coverage, n_samples = 0.8, 10_000
    threshold = distribution.hdr_threshold(coverage, n_samples=n_samples, random_state=0)
    error = np.sqrt(coverage * (1 - coverage) / n_samples)
    for row in range(3):
        spread = np.sqrt(np.diagonal(covariance[row], axis1=1, axis2=2)).max()
        axes = [np.linspace(means[row, :, i].min() - 7 * spread, means[row, :, i].max() + 7 * spread, 700)
                for i in range(2)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 2)
        # The density on the grid (checked against scipy above).
        density = distribution[row].pdf(grid[None])[0]
        cell = (axes[0][1] - axes[0][0]) * (axes[1][1] - axes[1][0])
        assert np.sum(density) * cell == pytest.approx(1.0, abs=1e-4)
        mass = np.sum(density[density >= threshold[row]]) * cell
        assert abs(mass - coverage) < 4 * error + 2e-3
    draws = distribution.sample(20_000, random_state=1)
    inside = np.mean(distribution.log_prob(draws) >= np.log(threshold)[:, None], axis=1)
    assert np.all(np.abs(inside - coverage) < 4 * error + 4 * np.sqrt(coverage * (1 - coverage) / 20_000))


def test_hdr_contains_three_correlated_outputs():
    """Three correlated outputs: fresh draws fall in the region as often as
    its coverage says (binomial error of the threshold and of the count), and
    hdr_contains is p(y) >= the threshold."""
    weights, means, covariance = random_full(4, 3, 3, seed=21)
    distribution = GaussianMixtureDistribution(weights, means, scale_tril=np.linalg.cholesky(covariance))
    draws = distribution.sample(4_000, random_state=2)
    threshold = distribution.hdr_threshold(0.9, n_samples=20_000, random_state=3)
    inside = np.mean(distribution.log_prob(draws) >= np.log(threshold)[:, None], axis=1)
    assert np.all(np.abs(inside - 0.9) < 4 * np.sqrt(0.09 / 20_000) + 4 * np.sqrt(0.09 / 4_000))
    y = draws[:, 0]
    assert np.array_equal(
        distribution.hdr_contains(y, 0.9, n_samples=20_000, random_state=3),
        distribution.log_prob(y) >= np.log(threshold),
    )


def test_hdr_threshold_names_bad_arguments():
    distribution = GaussianMixtureDistribution(np.ones((1, 1)), np.zeros((1, 1, 2)), np.ones((1, 1, 2)))
    with pytest.raises(ValueError, match="coverage"):
        distribution.hdr_threshold(1.5)
    with pytest.raises(ValueError, match="n_samples"):
        distribution.hdr_threshold(0.5, n_samples=0)


def test_three_outputs_modes_samples_crps_and_tfp():
    """d = 3: every mode is a stationary point where scipy's numerical
    Hessian of the scipy log density is negative definite, and scipy's
    optimiser from every component mean ends on one of them; draws have the
    mixture's covariance (Monte Carlo); each output's CRPS is scoringrules'
    for its marginal; TFP's density is the same."""
    import scoringrules
    from scipy.optimize import approx_fprime

    weights, means, covariance = random_full(3, 3, 3, seed=30, spread=1.2)
    distribution = GaussianMixtureDistribution(weights, means, scale_tril=np.linalg.cholesky(covariance))
    modes, log_density = distribution.modes()
    for row in range(3):
        def log_p(point, row=row):
            return float(scipy_log_prob(weights[row : row + 1], means[row : row + 1],
                                        covariance[row : row + 1], point[None])[0])

        found = modes[row][np.isfinite(log_density[row])]
        for point in found:
            gradient = approx_fprime(point, log_p, 1e-7)
            assert np.max(np.abs(gradient)) < 1e-4
            hessian = np.array([approx_fprime(point, lambda p, i=i: approx_fprime(p, log_p, 1e-6)[i], 1e-6)
                                for i in range(3)])
            assert np.all(np.linalg.eigvalsh((hessian + hessian.T) / 2) < 0)
        for k in range(3):
            end = minimize(lambda p: -log_p(p), means[row, k], method="BFGS", options={"gtol": 1e-9}).x
            assert np.min(np.max(np.abs(found - end), axis=1)) < 1e-5

    draws = distribution.sample(100_000, random_state=0)
    for row in range(3):
        assert_allclose(np.cov(draws[row].T), distribution.covariance()[row], atol=0.05 * distribution.var()[row].max())

    y = np.random.default_rng(31).normal(size=(3, 3))
    stds = np.sqrt(np.diagonal(covariance, axis1=2, axis2=3))
    expected = np.column_stack([
        scoringrules.crps_mixnorm(y[:, i], means[:, :, i], stds[:, :, i], weights, backend="numpy")
        for i in range(3)
    ])
    assert_allclose(distribution.crps(y), expected, rtol=1e-9)
    assert_allclose(distribution.to_tfp().log_prob(y).numpy(), distribution.log_prob(y), rtol=1e-10)
