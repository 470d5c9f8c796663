"""Bishop's inverse problem: the conditional mode and all branches versus the mean.

The forward map t -> x = t + 0.3 sin(2 pi t) (plus noise) is a function, but
its inverse x -> t has three branches for x in the middle of the range
(Bishop, Pattern Recognition and Machine Learning, section 5.6).
MLPRegressor learns the conditional mean, which cuts across the branches where
there is no data. MDNRegressor's ``predict`` returns the conditional mode, the
most probable t, which jumps from one branch to another where their weights
cross; ``predict_dist(x).modes()`` gives every branch. Three components,
one per branch, as in Bishop's figure 5.21 (``n_components`` larger than the
number of branches fits the flat tops of this data set's uniform noise with
several overlapping components, whose sum can have a local mode at each edge).

Run ``python examples/plot_inverse_problem.py [--output-dir DIR] [--max-iter N]``;
it prints the predictions and branches at a few x and writes
``inverse_problem.png``.
"""

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402

from skmdn import MDNRegressor  # noqa: E402
from skmdn.datasets import make_inverse_sine  # noqa: E402
from skmdn.plotting import plot_density  # noqa: E402

# Modes whose density is below this fraction of their row's highest mode are
# small bumps of overlapping components, not branches; they are not drawn.
MIN_RELATIVE_DENSITY = 0.05


def true_branches(x):
    """Every t with t + 0.3 sin(2 pi t) = x (the noiseless inverse)."""
    t = np.linspace(0.0, 1.0, 200_001)
    excess = t + 0.3 * np.sin(2 * np.pi * t) - x
    crossing = np.flatnonzero((excess[1:] < 0) != (excess[:-1] < 0))
    return t[crossing]


def main(output_dir, max_iter):
    X, y = make_inverse_sine(2000, random_state=0)
    X_test, y_test = make_inverse_sine(2000, random_state=1)
    mlp = MLPRegressor(max_iter=max_iter or 500, random_state=0).fit(X, y)
    mdn = MDNRegressor(n_components=3, max_iter=max_iter or "auto", random_state=0).fit(X, y)
    print(f"MDNRegressor test log-likelihood: {mdn.score(X_test, y_test):.3f}")

    grid = np.linspace(X.min(), X.max(), 300)[:, None]
    modes, log_density = mdn.predict_dist(grid).modes()
    relative = np.exp(log_density - log_density[:, :1])
    branch = relative >= MIN_RELATIVE_DENSITY

    print(f"\n{'x':>5}{'MLP mean':>10}{'MDN mode':>10}   {'true branches':<18}"
          "MDN modes (density relative to the highest)")
    for x in (0.2, 0.5, 0.8):
        mode_values, mode_log_density = mdn.predict_dist([[x]]).modes()
        shown = ", ".join(
            f"{t:.2f} ({np.exp(d - mode_log_density[0, 0]):.2f})"
            for t, d in zip(mode_values[0], mode_log_density[0])
            if np.exp(d - mode_log_density[0, 0]) >= MIN_RELATIVE_DENSITY
        )
        truth = ", ".join(f"{t:.2f}" for t in true_branches(x))
        print(f"{x:>5.2f}{mlp.predict([[x]])[0]:>10.3f}{mdn.predict([[x]])[0]:>10.3f}"
              f"   {truth:<18}{shown}")

    t = np.linspace(0.0, 1.0, 500)
    curve = t + 0.3 * np.sin(2 * np.pi * t)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5), sharex=True, sharey=True)
    left.scatter(X_test[:, 0], y_test, s=3, color="0.7", label="data (test)")
    left.plot(curve, t, color="k", linewidth=1, linestyle=":", label="noiseless inverse")
    left.plot(grid[:, 0], mlp.predict(grid), color="C3", linewidth=2.5,
              label="MLPRegressor: mean")
    left.scatter(grid[:, 0], mdn.predict(grid), s=8, color="C0", zorder=3,
                 label="MDNRegressor.predict: mode")
    left.set_title("The mean crosses the gaps; the mode stays on a branch")
    left.legend(loc="upper left", markerscale=2, fontsize="small")

    plot_density(mdn, (grid[0, 0], grid[-1, 0]), (-0.1, 1.1), ax=right, vmax=6.0)
    right.scatter(
        np.broadcast_to(grid, modes.shape)[branch], modes[branch],
        s=12 * relative[branch], color="C3", linewidth=0,
        label="predict_dist(x).modes(): every branch\n(marker size: relative density)",
    )
    right.set_title("Learned density p(t | x) and all its modes")
    right.legend(loc="lower right", markerscale=4)
    fig.colorbar(right.images[0], ax=right, label="p(t | x)  (colours clipped at 6)")
    for ax in (left, right):
        ax.set_xlabel("x")
        ax.set_ylabel("t")
    right.set_xlim(grid[0, 0], grid[-1, 0])
    right.set_ylim(-0.1, 1.1)
    fig.tight_layout()
    output = pathlib.Path(output_dir) / "inverse_problem.png"
    fig.savefig(output, dpi=100)
    print(f"\nwrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default=".", help="where to write the figure")
    parser.add_argument(
        "--max-iter", type=int,
        help='epochs (default: 500 for MLPRegressor, the "auto" budget for MDNRegressor)',
    )
    arguments = parser.parse_args()
    main(arguments.output_dir, arguments.max_iter)
