"""What the pages show of the forecast and of what is followed by a climb: the chart of the
targets ahead with their interval and plan, the method's back-test error in words, the amphoe
verdicts, and the helped-against-comparable table. Pure: query results in, figures, frames
and text out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from dashboard.queries.forecast import WHOLE, Forecast
from dashboard.store.privacy import MIN_GROUP, SMALL_GROUP
from dashboard.views.charts import LEVEL_COLOURS, figure, quarter_label
from domain.definitions import Definitions, ForecastRules, Target
from domain.i18n import format_number, format_percent, t
from domain.thai_dates import format_quarter


def target_name(target: Target, lang: str) -> str:
    return target.name_th if lang == "th" else target.name_en


def status_word(status: object, lang: str) -> str:
    return t(f"forecast.status.{status if isinstance(status, str) and status else 'none'}",
             lang)


def error_text(found: Forecast, rules: ForecastRules, lang: str) -> str:
    """The method, its window and interval, and its back-test error at each horizon."""
    errors = [t("forecast.error_item", lang, h=h, pp=f"{found.error_pp(h):.1f}")
              for h in rules.backtest_horizons if found.error_pp(h) is not None]
    return t("forecast.method_note", lang, method=t(f"forecast.method_{found.method}", lang),
             window=rules.window_quarters, interval=round(rules.interval * 100),
             resamples=format_number(rules.resamples),
             errors=", ".join(errors) or t("forecast.error_none", lang))


def forecast_chart(found: Forecast, definitions: Definitions, lang: str):
    """Each target's observed share (solid), its forecast (dashed) with the interval (a
    band), and the plan at each plan year's end ahead (diamonds)."""
    interval = round(definitions.forecast.interval * 100)
    history = found.history
    quarters = [int(q) for q in history["q_idx"]]
    ahead = sorted(int(q) for q in found.path["q_idx"].unique()) if not found.path.empty else []
    x_all = [quarter_label(q) for q in dict.fromkeys([*quarters, *ahead])]
    traces = []
    for target in definitions.targets:
        name, colour = target_name(target, lang), LEVEL_COLOURS[target.level]
        traces.append({
            "type": "scatter", "x": [quarter_label(q) for q in quarters],
            "y": history[f"share_{target.level}"].to_numpy(), "mode": "lines",
            "name": name, "line": {"color": colour, "width": 3}, "legendgroup": name,
            "hovertemplate": "%{x}: %{y:.1%}<extra>" + name + "</extra>"})
        if found.path.empty:
            continue
        path = found.path[found.path["level"] == target.level].sort_values("q_idx")
        x = [quarter_label(int(q)) for q in path["q_idx"]]
        band = t("forecast.band_of", lang, interval=interval, target=name)
        traces.append({
            "type": "scatter", "x": [*x, *x[::-1]],
            "y": [*path["high"].to_numpy(), *path["low"].to_numpy()[::-1]],
            "fill": "toself", "fillcolor": _transparent(colour), "line": {"width": 0},
            "mode": "lines",
            "name": band, "legendgroup": name, "showlegend": False, "hoverinfo": "skip"})
        label = t("forecast.forecast_of", lang, target=name)
        traces.append({
            "type": "scatter", "x": x, "y": path["point"].to_numpy(), "mode": "lines",
            "name": label, "legendgroup": name, "showlegend": False,
            "line": {"color": colour, "width": 2, "dash": "dash"},
            "customdata": np.stack([path["low"], path["high"]], axis=-1),
            "hovertemplate": "%{x}: %{y:.1%} (%{customdata[0]:.1%}–%{customdata[1]:.1%})"
                             "<extra>" + label + "</extra>"})
        plan = [(year * 10 + 4, share)
                for year, share in definitions.plan.get(target.key, {}).items()
                if year * 10 + 4 in set(ahead)]
        if plan:
            plan_label = t("forecast.plan_of", lang, target=name)
            traces.append({
                "type": "scatter", "x": [quarter_label(q) for q, _ in plan],
                "y": [s for _, s in plan], "mode": "markers", "name": plan_label,
                "legendgroup": name, "showlegend": False,
                "marker": {"symbol": "diamond-open", "size": 12, "color": colour,
                           "line": {"width": 2}},
                "hovertemplate": "%{x}: %{y:.1%}<extra>" + plan_label + "</extra>"})
    return figure(traces, height=400,
                  yaxis={"tickformat": ".0%", "range": [0, 1.02],
                         "title": {"text": t("chart.share_households", lang)}},
                  xaxis={"type": "category", "categoryorder": "array", "categoryarray": x_all,
                         "title": {"text": t("chart.period_quarter", lang)}})


