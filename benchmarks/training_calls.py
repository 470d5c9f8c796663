"""What running training in short compiled calls costs.

A fit runs its epochs in compiled calls of about ``CALL_SECONDS`` each, so
that Ctrl-C is seen between them; the fitted model is the same whatever the
calls' length (tests/test_training_contract.py). Calls start at one epoch
and grow at most fourfold from one to the next. This prints the wall time of
fits with the default ``CALL_SECONDS`` beside the same fits with no limit on
a call's length (1, 4, 16, ... epochs: the fewest calls the growth allows),
alternating, in one process after a first fit has traced the graph, and
how many calls each made.

Cases: the quickstart's spiral (2,000 rows, 1 feature: many short epochs)
and 20,000 rows of 8 features with early stopping off and a fixed 200
epochs (longer epochs).

Run: ``python benchmarks/training_calls.py [--repeats 3]``.
"""

import argparse
import platform
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skmdn import MDNRegressor, _network
from skmdn import _estimator as estimator_module
from skmdn.datasets import make_spiral


def counting_calls():
    """Wrap the compiled networks so that their training calls are counted."""
    calls = [0]
    compiled = _network.compiled_network

    class Counted:
        def __init__(self, network):
            self._network = network

        def train(self, *args):
            calls[0] += 1
            return self._network.train(*args)

        def __getattr__(self, name):
            return getattr(self._network, name)

    _network.compiled_network = lambda spec: Counted(compiled(spec))
    return calls


# The setting under test, as the estimator defines it.
CALL_SECONDS = estimator_module.CALL_SECONDS


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    X_spiral, y_spiral = make_spiral(2000, random_state=0)
    rng = np.random.RandomState(0)
    X_wide = rng.normal(size=(20_000, 8))
    y_wide = np.sin(X_wide[:, 0]) + 0.3 * X_wide[:, 1] * rng.normal(size=20_000)
    cases = {
        "spiral, 2,000 rows, defaults": (X_spiral, y_spiral, {}),
        "20,000 x 8, 200 epochs, no early stopping": (
            X_wide, y_wide, {"early_stopping": False, "max_iter": 200, "n_iter_no_change": 10**6},
        ),
    }
    calls = counting_calls()
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"{'case':44s} {'calls of':>10s} {'seconds':>9s} {'calls':>6s} {'epochs':>7s}")
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name, (X, y, params) in cases.items():
        MDNRegressor(**params | {"max_iter": 2}, random_state=0).fit(X, y)  # trace
        default = f"{CALL_SECONDS:g} s"
        times = {default: [], "no limit": []}
        n_calls = {}
        for _ in range(args.repeats):
            for label, seconds in ((default, CALL_SECONDS), ("no limit", 1e9)):
                estimator_module.CALL_SECONDS = seconds
                calls[0] = 0
                started = time.perf_counter()
                model = MDNRegressor(**params, random_state=0).fit(X, y)
                times[label].append(time.perf_counter() - started)
                n_calls[label] = calls[0]
        for label, values in times.items():
            print(
                f"{name:44s} {label:>10s} {np.median(values):9.2f} "
                f"{n_calls[label]:6d} {model.n_iter_:7d}"
            )
        ratio = np.median(times[default]) / np.median(times["no limit"])
        print(f"{'':44s} {'ratio':>10s} {ratio:9.3f}   (median of {args.repeats})")


if __name__ == "__main__":
    main()
