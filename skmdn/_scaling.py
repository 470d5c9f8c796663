"""The standardisation of X and y, and its way back to the original units.

The network sees X and y standardised (each column centred on its weighted
mean and divided by its weighted standard deviation) and predicts mixtures in
standardised units; users see y's original units. ``Scaling`` holds the
means, scales and the floor on component scales, and is the one place that
converts between the two: the standardised floor, the log-Jacobian that maps
standardised log-likelihoods to the original units, and the mixture
parameters in original units.
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


def row_chunks(n_rows, n_columns):
    """Slices covering ``n_rows`` rows, about ``_CHUNK_VALUES`` values each."""
    step = max(1, _CHUNK_VALUES // max(n_columns, 1))
    return [slice(start, start + step) for start in range(0, n_rows, step)]


@dataclasses.dataclass(frozen=True)
class Scaling:
    """Column means and scales of X and y, and the floor on component scales.

    Parameters
    ----------
    x_mean, x_scale : ndarray of shape (n_features,)
    y_mean, y_scale : ndarray of shape (n_outputs,)
    min_scale : ndarray of shape (n_outputs,)
        The floor on every component's scale, in the units of y.
    """

    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: np.ndarray
    y_scale: np.ndarray
    min_scale: np.ndarray

    @classmethod
    def fit(cls, X, y_2d, sample_weight, min_scale):
        """The weighted scaling of (X, y); ``min_scale`` is the parameter
        (``"auto"`` or a number in the units of y)."""
        x_mean, x_scale = _weighted_mean_and_scale(X, sample_weight)
        y_mean, y_scale = _weighted_mean_and_scale(y_2d, sample_weight)
        if min_scale == "auto":
            floor = _automatic_min_scale(y_2d[sample_weight > 0], y_scale)
        else:
            floor = np.full(y_2d.shape[1], float(min_scale))
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
    floor = MIN_RELATIVE_SCALE * scale
    for output in range(y_2d.shape[1]):
        gaps = np.diff(np.unique(y_2d[:, output]).astype(np.float64))
        if gaps.size:
            floor[output] = max(floor[output], gaps.min() / math.sqrt(2 * math.pi))
    return floor


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
    scale = np.sqrt(variance)
    # A constant column carries no information; leave it centred, unscaled.
    constant = scale <= 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)
    scale[constant] = 1.0
    return mean, scale