def _transparent(colour: str, alpha: float = 0.18) -> str:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def first_year(found: Forecast) -> int | None:
    return None if found.table.empty else int(found.table["fiscal_year"].min())


def whole_rows(found: Forecast, year: int) -> pd.DataFrame:
    """The whole's rows for ``year``, one per target level (indexed by level)."""
    rows = found.table[(found.table["amphoe_code"] == WHOLE)
                       & (found.table["fiscal_year"] == year)]
    return rows.set_index("level")


def range_text(row: pd.Series, lang: str) -> str:
    """``61.2% (58%–65%)``: the forecast and its interval."""
    return t("forecast.card_value", lang, point=format_percent(row["point"]),
             low=format_percent(row["low"], 0), high=format_percent(row["high"], 0))


def amphoe_status_table(found: Forecast, targets: Sequence[Target], names: Mapping[str, str],
                        lang: str, year: int) -> pd.DataFrame:
    """One row per amphoe (worst status first, then name): households, status, and each
    target's forecast for ``year`` with its interval against the plan."""
    rows = found.table[(found.table["amphoe_code"] != WHOLE)
                       & (found.table["fiscal_year"] == year)]
    verdicts = found.status_by_amphoe().set_index("amphoe_code")["status"]
    out = []
    for code, group in rows.groupby("amphoe_code"):
        by_level = group.set_index("level")
        small = int(group["households"].iloc[0]) < MIN_GROUP
        line: dict[str, object] = {
            t("forecast.col_amphoe", lang): names.get(str(code), str(code)),
            t("forecast.col_households", lang): int(group["households"].iloc[0]),
            t("forecast.col_status", lang): t("forecast.too_small", lang, min=MIN_GROUP)
            if small else status_word(verdicts.get(code, ""), lang)}
        for target in targets:
            row = by_level.loc[target.level]
            text = "" if small else (
                f"{row['point'] * 100:.1f} ({row['low'] * 100:.0f}–{row['high'] * 100:.0f})"
                f" {status_word(row['status'], lang)}")
            line[t("forecast.col_target_forecast", lang, target=target_name(target, lang),
                   plan=format_percent(row["plan"], 0))] = text
        line["_rank"] = 9 if small else ("on_track", "at_risk", "off_track")[::-1].index(
            verdicts.get(code) or "on_track")
        out.append(line)
    frame = pd.DataFrame(out)
    if frame.empty:
        return frame
    first = t("forecast.col_amphoe", lang)
    return frame.sort_values(["_rank", first], ignore_index=True).drop(columns="_rank")


def forecast_download(found: Forecast, targets: Sequence[Target], names: Mapping[str, str],
                      lang: str) -> pd.DataFrame:
    """Every forecast row in plain columns (shares in percent), for the download."""
    target_names = {tg.level: target_name(tg, lang) for tg in targets}
    rows = found.table
    return pd.DataFrame({
        t("forecast.col_amphoe", lang): [t("forecast.whole", lang) if c == WHOLE
                                         else names.get(c, c) for c in rows["amphoe_code"]],
        t("forecast.col_target", lang): rows["level"].map(target_names),
        t("forecast.col_year", lang): rows["fiscal_year"],
        t("forecast.col_point", lang): (rows["point"] * 100).round(1),
        t("forecast.col_low", lang): (rows["low"] * 100).round(1),
        t("forecast.col_high", lang): (rows["high"] * 100).round(1),
        t("forecast.col_plan", lang): (rows["plan"] * 100).round(1),
        t("forecast.col_status", lang): rows["status"].map(lambda s: status_word(s, lang)),
        t("forecast.col_households", lang): rows["households"],
    })


