"""Match a file's headers to a dataset's columns, tolerantly, and say how sure each match is.

District offices export from many systems, so one column arrives as "เลขประจำตัวประชาชน",
"เลขประจำตัวประชาชน (13 หลัก)" or "ชื่อ-นามสกุล หัวหน้าครัวเรือน". Each header is folded
(:func:`header_key`: case, spaces, punctuation, Thai and other digits, the words of
:data:`loaders.contracts.HEADER_SYNONYMS`), and compared with every alias of the contract
(:mod:`loaders.contracts`, where the aliases are declared once) in three forms: as written,
without its bracketed units and without the words of
:data:`loaders.contracts.HEADER_FILLERS`. Each candidate gets a score:

- 1.0 the folded header is an alias;
- 0.95 it is one once its units or filler words are left out;
- 0.55-0.95 an alias is part of it, or it is part of an alias (more of it covered, more sure);
- up to 0.85 it is spelled like an alias (a typo, a letter missing).

A match of :data:`SURE` or more, clear of the next column by :data:`MARGIN`, is applied. A
weaker one (:data:`SUGGEST` or more) is only suggested: the officer confirms it on the Import
page, or in a saved mapping; it is never applied silently.

A mapping chosen by the officer (or saved under a name, :mod:`loaders.mappings`) decides the
headers it names, and the rest are matched as above.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from loaders.contracts import HEADER_FILLERS, HEADER_SYNONYMS, Dataset
from loaders.normalise import fold_text

SURE = 0.9
MARGIN = 0.1
SUGGEST = 0.6
IGNORE = ""
"""The column a chosen mapping gives a header it leaves out of the import."""

_UNITS = re.compile(r"[(\[（{][^)\]）}]*[)\]）}]|\d+\s*หลัก")
_NOISE = re.compile(r"[\s._\-–—()/\\:;,*#'\"\[\]{}（）|+]")


def header_key(text: str) -> str:
    """Fold a header for matching: NFC, digits of every script as ASCII, case, spaces and
    punctuation, leading zeros of numbers, and the synonyms of the contract."""
    key = fold_text(str(text)).lower()
    for word, same in HEADER_SYNONYMS.items():
        key = key.replace(word, same)
    key = _NOISE.sub("", key)
    return re.sub(r"(?<=\D)0+(?=\d)", "", key)


def _forms(header: str) -> tuple[str, str, str]:
    """The header folded as written, without its units, and without filler words too."""
    exact = header_key(header)
    plain = header_key(_UNITS.sub(" ", fold_text(str(header))))
    bare = plain
    for word in HEADER_FILLERS:
        folded = header_key(word)
        if bare != folded and folded in bare:
            bare = bare.replace(folded, "")
    return exact, plain, bare


def _score(forms: tuple[str, str, str], alias: str) -> float:
    exact, plain, bare = forms
    if not alias:
        return 0.0
    if alias == exact:
        return 1.0
    if alias in (plain, bare):
        return 0.95
    best = 0.0
    for key in {plain, bare}:
        if not key:
            continue
        if len(alias) >= 4 and alias in key:
            best = max(best, 0.55 + 0.4 * len(alias) / len(key))
        elif len(key) >= 4 and key in alias:
            best = max(best, 0.55 + 0.4 * len(key) / len(alias))
        elif min(len(key), len(alias)) >= 4 and min(len(key), len(alias)) >= 0.6 * max(
                len(key), len(alias)):  # else the ratio cannot reach 0.75
            matcher = SequenceMatcher(None, key, alias, autojunk=False)
            if matcher.quick_ratio() >= 0.75 and (ratio := matcher.ratio()) >= 0.75:
                best = max(best, 0.85 * ratio)
    return best


@dataclass(frozen=True)
class Candidate:
    column: str
    score: float


def candidates(header: str, dataset: Dataset) -> tuple[Candidate, ...]:
    """Every column the header could be, best first (one score per column: its best alias)."""
    return _candidates(header, tuple((col.name, col.aliases) for col in dataset.columns))


@functools.lru_cache(maxsize=4096)
def _candidates(header: str, columns: tuple[tuple[str, tuple[str, ...]], ...]
                ) -> tuple[Candidate, ...]:
    """Kept per header and set of columns: offices send the same headers file after file,
    and scoring one header against every alias of a file's columns takes ~20 ms."""
    forms = _forms(header)
    found: list[Candidate] = []
    for name, aliases in columns:
        score = max(_score(forms, key) for key in _alias_keys(name, aliases))
        if score >= SUGGEST:
            found.append(Candidate(name, round(score, 2)))
    return tuple(sorted(found, key=lambda c: -c.score))


