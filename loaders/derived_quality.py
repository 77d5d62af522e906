"""Derived tables behind the Data quality page, rebuilt with the others inside each import's
transaction (and when the ``[quality]`` thresholds change), so the page only filters and
counts small tables.

- ``quality_finding``: one row per finding: ``check``, the household and its amphoe, and the
  detail columns that check shows (the other detail columns are null). Visit-level findings
  (income outliers, income jumps, visits by someone other than the buddy) carry their
  ``visit_date``, so a past quarter shows those recorded by its as-of date; missed-round
  findings carry the quarter (``q_idx``) they hold in, since they depend on the as-of date.
- ``quality_completeness``: per quarter, amphoe, tambon, agency (the buddy's then) and level:
  households, and rounds recorded (baseline up to that quarter's latest round, each household
  counted once per round).
- ``quality_round``: per quarter, the latest follow-up round recorded anywhere by its as-of date.
- ``quality_stats``: the whole programme's median and MAD of log10 income per member, against
  which income outliers are judged, and the ``[quality]`` thresholds the tables were built with.

What a finding means does not change with the filters: income outliers are judged against the
whole programme's income distribution (every visit in the data), not the filtered subset, and
duplicates count matches anywhere in the programme. The filters choose which findings are
shown (see :mod:`dashboard.queries.quality`).

The steps are SQL rather than Ibis: they lean on bit and list functions and on join shapes
DuckDB runs quickly (a left join where NOT EXISTS with date ranges took ten times as long),
which at a million households (11 million visits) is about 10 s against 45 s. The few
spellings that differ between DuckDB and PostgreSQL (median, integer division, a range of
integers, bit counts, semi joins, lists of pairs) come from the store
(:class:`loaders.store.Store`), so one text serves both engines.
"""

from __future__ import annotations

from domain.definitions import Definitions
from domain.reference import tambon_table
from loaders.store import Store

__all__ = ["MAD_SCALE", "build_quality_tables", "rules_key"]

MAD_SCALE = 0.6745  # makes the MAD of a normal sample comparable to its standard deviation

# the columns of quality_finding; each check fills the ones it shows, the rest stay null
FINDING_COLUMNS = """
    "check" VARCHAR, household_id VARCHAR, amphoe_code VARCHAR, q_idx INTEGER,
    visit_date DATE, visit_id VARCHAR, previous_visit VARCHAR, official_id VARCHAR,
    head_citizen_id VARCHAR, house_code VARCHAR, head_name VARCHAR, tambon_code VARCHAR,
    previous DOUBLE, income_per_member DOUBLE, robust_z DOUBLE, rounds_missed INTEGER,
    longest_gap INTEGER"""


def visit_quarter(store: Store) -> str:
    """The Thai fiscal quarter index of a visit ``v`` (as loaders.quarters.quarter_of)."""
    year, month = store.year("v.visit_date"), store.month("v.visit_date")
    return (f"CAST(({year} + 543 + CAST({month} >= 10 AS INTEGER)) * 10\n"
            f"    + {store.int_div(f'({month} + 2) % 12', '3')} + 1 AS INTEGER)")


def rules_key(definitions: Definitions) -> str:
    """The thresholds the tables were built with (kept in ``quality_stats``)."""
    return repr(definitions.quality)


