"""The Keras side of skmdn: the network, its mixture head, the loss and training.

This is the only module that imports Keras and TensorFlow; the estimator imports
it on first use, so ``import skmdn`` stays cheap.

The network maps standardised inputs to the raw head output ``[logits (K),
means (K*d), raw scales (K*d)]``, once per member network when several are
trained side by side (``n_networks``; their mixtures are averaged). Training
runs in compiled ``tf.function`` calls of many epochs (graph loops over
epochs and mini-batches, Adam written out as tensor updates, the stopping
rule in the graph), so a fit costs a few Python calls of up to half a second
each instead of one per batch; the estimator looks for an interrupt between
them. The compiled functions take the weights as arguments rather than
closing over one model's variables, and are cached by architecture: a second
model of the same shape (cross-validation, grid search, refits) reuses the
traced graphs instead of tracing again.
"""

import dataclasses
import functools
import logging
import math
import typing

import numpy as np
from scipy.special import ndtri

from . import _fitted, _optimiser
from ._backend import load_tensorflow, quiet_native_startup

tf = load_tensorflow()
with quiet_native_startup():
    import keras


class _OwnRetracingFilter(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warnings about
    skmdn's own functions: each architecture is traced once and cached (a
    grid search over n_components meets several), which is by design. The
    warning stays for the user's own functions."""

    def filter(self, record):
        message = record.getMessage()
        return not ("triggered tf.function retracing" in message and __name__ in message)


tf.get_logger().addFilter(_OwnRetracingFilter())

# sklearn's MLP activation names mapped to Keras' names.
ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}

# Rows per forward pass at inference and when scoring the validation set:
# bounds the memory of hidden activations (a large validation set's would
# exceed the data), and is fixed so that a row's prediction never depends on
# the other rows.
PREDICT_CHUNK_ROWS = 4096
# TensorFlow reads a buffer it did not allocate in place only at this alignment.
TENSOR_ALIGNMENT = 64

LOG_2PI = math.log(2.0 * math.pi)

