"""Quickstart: MLPRegressor versus MDNRegressor on the noisy two-turn spiral.

For most x the spiral has several plausible y, one per branch. MLPRegressor predicts
their average, a value that never happens; MDNRegressor learns the whole
conditional density p(y | x), whose samples lie on every branch.

Run ``python examples/quickstart.py [--output spiral.png] [--max-iter N]``; it
prints both models' held-out scores and writes a three-panel figure.
"""

import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import norm  # noqa: E402
from sklearn.metrics import r2_score  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402

from skmdn import MDNRegressor  # noqa: E402
from skmdn.datasets import make_spiral  # noqa: E402


def main(output, max_iter):
    X, y = make_spiral(2000, random_state=0)
    X_test, y_test = make_spiral(2000, random_state=1)

    start = time.perf_counter()
    mlp = MLPRegressor(max_iter=max_iter or 500, random_state=0).fit(X, y)
    mlp_seconds = time.perf_counter() - start
    start = time.perf_counter()
    mdn = MDNRegressor(max_iter=max_iter or "auto", random_state=0).fit(X, y)
    mdn_seconds = time.perf_counter() - start

    # MLPRegressor gives a point; as a density, a Gaussian around it with the
    # training residuals' standard deviation.
    residual_std = np.std(y - mlp.predict(X))
    mlp_log_likelihood = norm.logpdf(y_test, mlp.predict(X_test), residual_std).mean()
    print(f"{'model':<14}{'fit [s]':>9}{'test log-likelihood':>22}{'test R^2':>10}")
    print(
        f"{'MLPRegressor':<14}{mlp_seconds:>9.2f}{mlp_log_likelihood:>22.3f}"
        f"{r2_score(y_test, mlp.predict(X_test)):>10.3f}"
    )
    print(
        f"{'MDNRegressor':<14}{mdn_seconds:>9.2f}{mdn.score(X_test, y_test):>22.3f}"
        f"{r2_score(y_test, mdn.predict(X_test)):>10.3f}"
    )
    print("(MDNRegressor's fit time includes loading TensorFlow, about 4 s.)")

    grid = np.linspace(X.min(), X.max(), 400)[:, None]
    samples = mdn.sample(X_test, n_samples=1, random_state=0)[:, 0]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), sharex=True, sharey=True)
    axes[0].scatter(X_test[:, 0], y_test, s=3, alpha=0.5)
    axes[0].set_title("Data: noisy two-turn spiral")
    axes[1].scatter(X_test[:, 0], y_test, s=3, alpha=0.2, color="grey")
    axes[1].plot(grid[:, 0], mlp.predict(grid), color="C3", linewidth=2)
    axes[1].set_title(f"MLPRegressor: the mean, between the turns\nR^2 {r2_score(y_test, mlp.predict(X_test)):.2f}")
    axes[2].scatter(X_test[:, 0], samples, s=3, alpha=0.5, color="C2")
    axes[2].set_title(
        f"MDNRegressor: samples from p(y | x)\nlog-likelihood {mdn.score(X_test, y_test):.2f} "
        f"vs {mlp_log_likelihood:.2f} (MLP + Gaussian)"
    )
    for ax in axes:
        ax.set_xlabel("x")
    axes[0].set_ylabel("y")
    fig.tight_layout()
    fig.savefig(output, dpi=110)
    print(f"wrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="spiral.png")
    parser.add_argument(
        "--max-iter", type=int,
        help='epochs (default: 500 for MLPRegressor, the "auto" budget for MDNRegressor)',
    )
    arguments = parser.parse_args()
    main(arguments.output, arguments.max_iter)
