"""The importer at scale: chunked validation gives the same answers as one chunk, whole-file
checks see across chunks, several files import as one, and the bulk recognisers agree with the
cell parsers."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loaders import importer
from loaders.contracts import DATASETS, HOUSEHOLDS, Column
from loaders.importer import import_bytes, import_file, import_files, undo_last_import
from loaders.normalise import CellError
from loaders.store import Store
from loaders.validate import _parse_uniques, _parser
from tests.conftest import ROOT
from tests.factories import synthetic_citizen_id, tiny_frames, write_csvs


def issue_keys(report: importer.ImportReport) -> list[tuple]:
    return [(i.row, i.column, i.value, i.reason_key, i.severity, tuple(sorted(i.params.items())))
            for i in report.issues]


def store_snapshot(store: Store) -> dict[str, list[str]]:
    out = {}
    for name in [d.table for d in DATASETS.values()] + ["status_quarter", "import_warning"]:
        frame = store.table(name).execute()
        out[name] = sorted(map(repr, frame.astype(str).itertuples(index=False)))
    return out


def households_with_problems(n: int = 40) -> pd.DataFrame:
    """``n`` new households in Thai spellings, with errors and warnings planted far apart."""
    rows = []
    for k in range(n):
        rows.append({
            "household_id": f"S{k:03d}", "house_code": "", "head_name": f"นาง ทดสอบ {k}",
            "head_citizen_id": synthetic_citizen_id(500 + k), "phone": "",
            "house_no": str(k), "moo": str(k % 9 + 1), "tambon_code": "ในเมือง",
            "amphoe_code": "อ.เมืองขอนแก่น", "lat": "", "lon": "", "members": "๔",
            "enrolled_on": "27/09/2562",
        })
    frame = pd.DataFrame(rows)
    frame.loc[3, "members"] = "99"  # out of range
    frame.loc[11, "enrolled_on"] = "31/02/2562"  # impossible date
    frame.loc[17, "head_name"] = "-"  # required, blank
    frame.loc[29, "household_id"] = "S004"  # duplicate of row 6, chunks apart
    frame.loc[33, "head_citizen_id"] = synthetic_citizen_id(501)  # shared with row 3: warning
    frame.loc[38, "tambon_code"] = "400501"  # a tambon of another amphoe: warning
    frame.loc[39, "amphoe_code"] = "ไม่มีจริง"
    return frame


@pytest.mark.parametrize("chunk_rows", [1, 3, 7])
def test_chunks_give_the_same_issues_as_one_chunk(tiny_store: Store, chunk_rows: int) -> None:
    data = households_with_problems().to_csv(index=False).encode("utf-8")
    whole = importer.validate_bytes(tiny_store, data, "hh.csv", "households")
    chunked = importer.validate_bytes(tiny_store, data, "hh.csv", "households",
                                      chunk_rows=chunk_rows)
    assert issue_keys(chunked) == issue_keys(whole)
    found = {(i.row, i.reason_key) for i in whole.issues}
    assert found == {(5, "out_of_range"), (13, "not_a_date"), (19, "required"),
                     (31, "duplicate_key"), (3, "duplicate_citizen_id"),
                     (35, "duplicate_citizen_id"), (40, "tambon_not_in_amphoe"),
                     (41, "unknown_amphoe")}
    duplicate = next(i for i in whole.issues if i.reason_key == "duplicate_key")
    assert duplicate.params == {"first_row": 6}
    shared = {i.row: i.params["rows"] for i in whole.issues
              if i.reason_key == "duplicate_citizen_id"}
    assert shared == {3: "35", 35: "3"}
    assert chunked.frame is not None and len(chunked.frame) == 40
    assert chunked.frame.equals(whole.frame)


def test_chunked_import_writes_the_same_store(tmp_path: Path, tiny_template: Path) -> None:
    import shutil

    frame = households_with_problems().drop(index=[3, 11, 17, 29, 39])
    data = frame.to_csv(index=False).encode("utf-8")
    snapshots, issues = [], []
    for chunk_rows in (importer.CHUNK_ROWS, 4):
        folder = tmp_path / str(chunk_rows)
        shutil.copytree(tiny_template, folder)
        store = Store.open(f"duckdb://{folder / 'store.duckdb'}", store_dir=folder)
        report = import_bytes(store, data, "hh.csv", "households", chunk_rows=chunk_rows)
        assert report.committed and report.rows_inserted == 35
        snapshots.append(store_snapshot(store))
        issues.append(issue_keys(report))
        store.close()
    assert snapshots[0] == snapshots[1]
    assert issues[0] == issues[1]
    assert len(snapshots[0]["import_warning"]) == 3  # two shared IDs, one tambon


def test_duplicate_key_and_reference_across_chunks_of_a_parquet_file(
        tiny_store: Store, tmp_path: Path) -> None:
    visits = pd.concat([tiny_frames()["visits"]] * 2, ignore_index=True)
    visits["visit_id"] = [f"W{k}" for k in range(len(visits))]
    visits.loc[len(visits) - 1, "visit_id"] = "W0"  # the last row repeats the first
    visits.loc[5, "household_id"] = "NOPE"
    path = tmp_path / "visits.parquet"
    visits.to_parquet(path)
    before = store_snapshot(tiny_store)
    report = import_file(tiny_store, path, "visits", chunk_rows=4)
    assert not report.committed
    assert [(i.row, i.reason_key, i.params) for i in report.errors] == [
        (7, "unknown_reference", {"table": "household"}),
        (len(visits) + 1, "duplicate_key", {"first_row": 2}),
    ]
    assert report.raw is None and report.frame is None  # a file from disk keeps no rows
    assert store_snapshot(tiny_store) == before


def test_parquet_streamed_skips_empty_rows_like_the_upload_path(tiny_store: Store,
                                                               tmp_path: Path) -> None:
    frame = households_with_problems().astype(object)
    blank = pd.DataFrame([{c: None for c in frame.columns}])
    frame = pd.concat([frame.iloc[:5], blank, frame.iloc[5:]], ignore_index=True)
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    path = tmp_path / "hh.parquet"
    path.write_bytes(buffer.getvalue())
    upload = importer.validate_bytes(tiny_store, buffer.getvalue(), "hh.parquet", "households")
    streamed = importer.validate_file(tiny_store, path, "households", chunk_rows=2)
    assert upload.rows_read == streamed.rows_read == 40
    assert issue_keys(upload) == issue_keys(streamed)
    assert (5, "out_of_range") in {(i.row, i.reason_key) for i in streamed.errors}
    assert upload.raw is not None and len(upload.raw) == 40


def test_several_files_import_as_one(empty_store: Store, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    files = write_csvs(tiny_frames(), tmp_path / "files")
    rebuilds = []
    real = importer.rebuild_derived
    monkeypatch.setattr(importer, "rebuild_derived",
                        lambda store, definitions: rebuilds.append(1) or real(store, definitions))
    # visits refer to households and officials that arrive in the same import
    reports = import_files(empty_store, {"visits": files["visits"],
                                         "households": files["households"],
                                         "officials": files["officials"]})
    assert [r.dataset for r in reports] == ["households", "officials", "visits"]
    assert all(r.committed for r in reports), [r.errors for r in reports]
    assert [r.import_id for r in reports] == [1, 2, 3]
    assert rebuilds == [1]
    assert empty_store.count("status_quarter") > 0
    assert undo_last_import(empty_store).dataset == "visits"
    assert empty_store.count("visit") == 0 and empty_store.count("official") == 3


def test_one_bad_file_refuses_the_whole_batch_byte_for_byte(tmp_path: Path) -> None:
    files = write_csvs(tiny_frames(), tmp_path / "files")
    database = tmp_path / "store.duckdb"
    store = Store.open(f"duckdb://{database}", store_dir=tmp_path)
    store.close()
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    visits = tiny_frames()["visits"]
    visits.loc[2, "official_id"] = "O404"
    visits.to_csv(files["visits"], index=False)
    store = Store.open(f"duckdb://{database}", store_dir=tmp_path)
    reports = import_files(store, files)
    store.close()
    assert not any(r.committed for r in reports)
    assert [(r.dataset, [(i.row, i.reason_key) for i in r.errors]) for r in reports
            if r.errors] == [("visits", [(4, "unknown_reference")])]
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    journal = (tmp_path / "import_attempts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(journal) == 5 and all(r.raw_path and r.raw_path.exists() for r in reports)


def test_command_line_imports_several_files(tmp_path: Path) -> None:
    files = write_csvs(tiny_frames(), tmp_path / "files")
    env = {"KUSIAO_STORE_DIR": str(tmp_path / "store"), "PATH": "/usr/bin:/bin"}
    named = [f"households={files['households']}", str(files["officials"])]
    out = subprocess.run([sys.executable, "-m", "loaders", "--lang", "en", "import", *named],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("accepted") == 2
    unknown = subprocess.run([sys.executable, "-m", "loaders", "--lang", "en", "import",
                              str(files["officials"]), str(tmp_path / "x.csv")],
                             cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert unknown.returncode == 2 and "which dataset" in unknown.stderr


def test_a_dry_run_of_several_files_checks_them_as_one_import(tmp_path: Path) -> None:
    """Officials refer to nothing, but pairings and visits refer to the households and
    officials given with them: the dry run accepts what the import would, and writes nothing."""
    files = write_csvs(tiny_frames(), tmp_path / "files")
    env = {"KUSIAO_STORE_DIR": str(tmp_path / "store"), "PATH": "/usr/bin:/bin"}
    named = [f"{name}={files[name]}" for name in ("households", "officials", "pairings",
                                                  "visits")]
    dry = subprocess.run([sys.executable, "-m", "loaders", "--lang", "en", "import",
                          "--dry-run", *named],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert dry.returncode == 0, dry.stderr
    store = Store.open(f"duckdb://{tmp_path / 'store' / 'kusiao.duckdb'}",
                       store_dir=tmp_path / "store")
    try:
        assert store.count("household") == 0 and store.count("visit") == 0
    finally:
        store.close()


TRICKY = {
    "id": ["H-1", " H-2", "H 3", "ก1", "๑๒", "H.4/5", "-", "", "  "],
    "text": ["นาง ก", "นาง  ก", " นาง", "นาง ", "a\tb", "a\u00a0b", "a\u200bb", "-", "–",
             "—", "x-y", "๑๒ หมู่", "a\u3000b", "a\u2028b", "", " "],
    "citizen_id": [synthetic_citizen_id(7), "1101700230719", "1-1017-00230-71-9", "12345",
                   "110170023071A", synthetic_citizen_id(7)[:12] + "0"],
    "house_code": ["40010000001", "4001-0000001", "4001000000", "๔๐๐๑๐๐๐๐๐๐๑"],
    "phone": ["0812345678", "081-234-5678", "+66812345678", "812345678", "021234567"],
    "int": ["12", "-3", "1,000", "๕", "2.0", "2.5", "1234567890"],
    "money": ["12.50", "1,200", "฿5", "-0.5", ".5", "1e3"],
    "date": ["2020-02-29", "2021-02-29", "2563-01-01", "1989-12-31", "2020-1-5"],
}


@pytest.mark.parametrize("kind", sorted(TRICKY))
def test_bulk_recognisers_agree_with_the_cell_parsers(kind: str) -> None:
    """Big columns take a vectorised path for values already in canonical form; every other
    value goes to the cell parser. Both must give the same value or the same reason."""
    column = Column("x", kind, minimum=0 if kind in ("int", "money") else None,
                    maximum=100_000 if kind in ("int", "money") else None)
    plain = {
        "id": [f"V-{k}" for k in range(1200)],
        "text": [f"นาย ทดสอบ {k}" for k in range(1200)],
        "citizen_id": [synthetic_citizen_id(k) for k in range(1200)],
        "house_code": [f"4001{k:07d}" for k in range(1200)],
        "phone": [f"08{k:08d}" for k in range(1200)],
        "int": [str(k) for k in range(1200)],
        "money": [f"{k}.25" for k in range(1200)],
        "date": [(dt.date(1995, 1, 1) + dt.timedelta(days=9 * k)).isoformat()
                 for k in range(1200)],
    }[kind]
    values = list(dict.fromkeys(plain + TRICKY[kind]))
    bulk, errors = _parse_uniques(pa.array([*values, None]), column, {})
    assert len(values) > 1000  # large enough for the bulk path
    parser = _parser(column)
    for index, value in enumerate(values):
        try:
            expected, reason = parser(value), None
            if expected is not None and column.maximum is not None and not (
                    column.minimum <= float(expected) <= column.maximum):
                expected, reason = None, "out_of_range"
        except CellError as err:
            expected, reason = None, err.reason_key
        got = errors[index].reason_key if index in errors else None
        assert (bulk[index].as_py(), got) == (expected, reason), repr(value)
    assert bulk[len(values)].as_py() is None


def test_a_big_parquet_file_streams_in_chunks(tmp_path: Path, empty_store: Store,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pd.concat([tiny_frames()["households"]] * 60, ignore_index=True)
    frame["household_id"] = [f"B{k}" for k in range(len(frame))]
    frame["head_citizen_id"] = [synthetic_citizen_id(1000 + k) for k in range(len(frame))]
    path = tmp_path / "households.parquet"
    pq.write_table(pa.Table.from_pandas(frame[HOUSEHOLDS.column_names].astype(str)), path,
                   row_group_size=50)
    seen = []
    real = importer.ChunkValidator.normalise

    def spy(self, raw, first_row):
        seen.append((first_row, raw.num_rows))
        return real(self, raw, first_row)

    monkeypatch.setattr(importer.ChunkValidator, "normalise", spy)
    report = import_file(empty_store, path, "households", chunk_rows=100)
    assert report.committed, report.errors[:3]
    assert empty_store.count("household") == len(frame) == 480
    assert seen[0] == (2, 100) and sum(n for _, n in seen) == 480
    assert [first for first, _ in seen] == [2 + 100 * k for k in range(len(seen))]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp874"])
def test_a_big_csv_file_streams_with_the_same_answers(tiny_store: Store, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      encoding: str) -> None:
    from loaders import readers

    frame = households_with_problems()
    frame.loc[7, "head_name"] = 'นาง "ก, ข"'  # a quoted cell holding the delimiter
    data = frame.to_csv(index=False, sep=";").encode(encoding)
    path = tmp_path / "hh.csv"
    path.write_bytes(data)
    in_memory = importer.validate_file(tiny_store, path, "households")
    monkeypatch.setattr(readers, "STREAM_CSV_BYTES", 0)
    streamed = importer.validate_file(tiny_store, path, "households", chunk_rows=6)
    assert streamed.encoding == in_memory.encoding == encoding
    assert streamed.rows_read == in_memory.rows_read == 40
    assert issue_keys(streamed) == issue_keys(in_memory)
    assert len(streamed.errors) == 5
