"""Dataset contracts: every importable dataset's columns, declared once.

Each column has a canonical (English, snake_case) name, a kind that says how raw cells are
normalised and validated, whether it is required, whether it is personal data under Thai PDPA,
and the Thai and English header aliases the field teams use. The importer, the store schema, the
demo generator and the privacy layer all read these declarations; nothing else lists columns.

Units: money is baht per year for the whole household (income) or baht outstanding (debt);
per-member figures are derived, never imported. Dates are Gregorian (ISO) once normalised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal[
    "id",  # free identifier text, stripped, Thai digits folded
    "text",
    "int",
    "float",
    "money",  # baht, accepts "12,000", "฿12,000", "12,000 บาท", Thai digits
    "date",  # BE or CE, ISO, d/m/y, Thai month names, Excel serials
    "bool",
    "jpt",  # จปฐ. indicator flag: pass / fail / not applicable
    "amphoe",  # DOPA amphoe code or name, legacy 4026 -> 4029
    "tambon",  # DOPA tambon code or name (resolved within the row's amphoe)
    "agency",  # agency code or Thai/English name
    "citizen_id",  # 13 digits with checksum
    "house_code",  # 11 digits
    "phone",
    "enum",
]

DateWindow = Literal[
    "programme",  # from the programme's start to today (plus a tolerance): an event of it
    "until_today",  # up to today (plus a tolerance): something that has happened
]

HEADER_SYNONYMS = {
    # header words folded to one spelling before headers are compared (lower case)
    "นามสกุล": "สกุล",
    "หมายเลข": "เลข",
    "เลขที่บัตรประชาชน": "เลขบัตรประชาชน",
    "บัตรประจำตัวประชาชน": "ประจำตัวประชาชน",
    "โทรศัพท์มือถือ": "โทรศัพท์",
}
HEADER_FILLERS = ("ข้อมูล", "หัวหน้าครัวเรือน", "ในครัวเรือน", "ของครัวเรือน", "ครัวเรือน")
"""Words a header may carry around the column's own name ("ชื่อ-สกุล หัวหน้าครัวเรือน" is
the head's name, "จำนวนสมาชิกในครัวเรือน" the members): left out when headers are compared
(a header that is only such a word stays as it is)."""
HOUSE_CODE_ALIASES = ("รหัสบ้าน", "เลขรหัสประจำบ้าน", "รหัสประจำบ้าน", "เลขรหัสบ้าน",
                      "house code")

JPT_COUNT = 31
KHON_KAEN_BBOX = (15.5, 101.6, 17.2, 103.3)  # lat_min, lon_min, lat_max, lon_max


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    pii: bool = False
    aliases: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """For enums: canonical value -> accepted spellings (matched case-insensitively)."""
    long_text: bool = False
    """Free text (notes, needs): a longer limit than names (:mod:`loaders.limits`)."""
    window: DateWindow | None = None
    """For dates: the dates accepted, from the definitions file's ``[dates]``."""
    stands_for: str | None = None
    """A column that may stand in for a required one when the file lacks it: a household's
    house code for its programme ID (the household is found by its code, or a new one gets an
    ID derived from it)."""
    stored: bool = True
    """False: read and checked, then used only to find another column's value (a house code
    naming the household of a visit); not a column of the store."""

    @property
    def storage_type(self) -> str:
        """DuckDB/SQL type of the normalised column."""
        return {
            "int": "INTEGER",
            "float": "DOUBLE",
            "money": "DOUBLE",
            "date": "DATE",
            "bool": "BOOLEAN",
            "jpt": "BOOLEAN",
        }.get(self.kind, "VARCHAR")


@dataclass(frozen=True)
class Dataset:
    name: str
    table: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    title_th: str
    title_en: str

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        """The columns the store keeps (not those only used to find another's value)."""
        return [c.name for c in self.columns if c.stored]

    @property
    def pii_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.pii]

    @property
    def stored_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.stored)


