"""The standardisation of X and y (skmdn._scaling.Scaling), against numpy and scipy."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import norm

from skmdn import _scaling
from skmdn._scaling import Scaling


def test_weighted_means_and_scales_repeat_rows(monkeypatch):
    """Integer sample weights act as repeated rows: the means and scales equal
    numpy's of the repeated data, also when the rows pass in many chunks."""
    monkeypatch.setattr(_scaling, "_CHUNK_VALUES", 7)
    rng = np.random.default_rng(0)
    X, y = rng.normal(3.0, 2.0, (50, 3)), rng.normal(-1.0, 0.5, (50, 2))
    weights = rng.integers(0, 4, 50).astype(float)
    scaling = Scaling.fit(X, y, weights, min_scale=0.1)
    repeated_X, repeated_y = np.repeat(X, weights.astype(int), axis=0), np.repeat(y, weights.astype(int), axis=0)
    assert_allclose(scaling.x_mean, repeated_X.mean(axis=0), rtol=1e-12)
    assert_allclose(scaling.x_scale, repeated_X.std(axis=0), rtol=1e-12)
    assert_allclose(scaling.y_mean, repeated_y.mean(axis=0), rtol=1e-12)
    assert_allclose(scaling.y_scale, repeated_y.std(axis=0), rtol=1e-12)
    assert_array_equal(scaling.min_scale, [0.1, 0.1])
    assert_allclose(scaling.floor, 0.1 / repeated_y.std(axis=0), rtol=1e-12)


def test_constant_columns_are_centred_not_scaled():
    X = np.column_stack([np.full(20, 1e6 + 0.1), np.arange(20.0)])
    scaling = Scaling.fit(X, X[:, 1:], np.ones(20), min_scale="auto")
    assert scaling.x_scale[0] == 1.0
    assert_array_equal(scaling.standardise_X(X)[:, 0], 0.0)


def test_automatic_floor_follows_the_resolution():
    """min_scale="auto": the larger of 1e-3 standard deviations and the
    smallest gap between recorded values over sqrt(2 pi)."""
    y = np.array([[0.0], [0.5], [0.5], [2.0]])
    scaling = Scaling.fit(np.zeros((4, 1)), y, np.ones(4), min_scale="auto")
    assert_allclose(scaling.min_scale, [0.5 / np.sqrt(2 * np.pi)])
    continuous = np.random.default_rng(1).normal(size=(100, 1))
    scaling = Scaling.fit(continuous, continuous, np.ones(100), min_scale="auto")
    assert_allclose(scaling.min_scale, 1e-3 * continuous.std(axis=0), rtol=1e-12)


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_mixtures_in_original_units_and_the_log_jacobian(n_outputs):
    """A mixture predicted in standardised units, taken back to y's units by
    ``to_original``, gives each original y the standardised density of its
    standardised value less ``log_jacobian`` (change of variables, by scipy)."""
    rng = np.random.default_rng(2)
    y = rng.normal(5.0, [3.0, 0.2, 40.0][:n_outputs], (200, n_outputs))
    scaling = Scaling.fit(rng.normal(size=(200, 2)), y, np.ones(200), min_scale="auto")
    weights = rng.dirichlet(np.ones(3), size=200)
    means, scales = rng.normal(size=(200, 3, n_outputs)), rng.uniform(0.2, 1.0, (200, 3, n_outputs))

    def log_density(values, means, scales):
        terms = norm.logpdf(values[:, None, :], means, scales).sum(axis=2)
        return np.log(np.sum(weights * np.exp(terms), axis=1))

    original_means, original_scales = scaling.to_original(means, scales)
    assert_allclose(
        log_density(y, original_means, original_scales),
        log_density(scaling.standardise_y(y), means, scales) - scaling.log_jacobian,
        rtol=1e-10,
    )


# -- Scaling.from_blocks: the whole data's standardisation, one block at a time ------------


def blocks_of(arrays, edges):
    return [tuple(part[start:stop] for part in arrays) for start, stop in zip(edges[:-1], edges[1:])]


def test_scaling_from_blocks_equals_numpy_on_the_whole_data():
    """Weighted means and standard deviations combined over uneven blocks
    equal numpy's of the concatenated data (weights as repeats); a constant
    column stays exact and unscaled; the floor follows y's resolution across
    blocks (the smallest gap is between values in different blocks)."""
    rng = np.random.default_rng(3)
    n = 997
    X = rng.normal([1e4, -3.0, 0.0], [1.0, 50.0, 1e-3], size=(n, 3))
    X = np.column_stack([X, np.full(n, 1e6 + 0.1)])
    y = np.round(rng.normal(10.0, [2.0, 0.1], size=(n, 2)), 1)
    y[: n // 2, 1] = np.round(y[: n // 2, 1])  # coarser resolution in the first blocks
    weights = rng.integers(0, 4, n).astype(float)
    scaling = Scaling.from_blocks(blocks_of((X, y, weights), [0, 1, 300, 301, 700, n]))
    repeated = np.repeat(np.column_stack([X, y]), weights.astype(int), axis=0)
    assert_allclose(scaling.x_mean[:3], repeated[:, :3].mean(axis=0), rtol=1e-12)
    assert_allclose(scaling.x_scale[:3], repeated[:, :3].std(axis=0), rtol=1e-9)
    assert scaling.x_mean[3] == 1e6 + 0.1 and scaling.x_scale[3] == 1.0
    assert_allclose(scaling.y_mean, repeated[:, 4:].mean(axis=0), rtol=1e-12)
    assert_allclose(scaling.y_scale, repeated[:, 4:].std(axis=0), rtol=1e-9)
    kept = np.unique(repeated[:, 4:], axis=0)
    gaps = [np.diff(np.unique(kept[:, i])).min() for i in range(2)]
    expected = np.maximum(1e-3 * repeated[:, 4:].std(axis=0), np.array(gaps) / np.sqrt(2 * np.pi))
    assert_allclose(scaling.min_scale, expected, rtol=1e-9)
    # And the same as the in-memory fit of the estimator.
    whole = Scaling.fit(X, y, weights, min_scale="auto")
    for name in ("x_mean", "x_scale", "y_mean", "y_scale", "min_scale"):
        assert_allclose(getattr(scaling, name), getattr(whole, name), rtol=1e-9)


def test_scaling_from_blocks_of_continuous_y_beyond_the_tracked_values(monkeypatch):
    """Past the tracked number of distinct values, the floor is 1e-3 standard
    deviations for continuous y, as the in-memory fit's."""
    monkeypatch.setattr(_scaling, "_MAX_TRACKED_VALUES", 50)
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(400, 2)), rng.normal(size=400)
    scaling = Scaling.from_blocks(blocks_of((X, y), [0, 100, 200, 300, 400]))
    assert_allclose(scaling.min_scale, 1e-3 * y.std(), rtol=1e-12)


