"""Per-row mixtures of diagonal Gaussians: numpy, float64, original units of y.

Every number skmdn reports about a predicted distribution (densities, CDF,
quantiles, intervals, moments, modes, samples) is computed here, once, and
vectorised over rows.
"""

import concurrent.futures
import math
import os

import numpy as np
from scipy.special import logsumexp, ndtr, ndtri, softmax
from sklearn.utils import check_random_state

LOG_2PI = math.log(2.0 * math.pi)

# Upper bound on the elements of one block's temporaries (rows x points x K x d):
# keeps memory at a few tens of megabytes whatever the number of rows.
_BLOCK_ELEMENTS = 2**21
# Quantiles and density-level crossings are solved until a step is below this
# fraction of the row's smallest component scale.
_ROOT_TOLERANCE = 1e-12
_ROOT_MAX_ITER = 200
# Highest-density regions: each component contributes this many grid points
# between -_HDR_SPAN and +_HDR_SPAN of its standard deviations, so every
# component, however narrow, is resolved at its own scale (a point every half
# standard deviation, its mean included).
_HDR_POINTS_PER_COMPONENT = 33
_HDR_SPAN = 8.0
_SQRT_2PI = math.sqrt(2.0 * math.pi)
# The CRPS pairs every two components of a row: its (rows, K, K, d)
# temporaries, summed over the blocks that run at once (one per core), hold at
# most this many elements each (4 MB of float64). The formula keeps about
# six alive at its peak: some 25 MB, whatever the number of rows.
_CRPS_BLOCK_ELEMENTS = 2**19


