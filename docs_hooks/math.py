"""MkDocs hook: TeX written between dollars in the docs becomes MathML.

``pymdownx.arithmatex`` (generic mode) finds ``$...$`` and ``$$...$$``
outside code and wraps them; this hook converts each to MathML at build
time with latex2mathml, so formulas render in any current browser with no
JavaScript or web fonts and the site stays usable from disk. A formula that
does not convert fails the build, naming the page.
"""

import html
import re

from latex2mathml.converter import convert
from mkdocs.exceptions import PluginError

# What arithmatex's generic mode writes (the TeX is HTML-escaped inside).
_INLINE = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.DOTALL)
_BLOCK = re.compile(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', re.DOTALL)


# latex2mathml writes a command it does not know as its name (``\\foo``)
# instead of failing: a typo would show as text.
_UNKNOWN_COMMAND = re.compile(r">(\\[A-Za-z]+)<")


def _to_mathml(tex, display, page):
    tex = html.unescape(tex).strip()
    try:
        mathml = convert(tex, display=display)
    except Exception as error:  # latex2mathml raises several kinds
        raise PluginError(
            f"{page.file.src_uri}: cannot render ${tex}$: {type(error).__name__} {error}"
        ) from error
    unknown = _UNKNOWN_COMMAND.search(mathml)
    if unknown:
        raise PluginError(f"{page.file.src_uri}: unknown command {unknown.group(1)} in ${tex}$")
    return mathml


def on_page_content(html_text, page, config, files):
    html_text = _BLOCK.sub(
        lambda match: '<div class="math">'
        + _to_mathml(match.group(1), "block", page)
        + "</div>",
        html_text,
    )
    return _INLINE.sub(lambda match: _to_mathml(match.group(1), "inline", page), html_text)
