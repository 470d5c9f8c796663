"""What one training step costs as the batch grows: is a step arithmetic or overhead?

Data-parallel training over several devices splits every batch between
them and averages the gradients once per step. That pays only when a
step's time is mostly arithmetic on the batch's rows, which halving the
rows halves. This script measures it for the default network
(``hidden_layer_sizes=(64, 64)``, ``n_components=5``) on 10 inputs and one
output: one epoch of ``partial_fit`` over 1,000,000 rows per batch size
(after a first call that traces the graph), and prints milliseconds per
step and rows per second.

Run: ``python benchmarks/step_time.py [--rows 1000000]``.
"""

import argparse
import os
import time
import warnings

import numpy as np

from skmdn import MDNRegressor


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[50, 200, 1000, 5000, 25000])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, 10)).astype(np.float32)
    y = (np.sin(2 * X[:, 0]) + X[:, 1] + 0.3 * rng.normal(size=args.rows)).astype(np.float32)
    model = MDNRegressor(random_state=0)
    n_weights = None
    print(f"machine: {os.cpu_count()} cores; {args.rows:,} rows x 10 features, one epoch per batch size")
    print(f"\n{'batch':>7}{'steps':>9}{'ms/step':>9}{'rows/s':>12}{'vs batch ' + str(args.batch_sizes[0]):>16}")
    first = None
    for batch_size in args.batch_sizes:
        model.set_params(batch_size=batch_size)
        model.partial_fit(X[: 4 * batch_size], y[: 4 * batch_size])  # traces this shape
        started = time.perf_counter()
        model.partial_fit(X, y)
        seconds = time.perf_counter() - started
        steps = -(-args.rows // batch_size)
        rate = args.rows / seconds
        first = first or rate
        print(f"{batch_size:>7}{steps:>9,}{1000 * seconds / steps:>9.3f}{rate:>12,.0f}{rate / first:>15.1f}x")
        n_weights = sum(w.size for w in model.model_.get_weights())
    print(f"\nnetwork weights: {n_weights:,}")


if __name__ == "__main__":
    main()
