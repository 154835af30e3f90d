"""Readers for Markdown (markdown-it-py tokens) and HTML (BeautifulSoup, html.parser)."""

from __future__ import annotations

from collections.abc import Iterator

from bs4 import BeautifulSoup, UnicodeDammit
from bs4.element import NavigableString, PreformattedString, Tag
from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.knowledge.loaders._structure import Block, FormatError, normalize

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# Elements whose own text is one block; text inside a nested one belongs to the nested one.
_HTML_BLOCKS = frozenset({*_HEADINGS, "p", "li", "dt", "dd", "td", "th", "pre", "caption"})
_HTML_SKIPPED = ("script", "style", "template", "noscript", "head")


def markdown_blocks(text: str) -> Iterator[Block]:
    """The blocks of a Markdown document: ``#`` title, headings, paragraphs, list items.

    Args:
        text: the Markdown source.

    Yields:
        Blocks in document order; emphasis and link markup are dropped, their words kept.
    """
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    lists = 0
    marker = ""  # an ordered item's own number ("3."), which the parser takes off its text
    for previous, token in zip([None, *tokens], tokens, strict=False):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            lists += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists -= 1
        elif token.type == "list_item_open" and token.info:
            marker = f"{token.info}{token.markup} "
        elif token.type in ("fence", "code_block"):
            yield Block("paragraph", normalize(token.content))
        elif token.type == "inline" and previous is not None:
            words = normalize(_inline_text(token))
            if previous.type == "heading_open":
                level = int(previous.tag[1:])
                yield Block("title" if level == 1 else "heading", words, level)
            else:
                yield Block("item" if lists else "paragraph", normalize(marker + words))
                marker = ""


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline", "image"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def decode_html(data: bytes) -> str:
    """Decode HTML bytes, honouring a byte-order mark or a ``<meta charset>``.

    Raises:
        FormatError: when the bytes are not text in any encoding the page names.
    """
    dammit = UnicodeDammit(data, is_html=True)
    if dammit.unicode_markup is None or dammit.contains_replacement_characters:
        raise FormatError("the file is not readable text (unknown character encoding)")
    return dammit.unicode_markup


def html_blocks(text: str) -> Iterator[Block]:
    """The blocks of an HTML page: ``<h1>`` title, headings, paragraphs, list items.

    Args:
        text: the page source.

    Yields:
        Blocks in document order. A page without ``<h1>`` yields its ``<title>`` instead.
    """
    soup = BeautifulSoup(text, "html.parser")
    page_title = soup.title.get_text() if soup.title is not None else ""
    for tag in soup.find_all(_HTML_SKIPPED):
        tag.decompose()
    has_h1 = soup.find("h1") is not None
    if not has_h1 and normalize(page_title):
        yield Block("title", normalize(page_title), 1)
    for element in soup.find_all(_HTML_BLOCKS):
        words = normalize(_own_text(element))
        if element.name in _HEADINGS:
            level = int(element.name[1:])
            yield Block("title" if level == 1 else "heading", words, level)
        elif element.name == "li" or _enclosing_block(element) == "li":
            yield Block("item", words)
        else:
            yield Block("paragraph", words)


def _own_text(element: Tag) -> str:
    """The element's text without the text of block elements nested in it."""
    parts: list[str] = []
    for node in element.descendants:
        if isinstance(node, Tag) and node.name == "br":
            parts.append(" ")
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            if _nearest_block(node) is element:
                parts.append(str(node))
    return "".join(parts)


def _nearest_block(node: Tag | NavigableString) -> Tag | None:
    parent = node.parent
    while parent is not None and parent.name not in _HTML_BLOCKS:
        parent = parent.parent
    return parent


def _enclosing_block(node: Tag | NavigableString) -> str | None:
    block = _nearest_block(node)
    return block.name if block is not None else None
