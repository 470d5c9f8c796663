"""What a fit leaves behind: numpy-typed parameters, output that does not change
the model, the fitted attributes after any sequence of fit / warm start /
partial_fit, interrupts, and failed fits that leave the estimator as it was.

Small data (200 rows) and short fits; one architecture for most tests, so the
compiled training graph is traced once.
"""

import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import skmdn
from skmdn import MDNRegressor, _network
from skmdn import _estimator as estimator_module

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

BASE = dict(n_components=3, hidden_layer_sizes=(16,), max_iter=12, random_state=0)


def make_data(n_rows=200, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_rows, 3))
    branch = np.where(rng.uniform(size=n_rows) < 0.3, -1.0, 1.0)
    return X, branch * np.sin(X[:, 0]) + 0.3 * X[:, 1] + 0.1 * rng.normal(size=n_rows)


@pytest.fixture(scope="module")
def data():
    return make_data()


def weights(model):
    return [variable.numpy() for variable in model.model_.trainable_variables]


def assert_same_model(a, b):
    assert a.loss_curve_ == b.loss_curve_
    assert a.validation_scores_ == b.validation_scores_
    assert a.n_iter_ == b.n_iter_ and a.scale_factor_ == b.scale_factor_
    for first, second in zip(weights(a), weights(b), strict=True):
        assert_array_equal(first, second)


# -- numpy-typed parameters --------------------------------------------------------------


NUMPY_PARAMS = dict(
    n_components=np.int64(2),
    hidden_layer_sizes=np.array([8, 4]),
    n_networks=np.int32(2),
    alpha=np.float32(1e-3),
    batch_size=np.int64(64),
    learning_rate_init=np.float32(2e-3),
    max_iter=np.int64(6),
    tol=np.float32(1e-3),
    early_stopping=np.bool_(True),
    validation_fraction=np.float64(0.25),
    n_iter_no_change=np.int16(3),
    min_scale=np.float32(1e-2),
    x_noise_std=np.float32(0.02),
    y_noise_std=np.float64(0.01),
    calibrate_scales=np.bool_(True),
    random_state=np.int64(3),
    verbose=np.int64(0),
    warm_start=np.bool_(False),
)


def test_numpy_parameters_train_the_same_model_as_python_ones(data, tmp_path):
    """Every parameter given as a numpy scalar or array (as np.arange and
    np.linspace grids give them) trains exactly the model its Python value
    does, and saves and loads."""
    X, y = data
    python_params = {
        name: value.tolist() if isinstance(value, np.ndarray) else value.item()
        for name, value in NUMPY_PARAMS.items()
    }
    assert all(type(value) in (int, float, bool, list) for value in python_params.values())
    as_numpy = MDNRegressor(**NUMPY_PARAMS).fit(X, y)
    as_python = MDNRegressor(**python_params).fit(X, y)
    assert_same_model(as_numpy, as_python)
    as_numpy.save(tmp_path / "model.skmdn")
    loaded = skmdn.load(tmp_path / "model.skmdn")
    assert_array_equal(loaded.predict(X), as_numpy.predict(X))
    assert loaded.get_params()["hidden_layer_sizes"] == (8, 4)
    assert loaded.get_params()["n_components"] == 2


@pytest.mark.parametrize(
    "name, value",
    [("n_components", np.int64(2)), ("hidden_layer_sizes", np.int64(8)), ("max_iter", np.uint8(5))],
)
def test_single_numpy_integer_parameters(data, name, value):
    """The reported crash: a numpy integer reached Keras' Dense(units=...)."""
    X, y = data
    params = dict(BASE, max_iter=5) | {name: value}
    model = MDNRegressor(**params).fit(X, y)
    reference = MDNRegressor(**dict(BASE, max_iter=5) | {name: int(value)}).fit(X, y)
    assert_array_equal(model.predict(X), reference.predict(X))


# -- output and call lengths do not change the model ---------------------------------------


def test_verbose_trains_the_same_model_bit_for_bit(data, capsys):
    X, y = data
    params = dict(BASE, max_iter=200, n_iter_no_change=4, tol=1e-2)
    quiet = MDNRegressor(**params).fit(X, y)
    loud = MDNRegressor(**params, verbose=True).fit(X, y)
    printed = capsys.readouterr().out
    assert quiet.n_iter_ < 200  # the stopping rule ended both fits
    assert printed.count("Iteration ") == loud.n_iter_
    assert_same_model(quiet, loud)