def _programme_tables(store: Store, definitions: Definitions) -> None:
    """``quality_stats`` and ``quality_round``, and ``_q_reach``: the quarter from which each
    round counts (the first whose latest round, or the baseline, reaches it)."""
    store.create_table_as("quality_stats", f"""
        WITH logs AS (
            SELECT CAST(log10(income_per_member) AS DOUBLE PRECISION) AS x FROM visit_status
            WHERE income_per_member > 0),
        centre AS (SELECT {store.median("x")} AS median_log FROM logs)
        SELECT centre.median_log,
               (SELECT {store.median("abs(logs.x - centre.median_log)")} FROM logs, centre)
                   AS mad_log,
               CAST(? AS VARCHAR) AS rules
        FROM centre""", [rules_key(definitions)])
    store.create_table_as("quality_round", f"""
        WITH top AS (
            SELECT {visit_quarter(store)} AS q_idx, max(v."round") AS top FROM visit AS v
            GROUP BY 1)
        SELECT CAST(c.q_idx AS INTEGER) AS q_idx,
               CAST(max(top.top) OVER (ORDER BY c.q_idx ROWS BETWEEN UNBOUNDED PRECEDING
                                       AND CURRENT ROW) AS INTEGER) AS last_round
        FROM quarter_calendar AS c LEFT JOIN top ON top.q_idx = c.q_idx
        ORDER BY c.q_idx""")
    store.create_table_as("_q_reach", f"""
        WITH bound AS (
            SELECT q_idx, greatest(coalesce(last_round, 0), 0) AS bound FROM quality_round)
        SELECT CAST(r.r AS INTEGER) AS "round", min(bound.q_idx) AS round_q
        FROM {store.integers(0, 64)} JOIN bound ON bound.bound >= r.r
        GROUP BY r.r""")


def _household_tables(store: Store) -> None:
    """One pass over the visits, per household: the rounds done as soon as the programme
    reached them (a bit per round), and the range of positive incomes (only a household
    whose incomes span more than the jump factor can have a jump). ``_q_late``: rounds a
    household did only after the programme had moved on, with the quarter they count from.

    As of a quarter with as-of date A, a household has done round r when it has a visit of
    that round dated on or before A (so in that quarter or before) and r is at most the
    latest round recorded anywhere by A. Both only grow with the quarter, so each
    (household, round) counts from one quarter on: the programme's for a round done on time,
    the household's first visit of that round for one done late."""
    store.create_table_as("_q_household", f"""
        SELECT v.household_id,
               coalesce(bit_or(CAST(1 AS BIGINT) << v."round")
                        FILTER (WHERE v.q_idx <= v.round_q), 0) AS on_time,
               {store.pairs_agg('v."round"', "v.q_idx", "v.q_idx > v.round_q", "late")},
               min(v.income_per_member) FILTER (WHERE v.income_per_member > 0) AS low,
               max(v.income_per_member) AS high
        FROM (SELECT v.household_id, v."round", v.income_per_member, r.round_q,
                     {visit_quarter(store)} AS q_idx
              FROM visit_status AS v JOIN _q_reach AS r ON r."round" = v."round") AS v
        GROUP BY v.household_id""")
    store.create_table_as("_q_late", f"""
        SELECT household_id, late.r AS "round", min(late.q) AS first_q
        FROM ({store.pairs_rows("_q_household", "late", "household_id, on_time")}) AS late
        WHERE on_time & (CAST(1 AS BIGINT) << late.r) = 0
        GROUP BY household_id, late.r""")


def _completeness(store: Store) -> None:
    """Households and rounds recorded (baseline up to the quarter's latest round), per
    quarter, amphoe, tambon, agency and level as of the quarter."""
    store.create_table_as("quality_completeness", f"""
        WITH bound AS (
            SELECT q_idx, greatest(coalesce(last_round, 0), 0) AS bound FROM quality_round),
        on_time AS (
            SELECT s.q_idx, s.amphoe_code, s.tambon_code, s.agency_code, s.level,
                   count(*) AS households,
                   sum({store.bit_count(
                       "coalesce(h.on_time, 0) & ((CAST(1 AS BIGINT) << (b.bound + 1)) - 1)")})
                       AS recorded
            FROM status_quarter AS s
            JOIN bound AS b ON b.q_idx = s.q_idx
            LEFT JOIN _q_household AS h ON h.household_id = s.household_id
            GROUP BY s.q_idx, s.amphoe_code, s.tambon_code, s.agency_code, s.level),
        late AS (
            SELECT s.q_idx, s.amphoe_code, s.tambon_code, s.agency_code, s.level,
                   count(*) AS recorded
            FROM _q_late AS l
            JOIN status_quarter AS s
                ON s.household_id = l.household_id AND s.q_idx >= l.first_q
            GROUP BY s.q_idx, s.amphoe_code, s.tambon_code, s.agency_code, s.level)
        SELECT o.q_idx, o.amphoe_code, o.tambon_code, o.agency_code, o.level, o.households,
               CAST(o.recorded + coalesce(l.recorded, 0) AS BIGINT) AS recorded
        FROM on_time AS o
        LEFT JOIN late AS l ON l.q_idx = o.q_idx
            AND l.amphoe_code IS NOT DISTINCT FROM o.amphoe_code
            AND l.tambon_code IS NOT DISTINCT FROM o.tambon_code
            AND l.agency_code IS NOT DISTINCT FROM o.agency_code
            AND l.level IS NOT DISTINCT FROM o.level
        ORDER BY o.q_idx, o.amphoe_code, o.tambon_code""")


