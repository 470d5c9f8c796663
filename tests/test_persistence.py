"""save / skmdn.load: exact, safe, versioned, and never destroys a saved file."""

import io
import json
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

import skmdn
from skmdn.exceptions import ModelFileError
from skmdn.datasets import make_inverse_sine


@pytest.fixture(scope="module")
def fitted():
    X, y = make_inverse_sine(300, random_state=0)
    # 200 epochs: long enough for calibrate_scales to widen the scales.
    return skmdn.MDNRegressor(n_components=3, max_iter=200, random_state=0).fit(X, y), X, y


def test_round_trip_predicts_exactly(fitted, tmp_path):
    model, X, y = fitted
    path = tmp_path / "model.skmdn"
    model.save(path)
    loaded = skmdn.load(path)
    assert_array_equal(loaded.predict(X), model.predict(X))
    assert_array_equal(loaded.predict_dist(X).weights, model.predict_dist(X).weights)
    assert loaded.score(X, y) == model.score(X, y)
    assert loaded.get_params() == model.get_params()
    assert loaded.loss_curve_ == model.loss_curve_
    assert loaded.n_iter_ == model.n_iter_
    assert loaded.x_noise_std_ == model.x_noise_std_ > 0
    assert loaded.scale_factor_ == model.scale_factor_ > 1


def test_several_networks_round_trip(tmp_path):
    X, y = make_inverse_sine(200, random_state=0)
    model = skmdn.MDNRegressor(
        n_components=2, n_networks=3, hidden_layer_sizes=(8,), max_iter=20, random_state=0
    ).fit(X, y)
    model.save(tmp_path / "model.skmdn")
    loaded = skmdn.load(tmp_path / "model.skmdn")
    assert loaded.get_params()["n_networks"] == 3
    assert_array_equal(loaded.predict(X), model.predict(X))
    assert_array_equal(loaded.predict_dist(X).means, model.predict_dist(X).means)
    # It trains on as the same three networks.
    loaded.set_params(warm_start=True, max_iter=2).fit(X, y)
    assert loaded.predict_dist(X).n_components == 6


def test_loaded_model_predicts_the_same_in_a_fresh_process(fitted, tmp_path):
    model, X, _ = fitted
    path = tmp_path / "model.skmdn"
    model.save(path)
    np.save(tmp_path / "X.npy", X)
    code = (
        "import numpy as np, skmdn, sys; d = sys.argv[1]; "
        "np.save(d + '/pred.npy', skmdn.load(d + '/model.skmdn').predict(np.load(d + '/X.npy')))"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, timeout=300)
    assert_array_equal(np.load(tmp_path / "pred.npy"), model.predict(X))


def test_warm_start_continues_after_loading(fitted, tmp_path):
    model, X, y = fitted
    model.save(tmp_path / "model.skmdn")
    loaded = skmdn.load(tmp_path / "model.skmdn").set_params(warm_start=True, max_iter=5)
    loaded.fit(X, y)
    assert loaded.n_iter_ == model.n_iter_ + 5


def test_feature_names_survive(tmp_path):
    X, y = make_inverse_sine(100, random_state=0)
    frame = pd.DataFrame({"x": X[:, 0]})
    model = skmdn.MDNRegressor(max_iter=3, random_state=0).fit(frame, y)
    model.save(tmp_path / "model.skmdn")
    loaded = skmdn.load(tmp_path / "model.skmdn")
    assert list(loaded.feature_names_in_) == ["x"]
    assert_array_equal(loaded.predict(frame), model.predict(frame))


def test_existing_file_is_never_overwritten_by_default(fitted, tmp_path):
    model, _, _ = fitted
    path = tmp_path / "model.skmdn"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        model.save(path)
    assert path.read_bytes() == b"precious"
    model.save(path, overwrite=True)
    assert zipfile.is_zipfile(path)


