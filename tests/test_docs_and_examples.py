"""The README's code and the examples run as documented."""

import pathlib
import re
import subprocess
import sys

from test_examples import assert_only_budget_warnings

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
    assert_only_budget_warnings(result.stderr)


def _literal(text):
    """A default as the docs state it ("auto", 1e-4, (64, 64), None), as a value."""
    import ast

    return ast.literal_eval(text)


def test_api_reference_states_the_true_defaults():
    """The API page renders the Parameters sections with griffe's numpydoc
    parser (mkdocstrings does): the Default column of every documented
    parameter must be the value the code uses, get_params() for
    MDNRegressor and the signature for the public functions and methods.
    (griffe takes the first of a {choice} set as the default, and reads
    "default=a and b" as one default.)"""
    import inspect

    import griffe

    import skmdn
    from skmdn import datasets, metrics, plotting

    package = griffe.load("skmdn", search_paths=[str(ROOT)], docstring_parser="numpy")

    def documented(path):
        sections = package[path].docstring.parse("numpy")
        return {
            parameter.name: parameter.value
            for section in sections
            if section.kind.value == "parameters"
            for parameter in section.value
            if parameter.value is not None and not parameter.name.startswith("*")
        }

    for path, estimator in (
        ("_estimator.MDNRegressor", skmdn.MDNRegressor()),
        ("_conformal.ConformalMDN", skmdn.ConformalMDN()),
    ):
        rendered = documented(path)
        expected = estimator.get_params()
        assert set(rendered) == set(expected), path
        for name, text in rendered.items():
            assert _literal(text) == expected[name], (path, name, text, expected[name])
    callables = [
        (f"{module.__name__.split('.')[-1]}.{name}", member)
        for module in (datasets, metrics, plotting)
        for name, member in vars(module).items()
        if not name.startswith("_")
        and inspect.isfunction(member)
        and member.__module__ == module.__name__
    ]
    for cls, path in ((skmdn.MDNRegressor, "_estimator.MDNRegressor"),
                      (skmdn.ConformalMDN, "_conformal.ConformalMDN"),
                      (skmdn.Scaling, "_scaling.Scaling"),
                      (skmdn.GaussianMixtureDistribution, "_mixture.GaussianMixtureDistribution")):
        callables += [
            (f"{path}.{name}", member)
            for name, member in vars(cls).items()
            if not name.startswith("_") and inspect.isfunction(member)
        ]
    checked = 0
    for path, function in callables:
        signature = inspect.signature(function).parameters
        for name, text in documented(path).items():
            default = signature[name].default
            assert default is not inspect.Parameter.empty, (path, name)
            assert _literal(text) == default, (path, name, text, default)
            checked += 1
    assert checked > 20


def test_docs_show_the_package_version():
    """The site's header (site_name) and the changelog's newest entry name
    the version the package reports."""
    import skmdn

    config = (ROOT / "mkdocs.yml").read_text()
    assert re.search(r"^site_name: skmdn (\S+)$", config, flags=re.MULTILINE).group(1) == skmdn.__version__
    changelog = (ROOT / "docs" / "changelog.md").read_text()
    assert re.search(r"^## (\S+)", changelog, flags=re.MULTILINE).group(1) == skmdn.__version__
