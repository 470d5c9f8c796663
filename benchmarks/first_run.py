"""The first five minutes: what a new user's first script costs, stage by stage.

Each case runs in a fresh Python process (``--repeats`` times; the table shows
medians), on the quickstart's data: the noisy spiral, 2,000 training rows
(``make_spiral(2000, random_state=0)``) and 2,000 test rows
(``random_state=1``).

- ``skmdn, fresh install``: the mode search's compiled kernel is not cached
  yet (numba's cache pointed at an empty folder), as after ``pip install``.
- ``skmdn``: the kernel cached by an earlier process, as in every later
  script, notebook kernel or GridSearchCV worker.
- ``MLPRegressor``: scikit-learn's, default settings but ``max_iter=500``
  (the quickstart's), in the same kind of process.

Stages, in seconds: ``import`` (``import skmdn`` or scikit-learn's
MLPRegressor), ``TensorFlow`` (loading Keras and TensorFlow, which skmdn
defers to the first model), ``first fit`` (the first ``fit``: tracing the
compiled training graph and training), ``second fit`` (another default fit
of the same data in the same process, ``random_state=1``: training alone),
``first predict`` (the mode search: compiling or loading its kernel, then
searching) and ``second predict``; ``process`` is the whole child process
from its start, as the user waits for it. Also the held-out log-likelihood
of the first fit (MLPRegressor's as a Gaussian with the training residuals'
standard deviation), the epochs it trained, and every warning the process
emitted.

Run: ``python benchmarks/first_run.py [--repeats 3]``.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

CHILD = r"""
import json, sys, time, warnings
started = time.perf_counter()
timeline = {}
caught = []
warnings.simplefilter("always")
warnings.showwarning = lambda message, category, *args, **kwargs: caught.append(
    f"{category.__name__}: {message}"
)
import numpy as np
from scipy.stats import norm

case = sys.argv[1]
t = time.perf_counter()
if case == "mlp":
    from sklearn.neural_network import MLPRegressor
else:
    import skmdn
    from skmdn import MDNRegressor
timeline["import"] = time.perf_counter() - t
from skmdn.datasets import make_spiral

X, y = make_spiral(2000, random_state=0)
X_test, y_test = make_spiral(2000, random_state=1)
if case == "mlp":
    make = lambda seed: MLPRegressor(max_iter=500, random_state=seed)
else:
    t = time.perf_counter()
    from skmdn import _network  # Keras and TensorFlow
    timeline["TensorFlow"] = time.perf_counter() - t
    make = lambda seed: MDNRegressor(random_state=seed)
t = time.perf_counter()
model = make(0).fit(X, y)
timeline["first fit"] = time.perf_counter() - t
t = time.perf_counter()
make(1).fit(X, y)
timeline["second fit"] = time.perf_counter() - t
for stage in ("first predict", "second predict"):
    t = time.perf_counter()
    model.predict(X_test)
    timeline[stage] = time.perf_counter() - t
if case == "mlp":
    residual_std = np.std(y - model.predict(X))
    score = float(norm.logpdf(y_test, model.predict(X_test), residual_std).mean())
else:
    score = float(model.score(X_test, y_test))
timeline["process"] = time.perf_counter() - started
print(json.dumps(dict(timeline=timeline, score=score, epochs=int(model.n_iter_), warnings=caught)))
"""

CASES = {
    "fresh": "skmdn, fresh install",
    "skmdn": "skmdn",
    "mlp": "MLPRegressor",
}
STAGES = ["import", "TensorFlow", "first fit", "second fit", "first predict", "second predict"]


def run_case(case, cache_dir):
    environment = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, "mlp" if case == "mlp" else "skmdn"],
        capture_output=True, text=True, env=environment, check=True,
    )
    wall = time.perf_counter() - started
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    result["stderr"] = [line for line in completed.stderr.splitlines() if line.strip()]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    results = {case: [] for case in CASES}
    for _ in range(arguments.repeats):
        with tempfile.TemporaryDirectory() as cache_dir:
            # A new, empty cache: the first skmdn process compiles the kernel
            # into it, the second loads it.
            for case in CASES:
                results[case].append(run_case(case, cache_dir))

    def median(case, key):
        return float(np.median([result["timeline"].get(key, np.nan) for result in results[case]]))

    header = f"{'stage [s]':<18}" + "".join(f"{label:>22}" for label in CASES.values())
    print(header + f"{'skmdn / MLPRegressor':>22}")
    for stage in [*STAGES, "process"]:
        row = f"{stage:<18}" + "".join(f"{median(case, stage):>22.2f}" for case in CASES)
        ratio = median("skmdn", stage) / median("mlp", stage)
        print(row + (f"{ratio:>22.1f}" if stage != "TensorFlow" else f"{'':>22}"))
    for label, key in (("wall (with start)", "wall"),):
        print(f"{label:<18}" + "".join(
            f"{np.median([r[key] for r in results[case]]):>22.2f}" for case in CASES
        ))
    print(f"{'test log-lik.':<18}" + "".join(
        f"{np.median([r['score'] for r in results[case]]):>22.3f}" for case in CASES
    ))
    print(f"{'epochs':<18}" + "".join(
        f"{int(np.median([r['epochs'] for r in results[case]])):>22d}" for case in CASES
    ))
    for case, label in CASES.items():
        messages = sorted({m for r in results[case] for m in r["warnings"] + r["stderr"]})
        print(f"{label}: " + ("no warnings" if not messages else f"{len(messages)} distinct warnings"))
        for message in messages:
            print(f"    {message[:200]}")


if __name__ == "__main__":
    main()
