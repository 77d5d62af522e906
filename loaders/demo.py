"""Seeded demo dataset: 1,174 synthetic households, their buddies, visits and help received.

:func:`generate` builds the five canonical datasets (columns exactly as in
:mod:`loaders.contracts`) from one seed; :func:`write_demo` writes them to ``data/demo/`` in the
file format field teams send (UTF-8 with BOM CSV; Thai headers, amphoe names and Buddhist-Era
dates in the household and official files), so the demo goes through the same importer as real
data. Run it with ``python -m loaders demo``.

Everything is synthetic. Names are drawn from lists of common Thai names, every citizen ID starts
with ``09999`` (13 digits with a valid checksum, chosen to stand out as made up), phone numbers
and house codes are random digits.

Model, in brief (money in baht per household per year, dates in CE):

- households are spread over the 26 amphoe roughly in proportion to area, two per official;
- each household has a latent improvement rate made of an amphoe effect, an agency effect (of
  its first buddy) and its own noise; จปฐ. failures fade at that rate, incomes grow with it;
- COVID-19 (rounds 2-3 and 6-8, i.e. Apr-Sep 2020 and Apr-Dec 2021) cuts remittances sharply,
  dents main income and savings, and raises informal debt, so the ladder dips and some
  households fall back;
- a few data-quality problems are planted on purpose; :func:`planted_anomalies` finds them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from domain import reference
from loaders import contracts
from loaders.normalise import citizen_id_check_digit

ROOT = reference.ROOT
DEMO_DIR = ROOT / "data" / "demo"
DEFAULT_SEED = 2562

N_HOUSEHOLDS = 1174
HOUSEHOLDS_PER_OFFICIAL = 2
MIN_HOUSEHOLDS_PER_AMPHOE = 16  # "at least 15", rounded up to whole pairs
PROGRAMME_START = date(2019, 9, 27)
INCOME_LINE = 38_000
"""จปฐ. income line 2560-2564, baht per person per year (jpt_22)."""
N_FOLLOW_UPS = 11
"""Follow-up rounds 1..11, one per calendar quarter from Jan-Mar 2020 to Jul-Sep 2022."""
N_ROUNDS = N_FOLLOW_UPS + 1
LEGACY_WIANG_KAO = "4026"
"""Pre-renumbering code of Wiang Kao (now 4029), written for a few households on purpose."""
N_LEGACY_CODE_ROWS = 5
HELP_FROM, HELP_TO = "2019-11-01", "2022-09-30"
"""Assistance records fall in this window (after the baseline interviews)."""

FILE_NAMES = {name: f"{name}.csv" for name in contracts.IMPORT_ORDER}
THAI_HEADER_DATASETS = ("households", "officials")
"""Datasets written with Thai headers, as the field teams' spreadsheets have them."""

_DAY = np.timedelta64(1, "D")
_ROUND_YEARS = np.arange(N_ROUNDS) * 0.25  # time since the baseline interview, in years

# Round effects, index = round (0 = baseline, Oct-Dec 2019; 11 = Jul-Sep 2022).
_COVID_MAIN = np.array([0, 0, -0.20, -0.12, -0.05, -0.05, -0.15, -0.20, -0.10, -0.04, -0.01, 0])
_COVID_REMITTANCE = np.array([1, 0.95, 0.35, 0.5, 0.7, 0.75, 0.45, 0.35, 0.6, 0.8, 0.9, 1.0])
_COVID_RELIEF = np.array([0, 0, 5000, 5000, 2000, 3500, 3500, 3500, 0, 0, 0, 0])
_COVID_FAIL = np.array([1, 1, 1.3, 1.25, 1.1, 1.1, 1.35, 1.35, 1.15, 1.05, 1, 1])
_COVID_INFORMAL = np.array([1, 1, 1.3, 1.35, 1.25, 1.2, 1.35, 1.4, 1.25, 1.1, 1.0, 1.0])
_COVID_SAVE = np.array([0, 0, -0.4, -0.3, -0.2, -0.2, -0.45, -0.5, -0.3, -0.1, 0, 0])
_COVID_ROUNDS = (2, 3, 6, 7)

# Official head-count shares by agency (uneven on purpose: CDD and DOPA carry the programme).
_AGENCY_WEIGHT = {
    "CDD": 0.20, "DOPA": 0.18, "AGRI": 0.07, "LIVESTOCK": 0.04, "FISHERIES": 0.025,
    "HEALTH": 0.08, "SOCIAL": 0.05, "LABOUR": 0.03, "EMPLOY": 0.025, "COMMERCE": 0.025,
    "COOP": 0.03, "LOCAL": 0.06, "NFE": 0.03, "ALRO": 0.02, "POLICE": 0.11,
}  # fmt: skip
_POSITIONS = {
    "CDD": ("นักวิชาการพัฒนาชุมชนปฏิบัติการ", "นักวิชาการพัฒนาชุมชนชำนาญการ",
            "เจ้าพนักงานพัฒนาชุมชนปฏิบัติงาน", "พัฒนาการอำเภอ"),
    "DOPA": ("ปลัดอำเภอ", "ปลัดอำเภอ", "เจ้าพนักงานปกครองปฏิบัติการ", "เจ้าพนักงานปกครองชำนาญการ"),
    "AGRI": ("นักวิชาการส่งเสริมการเกษตรปฏิบัติการ", "นักวิชาการส่งเสริมการเกษตรชำนาญการ",
             "เจ้าพนักงานการเกษตรปฏิบัติงาน"),
    "LIVESTOCK": ("นายสัตวแพทย์ปฏิบัติการ", "เจ้าพนักงานสัตวบาลปฏิบัติงาน", "ปศุสัตว์อำเภอ"),
    "FISHERIES": ("นักวิชาการประมงปฏิบัติการ", "เจ้าพนักงานประมงปฏิบัติงาน", "ประมงอำเภอ"),
    "HEALTH": ("นักวิชาการสาธารณสุขปฏิบัติการ", "พยาบาลวิชาชีพชำนาญการ",
               "เจ้าพนักงานสาธารณสุขชำนาญงาน"),
    "SOCIAL": ("นักพัฒนาสังคมปฏิบัติการ", "นักสังคมสงเคราะห์ปฏิบัติการ"),
    "LABOUR": ("นักวิชาการแรงงานปฏิบัติการ", "นักวิชาการแรงงานชำนาญการ"),
    "EMPLOY": ("นักวิชาการแรงงานปฏิบัติการ", "เจ้าพนักงานแรงงานปฏิบัติงาน"),
    "COMMERCE": ("นักวิชาการพาณิชย์ปฏิบัติการ", "นักวิชาการพาณิชย์ชำนาญการ"),
    "COOP": ("นักวิชาการสหกรณ์ปฏิบัติการ", "เจ้าพนักงานส่งเสริมสหกรณ์ปฏิบัติงาน"),
    "LOCAL": ("นักวิเคราะห์นโยบายและแผนปฏิบัติการ", "ท้องถิ่นอำเภอ", "นักพัฒนาชุมชนปฏิบัติการ"),
    "NFE": ("ครู กศน.ตำบล", "ครูอาสาสมัครการศึกษานอกโรงเรียน"),
    "ALRO": ("นักวิชาการปฏิรูปที่ดินปฏิบัติการ", "เจ้าพนักงานปฏิรูปที่ดินปฏิบัติงาน"),
}  # fmt: skip
_POLICE_RANKS = (  # (rank, position)
    ("ด.ต.", "ผู้บังคับหมู่"), ("จ.ส.ต.", "ผู้บังคับหมู่"), ("ร.ต.อ.", "รองสารวัตรป้องกันปราบปราม"),
    ("พ.ต.ต.", "สารวัตรป้องกันปราบปราม"),
)  # fmt: skip

