"""Correlated outputs: diagonal and full-covariance components against the truth.

A truth problem with two outputs whose p(y | x) is known exactly: for x
uniform on [-1, 1], two branches of equal weight centred at
(+-(1 + x) / 2, sin(pi x) / 2), each an elongated Gaussian (standard
deviations 0.3 and 0.05) rotated by an angle that turns with x, from
-60 to +60 degrees: the correlation within a branch goes from strongly
negative through zero to strongly positive. Diagonal components can only
imitate a tilted ellipse with several of them.

Printed, per covariance type and number of components: the gap between
the exact density's held-out mean log-likelihood and ``MDNRegressor``'s
(default parameters otherwise; 0 is perfect), mean and standard error over
seeds, and the mean seconds of a fit and of ``predict`` (the modes) on the
4,000 held-out rows.

Run: ``python benchmarks/covariance.py [--seeds 3] [--rows 4000]``.
"""

import argparse
import os
import time
import warnings

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.exceptions import ConvergenceWarning

from skmdn import MDNRegressor

SCALES = np.array([0.3, 0.05])


def branch_parameters(x):
    """Means (n, 2 branches, 2) and covariances (n, 2, 2, 2) at ``x`` (n,)."""
    height = np.sin(np.pi * x) / 2
    means = np.stack(
        [np.stack([(1 + x) / 2, height], axis=1), np.stack([-(1 + x) / 2, height], axis=1)], axis=1
    )
    angle = np.pi / 3 * x
    rotation = np.stack(
        [np.stack([np.cos(angle), -np.sin(angle)], -1), np.stack([np.sin(angle), np.cos(angle)], -1)],
        axis=1,
    )
    covariance = rotation @ np.diag(SCALES**2) @ np.swapaxes(rotation, 1, 2)
    return means, np.stack([covariance, covariance], axis=1)


def make_correlated_branches(n_rows, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n_rows)
    means, covariance = branch_parameters(x)
    branch = rng.integers(0, 2, n_rows)
    rows = np.arange(n_rows)
    factor = np.linalg.cholesky(covariance[rows, branch])
    y = means[rows, branch] + np.einsum("nij,nj->ni", factor, rng.normal(size=(n_rows, 2)))
    return x[:, None], y


def true_log_likelihood(X, y):
    means, covariance = branch_parameters(X[:, 0])
    terms = np.stack(
        [
            [multivariate_normal(means[i, b], covariance[i, b]).logpdf(y[i]) for i in range(len(y))]
            for b in range(2)
        ],
        axis=1,
    )
    return logsumexp(terms + np.log(0.5), axis=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--components", type=int, nargs="*", default=[2, 4, 8])
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(
        f"machine: {os.cpu_count()} cores; {args.rows:,} training rows, 4,000 held out, "
        f"seeds 0-{args.seeds - 1}"
    )
    results = {}
    truths = []
    for seed in range(args.seeds):
        X, y = make_correlated_branches(args.rows, seed)
        X_test, y_test = make_correlated_branches(4000, 1000 + seed)
        truths.append(true_log_likelihood(X_test, y_test).mean())
        for covariance_type in ("diag", "full"):
            for k in args.components:
                model = MDNRegressor(n_components=k, covariance_type=covariance_type, random_state=seed)
                started = time.perf_counter()
                model.fit(X, y)
                fit_seconds = time.perf_counter() - started
                started = time.perf_counter()
                model.predict(X_test)
                predict_seconds = time.perf_counter() - started
                gap = truths[-1] - model.score(X_test, y_test)
                results.setdefault((covariance_type, k), []).append((gap, fit_seconds, predict_seconds))
    print(f"\nexact mean log-likelihood: {np.mean(truths):.3f}")
    print(f"\n{'covariance':<12}{'K':>4}{'gap to truth':>22}{'fit s':>8}{'predict s':>11}")
    for (covariance_type, k), runs in results.items():
        gaps, fits, predicts = np.array(runs).T
        error = gaps.std(ddof=1) / np.sqrt(len(gaps)) if len(gaps) > 1 else float("nan")
        print(
            f"{covariance_type:<12}{k:>4}{gaps.mean():>14.3f} +- {error:.3f}"
            f"{fits.mean():>8.1f}{predicts.mean():>11.2f}"
        )


if __name__ == "__main__":
    main()
