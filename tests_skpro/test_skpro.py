"""skmdn with skpro (run in an environment with skpro installed; skpro
needs pandas < 3.1, the main test environment has pandas >= 3.1, so
.ci/run runs this directory in its own virtual environment).

The adapter passes skpro's own estimator checks; its distributions,
quantiles and intervals are the fitted mixture's, checked against skmdn's
distribution and scipy; skpro's evaluation and metrics run on it and agree
with skmdn's own scores.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold

from skmdn import GaussianMixtureDistribution, MDNRegressor
from skmdn.datasets import make_spiral
from skmdn.skpro import MDNProbaRegressor

FAST = dict(hidden_layer_sizes=(16,), max_iter=30, random_state=0)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def test_skpros_estimator_checks_pass():
    from skpro.utils import check_estimator

    results = check_estimator(MDNProbaRegressor, raise_exceptions=True, verbose=False)
    assert len(results) > 50
    assert all(result == "PASSED" for result in results.values())


def spiral_frames(n_rows=400, n_outputs=1):
    X, y = make_spiral(n_rows, random_state=0)
    index = pd.RangeIndex(100, 100 + n_rows)
    X = pd.DataFrame(X, columns=["x"], index=index)
    if n_outputs == 1:
        return X, pd.DataFrame({"y": y}, index=index)
    second = np.sin(3 * X["x"].to_numpy()) + 0.1 * np.random.default_rng(1).normal(size=n_rows)
    return X, pd.DataFrame({"y": y, "z": second}, index=index)


def mixture_cdf(distribution, values):
    """Each output's marginal CDF from the weights, means and scales, by scipy."""
    return np.sum(
        distribution.weights[:, :, None] * norm.cdf(values[:, None, :], distribution.means, distribution.scales),
        axis=1,
    )


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_predictions_are_the_fitted_mixture_in_skpros_formats(n_outputs):
    X, y = spiral_frames(n_outputs=n_outputs)
    model = MDNProbaRegressor(MDNRegressor(**FAST)).fit(X, y)
    native = model.estimator_.predict_dist(X.to_numpy())
    rows = X.index

    proba = model.predict_proba(X)
    assert proba.index.equals(rows) and list(proba.columns) == list(y.columns)
    assert_allclose(proba.mean().to_numpy(), native.mean().reshape(len(X), -1), rtol=1e-12)
    assert_allclose(proba.var().to_numpy(), native.var().reshape(len(X), -1), rtol=1e-10)
    observed = y.to_numpy()
    assert_allclose(proba.cdf(y).to_numpy(), mixture_cdf(native, observed), rtol=1e-10, atol=1e-14)

    mode = model.predict(X)
    assert mode.index.equals(rows) and list(mode.columns) == list(y.columns)
    assert_array_equal(mode.to_numpy(), model.estimator_.predict(X.to_numpy()).reshape(len(X), -1))

    levels = [0.05, 0.5, 0.95]
    quantiles = model.predict_quantiles(X, alpha=levels)
    assert quantiles.columns.tolist() == [(name, level) for name in y.columns for level in levels]
    for name_index, name in enumerate(y.columns):
        for level in levels:
            # Exact quantiles: the marginal CDF (scipy) there is the level.
            at = np.zeros((len(X), n_outputs))
            at[:, name_index] = quantiles[(name, level)].to_numpy()
            assert_allclose(mixture_cdf(native, at)[:, name_index], level, atol=1e-9)

    intervals = model.predict_interval(X, coverage=[0.5, 0.9])
    assert intervals.columns.tolist() == [
        (name, c, end) for name in y.columns for c in (0.5, 0.9) for end in ("lower", "upper")
    ]
    for name in y.columns:
        assert_allclose(intervals[(name, 0.9, "lower")], quantiles[(name, 0.05)], rtol=1e-12)
        assert_allclose(intervals[(name, 0.9, "upper")], quantiles[(name, 0.95)], rtol=1e-12)
        assert np.all(intervals[(name, 0.5, "upper")] < intervals[(name, 0.9, "upper")])


