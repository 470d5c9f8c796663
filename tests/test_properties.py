"""Property-based tests (hypothesis): whatever parameters and data a user
passes, MDNRegressor either fits a usable model or refuses with a clear error.

Every generated case must end in one of two ways:

- a fitted model whose ``predict``, ``sample`` and ``score`` are finite, and
  which saves to a file that ``skmdn.load`` reads back predicting the same;
- a ``ValueError`` or ``TypeError`` raised by skmdn or scikit-learn (not from
  inside Keras, TensorFlow or numba) whose message names the problem the
  case really has (the test works out, independently, which problems the
  case has and which words name them).

Cases with no problem must fit. The parameters come as Python numbers and as
numpy scalars (np.int64 and np.int32 for integers, np.float32 and np.float64
for reals, numpy arrays, tuples and lists for ``hidden_layer_sizes``), with
boundary and invalid values; the data in every dtype scikit-learn accepts
(float16/32/64, int, bool, pandas' nullable Float64 and Int64, DataFrame and
Series), with 1 to 3 rows, scales from 1e-12 to 1e12, constant and
duplicated columns and rows, NaN and infinity at random positions and sample
weights with zeros.

Models are tiny (2-5 epochs, a layer of 1-3 units, 1-3 components), so an
example takes milliseconds once its architecture's training graph has been
traced (about 1.5 s per new architecture). The hypothesis profiles are in
tests/conftest.py: "ci" (the default: fixed examples, within about three
minutes on two CPU cores) and "thorough" (``HYPOTHESIS_PROFILE=thorough``:
many more, random, examples).

The issue-17 searches (numpy integers from np.arange and scipy.stats
distributions reaching the estimator through GridSearchCV and
RandomizedSearchCV) are tested explicitly at the end.
"""

import functools
import os
import re
import tempfile
import traceback
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import event as _event
from hypothesis import example, given
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from scipy.stats import loguniform, randint, uniform
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

import skmdn
from skmdn import MDNRegressor
from skmdn.datasets import make_inverse_sine

pytestmark = [
    # Two to five epochs never converge; that is not under test here.
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # Mini-batches larger than the rows are used as full batches, with a warning.
    pytest.mark.filterwarnings("ignore:batch_size=.*is larger than:UserWarning"),
]

# Modules an error must not come from: a ValueError raised deep inside
# Keras is a bug of skmdn's validation, not an answer to the user.
FOREIGN_MODULES = ("keras", "tensorflow", "tf_keras", "numba", "tensorflow_probability")

INT_TYPES = (int, np.int64, np.int32)
REAL_TYPES = (float, np.float64, np.float32)

def event(message):
    """Count ``message`` in hypothesis' statistics (when run by hypothesis)."""
    if currently_in_test_context():
        _event(message)


# -- what a case must end in ---------------------------------------------------------


def _deepest_module(error):
    """The module of the frame that raised ``error`` (the innermost one)."""
    frames = traceback.extract_tb(error.__traceback__)
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_globals.get("__name__", ""), frames[-1].filename


def assert_clear_error(error, problems):
    """``error`` is a ValueError or TypeError from skmdn or scikit-learn whose
    message names one of ``problems``: each a tuple of words that must all
    appear, case-insensitively (alternatives separated by "|"), or a
    compiled regular expression the message must match."""
    assert isinstance(error, (ValueError, TypeError)), (
        f"{type(error).__name__} is neither ValueError nor TypeError: {error!r}"
    )
    module, filename = _deepest_module(error)
    assert not module.split(".")[0] in FOREIGN_MODULES, (
        f"the error was raised inside {module} ({filename}): {error!r}"
    )
    message = str(error).lower()

    def names(problem):
        if isinstance(problem, re.Pattern):
            return problem.search(str(error)) is not None
        return all(
            any(option.lower() in message for option in word.split("|")) for word in problem
        )

    assert problems, f"no error was expected, got {error!r}"
    assert any(names(problem) for problem in problems), (
        f"{error!r} names none of the problems {problems}"
    )


def assert_usable(model, X, y, sample_weight=None):
    """Finite predictions, samples and score; saved and loaded, it predicts the same."""
    prediction = model.predict(X)
    assert np.all(np.isfinite(prediction)), prediction
    samples = model.sample(X, n_samples=2, random_state=0)
    assert np.all(np.isfinite(samples)), samples
    score = model.score(X, y, sample_weight=sample_weight)
    assert np.isfinite(score), score
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.skmdn")
        model.save(path)
        loaded = skmdn.load(path)
    assert_array_equal(loaded.predict(X), prediction)
    assert_array_equal(
        loaded.sample(X, n_samples=2, random_state=0), samples
    )