_MALE_NAMES = (
    "สมชาย", "สมศักดิ์", "บุญมี", "ประเสริฐ", "สมพงษ์", "ทองใบ", "บุญเลิศ", "สุริยา", "วิชัย",
    "ประยูร", "สมบัติ", "อนุชา", "ชัยวัฒน์", "สุรชัย", "บุญส่ง", "คำพอง", "ทองดี", "บุญหลาย",
    "คำมี", "สมหมาย", "ประสิทธิ์", "สุวิทย์", "บุญชู", "สมาน", "เสถียร", "คำปั่น", "ทองสุข",
    "วันชัย", "สุพัฒน์", "อุดม",
)  # fmt: skip
_FEMALE_NAMES = (
    "สมศรี", "บุญมา", "คำปุน", "ทองคำ", "มาลัย", "สุดารัตน์", "จันทร์เพ็ญ", "อรุณี", "บัวผัน",
    "ประภา", "วันเพ็ญ", "นิตยา", "สายสุนีย์", "กาญจนา", "พิมพ์ใจ", "ละเอียด", "หนูพิน",
    "บุญเรือน", "คำแพง", "ทองพูน", "สมพร", "บัวลา", "จำปา", "ดวงใจ", "สุภาพ", "คำผุน",
    "ทองเหลือง", "บุญหลง", "อำไพ", "เยาวลักษณ์",
)  # fmt: skip
_YOUNG_MALE_NAMES = (
    "ธนวัฒน์", "ณัฐพล", "ปิยะพงษ์", "วรวุฒิ", "เกียรติศักดิ์", "ธีรวัฒน์", "อภิชาติ", "กฤษดา",
    "ศุภชัย", "จักรพันธ์", "พงศกร", "อนุวัฒน์", "ภานุพงศ์", "สิทธิชัย", "ชาญวิทย์", "ธนพล",
)  # fmt: skip
_YOUNG_FEMALE_NAMES = (
    "พิมพ์ชนก", "กมลชนก", "ศิริพร", "อัญชลี", "จิราพร", "สุภาพร", "ชุติมา", "วราภรณ์",
    "ปวีณา", "ณัฐธิดา", "รัชนีกร", "อรวรรณ", "ศศิธร", "นภาพร", "กนกวรรณ", "พัชราภรณ์",
)  # fmt: skip
_SURNAMES = (
    "ใจดี", "ศรีสุข", "แก้วมณี", "บุญมา", "พิมพ์ศรี", "ศรีวงศ์", "ทองสุข", "ภูมิพันธ์", "คำภูมี",
    "ศรีสะอาด", "พลเยี่ยม", "สีหาบุตร", "แสนสุข", "บุตรดี", "มณีวงศ์", "จันทร์หอม", "พรมมา",
    "ดวงจันทร์", "ภูผาลา", "นามวงศ์", "วงศ์คำ", "โพธิ์ศรี", "ศรีบุญเรือง", "ทองมา",
    "สุวรรณชาติ", "แสงอรุณ", "พรหมวงศ์", "บุญประเสริฐ", "ชัยภักดี", "อินทรวงศ์", "คำแก้ว",
    "หาญชนะ", "ศรีแสง", "ไชยสุข", "ปัญญาดี", "นาคสุข", "มูลสาร", "จันทร์ทอง", "สายบุญ",
    "ประทุมชาติ",
)  # fmt: skip

# Who gives which kind of help. State agencies by type; partners as (name, provider_kind).
_STATE_AGENCIES_BY_TYPE = {
    "occupation": ("CDD", "AGRI", "LIVESTOCK", "FISHERIES", "CDD", "AGRI"),
    "employment": ("LABOUR", "EMPLOY", "EMPLOY"),
    "marketing": ("COMMERCE", "COOP", "CDD"),
    "welfare": ("SOCIAL", "LOCAL", "DOPA", "SOCIAL"),
    "land": ("ALRO",),
    "housing": ("SOCIAL", "LOCAL", "DOPA"),
    "health": ("HEALTH",),
    "education": ("NFE", "NFE", "LOCAL"),
}
_PARTNERS_BY_TYPE = {
    "occupation": (("มหาวิทยาลัยขอนแก่น", "university"), ("บริษัท มิตรผล จำกัด", "private"),
                   ("ธนาคารเพื่อการเกษตรและสหกรณ์การเกษตร", "state"),
                   ("กลุ่มออมทรัพย์เพื่อการผลิต", "community"),
                   ("มหาวิทยาลัยราชภัฏขอนแก่น", "university")),
    "employment": (("หอการค้าจังหวัดขอนแก่น", "private"),
                   ("สภาอุตสาหกรรมจังหวัดขอนแก่น", "private")),
    "marketing": (("หอการค้าจังหวัดขอนแก่น", "private"), ("มหาวิทยาลัยขอนแก่น", "university"),
                  ("วิสาหกิจชุมชนในตำบล", "community")),
    "welfare": (("กองทุนหมู่บ้านและชุมชนเมือง", "community"), ("บริษัท มิตรผล จำกัด", "private"),
                ("อาสาสมัครสาธารณสุขประจำหมู่บ้าน (อสม.)", "community")),
    "land": (),
    "housing": (("บริษัท มิตรผล จำกัด", "private"), ("มูลนิธิเพื่อนบ้านขอนแก่น", "community"),
                ("มหาวิทยาลัยเทคโนโลยีราชมงคลอีสาน วิทยาเขตขอนแก่น", "university")),
    "health": (("คณะแพทยศาสตร์ มหาวิทยาลัยขอนแก่น", "university"),
               ("อาสาสมัครสาธารณสุขประจำหมู่บ้าน (อสม.)", "community")),
    "education": (("มหาวิทยาลัยขอนแก่น", "university"),
                  ("มหาวิทยาลัยราชภัฏขอนแก่น", "university")),
}  # fmt: skip
_PARTNER_SHARE = {
    "occupation": 0.22, "employment": 0.2, "marketing": 0.3, "welfare": 0.2, "land": 0.0,
    "housing": 0.25, "health": 0.15, "education": 0.35,
}  # fmt: skip
_VALUE_RANGE = {  # baht, log-uniform between the bounds, rounded to 100
    "occupation": (1_500, 15_000), "employment": (3_000, 24_000), "marketing": (1_000, 6_000),
    "welfare": (500, 6_000), "land": (20_000, 80_000), "housing": (8_000, 45_000),
    "health": (500, 5_000), "education": (1_000, 10_000),
}  # fmt: skip

_NOTES_GENERAL = (
    "ปลูกผักสวนครัวไว้กินและขาย", "เลี้ยงไก่ไข่เพิ่ม", "รับจ้างทั่วไปในหมู่บ้าน",
    "เลี้ยงปลาในบ่อ", "ทอผ้าไหมขาย", "ปลูกมันสำปะหลัง", "ตัดอ้อยตามฤดูกาล",
    "เข้าร่วมกลุ่มอาชีพของหมู่บ้าน", "ทำบัญชีครัวเรือนแล้ว", "เลี้ยงโคสองตัว",
    "ทำปุ๋ยหมักใช้เอง", "เพาะเห็ดขาย",
)  # fmt: skip
_NOTE_BASELINE = "สัมภาษณ์เชิงลึกครั้งแรก"
_NOTE_RETURNED = "ลูกตกงานกลับจากกรุงเทพฯ ช่วงโควิด-19"
_NOTE_HOUSE_FIXED = "ซ่อมแซมบ้านเสร็จแล้ว"
_NOTE_NO_LAND = "ต้องการที่ดินทำกิน"
_NOTE_SHOCK = "หัวหน้าครอบครัวป่วย ทำงานหนักไม่ได้"


# --------------------------------------------------------------------------- public API