def _jpt_columns() -> tuple[Column, ...]:
    cols = []
    for i in range(1, JPT_COUNT + 1):
        name = f"jpt_{i:02d}"
        cols.append(
            Column(
                name,
                "jpt",
                aliases=(f"จปฐ{i}", f"จปฐ.{i}", f"จปฐ {i}", f"จปฐ. {i}", f"jpt{i}", f"jpt {i}"),
            )
        )
    return tuple(cols)


KIND_OF_VISIT = {
    "baseline": ("baseline", "สัมภาษณ์เชิงลึก", "deep interview", "เก็บข้อมูลครั้งแรก", "ครั้งแรก"),
    "follow_up": ("follow_up", "follow-up", "follow up", "ติดตาม", "เยี่ยมติดตาม"),
}
LAND_TENURE = {
    "owned": ("owned", "own", "เป็นเจ้าของ", "ของตนเอง", "มีที่ดินของตนเอง"),
    "rented": ("rented", "rent", "เช่า", "เช่าที่ดิน"),
    "none": ("none", "no land", "ไม่มี", "ไม่มีที่ดิน", "ไม่มีที่ดินทำกิน"),
}
ASSISTANCE_TYPES = {
    "occupation": ("occupation", "อาชีพ", "ส่งเสริมอาชีพ"),
    "employment": ("employment", "การจ้างงาน", "จ้างงาน"),
    "marketing": ("marketing", "การตลาด", "ตลาด"),
    "welfare": ("welfare", "สวัสดิการ", "สวัสดิการสังคม"),
    "land": ("land", "ที่ดิน", "ที่ดินทำกิน"),
    "housing": ("housing", "ที่อยู่อาศัย", "ซ่อมบ้าน"),
    "health": ("health", "สุขภาพ"),
    "education": ("education", "การศึกษา"),
}
PROVIDER_KINDS = {
    "state": ("state", "government", "ภาครัฐ", "หน่วยงานรัฐ"),
    "private": ("private", "เอกชน", "ภาคเอกชน"),
    "university": ("university", "มหาวิทยาลัย", "สถาบันการศึกษา"),
    "community": ("community", "ชุมชน", "ภาคประชาชน"),
}
ASSISTANCE_STATUS = {
    "planned": ("planned", "วางแผน", "อยู่ระหว่างดำเนินการ"),
    "delivered": ("delivered", "done", "ได้รับแล้ว", "ดำเนินการแล้ว", "เสร็จสิ้น"),
    "cancelled": ("cancelled", "canceled", "ยกเลิก"),
}
NEED_TYPES = tuple(ASSISTANCE_TYPES)

HOUSE_CODE_REF = Column("house_code", "house_code", pii=True, aliases=HOUSE_CODE_ALIASES,
                        stands_for="household_id", stored=False)
"""A household named by its house code in a file of visits, pairings or help."""

HOUSEHOLDS = Dataset(
    name="households",
    table="household",
    key=("household_id",),
    title_th="ครัวเรือน",
    title_en="Households",
    columns=(
        Column("household_id", "id", required=True, aliases=("รหัสครัวเรือน", "household id", "hh_id")),
        Column("house_code", "house_code", pii=True, aliases=HOUSE_CODE_ALIASES,
               stands_for="household_id"),
        Column("head_name", "text", required=True, pii=True,
               aliases=("ชื่อหัวหน้าครัวเรือน", "ชื่อ-สกุล", "ชื่อ สกุล", "หัวหน้าครัวเรือน",
                        "head name", "head of household")),
        Column("head_citizen_id", "citizen_id", required=True, pii=True,
               aliases=("เลขประจำตัวประชาชน", "เลขบัตรประชาชน", "citizen id", "national id")),
        Column("phone", "phone", pii=True, aliases=("เบอร์โทร", "โทรศัพท์", "เบอร์โทรศัพท์", "telephone")),
        Column("house_no", "text", pii=True, aliases=("บ้านเลขที่", "เลขที่", "house no", "house number")),
        Column("moo", "int", minimum=1, maximum=40, aliases=("หมู่", "หมู่ที่", "ม.", "village no")),
        Column("tambon_code", "tambon", aliases=("ตำบล", "รหัสตำบล", "ชื่อตำบล", "tambon", "subdistrict")),
        Column("amphoe_code", "amphoe", required=True, aliases=("อำเภอ", "รหัสอำเภอ", "ชื่ออำเภอ", "amphoe", "district")),
        Column("lat", "float", pii=True, minimum=15.5, maximum=17.2, aliases=("ละติจูด", "latitude")),
        Column("lon", "float", pii=True, minimum=101.6, maximum=103.3, aliases=("ลองจิจูด", "longitude", "lng")),
        Column("members", "int", required=True, minimum=1, maximum=30,
               aliases=("จำนวนสมาชิก", "สมาชิก", "จำนวนคน", "household size")),
        Column("enrolled_on", "date", window="programme", aliases=("วันที่เข้าร่วม", "วันที่ลงทะเบียน", "enrolled", "enrolment date")),
    ),
)