def _missed_rounds(store: Store, in_a_row: int) -> None:
    """``_q_missed``: per household and quarter with a follow-up round, the longest run of
    rounds without a visit (up to the latest round recorded anywhere by then) and the rounds
    missed, where the run is ``in_a_row`` or longer. Only a household with at least
    ``in_a_row`` follow-up rounds not done on time can have such a run at any quarter, so the
    per-quarter work is done for those alone."""
    store.create_table_as("_q_missed", f"""
        WITH top AS (SELECT coalesce(max(last_round), 0) AS top FROM quality_round),
        candidates AS (
            SELECT hh.household_id, coalesce(h.on_time, 0) AS on_time
            FROM household AS hh
            LEFT JOIN _q_household AS h ON h.household_id = hh.household_id, top
            WHERE top.top - {store.bit_count(
                "coalesce(h.on_time, 0) & ((CAST(1 AS BIGINT) << (top.top + 1)) - 2)")}
                  >= {int(in_a_row)}),
        done AS (
            SELECT c.household_id, CAST(r.r AS INTEGER) AS "round", reach.round_q AS counts_from
            FROM candidates AS c, top, {store.integers(1, 64)}
            JOIN _q_reach AS reach ON reach."round" = r.r
            WHERE r.r <= top.top AND c.on_time & (CAST(1 AS BIGINT) << r.r) <> 0
            UNION ALL
            SELECT l.household_id, l."round", l.first_q
            FROM _q_late AS l {store.semi_join} candidates AS c
                ON c.household_id = l.household_id
            WHERE l."round" >= 1),
        grid AS (
            SELECT c.household_id, r.q_idx, r.last_round
            FROM candidates AS c CROSS JOIN quality_round AS r WHERE r.last_round >= 1),
        gaps AS (
            SELECT g.household_id, g.q_idx, d."round",
                   d."round" - coalesce(lag(d."round") OVER (
                       PARTITION BY g.household_id, g.q_idx ORDER BY d."round"), 0) - 1 AS gap
            FROM grid AS g
            JOIN done AS d ON d.household_id = g.household_id AND d.counts_from <= g.q_idx),
        per AS (
            SELECT household_id, q_idx, max(gap) AS inner_gap, max("round") AS last_done,
                   count(*) AS n_done
            FROM gaps GROUP BY household_id, q_idx),
        result AS (
            SELECT g.household_id, g.q_idx,
                   greatest(coalesce(p.inner_gap, 0),
                            g.last_round - coalesce(p.last_done, 0)) AS longest_gap,
                   g.last_round - coalesce(p.n_done, 0) AS rounds_missed
            FROM grid AS g LEFT JOIN per AS p
                ON p.household_id = g.household_id AND p.q_idx = g.q_idx)
        SELECT * FROM result WHERE longest_gap >= {int(in_a_row)}""")