def test_failed_save_leaves_the_old_file(fitted, tmp_path, monkeypatch):
    model, _, _ = fitted
    path = tmp_path / "model.skmdn"
    path.write_bytes(b"precious")

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(type(model.model_), "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        model.save(path, overwrite=True)
    assert path.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["model.skmdn"]


def _rewrite_metadata(source, target, change):
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w") as out:
        for name in archive.namelist():
            data = archive.read(name)
            if name == "metadata.json":
                metadata = json.loads(data)
                change(metadata)
                data = json.dumps(metadata)
            out.writestr(name, data)


def test_newer_format_is_refused_with_a_clear_message(fitted, tmp_path):
    model, _, _ = fitted
    model.save(tmp_path / "model.skmdn")
    _rewrite_metadata(
        tmp_path / "model.skmdn", tmp_path / "newer.skmdn",
        lambda metadata: metadata.update(format_version=99, skmdn_version="9.0"),
    )
    with pytest.raises(ValueError, match="saved by skmdn 9.0 .* Upgrade skmdn"):
        skmdn.load(tmp_path / "newer.skmdn")


def test_not_a_model_is_refused(tmp_path):
    (tmp_path / "junk.skmdn").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a saved skmdn model"):
        skmdn.load(tmp_path / "junk.skmdn")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="missing parts"):
        skmdn.load(tmp_path / "other.zip")


def test_unsafe_network_is_refused(fitted, tmp_path):
    """A model.keras holding a Lambda layer (arbitrary code) is not loaded."""
    import keras

    model, _, _ = fitted
    model.save(tmp_path / "model.skmdn")
    inputs = keras.Input((1,))
    unsafe = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    unsafe.save(tmp_path / "unsafe.keras")
    with zipfile.ZipFile(tmp_path / "model.skmdn") as archive, zipfile.ZipFile(
        tmp_path / "tampered.skmdn", "w"
    ) as out:
        for name in archive.namelist():
            data = (tmp_path / "unsafe.keras").read_bytes() if name == "model.keras" else archive.read(name)
            out.writestr(name, data)
    with pytest.raises(ValueError, match="(?i)unsafe|safe_mode"):
        skmdn.load(tmp_path / "tampered.skmdn")


def test_parameters_are_restored_as_given(tmp_path):
    """An int hidden_layer_sizes comes back an int, not a one-element tuple."""
    X, y = make_inverse_sine(100, random_state=0)
    model = skmdn.MDNRegressor(hidden_layer_sizes=8, max_iter=3, random_state=0).fit(X, y)
    model.save(tmp_path / "model.skmdn")
    assert skmdn.load(tmp_path / "model.skmdn").get_params() == model.get_params()


def test_format_1_file_loads_unchanged_and_warm_starts():
    """tests/data/model_format_1.skmdn was written by skmdn 0.1.0 before the
    training state gained a weight average (format 2): MDNRegressor(
    n_components=3, hidden_layer_sizes=(8,), max_iter=20, random_state=0) on
    make_inverse_sine(300, random_state=0). It loads with its own parameters
    and the log-likelihood it had then (printed when it was written), and a
    warm start continues from its weights and step count."""
    path = os.path.join(os.path.dirname(__file__), "data", "model_format_1.skmdn")
    before = open(path, "rb").read()
    model = skmdn.load(path)
    X, y = make_inverse_sine(300, random_state=0)
    assert model.get_params()["activation"] == "relu"
    assert model.get_params()["max_iter"] == 20
    # Fitted without input noise, and it keeps that setting (the default is
    # now "auto"): loading never changes how a saved model trains on.
    assert model.get_params()["x_noise_std"] == 0.0
    assert model.x_noise_std_ == 0.0
    # Nor the calibration of the scales, added in format 4.
    assert model.get_params()["calibrate_scales"] is False
    assert model.scale_factor_ == 1.0
    # One network (n_networks came in format 5).
    assert model.get_params()["n_networks"] == 1 and model._spec.n_networks == 1
    # Adam's settings as it was trained (the parameters came in format 6; the
    # default step size is now larger).
    params = model.get_params()
    assert params["learning_rate_init"] == 1e-3 and params["solver"] == "adam"
    assert (params["beta_1"], params["beta_2"], params["epsilon"]) == (0.9, 0.999, 1e-8)
    assert params["shuffle"] is True
    # Trained without the input penalty (format 7), and it goes on without.
    assert params["input_penalty"] == 0.0 and model.input_penalty_ == 0.0
    assert model.n_iter_ == 20 and model.t_ == 5400
    assert model.score(X, y) == pytest.approx(-0.05166867226406338, rel=1e-12)
    model.set_params(warm_start=True, max_iter=3)
    with pytest.warns(Warning):  # three epochs do not converge
        model.fit(X, y)
    assert model.t_ == 5400 + 3 * 270
    assert np.isfinite(model.score(X, y))
    assert open(path, "rb").read() == before


