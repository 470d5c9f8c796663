"""GaussianMixtureDistribution as a TensorFlow Probability distribution.

Apart from the training module (``_network``): ``to_tfp()`` loads TensorFlow
and TensorFlow Probability, not Keras' training machinery.
"""

from ._backend import load_tensorflow, quiet_native_startup


def tfp_mixture(weights, means, scales, univariate):
    """A float64 ``tfp.distributions.MixtureSameFamily`` with these parameters.

    ``means`` and ``scales`` have shape (n, K, d); ``univariate`` selects Normal
    components (event shape ``()``, d must be 1) over MultivariateNormalDiag.
    """
    load_tensorflow()
    with quiet_native_startup():
        import tensorflow_probability as tfp

        # Loaded lazily, on first access: TensorFlow Probability's own
        # start-up lines come here.
        distributions = tfp.distributions
    if univariate:
        components = distributions.Normal(loc=means[..., 0], scale=scales[..., 0])
    else:
        components = distributions.MultivariateNormalDiag(loc=means, scale_diag=scales)
    return distributions.MixtureSameFamily(
        mixture_distribution=distributions.Categorical(probs=weights),
        components_distribution=components,
    )
