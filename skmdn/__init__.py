"""skmdn: scikit-learn compatible Mixture Density Networks.

``import skmdn`` is cheap: scikit-learn loads when ``MDNRegressor``,
``GaussianMixtureDistribution`` or ``ConformalMDN`` is first used, and Keras
and TensorFlow only when a model is first fitted, used for prediction or
unpickled.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for type checkers and documentation tools; not run
    from ._conformal import ConformalMDN
    from ._estimator import MDNRegressor, load
    from ._mixture import GaussianMixtureDistribution
    from ._scaling import Scaling

from ._version import __version__

# Public name -> private module that defines it, imported on first access.
_LAZY = {
    "ConformalMDN": "._conformal",
    "MDNRegressor": "._estimator",
    "GaussianMixtureDistribution": "._mixture",
    "Scaling": "._scaling",
    "load": "._estimator",
}

__all__ = [
    "ConformalMDN",
    "GaussianMixtureDistribution",
    "MDNRegressor",
    "Scaling",
    "__version__",
    "load",
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
