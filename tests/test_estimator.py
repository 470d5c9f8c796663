"""Behaviour of MDNRegressor: shapes, units, scoring, reproducibility, pickling,
fitted attributes, warm starts, input validation, divergence, the Keras backend
and scikit-learn integration.

Data sets are small (200 rows) and training short (30 epochs of a 16-unit
network), so the whole file runs in well under two minutes on two CPU cores.
Most tests share one network architecture (3 features, 3 components, one layer
of 16 units): skmdn caches the compiled training graph per architecture, so
new fits of that architecture skip TensorFlow's tracing.
"""

import math
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler, scale
from sklearn.utils.estimator_checks import _regression_dataset

from skmdn import GaussianMixtureDistribution, MDNRegressor, Scaling

N_ROWS = 200
K = 3
# The shared, cheap configuration. max_iter=30 ends every fit on max_iter
# (n_iter_no_change is larger), which warns; the warning is expected here.
# Without early stopping every row trains, so attributes are exact counts;
# early stopping has tests of its own.
FAST = dict(
    n_components=K,
    hidden_layer_sizes=(16,),
    max_iter=30,
    n_iter_no_change=100,
    early_stopping=False,
    random_state=0,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def make_data(n_rows=N_ROWS, n_features=3, seed=0):
    """Heteroscedastic, partly bimodal data: y = +-sin(x0) + 0.3 x1 + noise."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_rows, n_features))
    branch = np.where(rng.uniform(size=n_rows) < 0.3, -1.0, 1.0)
    y = branch * np.sin(X[:, 0]) + 0.3 * X[:, 1] + 0.1 * rng.normal(size=n_rows)
    return X, y


def fit_fast(X, y, **params):
    return MDNRegressor(**{**FAST, **params}).fit(X, y)


def reference_log_likelihood(dist, y):
    """log p(y | x) computed from the mixture's parameters with scipy.stats.norm,
    independently of skmdn's own density code: per component the product of
    the outputs' normal densities, summed with the weights, then the log."""
    from scipy.stats import norm

    n_rows, n_components = dist.weights.shape
    means = np.asarray(dist.means, dtype=np.float64).reshape(n_rows, n_components, -1)
    scales = np.asarray(dist.scales, dtype=np.float64).reshape(n_rows, n_components, -1)
    points = np.asarray(y, dtype=np.float64).reshape(n_rows, 1, -1)
    component_densities = np.prod(norm.pdf(points, loc=means, scale=scales), axis=2)
    return np.log(np.sum(dist.weights * component_densities, axis=1))


def run_python(code, env=None, timeout=240):
    """Run ``code`` in a fresh interpreter; return the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def clean_env(**extra):
    """os.environ without KERAS_BACKEND: importing skmdn's network module in
    this test process sets it to "tensorflow", which would hide the child's
    own backend resolution."""
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def model(data):
    """The shared model, fitted on 1-D y."""
    X, y = data
    return fit_fast(X, y)


@pytest.fixture(scope="module")
def data_2d(data):
    X, y = data
    rng = np.random.RandomState(1)
    return X, np.column_stack([y, X[:, 2] + 0.2 * rng.normal(size=len(y))])


@pytest.fixture(scope="module")
def model_2d(data_2d):
    return fit_fast(*data_2d)


# The affine-map pair: the same X, random_state and architecture, with y and
# C * y + B. The network only ever sees standardised y, which is the same for
# both up to float64 rounding, so everything in original units must map by the
# affine transformation.
C, B = 1000.0, 5e4


@pytest.fixture(scope="module")
def affine_model(data):
    X, y = data
    return fit_fast(X, C * y + B)


# -- shapes ---------------------------------------------------------------------


def test_shapes_for_1d_y(model, data):
    X, _ = data
    assert model.predict(X).shape == (N_ROWS,)
    assert model.sample(X, n_samples=4, random_state=0).shape == (N_ROWS, 4)
    assert model.sample(X[:5]).shape == (5, 1)
    assert model.log_likelihood(X, data[1]).shape == (N_ROWS,)
    dist = model.predict_dist(X)
    assert isinstance(dist, GaussianMixtureDistribution)
    assert len(dist) == N_ROWS
    assert dist.weights.shape == (N_ROWS, K)
    assert dist.means.shape == dist.scales.shape == (N_ROWS, K, 1)
    # The distribution of a 1-D target answers without an output axis.
    assert dist.mean().shape == dist.mode().shape == (N_ROWS,)


def test_shapes_for_2d_y(model_2d, data_2d):
    X, y = data_2d
    assert model_2d.n_outputs_ == 2
    assert model_2d.predict(X).shape == (N_ROWS, 2)
    assert model_2d.sample(X, n_samples=4, random_state=0).shape == (N_ROWS, 4, 2)
    assert model_2d.log_likelihood(X, y).shape == (N_ROWS,)
    dist = model_2d.predict_dist(X)
    assert dist.weights.shape == (N_ROWS, K)
    assert dist.means.shape == dist.scales.shape == (N_ROWS, K, 2)


def test_column_vector_y_keeps_its_column(model, data):
    """y of shape (n, 1) is a 2-D target with one output: results keep the axis."""
    X, y = data
    column_model = fit_fast(X, y[:, None])
    assert column_model.n_outputs_ == 1
    assert column_model.predict(X).shape == (N_ROWS, 1)
    assert column_model.sample(X, n_samples=3, random_state=0).shape == (N_ROWS, 3, 1)
    assert column_model.log_likelihood(X, y[:, None]).shape == (N_ROWS,)
    # Same standardised data and seed as the 1-D fit: the same model.
    assert_allclose(column_model.predict(X)[:, 0], model.predict(X), rtol=1e-12)


def test_predict_dist_is_a_normalised_mixture(model, model_2d, data):
    X, _ = data
    for fitted in (model, model_2d):
        dist = fitted.predict_dist(X)
        assert np.all(dist.weights >= 0)
        # Renormalised in float64, so the rows sum to one to float64 rounding.
        assert_allclose(dist.weights.sum(axis=1), 1.0, rtol=0, atol=1e-12)
        assert np.all(dist.scales > 0)
        assert np.all(np.isfinite(dist.means))


def test_predict_dist_in_original_units(model, affine_model, data):
    """Means map by C * mean + B and scales by C * scale; weights are unchanged."""
    X, _ = data
    small, big = model.predict_dist(X), affine_model.predict_dist(X)
    assert_allclose(big.weights, small.weights, rtol=1e-9, atol=1e-12)
    assert_allclose(big.means, C * small.means + B, rtol=1e-9)
    assert_allclose(big.scales, C * small.scales, rtol=1e-9)
    assert np.all(big.scales > 0)
    # And they really are in original units: centred on the data, not on 0.
    y_big = C * data[1] + B
    assert abs(np.mean(big.mean()) - np.mean(y_big)) < 0.5 * np.std(y_big)


# -- scoring ---------------------------------------------------------------------


def test_score_is_mean_log_likelihood(model, data):
    """score is the (weighted) mean of the log density of y, recomputed here
    with scipy from predict_dist's weights, means and scales."""
    X, y = data
    log_likelihood = reference_log_likelihood(model.predict_dist(X), y)
    assert np.all(np.isfinite(log_likelihood))
    assert model.score(X, y) == pytest.approx(np.mean(log_likelihood), rel=1e-10)
    weights = np.random.RandomState(0).uniform(0, 3, size=N_ROWS)
    assert model.score(X, y, sample_weight=weights) == pytest.approx(
        np.sum(weights * log_likelihood) / np.sum(weights), rel=1e-10
    )
    # Integer weights count rows: weight 2 scores like a repeated row.
    counts = np.arange(N_ROWS) % 3
    repeated = np.repeat(np.arange(N_ROWS), counts)
    assert model.score(X, y, sample_weight=counts) == pytest.approx(
        model.score(X[repeated], y[repeated]), rel=1e-12
    )


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_log_likelihood_matches_the_distribution(model, model_2d, data, data_2d, n_outputs):
    """log_likelihood is the log density at y of the mixture predict_dist
    describes, recomputed with scipy.stats.norm (for two outputs, each
    component a product of independent normals)."""
    fitted, (X, y) = (model, data) if n_outputs == 1 else (model_2d, data_2d)
    expected = reference_log_likelihood(fitted.predict_dist(X), y)
    assert np.all(np.isfinite(expected))
    assert_allclose(fitted.log_likelihood(X, y), expected, rtol=1e-10, atol=1e-12)
    assert fitted.score(X, y) == pytest.approx(np.mean(expected), rel=1e-10)


def test_score_and_predictions_in_original_units(model, affine_model, data):
    """An affine map of y shifts the log-likelihood by -log(C) exactly.

    Both networks train on the same standardised targets (equal up to float64
    rounding, which float32 training does not see), so the only difference is
    the Jacobian of the map; 1e-4 leaves room for float32 noise in training.
    """
    X, y = data
    assert_allclose(affine_model.loss_curve_, model.loss_curve_, rtol=1e-5)
    assert affine_model.score(X, C * y + B) == pytest.approx(
        model.score(X, y) - math.log(C), abs=1e-4
    )
    assert_allclose(
        affine_model.log_likelihood(X, C * y + B),
        model.log_likelihood(X, y) - math.log(C),
        atol=1e-4,
    )
    assert_allclose(affine_model.predict(X), C * model.predict(X) + B, rtol=1e-9)


# -- standardisation ---------------------------------------------------------------


@pytest.mark.parametrize("constant", [0.0, 123.456, 1e6 + 0.1])
def test_zero_variance_features(data, constant):
    """A constant feature gets scale 1 (documented) and cannot move predictions.

    The documented contract is x_scale_ == 1 for zero-variance features. If a
    constant column were instead divided by a rounding-error "standard
    deviation" (~1e-9), a change of 1e-4 in that feature would move the
    network input by ~1e5 and change the predictions completely; with scale 1
    it moves the input by 1e-4, so predictions move by far less than 0.05.
    """
    X, y = data
    X = X.copy()
    X[:, 2] = constant
    fitted = fit_fast(X, y)
    prediction = fitted.predict(X)
    assert np.all(np.isfinite(prediction))
    assert np.all(np.isfinite(fitted.log_likelihood(X, y)))
    shifted = X.copy()
    shifted[:, 2] += 1e-4
    assert np.max(np.abs(fitted.predict(shifted) - prediction)) < 0.05
    assert fitted.x_scale_[2] == 1.0


@pytest.mark.parametrize("constant", [5.0, 1e6 + 0.1])
def test_constant_target(data, constant):
    """Constant y: scale 1, no NaN anywhere, predictions at the constant."""
    X, _ = data
    y = np.full(N_ROWS, constant)
    fitted = fit_fast(X, y)
    assert fitted.y_scale_[0] == 1.0
    assert fitted.y_mean_[0] == pytest.approx(constant, rel=1e-15)
    assert all(math.isfinite(loss) for loss in fitted.loss_curve_)
    prediction = fitted.predict(X)
    assert np.all(np.isfinite(prediction))
    # In standardised units the targets are all 0, where the initial mixture
    # is centred; after training the mode stays well within one unit of it.
    assert np.max(np.abs(prediction - constant)) < 0.5
    assert np.all(np.isfinite(fitted.log_likelihood(X, y)))
    assert np.all(np.isfinite(fitted.sample(X, n_samples=2, random_state=0)))


def test_constant_target_column_in_2d_y(data):
    X, y = data
    Y = np.column_stack([y, np.full(N_ROWS, 1e6 + 0.1)])
    fitted = fit_fast(X, Y)
    assert_array_equal(fitted.y_scale_[1], 1.0)
    assert np.all(np.isfinite(fitted.predict(X)))
    assert np.all(np.isfinite(fitted.log_likelihood(X, Y)))


# -- reproducibility, clone, pickle ---------------------------------------------------


def test_same_random_state_is_reproducible(model, data):
    """clone + refit with the same random_state reproduces the fit bit for bit."""
    X, y = data
    refit = clone(model).fit(X, y)
    assert_array_equal(refit.loss_curve_, model.loss_curve_)
    assert_array_equal(refit.predict(X), model.predict(X))
    assert_array_equal(
        refit.sample(X, n_samples=3, random_state=7), model.sample(X, n_samples=3, random_state=7)
    )


def test_different_random_state_differs(model, data):
    X, y = data
    other = fit_fast(X, y, random_state=1)
    assert not np.array_equal(other.loss_curve_, model.loss_curve_)
    assert not np.allclose(other.predict(X), model.predict(X))


def test_sample_random_state(model, data):
    X, _ = data
    first = model.sample(X, n_samples=5, random_state=3)
    assert_array_equal(first, model.sample(X, n_samples=5, random_state=3))
    assert not np.array_equal(first, model.sample(X, n_samples=5, random_state=4))


def test_clone(model):
    cloned = clone(model)
    assert cloned.get_params() == model.get_params()
    assert not hasattr(cloned, "model_")
    with pytest.raises(NotFittedError):
        cloned.predict(np.zeros((2, 3)))


def test_pickle_round_trip(model, data):
    X, y = data
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.predict(X), model.predict(X))
    assert_array_equal(restored.log_likelihood(X, y), model.log_likelihood(X, y))
    assert_array_equal(restored.predict_dist(X).scales, model.predict_dist(X).scales)
    assert restored.loss_curve_ == model.loss_curve_
    # The original is untouched by pickling (its model_ is still a Keras model).
    assert_array_equal(model.predict(X), restored.predict(X))


