"""Adam and a moving average of the weights, as graph code on explicit state.

The compiled training graphs of ``_network`` take the weights as arguments,
so that one graph per architecture serves every model of that shape
(cross-validation folds, grid-search candidates, refits, warm starts): the
optimiser's state is a value passed in and returned with them, not a set of
variables. ``keras.optimizers.Adam`` keeps its state in variables, and its
``stateless_apply`` is not supported on the TensorFlow backend (it raises).
So the update is written here, as Keras and MLPRegressor compute it (epsilon outside the square root, bias
correction folded into the step size); ``tests/test_optimiser.py`` pins
steps against ``keras.optimizers.Adam``.

Early stopping scores and keeps an exponential moving average of the weights
(Polyak averaging), which is less noisy than the last step's weights.

References
----------
Kingma, D. P. and Ba, J. (2015). Adam: a method for stochastic optimization.
ICLR.
Polyak, B. T. and Juditsky, A. B. (1992). Acceleration of stochastic
approximation by averaging. SIAM Journal on Control and Optimization, 30(4).
"""

import typing

from ._backend import load_tensorflow

tf = load_tensorflow()

# Decay per Adam step of the moving average of the weights (horizon about
# 100 steps).
EMA_DECAY = 0.99


class AdamState(typing.NamedTuple):
    """Adam's step count and moments, and the moving average of the weights.

    The lists hold one tensor per trainable variable, in the model's order.
    ``average`` starts at zero and is not yet divided by its total weight
    (see ``averaged_weights``).
    """

    step: object
    first_moments: list
    second_moments: list
    average: list


def initial_state(weights):
    """Step 0, zero moments and a zero average, for ``weights``."""
    zeros = [tf.zeros_like(w) for w in weights]
    return AdamState(tf.zeros((), weights[0].dtype), zeros, list(zeros), list(zeros))


def adam_step(state, weights, gradients, learning_rate, settings):
    """One Adam step; returns the new weights and state.

    ``settings`` supplies ``beta_1``, ``beta_2``, ``epsilon`` and the
    complements ``1 - beta`` (computed on the host in float64, then rounded:
    in float32 ``1 - 0.9`` is not the float32 nearest to 0.1).
    """
    beta_1, beta_2 = settings.beta_1, settings.beta_2
    keep_1, keep_2 = settings.beta_1_complement, settings.beta_2_complement
    step = state.step + 1
    first_moments = [beta_1 * m + keep_1 * g for m, g in zip(state.first_moments, gradients)]
    second_moments = [
        beta_2 * v + keep_2 * g * g for v, g in zip(state.second_moments, gradients)
    ]
    step_size = learning_rate * tf.sqrt(1 - beta_2**step) / (1 - beta_1**step)
    weights = [
        w - step_size * m / (tf.sqrt(v) + settings.epsilon)
        for w, m, v in zip(weights, first_moments, second_moments)
    ]
    average = [EMA_DECAY * a + (1 - EMA_DECAY) * w for a, w in zip(state.average, weights)]
    return weights, AdamState(step, first_moments, second_moments, average)


def averaged_weights(state):
    """The moving average of the weights visited so far.

    The average starts at zero: it is divided by the total weight it has
    given to visited weights (as Adam's bias correction).
    """
    correction = 1 - EMA_DECAY**state.step
    return [average / correction for average in state.average]


def restart_average(state, weights):
    """``state`` with its average set to ``weights`` (the moments carry on)."""
    correction = 1 - EMA_DECAY**state.step
    return state._replace(average=[w * correction for w in weights])
