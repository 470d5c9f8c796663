""".ci/run runs the README's install, test and docs commands, and any failing
step fails the script.

The script is run from a copy of the repository layout with stand-ins for
``python`` and ``mkdocs`` first on PATH: they record each command line and
fail when told to, so nothing is installed and no tests or docs build run.
"""

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What CI must run, in order: pip upgraded, then the README's test commands
# (the main suite; the skpro adapter's in its own environment) and its docs
# command, each split at "&&" (see test_steps_are_the_readme_commands).
STEPS = [
    "python -m pip install --upgrade pip",
    "python -m pip install .[test]",
    "python -m pytest",
    "python -m venv .venv-skpro",
    ".venv-skpro/bin/python -m pip install .[skpro] pytest>=9.0",
    ".venv-skpro/bin/python -m pytest tests_skpro",
    "python -m pip install .[docs]",
    "NO_MKDOCS_2_WARNING=1 mkdocs build --strict",
]

# Each stand-in appends "<cwd>|<command line>" to $CI_LOG and exits 1 when its
# command line is $CI_FAIL.
_STUB = """#!/usr/bin/env bash
step="{prefix}{name} $*"
printf '%s|%s|%s\\n' "$PWD" "$step" "${{SKMDN_GALLERY_MAX_ITER:-unset}}" >> "$CI_LOG"
[ "$step" != "${{CI_FAIL:-}}" ]
"""


def _run_ci(tmp_path, fail=None):
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy2(ROOT / ".ci" / "run", repo / ".ci" / "run")  # keeps the mode bits
    stubs = tmp_path / "bin"
    stubs.mkdir()
    # The skpro environment's python, which `python -m venv` would create.
    (repo / ".venv-skpro" / "bin").mkdir(parents=True)
    for path, name, prefix in [
        (stubs / "python", "python", ""),
        (stubs / "mkdocs", "mkdocs", "NO_MKDOCS_2_WARNING=${NO_MKDOCS_2_WARNING:-unset} "),
        (repo / ".venv-skpro" / "bin" / "python", ".venv-skpro/bin/python", ""),
    ]:
        path.write_text(_STUB.format(name=name, prefix=prefix))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "log.txt"
    env = {
        k: v for k, v in os.environ.items()
        if k not in ("NO_MKDOCS_2_WARNING", "SKMDN_GALLERY_MAX_ITER")
    }
    env.update(PATH=f"{stubs}{os.pathsep}{env['PATH']}", CI_LOG=str(log))
    if fail is not None:
        env["CI_FAIL"] = fail
    # Started from elsewhere: the script must find the repository itself.
    result = subprocess.run(
        [str(repo / ".ci" / "run")], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60,
    )
    lines = [line.split("|") for line in log.read_text().splitlines()] if log.exists() else []
    directories = {line[0] for line in lines}
    result.gallery_max_iter = {line[1]: line[2] for line in lines}
    return result, [line[1] for line in lines], directories, repo


def test_script_is_executable():
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def test_all_steps_run_in_order_from_the_repository_root(tmp_path):
    result, steps, directories, repo = _run_ci(tmp_path)
    assert result.returncode == 0, result.stderr
    assert steps == STEPS
    assert directories == {str(repo)}
    # The docs build runs the gallery's examples on a 5-epoch budget.
    assert result.gallery_max_iter[STEPS[-1]] == "5"


@pytest.mark.parametrize("failing", range(len(STEPS)), ids=[s.split(" ", 3)[-1] for s in STEPS])
def test_any_failing_step_fails_the_script_and_stops_it(tmp_path, failing):
    result, steps, _, _ = _run_ci(tmp_path, fail=STEPS[failing])
    assert result.returncode != 0
    assert steps == STEPS[: failing + 1]


def test_steps_are_the_readme_commands():
    """The README's test and docs commands, split at "&&" and unquoted, are
    the CI steps after the pip upgrade."""
    readme = (ROOT / "README.md").read_text()
    commands = []
    for command in [
        'python -m pip install ".[test]" && python -m pytest',
        'python -m venv .venv-skpro && .venv-skpro/bin/python -m pip install ".[skpro]" '
        '"pytest>=9.0" && .venv-skpro/bin/python -m pytest tests_skpro',
        'python -m pip install ".[docs]" && NO_MKDOCS_2_WARNING=1 mkdocs build --strict',
    ]:
        assert re.search(rf"^{re.escape(command)}$", readme, flags=re.MULTILINE), command
        commands += [part.strip().replace('"', "") for part in command.split("&&")]
    assert commands == STEPS[1:]
