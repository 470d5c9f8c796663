"""MLPRegressor versus MDNRegressor: the same cross_validate, three scores.

Both models go through the same ``cross_validate`` call, scored by

- R^2 of ``predict`` (MLPRegressor's mean; MDNRegressor's conditional mode),
- the mean held-out log-likelihood, and
- the mean CRPS (continuous ranked probability score, in the units of y;
  lower is better, so scikit-learn's scorer reports it negated).

The last two score a whole predicted distribution. MLPRegressor predicts a
point; here it stands for the usual "prediction plus Gaussian noise" model:
a Gaussian around its prediction whose standard deviation is that of its
training residuals (stored at fit time by a three-line subclass). On data with
several branches R^2 prefers the mean, which lies between them, while the
likelihood and the CRPS prefer the MDN's distribution, which lies on them.

Run ``python examples/plot_compare_mlp.py [--output-dir DIR] [--max-iter N]``;
it prints the table of cross-validated scores and writes ``compare_mlp.png``.
"""

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.model_selection import KFold, cross_validate  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402

from skmdn import GaussianMixtureDistribution, MDNRegressor  # noqa: E402
from skmdn.datasets import make_inverse_sine, make_spiral  # noqa: E402
from skmdn.metrics import mean_crps, mean_log_likelihood  # noqa: E402


class GaussianMLPRegressor(MLPRegressor):
    """MLPRegressor that also records the standard deviation of its training residuals."""

    def fit(self, X, y):
        super().fit(X, y)
        self.residual_std_ = float(np.std(y - self.predict(X)))
        return self


def predicted_distribution(estimator, X):
    """An MDN's own p(y | x); for the MLP, N(prediction, residual_std_^2)."""
    if hasattr(estimator, "predict_dist"):
        return estimator.predict_dist(X)
    mean = estimator.predict(X)
    return GaussianMixtureDistribution(
        np.ones((len(mean), 1)), mean[:, None], np.full((len(mean), 1), estimator.residual_std_)
    )


def log_likelihood_scorer(estimator, X, y):
    return mean_log_likelihood(y, predicted_distribution(estimator, X))


def neg_crps_scorer(estimator, X, y):
    return -mean_crps(y, predicted_distribution(estimator, X))


SCORING = {"r2": "r2", "log_likelihood": log_likelihood_scorer, "neg_crps": neg_crps_scorer}
# (scorer name, label, sign that turns the scorer's value into the reported one)
METRICS = (("r2", "R^2 (higher is better)", 1),
           ("log_likelihood", "log-likelihood (higher is better)", 1),
           ("neg_crps", "CRPS (lower is better)", -1))


def main(output_dir, max_iter):
    datasets = {
        "spiral": make_spiral(2000, random_state=0),
        "inverse sine": make_inverse_sine(2000, random_state=0),
    }
    models = {
        "MLPRegressor": GaussianMLPRegressor(max_iter=max_iter or 500, random_state=0),
        "MDNRegressor": MDNRegressor(max_iter=max_iter or "auto", random_state=0),
    }
    cv = KFold(5, shuffle=True, random_state=0)
    # results[dataset][model][metric] = (mean, std) over the folds
    results = {}
    for data_name, (X, y) in datasets.items():
        results[data_name] = {}
        for model_name, model in models.items():
            scores = cross_validate(model, X, y, cv=cv, scoring=SCORING)
            results[data_name][model_name] = {
                metric: (sign * scores[f"test_{metric}"].mean(), scores[f"test_{metric}"].std())
                for metric, _, sign in METRICS
            }

    print("5-fold cross-validation, mean (std) over folds")
    print(f"{'data':<14}{'model':<14}{'R^2':>16}{'log-likelihood':>18}{'CRPS':>16}")
    for data_name, by_model in results.items():
        for model_name, by_metric in by_model.items():
            cells = "".join(
                f"{f'{by_metric[metric][0]:.3f} ({by_metric[metric][1]:.3f})':>{width}}"
                for (metric, _, _), width in zip(METRICS, (16, 18, 16))
            )
            print(f"{data_name:<14}{model_name:<14}{cells}")

    fig, axes = plt.subplots(1, len(METRICS), figsize=(15, 4.8))
    positions = np.arange(len(datasets))
    for ax, (metric, label, _) in zip(axes, METRICS):
        for offset, (model_name, colour) in zip(
            (-0.2, 0.2), (("MLPRegressor", "C3"), ("MDNRegressor", "C0"))
        ):
            means, stds = np.array(
                [results[data_name][model_name][metric] for data_name in datasets]
            ).T
            bars = ax.bar(positions + offset, means, width=0.4, yerr=stds, capsize=4,
                          color=colour, label=model_name)
            ax.bar_label(bars, fmt="%.2f", padding=2, fontsize="small")
        ax.axhline(0.0, color="k", linewidth=0.8)
        ax.set_xticks(positions, list(datasets))
        ax.set_title(label)
        ax.margins(y=0.15)
        ax.legend(loc="best", fontsize="small")
    axes[0].set_ylabel("5-fold cross-validated mean (error bars: std)")
    fig.suptitle("Same cross_validate call: the mean wins R^2, the distribution wins "
                 "log-likelihood and CRPS")
    fig.tight_layout()
    output = pathlib.Path(output_dir) / "compare_mlp.png"
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
