"""Conformal prediction sets that follow the branches of the spiral.

``ConformalMDN`` calibrates a fitted MDNRegressor's sets on rows it was not
trained on, so that they cover 90% of new rows whatever the model's
errors. With the density as the conformity score (``method="hdr"``) a set is
a union of intervals around the turns of the spiral that pass over x; the
conformalised quantile interval (``method="cqr"``), with the same guarantee,
must span the empty gaps between them.

Run ``python examples/plot_conformal_sets.py [--output-dir DIR] [--max-iter N]``;
it prints each set's coverage of the test rows and mean total length and
writes ``conformal_sets.png``.
"""

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from skmdn import ConformalMDN, MDNRegressor  # noqa: E402
from skmdn.datasets import make_spiral  # noqa: E402

COVERAGE = 0.9


def main(output_dir, max_iter=None):
    X, y = make_spiral(3000, random_state=0)
    X_test, y_test = make_spiral(2000, random_state=1)
    params = {} if max_iter is None else {"max_iter": max_iter}
    # Train on 2,000 rows; calibrate the same model on the other 1,000 with
    # each score (ConformalMDN(MDNRegressor()).fit(X, y) would split itself).
    model = MDNRegressor(random_state=0, **params).fit(X[:2000], y[:2000])
    hdr = ConformalMDN(model, coverage=COVERAGE, prefit=True).fit(X[2000:], y[2000:])
    cqr = ConformalMDN(model, coverage=COVERAGE, method="cqr", prefit=True).fit(
        X[2000:], y[2000:]
    )
    own, _ = model.predict_dist(X_test).hdr(COVERAGE)
    own_inside = np.any((own[:, :, 0] <= y_test[:, None]) & (y_test[:, None] <= own[:, :, 1]), axis=1)

    print(f"{hdr.n_calibration_} calibration rows, {len(y_test)} test rows, coverage {COVERAGE}")
    print(f"{'set':<34}{'coverage':>9}{'mean length':>13}")
    rows = [
        ("conformal HDR (ConformalMDN)", hdr.contains(X_test, y_test).mean(), hdr.set_length(X_test).mean()),
        ("conformal quantiles (cqr)", cqr.contains(X_test, y_test).mean(), cqr.set_length(X_test).mean()),
        ("the model's own HDR (no guarantee)", own_inside.mean(),
         np.nansum(own[:, :, 1] - own[:, :, 0], axis=1).mean()),
    ]
    for name, coverage, length in rows:
        print(f"{name:<34}{coverage:>9.3f}{length:>13.2f}")

    grid = np.linspace(X_test.min(), X_test.max(), 60)[:, None]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for ax, sets, title in (
        (axes[0], hdr, "ConformalMDN, method=\"hdr\": a union of intervals"),
        (axes[1], cqr, "ConformalMDN, method=\"cqr\": one interval"),
    ):
        ax.scatter(X_test[:, 0], y_test, s=2, color="0.7", label="test data")
        intervals = sets.predict_set(grid)
        for x, row in zip(grid[:, 0], intervals):
            for lower, upper in row[~np.isnan(row[:, 0])]:
                ax.plot([x, x], [lower, upper], color="tab:blue", lw=2.5)
        ax.plot([], [], color="tab:blue", lw=2.5, label=f"{COVERAGE:.0%} conformal set")
        ax.set_title(f"{title}\nmean length {sets.set_length(X_test).mean():.2f}")
        ax.set_xlabel("x")
        ax.legend(loc="upper left")
    axes[0].set_ylabel("y")
    fig.tight_layout()
    output = pathlib.Path(output_dir) / "conformal_sets.png"
    fig.savefig(output, dpi=100)
    print(f"\nwrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default=".", help="where to write the figure")
    parser.add_argument(
        "--max-iter", type=int, help='epochs (default: the estimator\'s "auto" budget)'
    )
    arguments = parser.parse_args()
    main(arguments.output_dir, arguments.max_iter)
