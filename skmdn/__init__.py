"""skmdn: scikit-learn compatible Mixture Density Networks.

``import skmdn`` does not import TensorFlow; Keras and TensorFlow load on the
first fit, prediction or unpickling of a model.
"""

from ._estimator import MDNRegressor
from ._mixture import GaussianMixtureDistribution

__version__ = "0.1.0"

__all__ = ["GaussianMixtureDistribution", "MDNRegressor", "__version__"]