@functools.lru_cache(maxsize=1024)
def _alias_keys(name: str, aliases: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(header_key(alias) for alias in (name, *aliases))


@dataclass
class HeaderMapping:
    mapping: dict[str, str]
    """File header -> column, applied (sure matches and the chosen mapping)."""
    unknown: list[str]
    """File headers not imported (kept in the raw file)."""
    missing_required: list[str]
    duplicated: list[str]
    """Columns two file headers are both sure of, or both chosen for."""
    suggestions: dict[str, Candidate] = field(default_factory=dict)
    """File header -> the column it may be: not applied until someone confirms it."""
    ignored: list[str] = field(default_factory=list)
    """File headers a chosen mapping leaves out."""
    chosen: dict[str, str] = field(default_factory=dict)
    """The mapping chosen for this file (header -> column or :data:`IGNORE`), if any."""
    saved_name: str | None = None
    """The saved mapping applied, by its name."""
    scores: dict[str, float] = field(default_factory=dict)
    """File header -> the score of its applied match (1.0 for a chosen one)."""
    file_headers: list[str] = field(default_factory=list)
    """Every header of the file, in its order."""

    def column_of(self, header: str) -> str:
        """The column a header goes to, or :data:`IGNORE`."""
        return self.mapping.get(header, IGNORE)


def _stands_in(dataset: Dataset, present: set[str]) -> set[str]:
    """Required columns another present column stands in for (a household by its house
    code)."""
    return {col.stands_for for col in dataset.columns
            if col.stands_for is not None and col.name in present}


def map_headers(headers: list[str], dataset: Dataset,
                chosen: Mapping[str, str] | None = None,
                saved_name: str | None = None) -> HeaderMapping:
    """Map the file's headers: the chosen ones as chosen (an unknown column is ignored), the
    others by their best candidate when it is sure, else as a suggestion."""
    by_key = {header_key(h): c for h, c in (chosen or {}).items()}
    # a saved mapping names the headers as they were spelt in the file it was made for
    chosen = {h: by_key[header_key(h)] for h in headers if header_key(h) in by_key}
    names = {c.name for c in dataset.columns}
    mapping: dict[str, str] = {}
    scores: dict[str, float] = {}
    duplicated: list[str] = []
    ignored = [h for h, c in chosen.items() if c == IGNORE or c not in names]
    for header in headers:
        column = chosen.get(header)
        if column is None or header in ignored:
            continue
        if column in mapping.values():
            duplicated.append(column)
        else:
            mapping[header], scores[header] = column, 1.0
    taken = set(mapping.values())
    best: dict[str, tuple[Candidate, ...]] = {h: candidates(h, dataset) for h in headers
                                              if h not in chosen}
    suggestions: dict[str, Candidate] = {}
    sure: list[tuple[str, Candidate]] = []
    for header, found in best.items():
        found = [c for c in found if c.column not in taken]
        if not found:
            continue
        first = found[0]
        runner_up = next((c.score for c in found[1:]), 0.0)
        clear = (first.score - runner_up >= MARGIN - 1e-9
                 or (first.score == 1.0 and runner_up < 0.95))  # an alias as it is written
        if first.score >= SURE and clear:
            sure.append((header, first))
        else:
            suggestions[header] = first
    # the surest header gets the column; two equally sure of one column are both refused
    sure.sort(key=lambda item: -item[1].score)
    held: dict[str, float] = {}
    for header, found in sure:
        if found.column in held:
            if held[found.column] == found.score and found.score == 1.0:
                duplicated.append(found.column)
            else:
                suggestions[header] = found
            continue
        held[found.column] = found.score
        mapping[header], scores[header] = found.column, found.score
    mapping = {h: mapping[h] for h in headers if h in mapping}  # the file's order
    present = set(mapping.values())
    stands_in = _stands_in(dataset, present)
    missing = [c.name for c in dataset.columns
               if c.required and c.name not in present and c.name not in stands_in]
    unknown = [h for h in headers if h not in mapping and h not in ignored]
    return HeaderMapping(mapping, unknown, missing, list(dict.fromkeys(duplicated)),
                         {h: suggestions[h] for h in headers if h in suggestions}, ignored,
                         dict(chosen), saved_name, scores, list(headers))


_ALIAS_FORMS: dict[str, dict[str, str]] = {}


def _alias_forms(dataset: Dataset) -> dict[str, str]:
    """Folded alias -> column, for :func:`known_count` (made once per dataset)."""
    if dataset.name not in _ALIAS_FORMS:
        index: dict[str, str] = {}
        for col in dataset.columns:
            for alias in (col.name, *col.aliases):
                index.setdefault(header_key(alias), col.name)
        _ALIAS_FORMS[dataset.name] = index
    return _ALIAS_FORMS[dataset.name]


def known_count(cells: list[str], dataset: Dataset) -> int:
    """How many of a row's cells are surely headers of ``dataset`` (an alias as written, or
    once units or filler words are left out): quick enough to ask of every row near the top
    of a file, to find its header row under title rows."""
    index = _alias_forms(dataset)
    columns = {next((index[f] for f in _forms(cell) if f in index), None) for cell in cells
               if cell}
    return len(columns - {None})


def headers_signature(headers: list[str]) -> str:
    """The same set of headers (folded, in any order) gives the same signature: the key under
    which a saved mapping is found again."""
    keys = sorted({header_key(h) for h in headers if header_key(h)})
    return hashlib.sha256("\x1f".join(keys).encode()).hexdigest()[:20]
