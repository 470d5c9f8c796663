"""The spiral's conditional density: data, MLPRegressor, MDN samples and p(y | x).

On the noisy two-turn spiral most x have two or three plausible y, one per
turn. MLPRegressor predicts their average, between the turns; MDNRegressor's
samples lie on the turns, and its learned density p(y | x), drawn as a heat
map over (x, y), traces the spiral itself.

Run ``python examples/plot_spiral_density.py [--output-dir DIR] [--max-iter N]``;
it prints both models' held-out scores and writes ``spiral_density.png``.
"""

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import norm  # noqa: E402
from sklearn.metrics import r2_score  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402

from skmdn import MDNRegressor  # noqa: E402
from skmdn.datasets import make_spiral  # noqa: E402
from skmdn.plotting import plot_density, plot_samples  # noqa: E402


def main(output_dir, max_iter):
    X, y = make_spiral(2000, random_state=0)
    X_test, y_test = make_spiral(2000, random_state=1)
    mlp = MLPRegressor(max_iter=max_iter or 500, random_state=0).fit(X, y)
    mdn = MDNRegressor(max_iter=max_iter or "auto", random_state=0).fit(X, y)

    # MLPRegressor as a density: a Gaussian around its prediction with the
    # training residuals' standard deviation.
    residual_std = np.std(y - mlp.predict(X))
    mlp_log_likelihood = norm.logpdf(y_test, mlp.predict(X_test), residual_std).mean()
    mlp_r2 = r2_score(y_test, mlp.predict(X_test))
    mdn_log_likelihood = mdn.score(X_test, y_test)
    print(f"{'model':<14}{'test log-likelihood':>22}{'test R^2':>10}")
    print(f"{'MLPRegressor':<14}{mlp_log_likelihood:>22.3f}{mlp_r2:>10.3f}")
    print(f"{'MDNRegressor':<14}{mdn_log_likelihood:>22.3f}"
          f"{r2_score(y_test, mdn.predict(X_test)):>10.3f}")

    limits = (-0.2, 5.2)
    fig, axes = plt.subplots(
        2, 2, figsize=(11, 9.5), sharex=True, sharey=True, layout="constrained"
    )
    (data_ax, mlp_ax), (samples_ax, density_ax) = axes
    data_ax.scatter(X_test[:, 0], y_test, s=3, alpha=0.5)
    data_ax.set_title("Data: noisy two-turn spiral (test set)")
    grid = np.linspace(*limits, 400)[:, None]
    mlp_ax.scatter(X_test[:, 0], y_test, s=3, alpha=0.2, color="0.6", label="data")
    mlp_ax.plot(grid[:, 0], mlp.predict(grid), color="C3", linewidth=2, label="prediction")
    mlp_ax.legend(loc="upper left")
    mlp_ax.set_title(
        f"MLPRegressor: the mean, between the turns\n"
        f"log-likelihood {mlp_log_likelihood:.2f} (+ Gaussian residuals), R^2 {mlp_r2:.2f}"
    )
    plot_samples(mdn, X_test, y_test, ax=samples_ax, random_state=0)
    samples_ax.set_title(
        f"MDNRegressor: samples from p(y | x)\nlog-likelihood {mdn_log_likelihood:.2f}"
    )
    plot_density(mdn, limits, limits, resolution=300, ax=density_ax, vmax=2.0)
    fig.colorbar(
        density_ax.images[0], ax=axes, shrink=0.5, label="p(y | x)  (colours clipped at 2)"
    )
    density_ax.set_title("MDNRegressor: the learned density p(y | x)")
    for ax in axes.flat:
        ax.set_xlim(limits)
        ax.set_ylim(limits)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.label_outer()
    output = pathlib.Path(output_dir) / "spiral_density.png"
    fig.savefig(output, dpi=100)
    print(f"wrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default=".", help="where to write the figure")
    parser.add_argument(
        "--max-iter", type=int,
        help='epochs (default: 500 for MLPRegressor, the "auto" budget for MDNRegressor)',
    )
    arguments = parser.parse_args()
    main(arguments.output_dir, arguments.max_iter)