def test_to_skpro_keeps_weights_means_and_scales():
    rng = np.random.default_rng(2)
    weights = rng.dirichlet(np.ones(3), size=5)
    means, scales = rng.normal(size=(5, 3, 2)), rng.uniform(0.2, 1.0, (5, 3, 2))
    distribution = GaussianMixtureDistribution(weights, means, scales)
    converted = distribution.to_skpro(index=pd.Index(list("abcde")), columns=pd.Index(["u", "v"]))
    assert type(converted).__name__ == "NormalMixture"
    assert list(converted.index) == list("abcde") and list(converted.columns) == ["u", "v"]
    values = pd.DataFrame(rng.normal(size=(5, 2)), index=converted.index, columns=converted.columns)
    pdf = np.sum(weights[:, :, None] * norm.pdf(values.to_numpy()[:, None, :], means, scales), axis=1)
    assert_allclose(converted.pdf(values).to_numpy(), pdf, rtol=1e-12)
    # One output given as (n, K) arrays: skpro's distribution has one column.
    univariate = GaussianMixtureDistribution(weights, means[..., 0], scales[..., 0]).to_skpro()
    assert univariate.shape == (5, 1)
    assert_allclose(univariate.mean().to_numpy()[:, 0], np.sum(weights * means[..., 0], axis=1))


def test_skpros_evaluation_and_metrics_agree_with_skmdns_scores():
    """skpro's benchmarking.evaluate runs the adapter in cross-validation;
    skpro's LogLoss and CRPS of its predictions equal skmdn's own mean
    negative log-likelihood and CRPS (independent implementations)."""
    from skpro.benchmarking.evaluate import evaluate
    from skpro.metrics import CRPS, LogLoss

    from skmdn.metrics import mean_crps

    X, y = spiral_frames()
    model = MDNProbaRegressor(MDNRegressor(**FAST))
    results = evaluate(model, KFold(3), X, y, scoring=[LogLoss(), CRPS()])
    assert len(results) == 3
    assert np.all(np.isfinite(results["test_LogLoss"])) and np.all(results["test_CRPS"] > 0)

    fitted = model.clone().fit(X, y)
    proba = fitted.predict_proba(X)
    assert LogLoss()(y, proba) == pytest.approx(-fitted.estimator_.score(X, y["y"]), rel=1e-9)
    assert CRPS()(y, proba) == pytest.approx(
        mean_crps(y["y"].to_numpy(), fitted.estimator_.predict_dist(X)), rel=1e-12
    )


def test_crps_of_the_distribution_is_exact_where_skpros_own_is_not():
    """skpro 2.16's NormalMixture approximates E|X - X'| ignoring the means;
    skmdn's subclass has the closed form: its CRPS equals scoringrules-free
    Monte Carlo (200,000 draws) on two separated branches, skpro's does not.
    Subsets (iloc) keep the exact form."""
    from skpro.distributions import NormalMixture as SkproNormalMixture
    from skpro.metrics import CRPS

    weights = np.array([[0.5, 0.5], [0.3, 0.7]])
    means = np.array([[[-2.0], [2.0]], [[0.0], [0.5]]])
    scales = np.array([[[0.3], [0.3]], [[1.0], [0.2]]])
    y = pd.DataFrame({"y": [0.1, 0.4]})
    ours = GaussianMixtureDistribution(weights, means, scales).to_skpro(columns=y.columns)
    skpros = SkproNormalMixture(pi=weights, mu=means, sigma=scales, columns=y.columns)
    rng = np.random.default_rng(0)
    draws = []
    for row in range(2):
        branch = rng.choice(2, size=(2, 200_000), p=weights[row])
        x = rng.normal(means[row, branch, 0], scales[row, branch, 0])
        draws.append(np.mean(np.abs(x[0] - y["y"][row])) - 0.5 * np.mean(np.abs(x[0] - x[1])))
    expected = np.mean(draws)
    assert CRPS()(y, ours) == pytest.approx(expected, abs=0.01)
    assert abs(CRPS()(y, skpros) - expected) > 0.1
    assert isinstance(ours, SkproNormalMixture)
    assert type(ours.iloc[[1]]) is type(ours)
    assert CRPS()(y.iloc[[1]], ours.iloc[[1]]) == pytest.approx(draws[1], abs=0.01)


def test_the_distribution_subclass_passes_skpros_distribution_checks():
    from skpro.utils import check_estimator

    from skmdn.skpro import NormalMixture

    results = check_estimator(NormalMixture, raise_exceptions=True, verbose=False)
    assert len(results) > 20
    assert all(result == "PASSED" for result in results.values())


def test_only_an_mdnregressor_is_wrapped():
    from sklearn.linear_model import LinearRegression

    X, y = spiral_frames(50)
    with pytest.raises(TypeError, match="wraps an skmdn.MDNRegressor; got LinearRegression"):
        MDNProbaRegressor(LinearRegression()).fit(X, y)
