"""Translations: every user-facing string goes through :func:`t`.

Catalogues are TOML files in ``domain/locales/<lang>/`` (Thai is the default language,
English the switch), one file per part of the product (``core.toml``, ``coverage.toml``, ...),
merged; a key defined in two files is an error. Keys are dotted (``kpi.households``); values
are ``str.format`` templates. A missing key in the chosen language falls back to Thai, then to
the key itself, so a gap shows up on screen instead of crashing a page; a test keeps both
catalogues complete.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("th", "en")
DEFAULT_LANGUAGE = "th"


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = str(value)
    return out


@lru_cache(maxsize=len(LANGUAGES))
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.toml")):
        entries = _flatten(tomllib.loads(path.read_text(encoding="utf-8")))
        clash = set(entries) & set(merged)
        if clash:
            raise ValueError(f"{path.name} defines keys defined elsewhere: {sorted(clash)}")
        merged.update(entries)
    return merged


def t(key: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    template = catalogue(lang).get(key) or catalogue(DEFAULT_LANGUAGE).get(key) or key
    if not params:
        return template
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def format_number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def format_percent(share: float | None, digits: int = 1) -> str:
    if share is None:
        return "–"
    return f"{share * 100:.{digits}f}%"
