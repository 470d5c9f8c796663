"""The saved-model file format: writing and reading, without pickle.

A saved model is one zip file holding

- ``metadata.json``: the file format and its version, the skmdn version that
  wrote it, the estimator's parameters, the network spec and the fitted
  attributes that are numbers and lists;
- ``arrays.npz``: the standardisation and the training state (plain numeric
  arrays; no pickle);
- ``model.keras``: the network in Keras' own format. Reading takes only its
  weights, into a network built from the spec, after checking that it holds
  the layers skmdn writes and nothing else.

What the fitted state is, and how older versions upgrade, is ``_fitted``'s
business; this module only moves it to and from a file, and refuses a file
that is damaged, malformed or larger than the network it describes needs,
with ``ModelFileError``, before allocating anything of that size.
"""

import io
import json
import os
import tempfile
import zipfile
import zlib

import numpy as np

from . import _fitted
from ._version import __version__
from .exceptions import ModelFileError

FORMAT = "skmdn-model"
PARTS = ("metadata.json", "arrays.npz", "model.keras")
# Parts of Keras' model.keras, and the layers skmdn builds.
KERAS_PARTS = {"config.json", "metadata.json", "model.weights.h5"}
KERAS_LAYERS = {"InputLayer", "Dense", "Concatenate"}

# Bounds on what a file may hold beyond its weights: metadata.json carries a
# loss curve per epoch (about 20 bytes each), the others headers and Keras'
# configuration.
MAX_METADATA_BYTES = 64 * 2**20
OVERHEAD_BYTES = 2**20
# Zip-bomb guard: no part expands more than this (a network's weights barely
# compress at all).
MAX_COMPRESSION_RATIO = 100


