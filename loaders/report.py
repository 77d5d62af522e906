"""Render an :class:`~loaders.importer.ImportReport` for people: a table and a text report."""

from __future__ import annotations

import pandas as pd

from domain.i18n import t
from loaders.importer import ImportReport
from loaders.validate import Issue


def issue_message(issue: Issue, lang: str) -> str:
    params = {"value": issue.value, "column": issue.column or "", **issue.params}
    return t(f"reason.{issue.reason_key}", lang, **params)


def issues_frame(report: ImportReport, lang: str = "th") -> pd.DataFrame:
    """One line per issue: file row, column as written in the file, value, severity, reason."""
    return pd.DataFrame(
        {
            t("report.row", lang): [i.row if i.row is not None else t("report.file_level", lang)
                                    for i in report.issues],
            t("report.column", lang): [i.column or "" for i in report.issues],
            t("report.value", lang): [i.value for i in report.issues],
            t("report.severity", lang): [t(f"report.{i.severity}", lang) for i in report.issues],
            t("report.reason", lang): [issue_message(i, lang) for i in report.issues],
        }
    )


def format_report(report: ImportReport, lang: str = "th", limit: int = 50) -> str:
    lines = [
        t("report.title", lang, file=report.file_name, dataset=report.dataset),
        t("report.read", lang, n=report.rows_read, accepted=report.rows_accepted,
          rejected=report.rows_rejected, warnings=len(report.warnings)),
    ]
    if report.committed:
        lines.append(t("report.committed", lang, import_id=report.import_id,
                       inserted=report.rows_inserted, updated=report.rows_updated))
    else:
        lines.append(t("report.refused", lang))
    for issue in report.issues[:limit]:
        where = (f"{t('report.row', lang)} {issue.row}" if issue.row is not None
                 else t("report.file_level", lang))
        column = f" · {issue.column}" if issue.column else ""
        lines.append(f"  [{t(f'report.{issue.severity}', lang)}] {where}{column}: "
                     f"{issue_message(issue, lang)}")
    if len(report.issues) > limit:
        lines.append("  " + t("report.more", lang, n=len(report.issues) - limit))
    if report.raw_path:
        lines.append(t("report.kept", lang, path=report.raw_path))
    return "\n".join(lines)
