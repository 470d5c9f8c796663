"""Fits running at the same time give the results they give one at a time.

GridSearchCV with n_jobs=2 on joblib's process (loky) and thread backends
must reproduce the serial search's scores, and two Python threads fitting
and using two models at once (of different architectures, and of the same
one, which share skmdn's cached training graph) must get what the same fits
get one after the other. Equality is exact: the fits run in float32 (the
default), with fixed random states.
"""

import threading
import time
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skmdn import MDNRegressor
from skmdn.datasets import make_inverse_sine

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X, Y = make_inverse_sine(120, random_state=0)
X_NEW = np.linspace(0.0, 1.0, 25)[:, None]

SEARCH_BASE = MDNRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
GRID = {"n_components": [1, 2], "alpha": [1e-4, 1e-2]}
SCORE_KEYS = ("split0_test_score", "split1_test_score", "mean_test_score", "rank_test_score")


def _search(n_jobs):
    return GridSearchCV(SEARCH_BASE, GRID, cv=2, n_jobs=n_jobs, error_score="raise").fit(X, Y)


@pytest.fixture(scope="module")
def serial_search():
    return _search(n_jobs=1)


def _assert_same_scores(search, serial_search):
    assert search.cv_results_["params"] == serial_search.cv_results_["params"]
    for key in SCORE_KEYS:
        assert_array_equal(search.cv_results_[key], serial_search.cv_results_[key], err_msg=key)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert_array_equal(
        search.best_estimator_.predict(X_NEW), serial_search.best_estimator_.predict(X_NEW)
    )


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_parallel_grid_search_matches_the_serial_one(serial_search, backend):
    with joblib.parallel_backend(backend):
        search = _search(n_jobs=2)
    _assert_same_scores(search, serial_search)


def _results(model):
    """Everything a fit determines, for exact comparison."""
    return {
        "loss_curve": np.array(model.loss_curve_),
        "predict": model.predict(X_NEW),
        "sample": model.sample(X_NEW, n_samples=3, random_state=0),
        "score": np.array(model.score(X, Y)),
        "weights": model.predict_dist(X_NEW).weights,
    }


def _fit_in_threads(models):
    """Fit and use ``models`` in one thread each, started together; return
    their results and each thread's (start, end) time."""
    barrier = threading.Barrier(len(models))
    results, times, errors = [None] * len(models), [None] * len(models), []

    def work(index, model):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                barrier.wait()
                started = time.perf_counter()
                model.fit(X, Y)
                results[index] = _results(model)
                times[index] = (started, time.perf_counter())
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=pair) for pair in enumerate(models)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a fitting thread hung"
    if errors:
        raise errors[0]
    return results, times


@pytest.mark.parametrize(
    "first, second",
    [
        (
            MDNRegressor(n_components=2, hidden_layer_sizes=(8,), max_iter=150, random_state=0),
            MDNRegressor(n_components=3, hidden_layer_sizes=(6, 6), activation="relu",
                         max_iter=150, random_state=1),
        ),
        # The same architecture: both threads train with one cached graph.
        (
            MDNRegressor(n_components=2, hidden_layer_sizes=(8,), max_iter=150, random_state=0),
            MDNRegressor(n_components=2, hidden_layer_sizes=(8,), max_iter=150, random_state=1),
        ),
    ],
    ids=["different-architectures", "same-architecture"],
)
def test_two_threads_fit_as_one_after_the_other(first, second):
    # One after the other (this also traces both graphs, so the threads
    # below overlap in training rather than in tracing).
    expected = [_results(clone(first).fit(X, Y)), _results(clone(second).fit(X, Y))]
    for _ in range(2):
        results, times = _fit_in_threads([clone(first), clone(second)])
        # The fits did run at the same time.
        (start_a, end_a), (start_b, end_b) = times
        assert start_a < end_b and start_b < end_a, times
        for got, want in zip(results, expected):
            for key in want:
                assert_array_equal(got[key], want[key], err_msg=key)
