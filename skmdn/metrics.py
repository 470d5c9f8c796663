"""Proper scores and calibration measures for predicted distributions.

The functions take a ``skmdn.GaussianMixtureDistribution`` (as returned
by ``MDNRegressor.predict_dist``) and the observed y. The ``*_scorer``
objects plug into ``GridSearchCV(scoring=...)``, ``cross_validate`` and
``cross_val_score``; they follow scikit-learn's convention that greater is
better, so losses are negated (``neg_``).

The scorers accept any fitted estimator that ends in an ``MDNRegressor``:
the regressor itself, a ``Pipeline`` (its other steps transform X), a
``GridSearchCV`` or ``RandomizedSearchCV`` fitted with ``refit`` (its
``best_estimator_``) and a ``TransformedTargetRegressor`` whose target
transformer is affine per output (the mixture is mapped to the units of y
exactly), nested in any order.

They are scikit-learn scorer objects, called as ``scorer(estimator, X, y,
sample_weight=None)``, and they all honour ``sample_weight``. With metadata
routing enabled (``sklearn.set_config(enable_metadata_routing=True)``),
``cross_validate(..., params={"sample_weight": w})`` passes the weights to a
scorer that requests them: ``scorer.set_score_request(sample_weight=True)``.
The request is stored on the scorer object, so make it on a copy
(``copy.deepcopy(metrics.neg_crps_scorer)``) to leave the module's scorers
as they are. Several of these scorers in one ``scoring={...}`` dict share one
``predict_dist`` per evaluation, through scikit-learn's multi-metric cache.
"""

from functools import partial

import numpy as np

# Private, but the base of scikit-learn's own scorers: subclassing it gives
# set_score_request (metadata routing), and _MultimetricScorer passes its
# per-evaluation cache only to _BaseScorer instances.
from sklearn.metrics._scorer import _BaseScorer, _cached_call

from ._mixture import _check_coverage

__all__ = [
    "crps",
    "interval_coverage",
    "log_likelihood_scorer",
    "make_coverage_error_scorer",
    "make_neg_interval_width_scorer",
    "mean_crps",
    "mean_energy_score",
    "mean_interval_score",
    "mean_interval_width",
    "mean_log_likelihood",
    "mean_pinball_loss",
    "neg_crps_scorer",
    "neg_pit_ks_scorer",
    "pit",
]

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


def crps(y_true, y_dist):
    """Continuous ranked probability score of each observation (lower is better).

    ``y_dist.crps(y_true)``: closed form for a Gaussian mixture (Grimit et
    al., 2006); for several outputs, each output's marginal is scored. See
    ``GaussianMixtureDistribution.crps``.

    Parameters
    ----------
    y_true : array-like of shape (n_rows,) or (n_rows, n_outputs)
    y_dist : GaussianMixtureDistribution

    Returns
    -------
    crps : ndarray of shape (n_rows,) or (n_rows, n_outputs)
        In the units of y.
    """
    return y_dist.crps(y_true)


def mean_crps(y_true, y_dist, sample_weight=None):
    """Mean ``crps`` over rows (and outputs); lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_rows,) or (n_rows, n_outputs)
    y_dist : GaussianMixtureDistribution
    sample_weight : array-like of shape (n_rows,), default=None
        Weights of the rows; the outputs of a row are averaged first.

    Returns
    -------
    score : float
        In the units of y.
    """
    values = crps(y_true, y_dist)
    values = values.reshape(len(y_dist), -1).mean(axis=1)
    return float(np.average(values, weights=sample_weight))


def mean_energy_score(y_true, y_dist, sample_weight=None, n_samples=1000, random_state=None):
    """Mean energy score over rows (all outputs jointly); lower is better.

    See ``GaussianMixtureDistribution.energy_score``: a Monte Carlo estimate
    from ``n_samples`` draws per row; for one output it estimates the CRPS.

    Parameters
    ----------
    y_true : array-like of shape (n_rows,) or (n_rows, n_outputs)
    y_dist : GaussianMixtureDistribution
    sample_weight : array-like of shape (n_rows,), default=None
    n_samples : int, default=1000
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    score : float
        In the units of y.
    """
    values = y_dist.energy_score(y_true, n_samples=n_samples, random_state=random_state)
    return float(np.average(values, weights=sample_weight))