def write_model(path, params, state, model, overwrite=False):
    """Write ``params`` (JSON values), ``state`` (a current ``FittedState``) and
    the Keras ``model`` to ``path``; see ``MDNRegressor.save``."""
    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    metadata = {
        "format": FORMAT,
        "format_version": state.version,
        "skmdn_version": __version__,
        "params": params,
        "fitted": state.fitted,
        "spec": state.spec,
    }
    directory = os.path.dirname(os.path.abspath(path))
    # Write beside the target and rename at the end, so that a failed or
    # interrupted save never leaves a half-written file where a good one was.
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        keras_path = os.path.join(scratch, "model.keras")
        model.save(keras_path)
        arrays_path = os.path.join(scratch, "arrays.npz")
        np.savez(arrays_path, **state.arrays)
        archive_path = os.path.join(scratch, "model.skmdn")
        with zipfile.ZipFile(archive_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("metadata.json", json.dumps(metadata, indent=2))
            archive.write(arrays_path, "arrays.npz")
            archive.write(keras_path, "model.keras")
        os.replace(archive_path, path)


def read_model(path):
    """The parameters, checked current-version ``FittedState`` and Keras model
    saved in ``path``; ``ModelFileError`` for any malformed file."""
    path = os.fspath(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise ModelFileError(f"{path} is not a saved skmdn model (not a zip file).") from error
    with archive:
        try:
            return _read_archive(archive, path)
        except ModelFileError as error:
            message = str(error)
            if not message.startswith(path):
                message = f"{path}: {message}"
            raise ModelFileError(message) from error.__cause__
        except (zipfile.BadZipFile, EOFError, zlib.error, UnicodeDecodeError) as error:
            raise ModelFileError(f"{path} is damaged: {error}") from error
        except (json.JSONDecodeError, RecursionError) as error:
            raise ModelFileError(f"{path}: metadata.json is not valid JSON ({error}).") from error


def _read_archive(archive, path):
    parts = {info.filename: info for info in archive.infolist()}
    if set(parts) != set(PARTS):
        missing, unexpected = set(PARTS) - set(parts), set(parts) - set(PARTS)
        problem = (
            f"missing parts {sorted(missing)}" if missing
            else f"unexpected parts {sorted(unexpected)}"
        )
        raise ModelFileError(f"{path} is not a saved skmdn model ({problem}).")
    for info in parts.values():
        _check_compression(info, path)
    if parts["metadata.json"].file_size > MAX_METADATA_BYTES:
        raise ModelFileError(f"{path}: metadata.json is larger than {MAX_METADATA_BYTES} bytes.")
    metadata = json.loads(archive.read("metadata.json"))
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{path}: metadata.json must hold an object.")
    version = _check_format(metadata, path)
    params, spec, fitted = (metadata.get(key) for key in ("params", "spec", "fitted"))
    if not isinstance(params, dict) or not isinstance(fitted, dict) or not isinstance(spec, dict):
        raise ModelFileError(f"{path}: metadata.json lacks params, spec or fitted.")

    # Bound every part by what the network the spec describes needs, before
    # reading it. Older specs lack n_networks (one network) and
    # covariance_type (diagonal).
    sized = _fitted.check_spec({"n_networks": 1, "covariance_type": "diag"} | spec, path)
    itemsize = np.dtype(sized["dtype"]).itemsize
    weight_bytes = _fitted.n_weights(sized) * itemsize
    # The training state holds six copies of the weights (the weights, Adam's
    # two moments, their average, start and best).
    arrays_bound = 6 * weight_bytes + 5 * 8 * (sized["n_features"] + sized["n_outputs"])
    for name, bound in (("arrays.npz", arrays_bound), ("model.keras", weight_bytes)):
        if parts[name].file_size > bound + OVERHEAD_BYTES:
            raise ModelFileError(
                f"{path}: {name} holds {parts[name].file_size:,} bytes, more than "
                "the network it describes needs."
            )
    arrays = _read_arrays(archive.read("arrays.npz"), path)
    try:
        params, state = _fitted.upgrade(
            params, _fitted.FittedState(version, spec, fitted, arrays)
        )
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise ModelFileError(
            f"{path}: its format-{version} contents cannot be upgraded ({error!r})."
        ) from error

    state, network_spec = _fitted.checked(state, path)
    model = _read_network(archive, network_spec, path)
    return params, state, model


def _check_compression(info, path):
    if info.file_size > OVERHEAD_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
        info.compress_size, 1
    ):
        raise ModelFileError(
            f"{path}: {info.filename} expands {info.file_size / max(info.compress_size, 1):.0f}"
            f"-fold, more than any saved model does (a zip bomb?)."
        )


def _read_arrays(data, path):
    """The arrays of ``arrays.npz`` (bytes), each checked against its header
    before it is allocated: numeric dtypes only, no pickle, and no more
    elements than the bytes present hold."""
    arrays = {}
    with zipfile.ZipFile(io.BytesIO(data)) as npz:
        for info in npz.infolist():
            name = info.filename.removesuffix(".npy")
            if not (name in _fitted.ARRAYS or (name.startswith("state_") and name[6:].isdigit())):
                raise ModelFileError(f"{path}: arrays.npz holds an unexpected array {name!r}.")
            _check_compression(info, path)
            with npz.open(info) as stream:
                try:
                    version = np.lib.format.read_magic(stream)
                    read_header = {
                        (1, 0): np.lib.format.read_array_header_1_0,
                        (2, 0): np.lib.format.read_array_header_2_0,
                    }.get(version)
                    if read_header is None:
                        raise ValueError(f"npy format version {version}")
                    shape, _, dtype = read_header(stream, max_header_size=10_000)
                except (ValueError, SyntaxError, TypeError) as error:
                    raise ModelFileError(f"{path}: array {name} is malformed ({error}).") from error
                if dtype.kind not in "fiub" or dtype.hasobject:
                    raise ModelFileError(f"{path}: array {name} has dtype {dtype}, not a number.")
                if np.prod(shape, dtype=np.float64) * dtype.itemsize > info.file_size:
                    raise ModelFileError(
                        f"{path}: array {name} claims shape {shape}, more than its "
                        f"{info.file_size} bytes hold."
                    )
            with npz.open(info) as stream:
                arrays[name] = np.lib.format.read_array(stream, allow_pickle=False)
    return arrays


def _read_network(archive, spec, path):
    """A network built from ``spec`` holding the weights of ``model.keras``."""
    from . import _network

    with tempfile.TemporaryDirectory() as scratch:
        keras_path = archive.extract("model.keras", scratch)
        try:
            with zipfile.ZipFile(keras_path) as inner:
                infos = inner.infolist()
                names = {info.filename for info in infos}
                if not names <= KERAS_PARTS or "model.weights.h5" not in names:
                    raise ModelFileError(f"{path}: model.keras has parts {sorted(names)}.")
                for info in infos:
                    _check_compression(info, path)
                config = json.loads(inner.read("config.json")) if "config.json" in names else {}
        except (zipfile.BadZipFile, EOFError, zlib.error, UnicodeDecodeError) as error:
            raise ModelFileError(f"{path}: model.keras is damaged ({error}).") from error
        except json.JSONDecodeError as error:
            raise ModelFileError(f"{path}: model.keras has an invalid configuration.") from error
        layers = config.get("config", {}).get("layers", []) if isinstance(config, dict) else []
        classes = {layer.get("class_name") for layer in layers if isinstance(layer, dict)}
        if not classes <= KERAS_LAYERS:
            raise ModelFileError(
                f"{path}: model.keras holds layers of classes "
                f"{sorted(map(str, classes - KERAS_LAYERS))}, which skmdn never writes "
                "(unsafe: refused)."
            )
        model = _network.build_model(spec, seed=0)
        try:
            model.load_weights(keras_path)
        except Exception as error:  # Keras raises many types for bad weights.
            raise ModelFileError(
                f"{path}: the weights in model.keras do not fit the saved network ({error})."
            ) from error
    return model


def _check_format(metadata, path):
    """The format version of a saved model, if this skmdn can read it."""
    if metadata.get("format") != FORMAT:
        raise ModelFileError(
            f"{path} is not a saved skmdn model (format {metadata.get('format')!r})."
        )
    version = metadata.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: invalid format version {version!r}.")
    if version > _fitted.FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was saved by skmdn {metadata.get('skmdn_version')} in model format "
            f"version {version}; this skmdn reads versions up to {_fitted.FORMAT_VERSION}. "
            "Upgrade skmdn to load it."
        )
    if version < _fitted.FORMAT_VERSION and version not in _fitted.MIGRATIONS:
        raise ModelFileError(
            f"{path} uses model format version {version}, which cannot be upgraded."
        )
    return version
