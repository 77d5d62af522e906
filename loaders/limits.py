"""Every limit the importer applies to what people send, in one place.

A file over a limit is refused with a message that names the limit, before it can use up the
memory or the disk of the machine that every user of the dashboard shares. Uploads (the Import
page) get :data:`UPLOAD_LIMITS`; files imported from disk by the command line get
:data:`FILE_LIMITS`, which leaves the size and the rows of a national file free (it is streamed)
and keeps every other limit. A test or a caller may pass its own :class:`Limits`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Limits:
    upload_bytes: int | None = 200 * 1024 * 1024
    """Size of one file; ``None``: no limit (a file on disk is streamed)."""
    rows: int | None = 500_000
    """Data rows in one file; ``None``: no limit."""
    xlsx_uncompressed_bytes: int = 300 * 1024 * 1024
    """An Excel file is a zip: the sizes its members declare, added up, before it is opened.
    A 2 MB workbook of 200,000 rows is about 60 MB inside; a zip bomb is thousands of times
    its own size."""
    xlsx_ratio: int = 200
    """How many times its compressed size one member of an Excel file may declare (sheets of
    repeated text compress about 10-30 times; 200 leaves room and stops a bomb)."""
    xlsx_members: int = 10_000
    """Files inside one Excel zip."""
    file_name_chars: int = 200
    """Characters of an uploaded file's name (Thai names are 3 bytes a character: the raw copy
    is kept under a short safe name, and the original name is recorded)."""
    id_chars: int = 64
    """Characters of an identifier (household, official, visit, assistance ids)."""
    text_chars: int = 300
    """Characters of a short text cell: names, positions, house numbers, partners."""
    long_text_chars: int = 4_000
    """Characters of a free-text cell (needs, notes)."""
    header_chars: int = 200
    """Characters of one column header."""

    def with_rows(self, rows: int | None) -> Limits:
        return replace(self, rows=rows)


UPLOAD_LIMITS = Limits()
FILE_LIMITS = Limits(upload_bytes=None, rows=None)
