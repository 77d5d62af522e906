"""Small pure pieces: URL filters, exports, translations, Thai dates, reference tables."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dashboard.views import exports
from domain.filters import Choices, Filters, from_query_params, to_query_params
from domain.i18n import LOCALES_DIR, catalogue, t
from domain.reference import agency_table, amphoe_table, indicator_table, tambon_table
from domain.thai_dates import (
    fiscal_quarter,
    fiscal_year_be,
    format_date,
    format_quarter,
    quarter_bounds,
    quarter_index,
    quarter_indices,
)
from tests.conftest import ROOT

CHOICES = Choices(amphoe=("4001", "4005"), tambon_of={"4001": ("400101", "400102")},
                  agency=("CDD", "DOPA"), quarters=(25653, 25654))


def test_url_round_trip_keeps_codes() -> None:
    f = Filters(amphoe="4001", tambon="400102", agency="CDD", quarter=25653, levels=(2, 3))
    params = to_query_params(f, CHOICES)
    assert params == {"amphoe": "4001", "tambon": "400102", "agency": "CDD", "q": "25653",
                      "level": "2,3"}
    assert from_query_params(params, CHOICES) == f


def test_defaults_stay_out_of_the_url() -> None:
    assert to_query_params(Filters(quarter=25654), CHOICES) == {}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"amphoe": "9999"}, Filters()),
        ({"amphoe": "4005", "tambon": "400101"}, Filters(amphoe="4005")),  # tambon elsewhere
        ({"tambon": "400101"}, Filters()),  # tambon without its amphoe
        ({"agency": "cdd"}, Filters(agency="CDD")),
        ({"q": "2565x"}, Filters()),
        ({"q": "25631"}, Filters()),  # a quarter the data does not hold
        ({"level": "3,1,x,9,1"}, Filters(levels=(1, 3))),
        ({"amphoe": ["4001", "4005"]}, Filters(amphoe="4005")),
    ],
)
def test_bad_url_values_fall_back(params: dict, expected: Filters) -> None:
    assert from_query_params(params, CHOICES) == expected


def test_exports_neutralise_formulas_and_keep_thai() -> None:
    frame = pd.DataFrame({"ชื่อ": ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "ปกติ"],
                          "value": [1, -2, 3, 4, 5, 6]})
    original = frame.copy()
    csv = exports.to_csv_bytes(frame)
    assert csv.startswith(b"\xef\xbb\xbf")
    text = csv.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+1" in text and "'-2" in text and "'@SUM" in text
    assert ",-2\n" in text  # numbers are numbers, not neutralised text
    assert "ปกติ" in text
    pd.testing.assert_frame_equal(frame, original)  # input untouched
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx_bytes(frame)))
    cells = [c.value for c in book.active["A"]][1:]
    assert cells[0] == "'=HYPERLINK(\"x\")"
    assert all(not str(c).startswith(("=", "+", "-", "@", "\t")) for c in cells)


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    th, en = catalogue("th"), catalogue("en")
    assert set(th) == set(en)
    for key in th:
        assert set(re.findall(r"{(\w+)}", th[key])) == set(re.findall(r"{(\w+)}", en[key])), key


def test_every_key_used_in_code_exists() -> None:
    used: set[str] = set()
    for path in [*ROOT.glob("dashboard/*.py"), *ROOT.glob("pages/*.py"),
                 *ROOT.glob("loaders/*.py")]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_]+)["']""", text))
        used |= set(re.findall(r"""ctx\.t\(\s*["']([a-z_]+\.[a-z_]+)["']""", text))
        used |= set(re.findall(r"""_key\s*=\s*["']([a-z_]+\.[a-z_]+)["']""", text))
    assert used, "the scan found the keys"
    assert used <= set(catalogue("th")), used - set(catalogue("th"))
    assert LOCALES_DIR.is_dir()


def test_missing_key_falls_back_visibly() -> None:
    assert t("no.such_key", "en") == "no.such_key"
    assert t("report.more", "xx", n=3) == "… และอีก 3 รายการ"


def test_thai_dates_and_fiscal_quarters() -> None:
    assert format_date(dt.date(2020, 8, 18)) == "18 ส.ค. 2563"
    assert format_date(dt.date(2020, 8, 18), "en") == "18 Aug 2020"
    assert fiscal_year_be(dt.date(2019, 9, 30)) == 2562
    assert fiscal_year_be(dt.date(2019, 10, 1)) == 2563
    assert [fiscal_quarter(dt.date(2020, m, 1)) for m in (10, 12, 1, 3, 4, 6, 7, 9)] == [
        1, 1, 2, 2, 3, 3, 4, 4]
    assert quarter_index(dt.date(2022, 9, 30)) == 25654
    assert quarter_bounds(25631) == (dt.date(2019, 10, 1), dt.date(2019, 12, 31))
    assert quarter_bounds(25632) == (dt.date(2020, 1, 1), dt.date(2020, 3, 31))
    assert quarter_bounds(25654) == (dt.date(2022, 7, 1), dt.date(2022, 9, 30))
    assert quarter_indices(dt.date(2019, 12, 1), dt.date(2020, 10, 1)) == [
        25631, 25632, 25633, 25634, 25641]
    assert format_quarter(25654) == "ไตรมาส 4/2565"
    assert format_quarter(25654, "en") == "Q4 FY2565"


def test_reference_tables_hold_the_programme_facts() -> None:
    amphoe = amphoe_table()
    assert len(amphoe) == 26
    assert "4029" in set(amphoe["amphoe_code"]) and "4026" not in set(amphoe["amphoe_code"])
    assert amphoe.set_index("amphoe_code").loc["4029", "name_th"] == "เวียงเก่า"
    assert amphoe["n_tambon"].sum() == 199
    assert amphoe["centroid_lat"].between(15.6, 17.1).all()
    assert amphoe["centroid_lon"].between(101.7, 103.2).all()
    tambon = tambon_table()
    assert len(tambon) == 199
    assert (tambon["tambon_code"].str[:4] == tambon["amphoe_code"]).all()
    assert len(agency_table()) == 15
    indicators = indicator_table()
    assert indicators["indicator"].tolist() == list(range(1, 32))


def test_reference_tables_match_geothai(tmp_path: Path) -> None:
    geothai = pytest.importorskip("geothai")
    districts = {d.code: d.name_th for d in geothai.districts("40")}
    assert districts == dict(zip(amphoe_table()["amphoe_code"], amphoe_table()["name_th"],
                                 strict=True))


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    settings: set[str] = set()
    for path in [*ROOT.glob("dashboard/**/*.py"), *ROOT.glob("domain/*.py"),
                 *ROOT.glob("loaders/*.py")]:
        settings |= set(re.findall(r"\"(KUSIAO_[A-Z_]+)\"", path.read_text(encoding="utf-8")))
    assert settings, "the scan found the settings"
    assert {s for s in settings if s not in readme} == set()


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "pip install -r requirements-dev.txt && python -m pytest"
    assert command in readme
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_dataset_column_is_documented_in_the_import_guide() -> None:
    from loaders.contracts import DATASETS

    readme = (ROOT / "docs" / "importing.md").read_text(encoding="utf-8")
    for dataset in DATASETS.values():
        for column in dataset.columns:
            if not column.name.startswith("jpt_"):
                assert f"`{column.name}`" in readme, column.name