def _findings(store: Store, definitions: Definitions) -> None:
    rules = definitions.quality
    store.create_table("quality_finding", FINDING_COLUMNS)

    def insert(check: str, columns: str, select: str) -> None:
        store.execute(f'INSERT INTO quality_finding ("check", {columns}) '
                      f"SELECT '{check}', {columns} FROM ({select}) AS f")

    # household_id is the household table's key, so a value on two rows is two households
    for check, column in (("duplicate_citizen_id", "head_citizen_id"),
                          ("duplicate_household", "house_code")):
        insert(check, f"household_id, amphoe_code, {column}, head_name", f"""
            SELECT * FROM household WHERE {column} IN (
                SELECT {column} FROM household WHERE {column} IS NOT NULL
                GROUP BY {column} HAVING count(*) > 1)""")
    insert("tambon_not_in_amphoe", "household_id, amphoe_code, tambon_code", """
        SELECT * FROM household AS h WHERE h.tambon_code IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM _q_tambon_ref AS r
            WHERE r.tambon_code = h.tambon_code AND r.amphoe_code = h.amphoe_code)""")
    visit_columns = "household_id, amphoe_code, visit_id, visit_date"
    # income outliers, against the whole programme's median and MAD of log income; the
    # threshold on income itself lets the engine skip the log for almost every visit
    median, mad = store.execute("SELECT median_log, mad_log FROM quality_stats")[0]
    if median is not None and mad:
        z = float(rules.outlier_robust_z)
        above = 10 ** (median + z * mad / MAD_SCALE) * (1 - 1e-9)
        insert("income_outlier", f"{visit_columns}, income_per_member, robust_z", f"""
            SELECT v.*, h.amphoe_code FROM (
                SELECT household_id, visit_id, visit_date, income_per_member,
                       {MAD_SCALE} * (log10(income_per_member) - {median!r}) / {mad!r}
                           AS robust_z
                FROM visit_status WHERE income_per_member > {above!r}) AS v
            JOIN household AS h ON h.household_id = v.household_id
            WHERE v.robust_z > {z!r}""")
    # income jumps between consecutive visits (by date, then ID); the lag looks back only, so
    # a jump holds as of any date on or after it. Only households whose positive incomes span
    # more than the factor can have one.
    factor, min_baht = float(rules.jump_factor), float(rules.min_jump_baht)
    insert("income_jump",
           f"{visit_columns}, previous_visit, previous, income_per_member", f"""
        SELECT o.*, h.amphoe_code FROM (
            SELECT v.household_id, v.visit_id, v.visit_date, v.income_per_member,
                   lag(v.income_per_member) OVER w AS previous,
                   lag(v.visit_id) OVER w AS previous_visit
            FROM visit_status AS v {store.semi_join} _q_household AS c
                ON c.household_id = v.household_id
                AND c.high > c.low * {factor} AND c.high - c.low >= {min_baht}
            WINDOW w AS (PARTITION BY v.household_id ORDER BY v.visit_date, v.visit_id)
        ) AS o JOIN household AS h ON h.household_id = o.household_id
        WHERE o.previous > 0 AND o.income_per_member > 0
          AND (o.income_per_member / o.previous > {factor}
               OR o.previous / o.income_per_member > {factor})
          AND abs(o.income_per_member - o.previous) >= {min_baht}""")
    insert("missed_rounds", "household_id, amphoe_code, q_idx, rounds_missed, longest_gap", """
        SELECT m.*, h.amphoe_code FROM _q_missed AS m
        JOIN household AS h ON h.household_id = m.household_id""")
    # visits by someone with no pairing to the household open on the visit date
    insert("visit_not_by_buddy", f"{visit_columns}, official_id", """
        SELECT v.household_id, v.visit_id, v.visit_date, v.official_id, h.amphoe_code
        FROM visit AS v
        LEFT JOIN pairing AS p ON p.household_id = v.household_id
            AND p.official_id = v.official_id AND p.start_date <= v.visit_date
            AND coalesce(p.end_date, DATE '9999-12-31') >= v.visit_date
        JOIN household AS h ON h.household_id = v.household_id
        WHERE p.household_id IS NULL""")


def build_quality_tables(store: Store, definitions: Definitions) -> None:
    """Rebuild the quality tables. Call inside the caller's transaction, after the other
    derived tables (it reads ``visit_status``, ``quarter_calendar`` and ``status_quarter``)."""
    store.replace_table_from_frame(
        "_q_tambon_ref", tambon_table()[["tambon_code", "amphoe_code"]].drop_duplicates())
    _programme_tables(store, definitions)
    _household_tables(store)
    _completeness(store)
    _missed_rounds(store, definitions.quality.missed_rounds_in_a_row)
    _findings(store, definitions)
    for name in ("_q_tambon_ref", "_q_reach", "_q_household", "_q_late", "_q_missed"):
        store.execute(f'DROP TABLE "{name}"')
