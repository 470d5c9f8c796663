"""Training on more rows than one process holds: block by block from a dask array.

The data (10 features; y from a known two-branch mixture whose weights,
means and one branch's width depend on five of the features, the other
five irrelevant) are a dask array of row blocks, each generated from its
own seed when it is computed: the whole never exists in memory. The blocks
are ordered as data often are on disk (sorted by time, with the inputs
drifting from block to block), so the first block does not represent the
whole.

1. ``Scaling.from_blocks`` standardises from one pass over all blocks.
2. ``dask_ml.wrappers.Incremental`` trains ``MDNRegressor(batch_size=1000,
   learning_rate_init=1e-3)`` through ``partial_fit`` on one block at a
   time, ``--epochs`` passes in shuffled block order (``pip install
   dask-ml``).
3. For comparison: the same with the first block's standardisation (what
   ``partial_fit`` does without ``scaling``), with the default batch and
   step size, and in-memory fits (defaults, early stopping) on random
   subsamples.

Printed: seconds, the process's peak resident memory over the baseline of
a process with TensorFlow loaded, and the held-out mean log-likelihood on
rows drawn from the whole data, against the exact one of the generating
density.

Run: ``python benchmarks/out_of_core.py`` (10,000,000 rows in blocks of
1,000,000; ``--rows`` and ``--block-rows`` for other sizes).
"""

import argparse
import os
import resource
import time
import warnings

import dask
import dask.array as da
import numpy as np
from scipy.special import expit, logsumexp
from sklearn.exceptions import ConvergenceWarning

from skmdn import MDNRegressor, Scaling

N_FEATURES = 10


def parameters(X):
    """Weights, means and scales of the two branches of p(y | x)."""
    first = expit(2.0 * X[:, 2])
    mean = np.sin(2.0 * X[:, 0]) + X[:, 1]
    means = np.stack([mean, mean - 2.0 - 0.5 * X[:, 3]], axis=1)
    scales = np.stack([0.2 * np.exp(0.3 * X[:, 4]), np.full(len(X), 0.4)], axis=1)
    return np.stack([first, 1.0 - first], axis=1), means, scales


def make_block(index, n_rows, n_blocks, seed):
    """Rows of block ``index``: inputs drift with the block's position."""
    rng = np.random.default_rng([seed, index])
    X = rng.normal(size=(n_rows, N_FEATURES))
    X[:, 0] += -1.5 + 3.0 * index / max(n_blocks - 1, 1)
    weights, means, scales = parameters(X)
    branch = (rng.random(n_rows) > weights[:, 0]).astype(int)
    rows = np.arange(n_rows)
    y = means[rows, branch] + scales[rows, branch] * rng.normal(size=n_rows)
    return X, y


def dask_data(n_rows, block_rows, seed):
    n_blocks = -(-n_rows // block_rows)
    X_blocks, y_blocks = [], []
    for index in range(n_blocks):
        size = min(block_rows, n_rows - index * block_rows)
        block = dask.delayed(make_block, nout=2)(index, size, n_blocks, seed)
        X_blocks.append(da.from_delayed(block[0], (size, N_FEATURES), dtype=float))
        y_blocks.append(da.from_delayed(block[1], (size,), dtype=float))
    return da.concatenate(X_blocks), da.concatenate(y_blocks)


def true_log_likelihood(X, y):
    weights, means, scales = parameters(X)
    z = (y[:, None] - means) / scales
    return logsumexp(np.log(weights) - 0.5 * z**2 - np.log(scales * np.sqrt(2 * np.pi)), axis=1)


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--block-rows", type=int, default=1_000_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--test-rows", type=int, default=200_000)
    parser.add_argument("--subsamples", type=int, nargs="*", default=[100_000, 1_000_000])
    args = parser.parse_args()
    from dask_ml.wrappers import Incremental

    warnings.simplefilter("ignore", ConvergenceWarning)
    # One block at a time: the synchronous scheduler computes a block when
    # partial_fit needs it, never ahead.
    dask.config.set(scheduler="synchronous")
    X, y = dask_data(args.rows, args.block_rows, seed=0)
    n_blocks = X.numblocks[0]
    # Held-out rows from the whole data: a few from every block's position.
    test = [make_block(i, -(-args.test_rows // n_blocks), n_blocks, seed=1) for i in range(n_blocks)]
    X_test, y_test = (np.concatenate(part) for part in zip(*test))
    truth = true_log_likelihood(X_test, y_test).mean()

    # The baseline: TensorFlow loaded and a model's graphs traced.
    MDNRegressor(max_iter=2).fit(X_test[:1000], y_test[:1000])
    baseline = peak_mb()
    print(
        f"machine: {os.cpu_count()} cores; {args.rows:,} rows x {N_FEATURES} features "
        f"({args.rows * N_FEATURES * 8 / 2**30:.2f} GiB as float64) in {n_blocks} blocks "
        f"of {args.block_rows:,}; {args.epochs} epochs; baseline RSS {baseline:.0f} MB"
    )
    print(f"held-out rows: {len(y_test):,}; exact mean log-likelihood {truth:.4f}\n")

    results = []
    started = time.perf_counter()
    scaling = Scaling.from_blocks(zip(X.blocks, y.blocks))
    scaling_seconds = time.perf_counter() - started
    # Block-wise training has no validation rows to pick the best epoch by,
    # so its last step counts: larger batches and a smaller step size than
    # the defaults (for in-memory fits with early stopping) end less noisy.
    recipe = {"batch_size": 1000, "learning_rate_init": 1e-3}
    variants = (
        ("block-wise, whole-data scaling", scaling, recipe),
        ("block-wise, first block's scaling", None, recipe),
        ("block-wise, whole-data, defaults", scaling, {}),
    )
    for name, given, settings in variants:
        started = time.perf_counter()
        model = Incremental(
            MDNRegressor(random_state=0, **settings), shuffle_blocks=True, random_state=0
        )
        fit_params = {} if given is None else {"scaling": given}
        model.fit(X, y, **fit_params)
        for _ in range(args.epochs - 1):
            model.partial_fit(X, y, **fit_params)
        seconds = time.perf_counter() - started + (scaling_seconds if given is not None else 0)
        score = model.estimator_.score(X_test, y_test)
        results.append((name, args.rows, seconds, peak_mb() - baseline, score))
        print(f"{name}: {seconds:.0f} s" + (f" (scaling pass: {scaling_seconds:.0f} s)" if given else ""))
    for seed, n_rows in enumerate(args.subsamples, start=2):
        # A random subsample (the same share of every block), generated
        # whole: what fits in memory.
        blocks = [make_block(i, -(-n_rows // n_blocks), n_blocks, seed) for i in range(n_blocks)]
        X_sub, y_sub = (np.concatenate(part) for part in zip(*blocks))
        started = time.perf_counter()
        model = MDNRegressor(random_state=0).fit(X_sub, y_sub)
        seconds = time.perf_counter() - started
        results.append((f"in memory, {len(y_sub):,}-row subsample", len(y_sub), seconds, None, model.score(X_test, y_test)))
        print(f"in memory {len(y_sub):,}: {seconds:.0f} s, {model.n_iter_} epochs")

    print(f"\n{'fit':<40}{'rows':>12}{'seconds':>9}{'peak MB over baseline':>23}{'held-out LL':>13}{'gap to truth':>14}")
    for name, n_rows, seconds, memory, score in results:
        memory = "" if memory is None else f"{memory:.0f}"
        print(f"{name:<40}{n_rows:>12,}{seconds:>9.0f}{memory:>23}{score:>13.4f}{truth - score:>14.4f}")


if __name__ == "__main__":
    main()
