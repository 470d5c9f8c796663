"""The Keras side of skmdn: the network, its mixture head, the loss and training.

This is the only module that imports Keras and TensorFlow; the estimator imports
it on first use, so ``import skmdn`` stays cheap.

The network maps standardised inputs to the raw head output ``[logits (K),
means (K*d), raw scales (K*d)]``. Training runs one compiled ``tf.function`` per
epoch (a graph loop over mini-batches, Adam written out as tensor updates), so an
epoch costs one Python call instead of one per batch. The compiled functions take
the weights as arguments rather than closing over one model's variables, and are
cached by architecture: a second model of the same shape (cross-validation, grid
search, refits) reuses the traced graphs instead of tracing again.
"""

import dataclasses
import functools
import math

import numpy as np
from scipy.special import ndtri

from ._backend import ensure_tensorflow_backend

ensure_tensorflow_backend()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

# sklearn's MLP activation names mapped to Keras' names.
ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}

# Adam hyper-parameters, as MLPRegressor's defaults.
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-8

# Rows per forward pass at inference: bounds the memory of hidden activations.
PREDICT_CHUNK_ROWS = 65536

LOG_2PI = math.log(2.0 * math.pi)


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """Everything that fixes the network's graph; the key of the trace cache.

    ``min_scale`` is the floor on component scales in standardised units of y.
    """

    n_features: int
    n_outputs: int
    n_components: int
    hidden_layer_sizes: tuple
    activation: str
    dtype: str
    min_scale: float

    @property
    def head_size(self):
        return self.n_components * (1 + 2 * self.n_outputs)


def _initial_head_bias(spec, rng):
    """Head bias that starts every row at a sensible mixture.

    Equal weights, component means spread over the quantiles of a standard
    normal (y is standardised, so this covers the target's range and no two
    components start on top of each other), and scales comparable to the
    spacing of those means.
    """
    n_components, n_outputs = spec.n_components, spec.n_outputs
    quantiles = ndtri((np.arange(n_components) + 0.5) / n_components)
    # An independent permutation per output, so that for d > 1 the means do
    # not all lie on the diagonal.
    means = np.stack(
        [rng.permutation(quantiles) for _ in range(n_outputs)], axis=1
    )
    scale = max(1.0 / math.sqrt(n_components), 2.0 * spec.min_scale)
    raw_scale = math.log(math.expm1(scale - spec.min_scale))
    return np.concatenate(
        [
            np.zeros(n_components),
            means.ravel(),
            np.full(n_components * n_outputs, raw_scale),
        ]
    )


def build_model(spec, seed):
    """Build the Keras model for ``spec`` with weights initialised from ``seed``.

    Parameters
    ----------
    spec : NetworkSpec
    seed : int

    Returns
    -------
    model : keras.Model
        Maps standardised X to the raw head output of shape
        ``(n, n_components * (1 + 2 * n_outputs))``.
    """
    rng = np.random.default_rng(seed)
    layer_seeds = rng.integers(0, 2**31 - 1, size=len(spec.hidden_layer_sizes) + 1)
    inputs = keras.Input(shape=(spec.n_features,), dtype=spec.dtype, name="X")
    hidden = inputs
    for index, (units, layer_seed) in enumerate(
        zip(spec.hidden_layer_sizes, layer_seeds)
    ):
        hidden = keras.layers.Dense(
            units,
            activation=ACTIVATIONS[spec.activation],
            kernel_initializer=keras.initializers.GlorotUniform(seed=int(layer_seed)),
            dtype=spec.dtype,
            name=f"hidden_{index}",
        )(hidden)
    # A small head kernel: at the start the mixture is set by the bias, so
    # training starts from spread-out components whatever the inputs are.
    head = keras.layers.Dense(
        spec.head_size,
        kernel_initializer=keras.initializers.VarianceScaling(
            scale=0.1, mode="fan_avg", distribution="uniform", seed=int(layer_seeds[-1])
        ),
        bias_initializer=keras.initializers.Constant(_initial_head_bias(spec, rng)),
        dtype=spec.dtype,
        name="mixture_head",
    )(hidden)
    return keras.Model(inputs, head, name="mdn")


