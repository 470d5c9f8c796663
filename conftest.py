"""Test-session setup shared by the test suite and the doctests."""

import os

# scikit-learn's array-API estimator check runs only when SciPy's array-API
# support is switched on, which must happen before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