class GaussianMixtureDistribution:
    """Predicted conditional distributions p(y | x), one Gaussian mixture per row.

    Component ``k`` of row ``i`` has weight ``weights[i, k]``, mean
    ``means[i, k]`` and either per-output standard deviations
    ``scales[i, k]`` (diagonal covariance) or a Cholesky factor
    ``scale_tril[i, k]`` of its covariance matrix (full covariance). All
    quantities are float64 in the original units of y. Returned by
    ``MDNRegressor.predict_dist``; also usable on its own.

    Parameters
    ----------
    weights : array-like of shape (n_rows, n_components)
        Mixing weights; each row is non-negative and sums to one.
    means : array-like of shape (n_rows, n_components) or \
            (n_rows, n_components, n_outputs)
        Component means. The 2-D form describes a 1-D target: then points and
        results carry no output axis, as for an estimator fitted on 1-D y.
    scales : array-like, same shape as ``means``, default=None
        Component standard deviations, positive (diagonal covariance).
    scale_tril : array-like of shape (n_rows, n_components, n_outputs, \
            n_outputs), default=None
        Lower-triangular factors L with positive diagonals, each component's
        covariance being L L^T (full covariance). Give ``scales`` or
        ``scale_tril``, not both.

    Attributes
    ----------
    weights : ndarray of shape (n_rows, n_components)
    means : ndarray of shape (n_rows, n_components, n_outputs)
    scales : ndarray of shape (n_rows, n_components, n_outputs)
        With ``scale_tril``: each output's marginal standard deviation, the
        square root of the covariance's diagonal.
    scale_tril : ndarray of shape (n_rows, n_components, n_outputs, \
            n_outputs) or None
        None for diagonal components.

    Notes
    -----
    Points ``y`` passed to ``log_prob``, ``pdf`` and ``cdf`` are
    read as follows (1-D target; for ``n_outputs > 1`` add a trailing output
    axis):

    - shape ``(n_rows,)``: one point per row; the result has shape ``(n_rows,)``;
    - shape ``(m,)`` with ``m != n_rows``, or ``(1, m)``: a grid shared by all
      rows; the result has shape ``(n_rows, m)``;
    - shape ``(n_rows, m)``: a grid per row; the result has shape
      ``(n_rows, m)``.

    To evaluate a shared grid whose length happens to equal ``n_rows``, pass
    it as ``grid[None, :]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn import GaussianMixtureDistribution
    >>> dist = GaussianMixtureDistribution(
    ...     weights=[[0.3, 0.7]], means=[[-1.0, 1.0]], scales=[[0.2, 0.2]])
    >>> dist
    GaussianMixtureDistribution(n_rows=1, n_components=2, n_outputs=1)
    >>> dist.mean()
    array([0.4])
    >>> dist.mode().round(6)
    array([1.])
    >>> dist.modes()[0].round(6)
    array([[ 1., -1.]])
    >>> dist.pdf(np.linspace(-2, 2, 5)).shape
    (1, 5)
    """

    def __init__(self, weights, means, scales=None, scale_tril=None):
        weights = np.asarray(weights, dtype=np.float64)
        means = np.asarray(means, dtype=np.float64)
        if (scales is None) == (scale_tril is None):
            raise ValueError("Give either scales (diagonal) or scale_tril (full covariance).")
        self._univariate = means.ndim == 2
        if self._univariate:
            means = means[..., None]
        self.scale_tril = None
        if scale_tril is not None:
            scale_tril = self._checked_tril(scale_tril, means.shape)
            self.scale_tril = scale_tril
            # Each output's marginal standard deviation: the marginal methods
            # (cdf, ppf, crps, var) need nothing else.
            scales = np.sqrt(np.sum(scale_tril**2, axis=3))
        else:
            scales = np.asarray(scales, dtype=np.float64)
            if self._univariate:
                scales = scales[..., None]
        if weights.ndim != 2 or means.ndim != 3:
            raise ValueError(
                "weights must have shape (n_rows, n_components) and means "
                "(n_rows, n_components[, n_outputs]); got shapes "
                f"{weights.shape} and {means.shape}."
            )
        if means.shape[:2] != weights.shape or scales.shape != means.shape:
            raise ValueError(
                f"Inconsistent shapes: weights {weights.shape}, means "
                f"{means.shape}, scales {scales.shape}."
            )
        if not (np.all(np.isfinite(means)) and np.all(np.isfinite(scales))):
            raise ValueError("means and scales must be finite.")
        if np.any(scales <= 0):
            raise ValueError("scales must be positive.")
        if np.any(weights < 0) or not np.allclose(weights.sum(axis=1), 1.0, atol=1e-6):
            raise ValueError("Each row of weights must be non-negative and sum to one.")
        # Accepted to 1e-6; renormalised so that the CDF reaches exactly one.
        self.weights = weights / weights.sum(axis=1, keepdims=True)
        self.means = means
        self.scales = scales

    @staticmethod
    def _checked_tril(scale_tril, means_shape):
        """``scale_tril`` as float64 of shape (n, K, d, d): lower triangular
        Cholesky factors with a positive diagonal."""
        scale_tril = np.asarray(scale_tril, dtype=np.float64)
        expected = (*means_shape, means_shape[-1])
        if scale_tril.shape != expected:
            raise ValueError(
                f"scale_tril must have shape (n_rows, n_components, n_outputs, "
                f"n_outputs) = {expected}; got {scale_tril.shape}."
            )
        if not np.all(np.isfinite(scale_tril)):
            raise ValueError("scale_tril must be finite.")
        if np.any(np.triu(scale_tril, k=1) != 0):
            raise ValueError("scale_tril must be lower triangular (zeros above the diagonal).")
        if np.any(np.diagonal(scale_tril, axis1=2, axis2=3) <= 0):
            raise ValueError("scale_tril must have a positive diagonal.")
        return scale_tril

    @property
    def covariance_type(self):
        """``"full"`` when the components have full covariance matrices
        (``scale_tril``), ``"diag"`` when they have one scale per output."""
        return "diag" if self.scale_tril is None else "full"

    @property
    def n_components(self):
        return self.weights.shape[1]

    @property
    def n_outputs(self):
        return self.means.shape[2]

    @property
    def event_shape(self):
        """The shape of one value of y: ``()`` for a 1-D target, else ``(n_outputs,)``."""
        return () if self._univariate else (self.n_outputs,)

    def __len__(self):
        return self.weights.shape[0]

    def __getitem__(self, rows):
        """Rows ``rows`` (an int, slice, index array or mask) as a new distribution."""
        if isinstance(rows, (int, np.integer)):
            rows = [rows]
        means = self.means[rows]
        means = means[..., 0] if self._univariate else means
        if self.scale_tril is not None:
            return type(self)(self.weights[rows], means, scale_tril=self.scale_tril[rows])
        scales = self.scales[rows]
        return type(self)(self.weights[rows], means, scales[..., 0] if self._univariate else scales)

    def __repr__(self):
        return (
            f"{type(self).__name__}(n_rows={len(self)}, "
            f"n_components={self.n_components}, n_outputs={self.n_outputs})"
        )

    # -- shape handling -----------------------------------------------------------

    def _as_points(self, y):
        """Read ``y`` (see the class Notes) as points of shape (n_rows | 1, m, d).

        Returns the points and whether the caller asked for one point per row.
        """
        y = np.asarray(y, dtype=np.float64)
        n_rows, n_outputs = len(self), self.n_outputs
        if self._univariate:
            y = y[..., None]
        if y.ndim == 1:
            y = y[None, :]
        if y.ndim < 2 or y.shape[-1] != n_outputs or y.ndim > 3:
            raise ValueError(
                f"y has shape {np.shape(y)}, which does not fit {n_rows} rows of a "
                f"{n_outputs}-output distribution; see GaussianMixtureDistribution's Notes."
            )
        if y.ndim == 2:
            per_row = y.shape[0] == n_rows
            return (y[:, None, :] if per_row else y[None, :, :]), per_row
        if y.shape[0] not in (1, n_rows):
            raise ValueError(
                f"A grid of points must have shape (1 or {n_rows}, m, {n_outputs}); "
                f"got {y.shape}."
            )
        return y, False

    def _as_output(self, values):
        """Drop the output axis of (..., d) results for a 1-D target."""
        return values[..., 0] if self._univariate else values

    def _observations(self, y):
        """``y`` read as one point per row: shape (n_rows, d)."""
        points, per_row = self._as_points(y)
        if not per_row:
            raise ValueError(
                f"y must hold one value per row of the distribution ({len(self)} rows); "
                f"got shape {np.shape(y)}."
            )
        return points[:, 0, :]

    def _standardised(self, points, rows):
        """(y - mu_k) / sigma_k for points (n | 1, m, d) and ``rows``: (rows, m, K, d)."""
        block_points = points[rows] if points.shape[0] > 1 else points
        return (block_points[:, :, None, :] - self.means[rows, None]) / self.scales[rows, None]

    def _blocks(self, points_per_row):
        """Row slices whose (rows x points x K x d) temporaries stay small."""
        per_row = max(1, points_per_row * self.n_components * self.n_outputs)
        block = max(1, _BLOCK_ELEMENTS // per_row)
        # One (empty) block for zero rows, so results keep their shapes.
        return [slice(start, start + block) for start in range(0, max(len(self), 1), block)]

    # -- densities ----------------------------------------------------------------

    def _log_normalisers(self):
        """log(w_k) - log|det L_k| - d/2 log(2 pi), shape (n, K); L_k is
        diag(sigma_k) for diagonal components."""
        with np.errstate(divide="ignore"):
            log_weights = np.log(self.weights)
        factors = (
            self.scales if self.scale_tril is None
            else np.diagonal(self.scale_tril, axis1=2, axis2=3)
        )
        return (
            log_weights
            - np.sum(np.log(factors), axis=2)
            - 0.5 * self.n_outputs * LOG_2PI
        )

    def _whitened(self, points, rows):
        """L_k^-1 (y - mu_k) for points (n | 1, m, d) and ``rows``: (rows, m, K, d);
        for diagonal components, ``_standardised``."""
        if self.scale_tril is None:
            return self._standardised(points, rows)
        block_points = points[rows] if points.shape[0] > 1 else points
        difference = block_points[:, :, None, :] - self.means[rows, None]
        inverse = np.linalg.inv(self.scale_tril[rows])
        return np.einsum("nkij,nmkj->nmki", inverse, difference)

    def log_prob(self, y):
        """Log density of ``y`` under each row's mixture.

        Parameters
        ----------
        y : array-like
            One point per row, or a grid; see the class Notes.

        Returns
        -------
        log_prob : ndarray of shape (n_rows,) or (n_rows, m)
        """
        points, per_row = self._as_points(y)
        log_normalisers = self._log_normalisers()

        def block_log_prob(rows):
            z = self._whitened(points, rows)
            return logsumexp(log_normalisers[rows, None] - 0.5 * np.sum(z * z, axis=3), axis=2)

        result = np.concatenate(_map_blocks(block_log_prob, self._blocks(points.shape[1])))
        return result[:, 0] if per_row else result

    def pdf(self, y):
        """Density of ``y`` under each row's mixture; see ``log_prob``."""
        return np.exp(self.log_prob(y))

    def cdf(self, y):
        """Cumulative distribution function of each output's marginal.

        Parameters
        ----------
        y : array-like
            One point per row, or a grid; see the class Notes.

        Returns
        -------
        cdf : ndarray of shape (n_rows,) or (n_rows, m) for a 1-D target, with a
            trailing axis of length n_outputs otherwise (one marginal CDF per
            output).
        """
        points, per_row = self._as_points(y)

        def block_cdf(rows):
            return np.einsum("nk,nmkd->nmd", self.weights[rows], ndtr(self._standardised(points, rows)))

        result = np.concatenate(_map_blocks(block_cdf, self._blocks(points.shape[1])))
        return self._as_output(result[:, 0] if per_row else result)

    # -- scores -------------------------------------------------------------------

    def crps(self, y):
        """Continuous ranked probability score of one observation per row.

        Closed form for a Gaussian mixture (Grimit et al., 2006):
        ``CRPS = E|X - y| - E|X - X'| / 2`` with X, X' independent draws, both
        expectations being sums over components of the expected absolute value
        of a Gaussian. For several outputs, each output's marginal is scored.
        Computed in blocks of rows, so that memory stays bounded (a few tens of
        megabytes) whatever the number of rows. Lower is better.

        Parameters
        ----------
        y : array-like of shape (n_rows,) or (n_rows, n_outputs)

        Returns
        -------
        crps : ndarray of shape (n_rows,) or (n_rows, n_outputs)
            In the units of y.

        References
        ----------
        Grimit, E. P., Gneiting, T., Berrocal, V. J. and Johnson, N. A. (2006).
        The continuous ranked probability score for circular variables and its
        application to mesoscale forecast ensemble verification. Quarterly
        Journal of the Royal Meteorological Society, 132(621C).
        """
        y = self._observations(y)

        def block_crps(rows):
            w, m, s = self.weights[rows], self.means[rows], self.scales[rows]
            to_observation = np.einsum("nk,nkd->nd", w, _crps_term(m - y[rows, None, :], s))
            return to_observation - 0.5 * _spread(w, m, s)

        return self._as_output(np.concatenate(_map_blocks(block_crps, self._crps_blocks())))

    def _mean_absolute_difference(self):
        """E|X - X'| per row and output, X and X' independent draws (the
        CRPS's second term), of shape (n_rows, n_outputs)."""
        return np.concatenate(
            _map_blocks(
                lambda rows: _spread(self.weights[rows], self.means[rows], self.scales[rows]),
                self._crps_blocks(),
            )
        )

    def _crps_blocks(self):
        """Row blocks for the CRPS's pairs of components, whose memory stays
        a few tens of megabytes; one (empty) block for zero rows, so that
        results keep their shape."""
        n_rows, n_components, n_outputs = self.means.shape
        # _map_blocks runs one block per core at once: the budget is shared.
        per_row = n_components * n_components * n_outputs * (os.cpu_count() or 1)
        size = max(1, _CRPS_BLOCK_ELEMENTS // per_row)
        return [slice(start, start + size) for start in range(0, max(n_rows, 1), size)]

    def energy_score(self, y, n_samples=1000, random_state=None):
        """Energy score of one observation per row, the multivariate CRPS.

        ``ES = E||X - y|| - E||X - X'|| / 2`` with X, X' independent draws
        (Gneiting and Raftery, 2007), estimated from ``n_samples`` draws per
        row with the unbiased ("fair") estimator of the second term. It
        scores all outputs jointly, so it rewards a model that gets their
        dependence right; for one output it is the CRPS (whose exact value
        ``crps`` gives). Computed in blocks of rows: the temporaries are the
        pairwise differences of one row's draws at a time per core
        (``n_samples ** 2 * n_outputs`` floats, 16 MB per output for 1,000
        draws). Lower is better.

        Parameters
        ----------
        y : array-like of shape (n_rows,) or (n_rows, n_outputs)
        n_samples : int, default=1000
            Draws per row: the estimate's standard error shrinks as
            1 / sqrt(n_samples).
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        energy_score : ndarray of shape (n_rows,)
            In the units of y.

        References
        ----------
        Gneiting, T. and Raftery, A. E. (2007). Strictly proper scoring rules,
        prediction, and estimation. Journal of the American Statistical
        Association, 102(477).
        """
        y = self._observations(y)
        if not (isinstance(n_samples, (int, np.integer)) and n_samples >= 2):
            raise ValueError(f"n_samples must be an integer of at least 2; got {n_samples!r}.")
        draws = self.sample(n_samples, random_state).reshape(len(self), n_samples, self.n_outputs)
        # The pairwise differences of a row's draws (n_samples^2 * d) are the
        # temporaries; blocks as the CRPS's, at least one row each.
        per_row = n_samples * n_samples * self.n_outputs * (os.cpu_count() or 1)
        size = max(1, _CRPS_BLOCK_ELEMENTS // per_row)

        def block_energy_score(rows):
            block = draws[rows]
            to_observation = np.linalg.norm(block - y[rows, None, :], axis=2).mean(axis=1)
            spread = np.linalg.norm(block[:, :, None, :] - block[:, None, :, :], axis=3).sum(
                axis=(1, 2)
            ) / (n_samples * (n_samples - 1))
            return to_observation - 0.5 * spread

        blocks = [slice(start, start + size) for start in range(0, max(len(self), 1), size)]
        return np.concatenate(_map_blocks(block_energy_score, blocks))

    def pit(self, y):
        """Probability integral transform: each output's marginal CDF at one
        observation per row.

        For a calibrated model the values are uniform on [0, 1].

        Parameters
        ----------
        y : array-like of shape (n_rows,) or (n_rows, n_outputs)

        Returns
        -------
        pit : ndarray of shape (n_rows,) or (n_rows, n_outputs)
        """
        y = self._observations(y)
        return self.cdf(y[:, 0] if self._univariate else y)

    # -- quantiles and intervals --------------------------------------------------

    def ppf(self, q):
        """Quantiles of each output's marginal: the inverse of ``cdf``.

        Solved per row by Newton steps safeguarded by bisection inside the
        bracket [min_k, max_k] of the component quantiles, which always
        contains the mixture quantile, to 1e-12 of the row's smallest scale.

        Parameters
        ----------
        q : float or array-like of shape (m,)
            Probability levels in [0, 1], shared by all rows.

        Returns
        -------
        quantiles : ndarray of shape (n_rows,) for a scalar ``q`` or
            (n_rows, m), with a trailing n_outputs axis for a multi-output
            target. Level 0 gives -inf and level 1 gives +inf.
        """
        levels = np.asarray(q, dtype=np.float64)
        if levels.ndim > 1 or np.any(~((levels >= 0) & (levels <= 1))):
            raise ValueError(
                f"Quantile levels must be a number or 1-D array in [0, 1]; got {q!r}."
            )
        flat = np.atleast_1d(levels)
        result = np.concatenate(
            _map_blocks(
                lambda rows: _mixture_quantiles(
                    self.weights[rows], self.means[rows], self.scales[rows], flat
                ),
                self._blocks(flat.size),
            )
        )
        return self._as_output(result[:, 0] if levels.ndim == 0 else result)

    def interval(self, coverage=0.9):
        """Central interval holding ``coverage`` of each output's marginal.

        Parameters
        ----------
        coverage : float, default=0.9
            In (0, 1).

        Returns
        -------
        lower, upper : ndarrays of shape (n_rows,) or (n_rows, n_outputs)
            The ``(1 - coverage) / 2`` and ``(1 + coverage) / 2`` quantiles.
        """
        _check_coverage(coverage)
        bounds = self.ppf([(1 - coverage) / 2, (1 + coverage) / 2])
        return bounds[:, 0], bounds[:, 1]

    def hdr(self, coverage=0.9):
        """Highest-density region holding ``coverage`` of each row's mass.

        The smallest set with that probability: ``{y : p(y) >= t}`` for the
        threshold ``t`` that makes its mass ``coverage``. For a multimodal
        p(y | x) it is a union of disjoint intervals, one per branch that
        carries enough mass, where a central interval would also cover the
        improbable gap between branches.

        The crossings ``p(y) = t`` are bracketed on a grid that resolves every
        component at its own scale (a point every half standard deviation
        within 8 of its mean) and holds every local maximum, then solved by
        safeguarded Newton steps on the exact density. The threshold is
        solved, inside a bracket, until the exact mass (from the CDF at the
        crossings) equals ``coverage``.

        Parameters
        ----------
        coverage : float, default=0.9
            In (0, 1).

        Returns
        -------
        intervals : ndarray of shape (n_rows, n_intervals, 2)
            Lower and upper ends of each row's intervals in increasing order;
            rows with fewer than ``n_intervals`` intervals are padded with NaN.
        threshold : ndarray of shape (n_rows,)
            The density level ``t``.
        """
        _check_coverage(coverage)
        if not self._univariate and self.n_outputs > 1:
            raise ValueError(
                "hdr is defined here for a single output; for several outputs use "
                "interval() on each marginal, or sample()."
            )
        return self._superlevel_sets(coverage=coverage)

    def hdr_threshold(self, coverage=0.9, n_samples=10_000, random_state=None):
        """The density level ``t`` of each row's highest-density region.

        The region of mass ``coverage`` is ``{y : p(y) >= t}`` (Hyndman,
        1996). For one output ``t`` is ``hdr``'s, solved exactly. For several
        outputs it is the ``1 - coverage`` quantile of ``p(Y)`` over
        ``n_samples`` draws Y of the row's mixture: the true mass of the
        region it gives differs from ``coverage`` by Monte Carlo error, with
        a standard error of about ``sqrt(coverage (1 - coverage) /
        n_samples)`` (0.003 at the defaults and ``coverage=0.9``).

        Parameters
        ----------
        coverage : float, default=0.9
            In (0, 1).
        n_samples : int, default=10_000
            Draws per row (several outputs only).
        random_state : int, RandomState instance or None, default=None
            The draws' random stream (several outputs only).

        Returns
        -------
        threshold : ndarray of shape (n_rows,)
            Density levels, in the units of 1 / y (1 / prod(y) for several
            outputs).

        References
        ----------
        Hyndman, R. J. (1996). Computing and graphing highest density
        regions. The American Statistician, 50(2).
        """
        _check_coverage(coverage)
        if self.n_outputs == 1:
            return self._superlevel_sets(coverage=coverage)[1]
        if not (isinstance(n_samples, (int, np.integer)) and n_samples >= 1):
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
        rng = check_random_state(random_state)
        # In order, one block after another: the draws depend only on
        # random_state, not on how the rows are blocked across threads.
        levels = []
        for rows in self._blocks(n_samples):
            part = self[rows]
            draws = part.sample(n_samples, random_state=rng)
            levels.append(np.quantile(part.log_prob(draws), 1 - coverage, axis=1))
        return np.exp(np.concatenate(levels))

    def hdr_contains(self, y, coverage=0.9, n_samples=10_000, random_state=None):
        """Whether each row's ``y`` lies in its highest-density region.

        ``p(y) >= t`` with ``t`` from ``hdr_threshold`` (exact for one
        output, Monte Carlo for several): the membership test for regions
        of any number of outputs, where ``hdr``'s intervals describe one.

        Parameters
        ----------
        y : array-like of shape (n_rows,) or (n_rows, n_outputs)
            One point per row.
        coverage : float, default=0.9
            The region's mass, in (0, 1).
        n_samples : int, default=10_000
            Draws per row for the threshold (several outputs only).
        random_state : int, RandomState instance or None, default=None
            The draws' random stream (several outputs only).

        Returns
        -------
        inside : ndarray of bool, shape (n_rows,)
        """
        y = self._observations(y)
        threshold = self.hdr_threshold(coverage, n_samples, random_state)
        with np.errstate(divide="ignore"):
            return self.log_prob(y if not self._univariate else y[:, 0]) >= np.log(threshold)

    def density_region(self, level):
        """Each row's set of outputs whose density is at least ``level``.

        ``{y : p(y) >= level}``, a union of intervals: ``hdr`` is this set
        at the level that gives it a chosen mass; here the level is given
        (a conformal threshold, for instance) and the mass is what it is.
        Solved as ``hdr``'s crossings are. One output only.

        Parameters
        ----------
        level : float or array-like of shape (n_rows,)
            Positive density level(s), in the units of 1 / y.

        Returns
        -------
        intervals : ndarray of shape (n_rows, n_intervals, 2)
            Lower and upper ends of each row's intervals in increasing order,
            padded with NaN; a row whose density never reaches its level has
            none.
        """
        if not self._univariate and self.n_outputs > 1:
            raise ValueError("density_region is defined here for a single output.")
        level = np.broadcast_to(np.asarray(level, dtype=np.float64), (len(self),))
        if not np.all(np.isfinite(level) & (level > 0)):
            raise ValueError("level must be positive and finite.")
        return self._superlevel_sets(level=level)[0]

    def _superlevel_sets(self, coverage=None, level=None):
        """Intervals (n_rows, n_intervals, 2) and density levels (n_rows,) of
        ``{y : p(y) >= level}``, the level solved for ``coverage`` or given
        (one output; see ``hdr``)."""
        # (n_rows, n_modes), also for one output given as a column.
        maxima = self.modes()[0].reshape(len(self), -1)
        blocks = self._blocks(self.n_components * _HDR_POINTS_PER_COMPONENT)
        pieces = _map_blocks(
            lambda rows: _highest_density_region(
                self.weights[rows], self.means[rows, :, 0], self.scales[rows, :, 0],
                maxima[rows], coverage=coverage,
                level=None if level is None else level[rows],
            ),
            blocks,
        )
        width = max(piece[0].shape[1] for piece in pieces)
        intervals = np.full((len(self), width, 2), np.nan)
        for rows, (piece, _) in zip(blocks, pieces):
            intervals[rows, : piece.shape[1]] = piece
        return intervals, np.concatenate([levels for _, levels in pieces])

    # -- moments ------------------------------------------------------------------

    def mean(self):
        """Mean of each row's mixture, shape (n_rows,) or (n_rows, n_outputs)."""
        return self._as_output(self._mean())

    def _mean(self):
        return np.einsum("nk,nkd->nd", self.weights, self.means)

    def var(self):
        """Per-output variance (law of total variance), shaped as ``mean``."""
        spread = self.scales**2 + (self.means - self._mean()[:, None, :]) ** 2
        return self._as_output(np.einsum("nk,nkd->nd", self.weights, spread))

    def std(self):
        """Per-output standard deviation, shaped as ``mean``."""
        return np.sqrt(self.var())

    def covariance(self):
        """Covariance matrix of y for each row.

        Returns
        -------
        covariance : ndarray of shape (n_rows, n_outputs, n_outputs)
            Within-component (diagonal, or full with ``scale_tril``) plus
            between-component covariance.
        """
        centred = self.means - self._mean()[:, None, :]
        between = np.einsum("nk,nki,nkj->nij", self.weights, centred, centred)
        if self.scale_tril is not None:
            tril = self.scale_tril
            return between + np.einsum("nk,nkil,nkjl->nij", self.weights, tril, tril)
        within = np.einsum("nk,nkd->nd", self.weights, self.scales**2)
        diagonal = np.arange(self.n_outputs)
        between[:, diagonal, diagonal] += within
        return between

    # -- modes --------------------------------------------------------------------

    def mode(self):
        """The global mode of each row: the y where the density is highest.

        Found by climbing from every component mean (and, with several
        outputs, from the peak of every pair of components' product) with
        Newton steps on the log density where it is concave, otherwise steps
        the way of the fixed-point step of Carreira-Perpinan (2000), each at
        most half the mixture's local scale and halved where it would lower
        the density, until a step is below 1e-10 of the peak's width
        (1 / sqrt(-d2 log p)) or at the level of float64 rounding; the
        highest of the local maxima wins. This differs
        from the mean of the heaviest component whenever components overlap.
        The starting points reach almost every local maximum but are not a
        proof: a shallow peak in a valley between components, where no
        climb starts, can be passed by. On 3,000 random rows with K = 20
        overlapping components (18,456 local maxima on a 1e-3 grid), 13 were
        missed, each less than 0.02 nats above the dip beside it, and never
        the highest; on rows of a trained model, none.

        The search is compiled (numba) on its first use after installation,
        once: about 2 s on a 2-core machine for one output, about 5 s for
        several; the compiled code is cached on disk.

        Returns
        -------
        mode : ndarray of shape (n_rows,) or (n_rows, n_outputs)
        """
        points, log_density = _local_maxima(self)
        best = np.argmax(log_density, axis=1)
        return self._as_output(points[np.arange(len(self)), best])

    def modes(self):
        """All local modes of each row (the branches of p(y | x)).

        Returns
        -------
        modes : ndarray of shape (n_rows, n_modes) or (n_rows, n_modes, n_outputs)
            Each row's distinct local maxima, highest density first, padded
            with NaN where a row has fewer than ``n_modes``.
        log_density : ndarray of shape (n_rows, n_modes)
            Log density at each mode; -inf in padding.
        """
        points, log_density = _local_maxima(self)
        n_modes = int(np.max(np.sum(np.isfinite(log_density), axis=1), initial=0))
        order = np.argsort(-log_density, axis=1, kind="stable")[:, :n_modes]
        points = np.take_along_axis(points, order[:, :, None], axis=1)
        log_density = np.take_along_axis(log_density, order, axis=1)
        points[np.isneginf(log_density)] = np.nan
        return self._as_output(points), log_density

    # -- sampling -----------------------------------------------------------------

    def sample(self, n_samples=1, random_state=None, temperature=1.0, sigma_temperature=1.0):
        """Draw ``n_samples`` values of y per row.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState instance or None, default=None
        temperature : float, default=1.0
            Mixing weights are raised to ``1 / temperature`` and renormalised:
            below 1 sharpens towards the heaviest component, above 1 flattens
            towards equal weights.
        sigma_temperature : float, default=1.0
            Multiplies every component covariance (scales and ``scale_tril``
            by its square root).

        Returns
        -------
        samples : ndarray of shape (n_rows, n_samples) or \
                (n_rows, n_samples, n_outputs)
        """
        if not (isinstance(n_samples, (int, np.integer)) and n_samples >= 1):
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
        if not (temperature > 0 and sigma_temperature > 0):
            raise ValueError("temperature and sigma_temperature must be positive.")
        rng = check_random_state(random_state)
        n_rows = len(self)
        weights = self.weights
        if temperature != 1.0:
            with np.errstate(divide="ignore"):
                weights = softmax(np.log(weights) / temperature, axis=1)
        # Inverse-CDF choice of component, vectorised over rows and draws.
        cumulative = np.cumsum(weights, axis=1)[:, :-1]
        uniform = rng.random_sample((n_rows, n_samples))
        components = np.empty((n_rows, n_samples), dtype=np.intp)
        for rows in self._blocks(n_samples):
            components[rows] = np.sum(
                uniform[rows, :, None] >= cumulative[rows, None, :], axis=2
            )
        rows = np.arange(n_rows)[:, None]
        means = self.means[rows, components]
        noise = rng.standard_normal((n_rows, n_samples, self.n_outputs))
        if self.scale_tril is not None:
            tril = self.scale_tril[rows, components] * math.sqrt(sigma_temperature)
            return self._as_output(means + np.einsum("nsij,nsj->nsi", tril, noise))
        scales = self.scales[rows, components] * math.sqrt(sigma_temperature)
        return self._as_output(means + scales * noise)

    # -- interoperability -----------------------------------------------------------

    def to_tfp(self):
        """The same mixtures as a TensorFlow Probability distribution (float64).

        Returns
        -------
        distribution : tfp.distributions.MixtureSameFamily
            Batch shape ``(n_rows,)``; event shape ``()`` for a 1-D target
            (Normal components) and ``(n_outputs,)`` otherwise
            (MultivariateNormalDiag components, or MultivariateNormalTriL
            with ``scale_tril``).
        """
        from ._tfp import tfp_mixture

        return tfp_mixture(
            self.weights, self.means, self.scales, self._univariate, self.scale_tril
        )

    def to_skpro(self, index=None, columns=None):
        """The same mixtures as an skpro distribution (``pip install skpro``).

        skpro's distributions describe each output's marginal per row, as
        this class's ``cdf``, ``ppf`` and ``var`` do; the joint density of
        several outputs (``log_prob``), and so the correlations of full
        covariance components, have no skpro counterpart.

        Parameters
        ----------
        index : pandas.Index, default=None
            The rows' labels (default ``RangeIndex``).
        columns : pandas.Index, default=None
            The outputs' labels (default ``RangeIndex``).

        Returns
        -------
        distribution : skmdn.skpro.NormalMixture
            skpro's ``NormalMixture`` (a subclass with the exact CRPS) with
            per-row weights, means and scales, shape ``(n_rows, n_outputs)``.
        """
        try:
            import skpro  # noqa: F401
        except ImportError as error:
            raise ImportError(
                "to_skpro() needs skpro: python -m pip install skpro "
                "(it needs pandas < 3.1; see skmdn's documentation, 'skpro')."
            ) from error
        from .skpro import NormalMixture

        return NormalMixture(
            pi=self.weights, mu=self.means, sigma=self.scales, index=index, columns=columns
        )


def _spread(w, m, s):
    """E|X - X'| of mixtures with weights (n, K), means and scales (n, K, d):
    a sum over pairs of components of E|N(m_k - m_j, s_k^2 + s_j^2)|."""
    between = _crps_term(
        m[:, :, None, :] - m[:, None, :, :],
        np.sqrt(s[:, :, None, :] ** 2 + s[:, None, :, :] ** 2),
    )
    return np.einsum("nk,nj,nkjd->nd", w, w, between)


def _crps_term(difference, scale):
    """E|X - c| for X ~ N(c + difference, scale^2), elementwise."""
    z = difference / scale
    return 2.0 * scale * np.exp(-0.5 * z * z) / _SQRT_2PI + difference * (2.0 * ndtr(z) - 1.0)


def _check_coverage(coverage):
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be in (0, 1); got {coverage!r}.")


def _solve_increasing(function, lower, upper, start, tolerance, interpolate=True):
    """Solve ``function(active, y) = 0`` for many increasing 1-D functions at once.

    Each problem ``i`` is bracketed by ``lower[i] < root < upper[i]``;
    ``function(active, y)`` returns the values and slopes of problems
    ``active`` at ``y``. Newton steps are taken only when they stay inside the
    bracket and move less than half its width; otherwise the step is the
    false-position point of the bracket, once the function is known at both
    of its ends, with the Illinois modification (an end kept twice in a row
    has its value halved, so that both ends move), else the bracket's
    midpoint. The bracket always shrinks (plain Newton can cycle between two
    points of a bimodal CDF), and where the function is nearly flat (a
    quantile level in the gap between two branches) false position converges
    in a few steps where bisection needs dozens. With ``interpolate=False``
    the fallback is always the midpoint. The HDR's level solve uses that: its
    mass, as a function of the level, has a slope that jumps where a dip
    starts to cross the level, and there false position settled on the other
    side of the jump than bisection (a sliver of a gap kept or dropped) in 59
    of 10,000 random rows. Problems leave the working set once a step is
    below their ``tolerance``.
    """
    lower, upper, y = lower.copy(), upper.copy(), start.copy()
    # The function's values at the ends of each bracket (NaN: not known yet),
    # and which end the last step replaced (-1 lower, +1 upper, 0 none).
    lower_value = np.full(y.size, np.nan)
    upper_value = np.full(y.size, np.nan)
    replaced = np.zeros(y.size, dtype=np.int8)
    active = np.arange(y.size)
    for _ in range(_ROOT_MAX_ITER):
        if active.size == 0:
            break
        value, slope = function(active, y[active])
        low, high, current = lower[active], upper[active], y[active]
        low_value, high_value = lower_value[active], upper_value[active]
        below, above = value < 0, value > 0
        # Illinois: the end that stays for the second time counts half.
        high_value = np.where(below & (replaced[active] == -1), 0.5 * high_value, high_value)
        low_value = np.where(above & (replaced[active] == 1), 0.5 * low_value, low_value)
        low, low_value = np.where(below, current, low), np.where(below, value, low_value)
        high, high_value = np.where(above, current, high), np.where(above, value, high_value)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            newton = current - value / slope
            false_position = low - low_value * (high - low) / (high_value - low_value)
        safe = (newton > low) & (newton < high) & (np.abs(newton - current) <= 0.5 * (high - low))
        interpolated = interpolate & (false_position > low) & (false_position < high)
        new = np.where(
            value == 0,
            current,
            np.where(safe, newton, np.where(interpolated, false_position, 0.5 * (low + high))),
        )
        lower[active], upper[active], y[active] = low, high, new
        lower_value[active], upper_value[active] = low_value, high_value
        replaced[active] = np.where(below, -1, np.where(above, 1, 0))
        active = active[np.abs(new - current) > tolerance[active]]
    return y


def _mixture_quantiles(weights, means, scales, levels):
    """Quantiles (n, m, d) of each output's marginal mixture at ``levels`` (m,).

    The mixture CDF at the smallest component quantile is at most the level
    and at the largest at least the level, so [min_k, max_k] of the component
    quantiles brackets the answer; the search starts from the weighted mean of
    the component quantiles. Levels 0 and 1 map to -inf and +inf.
    """
    n_rows, n_components, n_outputs = means.shape
    interior = (levels > 0) & (levels < 1)
    safe_levels = np.where(interior, levels, 0.5)
    # One problem per (row, level, output), each with its row's marginal.
    z = ndtri(safe_levels)[None, :, None, None]
    component_quantiles = means[:, None] + scales[:, None] * z  # (n, m, K, d)
    shape = (n_rows, levels.size, n_outputs)
    row = np.broadcast_to(np.arange(n_rows)[:, None, None], shape).ravel()
    output = np.broadcast_to(np.arange(n_outputs), shape).ravel()
    target = np.broadcast_to(safe_levels[None, :, None], shape).ravel()
    problem_means = means[row, :, output]  # (P, K)
    problem_scales = scales[row, :, output]
    problem_weights = weights[row]

    def excess_cdf(active, y):
        density, _, cdf = _univariate_terms(
            y[:, None], problem_weights[active], problem_means[active], problem_scales[active]
        )
        return cdf[:, 0] - target[active], density[:, 0]

    quantiles = _solve_increasing(
        excess_cdf,
        component_quantiles.min(axis=2).ravel(),
        component_quantiles.max(axis=2).ravel(),
        np.einsum("nk,nmkd->nmd", weights, component_quantiles).ravel(),
        _ROOT_TOLERANCE * problem_scales.min(axis=1),
    ).reshape(shape)
    quantiles[:, levels == 0] = -np.inf
    quantiles[:, levels == 1] = np.inf
    return quantiles


def _univariate_terms(points, weights, means, scales):
    """Density, its slope and the CDF at ``points`` (C, m) of 1-D mixtures (C, K)."""
    z = (points[:, :, None] - means[:, None, :]) / scales[:, None, :]
    weighted = (
        weights[:, None, :] * np.exp(-0.5 * z * z) / (scales[:, None, :] * math.sqrt(2 * math.pi))
    )
    density = weighted.sum(axis=2)
    slope = -np.sum(weighted * z / scales[:, None, :], axis=2)
    cdf = np.einsum("ck,cmk->cm", weights, ndtr(z))
    return density, slope, cdf


def _solve_level(lower, upper, rising, level, weights, means, scales):
    """Solve p(y) = level in brackets [lower, upper] (C,), one mixture (C, K) each.

    ``rising`` says whether p crosses the level upwards in the bracket.
    Returns the crossing points, and p' and the CDF there.
    """
    sign = np.where(rising, 1.0, -1.0)

    def signed_excess(active, y):
        density, slope, _ = _univariate_terms(
            y[:, None], weights[active], means[active], scales[active]
        )
        return sign[active] * (density[:, 0] - level[active]), sign[active] * slope[:, 0]

    points = _solve_increasing(
        signed_excess, lower, upper, 0.5 * (lower + upper),
        _ROOT_TOLERANCE * scales.min(axis=1),
    )
    _, slope, cdf = _univariate_terms(points[:, None], weights, means, scales)
    return points, slope[:, 0], cdf[:, 0]


def _highest_density_region(weights, means, scales, maxima, coverage=None, level=None):
    """HDR of 1-D mixtures (n, K): intervals (n, n_intervals, 2) and thresholds (n,).

    ``maxima`` (n, S) holds each row's local maxima (NaN where none). With
    ``coverage``, the threshold is solved for that mass; with ``level`` (n,),
    it is that density level, and the mass is what it is. See
    ``GaussianMixtureDistribution.hdr`` for the method.
    """
    n_rows, n_components = weights.shape
    offsets = np.linspace(-_HDR_SPAN, _HDR_SPAN, _HDR_POINTS_PER_COMPONENT)
    # The maxima are grid points too: a level below a peak then always has a
    # crossing bracketed on each side of it, however narrow the peak.
    grid = np.sort(
        np.concatenate(
            [
                (means[:, :, None] + scales[:, :, None] * offsets).reshape(n_rows, -1),
                np.where(np.isnan(maxima), means[:, :1], maxima),
            ],
            axis=1,
        ),
        axis=1,
    )
    density, _, cdf = _univariate_terms(grid, weights, means, scales)
    peak = density.max(axis=1)

    def crossings(rows, level):
        """Where p crosses ``level`` (one per row in ``rows``), as flat arrays."""
        above = density[rows] >= level[:, None]
        which, cells = np.nonzero(above[:, 1:] != above[:, :-1])
        rising = above[which, cells + 1]
        row = rows[which]
        points, slopes, cdfs = _solve_level(
            grid[row, cells], grid[row, cells + 1], rising, level[which],
            weights[row], means[row], scales[row],
        )
        return which, rising, points, slopes, cdfs

    def mass_shortfall(rows, log_level):
        # coverage - mass{p >= level}: increasing in the level. The mass is
        # the sum over falling crossings of F minus that over rising ones
        # (p is below any positive level at both grid ends), and
        # d mass / d level = -level * sum over crossings of 1 / |p'|.
        level = np.exp(log_level)
        which, rising, _, slopes, cdfs = crossings(rows, level)
        mass = np.bincount(which, np.where(rising, -cdfs, cdfs), minlength=rows.size)
        spread = np.bincount(which, 1.0 / np.abs(slopes), minlength=rows.size)
        return coverage - mass, level**2 * spread

    if level is None:
        level = _coverage_level(density, cdf, peak, mass_shortfall, coverage)
    which, rising, points, _, _ = crossings(np.arange(n_rows), level)
    # The k-th rising crossing of a row starts its k-th interval; the k-th
    # falling crossing ends it.
    rank = np.zeros(which.size, dtype=np.intp)
    for is_rising in (True, False):
        chosen_rows = which[rising == is_rising]
        rank[rising == is_rising] = np.arange(chosen_rows.size) - np.searchsorted(
            chosen_rows, chosen_rows
        )
    n_intervals = int(rank.max()) + 1 if which.size else 0
    intervals = np.full((n_rows, n_intervals, 2), np.nan)
    intervals[which, rank, np.where(rising, 0, 1)] = points
    return intervals, level


def _coverage_level(density, cdf, peak, mass_shortfall, coverage):
    """The density level whose superlevel set holds ``coverage`` of each
    row's mass, from the grid's ``density`` and ``cdf`` (n, m)."""
    n_rows = density.shape[0]
    # Start from the level whose mass on the grid (p linear in each cell) is
    # the coverage, then solve on the exact mass within a bracket that always
    # holds the answer: mass -> 1 far below every density, 0 at the peak.
    cell_mass = np.diff(cdf, axis=1)
    low_end = np.minimum(density[:, :-1], density[:, 1:])
    high_end = np.maximum(density[:, :-1], density[:, 1:])
    log_low, log_high = np.log(peak) - 60.0, np.log(peak)
    grid_low, grid_high = log_low.copy(), log_high.copy()
    for _ in range(30):
        middle = 0.5 * (grid_low + grid_high)
        # A cell whose ends differ by a denormal gives inf (or 0/0): the clip
        # makes it all or nothing, as the level says.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            fraction = np.clip(
                (high_end - np.exp(middle)[:, None]) / (high_end - low_end), 0.0, 1.0
            )
        too_little = np.sum(cell_mass * fraction, axis=1) < coverage
        grid_high = np.where(too_little, middle, grid_high)
        grid_low = np.where(too_little, grid_low, middle)
    log_level = _solve_increasing(
        mass_shortfall, log_low, log_high, 0.5 * (grid_low + grid_high),
        np.full(n_rows, _ROOT_TOLERANCE), interpolate=False,
    )
    return np.exp(log_level)


def _local_maxima(dist):
    """Every row's distinct local maxima (see ``_modes.local_maxima``).

    Returns
    -------
    points : ndarray of shape (n_rows, n_starts, d)
        Where each climb ended.
    log_density : ndarray of shape (n_rows, n_starts)
        The log density there; -inf where a climb found no maximum (it started
        on a minimum or saddle) or repeats a higher climb of its row.
    """
    # numba loads, and the kernel compiles or loads from its cache, on first use.
    from . import _modes

    n_starts = _modes.n_starts(dist.n_components, dist.n_outputs)
    points = np.empty((len(dist), n_starts, dist.n_outputs))
    log_density = np.empty((len(dist), n_starts))
    log_normalisers = dist._log_normalisers()
    means, scales = np.ascontiguousarray(dist.means), np.ascontiguousarray(dist.scales)
    # A few blocks per core, so that threads finishing early find more work.
    n_blocks = max(1, min(len(dist), 4 * (os.cpu_count() or 1)))
    bounds = np.linspace(0, len(dist), n_blocks + 1).astype(int)
    # One output: a 1 x 1 factor is its scale.
    precisions = None
    if dist.scale_tril is not None and dist.n_outputs > 1:
        inverse = np.linalg.inv(dist.scale_tril)
        precisions = np.ascontiguousarray(np.swapaxes(inverse, 2, 3) @ inverse)
    _map_blocks(
        lambda rows: _modes.local_maxima(
            log_normalisers[rows], means[rows], scales[rows], points[rows], log_density[rows],
            None if precisions is None else precisions[rows],
        ),
        [slice(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])],
    )
    return points, log_density


def _map_blocks(function, blocks):
    """``[function(block) for block in blocks]``, on all cores when there are several.

    numpy releases the GIL inside its array operations, and so does the
    compiled mode search, so threads run the blocks in parallel without
    copying any data.
    """
    workers = min(len(blocks), os.cpu_count() or 1)
    if workers <= 1:
        return [function(block) for block in blocks]
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, blocks))
