"""Header mappings an officer saves under a name and finds again.

A district office sends the same export every month, with the same headers. The officer
says once which column each header is (or that it is left out), saves that under a name
("อ.ชุมแพ export from จปฐ."), and the next file with the same set of headers
(:func:`loaders.headers.headers_signature`) is read the same way without being asked. A
mapping can also be written as a TOML file and given to the command line
(``--mapping FILE.toml``)::

    name = "อ.ชุมแพ export from จปฐ."
    dataset = "households"

    [columns]
    "รหัสบ้าน" = "house_code"
    "ชื่อ-สกุล หัวหน้า" = "head_name"
    "ลำดับ" = ""          # left out of the import

Mappings live in the store (``header_mapping``), like the users: an import and its undo
leave them alone, and every save or removal is in the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.access import UserError
from loaders.contracts import DATASETS
from loaders.headers import IGNORE, headers_signature
from loaders.store import MAPPING_COLUMNS, Store
from loaders.users import append_audit

NAME_CHARS = 80


@dataclass(frozen=True)
class SavedMapping:
    name: str
    dataset: str
    columns: dict[str, str]
    """File header -> column, or :data:`loaders.headers.IGNORE` for a header left out."""
    saved_at: dt.datetime | None = None
    saved_by: str = ""

    @property
    def signature(self) -> str:
        return headers_signature(list(self.columns))


class MappingError(UserError):
    """A mapping that cannot be saved or used; ``key`` names the message (``mappings.*``)."""


def checked_mapping(name: str, dataset: str, columns: dict[str, str]) -> SavedMapping:
    """The mapping, or :class:`MappingError` saying what is wrong with it: no name, a name too
    long, an unknown dataset or column, two headers given one column, no header at all."""
    name = " ".join(str(name or "").split())
    if not name:
        raise MappingError("mappings.no_name")
    if len(name) > NAME_CHARS:
        raise MappingError("mappings.name_too_long", max=NAME_CHARS)
    if dataset not in DATASETS:
        raise MappingError("mappings.unknown_dataset", dataset=dataset,
                           datasets=", ".join(DATASETS))
    if not columns:
        raise MappingError("mappings.empty")
    known = {c.name for c in DATASETS[dataset].columns}
    for header, column in columns.items():
        if column != IGNORE and column not in known:
            raise MappingError("mappings.unknown_column", header=header, column=column,
                               dataset=dataset)
    twice = [c for c, n in Counter(c for c in columns.values() if c != IGNORE).items() if n > 1]
    if twice:
        raise MappingError("mappings.column_twice", column=twice[0])
    return SavedMapping(name, dataset, dict(columns))


def read_mapping_file(path: Path) -> SavedMapping:
    """A mapping from a TOML file (see the module's text)."""
    try:
        data: dict[str, Any] = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError("mappings.bad_file", file=str(path),
                           detail=" ".join(str(exc).split())[:200]) from exc
    columns = data.get("columns")
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise MappingError("mappings.bad_file", file=str(path),
                           detail="[columns]: header = \"column\"")
    return checked_mapping(str(data.get("name") or Path(path).stem),
                           str(data.get("dataset") or ""), columns)


def _row(values: tuple[Any, ...]) -> SavedMapping:
    row = dict(zip(MAPPING_COLUMNS, values, strict=True))
    return SavedMapping(row["name"], row["dataset"], json.loads(row["columns"]),
                        row["saved_at"], row["saved_by"] or "")


_COLUMNS = ", ".join(f'"{c}"' for c in MAPPING_COLUMNS)
_LIST = f"SELECT {_COLUMNS} FROM header_mapping ORDER BY name"


def list_mappings(store: Store) -> list[SavedMapping]:
    """Every saved mapping, by name."""
    return [_row(r) for r in store.execute(_LIST)]


def read_mappings(con: Any) -> list[SavedMapping]:
    """:func:`list_mappings` on a DB-API connection of the store (a reader)."""
    return [_row(r) for r in con.execute(_LIST).fetchall()]


def find_mapping(store: Store, name: str) -> SavedMapping | None:
    name = " ".join(str(name).split())
    return next((m for m in list_mappings(store) if m.name == name), None)


def for_headers(mappings: list[SavedMapping], dataset: str,
                headers: list[str]) -> SavedMapping | None:
    """The saved mapping for this dataset and this set of headers, if there is one (the
    newest, if several)."""
    signature = headers_signature(headers)
    found = [m for m in mappings if m.dataset == dataset and m.signature == signature]
    return max(found, key=lambda m: m.saved_at or dt.datetime.min) if found else None


def save_mapping(store: Store, mapping: SavedMapping, by: str, client: str = "") -> None:
    """Save (or replace) the mapping of that name; on record."""
    mapping = checked_mapping(mapping.name, mapping.dataset, mapping.columns)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with store.transaction():
        store.execute("DELETE FROM header_mapping WHERE name = ?", [mapping.name])
        store.append_rows("header_mapping", MAPPING_COLUMNS, [{
            "name": mapping.name, "dataset": mapping.dataset, "signature": mapping.signature,
            "columns": json.dumps(mapping.columns, ensure_ascii=False),
            "saved_at": now, "saved_by": by or ""}])
        used = sum(1 for c in mapping.columns.values() if c != IGNORE)
        append_audit(store, by, "mapping_save",
                     f"{mapping.name} ({mapping.dataset}, {used}/{len(mapping.columns)} "
                     "headers)", client)


def remove_mapping(store: Store, name: str, by: str, client: str = "") -> None:
    with store.transaction():
        found = find_mapping(store, name)
        if found is None:
            raise MappingError("mappings.unknown", name=name)
        store.execute("DELETE FROM header_mapping WHERE name = ?", [found.name])
        append_audit(store, by, "mapping_remove", f"{found.name} ({found.dataset})", client)