def status_counts(found: Forecast) -> dict[str, int]:
    verdicts = found.status_by_amphoe()["status"]
    return {s: int((verdicts == s).sum()) for s in ("on_track", "at_risk", "off_track")}


def as_of_text(found: Forecast, lang: str) -> str:
    return t("forecast.as_of", lang, quarter=format_quarter(found.as_of, lang)) \
        if found.as_of else ""


# --- what is followed by a climb -----------------------------------------------------------

def group_label(kind: str, code: str, agencies: Mapping[str, str], lang: str) -> str:
    return t(f"hh_need.{code}", lang) if kind == "type" else agencies.get(code, code)


def climb_table(found: pd.DataFrame, kind: str, agencies: Mapping[str, str],
                lang: str) -> pd.DataFrame:
    """The helped-against-comparable table of one ``kind``: groups under ``MIN_GROUP``
    households show their name and "under 5" only; under ``SMALL_GROUP`` are marked."""
    rows = found[found["kind"] == kind]
    out = []
    for row in rows.itertuples(index=False):
        hidden = row.households < MIN_GROUP
        mark = "" if hidden or row.households >= SMALL_GROUP else \
            f" {t('climb.small', lang, small=SMALL_GROUP)}"
        out.append({
            t("climb.col_group", lang): group_label(kind, row.group, agencies, lang) + mark,
            t("climb.col_households", lang): t("climb.suppressed", lang, min=MIN_GROUP)
            if hidden else format_number(row.households),
            t("climb.col_climbed", lang): "" if hidden else format_number(row.climbed),
            t("climb.col_share", lang): "" if hidden else format_percent(row.share),
            t("climb.col_comparable", lang): "" if hidden else format_percent(
                None if np.isnan(row.comparable_share) else row.comparable_share),
            t("climb.col_difference", lang): "" if hidden or np.isnan(row.difference_pp)
            else f"{row.difference_pp:+.1f}",
            t("climb.col_comparable_n", lang): "" if hidden
            else format_number(row.comparable_households),
            t("climb.col_value", lang): "" if hidden else format_number(row.value_baht),
            t("climb.col_per_climber", lang): "" if hidden or np.isnan(row.baht_per_climber)
            else format_number(row.baht_per_climber),
        })
    return pd.DataFrame(out)


def climb_chart(found: pd.DataFrame, kind: str, agencies: Mapping[str, str], lang: str):
    """Helped against comparable households' share that climbed, per group shown (groups
    under ``MIN_GROUP`` left out), largest group at the top."""
    rows = found[(found["kind"] == kind) & (found["households"] >= MIN_GROUP)]
    rows = rows.sort_values("households")
    labels = [group_label(kind, g, agencies, lang) for g in rows["group"]]
    traces = [
        {"type": "bar", "orientation": "h", "y": labels, "x": rows["comparable_share"],
         "name": t("climb.chart_comparable", lang), "marker": {"color": "#BBBBBB"},
         "hovertemplate": "%{y}: %{x:.1%}<extra>" + t("climb.chart_comparable", lang)
                          + "</extra>"},
        {"type": "bar", "orientation": "h", "y": labels, "x": rows["share"],
         "name": t("climb.chart_helped", lang), "marker": {"color": LEVEL_COLOURS[2]},
         "hovertemplate": "%{y}: %{x:.1%}<extra>" + t("climb.chart_helped", lang)
                          + "</extra>"},
    ]
    return figure(traces, height=max(260, 34 * len(labels) + 90), barmode="group",
                  xaxis={"tickformat": ".0%", "range": [0, 1],
                         "title": {"text": t("climb.chart_axis", lang)}},
                  yaxis={"automargin": True})
