"""scikit-learn's estimator checks, run on MDNRegressor with no expected failures."""

from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmdn import MDNRegressor


def _configure_for_check(estimator, check):
    """A clone of ``estimator`` with per-check settings, as scikit-learn passes
    them to its own MLPRegressor.

    The clone matters: parametrize_with_checks hands every check the same
    estimator object, so setting parameters on it would carry one check's
    settings into all the checks after it.

    scikit-learn runs MLPRegressor's checks with ``max_iter=100`` to keep them
    fast; the checks test the API contract, not convergence, so we do the same.
    """
    params = {"max_iter": 100}
    name = getattr(check, "func", check).__name__
    if name == "check_sample_weight_equivalence_on_dense_data":
        # The check compares a fit with integer weights against a fit on
        # repeated rows to rtol=1e-7. Both fits see full batches (at most ~60
        # rows, below the "auto" batch of 200), so their losses and gradients
        # are equal up to summation order. In float32 that rounding grows over
        # 100 Adam steps to visibly different networks; in float64 the fits
        # stay equal to about 1e-8. scikit-learn likewise checks MLPRegressor
        # with settings that make its training deterministic (solver="sgd").
        params["dtype"] = "float64"
        # A held-out validation split, and noise drawn per row, cannot be the
        # same for a weighted row and its repeats; without early stopping
        # and input noise both fits see the same data.
        params["early_stopping"] = False
        params["x_noise_std"] = 0.0
    return clone(estimator).set_params(**params)


# The defaults, two networks side by side (whose mixtures are joined), and
# full-covariance components.
@parametrize_with_checks(
    [
        MDNRegressor(random_state=0),
        MDNRegressor(n_networks=2, random_state=0),
        MDNRegressor(covariance_type="full", random_state=0),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(_configure_for_check(estimator, check))


def test_each_check_gets_its_own_configured_copy():
    """The sample-weight check's settings stay with that check: the shared
    estimator, and so every later check, keeps the defaults."""

    def check_sample_weight_equivalence_on_dense_data(name, estimator):
        pass  # stands in for scikit-learn's check of that name

    shared = MDNRegressor(random_state=0)
    configured = _configure_for_check(shared, check_sample_weight_equivalence_on_dense_data)
    assert configured is not shared
    assert (configured.dtype, configured.early_stopping, configured.x_noise_std) == (
        "float64", False, 0.0
    )
    assert shared.get_params() == MDNRegressor(random_state=0).get_params()
    later = _configure_for_check(shared, lambda name, estimator: None)
    assert later.get_params() == MDNRegressor(random_state=0, max_iter=100).get_params()
