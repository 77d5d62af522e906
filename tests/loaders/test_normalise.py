"""Every normalisation the importer applies, and every reason it gives for refusing a cell."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from loaders.contracts import KIND_OF_VISIT
from loaders.normalise import (
    CellError,
    citizen_id_check_digit,
    clean_text,
    parse_agency,
    parse_amphoe,
    parse_bool,
    parse_choice,
    parse_citizen_id,
    parse_date,
    parse_house_code,
    parse_int,
    parse_jpt,
    parse_number,
    parse_phone,
    parse_tambon,
    tambon_amphoe_mismatch,
)

AUG_18_2020 = dt.date(2020, 8, 18)


@pytest.mark.parametrize(
    "raw",
    [
        "2563-08-18", "2020-08-18", "18/08/2563", "18/8/2563", "18-08-2563", "18.08.2563",
        "18/08/63", "18 ส.ค. 2563", "18 ส.ค. 63", "18 ส.ค.63", "18 สิงหาคม 2563",
        "18 สิงหาคม 63", "๑๘/๐๘/๒๕๖๓", "๑๘ ส.ค. ๒๕๖๓", "18 Aug 2020", "18 August 2020",
        "2020-08-18 00:00:00", 44061, 44061.0, "44061", dt.date(2020, 8, 18),
        dt.datetime(2020, 8, 18, 0, 0), dt.date(2563, 8, 18), pd.Timestamp("2020-08-18"),
    ],
)
def test_dates_in_every_calendar_and_form_become_the_same_day(raw: object) -> None:
    assert parse_date(raw) == AUG_18_2020


@pytest.mark.parametrize("raw", [None, "", "  ", "-", float("nan"), pd.NaT])
def test_blank_cells_are_none(raw: object) -> None:
    assert parse_date(raw) is None
    assert parse_number(raw) is None
    assert clean_text(raw) is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("31/02/2563", "not_a_date"),
        ("18/13/2563", "not_a_date"),
        ("yesterday", "not_a_date"),
        ("18 ธันวา 2563", "not_a_date"),
        ("1/1/1950", "date_out_of_range"),
        (12, "not_a_date"),
    ],
)
def test_bad_dates_are_refused_with_a_reason(raw: object, reason: str) -> None:
    with pytest.raises(CellError) as err:
        parse_date(raw)
    assert err.value.reason_key == reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12,000", 12000.0), ("1,234,567.50", 1234567.5), ("๓๘,๐๐๐", 38000.0),
        ("฿12,000", 12000.0), ("12,000 บาท", 12000.0), ("12000", 12000.0), (" 42 ", 42.0),
        (3.5, 3.5), (7, 7.0), ("0.5", 0.5),
    ],
)
def test_amounts_with_commas_baht_and_thai_digits(raw: object, expected: float) -> None:
    assert parse_number(raw) == expected


@pytest.mark.parametrize("raw", ["12,00", "1.2.3", "สิบ", "12k", True])
def test_malformed_amounts_are_refused(raw: object) -> None:
    with pytest.raises(CellError) as err:
        parse_number(raw)
    assert err.value.reason_key == "not_a_number"


def test_whole_numbers() -> None:
    assert parse_int("๕") == 5
    assert parse_int(4.0) == 4
    with pytest.raises(CellError) as err:
        parse_int("3.5")
    assert err.value.reason_key == "not_a_whole_number"


def test_citizen_id_checksum_and_forms() -> None:
    assert citizen_id_check_digit("110170023071") == 6
    assert parse_citizen_id("1-1017-00230-71-6") == "1101700230716"
    assert parse_citizen_id("๑๑๐๑๗๐๐๒๓๐๗๑๖") == "1101700230716"
    assert parse_citizen_id("1 1017 00230 71 6") == "1101700230716"
    for raw, reason in [("1101700230719", "citizen_id_checksum"),
                        ("110170023071", "citizen_id_length"),
                        ("11017002307A6", "citizen_id_not_digits")]:
        with pytest.raises(CellError) as err:
            parse_citizen_id(raw)
        assert err.value.reason_key == reason


def test_house_code_and_phone() -> None:
    assert parse_house_code("4001-012345-6") == "40010123456"
    with pytest.raises(CellError) as err:
        parse_house_code("4001")
    assert err.value.reason_key == "house_code_format"
    assert parse_phone("081-234-5678") == "0812345678"
    assert parse_phone("+66 81 234 5678") == "0812345678"
    with pytest.raises(CellError) as err:
        parse_phone("12345")
    assert err.value.reason_key == "phone_format"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("4001", "4001"), ("อ.เมืองขอนแก่น", "4001"), ("อำเภอเมืองขอนแก่น", "4001"),
        ("อำเภอ เมืองขอนแก่น", "4001"), ("เมืองขอนแก่น", "4001"), ("Mueang Khon Kaen", "4001"),
        ("ชุมแพ", "4005"), ("อ. ชุมแพ", "4005"), ("chum phae", "4005"), (4005, "4005"),
        ("TH4005", "4005"), ("4026", "4029"), ("เวียงเก่า", "4029"), ("๔๐๐๕", "4005"),
    ],
)
def test_amphoe_codes_and_names(raw: object, code: str) -> None:
    assert parse_amphoe(raw) == code


def test_unknown_amphoe_is_refused() -> None:
    with pytest.raises(CellError) as err:
        parse_amphoe("อ.เมืองอุดรธานี")
    assert err.value.reason_key == "unknown_amphoe"


def test_tambon_by_name_within_its_amphoe_and_by_code() -> None:
    assert parse_tambon("ต.ในเมือง", "4001") == "400101"
    assert parse_tambon("ตำบลในเมือง", "4001") == "400101"
    assert parse_tambon("ในเมือง", "4029") == "402901"  # same name, other amphoe
    assert parse_tambon("400101", None) == "400101"
    assert parse_tambon("402601", None) == "402901"  # legacy Wiang Kao prefix
    with pytest.raises(CellError) as err:
        parse_tambon("ต.ไม่มีจริง", "4001")
    assert err.value.reason_key == "unknown_tambon_in_amphoe"
    with pytest.raises(CellError) as err:
        parse_tambon("409999", "4001")
    assert err.value.reason_key == "unknown_tambon"


def test_tambon_of_another_amphoe_is_kept_but_flagged() -> None:
    assert parse_tambon("400101", "4005") == "400101"
    assert tambon_amphoe_mismatch("400101", "4005")
    assert not tambon_amphoe_mismatch("400101", "4001")


def test_agency_by_code_or_name() -> None:
    assert parse_agency("cdd") == "CDD"
    assert parse_agency("สำนักงานพัฒนาชุมชนจังหวัดขอนแก่น") == "CDD"
    with pytest.raises(CellError) as err:
        parse_agency("NASA")
    assert err.value.reason_key == "unknown_agency"


def test_flags_choices_and_indicators() -> None:
    assert parse_bool("มี") is True
    assert parse_bool("ไม่มี") is False
    assert parse_bool(1) is True
    with pytest.raises(CellError) as err:
        parse_bool("maybe")
    assert err.value.reason_key == "not_yes_no"
    assert parse_jpt("ผ่าน") is True
    assert parse_jpt("ไม่ผ่าน") is False
    assert parse_jpt("ไม่เกี่ยวข้อง") is None
    with pytest.raises(CellError) as err:
        parse_jpt("ดี")
    assert err.value.reason_key == "not_pass_fail"
    assert parse_choice("ติดตาม", KIND_OF_VISIT) == "follow_up"
    assert parse_choice("Baseline", KIND_OF_VISIT) == "baseline"
    with pytest.raises(CellError) as err:
        parse_choice("party", KIND_OF_VISIT)
    assert err.value.reason_key == "not_a_choice"
