"""Masking and the role rules: what reaches a page for each viewer."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.store.privacy import (
    PII_MASKERS,
    NotAllowedError,
    Viewer,
    configured_role,
    mask_citizen_id,
    mask_house_code,
    mask_name,
    mask_phone,
    protect,
)
from loaders.contracts import DATASETS


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("นายสมชาย ทองดี", "สมชาย ท."),
        ("นางสาวมาลี ใจงาม", "มาลี จ."),  # leading vowel: the initial is the consonant
        ("นาง สมศรี เกิดผล", "สมศรี ก."),
        ("สมหญิง แก้วใส", "สมหญิง ก."),
        ("John Smith", "John S."),
        ("ทองใบ", "ท…"),
        (None, None),
    ],
)
def test_mask_name(raw: str | None, masked: str | None) -> None:
    assert mask_name(raw) == masked


def test_mask_identifiers() -> None:
    assert mask_citizen_id("1101700230716") == "1-xxxx-xxxxx-xx-6"
    assert mask_citizen_id("1-1017-00230-71-6") == "1-xxxx-xxxxx-xx-6"
    assert mask_phone("0812345678") == "08x-xxx-xx78"
    assert mask_house_code("40010123456") == "4001-xxxxxx-x"
    assert mask_citizen_id("12") == "xxxxx"


def test_every_personal_column_has_a_masker() -> None:
    pii = {c.name for d in DATASETS.values() for c in d.columns if c.pii}
    assert pii == set(PII_MASKERS)
    assert {"head_name", "head_citizen_id", "phone", "house_code", "lat", "lon", "name",
            "house_no", "note"} <= pii
    assert PII_MASKERS["note"]("พบนายสมชายที่บ้าน") == "•••"
    assert PII_MASKERS["house_no"]("45/2") == "•••"


ROWS = pd.DataFrame({
    "household_id": ["H1"], "head_name": ["นายสมชาย ทองดี"],
    "head_citizen_id": ["1101700230716"], "phone": ["0812345678"],
    "house_code": ["40010123456"], "lat": [16.432187], "lon": [102.823456], "members": [4],
})


def test_analyst_sees_rows_with_personal_data_masked() -> None:
    out = protect(ROWS, Viewer("analyst"))
    assert out.loc[0, "head_name"] == "สมชาย ท."
    assert out.loc[0, "head_citizen_id"] == "1-xxxx-xxxxx-xx-6"
    assert (out.loc[0, "lat"], out.loc[0, "lon"]) == (16.43, 102.82)
    assert out.loc[0, "members"] == 4
    assert ROWS.loc[0, "head_name"] == "นายสมชาย ทองดี"  # input untouched
    text = out.to_csv()
    for secret in ("ทองดี", "1101700230716", "0812345678", "40010123456", "16.432187"):
        assert secret not in text


def test_officer_sees_everything_but_not_in_presenter_mode() -> None:
    seen = protect(ROWS, Viewer("officer"))
    # everything, the citizen ID written as on the card (1-2345-67890-12-3)
    pd.testing.assert_frame_equal(seen.drop(columns="head_citizen_id"),
                                  ROWS.drop(columns="head_citizen_id"))
    digits = ROWS.loc[0, "head_citizen_id"]
    assert seen.loc[0, "head_citizen_id"] == (
        f"{digits[0]}-{digits[1:5]}-{digits[5:10]}-{digits[10:12]}-{digits[12]}")
    assert protect(ROWS, Viewer("officer", presenter=True)).loc[0, "head_name"] == "สมชาย ท."


def test_viewer_sees_no_rows_even_in_presenter_mode() -> None:
    for viewer in (Viewer("viewer"), Viewer("viewer", presenter=True)):
        with pytest.raises(NotAllowedError):
            protect(ROWS, viewer)


def test_configured_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUSIAO_ROLE", raising=False)
    assert configured_role() == "analyst"
    monkeypatch.setenv("KUSIAO_ROLE", "Officer")
    assert configured_role() == "officer"
    monkeypatch.setenv("KUSIAO_ROLE", "superuser")  # unknown: the safest role, not the default
    assert configured_role() == "viewer"
