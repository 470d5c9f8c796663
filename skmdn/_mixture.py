"""Per-row mixtures of diagonal Gaussians: numpy, float64, original units of y.

Every number skmdn reports about a predicted distribution (log-likelihood,
mode, samples, moments) is computed here, once.
"""

import math

import numpy as np
from scipy.special import logsumexp, softmax
from sklearn.utils import check_random_state

LOG_2PI = math.log(2.0 * math.pi)

# Rows per block in the vectorised mode search: bounds the (rows, K, K, d)
# temporaries to a few megabytes whatever the number of rows.
_MODE_BLOCK_ELEMENTS = 2**21
# Mode search stops when a step is below this fraction of the row's smallest
# component scale; Newton steps get there in a handful of iterations.
_MODE_TOLERANCE = 1e-10
_MODE_MAX_ITER = 500


class GaussianMixtureDistribution:
    """Predicted conditional distributions p(y | x), one Gaussian mixture per row.

    Component ``k`` of row ``i`` has weight ``weights[i, k]``, mean
    ``means[i, k]`` and per-output standard deviations ``scales[i, k]``
    (diagonal covariance). All quantities are float64 in the original units of
    y. Returned by :meth:`MDNRegressor.predict_dist`.

    Parameters
    ----------
    weights : array-like of shape (n_rows, n_components)
        Mixing weights; each row is non-negative and sums to one.
    means : array-like of shape (n_rows, n_components) or \
            (n_rows, n_components, n_outputs)
        Component means. The 2-D form describes a 1-D target: then points
        and results carry no output axis, as for an estimator fitted on 1-D y.
    scales : array-like, same shape as ``means``
        Component standard deviations, positive.

    Attributes
    ----------
    weights : ndarray of shape (n_rows, n_components)
    means : ndarray of shape (n_rows, n_components, n_outputs)
    scales : ndarray of shape (n_rows, n_components, n_outputs)

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn import GaussianMixtureDistribution
    >>> dist = GaussianMixtureDistribution(
    ...     weights=[[0.5, 0.5]], means=[[-1.0, 1.0]], scales=[[0.2, 0.2]])
    >>> dist.mean()
    array([0.])
    >>> np.abs(dist.mode()).round(6)
    array([1.])
    """

    def __init__(self, weights, means, scales):
        weights = np.asarray(weights, dtype=np.float64)
        means = np.asarray(means, dtype=np.float64)
        scales = np.asarray(scales, dtype=np.float64)
        self._univariate = means.ndim == 2
        if self._univariate:
            means, scales = means[..., None], scales[..., None]
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
        self.weights = weights
        self.means = means
        self.scales = scales

    @property
    def n_components(self):
        return self.weights.shape[1]

    @property
    def n_outputs(self):
        return self.means.shape[2]

    def __len__(self):
        return self.weights.shape[0]

    def __getitem__(self, rows):
        """Rows ``rows`` (an int, slice, index array or mask) as a new distribution."""
        if isinstance(rows, (int, np.integer)):
            rows = [rows]
        means, scales = self.means[rows], self.scales[rows]
        if self._univariate:
            means, scales = means[..., 0], scales[..., 0]
        return type(self)(self.weights[rows], means, scales)

    def __repr__(self):
        return (
            f"{type(self).__name__}(n_rows={len(self)}, "
            f"n_components={self.n_components}, n_outputs={self.n_outputs})"
        )

    # -- shape handling -------------------------------------------------------

    def _as_points(self, y):
        """y of shape (n,) [1-D target] or (n, d) as an array of shape (n, d)."""
        y = np.asarray(y, dtype=np.float64)
        if self._univariate and y.ndim == 1:
            y = y[:, None]
        if y.shape != (len(self), self.n_outputs):
            expected = (len(self),) if self._univariate else (len(self), self.n_outputs)
            raise ValueError(f"y must have shape {expected}; got {y.shape}.")
        return y

    def _as_output(self, values):
        """Drop the output axis of (n, ..., d) results for a 1-D target."""
        return values[..., 0] if self._univariate else values

    # -- densities --------------------------------------------------------------

    def _log_normalisers(self):
        """log(w_k) - sum(log sigma_k) - d/2 log(2 pi), shape (n, K)."""
        with np.errstate(divide="ignore"):
            log_weights = np.log(self.weights)
        return (
            log_weights
            - np.sum(np.log(self.scales), axis=2)
            - 0.5 * self.n_outputs * LOG_2PI
        )

    def log_prob(self, y):
        """Log density of ``y`` under each row's mixture.

        Parameters
        ----------
        y : array-like of shape (n_rows,) or (n_rows, n_outputs)
            One point per row.

        Returns
        -------
        log_prob : ndarray of shape (n_rows,)
        """
        points = self._as_points(y)
        z = (points[:, None, :] - self.means) / self.scales
        return logsumexp(self._log_normalisers() - 0.5 * np.sum(z * z, axis=2), axis=1)

    def pdf(self, y):
        """Density of ``y`` under each row's mixture; see :meth:`log_prob`."""
        return np.exp(self.log_prob(y))

    # -- moments ----------------------------------------------------------------

    def mean(self):
        """Mean of each row's mixture, shape (n_rows,) or (n_rows, n_outputs)."""
        return self._as_output(np.einsum("nk,nkd->nd", self.weights, self.means))

    def var(self):
        """Per-output variance (law of total variance), shaped as :meth:`mean`."""
        mean = np.einsum("nk,nkd->nd", self.weights, self.means)
        spread = self.scales**2 + (self.means - mean[:, None, :]) ** 2
        return self._as_output(np.einsum("nk,nkd->nd", self.weights, spread))

    def std(self):
        """Per-output standard deviation, shaped as :meth:`mean`."""
        return np.sqrt(self.var())

    # -- modes ------------------------------------------------------------------

    def mode(self):
        """The global mode of each row: the y where the density is highest.

        Found by hill-climbing from every component mean (safeguarded Newton
        steps on the log density, falling back to the monotone fixed-point
        step of Carreira-Perpinan 2000) until a step is below 1e-10 of the
        row's smallest component scale; the highest local maximum wins. This
        differs from the mean of the heaviest component whenever components
        overlap.

        Returns
        -------
        mode : ndarray of shape (n_rows,) or (n_rows, n_outputs)
        """
        points, log_density = _local_maxima(self)
        best = np.argmax(log_density, axis=1)
        return self._as_output(points[np.arange(len(self)), best])

    # -- sampling ---------------------------------------------------------------

    def sample(self, n_samples=1, random_state=None, temperature=1.0, sigma_temperature=1.0):
        """Draw ``n_samples`` values of y per row.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState instance or None, default=None
        temperature : float, default=1.0
            Mixing weights are raised to ``1 / temperature`` and renormalised:
            below 1 sharpens towards the heaviest component, above 1 flattens.
        sigma_temperature : float, default=1.0
            Multiplies every component variance.

        Returns
        -------
        samples : ndarray of shape (n_rows, n_samples) or \
                (n_rows, n_samples, n_outputs)
        """
        if temperature <= 0 or sigma_temperature <= 0:
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
        components = np.sum(uniform[:, :, None] >= cumulative[:, None, :], axis=2)
        rows = np.arange(n_rows)[:, None]
        means = self.means[rows, components]
        scales = self.scales[rows, components] * math.sqrt(sigma_temperature)
        noise = rng.standard_normal((n_rows, n_samples, self.n_outputs))
        return self._as_output(means + scales * noise)


