"""Every element that hides small groups: hidden groups sit in their own block by name, never
where their hidden value would sort them, and one hidden group alone takes a second with it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dashboard.views import charts, coverage, plan, tables

# ข (3 households) would sort first by its hidden value, ง (4) in the middle; ก, ค, จ are shown
NAMES = {"A": "ก", "B": "ข", "C": "ค", "D": "ง", "E": "จ"}
SIZES = [10, 3, 12, 4, 20]


def places() -> pd.DataFrame:
    return pd.DataFrame({"amphoe_code": list("ABCDE"), "assessed": SIZES,
                         "level_share": [0.6, 0.99, 0.5, 0.55, 0.3]})


def test_the_overview_ranking_chart() -> None:
    spec = charts.place_ranking_chart(places(), NAMES, "x", "th").data[0]
    assert list(reversed(spec["y"])) == ["ก", "ค", "จ", "ข", "ง"]
    shares = np.asarray(spec["x"], dtype=float)
    hidden = [y for y, x in zip(spec["y"], shares.tolist(), strict=True) if np.isnan(x)]
    assert sorted(hidden) == ["ข", "ง"]


def test_the_places_to_push_box() -> None:
    top, held = plan.places_to_push(places(), 0.6, "amphoe_code", NAMES)
    assert top["name"].tolist() == ["จ", "ค", "ก"] and held == ["ข", "ง"]


def test_one_hidden_group_takes_the_smallest_shown_one_with_it() -> None:
    one = places().assign(assessed=[10, 3, 12, 40, 20])  # only ข is under 5
    _top, held = plan.places_to_push(one, 0.6, "amphoe_code", NAMES)
    assert held == ["ก", "ข"]  # ก (10) is the smallest shown: hidden too
    spec = charts.place_ranking_chart(one, NAMES, "x", "en").to_plotly_json()["data"][0]
    labels = dict(zip(spec["y"], spec["text"], strict=True))
    assert labels["ก"] == "hidden (protects a smaller group)" and labels["ข"] == "n < 5 (hidden)"
    assert list(reversed(spec["y"]))[-2:] == ["ก", "ข"]


def comparison_frame() -> pd.DataFrame:
    return pd.DataFrame({"amphoe_code": list("ABCDE"), "assessed": SIZES,
                         "share_baseline": [0.1] * 5, "share_now": [0.6, 0.99, 0.5, 0.55, 0.3],
                         "change_points": [50.0, 89.0, 40.0, 45.0, 20.0],
                         "climbed": [5, 3, 5, 2, 5], "fell_back": [0] * 5}
                        ).sort_values("share_now", ascending=False)


def test_the_outcomes_comparison_table_and_chart() -> None:
    table = tables.comparison_table(comparison_frame(), "amphoe_code", NAMES, "x", "en")
    first = table.columns[0]
    assert table[first].tolist()[-2:] == ["ข", "ง"]
    assert table.iloc[-2:, 3].isna().all()
    spec = charts.comparison_chart(comparison_frame(), "amphoe_code", NAMES, "x", "en")
    assert not {"ข", "ง"} & {y for trace in spec.to_plotly_json()["data"]
                            for y in (trace.get("y") or [])}


def bands() -> pd.DataFrame:
    share = [0.1, 0.9, 0.2, 0.5, 0.3]
    frame = pd.DataFrame({"amphoe_code": list("ABCDE"), "households": SIZES,
                          **{b: [0] * 5 for b in ("b1", "b2", "b3", "b4", "never")},
                          "recent": [0] * 5, "not_recent_share": share})
    return frame.sort_values("not_recent_share", ascending=False, ignore_index=True)


def test_the_recency_table_chart_and_slide_rows() -> None:
    table = coverage.recency_table(bands(), "amphoe_code", NAMES, 90, "en")
    assert table.iloc[:, 0].tolist() == ["จ", "ค", "ก", "ข", "ง"]
    chart = coverage.recency_chart(bands(), "amphoe_code", NAMES, 90, "en").to_plotly_json()
    assert list(reversed(chart["data"][0]["y"])) == ["จ", "ค", "ก", "ข", "ง"]
    top = coverage.small_groups_last(bands(), "amphoe_code", NAMES, "en").head(2)
    assert top["amphoe_code"].tolist() == ["E", "C"]  # the slide's rows: shown groups first


def test_the_agency_league_table_and_chart() -> None:
    league = pd.DataFrame({
        "agency_code": list("ABCDE"), "officials": [5] * 5, "households": SIZES,
        "assessed": SIZES, "officials_overdue": [1, 3, 1, 2, 1],
        "overdue_per_100": [10.0, 100.0, 8.3, 50.0, 5.0],
        "visited_share": [0.9, 0.0, 0.9, 0.5, 0.95], "climbed_share": [0.5, 0.0, 0.4, 0.1, 0.6],
        "level_share": [0.5] * 5, "visits_per_household_quarter": [1.0] * 5,
        "quarters": [4] * 5, "as_of": [dt.date(2022, 9, 30)] * 5})
    table = coverage.league_table(league, NAMES, "x", "en")
    assert table.iloc[:, 0].tolist()[-2:] == ["ข", "ง"]
    assert table.iloc[-2:, 1].isna().all()
    dots = coverage.league_chart(league, NAMES, None, "en").to_plotly_json()["data"][0]
    assert not {"ข", "ง"} & set(dots["y"])
    sentence = coverage.agencies_sentence(league, NAMES, "en")
    assert "ข" not in sentence and "ง" not in sentence
