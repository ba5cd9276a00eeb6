"""Author Markdown to sanitized HTML, with code highlighted by Pygments.

Rendering happens once, at import; pages print the stored HTML. The sanitizer
runs after highlighting, so even a hostile pack cannot smuggle markup through
a code block or a raw HTML block (invariant 7).
"""

import html

import nh3
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

_FORMATTER = HtmlFormatter(nowrap=True)

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "div": {"class"},
    "span": {"class"},
    "pre": {"class"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}


def highlight_code(code: str, language: str = "python") -> str:
    """HTML for a block of code; unknown languages are escaped, not guessed."""
    try:
        body = highlight(code, get_lexer_by_name(language or "text"), _FORMATTER)
    except ClassNotFound:
        body = html.escape(code)
    # Starting with <pre> tells markdown-it not to wrap it a second time.
    return f'<pre class="highlight"><code>{body}</code></pre>\n'


_NUMBERED = HtmlFormatter(linenos="inline", wrapcode=True, cssclass="highlight numbered")


def highlight_numbered(code: str) -> str:
    """Python with a line number before each line (reviewers cite lines)."""
    return highlight(code, get_lexer_by_name("python"), _NUMBERED)


def _highlight_fence(code: str, lang: str, _attrs: str) -> str:
    return highlight_code(code, lang.strip() or "text")


_MD = MarkdownIt("commonmark", {"highlight": _highlight_fence, "html": True}).enable("table")


def render_markdown(text: str) -> str:
    """Sanitized HTML for author Markdown."""
    if not text.strip():
        return ""
    raw = _MD.render(text)
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def pygments_css() -> str:
    return _FORMATTER.get_style_defs(".highlight")