def _local_maxima(dist):
    """Hill-climb from every component mean of every row.

    Returns
    -------
    points : ndarray of shape (n_rows, K, d)
        Where the climb from each component mean ended (a local maximum).
    log_density : ndarray of shape (n_rows, K)
        The log density there.
    """
    n_rows, n_components, n_outputs = dist.means.shape
    block = max(1, _MODE_BLOCK_ELEMENTS // (n_components * n_components * n_outputs))
    log_normalisers = dist._log_normalisers()
    points = np.empty_like(dist.means)
    log_density = np.empty((n_rows, n_components))
    for start in range(0, n_rows, block):
        rows = slice(start, start + block)
        points[rows], log_density[rows] = _climb(
            dist.means[rows], dist.scales[rows], log_normalisers[rows]
        )
    return points, log_density


def _climb(means, scales, log_normalisers):
    """Vectorised ascent for one block of rows; see :func:`_local_maxima`."""
    n_rows, n_components, n_outputs = means.shape
    # One candidate per (row, starting component), flattened; each candidate
    # carries its row's mixture.
    row_of = np.repeat(np.arange(n_rows), n_components)
    cand_means, cand_scales = means[row_of], scales[row_of]
    cand_norm = log_normalisers[row_of]
    precision = 1.0 / cand_scales**2
    tolerance = _MODE_TOLERANCE * cand_scales.min(axis=(1, 2))
    y = means.reshape(-1, n_outputs).copy()

    def component_log_prob(active, points):
        z = (points[:, None, :] - cand_means[active]) / cand_scales[active]
        return cand_norm[active] - 0.5 * np.sum(z * z, axis=2)

    active = np.arange(y.shape[0])
    log_comp = component_log_prob(active, y)
    log_p = logsumexp(log_comp, axis=1)
    final_log_p = log_p.copy()
    for _ in range(_MODE_MAX_ITER):
        if active.size == 0:
            break
        resp = np.exp(log_comp - log_p[:, None])
        prec = precision[active]
        gradients = prec * (cand_means[active] - y[active][:, None, :])
        gradient = np.einsum("ak,akd->ad", resp, gradients)
        # Fixed-point (EM) step: never decreases the density.
        weighted_prec = resp[:, :, None] * prec
        fixed_point = np.sum(weighted_prec * cand_means[active], axis=1) / np.sum(
            weighted_prec, axis=1
        )
        # Newton step on log p where its Hessian is negative definite.
        hessian = (
            np.einsum("ak,aki,akj->aij", resp, gradients, gradients)
            - np.einsum("ai,aj->aij", gradient, gradient)
        )
        hessian[:, np.arange(n_outputs), np.arange(n_outputs)] -= np.sum(weighted_prec, axis=1)
        concave = np.all(np.linalg.eigvalsh(hessian) < 0, axis=1)
        newton = y[active].copy()
        if np.any(concave):
            newton[concave] -= np.linalg.solve(
                hessian[concave], gradient[concave][:, :, None]
            )[:, :, 0]
        log_comp_newton = component_log_prob(active, newton)
        log_p_newton = logsumexp(log_comp_newton, axis=1)
        use_newton = concave & (log_p_newton >= log_p)
        new_y = np.where(use_newton[:, None], newton, fixed_point)
        step = np.max(np.abs(new_y - y[active]), axis=1)
        log_comp = np.where(use_newton[:, None], log_comp_newton, log_comp)
        if not np.all(use_newton):
            fallback = ~use_newton
            log_comp[fallback] = component_log_prob(active[fallback], fixed_point[fallback])
        log_p = logsumexp(log_comp, axis=1)
        y[active] = new_y
        final_log_p[active] = log_p
        still = step > tolerance[active]
        active, log_comp, log_p = active[still], log_comp[still], log_p[still]
    return y.reshape(n_rows, n_components, n_outputs), final_log_p.reshape(n_rows, n_components)