def fit_or_refuse(params, X, y, sample_weight, problems):
    """Fit; a case with ``problems`` must be refused naming one of them, a
    case without any must give a usable model."""
    model = MDNRegressor(**params)
    try:
        model.fit(X, y, sample_weight=sample_weight)
    except Exception as error:  # judged by assert_clear_error
        assert_clear_error(error, problems)
        event(f"refused ({type(error).__name__})")
        return
    assert not problems, f"fitted although the case has problems {problems}"
    assert_usable(model, X, y, sample_weight)
    event("fitted")


# -- parameters ------------------------------------------------------------------------


def typed(values, types):
    """One of ``values``, as one of ``types``."""
    return st.sampled_from([kind(value) for value in values for kind in types])


def typed_int(low, high):
    return typed(list(range(low, high + 1)), INT_TYPES)


def layer_sizes(sizes):
    """``sizes`` as a tuple, list, numpy array or tuple of numpy integers."""
    return st.sampled_from(
        [
            tuple(sizes),
            list(sizes),
            np.array(sizes),
            np.array(sizes, dtype=np.int32),
            tuple(np.int64(size) for size in sizes),
        ]
    )


HIDDEN_LAYER_SIZES = st.one_of(
    typed_int(1, 3),
    st.lists(st.integers(1, 3), min_size=1, max_size=2).flatmap(layer_sizes),
)

# Valid values, boundaries included. learning_rate_init stays at most 0.1,
# which five epochs of these tiny networks do not diverge with (divergence
# has tests of its own in test_estimator.py).
VALID_PARAMETERS = {
    "n_components": typed_int(1, 3),
    "hidden_layer_sizes": HIDDEN_LAYER_SIZES,
    "activation": st.sampled_from(["tanh", "relu", "identity", "logistic"]),
    "n_networks": typed_int(1, 2),
    "alpha": typed([0.0, 1e-4, 1.0], REAL_TYPES),
    "batch_size": st.one_of(st.just("auto"), typed_int(1, 3), typed([1000], INT_TYPES)),
    "learning_rate": st.sampled_from(["constant", "adaptive"]),
    "learning_rate_init": typed([1e-4, 1e-3, 0.1], REAL_TYPES),
    "max_iter": typed_int(2, 5),
    "tol": typed([0.0, 1e-4, 10.0], REAL_TYPES),
    "early_stopping": st.sampled_from([True, False, np.True_, np.False_]),
    "validation_fraction": st.one_of(st.just("auto"), typed([1e-6, 0.1, 0.5, 0.95], REAL_TYPES)),
    "n_iter_no_change": st.one_of(st.just("auto"), typed_int(1, 2)),
    "min_scale": st.one_of(st.just("auto"), typed([1e-12, 1e-3, 1.0, 1e12], REAL_TYPES)),
    "x_noise_std": st.one_of(st.just("auto"), typed([0.0, 0.1, 10.0], REAL_TYPES)),
    "y_noise_std": typed([0.0, 0.1, 10.0], REAL_TYPES),
    "calibrate_scales": st.sampled_from([True, False, np.True_, np.False_]),
    "dtype": st.sampled_from(["float32", "float64"]),
    "random_state": st.one_of(st.none(), typed_int(0, 2), st.just(np.random.RandomState(0))),
}

# Out-of-range or wrongly typed values, each of which must be refused with an
# error naming the parameter.
INVALID_PARAMETERS = {
    "n_components": st.one_of(typed([0, -1], INT_TYPES), typed([2.0, 2.5], REAL_TYPES)),
    "hidden_layer_sizes": st.one_of(
        typed([0], INT_TYPES),
        layer_sizes([2, 0]),
        st.sampled_from([(2, 2.5), [np.float64(2.5)], np.array([1.5])]),
    ),
    "activation": st.just("softmax"),
    "n_networks": typed([0], INT_TYPES),
    "alpha": typed([-1.0], REAL_TYPES),
    "batch_size": typed([0], INT_TYPES),
    "learning_rate_init": typed([0.0, -1e-3], REAL_TYPES),
    "max_iter": st.one_of(typed([0], INT_TYPES), typed([3.0], REAL_TYPES)),
    "tol": typed([-1e-4], REAL_TYPES),
    "validation_fraction": typed([0.0, 1.0], REAL_TYPES),
    "n_iter_no_change": typed([0], INT_TYPES),
    "min_scale": typed([0.0, -1.0], REAL_TYPES),
    "x_noise_std": typed([-0.1], REAL_TYPES),
    "y_noise_std": typed([-0.1], REAL_TYPES),
    "dtype": st.just("float16"),
}


