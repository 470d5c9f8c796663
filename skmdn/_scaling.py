"""The standardisation of X and y, and its way back to the original units.

The network sees X and y standardised (each column centred on its weighted
mean and divided by its weighted standard deviation) and predicts mixtures in
standardised units; users see y's original units. ``Scaling`` holds the
means, scales and the floor on component scales, and is the one place that
converts between the two: the standardised floor, the log-Jacobian that maps
standardised log-likelihoods to the original units, and the mixture
parameters in original units. It is public so that data too large for memory
can be standardised as a whole (``Scaling.from_blocks``) and trained on
block by block (``MDNRegressor.partial_fit(..., scaling=...)``).
"""

import dataclasses
import math

import numpy as np

# Passes over the data that would otherwise need full-size float64
# temporaries go in chunks of about this many values (1 MiB of float64).
_CHUNK_VALUES = 2**17

# The smallest floor on component scales, as a fraction of y's standard
# deviation: far below any spread real data has.
MIN_RELATIVE_SCALE = 1e-3

# Scaling.from_blocks keeps the distinct values of each output while there
# are at most this many (to find y's resolution exactly across blocks);
# beyond, y is continuous for the floor's purpose and the smallest gap
# within any one block stands in for the smallest gap overall.
_MAX_TRACKED_VALUES = 2**16