def mean_pinball_loss(y_true, y_dist, quantile=0.5, sample_weight=None):
    """Mean pinball (quantile) loss of the distribution's ``quantile``-quantile.

    ``(1{y < q} - quantile) (q - y)``, averaged over outputs and rows: the
    loss that a quantile regressor minimises, so it compares skmdn's
    quantiles with those of quantile regressors. Lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_rows,) or (n_rows, n_outputs)
    y_dist : GaussianMixtureDistribution
    quantile : float in (0, 1), default=0.5
    sample_weight : array-like of shape (n_rows,), default=None

    Returns
    -------
    loss : float
        In the units of y.
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1); got {quantile!r}.")
    predicted = np.asarray(y_dist.ppf([quantile]), dtype=np.float64)[:, 0]
    y = np.asarray(y_true, dtype=np.float64).reshape(predicted.shape)
    loss = (np.where(y < predicted, 1.0, 0.0) - quantile) * (predicted - y)
    loss = loss.reshape(loss.shape[0], -1).mean(axis=1)
    return float(np.average(loss, weights=sample_weight))


def mean_interval_score(y_true, lower, upper, coverage, sample_weight=None):
    """Mean interval score of central intervals meant to hold ``coverage``.

    ``(u - l) + (2 / a) (l - y) 1{y < l} + (2 / a) (y - u) 1{y > u}`` with
    ``a = 1 - coverage`` (Gneiting and Raftery, 2007): the width, plus a
    penalty for every miss that grows with its distance; proper for the
    ``a / 2`` and ``1 - a / 2`` quantiles. Averaged over outputs and rows;
    lower is better.

    Parameters
    ----------
    y_true, lower, upper : array-like of shape (n_rows,) or (n_rows, n_outputs)
    coverage : float in (0, 1)
    sample_weight : array-like of shape (n_rows,), default=None

    Returns
    -------
    score : float
        In the units of y.
    """
    _check_coverage(coverage)
    y, lower, upper = (np.asarray(a, dtype=np.float64) for a in (y_true, lower, upper))
    miss = 2.0 / (1.0 - coverage)
    score = (
        (upper - lower)
        + miss * np.maximum(lower - y, 0.0)
        + miss * np.maximum(y - upper, 0.0)
    )
    score = score.reshape(score.shape[0], -1).mean(axis=1)
    return float(np.average(score, weights=sample_weight))


def pit(y_true, y_dist):
    """Probability integral transform: the predicted CDF at each observation.

    For a calibrated model the values are uniform on [0, 1]; a histogram that
    is U-shaped means intervals that are too narrow, a hump means too wide.

    Parameters
    ----------
    y_true : array-like of shape (n_rows,) or (n_rows, n_outputs)
    y_dist : GaussianMixtureDistribution

    Returns
    -------
    pit : ndarray of shape (n_rows,) or (n_rows, n_outputs)
    """
    return y_dist.pit(y_true)


def interval_coverage(y_true, lower, upper, sample_weight=None):
    """Fraction of observations inside [lower, upper] (all outputs at once).

    Parameters
    ----------
    y_true, lower, upper : array-like of shape (n_rows,) or (n_rows, n_outputs)
        Ends are inclusive; a row counts only if every output is inside.
    sample_weight : array-like of shape (n_rows,), default=None

    Returns
    -------
    coverage : float
    """
    y, lower, upper = (np.asarray(a, dtype=np.float64) for a in (y_true, lower, upper))
    inside = (y >= lower) & (y <= upper)
    inside = inside.reshape(inside.shape[0], -1).all(axis=1)
    return float(np.average(inside, weights=sample_weight))


def mean_interval_width(lower, upper, sample_weight=None):
    """Mean width of the intervals (averaged over outputs), in the units of y.

    Parameters
    ----------
    lower, upper : array-like of shape (n_rows,) or (n_rows, n_outputs)
    sample_weight : array-like of shape (n_rows,), default=None

    Returns
    -------
    width : float
    """
    width = np.asarray(upper, dtype=np.float64) - np.asarray(lower, dtype=np.float64)
    width = width.reshape(width.shape[0], -1).mean(axis=1)
    return float(np.average(width, weights=sample_weight))


def _ks_distance_from_uniform(values, sample_weight=None):
    """Kolmogorov-Smirnov distance of (weighted) values from the uniform law on [0, 1].

    ``sup_t |F_w(t) - t|`` with ``F_w`` the weighted empirical CDF (the
    fraction of the total weight at or below t). For unit weights this is
    scipy's ``kstest(values, "uniform").statistic``; for integer weights it
    equals the unweighted distance of the values repeated that many times.

    Parameters
    ----------
    values : array-like of shape (n,)
        In [0, 1].
    sample_weight : array-like of shape (n,), default=None
        Non-negative, with a positive sum; None weighs every value equally.

    Returns
    -------
    distance : float
    """
    values = np.asarray(values, dtype=np.float64)
    if sample_weight is None:
        weights = np.ones_like(values)
    else:
        weights = _check_weights(sample_weight, values.shape[0])
    order = np.argsort(values, kind="stable")
    values = values[order]
    at_or_below = np.cumsum(weights[order]) / np.sum(weights)
    # F_w jumps at each value: the sup is approached just before a jump
    # (t - F_w) or reached at it (F_w - t). Tied values take the first and
    # last of their cumulative weights in these two maxima, as they should.
    below = np.concatenate([[0.0], at_or_below[:-1]])
    return float(max(np.max(at_or_below - values), np.max(values - below)))


def _check_weights(sample_weight, n_rows):
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != (n_rows,):
        raise ValueError(
            f"sample_weight must have shape ({n_rows},), one weight per row; "
            f"got shape {weights.shape}."
        )
    if not (np.all(np.isfinite(weights)) and np.all(weights >= 0) and np.sum(weights) > 0):
        raise ValueError("sample_weight must be finite and non-negative, with a positive sum.")
    return weights


# -- scorers ----------------------------------------------------------------------


def _describe(estimator):
    return repr(estimator) if isinstance(estimator, str) else type(estimator).__name__


def _predict_dist(estimator, X, _within=""):
    """The predicted distribution of y from a fitted estimator ending in an MDNRegressor.

    Anything with a ``predict_dist`` is asked directly. A ``Pipeline``
    transforms X with all but its last step; a ``GridSearchCV`` or
    ``RandomizedSearchCV`` (any ``BaseSearchCV``) hands over to its
    ``best_estimator_``; a ``TransformedTargetRegressor`` maps its
    regressor's distribution through an affine target transformer. These
    nest in any order.

    Parameters
    ----------
    estimator : fitted estimator
    X : array-like of shape (n_samples, n_features)
    _within : str
        Where ``estimator`` sits in the outer estimators, for error messages.

    Returns
    -------
    dist : GaussianMixtureDistribution

    Raises
    ------
    TypeError
        For an estimator that is none of the above.
    ValueError
        For a search fitted with ``refit=False`` (no ``best_estimator_``), or
        a ``TransformedTargetRegressor`` whose transformer is not known to be
        affine.
    """
    if hasattr(estimator, "predict_dist"):
        return estimator.predict_dist(X)
    # Imported here: only meta-estimators need them.
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.model_selection._search import BaseSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    name = _describe(estimator)
    where = f" ({_within})" if _within else ""

    def inside(role):
        return f"{role} of a {name}" + (f", {_within}" if _within else "")

    if isinstance(estimator, Pipeline):
        for _, step in estimator.steps[:-1]:
            if step is not None and not (isinstance(step, str) and step == "passthrough"):
                X = step.transform(X)
        return _predict_dist(estimator.steps[-1][1], X, inside("the last step"))
    if isinstance(estimator, BaseSearchCV):
        if estimator.refit is False:
            raise ValueError(
                f"{name}{where} was fitted with refit=False: it keeps no "
                "best_estimator_ to predict with, so these scorers cannot score "
                "it. Use refit=True (or, with several scorers, refit='<name of "
                "the one to select by>')."
            )
        check_is_fitted(estimator, "best_estimator_")
        return _predict_dist(estimator.best_estimator_, X, inside("the best_estimator_"))
    if isinstance(estimator, TransformedTargetRegressor):
        check_is_fitted(estimator, "regressor_")
        factor = _affine_factor(estimator.transformer_)
        if factor is None:
            transformer = " ".join(repr(estimator.transformer_).split())
            raise ValueError(
                f"{name}{where} maps y through {transformer}, which is "
                "not known to be affine per output. A Gaussian mixture pushed "
                "through a nonlinear map is not a Gaussian mixture, so the "
                "distribution of y cannot be given as one. These scorers map "
                "exactly: StandardScaler, MinMaxScaler, MaxAbsScaler, "
                "RobustScaler, or func=None and inverse_func=None; otherwise "
                "score the inner regressor_ on transformer_.transform(y)."
            )
        dist = _predict_dist(estimator.regressor_, X, inside("the regressor_"))
        return _inverse_target_transform(estimator, dist, factor)
    raise TypeError(
        f"{name}{where} has no predict_dist; these scorers need a fitted "
        "MDNRegressor, alone or inside Pipeline, GridSearchCV / "
        "RandomizedSearchCV (with refit) or TransformedTargetRegressor, "
        "nested in any order."
    )


def _affine_factor(transformer):
    """Slope per output of ``transformer.inverse_transform`` where it is affine, else None.

    Exact types only: a subclass may override ``inverse_transform``.
    """
    from sklearn.preprocessing import (
        FunctionTransformer,
        MaxAbsScaler,
        MinMaxScaler,
        RobustScaler,
        StandardScaler,
    )

    kind = type(transformer)
    if kind is FunctionTransformer:
        # TransformedTargetRegressor's own transformer when func is None:
        # the identity.
        identity = transformer.func is None and transformer.inverse_func is None
        return 1.0 if identity else None
    if kind in (StandardScaler, RobustScaler):
        # scale_ is None when with_std / with_scaling is off.
        return 1.0 if transformer.scale_ is None else transformer.scale_
    if kind is MaxAbsScaler:
        return transformer.scale_
    if kind is MinMaxScaler:
        return 1.0 / transformer.scale_
    return None


def _inverse_target_transform(estimator, dist, factor):
    """``dist`` (in the regressor's units) mapped to the units of y.

    An affine map per output takes N(mu, sigma^2) to
    N(inverse_transform(mu), (|factor| sigma)^2), component by component.
    """
    n_rows, n_components, n_outputs = dist.means.shape
    means = estimator.transformer_.inverse_transform(
        dist.means.reshape(n_rows * n_components, n_outputs)
    ).reshape(dist.means.shape)
    scales = dist.scales * np.abs(factor)
    # A 1-D y gives a 1-D distribution. (scikit-learn 1.6 fits the regressor
    # on 1-D y also for y of shape (n, 1); predict, and so this, keep the
    # output axis then.)
    if dist.event_shape == () and getattr(estimator, "_training_dim", 1) == 1:
        means, scales = means[..., 0], scales[..., 0]
    return type(dist)(dist.weights, means, scales)


# Where _MultimetricScorer's cache keeps the distribution: not a method name,
# so it never meets the responses cached for scikit-learn's own scorers.
_CACHE_KEY = ("skmdn", "predict_dist")


def _evaluation_cache(method_caller):
    """The dict in which _MultimetricScorer caches responses for one evaluation.

    That is one estimator and one X: ``method_caller`` is
    ``partial(_cached_call, cache)`` there, with ``cache`` None when no two
    scorers share a response (and for a direct call). None when not found.
    """
    if isinstance(method_caller, partial) and method_caller.func is _cached_call:
        cache = method_caller.args[0] if method_caller.args else None
        if isinstance(cache, dict):
            return cache
    return None


class _DistributionScorer(_BaseScorer):
    """A scikit-learn scorer of the predicted distribution:
    ``sign * score_func(y_true, dist, sample_weight=...)`` with ``dist`` from
    ``_predict_dist(estimator, X)``."""

    def __init__(self, score_func, sign, name):
        # Only _MultimetricScorer._use_cache reads the response method: it
        # resolves it on the estimator to count the scorers that share a
        # prediction, and a meta-estimator has predict but no predict_dist.
        super().__init__(score_func, sign, {}, response_method=("predict_dist", "predict"))
        self._name = name

    def __repr__(self):
        return self._name

    def __call__(self, estimator, X, y_true, sample_weight=None):
        """Score ``estimator`` on X against ``y_true`` (greater is better).

        Parameters
        ----------
        estimator : fitted estimator ending in an MDNRegressor
        X : array-like of shape (n_samples, n_features)
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        return self._score(None, estimator, X, y_true, **kwargs)

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        # The scorers of one scoring={...} dict share one predict_dist per
        # evaluation through the cache. Asking method_caller for a response
        # would not do: scikit-learn 1.6 accepts only 'predict' from a
        # regressor, and that key holds the point predictions of its scorers.
        cache = _evaluation_cache(method_caller)
        if cache is not None and _CACHE_KEY in cache:
            dist = cache[_CACHE_KEY]
        else:
            dist = _predict_dist(estimator, X)
            if cache is not None:
                cache[_CACHE_KEY] = dist
        return self._sign * self._score_func(y_true, dist, **kwargs)


# The scoring functions take (y_true, y_pred, sample_weight): scikit-learn's
# metadata routing reads sample_weight from that signature and skips y_pred.


def _log_likelihood(y_true, y_pred, sample_weight=None):
    return mean_log_likelihood(y_true, y_pred, sample_weight)


def _crps(y_true, y_pred, sample_weight=None):
    return mean_crps(y_true, y_pred, sample_weight)


def _pit_ks(y_true, y_pred, sample_weight=None):
    values = pit(y_true, y_pred).reshape(len(y_pred), -1)
    if sample_weight is not None:
        # The outputs of a row are pooled: each carries the row's weight.
        sample_weight = np.repeat(_check_weights(sample_weight, len(y_pred)), values.shape[1])
    return _ks_distance_from_uniform(values.ravel(), sample_weight)


class _CoverageError:
    """|empirical - nominal| coverage of central ``coverage`` intervals."""

    def __init__(self, coverage):
        self.coverage = coverage

    def __call__(self, y_true, y_pred, sample_weight=None):
        lower, upper = y_pred.interval(self.coverage)
        return abs(interval_coverage(y_true, lower, upper, sample_weight) - self.coverage)


class _IntervalWidth:
    """Mean width of central ``coverage`` intervals."""

    def __init__(self, coverage):
        self.coverage = coverage

    def __call__(self, y_true, y_pred, sample_weight=None):
        lower, upper = y_pred.interval(self.coverage)
        return mean_interval_width(lower, upper, sample_weight)


log_likelihood_scorer = _DistributionScorer(_log_likelihood, 1, "log_likelihood_scorer")
"""Scorer: mean log-likelihood (greater is better); what ``score`` returns."""

neg_crps_scorer = _DistributionScorer(_crps, -1, "neg_crps_scorer")
"""Scorer: minus the mean CRPS (greater is better)."""

neg_pit_ks_scorer = _DistributionScorer(_pit_ks, -1, "neg_pit_ks_scorer")
"""Scorer: minus the Kolmogorov-Smirnov distance of the PIT values from
uniform (0 for perfect calibration; greater is better). With several outputs
the values of all outputs are pooled. Weighted: the distance of the weighted
empirical CDF of the PIT values from the identity."""


def make_coverage_error_scorer(coverage=0.9):
    """Scorer: minus |empirical - nominal| coverage of central ``coverage`` intervals.

    Parameters
    ----------
    coverage : float, default=0.9
        In (0, 1).

    Returns
    -------
    scorer : scikit-learn scorer
        Called as ``scorer(estimator, X, y_true, sample_weight=None) -> float``.
    """
    _check_coverage(coverage)
    return _DistributionScorer(
        _CoverageError(coverage), -1, f"make_coverage_error_scorer({coverage!r})"
    )


def make_neg_interval_width_scorer(coverage=0.9):
    """Scorer: minus the mean width of central ``coverage`` intervals.

    Narrower is better only among calibrated models; use it beside
    ``make_coverage_error_scorer``.

    Parameters
    ----------
    coverage : float, default=0.9
        In (0, 1).

    Returns
    -------
    scorer : scikit-learn scorer
        Called as ``scorer(estimator, X, y_true, sample_weight=None) -> float``.
    """
    _check_coverage(coverage)
    return _DistributionScorer(
        _IntervalWidth(coverage), -1, f"make_neg_interval_width_scorer({coverage!r})"
    )