@st.composite
def parameters(draw):
    """Valid parameters, with at most one invalid; (params, invalid name or None)."""
    names = sorted(VALID_PARAMETERS)
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    params = {name: draw(VALID_PARAMETERS[name]) for name in chosen}
    # Tiny models: at most five epochs, whatever else was drawn.
    params.setdefault("max_iter", draw(typed_int(2, 5)))
    params.setdefault("hidden_layer_sizes", draw(HIDDEN_LAYER_SIZES))
    params.setdefault("n_components", draw(typed_int(1, 3)))
    invalid = draw(st.one_of(st.none(), st.sampled_from(sorted(INVALID_PARAMETERS))))
    if invalid is not None:
        params[invalid] = draw(INVALID_PARAMETERS[invalid])
    return params, invalid


def early_stopping_problem(params, n_weighted_rows):
    """Whether early stopping has too few rows to hold out a validation set."""
    if not params.get("early_stopping", True):
        return False
    fraction = params.get("validation_fraction", "auto")
    if isinstance(fraction, str):
        # "auto": a tenth, at least 30 rows if that leaves three times as many
        # to train: never all of 2 or more rows.
        return n_weighted_rows < 2
    fraction = float(fraction)
    return not 0 < fraction < 1 or np.ceil(fraction * n_weighted_rows) >= n_weighted_rows


PARAMETER_DATA = make_inverse_sine(20, random_state=0)


@given(case=parameters())
def test_any_parameters_fit_or_are_refused_by_name(case):
    """Every parameter of every numeric type: valid values fit a usable model
    (on 20 rows), an invalid one is refused with an error naming it."""
    params, invalid = case
    X, y = PARAMETER_DATA
    problems = []
    if invalid is not None:
        problems.append((invalid,))
    if early_stopping_problem(params, len(y)):
        problems.append(("early_stopping|validation_fraction",))
    fit_or_refuse(params, X, y, None, problems)


# -- data ----------------------------------------------------------------------------

X_KINDS = [
    "float16", "float32", "float64", "int64", "int32", "bool",
    "Float64 frame", "Int64 frame", "float64 frame",
]
Y_KINDS = [
    "float16", "float32", "float64", "int64", "int32", "bool",
    "Float64 series", "Int64 series", "float64 series",
]


def _integers(values, dtype):
    info = np.iinfo(dtype)
    return np.clip(np.round(values), info.min, info.max).astype(dtype)


def make_X(values, kind):
    """The float64 ``values`` (which may hold NaN or infinity) as ``kind``."""
    finite = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    if kind.endswith("frame"):
        columns = [f"x{index}" for index in range(values.shape[1])]
        if kind == "Int64 frame":
            frame = pd.DataFrame(_integers(finite, np.int64), columns=columns).astype("Int64")
            return frame.mask(pd.DataFrame(~np.isfinite(values), columns=columns))
        return pd.DataFrame(values, columns=columns).astype(kind.split()[0])
    if kind == "bool":
        return finite > 0
    if kind.startswith("int"):
        return _integers(finite, kind)
    with np.errstate(over="ignore"):
        return values.astype(kind)


def make_y(values, kind, column):
    """The float64 1-D ``values`` as ``kind``, as a column of shape (n, 1) if
    ``column``."""
    if kind.endswith("series"):
        frame = make_X(values[:, None], kind.replace("series", "frame"))
        return frame if column else frame.iloc[:, 0].rename("y")
    y = make_X(values[:, None], kind)
    return y if column else y[:, 0]


def _weights(counts, exponent, defect):
    weights = np.array(counts) * 10.0**exponent
    if defect is not None:
        weights[-1] = defect
    return weights


def as_float(data):
    """What the data holds, as float64 with NaN for missing values."""
    if isinstance(data, (pd.DataFrame, pd.Series)):
        return data.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(data, dtype=np.float64)


