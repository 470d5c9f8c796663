"""Conformal prediction sets: coverage and size over many calibration draws.

For each data set one MDNRegressor (defaults) is trained; its held-out rows
are then split at random, again and again (``--repeats``), into calibration
rows and test rows. Each draw calibrates ``ConformalMDN(prefit=True)`` with
the density score (``hdr``) and the quantile score (``cqr``), and, when MAPIE
is installed, MAPIE's ``SplitConformalRegressor`` around the mode (absolute
residual). Printed per data set and method: the mean test coverage over the
draws with its standard error, the share of draws whose coverage falls
outside the central 95% of the distribution a correct split-conformal
method gives (a beta-binomial: the calibration draw's coverage is
Beta(k, n + 1 - k) with k = ceil((n + 1) * coverage), then binomial over the
test rows), and the mean set length (the sum of a set's interval lengths).

Data: the spiral and Bishop's inverse problem (2,000 training rows, 2,000
held-out rows), and the UCI sets in ../shared/datasets/uci (split 0: a
model trained on 75% of the training split, the other 25% and the test
split are the held-out rows; never copied into the repository).

Run: ``python benchmarks/conformal.py [--repeats 100] [--coverage 0.9]
[--datasets spiral inverse boston concrete energy wine yacht]``.
"""

import argparse
import math
import os
import pathlib
import sys
import time
import warnings

import numpy as np
from scipy.stats import betabinom

from skmdn import ConformalMDN, MDNRegressor
from skmdn.datasets import make_inverse_sine, make_spiral

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from quality import UCI, load_uci  # noqa: E402


def held_out(name):
    """(X_train, y_train, X_pool, y_pool) for one data set."""
    if name in ("spiral", "inverse"):
        make = make_spiral if name == "spiral" else make_inverse_sine
        X, y = make(4000, random_state=0)
        return X[:2000], y[:2000], X[2000:], y[2000:]
    data, target, splits = load_uci(name)
    train, test = splits[0]
    rows = np.random.default_rng(0).permutation(train)
    fit, rest = rows[: int(0.75 * len(rows))], rows[int(0.75 * len(rows)) :]
    pool = np.concatenate([rest, test])
    return data[fit], target[fit], data[pool], target[pool]


def acceptance_interval(n_calibration, n_test, coverage):
    """Central 95% of a correct split-conformal method's test coverage."""
    k = math.ceil((n_calibration + 1) * coverage)
    distribution = betabinom(n_test, k, n_calibration + 1 - k)
    return distribution.ppf(0.025) / n_test, distribution.ppf(0.975) / n_test


def main(arguments):
    warnings.simplefilter("ignore")
    try:
        from mapie.regression import SplitConformalRegressor
    except ImportError:
        SplitConformalRegressor = None
        print("MAPIE is not importable: its column is left out")
    print(f"machine: {os.cpu_count()} cores; coverage {arguments.coverage}, "
          f"{arguments.repeats} calibration draws per data set")
    header = f"{'data':<10}{'n cal':>6}{'n test':>7}  {'method':<14}{'coverage':>16}{'outside 95%':>12}{'mean length':>13}"
    print(header + "\n" + "-" * len(header))
    rng = np.random.default_rng(1)
    for name in arguments.datasets:
        started = time.perf_counter()
        X, y, X_pool, y_pool = held_out(name)
        model = MDNRegressor(random_state=0).fit(X, y)
        n_calibration = len(y_pool) // 2
        n_test = len(y_pool) - n_calibration
        low, high = acceptance_interval(n_calibration, n_test, arguments.coverage)
        results = {}
        for _ in range(arguments.repeats):
            rows = rng.permutation(len(y_pool))
            calibration, test = rows[:n_calibration], rows[n_calibration:]
            for method in ("hdr", "cqr"):
                sets = ConformalMDN(model, coverage=arguments.coverage, method=method, prefit=True)
                sets.fit(X_pool[calibration], y_pool[calibration])
                results.setdefault(method, []).append((
                    sets.contains(X_pool[test], y_pool[test]).mean(),
                    sets.set_length(X_pool[test]).mean(),
                ))
            if SplitConformalRegressor is not None:
                split = SplitConformalRegressor(
                    model, confidence_level=arguments.coverage, prefit=True
                ).conformalize(X_pool[calibration], y_pool[calibration])
                _, intervals = split.predict_interval(X_pool[test])
                lower, upper = intervals[:, 0, 0], intervals[:, 1, 0]
                results.setdefault("MAPIE split", []).append((
                    np.mean((lower <= y_pool[test]) & (y_pool[test] <= upper)),
                    np.mean(upper - lower),
                ))
        for method, values in results.items():
            coverages, lengths = np.array(values).T
            outside = np.mean((coverages < low) | (coverages > high))
            error = coverages.std(ddof=1) / math.sqrt(len(coverages))
            print(
                f"{name:<10}{n_calibration:>6}{n_test:>7}  {method:<14}"
                f"{coverages.mean():>9.4f} ± {error:.4f}{outside:>12.2f}{lengths.mean():>13.3f}",
                flush=True,
            )
        print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--coverage", type=float, default=0.9)
    parser.add_argument("--datasets", nargs="*", default=["spiral", "inverse", *UCI])
    main(parser.parse_args())