OFFICIALS = Dataset(
    name="officials",
    table="official",
    key=("official_id",),
    title_th="เจ้าหน้าที่ (คู่เสี่ยว)",
    title_en="Officials (buddies)",
    columns=(
        Column("official_id", "id", required=True, aliases=("รหัสเจ้าหน้าที่", "official id", "staff id")),
        Column("name", "text", required=True, pii=True, aliases=("ชื่อ-สกุล", "ชื่อ", "ชื่อเจ้าหน้าที่", "official name")),
        Column("position", "text", aliases=("ตำแหน่ง", "position title")),
        Column("agency_code", "agency", required=True, aliases=("หน่วยงาน", "สังกัด", "agency")),
        Column("amphoe_code", "amphoe", required=True, aliases=("อำเภอ", "รหัสอำเภอ", "amphoe", "district")),
        Column("phone", "phone", pii=True, aliases=("เบอร์โทร", "โทรศัพท์", "telephone")),
    ),
)

PAIRINGS = Dataset(
    name="pairings",
    table="pairing",
    key=("official_id", "household_id", "start_date"),
    title_th="การจับคู่",
    title_en="Pairings",
    columns=(
        Column("official_id", "id", required=True, aliases=("รหัสเจ้าหน้าที่", "official id")),
        Column("household_id", "id", required=True, aliases=("รหัสครัวเรือน", "household id")),
        HOUSE_CODE_REF,
        Column("start_date", "date", required=True, window="programme", aliases=("วันที่เริ่ม", "วันเริ่มจับคู่", "วันที่เริ่มจับคู่", "start date", "start")),
        # an end before the start is its own reason (end_before_start)
        Column("end_date", "date", window="until_today", aliases=("วันที่สิ้นสุด", "วันสิ้นสุด", "วันที่สิ้นสุดการจับคู่", "end date", "end")),
    ),
)

