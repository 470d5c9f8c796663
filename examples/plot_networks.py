"""Several networks: one MDN against the average of five, on little data.

With 300 rows of the noisy two-turn spiral, one network's density depends on
where its training happened to lead: stretches of the turns fade or break
off. ``MDNRegressor(n_networks=5)`` trains five networks side by side from
different initialisations and predicts the average of their densities (a
deep ensemble): where one network lost a stretch of a turn, others kept it,
so the average traces the turns more completely and scores better on
held-out rows.

Run ``python examples/plot_networks.py [--output-dir DIR] [--max-iter N]``;
it prints both models' held-out log-likelihoods and writes ``networks.png``.
"""

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skmdn import MDNRegressor  # noqa: E402
from skmdn.datasets import make_spiral  # noqa: E402
from skmdn.plotting import plot_density  # noqa: E402


def main(output_dir, max_iter):
    X, y = make_spiral(300, random_state=0)
    X_test, y_test = make_spiral(5000, random_state=100)
    models = {
        n_networks: MDNRegressor(n_networks=n_networks, max_iter=max_iter, random_state=0).fit(X, y)
        for n_networks in (1, 5)
    }
    scores = {n_networks: model.score(X_test, y_test) for n_networks, model in models.items()}
    print(f"{'networks':<10}{'test log-likelihood':>22}")
    for n_networks, score in scores.items():
        print(f"{n_networks:<10}{score:>22.3f}")

    limits = (-0.2, 5.2)
    fig, axes = plt.subplots(
        1, 3, figsize=(15, 5.2), sharex=True, sharey=True, layout="constrained"
    )
    data_ax, one_ax, five_ax = axes
    data_ax.scatter(X_test[:, 0], y_test, s=2, alpha=0.15, color="0.6", label="5,000 test rows")
    data_ax.scatter(X[:, 0], y, s=8, color="C0", label="300 training rows")
    data_ax.legend(loc="upper left")
    data_ax.set_title("Data: noisy two-turn spiral")
    for ax, n_networks in ((one_ax, 1), (five_ax, 5)):
        plot_density(models[n_networks], limits, limits, resolution=300, ax=ax, vmax=2.0)
        name = "one network" if n_networks == 1 else "average of five networks"
        ax.set_title(f"p(y | x), {name}\ntest log-likelihood {scores[n_networks]:.3f}")
    fig.colorbar(five_ax.images[0], ax=axes, shrink=0.8, label="p(y | x)  (colours clipped at 2)")
    for ax in axes:
        ax.set_xlim(limits)
        ax.set_ylim(limits)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.label_outer()
    output = pathlib.Path(output_dir) / "networks.png"
    fig.savefig(output, dpi=100)
    print(f"wrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default=".", help="where to write the figure")
    parser.add_argument(
        "--max-iter", type=int, help='epochs (default: the estimator\'s "auto" budget)'
    )
    arguments = parser.parse_args()
    main(arguments.output_dir, arguments.max_iter or "auto")
