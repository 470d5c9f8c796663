"""MDNRegressor under Ray's joblib backend (a local Ray instance of two
worker processes): a randomized search and a cross-validation give exactly
the serial results."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
import ray
from numpy.testing import assert_array_equal
from scipy.stats import loguniform
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import RandomizedSearchCV, cross_validate

from skmdn import MDNRegressor
from skmdn.datasets import make_spiral


@pytest.fixture(scope="module")
def ray_backend():
    from ray.util.joblib import register_ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    register_ray()
    yield
    ray.shutdown()


def test_ray_search_and_cross_validation_equal_the_serial_ones(ray_backend):
    X, y = make_spiral(400, random_state=0)
    model = MDNRegressor(hidden_layer_sizes=(16,), max_iter=20, random_state=0)
    grid = {"n_components": np.arange(2, 5), "alpha": loguniform(1e-5, 1e-1)}

    def run(n_jobs):
        search = RandomizedSearchCV(model, grid, n_iter=3, cv=2, n_jobs=n_jobs, random_state=0)
        search.fit(X, y)
        scores = cross_validate(model, X, y, cv=3, n_jobs=n_jobs)["test_score"]
        return search, scores

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        serial, serial_scores = run(1)
        with joblib.parallel_backend("ray"):
            distributed, scores = run(-1)
    assert distributed.best_params_ == serial.best_params_
    assert_array_equal(distributed.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    assert_array_equal(scores, serial_scores)
    assert_array_equal(distributed.predict(X), serial.predict(X))
    assert len(pickle.dumps(distributed.best_estimator_)) < 50_000
