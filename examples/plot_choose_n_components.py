"""Choosing n_components by cross-validated log-likelihood with GridSearchCV.

``MDNRegressor.score`` is the mean held-out log-likelihood, so
``GridSearchCV`` selects the best density model without a custom scorer. On
Bishop's inverse problem, which has up to three branches, one component (a
Gaussian around a smooth curve, what a least-squares fit assumes) scores far
below the rest; from two or three on the log-likelihood levels off, within
the spread between folds: extra components cost little because their weights
shrink. ``best_params_`` takes the highest mean, however small the margin; the
smallest n_components whose mean is within one standard deviation (the error
bar) of the best is the simpler model the data cannot tell apart from it, as
in scikit-learn's "refit callable" example.

Run ``python examples/plot_choose_n_components.py [--output-dir DIR] [--max-iter N]``;
it prints the cross-validation table and the chosen model's test score, and
writes ``choose_n_components.png``.
"""

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402

from skmdn import MDNRegressor  # noqa: E402
from skmdn.datasets import make_inverse_sine  # noqa: E402

N_COMPONENTS = [1, 2, 3, 5, 8, 12]


def main(output_dir, max_iter):
    X, y = make_inverse_sine(1000, random_state=0)
    X_test, y_test = make_inverse_sine(2000, random_state=1)
    search = GridSearchCV(
        MDNRegressor(max_iter=max_iter, random_state=0),
        {"n_components": N_COMPONENTS},
        cv=KFold(5, shuffle=True, random_state=0),
    )
    search.fit(X, y)
    results = search.cv_results_
    mean, std = results["mean_test_score"], results["std_test_score"]

    print(f"{'n_components':>12}{'mean CV log-likelihood':>24}{'std':>8}{'fit [s]':>9}")
    for k, score, spread, seconds in zip(N_COMPONENTS, mean, std, results["mean_fit_time"]):
        print(f"{k:>12}{score:>24.3f}{spread:>8.3f}{seconds:>9.2f}")
    best = search.best_params_["n_components"]
    print(f"best n_components: {best}; its test log-likelihood: "
          f"{search.score(X_test, y_test):.3f}")
    within = mean >= mean[search.best_index_] - std[search.best_index_]
    simplest = N_COMPONENTS[int(np.argmax(within))]
    simple_model = MDNRegressor(n_components=simplest, max_iter=max_iter, random_state=0)
    simple_model.fit(X, y)
    print(f"smallest n_components within one std of the best: {simplest}; its test "
          f"log-likelihood: {simple_model.score(X_test, y_test):.3f}")

    fig, ax = plt.subplots(figsize=(7, 4.8))
    ax.errorbar(N_COMPONENTS, mean, yerr=std, marker="o", capsize=4,
                label="mean over 5 folds (error bars: std)")
    ax.scatter([best], [search.best_score_], s=160, facecolor="none", edgecolor="C3",
               linewidth=2, zorder=3, label=f"best mean: n_components={best}")
    ax.scatter([simplest], [mean[N_COMPONENTS.index(simplest)]], s=160, marker="s",
               facecolor="none", edgecolor="C2", linewidth=2, zorder=3,
               label=f"simplest within one std of it: n_components={simplest}")
    ax.axhspan(mean[search.best_index_] - std[search.best_index_],
               mean[search.best_index_], color="C3", alpha=0.08)
    ax.set_xticks(N_COMPONENTS)
    ax.set_xlabel("n_components (Gaussians per row)")
    ax.set_ylabel("held-out log-likelihood (nats per point)")
    ax.set_title("GridSearchCV over n_components on Bishop's inverse problem")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    output = pathlib.Path(output_dir) / "choose_n_components.png"
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
