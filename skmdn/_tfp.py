"""GaussianMixtureDistribution as a TensorFlow Probability distribution.

Apart from the training module (``_network``): ``to_tfp()`` loads TensorFlow
and TensorFlow Probability, not Keras' training machinery.
"""

from ._backend import load_tensorflow, quiet_native_startup


def tfp_mixture(weights, means, scales, univariate, scale_tril=None):
    """A float64 ``tfp.distributions.MixtureSameFamily`` with these parameters.

    ``means`` and ``scales`` have shape (n, K, d); ``univariate`` selects Normal
    components (event shape ``()``, d must be 1) over MultivariateNormalDiag,
    or MultivariateNormalTriL where ``scale_tril`` (n, K, d, d) is given.
    """
    load_tensorflow()
    with quiet_native_startup():
        import tensorflow_probability as tfp

        # Loaded lazily, on first access: TensorFlow Probability's own
        # start-up lines come here.
        distributions = tfp.distributions
    if univariate:
        components = distributions.Normal(loc=means[..., 0], scale=scales[..., 0])
    elif scale_tril is not None:
        components = distributions.MultivariateNormalTriL(loc=means, scale_tril=scale_tril)
    else:
        components = distributions.MultivariateNormalDiag(loc=means, scale_diag=scales)
    return distributions.MixtureSameFamily(
        mixture_distribution=distributions.Categorical(probs=weights),
        components_distribution=components,
    )
