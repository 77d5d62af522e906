"""Render an :class:`~loaders.importer.ImportReport` for people: a table and a text report.

Everything here is plain text. What a file holds (its name, headers, cells) is quoted as it
is, never as markup: a page shows the text with ``st.text``/``st.code`` or in a table, or, where
it must go through Markdown, after :func:`markdown_safe`.
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd

from domain.i18n import t
from loaders.importer import ImportReport
from loaders.normalise import clean_text
from loaders.validate import Issue


def issue_message(issue: Issue, lang: str) -> str:
    params = {"value": issue.value, "column": issue.column or "", **issue.params}
    return t(f"reason.{issue.reason_key}", lang, **params)


def ordered_issues(report: ImportReport) -> list[Issue]:
    """Errors first, then warnings, each by file row (whole-file issues first)."""
    return sorted(report.issues, key=lambda i: (i.severity != "error", i.row or 0))


def issues_frame(report: ImportReport, lang: str = "th") -> pd.DataFrame:
    """One line per issue, errors first: file row, column as written in the file, value,
    severity, reason."""
    issues = ordered_issues(report)
    return pd.DataFrame(
        {
            t("report.row", lang): [i.row if i.row is not None else t("report.file_level", lang)
                                    for i in issues],
            t("report.column", lang): [i.column or "" for i in issues],
            t("report.value", lang): [i.value for i in issues],
            t("report.severity", lang): [t(f"report.{i.severity}", lang) for i in issues],
            t("report.reason", lang): [issue_message(i, lang) for i in issues],
        }
    )


def display_name(text: str) -> str:
    """A file name or header as a line of text: no control or invisible character (a
    terminal escape, a line break), whitespace folded."""
    return clean_text(text) or "?"


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&=\"'])")


def markdown_safe(text: str) -> str:
    """``text`` with every character Markdown (or Streamlit's ``:color[...]`` and
    ``:material/...:`` directives, or LaTeX) could read as markup escaped: ``![x](http://…)``
    stays those characters, it does not become an image the browser fetches."""
    return _MARKDOWN.sub(r"\\\1", display_name(text))


def _where(issue: Issue, lang: str) -> str:
    where = (f"{t('report.row', lang)} {issue.row}" if issue.row is not None
             else t("report.file_level", lang))
    return where + (f" · {display_name(issue.column)}" if issue.column else "")


def totals_lines(report: ImportReport, lang: str = "th") -> list[str]:
    """The number of errors and of warnings, then each kind of issue (errors first) with how
    many rows have it and the first of them."""
    lines = [t("report.totals", lang, errors=len(report.errors),
               warnings=len(report.warnings))]
    issues = ordered_issues(report)
    counts = Counter((i.severity, i.reason_key) for i in issues)
    first: dict[tuple[str, str], Issue] = {}
    for issue in issues:
        first.setdefault((issue.severity, issue.reason_key), issue)
    for kind, issue in first.items():
        lines.append("  " + t("report.kind", lang, n=counts[kind],
                              severity=t(f"report.{issue.severity}", lang),
                              reason=issue_message(issue, lang), where=_where(issue, lang)))
    return lines


def mapping_lines(report: ImportReport, lang: str = "th") -> list[str]:
    """The saved mapping applied, and each header only suggested (not imported until someone
    confirms it)."""
    headers = report.headers
    if headers is None:
        return []
    lines = ([t("report.mapping_applied", lang, name=display_name(headers.saved_name))]
             if headers.saved_name else [])
    for header, found in headers.suggestions.items():
        lines.append("  " + t("report.suggestion", lang, header=display_name(header),
                              column=found.column, score=round(found.score * 100)))
    unmatched = [display_name(h) for h in headers.unknown if h not in headers.suggestions]
    if unmatched:
        lines.append(t("import.unknown_headers", lang, headers=", ".join(unmatched)))
    return lines


def format_report(report: ImportReport, lang: str = "th", limit: int = 50) -> str:
    """The report as plain text: what was read and whether it was saved, the totals by kind,
    then up to ``limit`` issues, errors first."""
    lines = [
        t("report.title", lang, file=display_name(report.file_name), dataset=report.dataset),
        t("report.read", lang, n=report.rows_read, accepted=report.rows_accepted,
          rejected=report.rows_rejected, warnings=len(report.warnings)),
    ]
    if report.committed:
        lines.append(t("report.committed", lang, import_id=report.import_id,
                       inserted=report.rows_inserted, updated=report.rows_updated))
    else:
        lines.append(t("report.refused", lang))
    lines.extend(mapping_lines(report, lang))
    if report.issues:
        lines.extend(totals_lines(report, lang))
    issues = ordered_issues(report)
    for issue in issues[:limit]:
        lines.append(f"  [{t(f'report.{issue.severity}', lang)}] {_where(issue, lang)}: "
                     f"{issue_message(issue, lang)}")
    if len(issues) > limit:
        lines.append("  " + t("report.more", lang, n=len(issues) - limit))
    if report.raw_path:
        lines.append(t("report.kept", lang, path=report.raw_path))
    return "\n".join(lines)
