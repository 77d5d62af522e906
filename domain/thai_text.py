"""Breaking labels into lines between words. Thai is written without spaces between words,
so a break at a character count can fall inside a word ("ครัว|เรือน"); the word segmenter of
``pythainlp`` (its bundled dictionary, offline) finds where words end."""

from __future__ import annotations

import functools
import re

_THAI = re.compile(r"[\u0E00-\u0E7F]")
_OPENING = {"(", "“", "[", "\""}


@functools.lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """``text`` cut into pieces that may not be broken: Thai words from the segmenter, other
    text at its spaces (the spaces stay with the word before them)."""
    if not _THAI.search(text):
        return tuple(re.findall(r"\S+\s*", text)) or (text,)
    from pythainlp.tokenize import word_tokenize  # loading takes about 0.7 s: only when needed

    pieces: list[str] = []
    for token in word_tokenize(text, engine="newmm", keep_whitespace=True):
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
