"""Thai text: breaking labels into lines between words, and names in dictionary order.

Thai is written without spaces between words, so a break at a character count can fall inside
a word ("ครัว|เรือน"); the word segmenter of ``pythainlp`` (its bundled dictionary, offline)
finds where words end. Sorted by code point, every name that begins with a leading vowel
("เมือง", "แวง", "ไผ่") would come after every other; :func:`sort_key` orders them as a Thai
dictionary does. It is applied in Python, after the engine: no query orders by Thai text, so
DuckDB and PostgreSQL (whose collations differ) never decide an order a reader sees."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pythainlp.util import Trie

_THAI = re.compile(r"[\u0E00-\u0E7F]")
_OPENING = {"(", "“", "[", "\""}
_LEADING_VOWEL = re.compile(r"([\u0E40-\u0E44])([\u0E01-\u0E2E])")  # เ แ โ ใ ไ, a consonant
_MARKS = re.compile(r"[\u0E47-\u0E4E]")  # the tone marks, ็ ์ ํ ๎


def sort_key(name: str) -> tuple[str, str]:
    """The key of Thai dictionary order: a leading vowel is read after the consonant it
    precedes, and tone marks count only between names otherwise equal ("ไผ่" after "ไผ").
    Latin text keeps its own order."""
    read = _LEADING_VOWEL.sub(r"\2\1", name)
    return _MARKS.sub("", read), read


@functools.cache
def _dictionary() -> tuple[frozenset[str], int]:
    """The segmenter's bundled word list (62,106 words), and its longest word's length."""
    from pythainlp.corpus import thai_words

    known = thai_words()
    return known, max(map(len, known))


def _text_dictionary(text: str) -> Trie:
    """The words of the dictionary that occur in ``text``, as the segmenter's trie. The
    segmenter only ever looks up words that begin at a place in the text, so it cuts the
    text the same with these as with the whole dictionary, whose trie takes half a second
    to build (on the first Thai label a server draws); this one takes microseconds."""
    from pythainlp.util import Trie

    known, longest = _dictionary()
    return Trie({text[i:j] for i in range(len(text))
                 for j in range(i + 1, min(len(text), i + longest) + 1) if text[i:j] in known})


@functools.lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """``text`` cut into pieces that may not be broken: Thai words from the segmenter, other
    text at its spaces (the spaces stay with the word before them)."""
    if not _THAI.search(text):
        return tuple(re.findall(r"\S+\s*", text)) or (text,)
    from pythainlp.tokenize import word_tokenize  # loading takes about 0.1 s: only when needed

    pieces: list[str] = []
    for token in word_tokenize(text, custom_dict=_text_dictionary(text), engine="newmm",
                               keep_whitespace=True):
        if pieces and pieces[-1] in _OPENING:  # "(" and "“" go with the word after them
            pieces[-1] += token
        else:
            pieces.append(token)
    return tuple(pieces)


def wrap_words(text: str, width: int) -> list[str]:
    """Lines of at most about ``width`` characters, broken only between words (a word longer
    than ``width`` gets a line of its own)."""
    lines: list[str] = []
    line = ""
    for word in words(text):
        if line and len((line + word).rstrip()) > width:
            lines.append(line.rstrip())
            line = word.lstrip()
        else:
            line += word
    if line.strip():
        lines.append(line.rstrip())
    return lines or [text]


def wrap_label(text: str, width: int, joiner: str = "<br>") -> str:
    """:func:`wrap_words` joined for a chart label (plotly breaks lines at ``<br>``)."""
    return joiner.join(wrap_words(text, width))
