"""Throughput of GaussianMixtureDistribution's methods (prints a table).

Two kinds of mixtures with K = 20 components:

- ``random``: hard, artificial rows (means ~ N(0, 3^2), scales ~ U(0.1, 1),
  Dirichlet weights), several overlapping modes per row;
- ``trained``: what an MDNRegressor with K = 20 predicts on the noisy spiral
  (a few live components per row, most weights near zero).

Run: ``python benchmarks/distribution.py [--rows 100000]``.
"""

import argparse
import os
import platform
import time
import warnings

import numpy as np

from skmdn import GaussianMixtureDistribution, MDNRegressor
from skmdn.datasets import make_spiral
from skmdn.metrics import crps


def random_mixtures(n_rows, n_components, seed=0):
    rng = np.random.default_rng(seed)
    return GaussianMixtureDistribution(
        rng.dirichlet(np.ones(n_components), n_rows),
        rng.normal(scale=3.0, size=(n_rows, n_components)),
        rng.uniform(0.1, 1.0, size=(n_rows, n_components)),
    )


def trained_mixtures(n_rows, n_components):
    X, y = make_spiral(5000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MDNRegressor(
            n_components=n_components, hidden_layer_sizes=(128, 128), max_iter=100,
            batch_size=128, random_state=0,
        ).fit(X, y)
    grid = np.linspace(X.min(), X.max(), n_rows)[:, None]
    return model.predict_dist(grid)


def best_time(function, repeats=2):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n_rows):
    n_components = 20
    grid = np.linspace(-10, 10, 200)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"numpy {np.__version__}; K = {n_components}"
    )
    header = f"{'operation':<44}{'rows':>9}" + "".join(f"{kind:>12}" for kind in ("random", "trained"))
    print(header + "\n" + "-" * len(header))
    dists = {"random": random_mixtures(n_rows, n_components), "trained": trained_mixtures(n_rows, n_components)}
    y = {kind: dist.sample(1, random_state=0)[:, 0] for kind, dist in dists.items()}
    few = min(n_rows, 10_000)
    operations = [
        ("log_prob on a 200-point grid", few, lambda d, k: d[:few].log_prob(grid)),
        ("log_prob, one point per row", n_rows, lambda d, k: d.log_prob(y[k])),
        ("cdf, one point per row", n_rows, lambda d, k: d.cdf(y[k])),
        ("ppf (quantile), one level", n_rows, lambda d, k: d.ppf(0.5)),
        ("ppf, three levels (0.05, 0.5, 0.95)", n_rows, lambda d, k: d.ppf([0.05, 0.5, 0.95])),
        ("interval(0.9)", n_rows, lambda d, k: d.interval(0.9)),
        ("mode (global)", n_rows, lambda d, k: d.mode()),
        ("modes (all local maxima)", n_rows, lambda d, k: d.modes()),
        ("hdr(0.9)", few, lambda d, k: d[:few].hdr(0.9)),
        ("sample, 10 per row", n_rows, lambda d, k: d.sample(10, random_state=0)),
        ("crps, one point per row", n_rows, lambda d, k: crps(y[k], d)),
    ]
    for name, rows, operation in operations:
        seconds = [best_time(lambda: operation(dists[kind], kind)) for kind in ("random", "trained")]
        print(f"{name:<44}{rows:>9}" + "".join(f"{value:>11.3f}s" for value in seconds))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    main(parser.parse_args().rows)
