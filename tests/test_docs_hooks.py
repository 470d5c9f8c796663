"""The documentation build's hooks (docs_hooks/): formulas become MathML,
the examples' output and figures reach the gallery, and mistakes fail the
build instead of shipping."""

import importlib.util
import pathlib
import re
import types

import markdown
import pytest
from mkdocs.exceptions import PluginError

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _hook(name):
    spec = importlib.util.spec_from_file_location(f"docs_hook_{name}", ROOT / "docs_hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page(name):
    return types.SimpleNamespace(file=types.SimpleNamespace(src_uri=name))


def _render(text):
    """A page's Markdown as the docs build converts it, before the hooks."""
    return markdown.markdown(
        text, extensions=["pymdownx.superfences", "pymdownx.arithmatex"],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )


def test_formulas_become_mathml_and_code_keeps_its_dollars():
    math = _hook("math")
    html = math.on_page_content(
        _render(
            "Weights $\\pi_k(x)$ sum to one:\n\n$$\n\\sum_{k=1}^{K} \\pi_k(x) = 1\n$$\n\n"
            "```bash\necho $HOME $PATH\n```\n"
        ),
        _page("page.md"), None, None,
    )
    assert html.count("<math") == 2
    assert 'display="block"' in html and 'display="inline"' in html
    assert "arithmatex" not in html and "\\pi" not in html
    # Dollars in code are shell variables, not formulas.
    assert "$HOME" in html and "$PATH" in html
    # The Greek letter and the sum's limits are there as MathML.
    assert "&#x003C0;" in html or "π" in html
    assert re.search(r"<munderover>\s*<mo>(&#x02211;|∑)</mo>", html)


@pytest.mark.parametrize(
    "tex, why", [("\\left( x", "ExtraLeftOrMissingRight"), ("\\sigmma_k", "unknown command")]
)
def test_a_formula_that_does_not_convert_fails_the_build(tex, why):
    math = _hook("math")
    with pytest.raises(PluginError, match=f"guide.md.*{why}"):
        math.on_page_content(_render(f"Broken ${tex}$ here."), _page("guide.md"), None, None)


@pytest.mark.parametrize("page", sorted(path.name for path in (ROOT / "docs").glob("*.md")))
def test_every_formula_in_the_docs_converts(page):
    math = _hook("math")
    html = math.on_page_content(
        _render((ROOT / "docs" / page).read_text()), _page(page), None, None
    )
    assert "arithmatex" not in html


def test_the_landing_page_and_guide_carry_their_formulas():
    math = _hook("math")
    for page, least in (("index.md", 2), ("guide.md", 5)):
        html = math.on_page_content(
            _render((ROOT / "docs" / page).read_text()), _page(page), None, None
        )
        assert html.count("<math") >= least, page


def test_the_gallery_shows_every_example_with_its_output():
    gallery = (ROOT / "docs" / "gallery.md").read_text()
    scripts = {path.name for path in (ROOT / "examples").glob("plot_*.py")}
    shown = set(re.findall(r'--8<-- "examples/(\S+)"', gallery))
    printed = set(re.findall(r"<!-- example-output: (\S+) -->", gallery))
    assert shown == printed == scripts


def test_example_output_replaces_its_marker_at_the_markers_indent(tmp_path, monkeypatch):
    gallery = _hook("gallery")
    (tmp_path / "output.txt").write_text("score 0.32\nmodes 3\n")
    monkeypatch.setattr(gallery, "_runs", {"plot_x.py": tmp_path})
    text = "Before\n\n    <!-- example-output: plot_x.py -->\n\nAfter\n"
    assert gallery.on_page_markdown(text, _page("gallery.md"), None, None) == (
        "Before\n\n    ```text\n    score 0.32\n    modes 3\n    ```\n\nAfter\n"
    )
    with pytest.raises(PluginError, match="plot_y.py"):
        gallery.on_page_markdown(
            "<!-- example-output: plot_y.py -->\n", _page("gallery.md"), None, None
        )


def test_a_failing_example_fails_the_build(tmp_path, monkeypatch):
    gallery = _hook("gallery")
    script = tmp_path / "plot_broken.py"
    script.write_text("import sys\nprint('partial')\nsys.exit('the example broke')\n")
    with pytest.raises(PluginError, match="the example broke"):
        gallery._run(script, None, tmp_path / "result")
    assert not (tmp_path / "result").exists()


def test_no_committed_figure_shadows_what_the_examples_draw():
    written = set()
    for script in (ROOT / "examples").glob("*.py"):
        written |= set(re.findall(r'"(\w+\.png)"', script.read_text()))
    committed = {path.name for path in (ROOT / "docs").rglob("*.png")}
    assert written, "no figure names found in the examples"
    assert not written & committed


def test_the_site_needs_no_network():
    """No web fonts, and the search's worker shim is the site's own copy:
    Material's offline plugin fetches it from unpkg.com unless a polyfill
    named iframe-worker is configured, and without it search is hidden when
    the site is opened from disk."""
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["theme"]["font"] is False
    assert "offline" in config["plugins"]
    polyfills = config["extra"]["polyfills"]
    assert any("iframe-worker" in path for path in polyfills)
    for path in polyfills:
        assert "://" not in path and (ROOT / "docs" / path).is_file(), path
