"""Synthetic conditional-density problems with known generating processes.

Both are "non-function" mappings: one x has several plausible y, so a regressor
that predicts E[y | x] lands between the branches.
"""

import math

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from numbers import Integral, Real

# The noiseless spiral reaches radius 2 pi * revolutions; this fixed affine map
# (not the sample's min and max) sends that extent to [0, 5], so the density of
# the scaled data stays a known function of the generating process.
_SPIRAL_EXTENT = 5.0


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "revolutions": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_spiral(n_samples=1000, *, noise=0.2, revolutions=2, random_state=None):
    """Noisy spiral: predict the second coordinate from the first.

    The angle is uniform on ``[0, 2 pi revolutions]``, the point is
    ``angle * (cos(angle), sin(angle))`` plus isotropic Gaussian noise of
    standard deviation ``noise``, and both coordinates are mapped by the same
    fixed affine map that sends the noiseless spiral's extent
    ``[-2 pi revolutions, 2 pi revolutions]`` to ``[0, 5]`` (noise can spill a
    little past the edges). For most x there are several y: the spiral crosses
    the vertical line through x on two or three branches.
    This is the data set of the keras-io MDN recipe.

    Parameters
    ----------
    n_samples : int, default=1000
    noise : float, default=0.2
        Standard deviation of the noise, in the spiral's units before scaling.
    revolutions : float, default=2
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
        First coordinate.
    y : ndarray of shape (n_samples,)
        Second coordinate.

    Examples
    --------
    >>> from skmdn.datasets import make_spiral
    >>> X, y = make_spiral(500, random_state=0)
    >>> X.shape, y.shape
    ((500, 1), (500,))
    """
    rng = check_random_state(random_state)
    radius = 2.0 * math.pi * revolutions
    angle = rng.uniform(0.0, radius, n_samples)
    points = angle[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    points += rng.normal(scale=noise, size=points.shape)
    points = (points + radius) * (_SPIRAL_EXTENT / (2.0 * radius))
    return points[:, :1], points[:, 1]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_inverse_sine(n_samples=1000, *, noise=0.1, random_state=None):
    """Bishop's inverse problem (PRML, section 5.6): predict t from x.

    ``t ~ U(0, 1)`` and ``x = t + 0.3 sin(2 pi t) + U(-noise, noise)``. The
    forward map t -> x is a function; the inverse x -> t has up to three
    branches for x in the middle of the range.

    Parameters
    ----------
    n_samples : int, default=1000
    noise : float, default=0.1
        Half-width of the uniform noise on x.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
        The observed x.
    y : ndarray of shape (n_samples,)
        The t that produced it.

    Examples
    --------
    >>> from skmdn.datasets import make_inverse_sine
    >>> X, y = make_inverse_sine(300, random_state=0)
    >>> float(y.min()) >= 0.0 and float(y.max()) <= 1.0
    True
    """
    rng = check_random_state(random_state)
    t = rng.uniform(0.0, 1.0, n_samples)
    x = t + 0.3 * np.sin(2.0 * math.pi * t) + rng.uniform(-noise, noise, n_samples)
    return x[:, None], t
