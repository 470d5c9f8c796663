"""Saving and loading fitted MDNRegressors without pickle.

A saved model is one zip file holding

- ``metadata.json``: the file format and its version, the skmdn version that
  wrote it, the estimator's parameters and its fitted scalars;
- ``arrays.npz``: the standardisation and the optimiser state, loaded with
  ``allow_pickle=False``;
- ``model.keras``: the network in Keras' own format, loaded with Keras'
  ``safe_mode=True``.

Nothing in the file can run code when it is loaded, unlike a pickle.
"""

import json
import os
import tempfile
import warnings
import zipfile
from numbers import Integral

import numpy as np

FORMAT = "skmdn-model"
FORMAT_VERSION = 5

# Fitted attributes stored in metadata.json (JSON scalars and lists).
_FITTED_SCALARS = (
    "n_features_in_",
    "n_outputs_",
    "n_iter_",
    "t_",
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "x_noise_std_",
    "scale_factor_",
    "_y_is_1d",
)
# Fitted arrays stored in arrays.npz.
_FITTED_ARRAYS = ("x_mean_", "x_scale_", "y_mean_", "y_scale_", "min_scale_")


def _add_weight_averages(metadata, arrays):
    """Version 1 -> 2: the training state gained a moving average of the weights.

    Early stopping scores and keeps that average (bias-corrected: divided by
    1 - decay^step). A version-1 state gets the average that makes the
    corrected value equal its current weights, so a warm start carries on from
    them; the fitted model itself is unchanged.
    """
    from . import _network

    n_state = sum(name.startswith("state_") for name in arrays)
    state = [arrays.pop(f"state_{index}") for index in range(n_state)]
    # Flattened version-1 state: weights, Adam's step, first and second
    # moments (one array per weight each), start and best weights, then three
    # scalars.
    n_weights = (n_state - 4) // 5
    correction = 1.0 - _network.EMA_DECAY ** float(state[n_weights])
    averages = [weight * weight.dtype.type(correction) for weight in state[:n_weights]]
    state = state[: 3 * n_weights + 1] + averages + state[3 * n_weights + 1 :]
    arrays |= {f"state_{index}": array for index, array in enumerate(state)}
    return metadata | {"format_version": 2}, arrays


def _add_input_noise(metadata, arrays):
    """Version 2 -> 3: the input noise of the last fit became the fitted
    attribute ``x_noise_std_`` (``x_noise_std`` gained "auto"). A version-2
    model's parameter is always a number, which is what its fits used."""
    fitted = metadata["fitted"] | {"x_noise_std_": float(metadata["params"]["x_noise_std"])}
    return metadata | {"format_version": 3, "fitted": fitted}, arrays


def _add_scale_calibration(metadata, arrays):
    """Version 3 -> 4: the parameter ``calibrate_scales`` and the fitted
    ``scale_factor_`` were added. A version-3 model's scales are as trained
    (factor 1), and it keeps training without calibration: loading never
    changes what a saved model predicts or how it trains on."""
    params = metadata["params"] | {"calibrate_scales": False}
    fitted = metadata["fitted"] | {"scale_factor_": 1.0}
    return metadata | {"format_version": 4, "params": params, "fitted": fitted}, arrays


def _add_networks(metadata, arrays):
    """Version 4 -> 5: the parameter ``n_networks`` was added; a version-4
    model is one network."""
    params = metadata["params"] | {"n_networks": 1}
    spec = metadata["spec"] | {"n_networks": 1}
    return metadata | {"format_version": 5, "params": params, "spec": spec}, arrays


# Upgrades of older format versions: version -> function(metadata, arrays)
# returning those of the next version.
_MIGRATIONS = {
    1: _add_weight_averages,
    2: _add_input_noise,
    3: _add_scale_calibration,
    4: _add_networks,
}


