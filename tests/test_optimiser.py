"""The optimiser: skmdn's Adam steps against Keras' Adam, and MLPRegressor's
optimiser parameters carried over."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from numpy.testing import assert_allclose
from sklearn.neural_network import MLPRegressor
from sklearn.utils._param_validation import InvalidParameterError

from skmdn import MDNRegressor, _network

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# MLPRegressor's parameters that only its "sgd" or "lbfgs" solvers use, and
# its loss (scikit-learn >= 1.7): an MDN's loss is its negative log-likelihood.
NOT_CARRIED = {"momentum", "nesterovs_momentum", "power_t", "max_fun", "loss"}


def make_data(n_rows=64, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_rows, 2))
    return X, np.sin(X[:, 0]) + 0.2 * rng.normal(size=n_rows)


def keras_adam_reference(model, X, y, initial_weights, batches, **adam):
    """The raw weights after Keras' Adam takes one step per batch of rows,
    from ``initial_weights``, on the mean negative log-likelihood."""
    network = _network.build_model(model._spec, seed=0)
    for variable, value in zip(network.trainable_variables, initial_weights, strict=True):
        variable.assign(value)
    X = tf.constant((X - model.x_mean_) / model.x_scale_, tf.float32)
    y = tf.constant(((y - model.y_mean_) / model.y_scale_).reshape(-1, 1), tf.float32)
    floor = tf.constant(model.min_scale_ / model.y_scale_, tf.float32)
    optimiser = keras.optimizers.Adam(**adam)
    for rows in batches:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(
                _network.negative_log_likelihood(
                    network(tf.gather(X, rows)), tf.gather(y, rows), model._spec, floor
                )
            )
        variables = network.trainable_variables
        optimiser.apply(tape.gradient(loss, variables), variables)
    return [variable.numpy() for variable in network.trainable_variables]


@pytest.mark.parametrize("shuffle", [False, True])
def test_adam_steps_agree_with_keras_adam(monkeypatch, shuffle):
    """Two mini-batches of 32 rows, in the rows' order without shuffling:
    skmdn's raw weights after the epoch equal Keras' Adam with the same
    beta_1, beta_2 and epsilon (chosen far from the defaults, so that
    ignoring any of them would show). Shuffled, the same steps in another
    order give other weights."""
    X, y = make_data()
    initial = []
    original = _network.initial_state

    def recording_initial_state(model):
        state = original(model)
        initial.append([w.numpy() for w in state.weights])
        return state

    monkeypatch.setattr(_network, "initial_state", recording_initial_state)
    adam = dict(learning_rate=0.01, beta_1=0.5, beta_2=0.9, epsilon=0.1)
    model = MDNRegressor(
        n_components=2, hidden_layer_sizes=(8,), batch_size=32, max_iter=1,
        early_stopping=False, x_noise_std=0.0, alpha=0.0, shuffle=shuffle,
        learning_rate_init=adam["learning_rate"], beta_1=adam["beta_1"],
        beta_2=adam["beta_2"], epsilon=adam["epsilon"], random_state=0,
    ).fit(X, y)
    trained = _network.state_from_arrays(model._training_state).weights
    reference = keras_adam_reference(
        model, X, y, initial[0], [np.arange(32), np.arange(32, 64)], **adam
    )
    differences = [
        np.max(np.abs(np.asarray(w) - r)) for w, r in zip(trained, reference, strict=True)
    ]
    if shuffle:
        assert max(differences) > 1e-4
    else:
        assert max(differences) < 1e-6


def test_mlp_regressor_configuration_carries_over():
    """A tuned MLPRegressor's parameters, but for those of its other solvers,
    build an MDNRegressor with the same values, which fits."""
    mlp = MLPRegressor(
        hidden_layer_sizes=(16, 8), activation="relu", alpha=1e-3, batch_size=32,
        learning_rate_init=2e-3, max_iter=5, tol=1e-3, early_stopping=True,
        validation_fraction=0.2, n_iter_no_change=4, beta_1=0.8, beta_2=0.99,
        epsilon=1e-7, shuffle=False, random_state=np.int64(3),
    )
    params = mlp.get_params()
    # Every other MLPRegressor parameter is one of MDNRegressor's.
    assert set(params) - set(MDNRegressor().get_params()) == NOT_CARRIED & set(params)
    carried = {name: value for name, value in params.items() if name not in NOT_CARRIED}
    model = MDNRegressor(**carried)
    assert {name: model.get_params()[name] for name in carried} == carried
    X, y = make_data(200)
    model.fit(X, y)
    assert model.n_iter_ <= 5


@pytest.mark.parametrize(
    "name, value",
    [("solver", "sgd"), ("solver", "lbfgs"), ("beta_1", 1.0), ("beta_2", -0.1), ("epsilon", 0.0)],
)
def test_optimiser_parameters_out_of_range_are_refused(name, value):
    X, y = make_data()
    with pytest.raises(InvalidParameterError, match=name):
        MDNRegressor(**{name: value}).fit(X, y)


def test_from_mlp_carries_what_the_user_set():
    """Of an MLPRegressor, the parameters set away from its defaults carry
    over (the rest keep MDNRegressor's); those MLPRegressor ignores under
    Adam are left out; keyword arguments take precedence."""
    mlp = MLPRegressor(
        hidden_layer_sizes=[16, 8], alpha=1e-3, beta_2=0.99, momentum=0.5,
        learning_rate="invscaling", random_state=np.int64(3), early_stopping=True,
    )
    model = MDNRegressor.from_mlp(mlp, n_components=2, alpha=1e-2)
    expected = MDNRegressor().get_params() | dict(
        hidden_layer_sizes=[16, 8], alpha=1e-2, beta_2=0.99, random_state=3,
        early_stopping=True, n_components=2,
    )
    assert model.get_params() == expected
    assert MDNRegressor.from_mlp(MLPRegressor()).get_params() == MDNRegressor().get_params()


def test_from_mlp_carries_every_entry_of_a_dict():
    params = {"learning_rate_init": 1e-2, "max_iter": 7, "power_t": 0.3, "loss": "squared_error"}
    model = MDNRegressor.from_mlp(params)
    assert model.get_params() == MDNRegressor().get_params() | {
        "learning_rate_init": 1e-2, "max_iter": 7
    }
    X, y = make_data(200)
    assert model.fit(X, y).n_iter_ <= 7


@pytest.mark.parametrize(
    "mlp, match",
    [
        (MLPRegressor(solver="sgd"), "Adam only"),
        (MLPRegressor(solver="lbfgs"), "Adam only"),
        ({"loss": "poisson"}, "negative log-likelihood"),
        ({"alpha": 1e-3, "n_trees": 5}, r"no parameters \['n_trees'\]"),
    ],
)
def test_from_mlp_refuses_what_has_no_counterpart(mlp, match):
    with pytest.raises(ValueError, match=match):
        MDNRegressor.from_mlp(mlp)
