"""MDNRegressor on a Dask cluster of worker processes on this machine: a
grid search under joblib's dask backend finds what a serial search finds
(and the workers keep TensorFlow loaded between searches), training block
by block from a dask array equals partial_fit in memory, and predictions
mapped over blocks equal the in-memory ones."""

import pickle
import sys
import warnings

import joblib
import numpy as np
import pytest
from distributed import Client, LocalCluster, get_task_stream
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skmdn import MDNRegressor, Scaling
from skmdn.datasets import make_spiral


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        host="127.0.0.1",
    )
    with Client(cluster) as client:
        yield client
    cluster.close()


def search(n_jobs):
    return GridSearchCV(
        MDNRegressor(hidden_layer_sizes=(16,), max_iter=20, random_state=0),
        {"n_components": np.arange(2, 4), "alpha": [1e-4, 1e-2]},
        cv=2,
        n_jobs=n_jobs,
    )


def test_dask_search_equals_the_serial_one_and_workers_stay_warm(client):
    X, y = make_spiral(400, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        serial = search(1).fit(X, y)
        with joblib.parallel_backend("dask"):
            distributed = search(-1).fit(X, y)
            # TensorFlow stays loaded in the workers for the next search.
            assert all(client.run(lambda: "tensorflow" in sys.modules).values())
            again = search(-1).fit(X, y)
    for other in (distributed, again):
        assert other.best_params_ == serial.best_params_
        assert_array_equal(other.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    assert_array_equal(distributed.predict(X), serial.predict(X))
    # What travels between processes is weights and numbers, not graphs.
    assert len(pickle.dumps(distributed.best_estimator_)) < 50_000


def test_predictions_mapped_over_the_blocks_of_a_dask_array():
    """predict, predict_quantiles and log_likelihood of a model mapped over
    the row blocks of a dask array equal the in-memory results exactly: a
    row's prediction does not depend on the rows predicted with it."""
    import dask.array as da

    X, y = make_spiral(3000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MDNRegressor(hidden_layer_sizes=(16,), max_iter=20, random_state=0).fit(X, y)
    X_blocks = da.from_array(X, chunks=(700, 1))
    y_blocks = da.from_array(y, chunks=700)
    mode = X_blocks.map_blocks(model.predict, drop_axis=1, dtype=float).compute()
    quantiles = X_blocks.map_blocks(
        lambda block: model.predict_quantiles(block, [0.1, 0.9]), chunks=(700, 2), dtype=float
    ).compute()
    log_likelihood = da.map_blocks(
        lambda Xb, yb: model.log_likelihood(Xb, yb), X_blocks, y_blocks[:, None],
        drop_axis=1, dtype=float,
    ).compute()
    assert_array_equal(mode, model.predict(X))
    assert_array_equal(quantiles, model.predict_quantiles(X, [0.1, 0.9]))
    assert_array_equal(log_likelihood, model.log_likelihood(X, y))


def test_out_of_core_fit_on_the_cluster_equals_partial_fit_in_memory(client):
    """Training block by block from a dask array on the cluster: the scaling
    from one pass over the blocks is the whole data's (numpy), and
    dask-ml's Incremental, running partial_fit in the workers, trains
    exactly as partial_fit on the same blocks in this process."""
    import dask.array as da
    from dask_ml.wrappers import Incremental

    X, y = make_spiral(2000, random_state=1)
    X_blocks = da.from_array(X, chunks=(500, 1))
    y_blocks = da.from_array(y, chunks=500)
    scaling = Scaling.from_blocks(zip(X_blocks.blocks, y_blocks.blocks))
    assert_allclose(scaling.x_mean, X.mean(axis=0), rtol=1e-12)
    assert_allclose(scaling.y_scale, [y.std()], rtol=1e-12)
    settings = dict(hidden_layer_sizes=(16,), random_state=0)
    incremental = Incremental(MDNRegressor(**settings), shuffle_blocks=False)
    with get_task_stream(client) as tasks:
        incremental.fit(X_blocks, y_blocks, scaling=scaling)
        incremental.partial_fit(X_blocks, y_blocks, scaling=scaling)
    # The partial_fit calls ran as tasks in the cluster's workers.
    assert sum(str(task["key"]).startswith("('fit-") for task in tasks.data) >= 8
    assert incremental.estimator_.n_iter_ == 8
    local = MDNRegressor(**settings)
    for _ in range(2):
        for rows in np.array_split(np.arange(2000), 4):
            local.partial_fit(X[rows], y[rows], scaling=scaling)
    assert_array_equal(incremental.estimator_.x_mean_, scaling.x_mean)
    assert_array_equal(incremental.estimator_.predict(X), local.predict(X))
    assert_array_equal(incremental.predict(X_blocks).compute(), local.predict(X))