def test_pickle_in_fresh_process(model, data, tmp_path):
    """Unpickling in a new interpreter (no TensorFlow loaded yet) predicts the same."""
    X, _ = data
    model_path, X_path, out_path = (tmp_path / name for name in ("m.pkl", "X.npy", "p.npy"))
    # This test is about the fresh process; a DeprecationWarning raised while
    # pickling is test_pickle_round_trip's business.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model_path.write_bytes(pickle.dumps(model))
    np.save(X_path, X)
    result = run_python(
        f"""
        import pickle, sys
        import numpy as np
        with open({str(model_path)!r}, "rb") as f:
            model = pickle.load(f)
        np.save({str(out_path)!r}, model.predict(np.load({str(X_path)!r})))
        """,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_array_equal(np.load(out_path), model.predict(X))


# -- fitted attributes ------------------------------------------------------------------


def test_fitted_attributes_with_dataframe(model, data):
    import keras

    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    fitted = fit_fast(frame, y)
    assert fitted.n_features_in_ == 3
    assert_array_equal(fitted.feature_names_in_, ["a", "b", "c"])
    assert fitted.n_outputs_ == 1
    assert fitted.n_iter_ == FAST["max_iter"]
    assert len(fitted.loss_curve_) == fitted.n_iter_
    assert all(math.isfinite(loss) for loss in fitted.loss_curve_)
    assert fitted.best_loss_ == min(fitted.loss_curve_)
    assert fitted.validation_scores_ is None
    assert fitted.best_validation_score_ is None
    assert isinstance(fitted.model_, keras.Model)
    assert fitted.t_ == fitted.n_iter_ * N_ROWS
    # The training loss is a mean NLL of standardised y plus a small penalty:
    # it must have come down over 30 epochs.
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]
    # Feature names are checked at prediction.
    assert_array_equal(fitted.predict(frame), model.predict(X))
    with pytest.raises(ValueError, match="feature names"):
        fitted.predict(frame.rename(columns={"a": "z"}))


