"""MAPIE around MDNRegressor: the recipes the User Guide gives, and MAPIE's
conformalised quantile regression as an independent reference for
ConformalMDN(method="cqr")."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning

from mapie import regression as mapie_regression

from skmdn import ConformalMDN, MDNRegressor
from skmdn.datasets import make_spiral


class MixtureQuantile(RegressorMixin, BaseEstimator):
    """One quantile of a fitted MDNRegressor's predicted distribution, as a
    fitted regressor (the User Guide's recipe)."""

    def __init__(self, model, quantile):
        self.model = model
        self.quantile = quantile

    def fit(self, X, y):
        return self

    def predict(self, X):
        return self.model.predict_dist(X).ppf([self.quantile])[:, 0]

    def __sklearn_is_fitted__(self):
        return True


@pytest.fixture(scope="module")
def spiral_model():
    X, y = make_spiral(3000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MDNRegressor(max_iter=100, random_state=0).fit(X[:2000], y[:2000])
    return model, X[2000:], y[2000:]


def test_mapie_split_conformal_around_the_mode(spiral_model):
    """SplitConformalRegressor(prefit=True) takes the fitted MDNRegressor as
    any regressor: its intervals are the mode plus and minus the calibrated
    absolute residual."""
    model, X_calibration, y_calibration = spiral_model
    split = mapie_regression.SplitConformalRegressor(model, confidence_level=0.9, prefit=True)
    split.conformalize(X_calibration, y_calibration)
    X_test, y_test = make_spiral(500, random_state=1)
    point, intervals = split.predict_interval(X_test)
    assert_allclose(point, model.predict(X_test))
    half_width = intervals[:, 1, 0] - point
    assert_allclose(point - intervals[:, 0, 0], half_width)
    assert np.ptp(half_width) < 1e-9  # one width for every row
    residuals = np.abs(y_calibration - model.predict(X_calibration))
    rank = int(np.ceil((len(residuals) + 1) * 0.9))
    assert_allclose(half_width[0], np.sort(residuals)[rank - 1])


def test_mapie_cqr_on_the_mixture_quantiles_equals_conformal_mdn_cqr(spiral_model):
    """MAPIE's ConformalizedQuantileRegressor (prefit, symmetric correction)
    on the mixture's 5% and 95% quantiles gives the same intervals as
    ConformalMDN(method="cqr"), computed independently."""
    model, X_calibration, y_calibration = spiral_model
    parts = [MixtureQuantile(model, 0.05), MixtureQuantile(model, 0.95), MixtureQuantile(model, 0.5)]
    cqr = mapie_regression.ConformalizedQuantileRegressor(parts, confidence_level=0.9, prefit=True)
    cqr.conformalize(X_calibration, y_calibration)
    X_test, _ = make_spiral(500, random_state=1)
    _, intervals = cqr.predict_interval(X_test, symmetric_correction=True)
    ours = ConformalMDN(model, prefit=True, method="cqr").fit(X_calibration, y_calibration)
    assert_allclose(intervals[:, :, 0], ours.predict_set(X_test)[:, 0, :], atol=1e-9)