def _legacy_pickle_state(model):
    """What pickling wrote before the fitted state had one definition: the
    estimator's attributes, with the network's weights as arrays."""
    from skmdn import _network

    return dict(model.__dict__) | {"model_": _network.model_to_arrays(model.model_)}


def test_pickle_from_before_scale_calibration_predicts_as_trained(fitted, tmp_path):
    """A pickle written before calibrate_scales existed has neither it nor
    scale_factor_ (nor, before "auto" input noise, x_noise_std_, nor, before
    n_networks, that parameter and its field of the network spec, nor the
    input penalty): it unpickles with the scales as trained, calibration off,
    the input noise it used, one network and no input penalty, as an older
    file loads, and can be saved."""
    model, X, _ = fitted
    state = _legacy_pickle_state(model) | {"x_noise_std": 0.0}
    del state["calibrate_scales"], state["scale_factor_"], state["x_noise_std_"]
    del state["n_networks"], state["input_penalty"], state["input_penalty_"]
    spec = pickle.loads(pickle.dumps(state["_spec"]))
    object.__delattr__(spec, "n_networks")
    state["_spec"] = spec
    old = skmdn.MDNRegressor.__new__(skmdn.MDNRegressor)
    old.__setstate__(state)
    assert old.get_params()["calibrate_scales"] is False and old.scale_factor_ == 1.0
    assert old.x_noise_std_ == 0.0
    assert old.get_params()["input_penalty"] == 0.0 and old.input_penalty_ == 0.0
    assert old.get_params()["n_networks"] == 1 and old._spec == model._spec
    old.save(tmp_path / "old.skmdn")
    assert skmdn.load(tmp_path / "old.skmdn").scale_factor_ == 1.0
    as_trained = skmdn.MDNRegressor.__new__(skmdn.MDNRegressor)
    as_trained.__setstate__(_legacy_pickle_state(model) | {"scale_factor_": 1.0})
    assert_array_equal(old.predict_dist(X).scales, as_trained.predict_dist(X).scales)
    # A current pickle keeps its own setting and factor.
    assert pickle.loads(pickle.dumps(model)).scale_factor_ == model.scale_factor_ > 1


def test_unfitted_pickle_from_before_any_added_parameter():
    """An unfitted estimator pickled before parameters were added gets them
    with the values older models are upgraded to, so get_params, clone and
    fit work; the parameters it had are kept."""
    from sklearn.base import clone

    from skmdn import _fitted

    state = dict(skmdn.MDNRegressor(n_components=3, alpha=0.01).__getstate__())
    added = _fitted.older_parameters()
    for name in added:
        del state[name]
    old = skmdn.MDNRegressor.__new__(skmdn.MDNRegressor)
    old.__setstate__(state)
    params = old.get_params()
    assert {name: params[name] for name in added} == added
    assert params["n_components"] == 3 and params["alpha"] == 0.01
    assert clone(old).get_params() == params


# -- damaged and crafted files ---------------------------------------------------------


def _rewrite_part(source, target, name, change):
    """Copy the model file ``source`` to ``target`` with part ``name``'s bytes
    replaced by ``change(bytes)``."""
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(
        target, "w", compression=zipfile.ZIP_DEFLATED
    ) as out:
        for part in archive.namelist():
            data = archive.read(part)
            out.writestr(part, change(data) if part == name else data)


def _rewrite_npz(source, target, change):
    """As ``_rewrite_part`` for arrays.npz, with ``change(dict of arrays)``."""

    def rewrite(data):
        with np.load(io.BytesIO(data)) as stored:
            arrays = {name: stored[name] for name in stored.files}
        buffer = io.BytesIO()
        np.savez(buffer, **change(arrays))
        return buffer.getvalue()

    _rewrite_part(source, target, "arrays.npz", rewrite)


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model.skmdn"
    fitted[0].save(path)
    return path


def test_bit_flips_never_give_another_model_or_a_foreign_error(fitted, saved, tmp_path):
    """A damaged file raises ModelFileError, or (a flip in a field that no
    reader uses: a timestamp) loads the very same model."""
    model, X, _ = fitted
    original = saved.read_bytes()
    expected = model.predict(X)
    refused = 0
    for position in np.linspace(0, len(original) - 1, 40).astype(int):
        damaged = bytearray(original)
        damaged[position] ^= 0x10
        path = tmp_path / f"flip_{position}.skmdn"
        path.write_bytes(bytes(damaged))
        try:
            loaded = skmdn.load(path)
        except ModelFileError as error:
            assert str(path) in str(error)
            refused += 1
        else:
            assert_array_equal(loaded.predict(X), expected)
    # Most of the file is compressed data under a checksum.
    assert refused >= 30


