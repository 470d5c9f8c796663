"""A grid search over MDNRegressor in one process and on parallel backends.

The same ``GridSearchCV`` (``n_components`` in 2..5, 3 folds: 12 fits of
``MDNRegressor(max_iter=100)`` on 1,500 spiral rows) runs twice in a row
on each backend: serially (``n_jobs=1``), with joblib's loky and threading
backends (``n_jobs=2``), on a Dask ``LocalCluster`` of two worker
processes (joblib's dask backend; ``pip install "dask[distributed]"``) and
on a local Ray instance with two CPUs (``ray.util.joblib``; ``pip install
ray``).
The first search on a backend pays its start-up (worker processes, their
TensorFlow import and graph tracing); the second shows what a warm backend
costs. Printed: seconds per search, the speed-up against the serial
search, whether the best parameters and scores equal the serial ones, and
the pickled size of the best estimator (what travels between processes).
The cluster's and Ray's own start-up are timed apart.

Run: ``python benchmarks/scale_out.py``.
"""

import os
import pickle
import time
import warnings

import joblib
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skmdn import MDNRegressor
from skmdn.datasets import make_spiral


def search(n_jobs):
    return GridSearchCV(
        MDNRegressor(max_iter=100, random_state=0),
        {"n_components": [2, 3, 4, 5]},
        cv=3,
        n_jobs=n_jobs,
    )


def twice(n_jobs, X, y):
    """Seconds of two searches in a row, and the second search."""
    times, fitted = [], None
    for _ in range(2):
        started = time.perf_counter()
        fitted = search(n_jobs).fit(X, y)
        times.append(time.perf_counter() - started)
    return times, fitted


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = make_spiral(1500, random_state=0)
    print(f"machine: {os.cpu_count()} cores; 12 fits per search")
    rows = []
    serial_times, reference = twice(1, X, y)
    rows.append(("serial (n_jobs=1)", serial_times, reference))
    for backend in ("loky", "threading"):
        with joblib.parallel_backend(backend, n_jobs=2):
            rows.append((f"{backend} (n_jobs=2)", *twice(2, X, y)))
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print("dask.distributed is not importable: its row is left out")
    else:
        started = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
            host="127.0.0.1",
        )
        client = Client(cluster)
        print(f"Dask LocalCluster start: {time.perf_counter() - started:.1f} s")
        with joblib.parallel_backend("dask"):
            rows.append(("dask, 2 worker processes", *twice(-1, X, y)))
        client.close()
        cluster.close()
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError:
        print("ray is not importable: its row is left out")
    else:
        started = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        register_ray()
        print(f"Ray start: {time.perf_counter() - started:.1f} s")
        with joblib.parallel_backend("ray"):
            rows.append(("ray, 2 CPUs", *twice(-1, X, y)))
        ray.shutdown()
    print(f"\n{'backend':<28}{'1st search':>11}{'2nd search':>11}{'2nd vs serial':>15}{'same result':>13}")
    for name, times, fitted in rows:
        same = fitted.best_params_ == reference.best_params_ and np.array_equal(
            fitted.cv_results_["mean_test_score"], reference.cv_results_["mean_test_score"]
        )
        print(
            f"{name:<28}{times[0]:>10.1f}s{times[1]:>10.1f}s"
            f"{serial_times[1] / times[1]:>14.2f}x{str(same):>13}"
        )
    print(f"\npickled best estimator: {len(pickle.dumps(reference.best_estimator_)):,} bytes")


if __name__ == "__main__":
    main()