def test_epochs_per_compiled_call_do_not_change_the_model(data, monkeypatch):
    """Whether the epochs run in one compiled call or one call each, the fit
    is the same: each epoch is seeded by its number within the fit."""
    X, y = data
    params = dict(BASE, max_iter=15, n_iter_no_change=100, x_noise_std=0.05)
    monkeypatch.setattr(estimator_module, "CALL_SECONDS", 1e9)
    few_calls = MDNRegressor(**params).fit(X, y)
    monkeypatch.setattr(estimator_module, "CALL_SECONDS", 0.0)
    one_epoch_each = MDNRegressor(**params).fit(X, y)
    assert_same_model(few_calls, one_epoch_each)


# -- fitted attributes after fit / warm start / partial_fit ---------------------------------


def learning_rate(model):
    return float(model._training_state[-1])


def test_partial_fit_carries_the_adaptive_step_size(data):
    """With a plateau rule that never sees improvement (tol huge), the step
    size is divided by 5 every second epoch after the first; partial_fit
    calls count as consecutive epochs, as a fit's epochs do."""
    X, y = data
    params = dict(
        BASE, learning_rate="adaptive", n_iter_no_change=1, tol=1e9, early_stopping=False
    )
    chunked = MDNRegressor(**params)
    rates = []
    for _ in range(7):
        chunked.partial_fit(X, y)
        rates.append(learning_rate(chunked))
    initial = chunked.learning_rate_init
    expected = [initial / 5 ** ((epoch - 1) // 2) for epoch in range(1, 8)]
    np.testing.assert_allclose(rates, expected, rtol=1e-6)
    one_fit = MDNRegressor(**params | {"max_iter": 7}).fit(X, y)
    assert learning_rate(one_fit) == pytest.approx(rates[-1], rel=1e-6)
    # A new fit starts again at learning_rate_init.
    chunked.set_params(warm_start=True, max_iter=1).fit(X, y)
    assert learning_rate(chunked) == pytest.approx(initial, rel=1e-6)


def test_partial_fit_after_an_early_stopping_fit(data):
    X, y = data
    model = MDNRegressor(**BASE, early_stopping=True).fit(X, y)
    validation_scores = list(model.validation_scores_)
    best_validation = model.best_validation_score_
    assert model.best_loss_ is None
    assert best_validation == max(validation_scores)
    for _ in range(3):
        model.partial_fit(X, y)
    # The validation record is the fit's; the best loss is the partial_fit run's.
    assert model.validation_scores_ == validation_scores
    assert model.best_validation_score_ == best_validation
    assert model.best_loss_ == min(model.loss_curve_[-3:])
    assert model.n_iter_ == len(model.loss_curve_) == BASE["max_iter"] + 3


def test_warm_fit_is_a_new_run(data):
    """A warm fit draws a new validation split: its best score is among its own
    epochs, even when an earlier fit scored higher."""
    X, y = data
    model = MDNRegressor(**BASE, early_stopping=True).fit(X, y)
    first = len(model.validation_scores_)
    model.set_params(warm_start=True, max_iter=5).fit(X, y)
    assert len(model.validation_scores_) == first + 5
    assert model.best_validation_score_ == max(model.validation_scores_[first:])


OPERATIONS = st.lists(
    st.sampled_from(["fit", "warm_fit", "partial_fit"]), min_size=1, max_size=4
)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(early_stopping=st.booleans(), operations=OPERATIONS)
def test_fitted_attributes_after_any_sequence(data, early_stopping, operations):
    """After any sequence of fit, warm fit and partial_fit, the attributes mean
    what the class documents, computed here from the sequence itself."""
    X, y = data
    model = MDNRegressor(**BASE | {"max_iter": 3}, early_stopping=early_stopping)
    epochs = rows = 0
    validation = None  # validation scores of the current model's fits
    last_validated = None  # validation scores of the last early-stopping fit
    loss_run_start = None  # index in loss_curve_ where the loss criterion began
    for operation in operations:
        fitted = hasattr(model, "model_")
        if operation == "partial_fit":
            model.partial_fit(X[:150], y[:150])
            if not fitted:
                epochs = rows = 0
                validation, last_validated = None, None
            if loss_run_start is None or not fitted:
                loss_run_start = epochs
            epochs, rows = epochs + 1, rows + 150
        elif (
            operation == "warm_fit"
            and fitted
            and (model.validation_scores_ is not None) != early_stopping
        ):
            # A model begun by partial_fit (no validation record) does not
            # warm-start an early-stopping fit: refused, and left as it was.
            curve = list(model.loss_curve_)
            with pytest.raises(ValueError, match="early_stopping"):
                model.set_params(warm_start=True).fit(X, y)
            assert model.loss_curve_ == curve
        else:
            model.set_params(warm_start=operation == "warm_fit").fit(X, y)
            # validation_fraction="auto" holds out 30 of 200 rows.
            n_train = 200 - (30 if early_stopping else 0)
            if operation == "fit" or not fitted:
                epochs = rows = 0
                validation = [] if early_stopping else None
            if early_stopping:
                last_validated = model.validation_scores_[len(validation):]
                validation = validation + last_validated
                loss_run_start = None
            else:
                loss_run_start = epochs
            epochs, rows = epochs + 3, rows + 3 * n_train
        assert model.n_iter_ == epochs == len(model.loss_curve_)
        assert model.t_ == rows
        assert model.validation_scores_ == validation
        if last_validated is None:
            assert model.best_validation_score_ is None
        else:
            assert model.best_validation_score_ == max(last_validated)
        if loss_run_start is None:
            assert model.best_loss_ is None
        else:
            assert model.best_loss_ == min(model.loss_curve_[loss_run_start:])
        assert np.all(np.isfinite(model.predict(X[:5])))


# -- interrupts -------------------------------------------------------------------------------


class InterruptingNetwork:
    """A compiled network whose training call raises KeyboardInterrupt (as
    Ctrl-C would between calls) on call number ``at``."""

    def __init__(self, network, at):
        self._network, self._at, self.calls = network, at, 0

    def train(self, *args):
        self.calls += 1
        if self.calls == self._at:
            raise KeyboardInterrupt
        return self._network.train(*args)

    def __getattr__(self, name):
        return getattr(self._network, name)


def interrupt_on_call(monkeypatch, at):
    compiled = _network.compiled_network
    monkeypatch.setattr(
        _network, "compiled_network", lambda spec: InterruptingNetwork(compiled(spec), at)
    )


def test_interrupt_keeps_the_weights_reached(data, monkeypatch):
    X, y = data
    monkeypatch.setattr(estimator_module, "CALL_SECONDS", 0.0)  # one epoch a call
    interrupt_on_call(monkeypatch, at=4)
    model = MDNRegressor(**BASE, early_stopping=True)
    with pytest.warns(UserWarning, match="interrupted in epoch 4"):
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y)
    assert model.n_iter_ == len(model.loss_curve_) == len(model.validation_scores_) == 3
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert np.all(np.isfinite(model.predict(X)))
    # It trains on from there.
    monkeypatch.undo()
    model.set_params(warm_start=True, max_iter=2).fit(X, y)
    assert model.n_iter_ == 5


def test_interrupt_before_the_first_epoch_leaves_the_estimator_as_it_was(data, monkeypatch):
    X, y = data
    fresh = MDNRegressor(**BASE)
    fitted = MDNRegressor(**BASE).fit(X, y)
    before = fitted.predict(X)
    curve = list(fitted.loss_curve_)
    interrupt_on_call(monkeypatch, at=1)
    for model in (fresh, fitted):
        with pytest.raises(KeyboardInterrupt), warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # no "kept the weights" warning
            model.fit(X[::-1], y[::-1])
    with pytest.raises(NotFittedError):
        check_is_fitted(fresh)
    assert_array_equal(fitted.predict(X), before)
    assert fitted.loss_curve_ == curve


def test_ctrl_c_stops_a_long_fit_promptly(monkeypatch):
    """A real SIGINT, sent while a fit that would run for minutes trains,
    stops it within about a second."""
    X, y = make_data(5000, seed=1)
    params = dict(
        BASE, max_iter=100_000, early_stopping=False, n_iter_no_change=10**6, random_state=1
    )
    MDNRegressor(**params | {"max_iter": 1}).fit(X, y)  # trace the graph first
    model = MDNRegressor(**params)
    sent = []

    def interrupt():
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(1.5, interrupt)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer.start()
        with pytest.warns(UserWarning, match="interrupted"), pytest.raises(KeyboardInterrupt):
            model.fit(X, y)
        stopped = time.perf_counter()
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert sent and stopped - sent[0] < 2.0
    assert 0 < model.n_iter_ < 100_000
    assert np.all(np.isfinite(model.predict(X[:10])))


# -- failed fits ------------------------------------------------------------------------------


def test_a_failed_fit_leaves_a_fitted_model_as_it_was(data):
    X, y = data
    model = MDNRegressor(**BASE).fit(X, y)
    before = model.predict(X)
    state = dict(model.__dict__)
    bad_y = y.copy()
    bad_y[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X, bad_y)
    model.set_params(warm_start=True, hidden_layer_sizes=(8,))
    with pytest.raises(ValueError, match="same"):
        model.fit(X, y)
    model.set_params(warm_start=False, hidden_layer_sizes=(16,))
    assert model.__dict__.keys() == state.keys()
    assert_array_equal(model.predict(X), before)


# -- divergence injected at any point ---------------------------------------------------------


class PoisoningNetwork(InterruptingNetwork):
    """A compiled network whose training call number ``at`` starts from
    weights that are NaN: that call's first epoch diverges, as it would after
    an overflow."""

    def train(self, state, *args):
        self.calls += 1
        if self.calls == self._at:
            state = state._replace(weights=[w * np.nan for w in state.weights])
        return self._network.train(state, *args)


def poison_on_call(monkeypatch, at):
    compiled = _network.compiled_network
    monkeypatch.setattr(
        _network, "compiled_network", lambda spec: PoisoningNetwork(compiled(spec), at)
    )


@pytest.mark.parametrize("early_stopping", [True, False])
@pytest.mark.parametrize("at", [2, 7])
def test_divergence_mid_fit_keeps_finite_weights(data, monkeypatch, early_stopping, at):
    X, y = data
    monkeypatch.setattr(estimator_module, "CALL_SECONDS", 0.0)  # one epoch a call
    poison_on_call(monkeypatch, at)
    model = MDNRegressor(**BASE, early_stopping=early_stopping)
    with pytest.warns(UserWarning, match=f"diverged in epoch {at}"):
        model.fit(X, y)
    assert model.n_iter_ == len(model.loss_curve_) == at - 1
    assert np.all(np.isfinite(model.predict(X)))
    assert np.isfinite(model.score(X, y))


def test_divergence_in_the_first_epoch_of_a_fresh_fit_raises_and_changes_nothing(
    data, monkeypatch
):
    X, y = data
    model = MDNRegressor(**BASE).fit(X, y)
    before = model.predict(X)
    poison_on_call(monkeypatch, 1)
    with pytest.raises(FloatingPointError, match="learning_rate_init"):
        model.fit(X, y)
    assert_array_equal(model.predict(X), before)


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_divergence_when_continuing_keeps_the_model_usable(data, monkeypatch, how):
    X, y = data
    model = MDNRegressor(**BASE, early_stopping=False).fit(X, y)
    n_iter = model.n_iter_
    poison_on_call(monkeypatch, 1)
    with pytest.warns(UserWarning, match="diverged"):
        if how == "partial_fit":
            model.partial_fit(X, y)
        else:
            model.set_params(warm_start=True).fit(X, y)
    assert model.n_iter_ == n_iter
    assert np.all(np.isfinite(model.predict(X)))
    assert np.isfinite(model.score(X, y))


# -- large prediction requests ----------------------------------------------------------------


def test_prediction_in_blocks_equals_prediction_at_once(data, monkeypatch):
    """Blocks of 7 rows give what one block gives, row for row."""
    X, y = data
    model = MDNRegressor(**BASE).fit(X, y)
    methods = {
        "predict": lambda: model.predict(X, return_std=True),
        "log_likelihood": lambda: model.log_likelihood(X, y),
        "quantiles": lambda: model.predict_quantiles(X, [0.1, 0.5]),
        "median": lambda: model.predict_quantiles(X, 0.5),
        "interval": lambda: model.predict_interval(X, 0.8),
        "score": lambda: model.score(X, y),
    }
    at_once = {name: method() for name, method in methods.items()}
    monkeypatch.setattr(estimator_module, "PREDICT_BLOCK_VALUES", 7 * 3)
    for name, method in methods.items():
        np.testing.assert_array_equal(method(), at_once[name], err_msg=name)
    dist = model.predict_dist(X)
    np.testing.assert_array_equal(at_once["median"], dist.ppf(0.5))
    # Samples: every block draws anew from the one generator.
    draws = model.sample(X, n_samples=2000, random_state=0)
    assert draws.shape == (200, 2000)
    assert not np.array_equal(draws[:7], draws[7:14])
    np.testing.assert_allclose(draws.mean(axis=1), dist.mean(), atol=0.1)


def test_large_prediction_requests_use_memory_for_their_result_only(data, monkeypatch):
    """Peak numpy memory of predict on 200,000 rows, with blocks of 2^14
    mixture values against one block: the whole mixture (weights, means and
    scales of every row in float64, and their temporaries) is never held."""
    import tracemalloc

    X, y = data
    model = MDNRegressor(**BASE).fit(X, y)
    big = np.random.RandomState(0).normal(size=(200_000, 3))

    def peak():
        tracemalloc.start()
        try:
            model.predict(big)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    monkeypatch.setattr(estimator_module, "PREDICT_BLOCK_VALUES", 2**40)
    whole = peak()
    monkeypatch.setattr(estimator_module, "PREDICT_BLOCK_VALUES", 2**14)
    blocked = peak()
    # X itself (4.8 MB) and the result (1.6 MB) are needed either way.
    assert blocked < 12e6 < whole


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_inputs_beyond_the_networks_range_are_refused_by_row(data, monkeypatch, activation):
    """A row of X whose standardised values overflow float32 has no meaningful
    mixture (relu even turned the overflow into finite numbers): a ValueError
    names its row, counted in X even when predicting in blocks."""
    X, y = data
    model = MDNRegressor(**BASE, activation=activation).fit(X, y)
    far = X[:10].copy()
    far[7, 1] = 1e300
    monkeypatch.setattr(estimator_module, "PREDICT_BLOCK_VALUES", 3 * 3)
    for method in (model.predict, model.predict_dist, lambda X: model.sample(X, 2)):
        with pytest.raises(ValueError, match=r"overflows for 1 row\(s\) of X \(the first: row 7\)"):
            method(far)
    # Far but within range stays finite.
    far[7, 1] = 1e30
    assert np.all(np.isfinite(model.predict(far)))


# -- sample weights of any scale ----------------------------------------------------------------


@pytest.mark.parametrize("power", [-200, 200])
def test_weights_and_alpha_scaled_together_train_the_same_model(data, power):
    """The loss is (sum w nll + alpha/2 |W|^2) / sum w: multiplying the
    weights and alpha by the same power of two leaves it, and so the fit,
    exactly as it was, even where the weights alone would under- or
    overflow float32."""
    X, y = data
    w = np.random.RandomState(0).uniform(0.5, 2.0, size=len(y))
    params = dict(BASE, early_stopping=False, alpha=1e-3)
    reference = MDNRegressor(**params).fit(X, y, sample_weight=w)
    scaled = MDNRegressor(**params | {"alpha": 1e-3 * 2.0**power}).fit(
        X, y, sample_weight=w * 2.0**power
    )
    assert_same_model(reference, scaled)


@pytest.mark.parametrize("weight", [1e-300, 1e-40, 1e300])
def test_extreme_weights_give_a_usable_model(data, weight):
    X, y = data
    model = MDNRegressor(**BASE).fit(X, y, sample_weight=np.full(len(y), weight))
    assert np.all(np.isfinite(model.predict(X)))
    assert np.isfinite(model.score(X, y, sample_weight=np.full(len(y), weight)))


def test_a_warm_fit_failing_after_training_restores_the_weights(data, monkeypatch):
    """Interrupted in the last stage (the scale calibration, after the new
    weights were assigned to the network), a warm fit leaves the model's
    weights, training state and attributes as they were."""
    X, y = data
    model = MDNRegressor(**BASE, early_stopping=True).fit(X, y)
    before, state = weights(model), dict(model.__dict__)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(MDNRegressor, "_validation_scale_factor", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.set_params(warm_start=True).fit(X, y)
    model.set_params(warm_start=False)
    for first, second in zip(weights(model), before, strict=True):
        assert_array_equal(first, second)
    assert all(model.__dict__[name] is value for name, value in state.items())