def save_model(estimator, path, overwrite=False):
    """Write a fitted ``estimator`` to ``path``; see ``MDNRegressor.save``."""
    from sklearn.utils.validation import check_is_fitted

    from . import __version__, _network

    check_is_fitted(estimator)
    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    params = estimator.get_params()
    if params["random_state"] is not None and not isinstance(params["random_state"], Integral):
        warnings.warn(
            "random_state is a RandomState instance, which is not saved; the "
            "loaded model has random_state=None (its predictions are unaffected).",
            UserWarning,
        )
        params["random_state"] = None
    # JSON has no tuples; an int stays an int, a sequence becomes a list.
    if not isinstance(params["hidden_layer_sizes"], Integral):
        params["hidden_layer_sizes"] = [int(units) for units in params["hidden_layer_sizes"]]
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skmdn_version": __version__,
        "params": params,
        "fitted": {name: getattr(estimator, name) for name in _FITTED_SCALARS},
        "spec": {
            name: getattr(estimator._spec, name)
            for name in (
                "n_features", "n_outputs", "n_components", "n_networks", "activation", "dtype"
            )
        }
        | {"hidden_layer_sizes": list(estimator._spec.hidden_layer_sizes)},
    }
    if hasattr(estimator, "feature_names_in_"):
        metadata["fitted"]["feature_names_in_"] = [str(n) for n in estimator.feature_names_in_]
    arrays = {name: getattr(estimator, name) for name in _FITTED_ARRAYS}
    arrays |= {
        f"state_{index}": array
        for index, array in enumerate(_network.flatten_state(estimator._training_state))
    }
    directory = os.path.dirname(os.path.abspath(path))
    # Write beside the target and rename at the end, so that a failed save
    # never leaves a half-written file where a good one was.
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        keras_path = os.path.join(scratch, "model.keras")
        estimator.model_.save(keras_path)
        arrays_path = os.path.join(scratch, "arrays.npz")
        np.savez(arrays_path, **arrays)
        archive_path = os.path.join(scratch, "model.skmdn")
        with zipfile.ZipFile(archive_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("metadata.json", json.dumps(metadata, indent=2))
            archive.write(arrays_path, "arrays.npz")
            archive.write(keras_path, "model.keras")
        os.replace(archive_path, path)


def load(path):
    """Load an MDNRegressor written by ``MDNRegressor.save``.

    Safe for files from others: nothing in the file is executed (no pickle;
    the network is read with Keras' ``safe_mode=True``). Files from older
    versions of the format are upgraded; files from a newer skmdn are refused.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    model : MDNRegressor
        Predicts exactly what the saved model predicted.

    Examples
    --------
    >>> import os, tempfile
    >>> import skmdn
    >>> from skmdn.datasets import make_inverse_sine
    >>> X, y = make_inverse_sine(200, random_state=0)
    >>> model = skmdn.MDNRegressor(max_iter=5, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.skmdn")
    >>> model.save(path)
    >>> bool((skmdn.load(path).predict(X) == model.predict(X)).all())
    True
    """
    from . import _network
    from ._estimator import MDNRegressor

    path = os.fspath(path)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{path} is not a saved skmdn model (not a zip file).") from error
    with archive, tempfile.TemporaryDirectory() as scratch:
        names = set(archive.namelist())
        if not {"metadata.json", "arrays.npz", "model.keras"} <= names:
            raise ValueError(f"{path} is not a saved skmdn model (missing parts).")
        metadata = json.loads(archive.read("metadata.json"))
        version = _check_format(metadata, path)
        archive.extract("model.keras", scratch)
        archive.extract("arrays.npz", scratch)
        import keras

        model = keras.saving.load_model(
            os.path.join(scratch, "model.keras"), compile=False, safe_mode=True
        )
        with np.load(os.path.join(scratch, "arrays.npz"), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    while version < FORMAT_VERSION:
        metadata, arrays = _MIGRATIONS[version](metadata, arrays)
        version = metadata["format_version"]

    params = dict(metadata["params"])
    if isinstance(params["hidden_layer_sizes"], list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    estimator = MDNRegressor(**params)
    spec = metadata["spec"]
    estimator._spec = _network.NetworkSpec(
        **spec | {"hidden_layer_sizes": tuple(spec["hidden_layer_sizes"])}
    )
    for name, value in metadata["fitted"].items():
        setattr(estimator, name, np.asarray(value, dtype=object) if name == "feature_names_in_" else value)
    for name in _FITTED_ARRAYS:
        setattr(estimator, name, arrays[name])
    n_state = sum(name.startswith("state_") for name in arrays)
    estimator._training_state = _network.unflatten_state(
        estimator._spec, [arrays[f"state_{index}"] for index in range(n_state)]
    )
    estimator.model_ = model
    return estimator


def _check_format(metadata, path):
    """The format version of a saved model, if this skmdn can read it."""
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path} is not a saved skmdn model (format {metadata.get('format')!r}).")
    version = metadata.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was saved by skmdn {metadata.get('skmdn_version')} in model format "
            f"version {version}; this skmdn reads versions up to {FORMAT_VERSION}. "
            "Upgrade skmdn to load it."
        )
    if version < FORMAT_VERSION and version not in _MIGRATIONS:
        raise ValueError(f"{path} uses model format version {version}, which cannot be upgraded.")
    return version
