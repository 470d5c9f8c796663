"""A fitted MDNRegressor's state, defined once for pickling, saving and loading.

The state is the network's spec, the fitted attributes that are numbers and
lists (``fitted``), and the arrays: the standardisation, the scale floor and
the training state flattened to ``state_0``, ``state_1``, ... The network's
weights travel beside it (a saved file holds them as Keras' ``model.keras``,
a pickle as arrays). ``FORMAT_VERSION`` numbers this definition and
``MIGRATIONS`` upgrades older ones, for files and pickles alike.

``check`` accepts only the known fields, with their types, and array shapes
and dtypes that agree with the spec; it runs on every state before it is
applied, so a crafted file cannot set other attributes.
"""

import dataclasses
import math
import warnings
from numbers import Integral, Real

import numpy as np

from .exceptions import ModelFileError

FORMAT_VERSION = 8

# The NetworkSpec's fields, in the order of its constructor.
SPEC_FIELDS = (
    "n_features",
    "n_outputs",
    "n_components",
    "hidden_layer_sizes",
    "activation",
    "dtype",
    "n_networks",
    "covariance_type",
)
COVARIANCE_TYPES = ("diag", "full")
ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
DTYPES = ("float32", "float64")

# A bound on the weights of a network a file may describe (2^27, half a GiB
# per copy in float32; the default network has about 5,000), checked before
# anything of that size is allocated.
MAX_WEIGHTS = 2**27

# Arrays of the standardisation and floor: name -> the spec field giving
# their length.
ARRAYS = {
    "x_mean_": "n_features",
    "x_scale_": "n_features",
    "y_mean_": "n_outputs",
    "y_scale_": "n_outputs",
    "min_scale_": "n_outputs",
}
POSITIVE_ARRAYS = ("x_scale_", "y_scale_", "min_scale_")


@dataclasses.dataclass
class FittedState:
    """What a fitted model holds besides its parameters and network weights.

    Attributes
    ----------
    version : int
        The version of this definition the state follows.
    spec : dict
        The fields of ``_network.NetworkSpec`` (``hidden_layer_sizes`` a list).
    fitted : dict
        Fitted attributes that are numbers, lists or None (see ``FITTED``).
    arrays : dict of str to ndarray
        ``ARRAYS`` and the flattened training state ``state_{i}``.
    """

    version: int
    spec: dict
    fitted: dict
    arrays: dict


def _fail(source, message):
    raise ModelFileError(f"{source}: {message}")