def mixture_parameters(raw, spec):
    """Split the raw head output into mixture parameters (standardised units).

    Returns
    -------
    log_weights : tensor of shape (n, K)
    means, scales : tensors of shape (n, K, d)
    """
    n_components, n_outputs = spec.n_components, spec.n_outputs
    logits = raw[:, :n_components]
    means = tf.reshape(
        raw[:, n_components : n_components * (1 + n_outputs)],
        (-1, n_components, n_outputs),
    )
    raw_scales = tf.reshape(
        raw[:, n_components * (1 + n_outputs) :], (-1, n_components, n_outputs)
    )
    # softplus grows linearly (no overflow as exp or ELU+1 can), and the floor
    # keeps the density finite when targets tie.
    scales = tf.math.softplus(raw_scales) + tf.cast(spec.min_scale, raw.dtype)
    return tf.nn.log_softmax(logits, axis=1), means, scales


def negative_log_likelihood(raw, y, spec):
    """Per-row mixture NLL of standardised ``y`` (n, d), computed in log space."""
    log_weights, means, scales = mixture_parameters(raw, spec)
    z = (y[:, None, :] - means) / scales
    component_log_prob = -0.5 * tf.reduce_sum(z * z, axis=2) - tf.reduce_sum(
        tf.math.log(scales), axis=2
    )
    log_prob = tf.reduce_logsumexp(log_weights + component_log_prob, axis=1)
    return 0.5 * spec.n_outputs * LOG_2PI - log_prob


class CompiledNetwork:
    """Traced training and inference functions for one ``NetworkSpec``.

    A template model supplies the graph through ``stateless_call``; the weights
    are always passed in, so one instance serves every model of that spec.
    """

    def __init__(self, spec):
        self.spec = spec
        self._template = build_model(spec, seed=0)
        self._is_kernel = [
            variable.path.endswith("kernel")
            for variable in self._template.trainable_variables
        ]
        dtype = tf.as_dtype(spec.dtype)
        weight_specs = [
            tf.TensorSpec(variable.shape, dtype)
            for variable in self._template.trainable_variables
        ]
        x_spec = tf.TensorSpec((None, spec.n_features), dtype)
        y_spec = tf.TensorSpec((None, spec.n_outputs), dtype)
        w_spec = tf.TensorSpec((None,), dtype)
        scalar = tf.TensorSpec((), dtype)
        adam_spec = (scalar, weight_specs, weight_specs)
        self.train_epoch = tf.function(
            self._train_epoch,
            input_signature=[
                weight_specs,
                adam_spec,
                x_spec,
                y_spec,
                w_spec,
                tf.TensorSpec((), tf.int32),
                tf.TensorSpec((2,), tf.int32),
                scalar,
                scalar,
            ],
        )
        self.mean_nll = tf.function(
            self._mean_nll, input_signature=[weight_specs, x_spec, y_spec, w_spec]
        )
        self.parameters = tf.function(
            self._parameters, input_signature=[weight_specs, x_spec]
        )

    def _forward(self, weights, X):
        raw, _ = self._template.stateless_call(weights, [], X)
        return raw

    def _train_epoch(
        self, weights, adam, X, y, sample_weight, batch_size, seed, learning_rate, alpha
    ):
        """One pass over shuffled mini-batches; returns new state and mean loss."""
        dtype = X.dtype
        n_samples = tf.shape(X)[0]
        order = tf.argsort(tf.random.stateless_uniform([n_samples], seed))
        n_batches = (n_samples + batch_size - 1) // batch_size
        step, first_moments, second_moments = adam
        total_loss = tf.zeros((), dtype)
        for batch in tf.range(n_batches):
            rows = order[batch * batch_size : tf.minimum((batch + 1) * batch_size, n_samples)]
            X_batch = tf.gather(X, rows)
            y_batch = tf.gather(y, rows)
            w_batch = tf.gather(sample_weight, rows)
            weight_sum = tf.reduce_sum(w_batch)
            with tf.GradientTape() as tape:
                tape.watch(weights)
                nll = negative_log_likelihood(self._forward(weights, X_batch), y_batch, self.spec)
                # As MLPRegressor: weighted mean loss plus an L2 penalty on the
                # kernels divided by the batch's (weighted) sample size.
                penalty = tf.add_n(
                    [
                        tf.reduce_sum(tf.square(w))
                        for w, is_kernel in zip(weights, self._is_kernel)
                        if is_kernel
                    ]
                )
                loss = (tf.reduce_sum(w_batch * nll) + 0.5 * alpha * penalty) / weight_sum
            gradients = tape.gradient(loss, weights)
            step = step + 1
            first_moments = [
                BETA_1 * m + (1 - BETA_1) * g for m, g in zip(first_moments, gradients)
            ]
            second_moments = [
                BETA_2 * v + (1 - BETA_2) * g * g for v, g in zip(second_moments, gradients)
            ]
            step_size = learning_rate * tf.sqrt(1 - BETA_2**step) / (1 - BETA_1**step)
            weights = [
                w - step_size * m / (tf.sqrt(v) + EPSILON)
                for w, m, v in zip(weights, first_moments, second_moments)
            ]
            total_loss += loss * weight_sum
        mean_loss = total_loss / tf.reduce_sum(sample_weight)
        return weights, (step, first_moments, second_moments), mean_loss

    def _mean_nll(self, weights, X, y, sample_weight):
        nll = negative_log_likelihood(self._forward(weights, X), y, self.spec)
        return tf.reduce_sum(sample_weight * nll) / tf.reduce_sum(sample_weight)

    def _parameters(self, weights, X):
        return mixture_parameters(self._forward(weights, X), self.spec)


