"""Matplotlib figures of what a fitted MDNRegressor predicts.

Every function draws on ``ax`` (a new figure's axes when None) and returns
it. The density, sample, fan and PIT plots also accept a
``sklearn.pipeline.Pipeline`` ending in an ``skmdn.MDNRegressor``.
matplotlib is an optional dependency: ``pip install "skmdn-keras[plot]"``.
"""

import numpy as np

from .metrics import _predict_dist, pit

__all__ = [
    "plot_density",
    "plot_loss_curve",
    "plot_pit_histogram",
    "plot_quantile_fan",
    "plot_samples",
]


def _axes(ax):
    """``ax``, or the axes of a new figure; the one place matplotlib is imported."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            'skmdn.plotting needs matplotlib: pip install "skmdn-keras[plot]"'
        ) from error
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _label(ax, xlabel, ylabel):
    """Name the axes, unless the caller already did."""
    if not ax.get_xlabel():
        ax.set_xlabel(xlabel)
    if not ax.get_ylabel():
        ax.set_ylabel(ylabel)


def _cells(limits, resolution):
    """Edges (resolution + 1,) and centres (resolution,) of equal cells covering limits."""
    edges = np.linspace(*limits, resolution + 1)
    return edges, 0.5 * (edges[1:] + edges[:-1])


def _univariate_dist(model, X):
    """p(y | x) of each row of X, for a model of a single output."""
    dist = _predict_dist(model, X)
    if dist.n_outputs != 1:
        raise ValueError(
            f"This plot needs a model of one output; this one predicts {dist.n_outputs}."
        )
    # A model fitted on y of shape (n, 1) gives an output axis; drop it.
    return type(dist)(dist.weights, dist.means[..., 0], dist.scales[..., 0])


def _single_feature(X):
    """The values of a one-feature X (array or DataFrame), shape (n_rows,)."""
    values = np.asarray(X, dtype=np.float64)
    values = values.reshape(values.shape[0], -1)
    if values.shape[1] != 1:
        raise ValueError(f"This plot needs X with one feature; got {values.shape[1]}.")
    return values[:, 0]


def plot_density(model, x_range, y_range, resolution=200, ax=None, **imshow_kwargs):
    """Heat map of the conditional density p(y | x) of a model of 1-D x and y.

    The density is evaluated at the centres of ``resolution x resolution``
    cells covering ``x_range x y_range``: one ``skmdn.MDNRegressor.predict_dist``
    over the x grid and one ``log_prob`` of the y grid shared by all rows.
    Each column is the density of y at that x (it integrates to the mass of
    p(y | x) inside ``y_range``).

    Parameters
    ----------
    model : MDNRegressor or Pipeline ending in one
        Fitted on one feature and one output.
    x_range, y_range : (float, float)
        Lower and upper limits of the image along x and y.
    resolution : int, default=200
        Cells along each axis.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's axes when None.
    **imshow_kwargs
        Passed to ``ax.imshow`` (for example ``cmap`` or ``vmax``).

    Returns
    -------
    ax : matplotlib Axes
        Its image (``ax.images[-1]``) holds the densities, rows along y,
        columns along x, with ``extent`` ``(*x_range, *y_range)``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmdn import MDNRegressor
    >>> from skmdn.datasets import make_spiral
    >>> from skmdn.plotting import plot_density
    >>> X, y = make_spiral(300, random_state=0)
    >>> model = MDNRegressor(max_iter=10, random_state=0).fit(X, y)
    >>> ax = plot_density(model, (0, 5), (0, 5), resolution=100)
    >>> ax.images[0].get_array().shape
    (100, 100)
    """
    ax = _axes(ax)
    (_, x_grid), (_, y_grid) = _cells(x_range, resolution), _cells(y_range, resolution)
    # y_grid[None, :] is a grid shared by all rows even when it has as many
    # points as the x grid has rows.
    density = _univariate_dist(model, x_grid[:, None]).pdf(y_grid[None, :])
    imshow_kwargs.setdefault("cmap", "viridis")
    ax.imshow(
        density.T,
        origin="lower",
        extent=(*x_range, *y_range),
        aspect="auto",
        interpolation="nearest",
        **imshow_kwargs,
    )
    _label(ax, "x", "y")
    return ax


def plot_samples(
    model, X, y=None, n_samples=1, temperature=1.0, ax=None, random_state=None
):
    """Samples of p(y | x) at each row of a one-feature X, over the data.

    Parameters
    ----------
    model : MDNRegressor or Pipeline ending in one
        Fitted on one feature and one output.
    X : array-like of shape (n_rows, 1)
        Where to sample.
    y : array-like of shape (n_rows,), default=None
        Observed y, drawn in grey beneath the samples.
    n_samples : int, default=1
        Draws per row.
    temperature : float, default=1.0
        Sampling temperature of the mixing weights; see
        ``skmdn.MDNRegressor.sample``.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's axes when None.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws.

    Returns
    -------
    ax : matplotlib Axes
        With one scatter of the data (when ``y`` is given), then one of the
        ``n_rows * n_samples`` samples.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmdn import MDNRegressor
    >>> from skmdn.datasets import make_spiral
    >>> from skmdn.plotting import plot_samples
    >>> X, y = make_spiral(300, random_state=0)
    >>> model = MDNRegressor(max_iter=10, random_state=0).fit(X, y)
    >>> ax = plot_samples(model, X, y, n_samples=2, random_state=0)
    >>> ax.collections[-1].get_offsets().shape
    (600, 2)
    """
    ax = _axes(ax)
    x = _single_feature(X)
    samples = _univariate_dist(model, X).sample(
        n_samples, random_state=random_state, temperature=temperature
    )
    if y is not None:
        ax.scatter(x, np.asarray(y), s=4, color="0.6", alpha=0.5, label="data")
    ax.scatter(
        np.repeat(x, n_samples), samples.ravel(), s=4, color="C2", alpha=0.6,
        label=f"samples (temperature {temperature:g})",
    )
    ax.legend(loc="best", markerscale=3)
    _label(ax, "x", "y")
    return ax


def plot_quantile_fan(
    model, x_range, levels=None, kind="quantile", resolution=200, ax=None
):
    """Fan chart of p(y | x) against 1-D x: quantile bands or highest-density regions.

    With ``kind="quantile"`` the bands join the outermost remaining pair of
    quantile levels (5%-95%, then 25%-75% for the default), and an unpaired
    middle level (the median) is a line. With ``kind="hdr"`` each band is the
    highest-density region of one coverage from
    ``predict_dist(grid).hdr(coverage)``: where p(y | x) has several
    branches it is a union of intervals, drawn as one filled band per
    interval column of ``hdr``, cell by cell along x (a flat step per cell),
    so that no band joins two branches where the number of intervals
    changes.

    The bands are opaque shades of blue, the widest first and palest, so
    that each region's colour is its legend entry's; draw data after the
    fan to show it on top.

    Parameters
    ----------
    model : MDNRegressor or Pipeline ending in one
        Fitted on one feature and one output.
    x_range : (float, float)
        Limits along x; the distribution is evaluated at the centres of
        ``resolution`` equal cells covering them.
    levels : array-like of float, default=None
        Quantile levels in [0, 1] for ``kind="quantile"`` (default
        ``(0.05, 0.25, 0.5, 0.75, 0.95)``), coverages in (0, 1) for
        ``kind="hdr"`` (default ``(0.5, 0.9)``).
    kind : {"quantile", "hdr"}, default="quantile"
    resolution : int, default=200
        Cells along x.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's axes when None.

    Returns
    -------
    ax : matplotlib Axes
        With one filled collection per quantile band (and a line for the
        median), or per HDR coverage and interval.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmdn import MDNRegressor
    >>> from skmdn.datasets import make_inverse_sine
    >>> from skmdn.plotting import plot_quantile_fan
    >>> X, y = make_inverse_sine(300, random_state=0)
    >>> model = MDNRegressor(max_iter=10, random_state=0).fit(X, y)
    >>> ax = plot_quantile_fan(model, (0, 1))
    >>> len(ax.collections), len(ax.lines)
    (2, 1)
    >>> ax = plot_quantile_fan(model, (0, 1), levels=[0.9], kind="hdr")
    """
    if kind not in ("quantile", "hdr"):
        raise ValueError(f'kind must be "quantile" or "hdr"; got {kind!r}.')
    if levels is None:
        levels = (0.05, 0.25, 0.5, 0.75, 0.95) if kind == "quantile" else (0.5, 0.9)
    levels = np.sort(np.atleast_1d(np.asarray(levels, dtype=np.float64)))
    ax = _axes(ax)
    from matplotlib import colormaps

    edges, x = _cells(x_range, resolution)
    dist = _univariate_dist(model, x[:, None])
    n_bands = levels.size // 2 if kind == "quantile" else levels.size
    colours = colormaps["Blues"](np.linspace(0.25, 0.6, max(n_bands, 2)))
    if kind == "quantile":
        quantiles = dist.ppf(levels)
        for band in range(n_bands):
            low, high = band, levels.size - 1 - band
            ax.fill_between(
                x, quantiles[:, low], quantiles[:, high], color=colours[band],
                linewidth=0, label=f"{levels[low]:.0%}-{levels[high]:.0%}",
            )
        if levels.size % 2:
            middle = levels.size // 2
            ax.plot(x, quantiles[:, middle], color=colormaps["Blues"](0.9),
                    label=f"{levels[middle]:.0%}")
    else:
        # Each cell is a flat step from its left edge to its right edge:
        # x = e0, e1, e1, e2, ..., with every value repeated. A NaN (no such
        # interval in that cell) then removes exactly that cell.
        x_steps = np.repeat(edges, 2)[1:-1]
        # Widest region first, so that the narrower ones show on top of it.
        for colour, coverage in zip(colours, levels[::-1]):
            intervals = np.repeat(dist.hdr(coverage)[0], 2, axis=0)
            for column in range(intervals.shape[1]):
                ax.fill_between(
                    x_steps, intervals[:, column, 0], intervals[:, column, 1],
                    color=colour, linewidth=0,
                    label=f"{coverage:.0%} HDR" if column == 0 else None,
                )
    ax.legend(loc="best")
    _label(ax, "x", "y")
    return ax


def plot_pit_histogram(model, X, y, bins=20, ax=None):
    """Histogram of the probability integral transform, with the uniform reference.

    The PIT of an observation is the predicted CDF at it
    (``skmdn.metrics.pit``). For a calibrated model the values are
    uniform: the bars follow the dashed line at density 1. A U shape means
    predicted distributions that are too narrow, a hump too wide, a slope a
    biased location. For several outputs, all marginals' values are pooled.

    Parameters
    ----------
    model : MDNRegressor or Pipeline ending in one
    X : array-like of shape (n_rows, n_features)
    y : array-like of shape (n_rows,) or (n_rows, n_outputs)
        Observed y (held-out data, ideally).
    bins : int, default=20
        Bars on [0, 1].
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's axes when None.

    Returns
    -------
    ax : matplotlib Axes
        With ``bins`` bars (as patches) and the reference line.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmdn import MDNRegressor
    >>> from skmdn.datasets import make_inverse_sine
    >>> from skmdn.plotting import plot_pit_histogram
    >>> X, y = make_inverse_sine(300, random_state=0)
    >>> model = MDNRegressor(max_iter=10, random_state=0).fit(X, y)
    >>> ax = plot_pit_histogram(model, X, y, bins=10)
    >>> len(ax.patches)
    10
    """
    ax = _axes(ax)
    values = pit(y, _predict_dist(model, X)).ravel()
    ax.hist(values, bins=bins, range=(0.0, 1.0), density=True, color="C0", alpha=0.7,
            label="PIT values")
    ax.axhline(1.0, color="k", linestyle="--", linewidth=1, label="uniform (calibrated)")
    ax.set_xlim(0.0, 1.0)
    ax.legend(loc="best")
    _label(ax, "PIT: predicted CDF at the observed y", "density")
    return ax


def plot_loss_curve(model, ax=None):
    """Training loss per epoch and, with early stopping, the validation score.

    Parameters
    ----------
    model : MDNRegressor or Pipeline ending in one
        Fitted.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's axes when None.

    Returns
    -------
    ax : matplotlib Axes
        With the training loss (``loss_curve_``). When the model has
        ``validation_scores_`` (fitted with ``early_stopping=True``), they
        are on a twin axis sharing x, labelled validation log-likelihood.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmdn import MDNRegressor
    >>> from skmdn.datasets import make_inverse_sine
    >>> from skmdn.plotting import plot_loss_curve
    >>> X, y = make_inverse_sine(300, random_state=0)
    >>> model = MDNRegressor(max_iter=10, early_stopping=True, random_state=0).fit(X, y)
    >>> ax = plot_loss_curve(model)
    >>> len(ax.lines[0].get_xdata())
    10
    """
    ax = _axes(ax)
    estimator = model[-1] if hasattr(model, "steps") else model
    epochs = np.arange(1, len(estimator.loss_curve_) + 1)
    lines = ax.plot(epochs, estimator.loss_curve_, color="C0", label="training loss")
    _label(ax, "epoch", "training loss (NLL of standardised y)")
    if getattr(estimator, "validation_scores_", None) is not None:
        twin = ax.twinx()
        lines += twin.plot(
            epochs, estimator.validation_scores_, color="C1",
            label="validation log-likelihood",
        )
        twin.set_ylabel("validation log-likelihood")
    # Loss falls and the validation score rises: the middle right is free.
    ax.legend(lines, [line.get_label() for line in lines], loc="center right")
    return ax