def generate(seed: int = DEFAULT_SEED, pace: float = 1.0) -> dict[str, pd.DataFrame]:
    """Build the five demo datasets as canonical frames, keyed by dataset name.

    Columns are exactly ``contracts.DATASETS[name].column_names`` in that order. Dates are
    ``datetime.date`` (CE), money whole baht, phones 10 digits, จปฐ. flags nullable booleans
    (``<NA>`` = not applicable), empty optional text missing. These are the values the importer
    stores from the files :func:`write_demo` writes. The same seed always gives the same frames.
    """
    # one independent stream per stage, so reworking one stage leaves the others' draws alone
    streams = np.random.default_rng(seed).spawn(6)
    rng_hh, rng_off, rng_pair, rng_visit, rng_help, rng_anomaly = streams
    amphoe = reference.amphoe_table()
    tambon = reference.tambon_table()
    agencies = reference.agency_table()["agency_code"].tolist()

    hh = _households(rng_hh, amphoe, tambon)
    off = _officials(rng_off, hh, agencies)
    pair, off = _pairings(rng_pair, hh, off, agencies)
    visits = _visits(rng_visit, hh, off, pair, agencies, pace)
    assistance = _assistance(rng_help, hh, off, pair, visits)
    _plant_anomalies(rng_anomaly, hh, off, pair, visits, tambon)

    frames = {
        "households": _household_frame(hh),
        "officials": _official_frame(off),
        "pairings": _pairing_frame(hh, off, pair),
        "visits": _visit_frame(hh, off, visits),
        "assistance": assistance,
    }
    for name, frame in frames.items():
        expected = contracts.DATASETS[name].column_names
        if list(frame.columns) != expected:  # pragma: no cover - guards future edits
            raise AssertionError(f"{name}: columns {list(frame.columns)} != {expected}")
    return frames


def write_demo(out_dir: Path = DEMO_DIR, seed: int = DEFAULT_SEED,
               pace: float = 1.0) -> dict[str, Path]:
    """Generate the demo data and write it as the CSV files a field team would send.

    Returns the path written per dataset. Files are UTF-8 with BOM and ``\\n`` line ends;
    households and officials carry Thai headers and Buddhist-Era dates, the others canonical
    English headers and ISO dates. ``pace``: see :func:`generate`.
    """
    frames = generate(seed, pace)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = to_files(frames, seed)
    paths = {}
    for name in contracts.IMPORT_ORDER:
        path = out_dir / FILE_NAMES[name]
        files[name].to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
        paths[name] = path
    return paths