@functools.lru_cache(maxsize=32)
def compiled_network(spec):
    """The cached ``CompiledNetwork`` for ``spec``."""
    return CompiledNetwork(spec)


def initial_state(model):
    """Weights of ``model`` and a fresh Adam state, as tensors."""
    weights = model_weights(model)
    zeros = [tf.zeros_like(w) for w in weights]
    return weights, (tf.zeros((), weights[0].dtype), zeros, list(zeros))


def model_weights(model):
    """The trainable weights of ``model`` as a list of tensors."""
    return [tf.convert_to_tensor(variable) for variable in model.trainable_variables]


def set_model_weights(model, weights):
    for variable, value in zip(model.trainable_variables, weights):
        variable.assign(value)


def to_tensor(array, dtype):
    return tf.convert_to_tensor(np.asarray(array, dtype=dtype))


def predict_parameters(model, spec, X):
    """Mixture parameters (standardised units, float64) for standardised ``X``.

    Returns
    -------
    log_weights : ndarray of shape (n, K)
    means, scales : ndarrays of shape (n, K, d)
    """
    network = compiled_network(spec)
    weights = model_weights(model)
    chunks = [
        network.parameters(weights, to_tensor(X[start : start + PREDICT_CHUNK_ROWS], spec.dtype))
        for start in range(0, X.shape[0], PREDICT_CHUNK_ROWS)
    ]
    return tuple(
        np.concatenate([chunk[i].numpy() for chunk in chunks]).astype(np.float64)
        for i in range(3)
    )


def model_to_arrays(model):
    """The weights of ``model`` as numpy arrays (for pickling)."""
    return [np.array(variable) for variable in model.trainable_variables]


def model_from_arrays(spec, arrays):
    """Rebuild a model of ``spec`` holding the weights ``arrays``."""
    model = build_model(spec, seed=0)
    set_model_weights(model, arrays)
    return model


def adam_to_arrays(adam):
    step, first_moments, second_moments = adam
    return (
        float(step),
        [np.asarray(m) for m in first_moments],
        [np.asarray(v) for v in second_moments],
    )


def adam_from_arrays(arrays, dtype):
    step, first_moments, second_moments = arrays
    return (
        to_tensor(step, dtype),
        [to_tensor(m, dtype) for m in first_moments],
        [to_tensor(v, dtype) for v in second_moments],
    )