def _integer(value, name, source, minimum=0):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        _fail(source, f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def _number(value, name, source, minimum=-math.inf):
    if isinstance(value, bool) or not isinstance(value, Real) or not minimum <= value < math.inf:
        _fail(source, f"{name} must be a finite number >= {minimum}; got {value!r}.")
    return float(value)


def _optional(check):
    def optional(value, name, source):
        return None if value is None else check(value, name, source)

    return optional


def _numbers(value, name, source):
    if not isinstance(value, list):
        _fail(source, f"{name} must be a list of numbers; got {type(value).__name__}.")
    return [_number(item, f"an entry of {name}", source) for item in value]


def _boolean(value, name, source):
    if not isinstance(value, (bool, np.bool_)):
        _fail(source, f"{name} must be true or false; got {value!r}.")
    return bool(value)


def _names(value, name, source):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        _fail(source, f"{name} must be a list of strings.")
    return np.asarray(value, dtype=object)


# Fitted attributes held in ``FittedState.fitted``: name -> check(value, name,
# source) returning the value as the estimator holds it.
FITTED = {
    "n_features_in_": lambda value, name, source: _integer(value, name, source, 1),
    "n_outputs_": lambda value, name, source: _integer(value, name, source, 1),
    "n_iter_": _integer,
    "t_": _integer,
    "loss_curve_": _numbers,
    "best_loss_": _optional(_number),
    "validation_scores_": _optional(_numbers),
    "best_validation_score_": _optional(_number),
    "x_noise_std_": lambda value, name, source: _number(value, name, source, 0.0),
    "input_penalty_": lambda value, name, source: _number(value, name, source, 0.0),
    "scale_factor_": lambda value, name, source: _number(value, name, source, 1.0),
    "_y_is_1d": _boolean,
}
# Present only for models fitted on X with string column names.
OPTIONAL_FITTED = {"feature_names_in_": _names}

# Every attribute a fitted model has (model_ is the network itself).
ATTRIBUTES = (*FITTED, *OPTIONAL_FITTED, *ARRAYS, "_spec", "_training_state", "model_")


def head_size(n_components, n_outputs, covariance_type):
    """Raw outputs per network: a logit, d means and d scales per component,
    and with full covariance the d(d - 1)/2 entries below the diagonal of
    its Cholesky factor."""
    per_component = 1 + 2 * n_outputs
    if covariance_type == "full":
        per_component += n_outputs * (n_outputs - 1) // 2
    return n_components * per_component


def n_weights(spec):
    """Number of trainable weights of the network ``spec`` (a dict) describes."""
    sizes = [spec["n_features"], *spec["hidden_layer_sizes"]]
    head = head_size(spec["n_components"], spec["n_outputs"], spec["covariance_type"])
    per_network = sum((a + 1) * b for a, b in zip(sizes, sizes[1:] + [head]))
    return spec["n_networks"] * per_network


def check_spec(spec, source):
    """``spec`` with its types checked and its size bounded; a plain dict."""
    if not isinstance(spec, dict) or set(spec) != set(SPEC_FIELDS):
        _fail(source, f"the network spec must have exactly the fields {', '.join(SPEC_FIELDS)}.")
    checked = {
        name: _integer(spec[name], name, source, 1)
        for name in ("n_features", "n_outputs", "n_components", "n_networks")
    }
    sizes = spec["hidden_layer_sizes"]
    if not isinstance(sizes, (list, tuple)):
        _fail(source, "hidden_layer_sizes must be a list of integers.")
    checked["hidden_layer_sizes"] = [
        _integer(units, "hidden_layer_sizes", source, 1) for units in sizes
    ]
    if spec["activation"] not in ACTIVATIONS:
        _fail(source, f"activation must be one of {ACTIVATIONS}; got {spec['activation']!r}.")
    if spec["dtype"] not in DTYPES:
        _fail(source, f"dtype must be one of {DTYPES}; got {spec['dtype']!r}.")
    if spec["covariance_type"] not in COVARIANCE_TYPES:
        _fail(
            source,
            f"covariance_type must be one of {COVARIANCE_TYPES}; got {spec['covariance_type']!r}.",
        )
    checked |= {
        "activation": spec["activation"],
        "dtype": spec["dtype"],
        "covariance_type": spec["covariance_type"],
    }
    if n_weights(checked) > MAX_WEIGHTS:
        _fail(
            source,
            f"the network it describes has {n_weights(checked):,} weights, more "
            f"than the {MAX_WEIGHTS:,} skmdn loads.",
        )
    return checked


def check_fitted(fitted, spec, source):
    """The fitted attributes of ``fitted`` checked against ``spec``."""
    if not isinstance(fitted, dict):
        _fail(source, "the fitted attributes must be a mapping.")
    unknown = set(fitted) - set(FITTED) - set(OPTIONAL_FITTED)
    missing = set(FITTED) - set(fitted)
    if unknown or missing:
        _fail(
            source,
            "unexpected fitted attributes "
            f"{sorted(unknown)}, missing {sorted(missing)}.",
        )
    checks = FITTED | OPTIONAL_FITTED
    checked = {name: checks[name](value, name, source) for name, value in fitted.items()}
    for name, field in (("n_features_in_", "n_features"), ("n_outputs_", "n_outputs")):
        if checked[name] != spec[field]:
            _fail(source, f"{name}={checked[name]} disagrees with the network ({spec[field]}).")
    if checked["_y_is_1d"] and spec["n_outputs"] != 1:
        _fail(source, "a model with several outputs cannot have a 1-D target.")
    if len(checked["loss_curve_"]) != checked["n_iter_"]:
        _fail(source, "loss_curve_ must have one entry per epoch (n_iter_).")
    scores = checked["validation_scores_"]
    if scores is not None and len(scores) > checked["n_iter_"]:
        _fail(source, "validation_scores_ has more entries than epochs were run.")
    names = checked.get("feature_names_in_")
    if names is not None and len(names) != spec["n_features"]:
        _fail(source, "feature_names_in_ must name every feature.")
    return checked


def check_arrays(arrays, spec, state_layout, source):
    """``arrays`` checked against ``spec`` and the training state's layout
    (a list of (shape, dtype), see ``_network.state_layout``)."""
    expected = expected_array_shapes(spec, state_layout)
    if set(arrays) != set(expected):
        _fail(
            source,
            f"unexpected arrays {sorted(set(arrays) - set(expected))}, missing "
            f"{sorted(set(expected) - set(arrays))}.",
        )
    for name, (shape, dtype) in expected.items():
        array = arrays[name]
        if not isinstance(array, np.ndarray) or array.shape != shape or array.dtype != dtype:
            _fail(
                source,
                f"array {name} must have shape {shape} and dtype {dtype}; got "
                f"{getattr(array, 'shape', None)} {getattr(array, 'dtype', type(array))}.",
            )
        # The training state may hold non-finite numbers (its best score is
        # -inf before an epoch; Adam's moments may overflow float32 while the
        # weights stay finite); they only shape further training.
        if name in ARRAYS and not np.all(np.isfinite(array)):
            _fail(source, f"array {name} holds values that are not finite.")
    for name in POSITIVE_ARRAYS:
        if not np.all(arrays[name] > 0):
            _fail(source, f"array {name} must be positive.")
    return arrays


def expected_array_shapes(spec, state_layout):
    """(shape, dtype) of every array a state of ``spec`` holds, by name."""
    shapes = {name: ((spec[field],), np.dtype(np.float64)) for name, field in ARRAYS.items()}
    return shapes | {
        f"state_{index}": (tuple(shape), np.dtype(dtype))
        for index, (shape, dtype) in enumerate(state_layout)
    }


def checked(state, source):
    """A current-version ``state`` with every part checked (see ``check_spec``,
    ``check_fitted``, ``check_arrays``), and its ``_network.NetworkSpec``."""
    from . import _network

    spec = check_spec(state.spec, source)
    fitted = check_fitted(state.fitted, spec, source)
    network_spec = _network_spec(spec)
    arrays = check_arrays(state.arrays, spec, _network.state_layout(network_spec), source)
    return FittedState(state.version, spec, fitted, arrays), network_spec


# -- from and to an estimator ---------------------------------------------------------


def fitted_state(estimator):
    """The ``FittedState`` of a fitted estimator."""
    attributes = {name: getattr(estimator, name) for name in ATTRIBUTES if hasattr(estimator, name)}
    return _from_attributes(FORMAT_VERSION, attributes)


def legacy_fitted_state(attributes):
    """The ``FittedState`` of a pickle from before it was defined (the
    estimator's attributes themselves), removing them from ``attributes``."""
    # The version whose fields the pickle has (pickles began at version 2).
    if "n_networks" in attributes:
        version = 5
    elif "scale_factor_" in attributes:
        version = 4
    elif "x_noise_std_" in attributes:
        version = 3
    else:
        version = 2
    state = _from_attributes(version, attributes)
    for name in ATTRIBUTES:
        attributes.pop(name, None)
    return state


def _from_attributes(version, attributes):
    """A ``FittedState`` of ``version`` from an estimator's fitted attributes."""
    from . import _network

    # getattr, not dataclasses.asdict: a spec pickled before n_networks
    # existed reads the field's default.
    spec = {name: getattr(attributes["_spec"], name) for name in SPEC_FIELDS}
    spec["hidden_layer_sizes"] = list(spec["hidden_layer_sizes"])
    fitted = {name: attributes[name] for name in (*FITTED, *OPTIONAL_FITTED) if name in attributes}
    fitted["_y_is_1d"] = bool(fitted["_y_is_1d"])
    if "feature_names_in_" in fitted:
        fitted["feature_names_in_"] = [str(name) for name in fitted["feature_names_in_"]]
    arrays = {name: np.asarray(attributes[name]) for name in ARRAYS}
    arrays |= {
        f"state_{index}": np.asarray(array)
        for index, array in enumerate(_network.flatten_state(attributes["_training_state"]))
    }
    return FittedState(version, spec, fitted, arrays)


def _network_spec(spec):
    """The ``_network.NetworkSpec`` of a spec dict."""
    from . import _network

    return _network.NetworkSpec(
        **spec | {"hidden_layer_sizes": tuple(spec["hidden_layer_sizes"])}
    )


def restore(estimator, state, model):
    """Give ``estimator`` the checked, current-version ``state`` and ``model``."""
    from . import _network

    spec = _network_spec(state.spec)
    for name, value in state.fitted.items():
        setattr(estimator, name, value)
    for name in ARRAYS:
        setattr(estimator, name, state.arrays[name])
    n_state = sum(name.startswith("state_") for name in state.arrays)
    estimator._spec = spec
    estimator._training_state = _network.unflatten_state(
        spec, [state.arrays[f"state_{index}"] for index in range(n_state)]
    )
    estimator.model_ = model


def json_params(params):
    """Parameters as JSON values: numpy scalars and arrays (a grid built with
    ``np.arange``) become Python numbers and lists, tuples lists."""
    converted = {}
    for name, value in params.items():
        if name == "random_state" and value is not None and not isinstance(value, Integral):
            warnings.warn(
                "random_state is a RandomState instance, which is not saved; the "
                "loaded model has random_state=None (its predictions are unaffected).",
                UserWarning,
            )
            value = None
        if isinstance(value, np.generic):
            value = value.item()
        elif isinstance(value, (np.ndarray, tuple, list, range)):
            value = np.asarray(value).tolist()
        converted[name] = value
    return converted


# -- upgrades of older versions ------------------------------------------------------

# The parameters each version's upgrade adds, with the values that give an
# older model's behaviour (see the upgrades below). An unfitted estimator
# pickled by an older skmdn gets them too.
ADDED_PARAMETERS = {
    3: {"calibrate_scales": False},
    4: {"n_networks": 1},
    5: {"solver": "adam", "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "shuffle": True},
    6: {"input_penalty": 0.0},
    7: {"covariance_type": "diag"},
}


def older_parameters():
    """Every added parameter with its older behaviour's value, for an
    unfitted estimator of unknown version (the parameters it has win)."""
    return {name: value for added in ADDED_PARAMETERS.values() for name, value in added.items()}


def _add_weight_averages(params, state):
    """Version 1 -> 2: the training state gained a moving average of the weights.

    Early stopping scores and keeps that average (bias-corrected: divided by
    1 - decay^step). A version-1 state gets the average that makes the
    corrected value equal its current weights, so a warm start carries on from
    them; the fitted model itself is unchanged.
    """
    from ._optimiser import EMA_DECAY

    arrays = dict(state.arrays)
    n_state = sum(name.startswith("state_") for name in arrays)
    flat = [arrays.pop(f"state_{index}") for index in range(n_state)]
    # Flattened version-1 state: weights, Adam's step, first and second
    # moments (one array per weight each), start and best weights, then three
    # scalars.
    n_weights = (n_state - 4) // 5
    if n_state < 9 or n_state != 5 * n_weights + 4:
        raise ModelFileError(f"a version-1 training state cannot have {n_state} arrays.")
    correction = 1.0 - EMA_DECAY ** float(flat[n_weights])
    averages = [weight * weight.dtype.type(correction) for weight in flat[:n_weights]]
    flat = flat[: 3 * n_weights + 1] + averages + flat[3 * n_weights + 1 :]
    arrays |= {f"state_{index}": array for index, array in enumerate(flat)}
    return params, dataclasses.replace(state, version=2, arrays=arrays)


def _add_input_noise(params, state):
    """Version 2 -> 3: the input noise of the last fit became the fitted
    attribute ``x_noise_std_`` (``x_noise_std`` gained "auto"). A version-2
    model's parameter is always a number, which is what its fits used."""
    noise = params.get("x_noise_std")
    if isinstance(noise, bool) or not isinstance(noise, Real):
        raise ModelFileError(f"a version-2 model's x_noise_std must be a number; got {noise!r}.")
    fitted = state.fitted | {"x_noise_std_": float(noise)}
    return params, dataclasses.replace(state, version=3, fitted=fitted)


def _add_scale_calibration(params, state):
    """Version 3 -> 4: the parameter ``calibrate_scales`` and the fitted
    ``scale_factor_`` were added. A version-3 model's scales are as trained
    (factor 1), and it keeps training without calibration: loading never
    changes what a saved model predicts or how it trains on."""
    fitted = state.fitted | {"scale_factor_": 1.0}
    return params | ADDED_PARAMETERS[3], dataclasses.replace(state, version=4, fitted=fitted)


def _add_networks(params, state):
    """Version 4 -> 5: the parameter ``n_networks`` was added; a version-4
    model is one network."""
    spec = state.spec | {"n_networks": 1}
    return params | ADDED_PARAMETERS[4], dataclasses.replace(state, version=5, spec=spec)


def _add_adam_settings(params, state):
    """Version 5 -> 6: the parameters solver, beta_1, beta_2, epsilon and
    shuffle were added (MLPRegressor's names); a version-5 model was trained
    with their defaults."""
    return params | ADDED_PARAMETERS[5], dataclasses.replace(state, version=6)


def _add_input_penalty(params, state):
    """Version 6 -> 7: the parameter ``input_penalty`` and the fitted
    ``input_penalty_`` were added; a version-6 model was trained without the
    penalty, and goes on training without it."""
    fitted = state.fitted | {"input_penalty_": 0.0}
    return params | ADDED_PARAMETERS[6], dataclasses.replace(state, version=7, fitted=fitted)


def _add_covariance_type(params, state):
    """Version 7 -> 8: the parameter ``covariance_type`` was added; a
    version-7 model has diagonal components."""
    spec = {"covariance_type": "diag"} | state.spec
    return params | ADDED_PARAMETERS[7], dataclasses.replace(state, version=8, spec=spec)


# version -> function(params, state) returning those of the next version.
MIGRATIONS = {
    1: _add_weight_averages,
    2: _add_input_noise,
    3: _add_scale_calibration,
    4: _add_networks,
    5: _add_adam_settings,
    6: _add_input_penalty,
    7: _add_covariance_type,
}


def upgrade(params, state):
    """``params`` and ``state`` brought to ``FORMAT_VERSION``."""
    while state.version < FORMAT_VERSION:
        params, state = MIGRATIONS[state.version](params, state)
    return params, state