def to_files(frames: dict[str, pd.DataFrame], seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Canonical frames -> all-text frames laid out as the demo files (see :func:`write_demo`)."""
    amphoe = reference.amphoe_table()
    tambon = reference.tambon_table()
    amphoe_name = dict(zip(amphoe["amphoe_code"], "อ." + amphoe["name_th"], strict=True))
    tambon_name = dict(zip(tambon["tambon_code"], "ต." + tambon["name_th"], strict=True))

    hh = frames["households"]
    legacy = set(legacy_code_households(hh, seed))
    tambon_ok = hh["tambon_code"].str[:4] == hh["amphoe_code"]
    households = pd.DataFrame(
        {
            "household_id": hh["household_id"],
            "house_code": hh["house_code"],
            "head_name": hh["head_name"],
            "head_citizen_id": hh["head_citizen_id"],
            "phone": hh["phone"].map(_dashed_phone),
            "house_no": hh["house_no"],
            "moo": hh["moo"].astype(str),
            # a tambon outside the row's amphoe cannot be named unambiguously: write its code
            "tambon_code": np.where(
                tambon_ok, hh["tambon_code"].map(tambon_name), hh["tambon_code"]
            ),
            "amphoe_code": np.where(
                hh["household_id"].isin(legacy),
                LEGACY_WIANG_KAO,
                hh["amphoe_code"].map(amphoe_name),
            ),
            "lat": hh["lat"].map("{:.5f}".format),
            "lon": hh["lon"].map("{:.5f}".format),
            "members": hh["members"].astype(str),
            "enrolled_on": hh["enrolled_on"].map(_be_date),
        }
    )
    officials = (
        frames["officials"].assign(phone=frames["officials"]["phone"].map(_dashed_phone)).fillna("")
    )
    pairings = frames["pairings"].assign(
        start_date=frames["pairings"]["start_date"].map(date.isoformat),
        end_date=frames["pairings"]["end_date"].map(lambda d: d.isoformat() if d else ""),
    )
    visits = frames["visits"].copy()
    visits["visit_date"] = visits["visit_date"].map(date.isoformat)
    visits["saves"] = visits["saves"].map({True: "true", False: "false"})
    visits["land_rai"] = visits["land_rai"].map("{:g}".format)
    for i in range(1, contracts.JPT_COUNT + 1):
        col = f"jpt_{i:02d}"
        visits[col] = np.where(
            visits[col].isna(), "na", np.where(visits[col].fillna(False), "pass", "fail")
        )
    visits = visits.fillna("")
    assistance = (
        frames["assistance"]
        .assign(date=frames["assistance"]["date"].map(date.isoformat))
        .fillna("")
    )

    out = {
        "households": households,
        "officials": officials,
        "pairings": pairings,
        "visits": visits,
        "assistance": assistance,
    }
    for name in THAI_HEADER_DATASETS:
        dataset = contracts.DATASETS[name]
        out[name] = out[name].rename(columns={c.name: c.aliases[0] for c in dataset.columns})
    return out


def legacy_code_households(households: pd.DataFrame, seed: int = DEFAULT_SEED) -> list[str]:
    """Wiang Kao households whose file row gives the legacy amphoe code 4026 (sorted ids)."""
    wiang_kao = households.loc[households["amphoe_code"] == "4029", "household_id"].sort_values()
    rng = np.random.default_rng([seed, int(LEGACY_WIANG_KAO)])
    picks = rng.choice(len(wiang_kao), size=min(N_LEGACY_CODE_ROWS, len(wiang_kao)), replace=False)
    return sorted(wiang_kao.iloc[picks].tolist())


def planted_anomalies(frames: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    """Find the data-quality problems in canonical frames; sorted identifiers per problem.

    - ``duplicate_citizen_id``: households whose head_citizen_id another household also has;
    - ``tambon_not_in_amphoe``: households whose tambon_code lies in a different amphoe;
    - ``income_outlier``: visits with income per member over 10 times the median of all visits;
    - ``visit_not_by_buddy``: visits whose official was not the household's buddy that day;
    - ``missed_rounds``: households with 3 or more consecutive follow-up rounds without a visit.
    """
    hh = frames["households"]
    visits = frames["visits"]
    pairings = frames["pairings"]

    dup = hh[hh["head_citizen_id"].duplicated(keep=False)]["household_id"]

    tambon = reference.tambon_table()
    tambon_amphoe = dict(zip(tambon["tambon_code"], tambon["amphoe_code"], strict=True))
    has_tambon = hh["tambon_code"].notna()
    wrong = hh[has_tambon & (hh["tambon_code"].map(tambon_amphoe) != hh["amphoe_code"])]

    income_cols = [c for c in contracts.VISITS.column_names if c.startswith("income_")]
    per_member = visits[income_cols].sum(axis=1) / visits["members"]
    outliers = visits.loc[per_member > 10 * per_member.median(), "visit_id"]

    joined = visits[["visit_id", "household_id", "official_id", "visit_date"]].merge(
        pairings, on=["household_id", "official_id"], how="left"
    )
    end = joined["end_date"].where(joined["end_date"].notna(), date.max)
    covered = (joined["start_date"] <= joined["visit_date"]) & (joined["visit_date"] <= end)
    by_buddy = covered.fillna(False).groupby(joined["visit_id"]).any()
    not_buddy = by_buddy.index[~by_buddy.to_numpy()]

    rounds = range(1, int(visits["round"].max()) + 1)
    seen = pd.crosstab(visits["household_id"], visits["round"]).reindex(
        index=hh["household_id"], columns=rounds, fill_value=0
    )
    missing = seen.to_numpy() == 0
    run = np.zeros(len(seen), dtype=int)
    longest = np.zeros(len(seen), dtype=int)
    for col in range(missing.shape[1]):
        run = np.where(missing[:, col], run + 1, 0)
        longest = np.maximum(longest, run)
    missed = seen.index[longest >= 3]

    return {
        "duplicate_citizen_id": sorted(dup.tolist()),
        "tambon_not_in_amphoe": sorted(wrong["household_id"].tolist()),
        "income_outlier": sorted(outliers.tolist()),
        "visit_not_by_buddy": sorted(not_buddy.tolist()),
        "missed_rounds": sorted(missed.tolist()),
    }


# --------------------------------------------------------------------------- households


def _households(rng: np.random.Generator, amphoe: pd.DataFrame, tambon: pd.DataFrame) -> dict:
    codes = amphoe["amphoe_code"].to_numpy()
    # "roughly" proportional to area: a little noise so the allocation is not mechanical
    weight = amphoe["area_km2"].to_numpy() * rng.lognormal(0.0, 0.12, len(codes))
    pairs = _allocate(
        weight, N_HOUSEHOLDS // HOUSEHOLDS_PER_OFFICIAL, MIN_HOUSEHOLDS_PER_AMPHOE // 2
    )
    per_amphoe = pairs * HOUSEHOLDS_PER_OFFICIAL
    amph_idx = np.repeat(np.arange(len(codes)), per_amphoe)
    n = len(amph_idx)
    seq = np.concatenate([np.arange(1, k + 1) for k in per_amphoe])
    amph_code = codes[amph_idx]
    household_id = np.array([f"KK-{a}-{s:04d}" for a, s in zip(amph_code, seq, strict=True)])

    tambon_codes = np.empty(n, dtype=object)
    for i, code in enumerate(codes):
        mine = tambon.loc[tambon["amphoe_code"] == code, "tambon_code"].to_numpy()
        rows = amph_idx == i
        tambon_codes[rows] = rng.choice(mine, size=int(rows.sum()))

    # coordinates: centroid + offset in a disc that shrinks for small amphoe
    radius = np.minimum(0.08, 0.45 * np.sqrt(amphoe["area_km2"].to_numpy()) / 111.0)[amph_idx]
    r = radius * np.sqrt(rng.random(n))
    theta = rng.random(n) * 2 * np.pi
    lat = np.round(amphoe["centroid_lat"].to_numpy()[amph_idx] + r * np.sin(theta), 5)
    lon = np.round(amphoe["centroid_lon"].to_numpy()[amph_idx] + r * np.cos(theta), 5)

    members = np.minimum(1 + rng.poisson(2.4, n), 8)
    late = rng.random(n) < 0.3
    enrolled = np.datetime64(PROGRAMME_START) + np.where(late, rng.integers(1, 61, n), 0) * _DAY

    house_tail = rng.choice(10_000_000, size=n, replace=False)
    house_code = np.array([f"{a}{t:07d}" for a, t in zip(amph_code, house_tail, strict=True)])
    head_female = rng.random(n) < 0.52
    head_name = _thai_names(rng, head_female, _MALE_NAMES, _FEMALE_NAMES, married_share=0.75)
    cid_tail = rng.choice(10_000_000, size=n, replace=False)
    citizen = np.array([_citizen_id(f"09999{t:07d}") for t in cid_tail])
    phone = _phones(rng, n).astype(object)
    phone[rng.random(n) < 0.08] = None  # some heads have no phone
    house_no = rng.integers(1, 260, n).astype(str).astype(object)
    sub = rng.random(n) < 0.2
    house_no[sub] = [
        f"{h}/{k}" for h, k in zip(house_no[sub], rng.integers(1, 6, sub.sum()), strict=True)
    ]
    return {
        "n": n,
        "id": household_id,
        "amph_idx": amph_idx,
        "amphoe_code": amph_code,
        "tambon_code": tambon_codes,
        "lat": lat,
        "lon": lon,
        "members": members,
        "enrolled": enrolled,
        "house_code": house_code,
        "head_name": head_name,
        "citizen_id": citizen,
        "phone": phone,
        "house_no": house_no,
        "moo": rng.integers(1, 21, n),
        "pairs_per_amphoe": pairs,
        "codes": codes,
    }


def _allocate(weight: np.ndarray, total: int, minimum: int) -> np.ndarray:
    """Largest-remainder split of ``total`` in proportion to ``weight``, each at least minimum."""
    quota = total * weight / weight.sum()
    alloc = np.maximum(np.floor(quota).astype(int), minimum)
    remainder = quota - np.floor(quota)
    for i in np.argsort(-remainder, kind="stable"):
        if alloc.sum() >= total:
            break
        alloc[i] += 1
    while alloc.sum() > total:  # the minimum pushed us over: trim the largest
        alloc[np.argmax(np.where(alloc > minimum, alloc - quota, -np.inf))] -= 1
    return alloc


def _citizen_id(first12: str) -> str:
    return f"{first12}{citizen_id_check_digit(first12)}"


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mobile numbers in canonical form (10 digits, ``08x``); files show them dashed."""
    digits = rng.integers(0, 10, (n, 8))
    second = rng.choice(np.array([1, 2, 4, 5, 6, 8, 9]), n)
    return np.array(
        [
            f"08{s}{d[0]}{d[1]}{d[2]}{d[3]}{d[4]}{d[5]}{d[6]}"
            for s, d in zip(second, digits, strict=True)
        ]
    )


def _dashed_phone(phone: object) -> str:
    """``0812345678`` -> ``081-234-5678`` (as field teams type it); missing -> empty."""
    if not isinstance(phone, str):
        return ""
    return f"{phone[:3]}-{phone[3:6]}-{phone[6:]}"


def _thai_names(
    rng: np.random.Generator,
    female: np.ndarray,
    male_names: tuple[str, ...],
    female_names: tuple[str, ...],
    married_share: float,
) -> np.ndarray:
    n = len(female)
    first_m = np.array(male_names)[rng.integers(0, len(male_names), n)]
    first_f = np.array(female_names)[rng.integers(0, len(female_names), n)]
    surname = np.array(_SURNAMES)[rng.integers(0, len(_SURNAMES), n)]
    title_f = np.where(rng.random(n) < married_share, "นาง", "นางสาว")
    title = np.where(female, title_f, "นาย")
    first = np.where(female, first_f, first_m)
    return np.array([f"{t}{f} {s}" for t, f, s in zip(title, first, surname, strict=True)])


# --------------------------------------------------------------------------- officials


def _officials(rng: np.random.Generator, hh: dict, agencies: list[str]) -> dict:
    pairs = hh["pairs_per_amphoe"]
    n = int(pairs.sum())
    weight = np.array([_AGENCY_WEIGHT[a] for a in agencies])
    counts = _allocate(weight, n, 1)
    agency_idx = rng.permutation(np.repeat(np.arange(len(agencies)), counts))
    amph_idx = np.repeat(np.arange(len(pairs)), pairs)
    return _official_rows(rng, agency_idx, amph_idx, agencies, hh["codes"], first_number=1)


def _official_rows(
    rng: np.random.Generator,
    agency_idx: np.ndarray,
    amph_idx: np.ndarray,
    agencies: list[str],
    amphoe_codes: np.ndarray,
    first_number: int,
) -> dict:
    n = len(agency_idx)
    agency = np.array(agencies)[agency_idx]
    female = rng.random(n) < np.where(agency == "POLICE", 0.0, 0.55)
    names = _thai_names(rng, female, _YOUNG_MALE_NAMES, _YOUNG_FEMALE_NAMES, married_share=0.5)
    positions = np.empty(n, dtype=object)
    pick = rng.random(n)
    for i, code in enumerate(agency):
        if code == "POLICE":
            rank, position = _POLICE_RANKS[int(pick[i] * len(_POLICE_RANKS))]
            names[i] = rank + names[i].removeprefix("นาย")
            positions[i] = position
        else:
            options = _POSITIONS[code]
            positions[i] = options[int(pick[i] * len(options))]
    return {
        "id": np.array([f"OF-{first_number + i:04d}" for i in range(n)]),
        "agency_idx": agency_idx,
        "agency": agency,
        "amph_idx": amph_idx,
        "amphoe_code": amphoe_codes[amph_idx],
        "name": names,
        "position": positions,
        "phone": _phones(rng, n),
    }


# --------------------------------------------------------------------------- pairings


def _pairings(
    rng: np.random.Generator, hh: dict, off: dict, agencies: list[str]
) -> tuple[dict, dict]:
    """First buddy per household, then transfers that close pairings and re-pair households.

    Returns the pairing arrays per household: ``first`` (official index), ``end`` (NaT while
    open), ``second`` (-1 when none) and ``start2``; and the officials with the newcomers who
    replaced transferred buddies appended.
    """
    amphoe_codes = hh["codes"]
    n = hh["n"]
    first = np.empty(n, dtype=int)
    for a in range(len(hh["pairs_per_amphoe"])):
        homes = rng.permutation(np.flatnonzero(hh["amph_idx"] == a))
        buddies = np.flatnonzero(off["amph_idx"] == a)
        first[homes] = np.repeat(buddies, HOUSEHOLDS_PER_OFFICIAL)
    end = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    second = np.full(n, -1)
    start2 = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")

    # 12 transfers, in 12 different amphoe. Plan per transfer:
    #   "replace"  a newcomer takes both households          (x5)
    #   "split"    a newcomer takes one, a colleague the other -> caseloads 1 and 3  (x2)
    #   "spread"   two colleagues take one each -> two caseloads of 3               (x1)
    #   "waiting"  nobody yet: both households wait for a buddy (recent transfers)  (x4)
    plans = ["replace"] * 5 + ["split"] * 2 + ["spread"] + ["waiting"] * 4
    amph = rng.choice(len(hh["pairs_per_amphoe"]), size=len(plans), replace=False)
    taken: set[int] = set()
    newcomer_amph, newcomer_agency, newcomer_for = [], [], []
    for plan, a in zip(plans, amph, strict=True):
        buddies = np.flatnonzero(off["amph_idx"] == a)
        leaver = int(rng.choice(buddies))
        homes = np.flatnonzero(first == leaver)
        if plan == "waiting":
            day = _random_day(rng, "2022-04-20", "2022-08-31")
        else:
            day = _random_day(rng, "2020-03-01", "2021-12-31")
        end[homes] = day
        colleagues = [int(b) for b in buddies if b != leaver and int(b) not in taken]
        if plan in ("replace", "split"):
            newcomer_amph.append(a)
            newcomer_agency.append(off["agency_idx"][leaver])
            newcomer_for.append(homes if plan == "replace" else homes[:1])
        if plan in ("split", "spread"):
            for home in homes if plan == "spread" else homes[1:]:
                colleague = int(rng.choice(colleagues))
                colleagues.remove(colleague)
                taken.add(colleague)
                second[home] = colleague
                start2[home] = day + _DAY
        if plan in ("replace", "split"):
            start2[newcomer_for[-1]] = day + _DAY
    newcomers = _official_rows(
        rng,
        np.array(newcomer_agency),
        np.array(newcomer_amph),
        agencies,
        amphoe_codes,
        first_number=len(off["id"]) + 1,
    )
    for k, homes in enumerate(newcomer_for):
        second[homes] = len(off["id"]) + k
    everyone = {key: np.concatenate([off[key], newcomers[key]]) for key in off}
    return {"first": first, "end": end, "second": second, "start2": start2}, everyone


def _random_day(rng: np.random.Generator, lo: str, hi: str) -> np.datetime64:
    lo_d, hi_d = np.datetime64(lo), np.datetime64(hi)
    return lo_d + int(rng.integers(0, int((hi_d - lo_d) / _DAY) + 1)) * _DAY


def _buddy_on(pair: dict, day: np.ndarray) -> np.ndarray:
    """Official index per (household, round) for visit days of shape (H, R); -1 = no buddy."""
    end = pair["end"][:, None]
    first_ok = np.isnat(end) | (day <= end)
    second_ok = (pair["second"][:, None] >= 0) & (day >= pair["start2"][:, None])
    return np.where(
        first_ok, pair["first"][:, None], np.where(second_ok, pair["second"][:, None], -1)
    )


# --------------------------------------------------------------------------- visits


def _visits(rng: np.random.Generator, hh: dict, off: dict, pair: dict, agencies: list[str],
            pace: float = 1.0) -> dict:
    """All visit values as (household, round) arrays, with a mask of visits that happened."""
    n, r_count = hh["n"], N_ROUNDS
    t = _ROUND_YEARS[None, :]

    # --- visit days
    day = np.empty((n, r_count), dtype="datetime64[D]")
    lo = np.maximum(hh["enrolled"] + 3 * _DAY, np.datetime64("2019-10-01"))
    span = (np.datetime64("2019-12-20") - lo) / _DAY
    day[:, 0] = lo + (rng.random(n) * (span + 1)).astype(int) * _DAY
    for r in range(1, r_count):
        q_start = np.datetime64("2020-01", "M") + 3 * (r - 1)
        q_len = int((np.datetime64(q_start + 3, "D") - np.datetime64(q_start, "D")) / _DAY)
        day[:, r] = np.datetime64(q_start, "D") + rng.integers(3, q_len - 5, n) * _DAY
    buddy = _buddy_on(pair, day)

    # --- who is visited: ~6% of follow-ups missed, plus planted runs of 3-5 missed rounds
    happened = rng.random((n, r_count)) >= 0.06
    happened[:, 0] = True
    special = np.flatnonzero(~np.isnat(pair["end"]))
    candidates = np.setdiff1d(np.arange(n), special)
    run_homes = rng.choice(candidates, size=12, replace=False)
    for home in run_homes:
        length = int(rng.integers(3, 6))
        start = int(rng.integers(1, N_FOLLOW_UPS - length + 2))
        happened[home, start : start + length] = False
    happened &= buddy >= 0

    # --- household traits
    members = hh["members"]
    elderly = np.where(members == 1, rng.random(n) < 0.75, rng.random(n) < 0.55)
    n_elderly = elderly * (1 + (rng.random(n) < 0.35) * (members >= 2))
    disabled = rng.random(n) < 0.12
    chronic = rng.random(n) < np.where(elderly, 0.4, 0.18)
    young = rng.random(n) < np.select([members >= 3, members == 2], [0.55, 0.15], 0.0)
    infant = young & (rng.random(n) < 0.08)
    child_3_5 = young & (rng.random(n) < 0.3)
    child_6_14 = young & (rng.random(n) < 0.7)
    teen = (members >= 3) & (rng.random(n) < 0.12)
    leaver = (members >= 3) & (rng.random(n) < 0.08)

    n_amphoe = len(hh["codes"])
    amph_eff = rng.normal(0, 0.3, n_amphoe)[hh["amph_idx"]]
    amph_level = rng.normal(0, 0.12, n_amphoe)[hh["amph_idx"]]
    amph_fail = np.exp(rng.normal(0, 0.25, n_amphoe))[hh["amph_idx"]]
    agency_eff = rng.normal(0, 0.3, len(agencies))[off["agency_idx"][pair["first"]]]
    drive = amph_eff + agency_eff + rng.normal(0, 0.3, n)
    k = (0.45 * pace * np.exp(drive))[:, None]  # how fast จปฐ. failures fade, per year
    # log income per year
    growth = (0.15 * pace * np.exp(0.8 * drive) + rng.normal(0, 0.04, n))[:, None]

    # --- members at each visit: usually unchanged; returning migrants in COVID rounds
    remits = rng.random(n) < 0.55
    returned = np.zeros((n, r_count), dtype=bool)
    returned[:, list(_COVID_ROUNDS)] = remits[:, None] & (rng.random((n, len(_COVID_ROUNDS))) < 0.1)
    draw = rng.random((n, r_count))
    wobble = np.where(draw < 0.03, -1, np.where(draw > 0.97, 1, 0))
    wobble[:, 0] = 0
    visit_members = np.maximum(members[:, None] + wobble + returned, 1)

    # --- income, baht per household per year
    base_main = np.exp(np.log(15_000) + amph_level + rng.normal(0, 0.45, n)) * members
    main_noise = _ar_noise(rng, n, r_count, sd=0.08)
    main = base_main[:, None] * np.exp(growth * t + _COVID_MAIN[None, :] + main_noise)
    # a few households lose their main earner's work for good (illness, accident): fall-backs
    shock_round = np.where(rng.random(n) < 0.05, rng.integers(3, N_ROUNDS, n), N_ROUNDS + 1)
    shocked = np.arange(r_count)[None, :] >= shock_round[:, None]
    main = np.where(shocked, 0.45 * main, main)

    sec_start = np.where(rng.random(n) < 0.35, 0.0, rng.exponential(3.0 / np.exp(drive)))
    sec_amount = np.exp(np.log(12_000) + rng.normal(0, 0.5, n))[:, None]
    secondary = np.where(t >= sec_start[:, None], sec_amount * np.exp(growth * t), 0.0)
    secondary *= np.exp(_ar_noise(rng, n, r_count, sd=0.1) + 0.5 * _COVID_MAIN[None, :])

    rem_amount = np.exp(np.log(22_000) + rng.normal(0, 0.6, n)) * remits
    remittance = rem_amount[:, None] * _COVID_REMITTANCE[None, :]
    remittance *= np.exp(rng.normal(0, 0.15, (n, r_count))) * ~returned

    card = rng.random(n) < 0.85
    welfare_base = (
        card * 3_000
        + n_elderly * 7_800
        + disabled * 9_600
        + (young & (members >= 3)) * (rng.random(n) < 0.4) * 7_200
    )
    relief = (rng.random(n) < 0.6)[:, None] * _COVID_RELIEF[None, :]
    welfare = welfare_base[:, None] + relief

    tenure_draw = rng.random(n)
    tenure0 = np.where(tenure_draw < 0.5, "owned", np.where(tenure_draw < 0.7, "rented", "none"))
    rai0 = np.select(
        [tenure0 == "owned", tenure0 == "rented"],
        [np.round(rng.lognormal(np.log(5), 0.5, n) * 4) / 4, np.round(rng.uniform(2, 10, n))],
        0.0,
    )
    # a few landless households get farm land from ALRO (ส.ป.ก.) during the programme
    granted = (tenure0 == "none") & (rng.random(n) < 0.12)
    grant_day = np.where(
        granted,
        np.datetime64("2020-06-01") + rng.integers(0, 640, n) * _DAY,
        np.datetime64("NaT"),
    ).astype("datetime64[D]")
    has_land_now = granted[:, None] & (day >= grant_day[:, None])
    tenure = np.where(has_land_now, "owned", tenure0[:, None])
    rai = np.where(has_land_now, np.round(rng.uniform(3, 8, n) * 2)[:, None] / 2, rai0[:, None])
    food_base = np.select([tenure0 == "owned", tenure0 == "rented"], [12_000, 7_000], 2_500)
    garden = rng.random(n) < np.where(tenure0 == "none", 0.5, 0.95)  # landless: often nothing
    own_food = np.where(has_land_now, 9_000, food_base[:, None] * garden[:, None]) * np.exp(
        0.06 * t + rng.normal(0, 0.25, (n, 1)) + rng.normal(0, 0.1, (n, r_count))
    )

    income = {
        "income_main": _baht(main, 10),
        "income_secondary": _baht(secondary, 10),
        "income_remittance": _baht(remittance, 10),
        "income_welfare": _baht(welfare, 1),
        "income_own_food": _baht(own_food, 10),
    }
    total = sum(income.values())
    per_member = total / visit_members

    # --- debts, baht outstanding
    has_formal = rng.random(n) < 0.55
    formal = (
        has_formal[:, None] * np.exp(np.log(60_000) + rng.normal(0, 0.7, (n, 1))) * (1 + 0.05 * t)
    )
    has_fund = rng.random(n) < 0.4
    fund = (
        has_fund[:, None]
        * np.exp(np.log(15_000) + rng.normal(0, 0.5, (n, 1)))
        * np.exp(rng.normal(0, 0.1, (n, r_count)))
    )
    informal_u = rng.random(n)[:, None] + rng.normal(0, 0.03, (n, r_count))
    informal_p = 0.36 * np.exp(-0.3 * (k / 0.45) * t) * _COVID_INFORMAL[None, :]
    has_informal = informal_u < informal_p
    informal = has_informal * np.exp(np.log(15_000) + rng.normal(0, 0.7, (n, 1))) * np.exp(-0.2 * t)

    # --- savings: more likely with more income, with progress, less in COVID rounds
    saves_z = (
        rng.normal(0, 1, n)[:, None]
        + 0.8 * np.log(per_member / INCOME_LINE)
        + 0.15 * t * np.exp(0.7 * drive)[:, None]
        + _COVID_SAVE[None, :]
        + rng.normal(0, 0.3, (n, r_count))
    )
    saves = saves_z > 0.8

    # --- จปฐ. flags: failure probabilities fade at the household's rate k
    # A household fails where its own fixed draw u falls under the (fading) failure
    # probability, so a failure persists until progress lifts it, and COVID can bring it back.
    def fails(p0: float, speed: float = 1.0) -> np.ndarray:
        p = p0 * amph_fail[:, None] * np.exp(-speed * k * t) * _COVID_FAIL[None, :]
        u = rng.random(n)[:, None] + rng.normal(0, 0.025, (n, r_count))
        return u < p

    jpt = {i: ~fails(p0) for i, p0 in _JPT_FAIL_P0.items()}
    jpt[8] = ~fails(0.21, speed=1.4)
    jpt[9] = ~fails(0.10, speed=1.4)
    care = rng.random(n)[:, None]
    care_p = 0.13 * amph_fail[:, None] * np.exp(-1.2 * k * t) * _COVID_FAIL[None, :]
    for i in (27, 28, 29):
        jpt[i] = ~(care + rng.normal(0, 0.04, (n, r_count)) < care_p)
    jpt[20] = ~(fails(0.13) | (income["income_main"] / members[:, None] < 7_000))
    jpt[22] = per_member >= INCOME_LINE
    jpt[23] = saves
    applies = {
        1: infant, 2: infant, 3: young, 15: child_3_5, 16: child_6_14, 17: teen, 18: leaver,
        21: elderly, 27: elderly, 28: disabled, 29: chronic,
    }  # fmt: skip
    flags = {}
    for i in range(1, contracts.JPT_COUNT + 1):
        value = np.broadcast_to(jpt[i], (n, r_count))
        flag = np.where(value, 1, 0).astype(np.int8)
        if i in applies:
            flag = np.where(applies[i][:, None], flag, -1).astype(np.int8)
        flags[i] = flag  # 1 pass, 0 fail, -1 not applicable

    # --- needs and notes
    needs = _needs(rng, flags, tenure, per_member, elderly, chronic, young, secondary > 0)
    note = _notes(rng, flags, returned, tenure)
    note[np.arange(r_count)[None, :] == shock_round[:, None]] = _NOTE_SHOCK

    return {
        "day": day,
        "happened": happened,
        "buddy": buddy,
        "members": visit_members,
        "income": income,
        "debt_formal": _baht(formal, 100),
        "debt_fund": _baht(fund, 100),
        "debt_informal": _baht(informal, 500),
        "saves": saves,
        "tenure": tenure,
        "rai": rai,
        "flags": flags,
        "needs": needs,
        "note": note,
        "grant_day": grant_day,
        "tenure0": tenure0,
        "elderly": elderly,
        "chronic": chronic,
        "young": young,
        "run_homes": run_homes,
    }


# Baseline failure probabilities of the indicators not modelled explicitly above.
_JPT_FAIL_P0 = {
    1: 0.08, 2: 0.25, 3: 0.06, 4: 0.05, 5: 0.04, 6: 0.15, 7: 0.25, 10: 0.12, 11: 0.10,
    12: 0.05, 13: 0.06, 14: 0.04, 15: 0.10, 16: 0.05, 17: 0.30, 18: 0.50, 19: 0.06, 21: 0.40,
    24: 0.35, 25: 0.30, 26: 0.20, 30: 0.10, 31: 0.05,
}  # fmt: skip


def _ar_noise(rng: np.random.Generator, n: int, r_count: int, sd: float) -> np.ndarray:
    """Noise along rounds that carries over from one round to the next (AR(1), rho 0.6)."""
    eps = rng.normal(0, sd, (n, r_count))
    out = np.empty_like(eps)
    out[:, 0] = eps[:, 0]
    for r in range(1, r_count):
        out[:, r] = 0.6 * out[:, r - 1] + 0.8 * eps[:, r]
    return out


def _baht(values: np.ndarray, step: int) -> np.ndarray:
    return (np.round(np.asarray(values, dtype=float) / step) * step).astype(np.int64)


def _needs(
    rng: np.random.Generator,
    flags: dict[int, np.ndarray],
    tenure: np.ndarray,
    per_member: np.ndarray,
    elderly: np.ndarray,
    chronic: np.ndarray,
    young: np.ndarray,
    has_secondary: np.ndarray,
) -> np.ndarray:
    shape = per_member.shape
    draw = rng.random((8, *shape))
    wants = {
        "occupation": (flags[20] == 0) | ((per_member < 0.9 * INCOME_LINE) & (draw[0] < 0.6)),
        "employment": (flags[20] == 0) & (draw[1] < 0.5),
        "marketing": has_secondary & (draw[2] < 0.25),
        "welfare": ((flags[27] == 0) | (flags[28] == 0)) | (elderly[:, None] & (draw[3] < 0.25)),
        "land": (tenure == "none") & (draw[4] < 0.9),
        "housing": flags[8] == 0,
        "health": (flags[29] == 0) | (chronic[:, None] & (draw[6] < 0.3)),
        "education": young[:, None] & (draw[7] < 0.12),
    }
    out = np.full(shape, "", dtype=object)
    for need in contracts.NEED_TYPES:  # contract order, so the text is stable
        add = wants[need]
        out = np.where(add & (out != ""), out + ";" + need, np.where(add, need, out))
    return out


def _notes(
    rng: np.random.Generator,
    flags: dict[int, np.ndarray],
    returned: np.ndarray,
    tenure: np.ndarray,
) -> np.ndarray:
    shape = returned.shape
    general = np.array(_NOTES_GENERAL, dtype=object)[rng.integers(0, len(_NOTES_GENERAL), shape)]
    out = np.where(rng.random(shape) < 0.18, general, None)
    out = np.where((tenure == "none") & (rng.random(shape) < 0.08), _NOTE_NO_LAND, out)
    fixed = np.zeros(shape, dtype=bool)
    fixed[:, 1:] = (flags[8][:, 1:] == 1) & (flags[8][:, :-1] == 0)
    out = np.where(fixed & (rng.random(shape) < 0.7), _NOTE_HOUSE_FIXED, out)
    out = np.where(returned & (rng.random(shape) < 0.6), _NOTE_RETURNED, out)
    out[:, 0] = np.where(rng.random(shape[0]) < 0.25, _NOTE_BASELINE, out[:, 0])
    return out


# --------------------------------------------------------------------------- assistance


def _assistance(
    rng: np.random.Generator, hh: dict, off: dict, pair: dict, visits: dict
) -> pd.DataFrame:
    """Help records, driven by what the visits show (housing fixed after help, land rare)."""
    n = hh["n"]
    flags = visits["flags"]
    day = visits["day"]
    first_day = np.maximum(day[:, 0], np.datetime64(HELP_FROM))
    last_day = np.datetime64(HELP_TO)
    rows: list[tuple] = []  # (household index, day, type, status)

    def add(homes: np.ndarray, days: np.ndarray, kind: str, status: np.ndarray | str) -> None:
        statuses = np.broadcast_to(np.asarray(status, dtype=object), homes.shape).tolist()
        rows.extend(zip(homes.tolist(), days.tolist(), [kind] * len(homes), statuses, strict=True))

    def spread(homes: np.ndarray, lo: object, hi: object = last_day) -> np.ndarray:
        """A random day per household between lo and hi (scalars or per-household arrays)."""
        lo = np.broadcast_to(np.asarray(lo, dtype="datetime64[D]"), homes.shape)
        hi = np.broadcast_to(np.asarray(hi, dtype="datetime64[D]"), homes.shape)
        span = np.maximum((hi - lo) / _DAY, 0)
        return lo + (rng.random(len(homes)) * (span + 1)).astype(int) * _DAY

    # housing: help shortly before the visit that first shows a durable house
    failed0 = flags[8][:, 0] == 0
    fixed_round = np.argmax(
        (flags[8] == 1) & visits["happened"] & (np.arange(N_ROUNDS) > 0), axis=1
    )
    got_fixed = failed0 & (fixed_round > 0)
    homes = np.flatnonzero(got_fixed)
    fix_day = day[homes, fixed_round[homes]]
    add(homes, spread(homes, np.maximum(fix_day - 80 * _DAY, first_day[homes]), fix_day - 7 * _DAY),
        "housing", "delivered")  # fmt: skip
    homes = np.flatnonzero(failed0 & ~got_fixed & (rng.random(n) < 0.5))
    add(homes, spread(homes, "2022-05-01"), "housing", "planned")

    # land: the programme could rarely solve it; grants are the only delivered land help
    grant = ~np.isnat(visits["grant_day"])
    homes = np.flatnonzero(grant)
    add(homes, visits["grant_day"][homes] - rng.integers(0, 20, len(homes)) * _DAY, "land",
        "delivered")  # fmt: skip
    homes = np.flatnonzero((visits["tenure0"] == "none") & ~grant & (rng.random(n) < 0.1))
    not_yet = np.where(rng.random(len(homes)) < 0.6, "planned", "cancelled")
    add(homes, spread(homes, first_day[homes] + 60 * _DAY), "land", not_yet)

    # welfare: care of elderly / disabled / chronically ill, and relief packs in the COVID waves
    needy = visits["elderly"] | visits["chronic"] | (flags[28][:, 0] >= 0)
    homes = np.flatnonzero(needy & (rng.random(n) < 0.35))
    add(homes, spread(homes, first_day[homes]), "welfare", "delivered")
    for lo, hi, share in (("2020-04-01", "2020-06-15", 0.25), ("2021-07-01", "2021-09-15", 0.15)):
        homes = np.flatnonzero(rng.random(n) < share)
        add(homes, spread(homes, lo, hi), "welfare", "delivered")

    # occupation for most households, some twice; employment for those without work; the rest
    count = rng.choice(np.array([0, 0, 1, 1, 1, 2]), n)
    for j in range(2):
        homes = np.flatnonzero(count > j)
        add(homes, spread(homes, first_day[homes] + 14 * _DAY), "occupation", "delivered")
    homes = np.flatnonzero((flags[20][:, 0] == 0) & (rng.random(n) < 0.55))
    add(homes, spread(homes, first_day[homes]), "employment", "delivered")
    homes = np.flatnonzero(rng.random(n) < 0.12)
    add(homes, spread(homes, first_day[homes] + 90 * _DAY), "marketing", "delivered")
    homes = np.flatnonzero(visits["chronic"] & (rng.random(n) < 0.3))
    add(homes, spread(homes, first_day[homes]), "health", "delivered")
    homes = np.flatnonzero(visits["young"] & (rng.random(n) < 0.15))
    add(homes, spread(homes, first_day[homes]), "education", "delivered")

    frame = pd.DataFrame(rows, columns=["home", "day", "type", "status"])
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    frame = frame.sort_values(["day", "home", "type"], kind="stable").reset_index(drop=True)
    m = len(frame)
    home = frame["home"].to_numpy()
    kinds = frame["type"].to_numpy()
    days64 = np.array(frame["day"].tolist(), dtype="datetime64[D]")

    # most delivered help stays delivered; a few recent items are still planned, a few cancelled
    status = frame["status"].to_numpy().copy()
    late = days64 >= np.datetime64("2022-06-01")
    draw = rng.random(m)
    status[(status == "delivered") & late & (draw < 0.35)] = "planned"
    status[(status == "delivered") & (draw > 0.975)] = "cancelled"

    # provider: the buddy's own agency, a relevant agency, or a partner
    buddy_now = _buddy_for_rows(pair, home, days64)
    buddy_agency = np.where(buddy_now >= 0, off["agency"][np.maximum(buddy_now, 0)], "")
    agency = np.empty(m, dtype=object)
    partner = np.full(m, None, dtype=object)
    provider = np.empty(m, dtype=object)
    pick = rng.random((3, m))
    for i, kind in enumerate(kinds):
        partners = _PARTNERS_BY_TYPE[kind]
        if partners and pick[0, i] < _PARTNER_SHARE[kind]:
            name, provider_kind = partners[int(pick[1, i] * len(partners))]
            partner[i], provider[i], agency[i] = name, provider_kind, None
            continue
        relevant = _STATE_AGENCIES_BY_TYPE[kind]
        own = buddy_agency[i]
        use_own = own and kind != "land" and (own in relevant or pick[2, i] < 0.35)
        agency[i] = own if use_own else relevant[int(pick[2, i] * len(relevant))]
        provider[i] = "state"

    low = np.array([_VALUE_RANGE[x][0] for x in kinds], dtype=float)
    high = np.array([_VALUE_RANGE[x][1] for x in kinds], dtype=float)
    value = np.exp(np.log(low) + rng.random(m) * (np.log(high) - np.log(low)))
    return pd.DataFrame(
        {
            "assistance_id": [f"A-{i:05d}" for i in range(1, m + 1)],
            "household_id": hh["id"][home],
            "date": frame["day"],
            "type": kinds,
            "agency_code": agency,
            "partner": partner,
            "provider_kind": provider,
            "value_baht": _baht(value, 100),
            "status": status,
        }
    )


def _buddy_for_rows(pair: dict, home: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Official index per (household, day) row; -1 = no buddy that day."""
    sub = {k: v[home] for k, v in pair.items()}
    return _buddy_on(sub, day[:, None])[:, 0]


# --------------------------------------------------------------------------- anomalies


def _plant_anomalies(
    rng: np.random.Generator,
    hh: dict,
    off: dict,
    pair: dict,
    visits: dict,
    tambon: pd.DataFrame,
) -> None:
    """Plant the data-quality problems (in place). Every row stays importable."""
    n = hh["n"]
    transferred = ~np.isnat(pair["end"])
    calm = np.setdiff1d(np.flatnonzero(~transferred), visits["run_homes"])
    picks = rng.choice(calm, size=4, replace=False)

    # 1. two households, in different amphoe, share one head's citizen ID
    a, b = picks[0], picks[1]
    if hh["amph_idx"][a] == hh["amph_idx"][b]:
        b = next(int(h) for h in calm if hh["amph_idx"][h] != hh["amph_idx"][a])
    hh["citizen_id"][b] = hh["citizen_id"][a]

    # 2. two households with a tambon of an amphoe whose code is next to theirs (a slip of one
    #    digit), written as its 6-digit code
    for home in picks[2:4]:
        others = tambon[tambon["amphoe_code"] != hh["amphoe_code"][home]]
        nearest = others.assign(
            gap=(others["tambon_code"].str[:4].astype(int) - int(hh["amphoe_code"][home])).abs()
        ).sort_values(["gap", "tambon_code"], kind="stable")
        hh["tambon_code"][home] = nearest["tambon_code"].iloc[int(rng.integers(0, 3))]

    # 3. three follow-up visits whose main income got two extra zeros (x100), putting income
    #    per member at 15-25 times the typical visit's
    main = visits["income"]["income_main"]
    total = sum(visits["income"].values())
    per_member = total / visits["members"]
    typical = np.median(per_member[visits["happened"]])
    slipped = (total + 99 * main) / visits["members"] / typical
    ok = (
        visits["happened"]
        & (np.arange(N_ROUNDS) > 0)[None, :]
        & (slipped > 15) & (slipped < 25)
        & (main * 100 < contracts.VISITS.column("income_main").maximum)
    )  # fmt: skip
    ok[~np.isin(np.arange(n), calm)] = False
    cells = np.argwhere(ok)
    for home, r in cells[rng.choice(len(cells), size=3, replace=False)]:
        main[home, r] *= 100

    # 4. five visits made by a colleague in the same amphoe, not the buddy
    ok = visits["happened"] & (np.arange(N_ROUNDS) > 0)[None, :] & (main < 1_000_000)
    ok[~np.isin(np.arange(n), calm)] = False
    cells = np.argwhere(ok)
    for home, r in cells[rng.choice(len(cells), size=5, replace=False)]:
        buddy = visits["buddy"][home, r]
        colleagues = np.flatnonzero(
            (off["amph_idx"] == off["amph_idx"][buddy]) & (np.arange(len(off["id"])) != buddy)
        )
        visits["buddy"][home, r] = int(rng.choice(colleagues))


# --------------------------------------------------------------------------- frames


def _household_frame(hh: dict) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_id": hh["id"],
            "house_code": hh["house_code"],
            "head_name": hh["head_name"],
            "head_citizen_id": hh["citizen_id"],
            "phone": hh["phone"],
            "house_no": hh["house_no"],
            "moo": hh["moo"].astype(np.int64),
            "tambon_code": hh["tambon_code"],
            "amphoe_code": hh["amphoe_code"],
            "lat": hh["lat"],
            "lon": hh["lon"],
            "members": hh["members"].astype(np.int64),
            "enrolled_on": hh["enrolled"].astype(object),
        }
    )


def _official_frame(off: dict) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "official_id": off["id"],
            "name": off["name"],
            "position": off["position"],
            "agency_code": off["agency"],
            "amphoe_code": off["amphoe_code"],
            "phone": off["phone"],
        }
    )


def _pairing_frame(hh: dict, off: dict, pair: dict) -> pd.DataFrame:
    first = pd.DataFrame(
        {
            "official_id": off["id"][pair["first"]],
            "household_id": hh["id"],
            "start_date": hh["enrolled"].astype(object),
            "end_date": [None if np.isnat(d) else d.astype(object) for d in pair["end"]],
        }
    )
    has2 = pair["second"] >= 0
    second = pd.DataFrame(
        {
            "official_id": off["id"][pair["second"][has2]],
            "household_id": hh["id"][has2],
            "start_date": pair["start2"][has2].astype(object),
            "end_date": None,
        }
    )
    out = pd.concat([first, second], ignore_index=True)
    out["end_date"] = out["end_date"].astype(object).where(out["end_date"].notna(), None)
    return out.sort_values(["household_id", "start_date"], kind="stable").reset_index(drop=True)


def _visit_frame(hh: dict, off: dict, v: dict) -> pd.DataFrame:
    home, rnd = np.nonzero(v["happened"])
    day = v["day"][home, rnd]
    order = np.lexsort((rnd, hh["id"][home], day))
    home, rnd, day = home[order], rnd[order], day[order]
    m = len(home)
    data = {
        "visit_id": [f"V-{i:06d}" for i in range(1, m + 1)],
        "household_id": hh["id"][home],
        "official_id": off["id"][v["buddy"][home, rnd]],
        "visit_date": day.astype(object),
        "round": rnd.astype(np.int64),
        "kind": np.where(rnd == 0, "baseline", "follow_up"),
        "members": v["members"][home, rnd].astype(np.int64),
    }
    for col, values in v["income"].items():
        data[col] = values[home, rnd]
    for col in ("debt_formal", "debt_fund", "debt_informal"):
        data[col] = v[col][home, rnd]
    data["saves"] = v["saves"][home, rnd]
    data["land_tenure"] = v["tenure"][home, rnd]
    data["land_rai"] = v["rai"][home, rnd].astype(float)
    for i in range(1, contracts.JPT_COUNT + 1):
        flag = v["flags"][i][home, rnd]
        data[f"jpt_{i:02d}"] = pd.array(
            np.where(flag < 0, None, flag == 1).tolist(), dtype="boolean"
        )
    needs = v["needs"][home, rnd]
    data["needs"] = np.where(needs == "", None, needs)
    data["note"] = v["note"][home, rnd]
    return pd.DataFrame(data)


def _be_date(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year + 543}"
