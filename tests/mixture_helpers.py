"""Random Gaussian-mixture parameters shared by the distribution test modules."""

import numpy as np


def random_mixtures(n_rows, n_components, n_outputs=None, seed=0, log_scale_range=(0.1, 2.0)):
    """Dirichlet weights, N(0, 2^2) means, log-uniform scales in ``log_scale_range``.

    Means and scales have shape (n_rows, n_components), or with a trailing
    output axis when ``n_outputs`` is given.
    """
    rng = np.random.default_rng(seed)
    shape = (n_rows, n_components) if n_outputs is None else (n_rows, n_components, n_outputs)
    weights = rng.dirichlet(np.ones(n_components), size=n_rows)
    means = rng.normal(scale=2.0, size=shape)
    low, high = np.log(log_scale_range[0]), np.log(log_scale_range[1])
    scales = np.exp(rng.uniform(low, high, size=shape))
    return weights, means, scales