def row_chunks(n_rows, n_columns):
    """Slices covering ``n_rows`` rows, about ``_CHUNK_VALUES`` values each."""
    step = max(1, _CHUNK_VALUES // max(n_columns, 1))
    return [slice(start, start + step) for start in range(0, n_rows, step)]


@dataclasses.dataclass(frozen=True)
class Scaling:
    """Column means and scales of X and y, and the floor on component scales.

    An ``MDNRegressor`` standardises X and y with these before its network
    sees them, and reports densities in y's original units. ``fit`` computes
    them from the training data; for data too large for memory,
    ``Scaling.from_blocks`` computes the same statistics block by block and
    ``MDNRegressor.partial_fit(X, y, scaling=...)`` trains with them, so the
    standardisation represents all the data, not only its first block. See
    the User Guide's "Scaling out" page.

    Parameters
    ----------
    x_mean, x_scale : array-like of shape (n_features,)
        Column means and standard deviations of X (weighted by the sample
        weights); scales must be positive (a constant column has scale 1).
    y_mean, y_scale : array-like of shape (n_outputs,)
        The same for y.
    min_scale : array-like of shape (n_outputs,)
        The floor on every component's scale, in the units of y (see
        ``MDNRegressor``'s ``min_scale``); positive.

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn import Scaling
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(1000, 2)), rng.normal(size=1000)
    >>> blocks = [(X[:600], y[:600]), (X[600:], y[600:])]
    >>> scaling = Scaling.from_blocks(blocks)
    >>> bool(np.allclose(scaling.x_mean, X.mean(axis=0)))
    True
    >>> bool(np.allclose(scaling.y_scale, y.std()))
    True
    """

    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: np.ndarray
    y_scale: np.ndarray
    min_scale: np.ndarray

    def __post_init__(self):
        for name in ("x_mean", "x_scale", "y_mean", "y_scale", "min_scale"):
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if value.ndim != 1 or not np.all(np.isfinite(value)):
                raise ValueError(f"Scaling's {name} must be a 1-D array of finite numbers.")
            if name in ("x_scale", "y_scale", "min_scale") and not np.all(value > 0):
                raise ValueError(f"Scaling's {name} must be positive.")
            object.__setattr__(self, name, value)
        if self.x_scale.size != self.x_mean.size:
            raise ValueError("Scaling's x_mean and x_scale must have the same length.")
        if not self.y_scale.size == self.min_scale.size == self.y_mean.size:
            raise ValueError("Scaling's y_mean, y_scale and min_scale must have the same length.")

    @classmethod
    def _unchecked(cls, x_mean, x_scale, y_mean, y_scale, min_scale):
        """A scaling of float64 arrays that were checked when they were
        fitted or loaded: an estimator's, built on every prediction, where
        ``__post_init__``'s checks would cost more than the standardising."""
        scaling = object.__new__(cls)
        for field, value in zip(
            ("x_mean", "x_scale", "y_mean", "y_scale", "min_scale"),
            (x_mean, x_scale, y_mean, y_scale, min_scale),
        ):
            object.__setattr__(scaling, field, value)
        return scaling

    @classmethod
    def fit(cls, X, y_2d, sample_weight, min_scale):
        """The scaling ``MDNRegressor.fit`` computes: of numeric arrays X
        (n_samples, n_features) and y (n_samples, n_outputs) with
        ``sample_weight`` (n_samples,), all finite; ``min_scale`` is the
        estimator's parameter (``"auto"`` or a number in the units of y)."""
        x_mean, x_scale = _weighted_mean_and_scale(X, sample_weight)
        y_mean, y_scale = _weighted_mean_and_scale(y_2d, sample_weight)
        if min_scale == "auto":
            floor = _automatic_min_scale(y_2d[sample_weight > 0], y_scale)
        else:
            floor = np.full(y_2d.shape[1], float(min_scale))
        return cls(x_mean, x_scale, y_mean, y_scale, floor)

    @classmethod
    def from_blocks(cls, blocks):
        """The scaling of data given as row blocks, in one pass over them.

        The statistics ``MDNRegressor.fit`` would compute from all the rows
        at once (weighted means and standard deviations, and the automatic
        floor on component scales), while holding one block at a time.

        Parameters
        ----------
        blocks : iterable of (X, y) or (X, y, sample_weight)
            The data's row blocks, each as ``fit`` takes it (numpy arrays,
            pandas objects, or anything ``numpy.asarray`` computes, such as
            the blocks of a dask array).

        Returns
        -------
        scaling : Scaling
            With ``min_scale`` the automatic floor (``min_scale="auto"``); an
            estimator with a numeric ``min_scale`` uses its own instead.

        Notes
        -----
        Blocks are combined with the pairwise update of Chan, Golub and
        LeVeque (1979), so the result equals ``fit``'s on the concatenated
        data up to rounding. The floor needs y's resolution (its smallest gap
        between distinct values): exact while an output has at most 65,536
        distinct values, otherwise the smallest gap within any one block.
        """
        from sklearn.utils import check_X_y
        from sklearn.utils.validation import _check_sample_weight

        moments = [None, None]
        resolution = None
        for block in blocks:
            if not isinstance(block, (tuple, list)) or len(block) not in (2, 3):
                raise ValueError(
                    "Scaling.from_blocks takes an iterable of (X, y) or "
                    f"(X, y, sample_weight) tuples; got {type(block).__name__}."
                )
            X, y = check_X_y(
                np.asarray(block[0]), np.asarray(block[1]), multi_output=True,
                y_numeric=True, dtype=(np.float64, np.float32),
            )
            y_2d = y.reshape(y.shape[0], -1)
            weights = _check_sample_weight(
                block[2] if len(block) == 3 else None, X, dtype=np.float64,
                ensure_non_negative=True,
            )
            if moments[0] is None:
                shifts = (X[0].astype(np.float64), y_2d[0].astype(np.float64))
                resolution = _Resolution(y_2d.shape[1])
            elif X.shape[1] != shifts[0].size or y_2d.shape[1] != shifts[1].size:
                raise ValueError(
                    f"Every block must have {shifts[0].size} features and "
                    f"{shifts[1].size} output(s); got a block with {X.shape[1]} "
                    f"and {y_2d.shape[1]}."
                )
            for i, values in enumerate((X, y_2d)):
                moments[i] = _combine(moments[i], _block_moments(values, weights, shifts[i]))
            resolution.add(y_2d[weights > 0])
        if moments[0] is None or moments[0][0] <= 0:
            raise ValueError("Scaling.from_blocks needs rows with positive sample_weight.")
        (x_mean, x_scale), (y_mean, y_scale) = (
            _mean_and_scale(shift + mean, m2 / total)
            for shift, (total, mean, m2) in zip(shifts, moments)
        )
        floor = _min_scale_from_resolution(resolution.gaps(), y_scale)
        return cls(x_mean, x_scale, y_mean, y_scale, floor)

    def standardise_X(self, X):
        """``(X - x_mean) / x_scale``."""
        return (X - self.x_mean) / self.x_scale

    def standardise_y(self, y_2d):
        """``(y - y_mean) / y_scale`` (y with one column per output)."""
        return (y_2d - self.y_mean) / self.y_scale

    @property
    def floor(self):
        """The floor on component scales in standardised units."""
        return self.min_scale / self.y_scale

    @property
    def log_jacobian(self):
        """log|det| of y's standardisation: a standardised log-likelihood
        minus this is the log-likelihood in the original units."""
        return float(np.sum(np.log(self.y_scale)))

    def to_original(self, means, scales):
        """Mixture means and scales of shape (n, K, d) in y's original units."""
        return means * self.y_scale + self.y_mean, scales * self.y_scale

    def tril_to_original(self, scale_tril):
        """Cholesky factors (n, K, d, d) of covariances in y's original
        units: diag(y_scale) L, still lower triangular."""
        return scale_tril * self.y_scale[:, None]


def _automatic_min_scale(y_2d, scale):
    """Per-output floor on component scales, in the units of y.

    The larger of a thousandth of the standard deviation and
    r / sqrt(2 pi), where r is the resolution of the recorded values (the
    smallest gap between distinct values of y). A Gaussian that narrow has
    density 1 / r at its centre, the density of certainty about a value
    spread over its rounding cell, so the fitted density at a recorded value
    never exceeds what certainty of that value would score. Without a floor,
    on discrete targets (ratings, counts) a component's density would grow
    without bound on the repeated values.
    """
    gaps = [_smallest_gap(np.unique(y_2d[:, output])) for output in range(y_2d.shape[1])]
    return _min_scale_from_resolution(gaps, scale)


def _min_scale_from_resolution(gaps, scale):
    """``_automatic_min_scale`` given each output's smallest gap (inf: none)."""
    floor = MIN_RELATIVE_SCALE * scale
    for output, gap in enumerate(gaps):
        if math.isfinite(gap):
            floor[output] = max(floor[output], gap / math.sqrt(2 * math.pi))
    return floor


def _smallest_gap(sorted_values):
    """The smallest gap between consecutive distinct values; inf for one."""
    gaps = np.diff(sorted_values.astype(np.float64))
    return float(gaps.min()) if gaps.size else math.inf


class _Resolution:
    """Each output's smallest gap between distinct values, over blocks."""

    def __init__(self, n_outputs):
        self._values = [np.empty(0) for _ in range(n_outputs)]
        self._gaps = [math.inf] * n_outputs

    def add(self, y_2d):
        for output, known in enumerate(self._values):
            block = np.unique(y_2d[:, output])
            self._gaps[output] = min(self._gaps[output], _smallest_gap(block))
            if known is None:
                continue
            merged = np.union1d(known, block)
            self._gaps[output] = min(self._gaps[output], _smallest_gap(merged))
            self._values[output] = merged if merged.size <= _MAX_TRACKED_VALUES else None

    def gaps(self):
        return list(self._gaps)


def _block_moments(values, weights, shift):
    """(weight total, weighted mean, weighted sum of squared deviations) of
    ``values - shift``, accumulated in float64 over chunks of rows."""
    chunks = row_chunks(*values.shape)
    total = weights.sum(dtype=np.float64)
    if total <= 0:
        return total, np.zeros(shift.size), np.zeros(shift.size)
    mean = sum(weights[rows] @ (values[rows] - shift) for rows in chunks) / total
    m2 = sum(weights[rows] @ (values[rows] - shift - mean) ** 2 for rows in chunks)
    return total, mean, m2


def _combine(first, second):
    """Moments of two sets of rows from each one's (Chan et al., 1979)."""
    if first is None or first[0] <= 0:
        return second
    if second[0] <= 0:
        return first
    (n_a, mean_a, m2_a), (n_b, mean_b, m2_b) = first, second
    total = n_a + n_b
    delta = mean_b - mean_a
    return total, mean_a + delta * (n_b / total), m2_a + m2_b + delta**2 * (n_a * n_b / total)


def _mean_and_scale(mean, variance):
    """Standard deviations from variances; a constant column gets scale 1."""
    scale = np.sqrt(variance)
    # A constant column carries no information; leave it centred, unscaled.
    constant = scale <= 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)
    scale[constant] = 1.0
    return mean, scale


def _weighted_mean_and_scale(values, sample_weight):
    """Column means and standard deviations; zero-variance columns get scale 1.

    Accumulated in float64 over chunks of rows, so a large X needs no
    full-size temporary.
    """
    # Deviations from the first row keep a constant column's mean exact (a
    # plain running sum would leave rounding error that then passes for a
    # tiny standard deviation).
    shift = values[0].astype(np.float64)
    chunks = row_chunks(*values.shape)
    total = sample_weight.sum(dtype=np.float64)
    mean = shift + sum(sample_weight[rows] @ (values[rows] - shift) for rows in chunks) / total
    variance = sum(sample_weight[rows] @ (values[rows] - mean) ** 2 for rows in chunks) / total
    return _mean_and_scale(mean, variance)