def test_truncated_file_is_refused(saved, tmp_path):
    data = saved.read_bytes()
    for length in (0, 10, len(data) // 2, len(data) - 10):
        (tmp_path / "short.skmdn").write_bytes(data[:length])
        with pytest.raises(ModelFileError):
            skmdn.load(tmp_path / "short.skmdn")


def test_invalid_json_is_refused(saved, tmp_path):
    target = tmp_path / "json.skmdn"
    _rewrite_part(saved, target, "metadata.json", lambda data: data[:-20])
    with pytest.raises(ModelFileError, match="metadata.json is not valid JSON"):
        skmdn.load(target)
    _rewrite_part(saved, target, "metadata.json", lambda data: b"[1, 2]")
    with pytest.raises(ModelFileError, match="must hold an object"):
        skmdn.load(target)


@pytest.mark.parametrize(
    "key, value",
    [
        ("__class__", "MDNRegressor"),
        ("__dict__", {}),
        ("predict", 1),
        ("model_", None),
        ("_spec", None),
        ("anything_", 1),
    ],
)
def test_unknown_fitted_fields_are_refused(saved, tmp_path, key, value):
    """metadata.json's fitted section sets only the known attributes."""
    target = tmp_path / "crafted.skmdn"
    _rewrite_metadata(saved, target, lambda metadata: metadata["fitted"].update({key: value}))
    with pytest.raises(ModelFileError, match="unexpected fitted attributes"):
        skmdn.load(target)


@pytest.mark.parametrize(
    "section, key, value, message",
    [
        ("fitted", "n_iter_", "200", "n_iter_ must be an integer"),
        ("fitted", "n_iter_", 3, "one entry per epoch"),
        ("fitted", "loss_curve_", "abc", "loss_curve_ must be a list"),
        ("fitted", "loss_curve_", [float("nan")] * 200, "finite number"),
        ("fitted", "scale_factor_", -1.0, "scale_factor_ must be"),
        ("fitted", "_y_is_1d", "yes", "_y_is_1d must be true or false"),
        ("fitted", "n_features_in_", 2, "disagrees with the network"),
        ("spec", "activation", "gelu", "activation must be one of"),
        ("spec", "covariance_type", "spherical", "covariance_type must be one of"),
        ("params", "covariance_type", "spherical", "covariance_type"),
        ("spec", "hidden_layer_sizes", [100_000, 100_000], "more than the"),
        ("spec", "n_components", 4, "must have shape"),
        ("spec", "extra", 1, "exactly the fields"),
        ("params", "n_components", -3, "n_components"),
        ("params", "not_a_parameter", 1, "unexpected parameters"),
        (None, "format_version", "5", "invalid format version"),
    ],
)
def test_ill_typed_fields_are_refused(saved, tmp_path, section, key, value, message):
    target = tmp_path / "crafted.skmdn"

    def change(metadata):
        (metadata if section is None else metadata[section])[key] = value

    _rewrite_metadata(saved, target, change)
    with pytest.raises(ModelFileError, match=message):
        skmdn.load(target)


def test_arrays_of_the_wrong_shape_dtype_or_value_are_refused(saved, tmp_path):
    target = tmp_path / "arrays.skmdn"
    changes = {
        "must have shape": lambda arrays: arrays | {"x_mean_": np.zeros(3)},
        "dtype float64": lambda arrays: arrays | {"y_scale_": np.ones(1, np.float32)},
        "must be positive": lambda arrays: arrays | {"x_scale_": np.zeros(1)},
        "not finite": lambda arrays: arrays | {"y_mean_": np.array([np.inf])},
        "missing": lambda arrays: {k: v for k, v in arrays.items() if k != "state_3"},
        "unexpected array": lambda arrays: arrays | {"evil": np.zeros(1)},
    }
    for message, change in changes.items():
        _rewrite_npz(saved, target, change)
        with pytest.raises(ModelFileError, match=message):
            skmdn.load(target)


def test_object_arrays_are_refused(saved, tmp_path):
    target = tmp_path / "pickled.skmdn"

    def change(data):
        buffer = io.BytesIO()
        np.savez(buffer, x_mean_=np.array([{"a": 1}], dtype=object))
        return buffer.getvalue()

    _rewrite_part(saved, target, "arrays.npz", change)
    with pytest.raises(ModelFileError, match="not a number"):
        skmdn.load(target)


def test_a_huge_array_header_is_refused_before_allocating(saved, tmp_path):
    """An npy header claiming 10^12 elements, followed by a few bytes."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    )
    target = tmp_path / "huge.skmdn"

    def change(data):
        buffer = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as npz, zipfile.ZipFile(buffer, "w") as out:
            for info in npz.infolist():
                payload = npz.read(info)
                if info.filename == "x_mean_.npy":
                    payload = b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\0" * 64
                out.writestr(info.filename, payload)
        return buffer.getvalue()

    _rewrite_part(saved, target, "arrays.npz", change)
    with pytest.raises(ModelFileError, match="claims shape"):
        skmdn.load(target)


def test_a_zip_bomb_is_refused_unread(saved, tmp_path):
    """64 MiB of zeros, compressed a thousandfold, in place of the arrays."""
    target = tmp_path / "bomb.skmdn"
    _rewrite_part(saved, target, "arrays.npz", lambda data: bytes(64 * 2**20))
    with pytest.raises(ModelFileError, match="expands|more than the network"):
        skmdn.load(target)


def test_extra_parts_are_refused(saved, tmp_path):
    target = tmp_path / "extra.skmdn"
    with zipfile.ZipFile(saved) as archive, zipfile.ZipFile(target, "w") as out:
        for part in archive.namelist():
            out.writestr(part, archive.read(part))
        out.writestr("payload.py", "print('hi')")
    with pytest.raises(ModelFileError, match="unexpected parts"):
        skmdn.load(target)


def test_weights_of_another_network_are_refused(fitted, saved, tmp_path):
    X, y = make_inverse_sine(100, random_state=1)
    other = skmdn.MDNRegressor(n_components=3, hidden_layer_sizes=(4,), max_iter=2).fit(X, y)
    other.save(tmp_path / "other.skmdn")
    with zipfile.ZipFile(tmp_path / "other.skmdn") as archive:
        weights = archive.read("model.keras")
    target = tmp_path / "mixed.skmdn"
    _rewrite_part(saved, target, "model.keras", lambda data: weights)
    with pytest.raises(ModelFileError, match="do not fit the saved network"):
        skmdn.load(target)


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        skmdn.load(tmp_path / "nothing.skmdn")


def test_an_interrupted_save_leaves_the_old_file(fitted, saved, tmp_path, monkeypatch):
    """Ctrl-C while the archive is written: the old file stays as it was and
    no temporary files are left behind."""
    model, X, _ = fitted
    path = tmp_path / "model.skmdn"
    path.write_bytes(saved.read_bytes())

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.save(path, overwrite=True)
    assert path.read_bytes() == saved.read_bytes()
    assert os.listdir(tmp_path) == ["model.skmdn"]
    monkeypatch.undo()
    assert_array_equal(skmdn.load(path).predict(X), model.predict(X))


def test_a_crafted_pickle_state_is_checked_too(fitted):
    """Unpickling runs the same checks (pickles are never safe from others;
    this catches a damaged or hand-edited state)."""
    model, _, _ = fitted
    state = model.__getstate__()
    state["_fitted_state"].fitted["predict"] = 1
    with pytest.raises(ModelFileError, match="unexpected fitted attributes"):
        skmdn.MDNRegressor.__new__(skmdn.MDNRegressor).__setstate__(state)


def test_a_training_state_with_overflowed_moments_saves_and_loads(fitted, tmp_path):
    """Adam's second moments can overflow float32 while the weights stay
    finite; such a model must still save and load (its state only shapes
    further training)."""
    model, X, _ = fitted
    copy = pickle.loads(pickle.dumps(model))
    state = list(copy._training_state)
    weights, (step, first, second, averages) = state[0], state[1]
    state[1] = (step, first, [np.full_like(v, np.inf) for v in second], averages)
    copy._training_state = tuple(state)
    copy.save(tmp_path / "overflowed.skmdn")
    loaded = skmdn.load(tmp_path / "overflowed.skmdn")
    assert_array_equal(loaded.predict(X), model.predict(X))
    assert np.isinf(loaded._training_state[1][2][0]).all()
