"""The README's code and the examples run as documented."""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_readme_python_example_runs():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert blocks, "README has no python example"
    namespace = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["draws"].shape == (len(namespace["X_test"]), 100)


def test_quickstart_writes_its_figure(tmp_path):
    output = tmp_path / "spiral.png"
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py"),
         "--output", str(output), "--max-iter", "5"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "MDNRegressor" in result.stdout
    assert output.stat().st_size > 10_000