def test_scaling_from_blocks_takes_blocks_as_lists_too():
    X, y = np.arange(12.0).reshape(6, 2), np.arange(6.0)
    as_lists = Scaling.from_blocks([[X[:3], y[:3]], [X[3:], y[3:]]])
    assert_allclose(as_lists.x_mean, X.mean(axis=0), rtol=1e-12)


@pytest.mark.parametrize(
    "blocks, message",
    [
        ([], "positive sample_weight"),
        ([(np.ones((3, 2)), np.ones(3), np.zeros(3))], "positive sample_weight"),
        ([np.ones((3, 2))], r"\(X, y\) or"),
        ([(np.ones((3, 2)), np.ones(3)), (np.ones((3, 3)), np.ones(3))], "Every block must have 2 features"),
        ([(np.ones((3, 2)), np.ones(3)), (np.ones((3, 2)), np.ones((3, 2)))], "and 1 output"),
        ([(np.array([[1.0, np.nan]]), np.ones(1))], "NaN"),
        ([(np.ones((3, 2)), np.ones(3), -np.ones(3))], "Negative values"),
    ],
)
def test_scaling_from_blocks_names_bad_input(blocks, message):
    with pytest.raises(ValueError, match=message):
        Scaling.from_blocks(blocks)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"x_scale": [0.0]}, "x_scale must be positive"),
        ({"min_scale": [-1.0]}, "min_scale must be positive"),
        ({"y_mean": [np.inf]}, "y_mean must be a 1-D array of finite"),
        ({"x_mean": [[0.0]]}, "x_mean must be a 1-D array"),
        ({"x_scale": [1.0, 1.0]}, "x_mean and x_scale"),
        ({"min_scale": [1.0, 1.0]}, "y_mean, y_scale and min_scale"),
    ],
)
def test_scaling_checks_statistics_given_by_hand(fields, message):
    given = {"x_mean": [0.0], "x_scale": [1.0], "y_mean": [0.0], "y_scale": [1.0], "min_scale": [0.1]}
    with pytest.raises(ValueError, match=message):
        Scaling(**(given | fields))


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    n_rows=st.integers(2, 60),
    n_features=st.integers(1, 3),
    n_outputs=st.integers(1, 2),
)
def test_scaling_from_any_blocks_equals_the_in_memory_fit(data, n_rows, n_features, n_outputs):
    """Whatever the block boundaries, weights (zeros included), magnitudes
    and repeated values: from_blocks gives fit's scaling of the whole data,
    as numpy arrays, float32 arrays or pandas objects."""
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    offset = data.draw(st.sampled_from([0.0, 1e6]))
    X = offset + rng.normal(size=(n_rows, n_features)) * rng.choice([1e-3, 1.0, 1e3], n_features)
    X[:, 0] = X[0, 0] if data.draw(st.booleans()) else X[:, 0]  # maybe a constant column
    y = np.round(rng.normal(size=(n_rows, n_outputs)), data.draw(st.integers(0, 3)))
    weights = rng.choice([0.0, 0.5, 1.0, 3.0], n_rows)
    weights[rng.integers(n_rows)] = 1.0
    cuts = sorted(data.draw(st.sets(st.integers(1, n_rows - 1), max_size=5)))
    edges = [0, *cuts, n_rows]
    kind = data.draw(st.sampled_from(["numpy", "float32", "pandas"]))
    if kind == "float32":
        X, y = X.astype(np.float32), y.astype(np.float32)
    parts = blocks_of((X, y, weights), edges)
    if kind == "pandas":
        parts = [(pd.DataFrame(b[0]), pd.DataFrame(b[1]), pd.Series(b[2])) for b in parts]
    scaling = Scaling.from_blocks(parts)
    whole = Scaling.fit(X, y, weights, min_scale="auto")
    for name in ("x_mean", "y_mean"):
        assert_allclose(getattr(scaling, name), getattr(whole, name), rtol=1e-9, atol=1e-9 * (offset + 1))
    for name in ("x_scale", "y_scale", "min_scale"):
        assert_allclose(getattr(scaling, name), getattr(whole, name), rtol=1e-6)
