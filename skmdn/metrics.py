"""Proper scores and calibration measures for predicted distributions.

The functions take a ``skmdn.GaussianMixtureDistribution`` (as returned
by ``MDNRegressor.predict_dist``) and the observed y. The ``*_scorer``
objects plug into ``GridSearchCV(scoring=...)`` and ``cross_validate``; they
follow scikit-learn's convention that greater is better, so losses are
negated (``neg_``).
"""

import math

import numpy as np
from scipy.special import ndtr
from scipy.stats import kstest

__all__ = [
    "crps",
    "interval_coverage",
    "log_likelihood_scorer",
    "make_coverage_error_scorer",
    "make_neg_interval_width_scorer",
    "mean_crps",
    "mean_interval_width",
    "mean_log_likelihood",
    "neg_crps_scorer",
    "neg_pit_ks_scorer",
    "pit",
]

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _points(y_dist, y_true):
    """Observed y as (n, d) points of ``y_dist`` (accepts (n,) for a 1-D target)."""
    y = np.asarray(y_true, dtype=np.float64)
    points, per_row = y_dist._as_points(y)
    if not per_row:
        raise ValueError(
            f"y_true must hold one value per row of the distribution ({len(y_dist)} rows); "
            f"got shape {y.shape}."
        )
    return points[:, 0, :]


def mean_log_likelihood(y_true, y_dist, sample_weight=None):
    """Mean log density of the observations (nats; higher is better).

    Parameters
    ----------
    y_true : array-like of shape (n_rows,) or (n_rows, n_outputs)
    y_dist : GaussianMixtureDistribution
    sample_weight : array-like of shape (n_rows,), default=None

    Returns
    -------
    score : float
    """
    return float(np.average(y_dist.log_prob(y_true), weights=sample_weight))


def _crps_term(difference, scale):
    """E|X - c| for X ~ N(c + difference, scale^2), elementwise."""
    z = difference / scale
    return 2.0 * scale * np.exp(-0.5 * z * z) / _SQRT_2PI + difference * (2.0 * ndtr(z) - 1.0)


def crps(y_true, y_dist):
    """Continuous ranked probability score of each observation (lower is better).

    Closed form for a Gaussian mixture (Grimit et al., 2006):
    ``CRPS = E|X - y| - E|X - X'| / 2`` with X, X' independent draws, both
    expectations being sums over components of the expected absolute value of
    a Gaussian. For several outputs, each output's marginal is scored.

    Parameters
    ----------
    y_true : array-like of shape (n_rows,) or (n_rows, n_outputs)
    y_dist : GaussianMixtureDistribution

    Returns
    -------
    crps : ndarray of shape (n_rows,) or (n_rows, n_outputs)
        In the units of y.
    """
    y = _points(y_dist, y_true)
    weights, means, scales = y_dist.weights, y_dist.means, y_dist.scales
    to_observation = np.einsum(
        "nk,nkd->nd", weights, _crps_term(means - y[:, None, :], scales)
    )
    between = _crps_term(
        means[:, :, None, :] - means[:, None, :, :],
        np.sqrt(scales[:, :, None, :] ** 2 + scales[:, None, :, :] ** 2),
    )
    spread = np.einsum("nk,nj,nkjd->nd", weights, weights, between)
    return y_dist._as_output(to_observation - 0.5 * spread)


def mean_crps(y_true, y_dist, sample_weight=None):
    """Mean ``crps`` over rows (and outputs); lower is better."""
    values = crps(y_true, y_dist)
    values = values.reshape(len(y_dist), -1).mean(axis=1)
    return float(np.average(values, weights=sample_weight))


def pit(y_true, y_dist):
    """Probability integral transform: the predicted CDF at each observation.

    For a calibrated model the values are uniform on [0, 1]; a histogram that
    is U-shaped means intervals that are too narrow, a hump means too wide.

    Returns
    -------
    pit : ndarray of shape (n_rows,) or (n_rows, n_outputs)
    """
    y = _points(y_dist, y_true)
    return y_dist.cdf(y[:, 0] if y_dist._univariate else y)


def interval_coverage(y_true, lower, upper, sample_weight=None):
    """Fraction of observations inside [lower, upper] (all outputs at once)."""
    y, lower, upper = (np.asarray(a, dtype=np.float64) for a in (y_true, lower, upper))
    inside = (y >= lower) & (y <= upper)
    inside = inside.reshape(inside.shape[0], -1).all(axis=1)
    return float(np.average(inside, weights=sample_weight))


def mean_interval_width(lower, upper, sample_weight=None):
    """Mean width of the intervals (averaged over outputs), in the units of y."""
    width = np.asarray(upper, dtype=np.float64) - np.asarray(lower, dtype=np.float64)
    width = width.reshape(width.shape[0], -1).mean(axis=1)
    return float(np.average(width, weights=sample_weight))


def _predict_dist(estimator, X):
    """``predict_dist`` of an MDNRegressor, also at the end of a Pipeline."""
    if hasattr(estimator, "predict_dist"):
        return estimator.predict_dist(X)
    steps = getattr(estimator, "steps", None)
    if steps and hasattr(steps[-1][1], "predict_dist"):
        return steps[-1][1].predict_dist(estimator[:-1].transform(X))
    raise TypeError(
        f"{type(estimator).__name__} has no predict_dist; these scorers need an "
        "MDNRegressor, or a Pipeline ending in one."
    )


def log_likelihood_scorer(estimator, X, y_true, sample_weight=None):
    """Scorer: mean log-likelihood (greater is better); what ``score`` returns."""
    return mean_log_likelihood(y_true, _predict_dist(estimator, X), sample_weight)


def neg_crps_scorer(estimator, X, y_true, sample_weight=None):
    """Scorer: minus the mean CRPS (greater is better)."""
    return -mean_crps(y_true, _predict_dist(estimator, X), sample_weight)


def neg_pit_ks_scorer(estimator, X, y_true, sample_weight=None):
    """Scorer: minus the Kolmogorov-Smirnov distance of the PIT values from
    uniform (0 for perfect calibration; greater is better). Unweighted."""
    values = pit(y_true, _predict_dist(estimator, X)).ravel()
    return -float(kstest(values, "uniform").statistic)


def make_coverage_error_scorer(coverage=0.9):
    """Scorer: minus |empirical - nominal| coverage of central ``coverage`` intervals.

    Parameters
    ----------
    coverage : float, default=0.9

    Returns
    -------
    scorer : callable ``(estimator, X, y_true, sample_weight=None) -> float``
    """

    def coverage_error_scorer(estimator, X, y_true, sample_weight=None):
        lower, upper = _predict_dist(estimator, X).interval(coverage)
        observed = interval_coverage(y_true, lower, upper, sample_weight)
        return -abs(observed - coverage)

    return coverage_error_scorer


def make_neg_interval_width_scorer(coverage=0.9):
    """Scorer: minus the mean width of central ``coverage`` intervals.

    Narrower is better only among calibrated models; use it beside
    ``make_coverage_error_scorer``.
    """

    def neg_interval_width_scorer(estimator, X, y_true, sample_weight=None):
        lower, upper = _predict_dist(estimator, X).interval(coverage)
        return -mean_interval_width(lower, upper, sample_weight)

    return neg_interval_width_scorer
