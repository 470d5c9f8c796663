"""Split-conformal prediction sets around a fitted mixture density network."""

import math
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .metrics import _predict_dist


class ConformalMDN(MetaEstimatorMixin, BaseEstimator):
    """Prediction sets with a finite-sample coverage guarantee (split conformal).

    A model's own highest-density region covers the requested share of new
    rows only if its density is right. Calibrated on rows it was not trained
    on, a conformal set covers at least ``coverage`` of new rows whatever the
    model's errors, for exchangeable data (Vovk et al., 2005; Lei et al.,
    2018). With ``method="hdr"`` the conformity score is the negative
    log-density -log p(y | x) (Lei, Robins and Wasserman, 2013): the set is
    ``{y : p(y | x) >= t}`` for one density threshold ``t`` shared by all
    rows, a union of intervals around the branches of a multimodal
    p(y | x). With ``method="cqr"`` it is conformalised quantile regression
    on the mixture's quantiles (Romano, Patterson and Candès, 2019): one
    interval per row, widened (or narrowed) by the same amount on each side.

    The guarantee is marginal: over calibration and test rows drawn alike,
    the probability that a new row's y lies in its set is at least
    ``coverage`` (and below ``coverage + 1 / (n_calibration + 1)`` when the
    scores have no ties). It is not a guarantee for each x (conditional
    coverage), which no method can give without assumptions; the HDR set
    follows the model's density, so where the model is right it is close.

    Parameters
    ----------
    estimator : estimator with ``predict_dist``, default=None
        An ``MDNRegressor`` or a pipeline ending in one; None means
        ``MDNRegressor()``. With ``prefit=False`` a clone is fitted.
    coverage : float in (0, 1), default=0.9
        The guaranteed share of rows whose y lies in its set.
    method : {"hdr", "cqr"}, default="hdr"
        The conformity score (see above). ``"cqr"`` needs one output;
        ``"hdr"``'s sets as intervals (``predict_set``) too, its membership
        test (``contains``) works for any number.
    calibration_fraction : float in (0, 1), default=0.25
        With ``prefit=False``, the share of the rows held out of training to
        calibrate on.
    prefit : bool, default=False
        If True, ``estimator`` is already fitted and ``fit(X, y)`` only
        calibrates on (X, y), which must be rows it was not trained on.
    random_state : int, RandomState instance or None, default=None
        Draws the calibration rows (``prefit=False``).

    Attributes
    ----------
    estimator_ : estimator
        The fitted model the sets come from.
    threshold_ : float
        The conformal quantile of the calibration scores (``inf`` when there
        are too few calibration rows for ``coverage``: then every set is
        everything).
    n_calibration_ : int
        Calibration rows.

    References
    ----------
    .. [1] Vovk, Gammerman and Shafer (2005). Algorithmic Learning in a Random
       World. Springer.
    .. [2] Lei, Robins and Wasserman (2013). Distribution-free prediction sets.
       Journal of the American Statistical Association, 108(501).
    .. [3] Lei, G'Sell, Rinaldo, Tibshirani and Wasserman (2018).
       Distribution-free predictive inference for regression. Journal of the
       American Statistical Association, 113(523).
    .. [4] Romano, Patterson and Candès (2019). Conformalized quantile
       regression. NeurIPS.

    Examples
    --------
    >>> from skmdn import ConformalMDN, MDNRegressor
    >>> from skmdn.datasets import make_spiral
    >>> X, y = make_spiral(600, random_state=0)
    >>> sets = ConformalMDN(MDNRegressor(max_iter=20), random_state=0).fit(X, y)
    >>> intervals = sets.predict_set(X[:2])   # (2, n_intervals, 2), NaN-padded
    >>> sets.contains(X[:2], y[:2]).dtype
    dtype('bool')
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "coverage": [Interval(Real, 0, 1, closed="neither")],
        "method": [StrOptions({"hdr", "cqr"})],
        "calibration_fraction": [Interval(Real, 0, 1, closed="neither")],
        "prefit": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self, estimator=None, *, coverage=0.9, method="hdr", calibration_fraction=0.25,
        prefit=False, random_state=None,
    ):
        self.estimator = estimator
        self.coverage = coverage
        self.method = method
        self.calibration_fraction = calibration_fraction
        self.prefit = prefit
        self.random_state = random_state

    # The inner estimator validates its own parameters when it is fitted.
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the model (unless ``prefit``) and calibrate the sets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            With ``prefit=True``, the calibration rows only.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self : ConformalMDN
        """
        y = np.asarray(y, dtype=np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinity.")
        if self.prefit:
            if self.estimator is None:
                raise ValueError("prefit=True needs a fitted estimator.")
            check_is_fitted(self.estimator)
            self.estimator_ = self.estimator
            X_calibration, y_calibration = X, y
        else:
            n_rows = len(y)
            n_calibration = int(round(self.calibration_fraction * n_rows))
            if n_calibration < 1 or n_rows - n_calibration < 2:
                raise ValueError(
                    f"calibration_fraction={self.calibration_fraction} of {n_rows} rows "
                    "leaves no calibration rows or fewer than 2 to train on."
                )
            rows = check_random_state(self.random_state).permutation(n_rows)
            train, calibration = rows[n_calibration:], rows[:n_calibration]
            if self.estimator is None:
                from ._estimator import MDNRegressor

                estimator = MDNRegressor()
            else:
                estimator = clone(self.estimator)
            self.estimator_ = estimator.fit(_safe_indexing(X, train), y[train])
            X_calibration, y_calibration = _safe_indexing(X, calibration), y[calibration]
        scores = self._scores(X_calibration, y_calibration)
        self.n_calibration_ = len(scores)
        # The ceil((n + 1) * coverage)-th smallest of n scores: with the new
        # row's score, exchangeable with them, it falls at or below that rank
        # with probability at least coverage. (The tolerance keeps 10 * 0.7,
        # 7.000000000000001 in floating point, at rank 7.)
        rank = math.ceil((self.n_calibration_ + 1) * self.coverage - 1e-9)
        self.threshold_ = (
            math.inf if rank > self.n_calibration_ else float(np.sort(scores)[rank - 1])
        )
        return self

    def _scores(self, X, y):
        dist = _predict_dist(self.estimator_, X)
        if len(y) != len(dist):
            raise ValueError(f"X has {len(dist)} rows but y has {len(y)}.")
        if self.method == "hdr":
            return -np.asarray(dist.log_prob(y), dtype=np.float64).reshape(len(y))
        lower, upper = self._quantiles(dist)
        return np.maximum(lower - y.reshape(-1), y.reshape(-1) - upper)

    def _quantiles(self, dist):
        if dist.n_outputs > 1:
            raise ValueError('method="cqr" needs one output; use method="hdr".')
        lower, upper = dist.interval(self.coverage)
        return lower.reshape(-1), upper.reshape(-1)

    def predict(self, X):
        """The model's prediction (for an ``MDNRegressor``, the conditional mode)."""
        check_is_fitted(self, "threshold_")
        return self.estimator_.predict(X)

    def predict_set(self, X):
        """Each row's prediction set, as intervals (one output).

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)

        Returns
        -------
        intervals : ndarray of shape (n_rows, n_intervals, 2)
            Lower and upper ends of each row's intervals in increasing order,
            padded with NaN. ``"cqr"`` gives one interval per row (NaN where
            the correction empties it); ``"hdr"`` the union of intervals
            where the density reaches the threshold (none where it never
            does). With ``threshold_ = inf``, every set is the real line.
        """
        check_is_fitted(self, "threshold_")
        dist = _predict_dist(self.estimator_, X)
        if self.method == "cqr":
            lower, upper = self._quantiles(dist)
            lower, upper = lower - self.threshold_, upper + self.threshold_
            empty = lower > upper
            return np.stack(
                [np.where(empty, np.nan, lower), np.where(empty, np.nan, upper)], axis=1
            )[:, None, :]
        if dist.n_outputs > 1:
            raise ValueError(
                "predict_set gives intervals for one output; for several, test "
                "membership with contains(X, y)."
            )
        if math.isinf(self.threshold_):
            return np.tile([[[-np.inf, np.inf]]], (len(dist), 1, 1))
        return dist.density_region(math.exp(-self.threshold_))

    def contains(self, X, y):
        """Whether each row's y lies in its prediction set.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
        y : array-like of shape (n_rows,) or (n_rows, n_outputs)

        Returns
        -------
        inside : ndarray of bool, shape (n_rows,)
        """
        check_is_fitted(self, "threshold_")
        return self._scores(X, np.asarray(y, dtype=np.float64)) <= self.threshold_

    def set_length(self, X):
        """Total length of each row's set (one output): the sum of its
        intervals' lengths.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)

        Returns
        -------
        length : ndarray of shape (n_rows,)
        """
        intervals = self.predict_set(X)
        return np.nansum(intervals[:, :, 1] - intervals[:, :, 0], axis=1)
