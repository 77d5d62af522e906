"""The demo generator: deterministic, contract-shaped, plausible, and in step with data/demo/."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from domain import reference
from loaders import contracts, demo

DEMO_README = demo.DEMO_DIR / "README.md"

# The planted data-quality problems for the default seed, as documented in data/demo/README.md.
EXPECTED_ANOMALIES = {
    "duplicate_citizen_id": ["KK-4006-0055", "KK-4010-0032"],
    "tambon_not_in_amphoe": ["KK-4003-0005", "KK-4022-0014"],
    "income_outlier": ["V-008509", "V-012383", "V-012470"],
    "visit_not_by_buddy": ["V-001930", "V-003161", "V-004745", "V-006306", "V-012123"],
    "missed_rounds": [
        "KK-4001-0102", "KK-4002-0011", "KK-4002-0012", "KK-4003-0019", "KK-4006-0027",
        "KK-4007-0056", "KK-4009-0028", "KK-4010-0006", "KK-4010-0025", "KK-4010-0037",
        "KK-4016-0056", "KK-4017-0006", "KK-4017-0043", "KK-4017-0070", "KK-4022-0021",
    ],
}  # fmt: skip
EXPECTED_LEGACY_CODE_ROWS = [
    "KK-4029-0004", "KK-4029-0012", "KK-4029-0030", "KK-4029-0033", "KK-4029-0034",
]  # fmt: skip


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return demo.generate()


def _valid_citizen_id(cid: str) -> bool:
    if len(cid) != 13 or not cid.isdigit():
        return False
    total = sum(int(d) * (14 - i) for i, d in enumerate(cid[:12], start=1))
    return (11 - total % 11) % 10 == int(cid[12])


def _open_pairings(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    pairings = frames["pairings"]
    return pairings[pairings["end_date"].isna()]


def _levels(visits: pd.DataFrame) -> pd.DataFrame:
    """Targets 1-3 per visit, by the default rules of DESIGN.md section 4."""
    income = visits[[c for c in visits.columns if c.startswith("income_")]]
    per_member = income.sum(axis=1) / visits["members"]

    def passes(col: str) -> pd.Series:
        return visits[col].fillna(False).astype(bool)

    def passes_or_na(col: str) -> pd.Series:
        return visits[col].fillna(True).astype(bool)

    t1 = passes("jpt_08") & passes("jpt_09")
    for col in ("jpt_27", "jpt_28", "jpt_29"):
        t1 &= passes_or_na(col)
    t2 = t1 & (per_member >= demo.INCOME_LINE) & passes("jpt_20")
    t3 = t2 & visits["saves"] & (visits["debt_informal"] == 0) & ((income > 0).sum(axis=1) >= 2)
    return pd.DataFrame({"round": visits["round"], "t1": t1, "t2": t2, "t3": t3})


def test_generate_is_deterministic(frames):
    again = demo.generate()
    assert frames.keys() == again.keys()
    for name in frames:
        pd.testing.assert_frame_equal(frames[name], again[name])


def test_other_seed_gives_other_data(frames):
    other = demo.generate(seed=1)
    assert not other["visits"]["income_main"].equals(frames["visits"]["income_main"])


def test_columns_follow_the_contracts(frames):
    assert list(frames) == list(contracts.IMPORT_ORDER)
    for name, frame in frames.items():
        assert list(frame.columns) == contracts.DATASETS[name].column_names, name
    assert isinstance(frames["households"]["enrolled_on"].iloc[0], date)
    assert isinstance(frames["visits"]["visit_date"].iloc[0], date)
    assert isinstance(frames["assistance"]["date"].iloc[0], date)


def test_values_stay_within_contract_ranges_and_choices(frames):
    for name, frame in frames.items():
        for col in contracts.DATASETS[name].stored_columns:
            values = frame[col.name]
            if col.required:
                assert values.notna().all(), (name, col.name)
            numbers = pd.to_numeric(values, errors="coerce") if col.minimum is not None else None
            if col.minimum is not None:
                assert (numbers.dropna() >= col.minimum).all(), (name, col.name)
            if col.maximum is not None:
                assert (numbers.dropna() <= col.maximum).all(), (name, col.name)
            if col.choices:
                assert set(values.dropna()) <= set(col.choices), (name, col.name)
    needs = frames["visits"]["needs"].dropna().str.split(";").explode()
    assert set(needs) <= set(contracts.NEED_TYPES)
    lo, hi = date(2019, 11, 1), date(2022, 9, 30)
    assert frames["assistance"]["date"].between(lo, hi).all()


def test_households_cover_every_amphoe(frames):
    households = frames["households"]
    assert len(households) == 1174
    assert households["household_id"].is_unique
    per_amphoe = households["amphoe_code"].value_counts()
    assert set(per_amphoe.index) == set(reference.amphoe_table()["amphoe_code"])
    assert per_amphoe.min() >= 15
    assert 3.0 <= households["members"].mean() <= 3.8
    tambon = reference.tambon_table()
    own = households["tambon_code"].str[:4] == households["amphoe_code"]
    assert households.loc[own, "tambon_code"].isin(tambon["tambon_code"]).all()
    assert households["house_code"].str.fullmatch(r"\d{11}").all()
    assert (households["house_code"].str[:4] == households["amphoe_code"]).all()


def test_every_citizen_id_is_synthetic_with_a_valid_checksum(frames):
    ids = frames["households"]["head_citizen_id"]
    assert ids.map(_valid_citizen_id).all()
    assert ids.str.startswith("09999").all()


def test_officials_come_from_all_15_agencies_unevenly(frames):
    officials = frames["officials"]
    assert officials["official_id"].is_unique
    counts = officials["agency_code"].value_counts()
    assert set(counts.index) == set(reference.agency_table()["agency_code"])
    assert len(counts) == 15
    assert set(counts.index[:2]) == {"CDD", "DOPA"}
    assert 580 <= len(officials) <= 600


def test_caseloads_mostly_two_with_exceptions(frames):
    open_rows = _open_pairings(frames)
    caseload = open_rows["official_id"].value_counts()
    assert (caseload == 2).mean() > 0.95
    assert (caseload == 1).any()
    assert (caseload == 3).any()
    waiting = set(frames["households"]["household_id"]) - set(open_rows["household_id"])
    assert 5 <= len(waiting) <= 12
    assert open_rows["household_id"].is_unique  # never two buddies at once


def test_pairing_history_is_kept(frames):
    pairings = frames["pairings"]
    closed = pairings[pairings["end_date"].notna()]
    assert 15 <= len(closed) <= 30
    assert (closed["end_date"] > closed["start_date"]).all()
    later = pairings.merge(
        closed[["household_id", "end_date"]], on="household_id", suffixes=("", "_closed")
    )
    later = later[later["start_date"] > later["end_date_closed"]]
    # every re-pairing starts the day after the old pairing ended; the rest are still waiting
    gap = pd.to_datetime(later["start_date"]) - pd.to_datetime(later["end_date_closed"])
    assert len(later) > 0 and (gap == pd.Timedelta(days=1)).all()
    assert later["household_id"].is_unique
    waiting = set(closed["household_id"]) - set(later["household_id"])
    assert waiting == set(frames["households"]["household_id"]) - set(
        _open_pairings(frames)["household_id"]
    )


def test_visit_schedule(frames):
    visits = frames["visits"]
    baseline = visits[visits["round"] == 0]
    assert baseline["household_id"].is_unique and len(baseline) == 1174
    assert (baseline["kind"] == "baseline").all()
    assert baseline["visit_date"].between(date(2019, 10, 1), date(2019, 12, 20)).all()
    follow = visits[visits["round"] > 0]
    assert (follow["kind"] == "follow_up").all()
    assert follow["round"].max() == 11
    quarter = pd.PeriodIndex(pd.to_datetime(follow["visit_date"]), freq="Q")
    expected = pd.Period("2020Q1") + (follow["round"] - 1).to_numpy()
    assert (quarter == expected).all()
    assert visits["visit_id"].is_unique
    assert not visits.duplicated(["household_id", "round"]).any()
    coverage = len(follow) / (1174 * 11)
    assert 0.88 <= coverage <= 0.97


def test_baseline_income_mostly_below_the_line(frames):
    visits = frames["visits"]
    baseline = visits[visits["round"] == 0]
    income = baseline[[c for c in visits.columns if c.startswith("income_")]].sum(axis=1)
    per_member = income / baseline["members"]
    assert 26_000 <= per_member.median() <= 30_000
    assert (per_member < demo.INCOME_LINE).mean() > 0.65


def test_flags_are_consistent_with_the_other_fields(frames):
    visits = frames["visits"]
    income = visits[[c for c in visits.columns if c.startswith("income_")]].sum(axis=1)
    above = income / visits["members"] >= demo.INCOME_LINE
    outliers = visits["visit_id"].isin(EXPECTED_ANOMALIES["income_outlier"])
    assert (visits.loc[~outliers, "jpt_22"] == above[~outliers]).all()
    assert (visits["jpt_23"] == visits["saves"]).all()
    assert visits.loc[visits["land_tenure"] == "none", "land_rai"].eq(0).all()
    assert visits.loc[visits["land_tenure"] != "none", "land_rai"].gt(0).all()


def test_three_target_shares_are_plausible(frames):
    shares = _levels(frames["visits"]).groupby("round")[["t1", "t2", "t3"]].mean()
    first, last = shares.loc[0], shares.loc[11]
    assert 0.60 <= first["t1"] <= 0.70 and 0.10 <= first["t2"] <= 0.20 and first["t3"] < 0.05
    assert 0.85 <= last["t1"] <= 0.95 and 0.45 <= last["t2"] <= 0.60
    assert 0.15 <= last["t3"] <= 0.25
    # COVID-19 dents the ladder in 2020 (round 2) and 2021 (rounds 6-7)
    assert shares.loc[2, "t2"] < shares.loc[1, "t2"]
    assert shares.loc[6, "t2"] < shares.loc[5, "t2"]


def test_land_needs_mostly_go_unmet(frames):
    visits, help_ = frames["visits"], frames["assistance"]
    baseline = visits[visits["round"] == 0]
    want_land = baseline.loc[baseline["needs"].fillna("").str.contains("land"), "household_id"]
    got_land = help_.loc[(help_["type"] == "land") & (help_["status"] == "delivered")]
    assert len(want_land) > 200
    assert want_land.isin(got_land["household_id"]).mean() < 0.25


def test_assistance_providers(frames):
    help_ = frames["assistance"]
    assert 2_300 <= len(help_) <= 2_700
    assert help_["assistance_id"].is_unique
    assert (help_["status"] == "delivered").mean() > 0.85
    state = help_["provider_kind"] == "state"
    agencies = set(reference.agency_table()["agency_code"])
    assert set(help_["agency_code"].dropna()) <= agencies
    # a partner that is not one of the 15 agencies comes without an agency code
    assert help_.loc[help_["partner"].notna(), "agency_code"].isna().all()
    assert help_.loc[~state, "partner"].notna().all()
    assert (help_.loc[help_["type"] == "land", "agency_code"] == "ALRO").all()


def test_planted_anomalies_are_present_as_documented(frames):
    assert demo.planted_anomalies(frames) == EXPECTED_ANOMALIES
    assert demo.legacy_code_households(frames["households"]) == EXPECTED_LEGACY_CODE_ROWS
    readme = DEMO_README.read_text(encoding="utf-8")
    for ids in [*EXPECTED_ANOMALIES.values(), EXPECTED_LEGACY_CODE_ROWS]:
        for identifier in ids:
            assert identifier in readme, identifier
    households = frames["households"].set_index("household_id")
    a, b = EXPECTED_ANOMALIES["duplicate_citizen_id"]
    assert households.loc[a, "head_citizen_id"] == households.loc[b, "head_citizen_id"]
    assert _valid_citizen_id(households.loc[a, "head_citizen_id"])


def test_file_layout(tmp_path):
    paths = demo.write_demo(tmp_path)
    assert set(paths) == set(contracts.IMPORT_ORDER)
    for name, path in paths.items():
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name
        assert b"\r\n" not in raw
    households = pd.read_csv(paths["households"], dtype=str, encoding="utf-8-sig")
    aliases = [c.aliases[0] for c in contracts.HOUSEHOLDS.columns]
    assert list(households.columns) == aliases
    assert households["วันที่เข้าร่วม"].str.fullmatch(r"\d{2}/\d{2}/25\d{2}").all()
    assert (households["อำเภอ"] == "4026").sum() == 5
    assert households["อำเภอ"].str.startswith("อ.").sum() == 1174 - 5
    assert households["ตำบล"].str.startswith("ต.").sum() == 1174 - 2
    assert households["เลขประจำตัวประชาชน"].str.fullmatch(r"09999\d{8}").all()
    phones = households["เบอร์โทร"].dropna()
    assert phones.str.fullmatch(r"08\d-\d{3}-\d{4}").all()
    officials = pd.read_csv(paths["officials"], dtype=str, encoding="utf-8-sig")
    assert list(officials.columns) == [c.aliases[0] for c in contracts.OFFICIALS.columns]
    assert officials["อำเภอ"].str.fullmatch(r"40\d{2}").all()
    visits = pd.read_csv(paths["visits"], dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert list(visits.columns) == contracts.VISITS.column_names
    assert set(visits["jpt_01"]) <= {"pass", "fail", "na"}
    assert set(visits["saves"]) == {"true", "false"}
    assert visits["visit_date"].str.fullmatch(r"20\d{2}-\d{2}-\d{2}").all()
    assert visits["income_main"].str.fullmatch(r"\d+").all()


def test_committed_files_match_the_generator(tmp_path):
    paths = demo.write_demo(tmp_path)
    for name, path in paths.items():
        committed = demo.DEMO_DIR / demo.FILE_NAMES[name]
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed} is stale: run `python -m loaders demo`"
        )