VISITS = Dataset(
    name="visits",
    table="visit",
    key=("visit_id",),
    title_th="การเยี่ยมและสัมภาษณ์",
    title_en="Visits and interviews",
    columns=(
        Column("visit_id", "id", required=True, aliases=("รหัสการเยี่ยม", "visit id")),
        Column("household_id", "id", required=True, aliases=("รหัสครัวเรือน", "household id")),
        HOUSE_CODE_REF,
        Column("official_id", "id", required=True, aliases=("รหัสเจ้าหน้าที่", "official id")),
        Column("visit_date", "date", required=True, window="programme", aliases=("วันที่เยี่ยม", "วันที่", "visit date", "date")),
        Column("round", "int", required=True, minimum=0, maximum=40, aliases=("รอบ", "รอบที่", "survey round")),
        Column("kind", "enum", required=True, choices=KIND_OF_VISIT, aliases=("ประเภท", "ประเภทการเยี่ยม", "visit kind")),
        Column("members", "int", required=True, minimum=1, maximum=30, aliases=("จำนวนสมาชิก", "สมาชิก")),
        Column("income_main", "money", minimum=0, maximum=5_000_000,
               aliases=("รายได้อาชีพหลัก", "รายได้หลัก", "main income")),
        Column("income_secondary", "money", minimum=0, maximum=5_000_000,
               aliases=("รายได้อาชีพเสริม", "รายได้เสริม", "secondary income")),
        Column("income_remittance", "money", minimum=0, maximum=5_000_000,
               aliases=("เงินที่ลูกหลานส่งให้", "เงินโอนจากญาติ", "remittances")),
        Column("income_welfare", "money", minimum=0, maximum=5_000_000,
               aliases=("เบี้ยยังชีพและสวัสดิการ", "สวัสดิการรัฐ", "welfare")),
        Column("income_own_food", "money", minimum=0, maximum=5_000_000,
               aliases=("มูลค่าผลผลิตที่บริโภคเอง", "ผลผลิตบริโภคเอง", "own-produced food")),
        Column("debt_formal", "money", minimum=0, maximum=50_000_000,
               aliases=("หนี้ในระบบ", "หนี้ ธ.ก.ส./ธนาคาร", "formal debt")),
        Column("debt_fund", "money", minimum=0, maximum=50_000_000,
               aliases=("หนี้กองทุนหมู่บ้าน", "หนี้กองทุนชุมชน", "community fund debt")),
        Column("debt_informal", "money", minimum=0, maximum=50_000_000,
               aliases=("หนี้นอกระบบ", "informal debt")),
        Column("saves", "bool", aliases=("การออม", "มีเงินออม", "savings")),
        Column("land_tenure", "enum", choices=LAND_TENURE, aliases=("ที่ดินทำกิน", "การถือครองที่ดิน", "land")),
        Column("land_rai", "float", minimum=0, maximum=1000, aliases=("ที่ดิน (ไร่)", "จำนวนไร่", "land rai")),
        *_jpt_columns(),
        Column("needs", "text", long_text=True, aliases=("ความต้องการ", "ปัญหา/ความต้องการ", "needs")),
        # free text may name people or places: personal data until someone reads it
        Column("note", "text", pii=True, long_text=True, aliases=("หมายเหตุ", "บันทึก", "note")),
    ),
)

ASSISTANCE = Dataset(
    name="assistance",
    table="assistance",
    key=("assistance_id",),
    title_th="ความช่วยเหลือ",
    title_en="Assistance",
    columns=(
        Column("assistance_id", "id", required=True, aliases=("รหัสความช่วยเหลือ", "assistance id")),
        Column("household_id", "id", required=True, aliases=("รหัสครัวเรือน", "household id")),
        HOUSE_CODE_REF,
        # no window: planned help may be dated ahead of today
        Column("date", "date", required=True, aliases=("วันที่", "วันที่ช่วยเหลือ", "assistance date")),
        Column("type", "enum", required=True, choices=ASSISTANCE_TYPES,
               aliases=("ประเภท", "ประเภทความช่วยเหลือ", "assistance type")),
        Column("agency_code", "agency", aliases=("หน่วยงาน", "agency")),
        Column("partner", "text", aliases=("ภาคี", "หน่วยงานภาคี", "partner")),
        Column("provider_kind", "enum", required=True, choices=PROVIDER_KINDS,
               aliases=("ประเภทผู้ให้", "ภาคส่วน", "provider kind")),
        Column("value_baht", "money", minimum=0, maximum=10_000_000, aliases=("มูลค่า", "มูลค่า (บาท)", "value")),
        Column("status", "enum", required=True, choices=ASSISTANCE_STATUS, aliases=("สถานะ", "status")),
    ),
)

DATASETS: dict[str, Dataset] = {
    d.name: d for d in (HOUSEHOLDS, OFFICIALS, PAIRINGS, VISITS, ASSISTANCE)
}
IMPORT_ORDER = ("households", "officials", "pairings", "visits", "assistance")
"""Order that satisfies the references between datasets."""

REFERENCES: dict[str, tuple[tuple[str, str, str], ...]] = {
    # dataset -> (column, referenced table, referenced column)
    "pairings": (("official_id", "official", "official_id"), ("household_id", "household", "household_id")),
    "visits": (("official_id", "official", "official_id"), ("household_id", "household", "household_id")),
    "assistance": (("household_id", "household", "household_id"),),
}
