"""MkDocs hook: the examples run when the docs build.

Every ``examples/plot_*.py`` and ``examples/quickstart.py`` runs in a fresh
process; the figures it writes become the site's ``images/`` and what it
prints replaces the page's ``<!-- example-output: NAME.py -->`` marker, so
the gallery shows the code, the output and the figures of one run of the
current code. An example that fails fails the build.

``SKMDN_GALLERY_MAX_ITER=N`` passes ``--max-iter N`` (a quick build; CI uses
it). Results are cached under ``.cache/docs-gallery/``, keyed on the
script, skmdn's source and that setting, so a rebuild reruns only what
changed.
"""

import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CACHE = ROOT / ".cache" / "docs-gallery"
TIMEOUT_S = 1800

_MARKER = re.compile(r"^([ \t]*)<!-- example-output: (\S+) -->$", re.MULTILINE)
_runs = {}  # script name -> folder holding its figures and output.txt


def _scripts():
    return sorted(EXAMPLES.glob("plot_*.py")) + [EXAMPLES / "quickstart.py"]


def _source_digest():
    """One digest of skmdn's source: a change to it reruns every example."""
    digest = hashlib.sha256()
    for source in sorted((ROOT / "skmdn").rglob("*.py")):
        digest.update(source.relative_to(ROOT).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _key(script, source_digest, max_iter):
    digest = hashlib.sha256(script.read_bytes())
    digest.update(source_digest.encode())
    digest.update(repr(max_iter).encode())
    return digest.hexdigest()[:16]


def _run(script, max_iter, folder):
    with tempfile.TemporaryDirectory() as work:
        work = pathlib.Path(work)
        # quickstart.py takes one output file, the plot_ scripts a folder.
        if script.name == "quickstart.py":
            arguments = ["--output", str(work / "spiral.png")]
        else:
            arguments = ["--output-dir", str(work)]
        if max_iter is not None:
            arguments += ["--max-iter", str(max_iter)]
        result = subprocess.run(
            [sys.executable, str(script), *arguments],
            capture_output=True, text=True, timeout=TIMEOUT_S, cwd=work,
        )
        if result.returncode != 0:
            raise PluginError(
                f"examples/{script.name} failed (exit {result.returncode}):\n"
                + result.stderr[-3000:]
            )
        printed = [line for line in result.stdout.splitlines() if not line.startswith("wrote ")]
        (work / "output.txt").write_text("\n".join(printed).strip() + "\n")
        staging = folder.with_name(folder.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(work, staging)
        staging.rename(folder)


def on_pre_build(config):
    setting = os.environ.get("SKMDN_GALLERY_MAX_ITER")
    max_iter = int(setting) if setting else None
    _runs.clear()
    source_digest = _source_digest()
    for script in _scripts():
        folder = CACHE / script.stem / _key(script, source_digest, max_iter)
        if not folder.exists():
            print(f"INFO    -  Running examples/{script.name}", flush=True)
            _run(script, max_iter, folder)
        _runs[script.name] = folder


def on_files(files, config):
    for folder in _runs.values():
        for figure in sorted(folder.glob("*.png")):
            uri = f"images/{figure.name}"
            existing = files.get_file_from_path(uri)
            if existing is not None:
                raise PluginError(f"docs/{uri} would hide the figure that the examples write")
            files.append(File.generated(config, uri, abs_src_path=str(figure)))
    return files


def on_page_markdown(markdown, page, config, files):
    def output(match):
        indent, name = match.group(1), match.group(2)
        if name not in _runs:
            raise PluginError(f"{page.file.src_uri}: no example {name} in examples/")
        printed = (_runs[name] / "output.txt").read_text().splitlines()
        # Indented like the marker, so that it may sit inside a details block.
        return "\n".join(indent + line for line in ["```text", *printed, "```"])

    return _MARKER.sub(output, markdown)
