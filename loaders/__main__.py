"""Command line: ``python -m loaders import FILE --dataset NAME`` and friends.

Several files import as one (one transaction, one rebuild of the derived tables; any error in
any file refuses them all): ``python -m loaders import households.parquet visits.parquet``, each
file's dataset named by ``NAME=FILE`` or by the file's name (``visits.parquet`` -> visits).

Exit status: 0 on success, 1 when an import is refused (a file that is missing, a folder or
unreadable is refused too, named in the report), 2 on wrong usage or a busy store, 3 on an
unexpected failure (one line, never a traceback unless ``--traceback``; nothing is written, as
every write is one transaction).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from domain.access import ROLES
from domain.i18n import t
from loaders.contracts import DATASETS


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from loaders.store import StoreBusyError, StoreUrlError

    try:
        return _command(args)
    except StoreBusyError as exc:  # a shared store: another import or undo is being written
        print(t("cli.busy", args.lang, detail=" ".join(str(exc).split())[:200]),
              file=sys.stderr)
        return 2
    except StoreUrlError as exc:
        print(t("cli.store_url", args.lang, detail=" ".join(str(exc).split())[:300]),
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(t("cli.interrupted", args.lang), file=sys.stderr)
        return 3
    except Exception as exc:  # never a traceback for a user: the write was one transaction
        if args.traceback:
            traceback.print_exc()
        detail = " ".join(str(exc).split())[:300]
        print(t("cli.internal_error", args.lang, kind=type(exc).__name__, detail=detail),
              file=sys.stderr)
        return 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loaders")
    parser.add_argument("--lang", choices=("th", "en"), default="th", help="report language")
    parser.add_argument("--traceback", action="store_true",
                        help="on an unexpected failure, print the traceback too")
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import CSV/XLSX/Parquet files (several: as one)")
    imp.add_argument("files", nargs="+", metavar="[NAME=]FILE",
                     help="a file; with several, NAME=FILE or a file named after its dataset")
    imp.add_argument("--dataset", choices=sorted(DATASETS),
                     help="the dataset of a single file (default: from its name)")
    imp.add_argument("--by", default="cli", help="who imports (recorded in the import log)")
    imp.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
    imp.add_argument("--max-rows", type=int, metavar="N",
                     help="refuse a file of more than N data rows (default: no limit)")
    imp.add_argument("--mapping", metavar="NAME|FILE.toml",
                     help="read the headers with this mapping (saved in the store under NAME, "
                          "or written in FILE.toml); without it, a saved mapping made for "
                          "the same headers applies")
    imp.add_argument("--sheet", metavar="NAME",
                     help="the sheet to read of an Excel file (default: the first with data)")
    sub.add_parser("build", help="fill a store that never held an import from data/demo/")
    undo = sub.add_parser("undo", help="take back the most recent import exactly")
    undo.add_argument("--by", default="cli", help="who undoes (recorded in the journal)")
    users = sub.add_parser("users", help="who may sign in, in which role and area")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    for verb in ("add", "set"):
        one = users_sub.add_parser(verb, help=f"{verb} a user (by e-mail)")
        one.add_argument("email")
        one.add_argument("--role", choices=ROLES, required=verb == "add")
        one.add_argument("--name", help="the person's name as shown in the dashboard")
        one.add_argument("--amphoe", help="amphoe codes, comma-separated (area)")
        one.add_argument("--agency", help="agency codes, comma-separated (area)")
        one.add_argument("--by", default="cli", help="who makes the change (audit log)")
    users_sub.add_parser("list", help="list the users")
    gone = users_sub.add_parser("remove", help="remove a user")
    gone.add_argument("email")
    gone.add_argument("--by", default="cli", help="who makes the change (audit log)")
    maps = sub.add_parser("mappings", help="header mappings saved under a name")
    maps_sub = maps.add_subparsers(dest="mappings_command", required=True)
    maps_sub.add_parser("list", help="list the saved mappings")
    show = maps_sub.add_parser("show", help="show one mapping, header by header")
    show.add_argument("name")
    add = maps_sub.add_parser("add", help="save the mapping written in a TOML file")
    add.add_argument("file", type=Path)
    add.add_argument("--by", default="cli", help="who saves it (audit log)")
    gone_map = maps_sub.add_parser("remove", help="remove a saved mapping")
    gone_map.add_argument("name")
    gone_map.add_argument("--by", default="cli", help="who removes it (audit log)")
    sub.add_parser("demo", help="regenerate the demo files in data/demo/")
    sub.add_parser("reference", help="rebuild data/reference/ from geothai and the facts")
    return parser


def _command(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from loaders.demo import write_demo

        for name, path in write_demo().items():
            print(f"{name}: {path}")
        return 0
    if args.command == "reference":
        from domain.reference import build_reference

        for name, rows in build_reference().items():
            print(f"{name}: {rows} rows")
        return 0

    from loaders.importer import clean_stale_staging
    from loaders.report import format_report
    from loaders.store import Store, StoreBusyError

    files: dict[str, Path] = {}
    if args.command == "import":
        found = _import_files(args.files, args.dataset, args.lang)
        if isinstance(found, str):
            print(found, file=sys.stderr)
            return 2
        files = found
        if args.max_rows is not None and args.max_rows < 1:
            print(t("cli.max_rows", args.lang), file=sys.stderr)
            return 2
    try:
        store = Store.open()
    except StoreBusyError as exc:
        print(t("cli.busy", args.lang, detail=" ".join(str(exc).split())[:200]),
              file=sys.stderr)
        return 2
    try:
        clean_stale_staging(store.store_dir)
        if args.command == "users":
            return _users(store, args)
        if args.command == "mappings":
            return _mappings(store, args)
        if args.command == "build":
            from loaders.bootstrap import BootstrapError, ensure_store

            started = time.perf_counter()
            try:
                reports = ensure_store(store)
            except BootstrapError as exc:
                print(format_report(exc.report, args.lang), file=sys.stderr)
                return 1
            for report in reports:
                print(format_report(report, args.lang, limit=5))
            print(f"{len(reports)} files imported in {time.perf_counter() - started:.1f} s")
            return 0
        if args.command == "undo":
            from loaders.importer import undo_last_import

            result = undo_last_import(store, undone_by=args.by)
            if result is None:
                print(t("import.nothing_to_undo", args.lang), file=sys.stderr)
                return 1
            print(f"undid import {result.import_id} ({result.dataset}, {result.file_name}): "
                  f"{result.rows_removed} rows removed, {result.rows_restored} restored")
            return 0
        from loaders.limits import FILE_LIMITS

        limits = FILE_LIMITS.with_rows(args.max_rows)
        mapping = None
        if args.mapping is not None:
            from loaders.mappings import MappingError

            try:
                mapping = _mapping_of(store, args.mapping)
            except MappingError as exc:
                print(t(exc.key, args.lang, **exc.params), file=sys.stderr)
                return 2
        if args.dry_run:
            from loaders.importer import validate_files

            reports = validate_files(store, files, limits=limits, mapping=mapping,
                                     sheet=args.sheet)
        else:
            from loaders.importer import import_files

            reports = import_files(store, files, imported_by=args.by, limits=limits,
                                   mapping=mapping, sheet=args.sheet)
        refused = any(report.errors for report in reports)
        for report in reports:
            stream = sys.stderr if refused else sys.stdout
            print(format_report(report, args.lang), file=stream)
        return 1 if refused else 0
    finally:
        store.close()


def _users(store: object, args: argparse.Namespace) -> int:
    """``users add|set|list|remove``: exit 0 done, 2 refused (the reason on stderr)."""
    from domain.access import UserError, checked_user
    from loaders import users

    def codes(value: str | None) -> tuple[str, ...] | None:
        return None if value is None else tuple(c for c in value.split(",") if c.strip())

    try:
        if args.users_command == "list":
            print(users.list_users(store).to_string(index=False))
        elif args.users_command == "add":
            users.add_user(store, checked_user(args.email, args.role, args.name or "",
                                               codes(args.amphoe) or (),
                                               codes(args.agency) or ()), args.by)
            print(f"added {args.email.strip().lower()}")
        elif args.users_command == "set":
            user = users.set_user(store, args.email, args.by, role=args.role, name=args.name,
                                  amphoe=codes(args.amphoe), agency=codes(args.agency))
            print(f"set {user.email}: {user.role}")
        else:
            users.remove_user(store, args.email, args.by)
            print(f"removed {args.email.strip().lower()}")
    except UserError as exc:
        print(t(exc.key, args.lang, **exc.params), file=sys.stderr)
        return 2
    return 0


def _mapping_of(store: object, given: str) -> object:
    """The mapping ``--mapping`` names: a TOML file, or one saved in the store."""
    from loaders import mappings

    if given.lower().endswith(".toml") and Path(given).is_file():
        return mappings.read_mapping_file(Path(given))
    found = mappings.find_mapping(store, given)
    if found is None:
        raise mappings.MappingError("mappings.unknown", name=given)
    return found


def _mappings(store: object, args: argparse.Namespace) -> int:
    """``mappings list|show|add|remove``: exit 0 done, 2 refused (the reason on stderr)."""
    from loaders import mappings
    from loaders.headers import IGNORE

    try:
        if args.mappings_command == "list":
            for found in mappings.list_mappings(store):
                used = sum(1 for c in found.columns.values() if c != IGNORE)
                print(f"{found.name}\t{found.dataset}\t{used}/{len(found.columns)} headers\t"
                      f"{found.saved_at:%Y-%m-%d %H:%M} {found.saved_by}")
        elif args.mappings_command == "show":
            found = mappings.find_mapping(store, args.name)
            if found is None:
                raise mappings.MappingError("mappings.unknown", name=args.name)
            print(f"{found.name} ({found.dataset})")
            for header, column in found.columns.items():
                print(f"  {header} -> {column or '-'}")
        elif args.mappings_command == "add":
            found = mappings.read_mapping_file(args.file)
            mappings.save_mapping(store, found, args.by)
            print(f"saved {found.name} ({found.dataset}, {len(found.columns)} headers)")
        else:
            mappings.remove_mapping(store, args.name, args.by)
            print(f"removed {args.name}")
    except mappings.MappingError as exc:
        print(t(exc.key, args.lang, **exc.params), file=sys.stderr)
        return 2
    return 0


def _import_files(items: list[str], dataset: str | None,
                  lang: str) -> dict[str, Path] | str:
    """dataset -> file for ``import``, or what is wrong with the command line. Whether each
    file can be read is the importer's to say (in its report)."""
    files: dict[str, Path] = {}
    for item in items:
        name, sep, rest = item.partition("=")
        if sep and name in DATASETS:
            path = Path(rest)
        else:
            path = Path(item)
            name = dataset if dataset and len(items) == 1 else path.stem.lower()
        if name not in DATASETS:
            return t("cli.which_dataset", lang, item=item, datasets=", ".join(DATASETS))
        if name in files:
            return t("cli.two_files", lang, dataset=name)
        files[name] = path
    return files


if __name__ == "__main__":
    sys.exit(main())
