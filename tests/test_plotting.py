"""skmdn.plotting: each helper draws the right artists on the right axes."""

import sys
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skmdn import MDNRegressor  # noqa: E402
from skmdn.datasets import make_inverse_sine  # noqa: E402
from skmdn.plotting import (  # noqa: E402
    plot_density,
    plot_loss_curve,
    plot_pit_histogram,
    plot_quantile_fan,
    plot_samples,
)


def _fit(**params):
    params.setdefault("early_stopping", False)
    X, y = make_inverse_sine(200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MDNRegressor(n_components=3, max_iter=20, random_state=0, **params).fit(X, y)


@pytest.fixture(scope="module")
def model():
    return _fit()


@pytest.fixture(scope="module")
def data():
    return make_inverse_sine(200, random_state=1)


@pytest.fixture
def ax():
    figure, ax = plt.subplots()
    yield ax
    plt.close(figure)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plot_density_image_is_the_pdf_on_the_grid(model, ax):
    returned = plot_density(model, (-0.2, 1.2), (0.0, 1.0), resolution=50, ax=ax)
    assert returned is ax
    [image] = ax.images
    values = np.asarray(image.get_array())
    assert values.shape == (50, 50)
    assert image.get_extent() == [-0.2, 1.2, 0.0, 1.0]
    # Cell centres of the 50 x 50 cells; rows of the image run along y.
    x = -0.2 + 1.4 * (np.arange(50) + 0.5) / 50
    y = (np.arange(50) + 0.5) / 50
    # The same network outputs, with the y grid given once per row.
    expected = model.predict_dist(x[:, None]).pdf(np.tile(y, (50, 1)))
    np.testing.assert_allclose(values, expected.T, rtol=1e-12)
    # Column i is p(y | x_i): the image is not transposed or flipped.
    for i in (0, 17, 49):
        np.testing.assert_allclose(
            values[:, i], model.predict_dist(x[i : i + 1, None]).pdf(y)[0], rtol=1e-5
        )
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"


def test_plot_density_non_square_and_kwargs(model):
    ax = plot_density(model, (0.0, 1.0), (0.0, 1.0), resolution=30, cmap="magma")
    assert ax.images[0].get_array().shape == (30, 30)
    assert ax.images[0].get_cmap().name == "magma"


def test_plot_density_works_for_a_pipeline_and_keeps_labels(ax):
    X, y = make_inverse_sine(200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline = make_pipeline(StandardScaler(), MDNRegressor(max_iter=5, random_state=0))
        pipeline.fit(X, y)
    ax.set_xlabel("observed x")
    plot_density(pipeline, (0, 1), (0, 1), resolution=20, ax=ax)
    assert ax.images[0].get_array().shape == (20, 20)
    assert ax.get_xlabel() == "observed x"


def test_plot_density_rejects_multi_output():
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MDNRegressor(max_iter=2, random_state=0).fit(
            rng.normal(size=(50, 1)), rng.normal(size=(50, 2))
        )
    with pytest.raises(ValueError, match="one output"):
        plot_density(model, (0, 1), (0, 1), resolution=5)


def test_plot_samples(model, data, ax):
    X, y = data
    returned = plot_samples(model, X, y, n_samples=3, temperature=0.5, ax=ax, random_state=0)
    assert returned is ax
    data_points, samples = ax.collections
    np.testing.assert_array_equal(data_points.get_offsets(), np.column_stack([X[:, 0], y]))
    offsets = samples.get_offsets()
    assert offsets.shape == (3 * len(X), 2)
    np.testing.assert_array_equal(offsets[:, 0], np.repeat(X[:, 0], 3))
    expected = model.sample(X, n_samples=3, random_state=0, temperature=0.5)
    np.testing.assert_allclose(offsets[:, 1], expected.ravel())
    assert "temperature 0.5" in ax.get_legend().get_texts()[-1].get_text()


def test_plot_samples_without_y_and_checks_features(model, data):
    X, _ = data
    ax = plot_samples(model, X, random_state=0)
    assert len(ax.collections) == 1
    with pytest.raises(ValueError, match="one feature"):
        plot_samples(model, np.hstack([X, X]))


def test_quantile_fan_bands_and_median(model, ax):
    returned = plot_quantile_fan(model, (0.0, 1.0), resolution=40, ax=ax)
    assert returned is ax
    assert len(ax.collections) == 2  # 5%-95% and 25%-75%
    [median] = ax.lines
    x = (np.arange(40) + 0.5) / 40  # cell centres
    np.testing.assert_allclose(median.get_xdata(), x)
    np.testing.assert_allclose(median.get_ydata(), model.predict_quantiles(x[:, None], 0.5))
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["5%-95%", "25%-75%", "50%"]


def test_quantile_fan_even_levels_has_no_line(model):
    ax = plot_quantile_fan(model, (0.0, 1.0), levels=[0.1, 0.9], resolution=20)
    assert len(ax.collections) == 1 and not ax.lines


def test_hdr_fan_one_band_per_coverage_and_interval(model, ax):
    returned = plot_quantile_fan(model, (0.0, 1.0), kind="hdr", resolution=40, ax=ax)
    assert returned is ax
    dist = model.predict_dist(((np.arange(40) + 0.5) / 40)[:, None])
    expected = sum(dist.hdr(coverage)[0].shape[1] for coverage in (0.5, 0.9))
    assert len(ax.collections) == expected
    assert not ax.lines
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["90% HDR", "50% HDR"]


def _area(collection):
    """Total area of a fill_between collection's polygons (shoelace formula)."""
    total = 0.0
    for path in collection.get_paths():
        x, y = path.vertices.T
        total += 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    return total


def test_hdr_fan_fills_exactly_the_region_cell_by_cell(model, ax):
    # Each cell of x is a flat step holding that cell's intervals, so the
    # filled area is the sum over cells of the intervals' total length times
    # the cell width: nothing is joined across cells where the number of
    # intervals changes, and no cell is lost next to a NaN.
    plot_quantile_fan(model, (0.0, 1.0), levels=[0.9], kind="hdr", resolution=60, ax=ax)
    x = (np.arange(60) + 0.5) / 60
    intervals, _ = model.predict_dist(x[:, None]).hdr(0.9)
    assert intervals.shape[1] >= 2, "the fixture should have a multimodal region"
    expected = np.nansum(intervals[:, :, 1] - intervals[:, :, 0]) / 60
    area = sum(_area(collection) for collection in ax.collections)
    np.testing.assert_allclose(area, expected, rtol=1e-9)


def test_quantile_fan_rejects_unknown_kind(model):
    with pytest.raises(ValueError, match="kind"):
        plot_quantile_fan(model, (0, 1), kind="box")


def test_pit_histogram(model, data, ax):
    X, y = data
    returned = plot_pit_histogram(model, X, y, bins=12, ax=ax)
    assert returned is ax
    assert len(ax.patches) == 12
    heights = np.array([patch.get_height() for patch in ax.patches])
    # A density histogram on [0, 1]: bar areas sum to one.
    np.testing.assert_allclose(heights.sum() / 12, 1.0)
    [reference] = ax.lines
    np.testing.assert_array_equal(reference.get_ydata(), [1.0, 1.0])


def test_loss_curve_without_validation(model, ax):
    returned = plot_loss_curve(model, ax=ax)
    assert returned is ax
    [line] = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, model.n_iter_ + 1))
    np.testing.assert_allclose(line.get_ydata(), model.loss_curve_)
    assert len(ax.figure.axes) == 1


def test_loss_curve_with_validation_on_twin_axis(ax):
    model = _fit(early_stopping=True)
    plot_loss_curve(model, ax=ax)
    assert len(ax.lines) == 1
    twin = [other for other in ax.figure.axes if other is not ax]
    assert len(twin) == 1
    [validation] = twin[0].lines
    np.testing.assert_allclose(validation.get_ydata(), model.validation_scores_)
    assert twin[0].get_ylabel() == "validation log-likelihood"
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["training loss", "validation log-likelihood"]


def test_new_axes_when_none_given(model):
    ax = plot_loss_curve(model)
    assert ax.figure is not None and ax.lines


def test_missing_matplotlib_says_how_to_install(model, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "skmdn-keras\[plot\]"'):
        plot_loss_curve(model)
