"""Every example in examples/ runs on a small budget and writes its figures.

quickstart.py has its own test in test_docs_and_examples.py.
"""

import pathlib
import re
import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("pandas")

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"

# Example -> the figures it writes into --output-dir.
FIGURES = {
    "plot_choose_n_components.py": ["choose_n_components.png"],
    "plot_compare_mlp.py": ["compare_mlp.png"],
    "plot_conformal_sets.py": ["conformal_sets.png"],
    "plot_dataframe_intervals.py": ["dataframe_intervals.png"],
    "plot_inverse_problem.py": ["inverse_problem.png"],
    "plot_networks.py": ["networks.png"],
    "plot_robot_arm.py": ["robot_arm.png"],
    "plot_sampling_temperature.py": ["sampling_temperature.png"],
    "plot_spiral_density.py": ["spiral_density.png"],
}


def test_every_example_is_tested():
    found = {path.name for path in EXAMPLES.glob("*.py")} - {"quickstart.py"}
    assert found == set(FIGURES)


@pytest.mark.parametrize("example", sorted(FIGURES))
def test_example_runs_and_writes_its_figures(example, tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / example), "--max-iter", "5",
         "--output-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    for name in FIGURES[example]:
        figure = tmp_path / name
        assert figure.exists(), f"{example} did not write {name}"
        assert figure.stat().st_size > 10_000, f"{name} is nearly empty"
        assert f"wrote {figure}" in result.stdout
    assert {path.name for path in tmp_path.iterdir()} == set(FIGURES[example])
    assert_only_budget_warnings(result.stderr)


def assert_only_budget_warnings(stderr):
    """The examples warn about nothing but the 5-epoch budget of these runs
    (skmdn's and MLPRegressor's ConvergenceWarning): no deprecations, no
    retracing or other library noise."""
    warned = re.findall(r"\b(\w+Warning): (.*)", stderr)
    assert all(
        category == "ConvergenceWarning" and "Maximum iterations (5) reached" in message
        for category, message in warned
    ), warned