def test_attributes_without_feature_names(model):
    assert not hasattr(model, "feature_names_in_")
    assert model.x_mean_.shape == model.x_scale_.shape == (3,)
    assert model.y_mean_.shape == model.y_scale_.shape == (1,)


def test_early_stopping_attributes(data):
    X, y = data
    fitted = fit_fast(X, y, early_stopping=True, validation_fraction=0.2, n_iter_no_change=5)
    assert fitted.best_loss_ is None
    assert isinstance(fitted.validation_scores_, list)
    assert len(fitted.validation_scores_) == len(fitted.loss_curve_) == fitted.n_iter_
    assert all(math.isfinite(score) for score in fitted.validation_scores_)
    assert isinstance(fitted.best_validation_score_, float)
    assert fitted.best_validation_score_ == max(fitted.validation_scores_)
    # 20% of 200 rows are held out: every epoch trains on 160.
    assert fitted.t_ == fitted.n_iter_ * 160

    # Validation scores are log-likelihoods in original units: the same fit on
    # C * y + B (same split, same standardised data) scores log(C) lower.
    scaled = fit_fast(
        X, C * y + B, early_stopping=True, validation_fraction=0.2, n_iter_no_change=5
    )
    assert scaled.n_iter_ == fitted.n_iter_
    assert_allclose(
        scaled.validation_scores_,
        np.asarray(fitted.validation_scores_) - math.log(C),
        atol=1e-4,
    )


# -- warm start -------------------------------------------------------------------------


def test_warm_start_continues(data):
    X, y = data
    warm = fit_fast(X, y, max_iter=5, warm_start=True)
    first_curve = list(warm.loss_curve_)
    first_weights = [w.copy() for w in warm.model_.get_weights()]
    warm.fit(X, y)
    assert warm.n_iter_ == 10
    assert len(warm.loss_curve_) == 10
    assert warm.loss_curve_[:5] == first_curve
    assert warm.t_ == 10 * N_ROWS
    # It continued from the previous weights rather than restarting: a cold
    # fit of 5 epochs would reproduce the first curve exactly.
    assert warm.loss_curve_[5:] != first_curve
    assert any(
        not np.array_equal(a, b) for a, b in zip(first_weights, warm.model_.get_weights())
    )
    # Continuing lowers the loss below where the first 5 epochs ended.
    assert min(warm.loss_curve_[5:]) < first_curve[-1]


def test_warm_start_rejects_a_change_of_outputs(data):
    X, y = data
    warm = fit_fast(X, y, max_iter=2, warm_start=True)
    with pytest.raises(ValueError, match="outputs"):
        warm.fit(X, np.column_stack([y, y]))


@pytest.mark.parametrize("change", [{"n_components": K + 1}, {"n_networks": 2}])
def test_warm_start_rejects_a_change_of_architecture(data, change):
    X, y = data
    warm = fit_fast(X, y, max_iter=2, warm_start=True)
    with pytest.raises(ValueError, match="n_components, n_networks"):
        warm.set_params(**change).fit(X, y)


@pytest.mark.parametrize("first, second", [(False, True), (True, False)])
def test_warm_start_after_toggling_early_stopping(data, first, second):
    """warm_start=True with early_stopping switched between fits is refused
    with a ValueError naming early_stopping (as a change of architecture is),
    and the fitted model is left as it was."""
    X, y = data
    warm = fit_fast(X, y, max_iter=3, warm_start=True, early_stopping=first)
    prediction, n_iter, curve = warm.predict(X), warm.n_iter_, list(warm.loss_curve_)
    warm.set_params(early_stopping=second)
    with pytest.raises(ValueError, match="early_stopping"):
        warm.fit(X, y)
    assert warm.n_iter_ == n_iter
    assert warm.loss_curve_ == curve
    assert (warm.validation_scores_ is None) == (not first)
    assert_array_equal(warm.predict(X), prediction)


# -- input validation ------------------------------------------------------------------


def _with(array, index, value):
    array = array.copy()
    array[index] = value
    return array


