"""Test-session setup shared by the test suite and the doctests."""

import os

# scikit-learn's array-API estimator check runs only when SciPy's array-API
# support is switched on, which must happen before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# skmdn/skpro.py imports skpro, which needs pandas < 3.1: it is tested in its
# own environment (tests_skpro/, where skpro's estimator checks also run the
# module's docstring examples), not collected with the main suite.
collect_ignore = ["skmdn/skpro.py"]
