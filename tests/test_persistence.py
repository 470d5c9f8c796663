"""save / skmdn.load: exact, safe, versioned, and never destroys a saved file."""

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
    n_networks, that parameter and its field of the network spec): it
    unpickles with the scales as trained, calibration off, the input noise it
    used and one network, as an older file loads, and can be saved."""
    model, X, _ = fitted
    state = _legacy_pickle_state(model) | {"x_noise_std": 0.0}
    del state["calibrate_scales"], state["scale_factor_"], state["x_noise_std_"]
    del state["n_networks"]
    spec = pickle.loads(pickle.dumps(state["_spec"]))
    object.__delattr__(spec, "n_networks")
    state["_spec"] = spec
    old = skmdn.MDNRegressor.__new__(skmdn.MDNRegressor)
    old.__setstate__(state)
    assert old.get_params()["calibrate_scales"] is False and old.scale_factor_ == 1.0
    assert old.x_noise_std_ == 0.0
    assert old.get_params()["n_networks"] == 1 and old._spec == model._spec
    old.save(tmp_path / "old.skmdn")
    assert skmdn.load(tmp_path / "old.skmdn").scale_factor_ == 1.0
    as_trained = skmdn.MDNRegressor.__new__(skmdn.MDNRegressor)
    as_trained.__setstate__(_legacy_pickle_state(model) | {"scale_factor_": 1.0})
    assert_array_equal(old.predict_dist(X).scales, as_trained.predict_dist(X).scales)
    # A current pickle keeps its own setting and factor.
    assert pickle.loads(pickle.dumps(model)).scale_factor_ == model.scale_factor_ > 1