@pytest.mark.parametrize(
    "make_X, make_y, error, match",
    [
        (lambda X: _with(X, (0, 0), np.nan), lambda y: y, ValueError, "Input X contains NaN"),
        (lambda X: _with(X, (0, 0), np.inf), lambda y: y, ValueError, "Input X contains infinity"),
        (lambda X: X, lambda y: _with(y, 0, np.nan), ValueError, "Input y contains NaN"),
        (lambda X: X, lambda y: _with(y, 0, -np.inf), ValueError, "Input y contains infinity"),
        (lambda X: X[:, 0], lambda y: y, ValueError, "Expected 2D array"),
        (lambda X: X, lambda y: y[:-1], ValueError, "inconsistent numbers of samples"),
        (scipy.sparse.csr_matrix, lambda y: y, TypeError, "[Ss]parse"),
        (
            lambda X: np.array([["a", "b", "c"]] * len(X)),
            lambda y: y,
            ValueError,
            "could not convert string to float",
        ),
        (
            lambda X: X,
            lambda y: np.array(["high", "low"] * (len(y) // 2), dtype=object),
            ValueError,
            "could not convert string to float",
        ),
        (
            lambda X: X,
            lambda y: np.array(["high", "low"] * (len(y) // 2)),
            ValueError,
            "could not convert string to float",
        ),
    ],
    ids=[
        "X-nan", "X-inf", "y-nan", "y-inf", "X-1d", "y-length", "X-sparse",
        "X-strings", "y-object-strings", "y-unicode-strings",
    ],
)
def test_fit_rejects_bad_input(data, make_X, make_y, error, match):
    X, y = data
    with pytest.raises(error, match=match):
        MDNRegressor(**FAST).fit(make_X(X), make_y(y))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_components": 0}, "n_components"),
        ({"n_networks": 0}, "n_networks"),
        ({"activation": "foo"}, "activation"),
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": 0}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (8, 2.5)}, "hidden_layer_sizes"),
        ({"learning_rate_init": 0.0}, "learning_rate_init"),
        ({"alpha": -1.0}, "alpha"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_iter": 0}, "max_iter"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"dtype": "float16"}, "dtype"),
    ],
)
def test_fit_rejects_invalid_parameters(data, params, match):
    """sklearn's InvalidParameterError is a ValueError, as is our own check."""
    X, y = data
    with pytest.raises(ValueError, match=match):
        MDNRegressor(**{**FAST, **params}).fit(X, y)


@pytest.mark.parametrize("method", ["predict", "predict_dist", "sample", "log_likelihood", "score"])
def test_not_fitted(method, data):
    X, y = data
    args = (X, y) if method in ("log_likelihood", "score") else (X,)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(MDNRegressor(), method)(*args)


def test_prediction_rejects_bad_input(model, data):
    X, y = data
    with pytest.raises(ValueError, match="X has 2 features, but MDNRegressor is expecting 3"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict(_with(X, (1, 1), np.nan))
    with pytest.raises(ValueError, match="Expected 2D array"):
        model.predict(X[0])
    with pytest.raises(TypeError, match="[Ss]parse"):
        model.predict(scipy.sparse.csr_matrix(X))
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        model.sample(X, n_samples=0)


def test_log_likelihood_rejects_bad_y(model, data):
    X, y = data
    with pytest.raises(ValueError, match=r"y has shape \(199, 1\), but X has 200 rows"):
        model.log_likelihood(X, y[:-1])
    with pytest.raises(ValueError, match="predicts 1 output"):
        model.log_likelihood(X, np.column_stack([y, y]))
    with pytest.raises(ValueError, match="Input y contains NaN"):
        model.log_likelihood(X, _with(y, 0, np.nan))


@pytest.mark.parametrize(
    "sample_weight, match",
    [
        (np.r_[-1.0, np.ones(N_ROWS - 1)], "Negative values in data passed to `sample_weight`"),
        # scikit-learn >= 1.7 refuses all-zero weights itself, in its words;
        # with 1.6 skmdn's own check does.
        (np.zeros(N_ROWS), "at least one (non-zero number|positive entry)"),
        (np.ones(N_ROWS - 1), r"sample_weight.shape == \(199,\)"),
    ],
    ids=["negative", "all-zero", "wrong-length"],
)
def test_fit_rejects_bad_sample_weight(data, sample_weight, match):
    with pytest.raises(ValueError, match=match):
        MDNRegressor(**FAST).fit(*data, sample_weight=sample_weight)


# -- divergence ------------------------------------------------------------------------


def _outlier_data():
    """Well-behaved data plus five targets of +-1e30.

    Standardisation alone keeps such outliers within sqrt(n) standard
    deviations, so divergence here comes from the huge learning rate.
    """
    X, y = make_data()
    y = y.copy()
    y[:5] = 1e30 * np.array([1, -1, 1, -1, 1])
    return X, y


def _diverging_estimator(activation, batch_size, learning_rate_init, **params):
    return MDNRegressor(
        **{
            "n_components": K,
            "hidden_layer_sizes": (64, 64),
            "activation": activation,
            "batch_size": batch_size,
            "learning_rate_init": learning_rate_init,
            "max_iter": 50,
            "n_iter_no_change": 100,
            "random_state": 0,
            **params,
        }
    )


def _assert_usable(estimator, X, y):
    assert len(estimator.loss_curve_) == estimator.n_iter_
    assert all(math.isfinite(loss) for loss in estimator.loss_curve_)
    assert np.all(np.isfinite(estimator.predict(X)))
    assert np.all(np.isfinite(estimator.log_likelihood(X[5:], y[5:])))
    assert np.all(np.isfinite(estimator.sample(X, n_samples=2, random_state=0)))


# Settings that diverge on _outlier_data within the first epoch of a fit with
# early stopping (the default), for every random_state tried (0-3): the first
# epoch's weights already give a non-finite validation score (full batches)
# or a non-finite loss (mini-batches of 50).
DIVERGING = [("identity", "auto", 1e6), ("identity", 50, 1e6), ("relu", "auto", 1e15)]


@pytest.mark.parametrize("activation, batch_size, learning_rate_init", DIVERGING)
def test_divergence_before_any_usable_weights_raises(
    activation, batch_size, learning_rate_init
):
    """No epoch gave finite weights: FloatingPointError pointing at
    learning_rate_init."""
    X, y = _outlier_data()
    estimator = _diverging_estimator(activation, batch_size, learning_rate_init)
    with pytest.raises(FloatingPointError, match="learning_rate_init"):
        estimator.fit(X, y)


@pytest.mark.parametrize("activation, batch_size, learning_rate_init", DIVERGING)
def test_divergence_after_usable_weights_warns_and_keeps_them(
    activation, batch_size, learning_rate_init
):
    """The same settings continuing (warm_start) 5 epochs at the default
    step size: the weights from before are usable, so the fit warns
    (ConvergenceWarning) and keeps the best finite ones."""
    X, y = _outlier_data()
    estimator = _diverging_estimator(
        activation, batch_size, 1e-3, max_iter=5, warm_start=True
    ).fit(X, y)
    estimator.set_params(learning_rate_init=learning_rate_init, max_iter=50)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        estimator.fit(X, y)
    assert 5 <= estimator.n_iter_ < 5 + 50
    _assert_usable(estimator, X, y)


def test_divergence_in_the_second_full_batch_epoch_falls_back():
    """Without early stopping an epoch's loss is measured before its update:
    with full batches the first epoch's loss (at the initial weights) is
    finite and the second is not (random_state 0-3 alike), so the fit warns
    that epoch 2 diverged and keeps the weights epoch 1 started from."""
    X, y = _outlier_data()
    estimator = _diverging_estimator("identity", "auto", 1e6, early_stopping=False)
    with pytest.warns(ConvergenceWarning, match="diverged in epoch 2"):
        estimator.fit(X, y)
    assert estimator.n_iter_ == 1
    _assert_usable(estimator, X, y)


# -- import and backend -------------------------------------------------------------


def test_import_does_not_load_tensorflow():
    result = run_python(
        """
        import sys
        import skmdn
        from skmdn import MDNRegressor, GaussianMixtureDistribution, ConformalMDN, Scaling
        from skmdn.datasets import make_spiral
        assert "tensorflow" not in sys.modules, "tensorflow imported"
        assert "keras" not in sys.modules, "keras imported"
        # Optional integrations load only when a user imports them.
        for extra in ("dask", "distributed", "dask_ml", "ray", "mapie", "skpro"):
            assert extra not in sys.modules, extra + " imported"
        """,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stderr[-3000:]


_FIT_SNIPPET = """
import numpy as np
from skmdn import MDNRegressor
rng = np.random.RandomState(0)
X = rng.normal(size=(50, 2))
y = X[:, 0] + 0.1 * rng.normal(size=50)
model = MDNRegressor(n_components=2, hidden_layer_sizes=(4,), max_iter=2).fit(X, y)
assert np.all(np.isfinite(model.predict(X)))
"""


def test_other_backend_in_environment_is_refused(tmp_path):
    """KERAS_BACKEND=jax fails with a RuntimeError naming KERAS_BACKEND, before
    Keras is imported (jax need not be installed)."""
    code = (
        "import sys\n"
        "try:\n" + textwrap.indent(_FIT_SNIPPET, "    ") + "\n"
        "except RuntimeError as error:\n"
        "    assert 'KERAS_BACKEND' in str(error), str(error)\n"
        "    assert 'keras' not in sys.modules\n"
        "    print('refused')\n"
    )
    result = run_python(code, env=clean_env(KERAS_BACKEND="jax", KERAS_HOME=str(tmp_path)))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "refused" in result.stdout


def test_other_backend_in_keras_json_is_refused(tmp_path):
    (tmp_path / "keras.json").write_text('{"backend": "jax"}')
    code = (
        "import sys\n"
        "try:\n" + textwrap.indent(_FIT_SNIPPET, "    ") + "\n"
        "except RuntimeError as error:\n"
        "    assert 'KERAS_BACKEND' in str(error) and 'jax' in str(error), str(error)\n"
        "    assert 'keras' not in sys.modules\n"
        "    print('refused')\n"
    )
    result = run_python(code, env=clean_env(KERAS_HOME=str(tmp_path)))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "refused" in result.stdout


def test_unconfigured_backend_defaults_to_tensorflow(tmp_path):
    """No KERAS_BACKEND and an empty KERAS_HOME: skmdn picks TensorFlow."""
    code = _FIT_SNIPPET + (
        "import keras\n"
        "assert keras.backend.backend() == 'tensorflow', keras.backend.backend()\n"
        "print('ok')\n"
    )
    result = run_python(code, env=clean_env(KERAS_HOME=str(tmp_path)))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ok" in result.stdout


# -- scikit-learn integration --------------------------------------------------------


def test_pipeline(model, data):
    X, y = data
    X_affine = 10.0 * X + 3.0
    pipeline = make_pipeline(StandardScaler(), MDNRegressor(**FAST)).fit(X_affine, y)
    prediction = pipeline.predict(X_affine)
    assert prediction.shape == (N_ROWS,)
    # The scaler undoes the affine map of X and the MDN standardises again,
    # so its network sees the shared model's inputs up to float64 rounding:
    # same fit, same predictions (to float32 training noise).
    assert_allclose(prediction, model.predict(X), atol=1e-3)
    assert pipeline.score(X_affine, y) == pytest.approx(model.score(X, y), abs=1e-3)


def test_column_transformer_on_dataframe():
    rng = np.random.RandomState(0)
    category = rng.choice(["a", "b", "c"], size=N_ROWS)
    number = rng.normal(size=N_ROWS)
    shift = pd.Series(category).map({"a": 0.0, "b": 3.0, "c": -3.0}).to_numpy()
    y = shift + 0.5 * number + 0.1 * rng.normal(size=N_ROWS)
    frame = pd.DataFrame({"number": number, "category": category})
    pipeline = make_pipeline(
        ColumnTransformer(
            [("num", StandardScaler(), ["number"]), ("cat", OneHotEncoder(), ["category"])]
        ),
        MDNRegressor(n_components=2, hidden_layer_sizes=(16,), max_iter=60,
                     learning_rate_init=1e-2, random_state=0),
    ).fit(frame, y)
    assert pipeline[-1].n_features_in_ == 4
    prediction = pipeline.predict(frame)
    assert prediction.shape == (N_ROWS,)
    assert np.all(np.isfinite(prediction))
    # The categorical column is used: each category's predictions sit near its
    # shift (categories are 3 apart; the noise is 0.5 * N(0, 1) + 0.1 N(0, 1)).
    for name, value in {"a": 0.0, "b": 3.0, "c": -3.0}.items():
        assert abs(np.mean(prediction[category == name]) - value) < 1.0


def test_grid_search_selects_by_log_likelihood(data):
    X, y = data
    base = MDNRegressor(**FAST)
    search = GridSearchCV(base, {"n_components": [1, 3]}, cv=2).fit(X, y)
    mean_scores = search.cv_results_["mean_test_score"]
    assert search.best_score_ == np.max(mean_scores)
    assert search.best_params_["n_components"] == [1, 3][int(np.argmax(mean_scores))]
    # The scores are mean held-out log-likelihoods: recompute split 0 of
    # n_components=1 by hand (KFold without shuffling, as GridSearchCV uses
    # for a regressor with cv=2).
    train, test = next(KFold(2).split(X))
    manual = clone(base).set_params(n_components=1).fit(X[train], y[train])
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(
        np.mean(manual.log_likelihood(X[test], y[test])), rel=1e-12
    )
    assert search.best_estimator_.n_components == search.best_params_["n_components"]


def test_cross_val_score(data):
    X, y = data
    scores = cross_val_score(MDNRegressor(**FAST), X, y, cv=2)
    assert scores.shape == (2,)
    assert np.all(np.isfinite(scores))
    # Log-likelihoods of a density model, not R^2 (which is at most 1): the
    # targets have a standard deviation ~0.8, so an informative model scores
    # a held-out log-likelihood above that of the marginal N(mean, var) fit.
    marginal = -0.5 * np.log(2 * np.pi * np.e * np.var(y))
    assert np.mean(scores) > marginal


def test_transformed_target_regressor(data):
    X, y = data
    positive = np.exp(y)
    wrapped = TransformedTargetRegressor(
        regressor=MDNRegressor(**FAST), func=np.log1p, inverse_func=np.expm1
    ).fit(X, positive)
    prediction = wrapped.predict(X)
    assert prediction.shape == (N_ROWS,)
    assert np.all(np.isfinite(prediction))
    assert np.all(prediction > -1)


# -- the poor_score tag and the property it replaces --------------------------------


def test_poor_score_tag():
    assert MDNRegressor().__sklearn_tags__().regressor_tags.poor_score is True


def test_default_model_fits_sklearns_regression_dataset():
    """What check_regressors_train would test if score were R^2: with default
    parameters the conditional mode reaches R^2 > 0.5 on sklearn's data set."""
    X, y = _regression_dataset()
    y = scale(y)
    model = MDNRegressor(random_state=0).fit(X, y)
    assert r2_score(y, model.predict(X)) > 0.5


# -- partial_fit, adaptive learning rate, noise, scale floor ---------------------------


def test_partial_fit_trains_one_epoch_per_chunk(data):
    """partial_fit: one epoch per call, fixed standardisation, loss going down."""
    X, y = data
    model = MDNRegressor(**{**FAST, "max_iter": 1})
    chunks = np.array_split(np.arange(N_ROWS), 4)
    for epoch in range(10):
        for rows in chunks:
            model.partial_fit(X[rows], y[rows])
        if epoch == 0:
            first_scale = model.y_scale_.copy()
    assert model.n_iter_ == 40
    assert model.t_ == 10 * N_ROWS
    assert_array_equal(model.y_scale_, first_scale)
    assert model.validation_scores_ is None
    # The first chunk's epochs against the last ones: the fit has improved.
    assert np.mean(model.loss_curve_[-4:]) < np.mean(model.loss_curve_[:4])
    assert np.all(np.isfinite(model.predict(X)))


def test_partial_fit_rejects_another_feature_count(data):
    X, y = data
    model = MDNRegressor(**FAST).partial_fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :2], y)


def test_partial_fit_with_the_whole_datas_scaling(data):
    """partial_fit(scaling=...) standardises with the given statistics, not
    the first chunk's: Scaling.from_blocks of the chunks gives the whole
    data's means and scales (numpy), and a model started with another
    model's scaling trains bit for bit as that model did."""
    X, y = data
    chunks = np.array_split(np.arange(N_ROWS), 4)
    scaling = Scaling.from_blocks((X[rows], y[rows]) for rows in chunks)
    model = MDNRegressor(**FAST)
    for rows in chunks:
        model.partial_fit(X[rows], y[rows], scaling=scaling)
    assert_allclose(model.x_mean_, X.mean(axis=0), rtol=1e-12)
    assert_allclose(model.y_scale_, [y.std()], rtol=1e-12)
    first_chunk = MDNRegressor(**FAST).partial_fit(X[chunks[0]], y[chunks[0]])
    assert_allclose(first_chunk.x_mean_, X[chunks[0]].mean(axis=0), rtol=1e-12)
    assert not np.allclose(first_chunk.x_mean_, model.x_mean_)
    # The given scaling is the model's standardisation exactly.
    again = MDNRegressor(**FAST).partial_fit(X[chunks[0]], y[chunks[0]], scaling=first_chunk._scaling)
    assert_array_equal(again.predict_dist(X).means, first_chunk.predict_dist(X).means)
    # A numeric min_scale replaces the scaling's automatic floor.
    floored = MDNRegressor(**FAST, min_scale=0.5).partial_fit(X, y, scaling=scaling)
    assert_array_equal(floored.min_scale_, [0.5])
    floored.partial_fit(X, y, scaling=scaling)


def test_partial_fit_names_a_scaling_that_does_not_fit(data):
    """A scaling of another type, for other columns, or other than the one a
    model was started with, is refused before training, and the model is
    left as it was."""
    X, y = data
    scaling = Scaling.from_blocks([(X, y)])
    with pytest.raises(TypeError, match="skmdn.Scaling"):
        MDNRegressor(**FAST).partial_fit(X, y, scaling={"x_mean": X.mean(axis=0)})
    with pytest.raises(ValueError, match="scaling is for 3 features and 1 output"):
        MDNRegressor(**FAST).partial_fit(X[:, :2], y, scaling=scaling)
    model = MDNRegressor(**FAST).partial_fit(X[:100], y[:100], scaling=scaling)
    model.partial_fit(X[100:], y[100:], scaling=Scaling.from_blocks([(X, y)]))
    weights = [w.copy() for w in model.model_.get_weights()]
    n_iter = model.n_iter_
    other = Scaling.from_blocks([(X[:100], y[:100])])
    with pytest.raises(ValueError, match="scaling differs from the standardisation"):
        model.partial_fit(X, y, scaling=other)
    assert model.n_iter_ == n_iter
    for before, after in zip(weights, model.model_.get_weights()):
        assert_array_equal(before, after)


def test_adaptive_learning_rate_lowers_the_step_instead_of_stopping(data):
    """With a plateau rule that stops a constant-rate fit early, the adaptive
    fit divides the step size by 5 and goes on."""
    X, y = data
    settings = dict(
        FAST, max_iter=2000, n_iter_no_change=3, tol=1e-2, learning_rate_init=1e-3
    )
    constant = MDNRegressor(**settings).fit(X, y)
    adaptive = MDNRegressor(**settings, learning_rate="adaptive").fit(X, y)
    assert constant.n_iter_ < 2000
    assert adaptive.n_iter_ > constant.n_iter_
    # Four divisions by 5 take 1e-3 to 1.6e-6; the fifth would pass 1e-6.
    assert float(adaptive._training_state[-1]) == pytest.approx(1e-3 / 5**4, rel=1e-5)


def test_noise_regularisation_changes_the_fit_and_zero_is_off(data):
    X, y = data
    zero = fit_fast(X, y, x_noise_std=0.0, y_noise_std=0.0)
    auto = fit_fast(X, y)
    noisy = fit_fast(X, y, x_noise_std=0.3, y_noise_std=0.3)
    assert zero.x_noise_std_ == 0.0 and noisy.x_noise_std_ == 0.3
    assert not np.allclose(auto.predict(X), zero.predict(X))
    assert not np.allclose(noisy.predict(X), zero.predict(X))
    # Noise on y widens the fitted density: larger average spread.
    assert noisy.predict_dist(X).std().mean() > zero.predict_dist(X).std().mean()


def test_automatic_input_noise_shrinks_with_the_training_rows(data):
    """x_noise_std="auto" is 0.05 n^(-1/(4+p)) for the n rows that train (the
    validation split excluded) and p features."""
    X, y = data
    n_features = X.shape[1]
    assert fit_fast(X, y).x_noise_std_ == pytest.approx(
        0.05 * N_ROWS ** (-1 / (4 + n_features)), rel=1e-12
    )
    held_out = fit_fast(X, y, early_stopping=True, validation_fraction=0.25)
    assert held_out.x_noise_std_ == pytest.approx(
        0.05 * (N_ROWS - 50) ** (-1 / (4 + n_features)), rel=1e-12
    )
    assert fit_fast(X[:50], y[:50]).x_noise_std_ > held_out.x_noise_std_
    # partial_fit counts the rows of the chunk it is given.
    chunked = MDNRegressor(**FAST).partial_fit(X[:80], y[:80])
    assert chunked.x_noise_std_ == pytest.approx(0.05 * 80 ** (-1 / (4 + n_features)), rel=1e-12)


@pytest.mark.parametrize("n_rows, n_held_out", [(8, 2), (120, 30), (200, 30), (400, 40)])
def test_automatic_validation_split_holds_out_a_tenth_but_at_least_30_rows(n_rows, n_held_out):
    """validation_fraction="auto": 10% of the rows, at least 30 where that
    leaves three times as many to train. Seen through x_noise_std_, which is
    0.05 n^(-1/(4+p)) for the n rows that train."""
    X, y = make_data(n_rows=n_rows)
    model = fit_fast(X, y, early_stopping=True)
    assert model.x_noise_std_ == pytest.approx(
        0.05 * (n_rows - n_held_out) ** (-1 / (4 + X.shape[1])), rel=1e-12
    )


def near_exact_data(n_rows, seed):
    """y an exact function of small deviations of 8 readings from a curve:
    the readings follow a level in [1, 9] and y moves them by at most 3 %,
    the kind of data that input noise blurs."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(1.0, 9.0, n_rows)
    y = rng.uniform(-1.0, 1.0, n_rows)
    X = level[:, None] ** np.linspace(0.3, 1.0, 8) * (
        1.0 + 0.02 * np.outer(y + 0.4 * y**2, np.linspace(-1.0, 1.0, 8))
    )
    return X, y


def test_automatic_input_noise_goes_where_y_is_an_exact_function_of_x():
    """x_noise_std="auto" trains with noise until the validation score stalls,
    then without it; here the epochs without noise are far better on the
    validation rows, so their weights are kept and x_noise_std_ is 0. The
    epochs with noise are those a fit with that noise level as a number
    runs (which stops where the auto fit removed the noise). No input
    penalty, whose stages would follow both."""
    X, y = near_exact_data(300, seed=1)
    auto = MDNRegressor(random_state=1, input_penalty=0.0).fit(X, y)
    level = 0.05 * 270 ** (-1 / (4 + 8))
    fixed = MDNRegressor(random_state=1, x_noise_std=level, input_penalty=0.0).fit(X, y)
    assert auto.x_noise_std_ == 0.0 and fixed.x_noise_std_ == level
    assert auto.n_iter_ > fixed.n_iter_
    assert auto.validation_scores_[: fixed.n_iter_] == fixed.validation_scores_
    assert auto.best_validation_score_ == max(auto.validation_scores_)
    assert auto.best_validation_score_ > fixed.best_validation_score_ + 1.0


STALLING = dict(
    n_components=K, hidden_layer_sizes=(16,), max_iter=300, n_iter_no_change=3, tol=1e-2,
    random_state=0, input_penalty=0.0,
)


@pytest.mark.parametrize("clearly_better", [False, True])
def test_automatic_input_noise_keeps_the_noisy_weights_unless_clearly_beaten(
    data, monkeypatch, clearly_better
):
    """Whichever way the validation rows decide, the fit keeps that stage's
    best weights: the noisy ones are exactly those of a fit with the noise
    level as a number, which stops where the auto fit removed the noise."""
    X, y = data
    monkeypatch.setattr(MDNRegressor, "_clearly_better", lambda *args: False)
    fixed_level = MDNRegressor(**STALLING).fit(X, y).x_noise_std_
    monkeypatch.setattr(MDNRegressor, "_clearly_better", lambda *args: clearly_better)
    auto = MDNRegressor(**STALLING).fit(X, y)
    fixed = MDNRegressor(**STALLING | {"x_noise_std": fixed_level}).fit(X, y)
    assert auto.n_iter_ > fixed.n_iter_
    assert auto.validation_scores_[: fixed.n_iter_] == fixed.validation_scores_
    if clearly_better:
        assert auto.x_noise_std_ == 0.0
        assert auto.best_validation_score_ == max(auto.validation_scores_)
    else:
        assert auto.x_noise_std_ == fixed_level > 0
        assert auto.best_validation_score_ == fixed.best_validation_score_
        assert_array_equal(auto.predict_dist(X).means, fixed.predict_dist(X).means)


def test_verbose_reports_the_input_noise_choice_and_no_spurious_warning(data, capsys):
    """verbose says when the noise goes and which weights were kept; a fit
    that stopped on its criterion does not warn about its budget."""
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = MDNRegressor(**STALLING, verbose=True).fit(X, y)
    printed = capsys.readouterr().out
    assert model.n_iter_ < STALLING["max_iter"]
    assert "Going on from the kept weights with input noise 0 and input penalty 0." in printed
    assert (
        f"Kept the weights of the stage with input noise {model.x_noise_std_:.4g} "
        "and input penalty 0:" in printed
    )
    assert printed.rstrip().endswith("on the validation rows.")


@pytest.mark.parametrize("other", ["itself", "one epoch"])
def test_clearly_better_is_a_paired_two_standard_error_rule(data, other):
    """The rule that decides between the weights with and without input
    noise, against the per-row log-likelihoods of two fitted models (of the
    same data, so of the same standardisation): better by more than twice
    the weighted standard error of the paired difference. A model is never
    clearly better than itself, and is than one trained for one epoch."""
    from skmdn import _network

    X, y = data
    first = fit_fast(X, y)
    second = first if other == "itself" else fit_fast(X, y, max_iter=1, random_state=1)
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    standardised = (
        ((X - first.x_mean_) / first.x_scale_).astype(np.float32),
        ((y[:, None] - first.y_mean_) / first.y_scale_).astype(np.float32),
        sample_weight,
    )
    decision = first._clearly_better(
        _network, _network.model_weights(first.model_), _network.model_weights(second.model_),
        standardised,
    )
    difference = first.log_likelihood(X, y) - second.log_likelihood(X, y)
    mean = np.average(difference, weights=sample_weight)
    error = np.sqrt(np.sum(sample_weight**2 * (difference - mean) ** 2)) / sample_weight.sum()
    assert decision == (mean > 2 * error)
    assert decision == (other == "one epoch")


def test_min_scale_auto_follows_the_resolution_of_discrete_targets(data):
    """Integer targets: the floor is 1 / sqrt(2 pi) units, so no component can
    collapse onto one repeated value, and the density at a recorded value
    never exceeds 1 (certainty of the value, spread over its unit cell)."""
    X, _ = data
    y = np.random.RandomState(0).randint(3, 9, size=N_ROWS).astype(float)
    model = fit_fast(X, y)
    assert_allclose(model.min_scale_, [1 / np.sqrt(2 * np.pi)])
    assert np.all(model.predict_dist(X).scales >= model.min_scale_[0] * (1 - 1e-6))
    # A target that X determines: the fit nears certainty, and the floor
    # stops its density at 1 / r (r = 5, the gap between the two values).
    certain = np.where(X[:, 0] > 0, 8.0, 3.0)
    log_likelihood = fit_fast(X, certain, max_iter=300).log_likelihood(X, certain)
    assert np.all(log_likelihood <= -np.log(5.0) + 1e-6)
    assert log_likelihood.max() > -np.log(5.0) - 0.1
    continuous = fit_fast(X, y + np.random.RandomState(1).normal(size=N_ROWS))
    assert continuous.min_scale_[0] == pytest.approx(1e-3 * continuous.y_scale_[0])
    fixed = fit_fast(X, y, min_scale=0.25)
    assert_allclose(fixed.min_scale_, [0.25])


def test_verbose_prints_one_line_per_epoch_and_quiet_prints_nothing(data, capfd):
    X, y = data
    fit_fast(X, y, max_iter=4)
    quiet = capfd.readouterr()
    assert quiet.out == ""
    fit_fast(X, y, max_iter=4, verbose=True, early_stopping=True)
    lines = capfd.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("Iteration 1, loss = ")
    assert "validation log-likelihood = " in lines[0]


def test_first_fit_prints_no_tensorflow_log_lines():
    """A fresh process that fits a model writes nothing to stderr but the
    expected ConvergenceWarning."""
    result = run_python(
        """
        import warnings
        warnings.simplefilter("ignore")
        import numpy as np
        from skmdn import MDNRegressor
        MDNRegressor(max_iter=2).fit(np.random.rand(50, 2), np.random.rand(50))
        """,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_searches_over_architectures_print_no_retracing_warnings():
    """Each architecture is traced once by design: a search over
    n_components and activation prints no TensorFlow retracing warning about
    skmdn's functions, while one about the user's own function still shows."""
    result = run_python(
        """
        import warnings
        warnings.simplefilter("ignore")
        import numpy as np
        from sklearn.model_selection import GridSearchCV
        from skmdn import MDNRegressor
        X = np.random.RandomState(0).normal(size=(60, 2))
        grid = {"n_components": np.arange(1, 7), "activation": ["tanh", "relu"]}
        GridSearchCV(MDNRegressor(max_iter=2), grid, cv=2).fit(X, X[:, 0])
        import sys
        print("SEARCH DONE", file=sys.stderr, flush=True)
        import tensorflow as tf

        @tf.function
        def users_own(n):
            return tf.constant(n) * 2

        for n in range(8):
            users_own(n)
        """,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stderr
    search, user = result.stderr.split("SEARCH DONE")
    assert "retracing" not in search
    assert "users_own" in user and "retracing" in user


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_calibrate_scales_multiplies_the_scales_above_the_floor(data, data_2d, n_outputs):
    """The calibration changes the scales only: factor * (scale - floor) +
    floor, one factor of at least 1 for all outputs. Off, without early
    stopping and after partial_fit, the factor is 1."""
    X, y = data if n_outputs == 1 else data_2d
    # 600 epochs of 180 rows: long enough for the fit to be too confident.
    plain = fit_fast(X, y, early_stopping=True, max_iter=600, calibrate_scales=False)
    calibrated = fit_fast(X, y, early_stopping=True, max_iter=600)
    assert plain.scale_factor_ == 1.0 and calibrated.scale_factor_ > 1.0
    before, after = plain.predict_dist(X), calibrated.predict_dist(X)
    assert_array_equal(after.weights, before.weights)
    assert_array_equal(after.means, before.means)
    floor = plain.min_scale_
    assert_allclose(
        after.scales, floor + calibrated.scale_factor_ * (before.scales - floor), rtol=1e-6
    )
    assert fit_fast(X, y).scale_factor_ == 1.0  # FAST has no early stopping
    calibrated.partial_fit(X, y)
    assert calibrated.scale_factor_ == 1.0


def test_scale_factor_maximises_the_log_likelihood_of_the_held_out_rows(data):
    """Given rows noisier than the training data, the factor is the one that
    maximises their log-likelihood; given rows at each mixture's mode, which
    favour narrower components, or fewer than 20 rows, it stays 1."""
    from skmdn import _network

    X, y = data
    model = fit_fast(X, y, early_stopping=True, max_iter=100)
    X_new, y_new = make_data(seed=1)
    y_new = y_new + 0.3 * np.random.RandomState(2).normal(size=N_ROWS)

    def factor_for(targets, n_rows=N_ROWS):
        rows = (
            (X_new[:n_rows] - model.x_mean_) / model.x_scale_,
            ((targets[:n_rows] - model.y_mean_) / model.y_scale_)[:, None],
            np.ones(n_rows),
        )
        return model._validation_scale_factor(_network, rows)

    def score_with(factor):
        model.scale_factor_ = factor
        return model.score(X_new, y_new)

    factor = factor_for(y_new)
    assert factor > 1.1
    assert score_with(factor) > max(score_with(factor * 1.02), score_with(factor / 1.02), score_with(1.0))
    model.scale_factor_ = 1.0
    assert factor_for(model.predict(X_new)) == 1.0
    # Fewer than 20 rows are too few to estimate a factor from; 20 are not.
    much_noisier = y_new + np.random.RandomState(3).normal(size=N_ROWS)
    assert factor_for(much_noisier, n_rows=19) == 1.0
    assert factor_for(much_noisier, n_rows=20) > 1.0


# -- several networks ---------------------------------------------------------------


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_each_network_trains_as_if_alone_and_the_densities_are_averaged(
    data, data_2d, n_outputs
):
    """With n_networks=2 the first network is the one a one-network fit with
    the same random_state trains (each minimises its own loss, on the same
    batches and noise), the second starts from its own initialisation, and
    the prediction is their average: both mixtures, each weight halved."""
    X, y = data if n_outputs == 1 else data_2d
    alone = fit_fast(X, y).predict_dist(X)
    pair = fit_fast(X, y, n_networks=2)
    joined = pair.predict_dist(X)
    assert joined.n_components == 2 * K
    assert_allclose(joined.weights[:, :K].sum(axis=1), 0.5, rtol=1e-6)
    # Equal up to float32 rounding (the loss is the members' mean).
    assert_allclose(2 * joined.weights[:, :K], alone.weights, atol=1e-4)
    assert_allclose(joined.means[:, :K], alone.means, atol=1e-4)
    assert_allclose(joined.scales[:, :K], alone.scales, atol=1e-4)
    assert np.abs(joined.means[:, K:] - joined.means[:, :K]).max() > 0.1
    # Built from (n, K, d) means, so it takes (n, d) points even for d = 1.
    second = GaussianMixtureDistribution(
        2 * joined.weights[:, K:], joined.means[:, K:], joined.scales[:, K:]
    )
    assert_allclose(
        pair.log_likelihood(X, y),
        np.logaddexp(alone.log_prob(y), second.log_prob(y.reshape(len(y), -1))) - math.log(2),
        atol=1e-3,
    )


def test_several_networks_stop_calibrate_and_pickle_together(data):
    """Early stopping scores the averaged density and the scale calibration
    fits it; a pickled two-network model predicts the same; partial_fit
    trains both networks on."""
    X, y = data
    # A numeric input noise and penalty: one stage, so the best score is
    # the curve's maximum (with "auto", the kept stage's).
    pair = fit_fast(
        X, y, n_networks=2, early_stopping=True, max_iter=600, x_noise_std=0.01,
        input_penalty=0.0,
    )
    assert pair.best_validation_score_ == max(pair.validation_scores_)
    assert np.isfinite(pair.validation_scores_).all()
    assert pair.scale_factor_ > 1.0
    restored = pickle.loads(pickle.dumps(pair))
    assert_array_equal(restored.predict(X), pair.predict(X))
    assert_array_equal(restored.predict_dist(X).scales, pair.predict_dist(X).scales)
    # partial_fit goes on with both networks (and, as always, no calibration).
    before = pair.predict_dist(X).means
    pair.partial_fit(X, y)
    assert pair.scale_factor_ == 1.0
    assert pair.predict_dist(X).means.shape == before.shape
    assert not np.array_equal(pair.predict_dist(X).means, before)


# -- the input penalty --------------------------------------------------------------


def sparse_data(n_rows=400, n_features=10, seed=0):
    """y depends on the first two of ``n_features`` standard normal inputs."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features))
    return X, np.sin(2 * X[:, 0]) + X[:, 1] + 0.1 * rng.normal(size=n_rows)


def input_norms(model):
    """Norm of the first layer's weights leaving each input."""
    return np.linalg.norm(model.model_.get_weights()[0], axis=1)


SPARSE = dict(n_components=2, hidden_layer_sizes=(16,), random_state=0)


def test_input_penalty_switches_irrelevant_inputs_off():
    """The group-lasso penalty acts on each input's row of the first layer:
    the weights leaving the eight irrelevant inputs go to (nearly) zero while
    those of the two inputs y depends on stay, and the validation
    log-likelihood is far higher than without the penalty, which uses every
    input."""
    X, y = sparse_data()
    without = MDNRegressor(**SPARSE, input_penalty=0.0).fit(X, y)
    with_penalty = MDNRegressor(**SPARSE, input_penalty=np.float32(30)).fit(X, y)
    assert without.input_penalty_ == 0.0 and with_penalty.input_penalty_ == 30.0
    relevant, irrelevant = input_norms(with_penalty)[:2], input_norms(with_penalty)[2:]
    assert irrelevant.max() < 0.1 * relevant.min()
    assert input_norms(without)[2:].min() > 0.3
    assert with_penalty.best_validation_score_ > without.best_validation_score_ + 0.3


@pytest.mark.parametrize("clearly_better", [False, True])
def test_automatic_input_penalty_stages_keep_the_first_unless_clearly_beaten(
    monkeypatch, clearly_better
):
    """input_penalty="auto" trains without the penalty until the validation
    score stalls (exactly the fit with input_penalty=0), then goes on with
    strength 30 for at least the stage's patience; that stage's weights are
    kept only where the paired rule says they are clearly better."""
    X, y = sparse_data()
    monkeypatch.setattr(MDNRegressor, "_clearly_better", lambda *args: clearly_better)
    params = SPARSE | dict(x_noise_std=0.0)
    auto = MDNRegressor(**params).fit(X, y)
    zero = MDNRegressor(**params, input_penalty=0.0).fit(X, y)
    assert auto.validation_scores_[: zero.n_iter_] == zero.validation_scores_
    # One more stage of at least 20 epochs and 500 steps (2 per epoch here).
    assert auto.n_iter_ >= zero.n_iter_ + 250
    if clearly_better:
        assert auto.input_penalty_ == 30.0
        assert auto.best_validation_score_ == max(auto.validation_scores_)
    else:
        assert auto.input_penalty_ == 0.0
        assert auto.best_validation_score_ == zero.best_validation_score_
        assert_array_equal(auto.predict_dist(X).means, zero.predict_dist(X).means)


def test_automatic_input_penalty_is_chosen_by_the_validation_rows():
    """Without monkeypatching: on data with eight irrelevant inputs the
    validation rows keep a penalised stage, and its weights score higher on
    new data than those of the fit without the penalty."""
    X, y = sparse_data(seed=0)
    X_test, y_test = sparse_data(n_rows=2000, seed=1)
    auto = MDNRegressor(**SPARSE).fit(X, y)
    zero = MDNRegressor(**SPARSE, input_penalty=0.0).fit(X, y)
    assert auto.input_penalty_ > 0
    assert auto.best_validation_score_ > zero.best_validation_score_
    assert auto.score(X_test, y_test) > zero.score(X_test, y_test) + 0.2


@pytest.mark.parametrize(
    "case", ["one input", "no early stopping", "too few validation rows"]
)
def test_automatic_input_penalty_needs_inputs_to_choose_among_and_validation_rows(case):
    """With one input there is nothing to switch off; without early stopping,
    or with fewer than 20 validation rows, nothing to choose by: "auto" is
    then exactly input_penalty=0."""
    X, y = sparse_data(n_rows=150)
    params = SPARSE | dict(max_iter=60)
    if case == "one input":
        X = X[:, :1]
    elif case == "no early stopping":
        params["early_stopping"] = False
    else:
        params["validation_fraction"] = 0.1  # 15 rows
    auto = MDNRegressor(**params).fit(X, y)
    zero = MDNRegressor(**params, input_penalty=0.0).fit(X, y)
    assert auto.input_penalty_ == 0.0
    assert auto.loss_curve_ == zero.loss_curve_
    assert_array_equal(auto.predict_dist(X).means, zero.predict_dist(X).means)


def test_input_penalty_in_a_grid_of_numpy_numbers():
    """np.linspace / np.arange values in a grid are accepted and reported as
    Python floats; a negative strength is refused by name."""
    X, y = sparse_data(n_rows=120)
    search = GridSearchCV(
        MDNRegressor(**SPARSE, max_iter=20, x_noise_std=0.0),
        {"input_penalty": list(np.linspace(0.0, 20.0, 2)) + [np.arange(3)[2]]},
        cv=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert type(search.best_estimator_.input_penalty_) is float
    with pytest.raises(ValueError, match="input_penalty"):
        MDNRegressor(input_penalty=-1.0).fit(X, y)