@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """Everything that fixes the network's graph; the key of the trace cache."""

    n_features: int
    n_outputs: int
    n_components: int
    hidden_layer_sizes: tuple
    activation: str
    dtype: str
    # Defaults, so that a spec pickled before the fields existed reads as one
    # network of diagonal components.
    n_networks: int = 1
    covariance_type: str = "diag"

    @property
    def head_size(self):
        """Raw outputs of one member network."""
        return _fitted.head_size(self.n_components, self.n_outputs, self.covariance_type)

    @property
    def full(self):
        """Whether components have full covariance (a Cholesky factor each)."""
        return self.covariance_type == "full" and self.n_outputs > 1


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
    # softplus(raw) = 1 / sqrt(K), on top of the floor.
    raw_scale = math.log(math.expm1(1.0 / math.sqrt(n_components)))
    # Full covariance: uncorrelated at the start.
    n_lower = spec.head_size - n_components * (1 + 2 * n_outputs)
    return np.concatenate(
        [
            np.zeros(n_components),
            means.ravel(),
            np.full(n_components * n_outputs, raw_scale),
            np.zeros(n_lower),
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
        ``(n, n_networks * n_components * (1 + 2 * n_outputs))``: the member
        networks' head outputs side by side.
    """
    rng = np.random.default_rng(seed)
    inputs = keras.Input(shape=(spec.n_features,), dtype=spec.dtype, name="X")
    heads = []
    for member in range(spec.n_networks):
        # One network keeps the layer names it always had (saved models).
        prefix = "" if spec.n_networks == 1 else f"network_{member}_"
        layer_seeds = rng.integers(0, 2**31 - 1, size=len(spec.hidden_layer_sizes) + 1)
        hidden = inputs
        for index, (units, layer_seed) in enumerate(
            zip(spec.hidden_layer_sizes, layer_seeds)
        ):
            hidden = keras.layers.Dense(
                units,
                activation=ACTIVATIONS[spec.activation],
                kernel_initializer=keras.initializers.GlorotUniform(seed=int(layer_seed)),
                dtype=spec.dtype,
                name=f"{prefix}hidden_{index}",
            )(hidden)
        # A small head kernel: at the start the mixture is set by the bias, so
        # training starts from spread-out components whatever the inputs are.
        heads.append(
            keras.layers.Dense(
                spec.head_size,
                kernel_initializer=keras.initializers.VarianceScaling(
                    scale=0.1, mode="fan_avg", distribution="uniform", seed=int(layer_seeds[-1])
                ),
                bias_initializer=keras.initializers.Constant(_initial_head_bias(spec, rng)),
                dtype=spec.dtype,
                name=f"{prefix}mixture_head",
            )(hidden)
        )
    head = (
        heads[0]
        if spec.n_networks == 1
        else keras.layers.Concatenate(dtype=spec.dtype, name="heads")(heads)
    )
    return keras.Model(inputs, head, name="mdn")


def mixture_parameters(raw, spec, min_scale, scale_factor=1.0):
    """Split the raw head output into mixture parameters (standardised units).

    ``min_scale`` (n_outputs,) is the floor on the component scales and
    ``scale_factor`` multiplies the part of each scale above it (the
    estimator's ``scale_factor_``). The member networks' mixtures are joined
    into one of ``n_networks * n_components`` components, each network's
    weights divided by ``n_networks``: the average of their densities.

    With full covariance (``spec.full``) a fourth tensor, each component's
    Cholesky factor: the scales on its diagonal and, below it, the head's
    remaining outputs times ``scale_factor`` (so the factor widens the whole
    covariance above the floor).

    Returns
    -------
    log_weights : tensor of shape (n, n_networks * K)
    means, scales : tensors of shape (n, n_networks * K, d)
    scale_tril : tensor of shape (n, n_networks * K, d, d), with full covariance
    """
    n_networks, n_components, n_outputs = spec.n_networks, spec.n_components, spec.n_outputs
    raw = tf.reshape(raw, (-1, n_networks, spec.head_size))
    logits = raw[:, :, :n_components]
    joined = (-1, n_networks * n_components, n_outputs)
    means = tf.reshape(raw[:, :, n_components : n_components * (1 + n_outputs)], joined)
    raw_scales = tf.reshape(
        raw[:, :, n_components * (1 + n_outputs) : n_components * (1 + 2 * n_outputs)], joined
    )
    # softplus grows linearly (no overflow as exp or ELU+1 can), and the floor
    # keeps the density finite when targets tie.
    scales = scale_factor * tf.math.softplus(raw_scales) + min_scale
    log_weights = tf.reshape(tf.nn.log_softmax(logits, axis=2), joined[:2])
    parameters = (log_weights - math.log(n_networks), means, scales)
    if not spec.full:
        return parameters
    n_lower = n_outputs * (n_outputs - 1) // 2
    lower = tf.reshape(
        raw[:, :, n_components * (1 + 2 * n_outputs) :], (-1, n_networks * n_components, n_lower)
    )
    # Each entry of the d x d factor from the lower entries, a zero appended
    # for the diagonal and above: a fixed gather, no scatter in the graph.
    padded = tf.concat([scale_factor * lower, tf.zeros_like(lower[..., :1])], axis=-1)
    below = tf.reshape(
        tf.gather(padded, _lower_positions(n_outputs), axis=-1), (*joined, n_outputs)
    )
    return (*parameters, below + tf.linalg.diag(scales))


@functools.lru_cache(maxsize=8)
def _lower_positions(n_outputs):
    """For each entry (i, j) of a d x d matrix in row order, its index in the
    vector of entries below the diagonal (row by row), or d(d - 1)/2 (the
    appended zero) on and above the diagonal."""
    n_lower = n_outputs * (n_outputs - 1) // 2
    positions = np.full((n_outputs, n_outputs), n_lower, dtype=np.int32)
    rows, columns = np.tril_indices(n_outputs, k=-1)
    positions[rows, columns] = np.arange(n_lower)
    return positions.ravel()


def _forward_substitution(scale_tril, difference):
    """L^-1 (y - mu) for factors (n, K, d, d) and differences (n, K, d), one
    output at a time: for the few outputs of a mixture, d elementwise steps
    beat batched triangular solves of tiny matrices (an epoch of the speed
    benchmark's two-output case took 0.007-0.009 s against 0.0135 s,
    2026-12-03)."""
    n_outputs = difference.shape[-1]
    solved = []
    for i in range(n_outputs):
        value = difference[..., i]
        for j in range(i):
            value = value - scale_tril[..., i, j] * solved[j]
        solved.append(value / scale_tril[..., i, i])
    return tf.stack(solved, axis=-1)


def negative_log_likelihood(raw, y, spec, min_scale, per_network=False):
    """Per-row mixture NLL of standardised ``y`` (n, d), computed in log space.

    With ``per_network``, the mean over the member networks of each one's own
    NLL (the training loss: the members train as if alone); otherwise the NLL
    of their averaged density.
    """
    log_weights, means, scales, *scale_tril = mixture_parameters(raw, spec, min_scale)
    if scale_tril:
        z = _forward_substitution(scale_tril[0], y[:, None, :] - means)
    else:
        z = (y[:, None, :] - means) / scales
    # The factor's diagonal is the scales: log|det L| = sum log scales.
    component_log_prob = -0.5 * tf.reduce_sum(z * z, axis=2) - tf.reduce_sum(
        tf.math.log(scales), axis=2
    )
    joint = log_weights + component_log_prob
    # One network takes the plain log-sum-exp: the reshaped one differs in
    # the last bit, and one network's fits stay those of earlier versions.
    if per_network and spec.n_networks > 1:
        # Each member's weights sum to 1 / n_networks: add that back.
        members = tf.reshape(joint, (-1, spec.n_networks, spec.n_components))
        log_prob = tf.reduce_mean(
            tf.reduce_logsumexp(members, axis=2), axis=1
        ) + math.log(spec.n_networks)
    else:
        log_prob = tf.reduce_logsumexp(joint, axis=1)
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
        # The kernels that take the inputs (one per member network): the
        # input penalty acts on their rows, one row per input feature.
        first_layer = "hidden_0" if spec.hidden_layer_sizes else "mixture_head"
        self._is_input_kernel = [
            variable.path.split("/")[0].endswith(first_layer) and variable.path.endswith("kernel")
            for variable in self._template.trainable_variables
        ]
        dtype = tf.as_dtype(spec.dtype)
        weights = [
            tf.TensorSpec(variable.shape, dtype)
            for variable in self._template.trainable_variables
        ]
        scalar = tf.TensorSpec((), dtype)
        data = (
            tf.TensorSpec((None, spec.n_features), dtype),
            tf.TensorSpec((None, spec.n_outputs), dtype),
            tf.TensorSpec((None,), dtype),
        )
        state = TrainingState(
            weights=weights,
            adam=_optimiser.AdamState(scalar, weights, weights, weights),
            start_weights=weights,
            best_weights=weights,
            best_criterion=scalar,
            no_improvement=tf.TensorSpec((), tf.int32),
            learning_rate=scalar,
        )
        settings = TrainingSettings(
            n_epochs=tf.TensorSpec((), tf.int32),
            first_epoch=tf.TensorSpec((), tf.int32),
            batch_size=tf.TensorSpec((), tf.int32),
            seed=tf.TensorSpec((2,), tf.int32),
            alpha=scalar,
            input_penalty=scalar,
            tol=scalar,
            n_iter_no_change=tf.TensorSpec((), tf.int32),
            shuffle=tf.TensorSpec((), tf.bool),
            beta_1=scalar,
            beta_2=scalar,
            beta_1_complement=scalar,
            beta_2_complement=scalar,
            epsilon=scalar,
            early_stopping=tf.TensorSpec((), tf.bool),
            adaptive=tf.TensorSpec((), tf.bool),
            log_jacobian=scalar,
            x_noise_std=scalar,
            y_noise_std=scalar,
            min_scale=tf.TensorSpec((spec.n_outputs,), dtype),
        )
        # The loops and branches are written as tf.while_loop and tf.cond:
        # AutoGraph's conversion of the Python versions took about 1 s of
        # the first fit in every process (measured on 2 cores).
        self.train = tf.function(
            self._train, input_signature=[state, data, data, settings], autograph=False
        )
        self.parameters = tf.function(
            self._parameters,
            input_signature=[weights, data[0], tf.TensorSpec((spec.n_outputs,), dtype), scalar],
            autograph=False,
        )

    def _forward(self, weights, X):
        raw, _ = self._template.stateless_call(weights, [], X)
        return raw

    def _train_epoch(self, weights, adam, data, settings, learning_rate, seed):
        """One pass over shuffled mini-batches; returns new weights, Adam state, mean loss."""
        X, y, sample_weight = data
        n_samples = tf.shape(X)[0]
        batch_size = settings.batch_size
        order = tf.cond(
            settings.shuffle,
            lambda: tf.argsort(tf.random.stateless_uniform([n_samples], seed)),
            lambda: tf.range(n_samples),
        )
        n_batches = (n_samples + batch_size - 1) // batch_size

        def step(batch, weights, adam, total_loss):
            rows = order[batch * batch_size : tf.minimum((batch + 1) * batch_size, n_samples)]
            X_batch, y_batch, w_batch = (tf.gather(a, rows) for a in data)
            # Noise regularisation (Rothfuss et al., 2019): fresh Gaussian
            # noise on the standardised inputs and targets of every batch
            # smooths the fitted density; zero scales add exactly nothing.
            noise_seed = tf.random.experimental.stateless_fold_in(seed, batch)
            X_batch += settings.x_noise_std * tf.random.stateless_normal(
                tf.shape(X_batch), noise_seed, dtype=X_batch.dtype
            )
            y_batch += settings.y_noise_std * tf.random.stateless_normal(
                tf.shape(y_batch), noise_seed + 1, dtype=y_batch.dtype
            )
            weight_sum = tf.reduce_sum(w_batch)
            with tf.GradientTape() as tape:
                tape.watch(weights)
                nll = negative_log_likelihood(
                    self._forward(weights, X_batch),
                    y_batch,
                    self.spec,
                    settings.min_scale,
                    per_network=True,
                )
                # As MLPRegressor: weighted mean loss plus an L2 penalty on the
                # kernels divided by the batch's (weighted) sample size; with
                # several networks, the mean of their losses (Adam's steps do
                # not depend on the loss's scale, so each member steps as if
                # it trained alone).
                penalty = tf.add_n(
                    [
                        tf.reduce_sum(tf.square(w))
                        for w, is_kernel in zip(weights, self._is_kernel)
                        if is_kernel
                    ]
                ) / self.spec.n_networks
                # Group lasso on the inputs: the sum over features of the norm
                # of the weights leaving each, so that whole inputs are
                # switched off (the small constant keeps the gradient at zero
                # finite).
                input_penalty = tf.add_n(
                    [
                        tf.reduce_sum(tf.sqrt(tf.reduce_sum(tf.square(w), axis=1) + 1e-12))
                        for w, is_input in zip(weights, self._is_input_kernel)
                        if is_input
                    ]
                ) / self.spec.n_networks
                loss = (
                    tf.reduce_sum(w_batch * nll)
                    + 0.5 * settings.alpha * penalty
                    + settings.input_penalty * input_penalty
                ) / weight_sum
            weights, adam = _optimiser.adam_step(
                adam, weights, tape.gradient(loss, weights), learning_rate, settings
            )
            return batch + 1, weights, adam, total_loss + loss * weight_sum

        _, weights, adam, total_loss = tf.while_loop(
            lambda batch, *_: batch < n_batches,
            step,
            (tf.constant(0), weights, adam, tf.zeros((), X.dtype)),
        )
        mean_loss = total_loss / tf.reduce_sum(sample_weight)
        return weights, adam, mean_loss

    def _validation_log_likelihood(self, weights, validation, settings):
        """Weighted mean log-likelihood of the validation rows, original units."""
        X, y, sample_weight = validation

        def chunk(start, total):
            rows = slice(start, start + PREDICT_CHUNK_ROWS)
            nll = negative_log_likelihood(
                self._forward(weights, X[rows]), y[rows], self.spec, settings.min_scale
            )
            return start + PREDICT_CHUNK_ROWS, total + tf.reduce_sum(sample_weight[rows] * nll)

        _, total = tf.while_loop(
            lambda start, _: start < tf.shape(X)[0], chunk, (tf.constant(0), tf.zeros((), X.dtype))
        )
        return -total / tf.reduce_sum(sample_weight) - settings.log_jacobian

    def _train(self, state, data, validation, settings):
        """Up to ``settings.n_epochs`` epochs with the stopping rule in the graph.

        The stopping rule is MLPRegressor's: the criterion (validation
        log-likelihood with early stopping, else minus the training loss) must
        beat its best by ``tol`` at least once every ``n_iter_no_change + 1``
        epochs. An epoch whose loss, validation score or new weights are not
        finite is discarded and ends training (``diverged``). An epoch's loss
        is measured before its last update, so ``start_weights`` (where the
        last accepted epoch began) are the newest weights known to give a
        finite loss.

        Returns
        -------
        state : TrainingState
        losses, scores : tensors of shape (n_done,)
            Training loss and validation log-likelihood (NaN without early
            stopping) of each completed epoch.
        diverged, stopped : bool tensors
        """
        dtype = data[0].dtype

        def epoch_step(epoch, state, losses, scores, diverged, stopped):
            # Seeded by the epoch's number within the fit, so that running
            # the epochs in one call or in several gives the same fit.
            seed = tf.random.experimental.stateless_fold_in(
                settings.seed, settings.first_epoch + epoch
            )
            weights, adam, loss = self._train_epoch(
                state.weights, state.adam, data, settings, state.learning_rate, seed
            )
            candidate = _optimiser.averaged_weights(adam)
            score = tf.cond(
                settings.early_stopping,
                lambda: self._validation_log_likelihood(candidate, validation, settings),
                lambda: tf.constant(math.nan, dtype),
            )
            criterion = tf.where(settings.early_stopping, score, -loss)
            finite = tf.reduce_all(
                [tf.math.is_finite(loss), tf.math.is_finite(criterion)]
                + [tf.reduce_all(tf.math.is_finite(w)) for w in weights]
            )
            improved = criterion > state.best_criterion + settings.tol
            better = criterion > state.best_criterion
            no_improvement = tf.where(improved, 0, state.no_improvement + 1)
            best_weights = [
                tf.where(better, w, best) for w, best in zip(candidate, state.best_weights)
            ]
            stalled = no_improvement > settings.n_iter_no_change
            # learning_rate="adaptive", as MLPRegressor's: divide the step
            # size by 5 instead of stopping, until it would fall below 1e-6;
            # with early stopping, go on from the best weights.
            lower = stalled & settings.adaptive & (state.learning_rate / 5 >= 1e-6)
            restart = lower & settings.early_stopping
            accepted = TrainingState(
                weights=[tf.where(restart, b, w) for w, b in zip(weights, best_weights)],
                adam=adam,
                start_weights=state.weights,
                best_weights=best_weights,
                best_criterion=tf.maximum(criterion, state.best_criterion),
                no_improvement=tf.where(lower, 0, no_improvement),
                learning_rate=tf.where(lower, state.learning_rate / 5, state.learning_rate),
            )
            # An epoch that is not finite is discarded and ends training.
            state = tf.nest.map_structure(
                lambda new, old: tf.where(finite, new, old), accepted, state
            )
            losses, scores, epoch = tf.cond(
                finite,
                lambda: (losses.write(epoch, loss), scores.write(epoch, score), epoch + 1),
                lambda: (losses, scores, epoch),
            )
            return epoch, state, losses, scores, ~finite, finite & stalled & ~lower

        _, state, losses, scores, diverged, stopped = tf.while_loop(
            lambda epoch, state, losses, scores, diverged, stopped: (
                (epoch < settings.n_epochs) & ~diverged & ~stopped
            ),
            epoch_step,
            (
                tf.constant(0),
                state,
                tf.TensorArray(dtype, size=0, dynamic_size=True),
                tf.TensorArray(dtype, size=0, dynamic_size=True),
                tf.constant(False),
                tf.constant(False),
            ),
        )
        return state, losses.stack(), scores.stack(), diverged, stopped

    def _parameters(self, weights, X, min_scale, scale_factor):
        return mixture_parameters(self._forward(weights, X), self.spec, min_scale, scale_factor)


class TrainingState(typing.NamedTuple):
    """What training carries from epoch to epoch (and from fit to warm fit).

    ``learning_rate`` is the current step size (``learning_rate="adaptive"``
    lowers it); every fit starts it at ``learning_rate_init``.
    """

    weights: list
    adam: _optimiser.AdamState
    start_weights: list
    best_weights: list
    best_criterion: object
    no_improvement: object
    learning_rate: object


class TrainingSettings(typing.NamedTuple):
    """Per-call numbers; tensors, so a new value never triggers a retrace.

    A fit runs its epochs in several calls (so that an interrupt is seen
    between them); ``first_epoch`` numbers the call's first epoch within the
    fit, which seeds its shuffling and noise.
    """

    n_epochs: object
    first_epoch: object
    batch_size: object
    seed: object
    alpha: object
    input_penalty: object
    tol: object
    n_iter_no_change: object
    shuffle: object
    beta_1: object
    beta_2: object
    beta_1_complement: object
    beta_2_complement: object
    epsilon: object
    early_stopping: object
    adaptive: object
    log_jacobian: object
    x_noise_std: object
    y_noise_std: object
    min_scale: object


@functools.lru_cache(maxsize=32)
def compiled_network(spec):
    """The cached ``CompiledNetwork`` for ``spec``."""
    return CompiledNetwork(spec)


def initial_state(model):
    """A fresh training state for ``model``: its weights, zeroed Adam moments."""
    weights = model_weights(model)
    return TrainingState(
        weights=weights,
        adam=_optimiser.initial_state(weights),
        start_weights=weights,
        best_weights=weights,
        best_criterion=tf.constant(-math.inf, weights[0].dtype),
        no_improvement=tf.constant(0),
        learning_rate=tf.constant(0.0, weights[0].dtype),
    )


def restart_from_best(state):
    """``state`` set back to its best weights, their moving average too, with
    the count of epochs without improvement at zero; Adam's moments and step
    size carry on."""
    return state._replace(
        weights=list(state.best_weights),
        adam=_optimiser.restart_average(state.adam, state.best_weights),
        no_improvement=tf.zeros_like(state.no_improvement),
    )


def model_weights(model):
    """The trainable weights of ``model`` as a list of tensors."""
    return [tf.convert_to_tensor(variable) for variable in model.trainable_variables]


def set_model_weights(model, weights):
    for variable, value in zip(model.trainable_variables, weights):
        variable.assign(value)


def settings_to_tensors(settings, dtype):
    """``TrainingSettings`` of Python numbers as tensors of the traced dtypes."""
    dtypes = TrainingSettings(
        n_epochs="int32",
        first_epoch="int32",
        batch_size="int32",
        seed="int32",
        alpha=dtype,
        input_penalty=dtype,
        tol=dtype,
        n_iter_no_change="int32",
        shuffle="bool",
        beta_1=dtype,
        beta_2=dtype,
        beta_1_complement=dtype,
        beta_2_complement=dtype,
        epsilon=dtype,
        early_stopping="bool",
        adaptive="bool",
        log_jacobian=dtype,
        x_noise_std=dtype,
        y_noise_std=dtype,
        min_scale=dtype,
    )
    return TrainingSettings(*map(tf.constant, settings, dtypes))


def to_tensor(array, dtype):
    return tf.convert_to_tensor(np.asarray(array, dtype=dtype))


def filled_tensor(shape, dtype, fill):
    """A tensor of ``shape`` whose values ``fill(array)`` writes into a numpy array.

    The tensor shares the array's memory (through DLPack, from a buffer
    aligned as TensorFlow requires), so a large training set exists once, not
    once in numpy and again in TensorFlow.
    """
    n_bytes = math.prod(shape) * np.dtype(dtype).itemsize
    buffer = np.empty(n_bytes + TENSOR_ALIGNMENT, dtype=np.uint8)
    offset = -buffer.ctypes.data % TENSOR_ALIGNMENT
    array = buffer[offset : offset + n_bytes].view(dtype).reshape(shape)
    fill(array)
    if n_bytes == 0:
        return tf.convert_to_tensor(array)
    return tf.experimental.dlpack.from_dlpack(array.__dlpack__())


def parameters_are_finite(weights, spec, X, min_scale):
    """Whether the network with ``weights`` gives finite mixtures on all rows of
    the standardised tensor ``X``."""
    network = compiled_network(spec)
    min_scale = to_tensor(min_scale, spec.dtype)
    scale_factor = to_tensor(1.0, spec.dtype)
    for start in range(0, int(X.shape[0]), PREDICT_CHUNK_ROWS):
        parameters = network.parameters(
            weights, X[start : start + PREDICT_CHUNK_ROWS], min_scale, scale_factor
        )
        if not all(bool(tf.reduce_all(tf.math.is_finite(part))) for part in parameters):
            return False
    return True


def predict_parameters(model, spec, X, min_scale, scale_factor=1.0, weights=None):
    """Mixture parameters (standardised units, float64) for standardised ``X``
    (see ``mixture_parameters`` for ``min_scale`` and ``scale_factor``), of
    ``model``'s weights or of ``weights`` (a list of tensors) if given.

    The network always runs on blocks of exactly ``PREDICT_CHUNK_ROWS`` rows
    (the last one padded): matrix kernels pick their blocking by the number
    of rows, so a fixed block makes each row's result independent of which
    other rows are predicted with it, to the last bit.

    Returns
    -------
    log_weights : ndarray of shape (n, K)
    means, scales : ndarrays of shape (n, K, d)
    scale_tril : ndarray of shape (n, K, d, d), with full covariance
    """
    network = compiled_network(spec)
    weights = model_weights(model) if weights is None else weights
    min_scale = to_tensor(min_scale, spec.dtype)
    scale_factor = to_tensor(scale_factor, spec.dtype)
    n_rows = X.shape[0]
    padded = np.zeros((-(-n_rows // PREDICT_CHUNK_ROWS) * PREDICT_CHUNK_ROWS, X.shape[1]), spec.dtype)
    padded[:n_rows] = X
    chunks = [
        network.parameters(
            weights,
            tf.convert_to_tensor(padded[start : start + PREDICT_CHUNK_ROWS]),
            min_scale,
            scale_factor,
        )
        for start in range(0, padded.shape[0], PREDICT_CHUNK_ROWS)
    ]
    return tuple(
        np.concatenate([chunk[i].numpy() for chunk in chunks])[:n_rows].astype(np.float64)
        for i in range(len(chunks[0]))
    )


def model_to_arrays(model):
    """The weights of ``model`` as numpy arrays (for pickling)."""
    return [variable.numpy() for variable in model.trainable_variables]


def model_from_arrays(spec, arrays):
    """Rebuild a model of ``spec`` holding the weights ``arrays``."""
    model = build_model(spec, seed=0)
    set_model_weights(model, arrays)
    return model


def state_to_arrays(state):
    """A training state as a plain nested tuple of numpy arrays (picklable,
    and free of skmdn's classes, so that saved states outlive them)."""
    plain = state._replace(adam=tuple(state.adam))
    return tf.nest.map_structure(np.asarray, tuple(plain))


def flatten_state(arrays):
    """A state from ``state_to_arrays`` as a flat list of arrays."""
    return tf.nest.flatten(arrays)


def _state_structure(spec):
    """A training state of ``spec``'s shapes, as ``state_to_arrays`` gives it."""
    return state_to_arrays(initial_state(compiled_network(spec)._template))


def unflatten_state(spec, flat):
    """Inverse of ``flatten_state`` for a model of ``spec``."""
    return tf.nest.pack_sequence_as(_state_structure(spec), list(flat))


def state_layout(spec):
    """(shape, dtype) of each array of a flattened training state of ``spec``."""
    return [(array.shape, array.dtype) for array in flatten_state(_state_structure(spec))]


def state_from_arrays(arrays):
    """Inverse of ``state_to_arrays``."""
    state = TrainingState(*tf.nest.map_structure(tf.convert_to_tensor, tuple(arrays)))
    return state._replace(adam=_optimiser.AdamState(*state.adam))
