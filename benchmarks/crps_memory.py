"""Peak memory and time of ``skmdn.metrics.crps`` (prints a table).

The closed form pairs every two components of a row. Computed over all rows
at once, as skmdn did before, each (n, K, K) float64 temporary takes
8 n K^2 bytes (100,000 rows of K = 25: 0.5 GB, several of them alive at
once); computed in blocks of rows, the peak stays near a fixed budget. Peak
is the largest memory traced by tracemalloc during the call (numpy reports
its buffers to it); the unblocked formula, reproduced here, runs only up to
``--unblocked-rows`` rows.

Run: ``python benchmarks/crps_memory.py [--components 25] [--unblocked-rows 20000]``.
"""

import argparse
import math
import os
import platform
import time
import tracemalloc

import numpy as np
from scipy.special import ndtr

from skmdn import GaussianMixtureDistribution
from skmdn.metrics import crps


def unblocked_crps(y, dist):
    """The formula over all rows at once (1-D target)."""

    def term(difference, scale):
        z = difference / scale
        return 2.0 * scale * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) + difference * (2.0 * ndtr(z) - 1.0)

    weights, means, scales = dist.weights, dist.means, dist.scales
    to_observation = np.einsum("nk,nkd->nd", weights, term(means - y[:, None, None], scales))
    between = term(
        means[:, :, None, :] - means[:, None, :, :],
        np.sqrt(scales[:, :, None, :] ** 2 + scales[:, None, :, :] ** 2),
    )
    return (to_observation - 0.5 * np.einsum("nk,nj,nkjd->nd", weights, weights, between))[:, 0]


def measure(function):
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = function()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, time.perf_counter() - start, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=25)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 20_000, 100_000])
    parser.add_argument("--unblocked-rows", type=int, default=20_000,
                        help="largest row count for the unblocked formula")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"K = {args.components}; peak of memory allocated during the call (tracemalloc)")
    print(f"{'rows':>8} {'blocked MB':>11} {'s':>6} {'unblocked MB':>13} {'s':>6}  equal")
    rng = np.random.default_rng(0)
    for n in args.rows:
        dist = GaussianMixtureDistribution(
            rng.dirichlet(np.ones(args.components), n),
            rng.normal(scale=3.0, size=(n, args.components)),
            rng.uniform(0.1, 1.0, size=(n, args.components)),
        )
        y = rng.normal(scale=3.0, size=n)
        blocked, seconds, peak = measure(lambda: crps(y, dist))
        line = f"{n:>8} {peak / 1e6:>11.1f} {seconds:>6.2f}"
        if n <= args.unblocked_rows:
            reference, seconds, peak = measure(lambda: unblocked_crps(y, dist))
            line += f" {peak / 1e6:>13.1f} {seconds:>6.2f}  {np.array_equal(blocked, reference)}"
        print(line)


if __name__ == "__main__":
    main()
