"""Hypothesis profiles for tests/test_properties.py.

- "ci" (the default): 150 fixed examples per test (``derandomize=True``, so
  every run tests the same cases and a failure reproduces); the whole file
  took about 80 s on two CPU cores when measured (a budget of three minutes);
- "thorough": 2000 examples per test, drawn afresh each run, to search for
  new failures: ``HYPOTHESIS_PROFILE=thorough python -m pytest
  tests/test_properties.py`` (600 examples took under four minutes, so
  about a quarter of an hour).

No deadline in either: an example that meets a new network architecture
traces its training graph first, which takes a second or two. No example
database either, so running the tests leaves no files behind.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "thorough",
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