@st.composite
def datasets(draw):
    """(X, y, sample_weight, params) with 1 to 3 rows."""
    n_rows = draw(st.integers(1, 3))
    n_features = draw(st.integers(1, 2))
    unit = st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False)
    values = np.array(
        draw(st.lists(unit, min_size=n_rows * (n_features + 1), max_size=n_rows * (n_features + 1)))
    ).reshape(n_rows, n_features + 1)
    # Features and target at their own scales, 1e-12 to 1e12, and offsets.
    for column in range(n_features + 1):
        scale = 10.0 ** draw(st.integers(-12, 12))
        offset = draw(st.sampled_from([0.0, 1.0, -1e6, 1e12]))
        values[:, column] = offset + scale * values[:, column]
    if draw(st.booleans()):  # a constant column (of X or y)
        column = draw(st.integers(0, n_features))
        values[:, column] = values[0, column]
    if n_features == 2 and draw(st.booleans()):  # duplicated feature
        values[:, 1] = values[:, 0]
    if n_rows >= 2 and draw(st.booleans()):  # a duplicated row: x and y, or x alone
        width = n_features + draw(st.integers(0, 1))
        values[1, :width] = values[0, :width]
    # NaN or infinity somewhere, in about a quarter of the cases.
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 0, 0, 1, 2]))):
        row = draw(st.integers(0, n_rows - 1))
        column = draw(st.integers(0, n_features))
        values[row, column] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    X = make_X(values[:, :n_features], draw(st.sampled_from(X_KINDS)))
    y = make_y(values[:, n_features], draw(st.sampled_from(Y_KINDS)), draw(st.booleans()))
    sample_weight = draw(
        st.one_of(
            st.none(),
            # Weights of any scale, and (rarely) a missing or infinite one.
            st.tuples(
                st.lists(st.sampled_from([0.0, 1.0, 2.0, 5.0]), min_size=n_rows, max_size=n_rows),
                st.integers(-12, 12),
                st.sampled_from([None] * 6 + [np.nan, np.inf]),
            ).map(lambda case: _weights(*case)),
            st.lists(st.sampled_from([0, 0.0, 0.5, 1, 3.0, 3.0]), min_size=n_rows, max_size=n_rows)
            .map(np.array),
            st.lists(st.sampled_from([0, 1, 2, 2]), min_size=n_rows, max_size=n_rows),
        )
    )
    params = {
        "n_components": draw(typed_int(1, 3)),
        "hidden_layer_sizes": (2,),
        "max_iter": draw(typed_int(2, 5)),
        # Early stopping needs 2 rows: on in a third of the cases.
        "early_stopping": draw(st.sampled_from([False, False, True])),
        "dtype": draw(st.sampled_from(["float32", "float64"])),
        "random_state": 0,
    }
    return X, y, sample_weight, params


def _data_problems(X, y, sample_weight, params):
    """The problems of a data case, each as the words an error must use."""
    X_values, y_values = as_float(X), as_float(y)
    problems = []
    if not np.all(np.isfinite(X_values)):
        problems.append(("x contains", "nan|infinity"))
    if not np.all(np.isfinite(y_values)):
        problems.append(("y contains", "nan|infinity"))
    weights = np.ones(len(y_values)) if sample_weight is None else as_float(sample_weight)
    n_weighted = np.count_nonzero(weights > 0)
    if not np.all(np.isfinite(weights)):
        problems.append(("sample_weight", "nan|infinity"))
    elif n_weighted == 0:
        problems.append(("sample weight|sample_weight", "non-zero|positive"))
    elif early_stopping_problem(params, n_weighted):
        problems.append(("early_stopping",))
    return problems


TINY = {"n_components": 2, "hidden_layer_sizes": (2,), "max_iter": 3, "random_state": 0}


@given(case=datasets())
# One row: it fits without early stopping and, with it, is refused by name
# (early stopping needs a row to train on and one to validate on).
@example(case=(np.array([[0.5]]), np.array([1.0]), None, {**TINY, "early_stopping": False}))
@example(case=(np.array([[0.5]]), np.array([1.0]), None, {**TINY, "early_stopping": True}))
@example(case=(np.array([[0.5], [0.7]]), np.array([1.0, 2.0]), None, TINY))
# Two rows, one of weight zero: one row to train on.
@example(
    case=(np.array([[0.5], [0.7]]), np.array([1.0, 2.0]), [1, 0], {**TINY, "early_stopping": False})
)
def test_any_data_fits_or_is_refused_by_name(case):
    """Every dtype, shape, scale and defect of X, y and sample_weight: a
    usable model (finite predict, sample and score; saves and loads), or an
    error naming the defect."""
    X, y, sample_weight, params = case
    fit_or_refuse(params, X, y, sample_weight, _data_problems(X, y, sample_weight, params))


