"""Sampling temperature: one fitted model of the spiral, sampled four ways.

``MDNRegressor.sample(X, temperature=T)`` raises each row's mixing weights to
the power 1 / T and renormalises them before drawing. At T = 1 the samples
follow the learned p(y | x); below 1 they concentrate on the most probable
branch (at T = 0.1 nearly every draw comes from the heaviest component); above
1 the branches become equally likely, so rare components (in the spiral's
tails, at its centre) are drawn as often as the main ones. The component
widths are unchanged (that is ``sigma_temperature``).

Run ``python examples/plot_sampling_temperature.py [--output-dir DIR] [--max-iter N]``;
it prints, per temperature, the effective number of components and the mean
log-likelihood of the samples under the model, and writes
``sampling_temperature.png``.
"""

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.special import softmax  # noqa: E402

from skmdn import MDNRegressor  # noqa: E402
from skmdn.datasets import make_spiral  # noqa: E402
from skmdn.plotting import plot_samples  # noqa: E402

TEMPERATURES = (0.1, 0.5, 1.0, 2.0)


def main(output_dir, max_iter):
    X, y = make_spiral(2000, random_state=0)
    X_test, y_test = make_spiral(1000, random_state=1)
    mdn = MDNRegressor(max_iter=max_iter, random_state=0).fit(X, y)
    dist = mdn.predict_dist(X_test)

    print(f"{'temperature':>11}{'effective components':>22}{'log-likelihood of samples':>27}")
    effective = {}
    for temperature in TEMPERATURES:
        # The weights sample() draws components with, and exp(their entropy):
        # the number of equally weighted components with the same spread.
        weights = softmax(np.log(dist.weights) / temperature, axis=1)
        entropy = -np.sum(weights * np.log(np.maximum(weights, 1e-300)), axis=1)
        effective[temperature] = np.exp(entropy).mean()
        samples = mdn.sample(X_test, temperature=temperature, random_state=0)[:, 0]
        log_likelihood = mdn.score(X_test, samples)
        print(f"{temperature:>11g}{effective[temperature]:>22.2f}{log_likelihood:>27.3f}")

    fig, axes = plt.subplots(
        1, len(TEMPERATURES), figsize=(4.2 * len(TEMPERATURES), 4.6), sharex=True, sharey=True
    )
    for ax, temperature in zip(axes, TEMPERATURES):
        plot_samples(mdn, X_test, y_test, temperature=temperature, ax=ax, random_state=0)
        ax.set_title(
            f"temperature {temperature:g}\n"
            f"{effective[temperature]:.2f} effective components (of {mdn.n_components})"
        )
        # Headroom above the spiral for the legend.
        ax.set_ylim(0.0, 5.4)
        ax.legend(loc="upper right", markerscale=3, fontsize="small")
        ax.label_outer()
    fig.suptitle("MDNRegressor.sample(X, temperature=T) on the spiral")
    fig.tight_layout()
    output = pathlib.Path(output_dir) / "sampling_temperature.png"
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