# -- issue 17: the searches a user ran ------------------------------------------------

SEARCH_DATA = make_inverse_sine(40, random_state=0)


def assert_saves_and_loads(model, X):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "best.skmdn")
        model.save(path)
        loaded = skmdn.load(path)
    # The same values (hidden_layer_sizes may come back as another sequence).
    saved, restored = model.get_params(), loaded.get_params()
    assert saved.keys() == restored.keys()
    for name, value in saved.items():
        if isinstance(value, (np.ndarray, list, tuple)):
            assert_array_equal(np.asarray(restored[name]), np.asarray(value), err_msg=name)
        else:
            assert restored[name] == value, name
    assert_array_equal(loaded.predict(X), model.predict(X))


def test_grid_search_over_numpy_integers():
    """GridSearchCV with n_components from np.arange (numpy integers): every
    fit succeeds and the best model saves and loads."""
    X, y = SEARCH_DATA
    search = GridSearchCV(
        MDNRegressor(max_iter=3), {"n_components": np.arange(1, 4)}, cv=2, error_score="raise"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert isinstance(search.best_params_["n_components"], np.integer)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.n_components == search.best_params_["n_components"]
    assert_saves_and_loads(search.best_estimator_, X)


def test_randomized_search_over_scipy_distributions():
    """RandomizedSearchCV with scipy.stats randint, uniform and loguniform
    distributions, and numpy arrays to choose from: every fit succeeds and
    the best model saves and loads."""
    X, y = SEARCH_DATA
    distributions = {
        "n_components": randint(1, 4),
        "max_iter": randint(2, 5),
        "batch_size": randint(4, 32),
        "alpha": loguniform(1e-6, 1e-2),
        "learning_rate_init": loguniform(1e-4, 1e-2),
        "validation_fraction": uniform(0.1, 0.3),
        "y_noise_std": uniform(0.0, 0.1),
        # Elements of numpy arrays are numpy integers (randint's draws are
        # Python ints in current scipy).
        "n_networks": np.arange(1, 3),
        "n_iter_no_change": np.arange(1, 10),
        "hidden_layer_sizes": [np.arange(3, 5), np.array([4], dtype=np.int32)],
    }
    search = RandomizedSearchCV(
        MDNRegressor(max_iter=3), distributions, n_iter=4, cv=2, random_state=0,
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    # numpy scalars did reach the estimator.
    for params in search.cv_results_["params"]:
        assert isinstance(params["n_networks"], np.integer)
        assert isinstance(params["alpha"], np.floating)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert_saves_and_loads(search.best_estimator_, X)


# -- beyond the data's range ---------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-300, 1e-40, 1e37, 1e300])
def test_sample_weights_of_any_positive_scale_fit(scale):
    """sample_weight counts rows, so c * w is the data repeated c times: for
    any finite positive c a valid input, which must give a usable model."""
    X, y = PARAMETER_DATA
    weights = scale * np.arange(1, len(y) + 1) / len(y)
    fit_or_refuse({**TINY, "early_stopping": False}, X, y, weights, problems=[])


@functools.lru_cache(maxsize=None)
def _fitted(activation, dtype):
    X, y = PARAMETER_DATA
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MDNRegressor(**TINY, activation=activation, dtype=dtype).fit(X, y)


@given(
    activation=st.sampled_from(["tanh", "relu", "identity"]),
    dtype=st.sampled_from(["float32", "float64"]),
    values=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=3),
)
@example(activation="relu", dtype="float32", values=[1e39])
@example(activation="relu", dtype="float64", values=[-1e300])
def test_predictions_at_any_finite_x_are_finite_or_refused_naming_x(activation, dtype, values):
    """A model fitted on x in [0, 1] asked about any finite x (up to 1e308):
    predict, sample and log_likelihood give finite numbers, or refuse with an
    error that says X is the problem."""
    model = _fitted(activation, dtype)
    X = np.array(values)[:, None]
    for method, args in [
        (model.predict, (X,)),
        (model.sample, (X, 2, 0)),
        (model.log_likelihood, (X, np.full(len(X), 0.5))),
    ]:
        try:
            result = method(*args)
        except Exception as error:  # judged by assert_clear_error
            assert_clear_error(error, [re.compile(r"\bX\b")])
            event(f"refused ({type(error).__name__})")
        else:
            assert np.all(np.isfinite(result)), (method.__name__, result)
            event("finite")
