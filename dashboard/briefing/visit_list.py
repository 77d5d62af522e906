"""A buddy's visit list to take into the field: one A4 page (or more) in Thai, Sarabun
embedded, with each household's address, why it needs a visit, the next action and its due
date, and lines to write on.

It is made from the Follow-up list as shown (:func:`dashboard.views.followup.list_for_display`),
so names and addresses are what the viewer's role may see: masked for analysts, as on screen.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.briefing.slides import FONT, complete_to_unicode, sarabun_pdf
from dashboard.views.followup import headers
from domain.i18n import t
from domain.thai_dates import format_date

MARGIN = 15.0  # mm
LINE_MM = 6.0  # a line of 11 pt Sarabun with room for Thai marks above and below
WRITE_LINES = 3  # lines left for the buddy to write what they found and did
INK, MUTED, RULE = (31, 41, 55), (90, 99, 112), (170, 176, 186)


def visit_list_pdf(shown: pd.DataFrame, buddy: str, as_of: dt.date | None, today: dt.date,
                   lang: str) -> bytes:
    """``shown``: the rows of one buddy's households, as the page shows them (its headers in
    ``lang``), the most urgent first."""
    from fpdf import FPDF

    heads = headers(lang)
    title = t("followup.visit_list_title", lang)
    pdf = sarabun_pdf(FPDF(orientation="P", unit="mm", format="A4"), title, lang)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_page()
    width = pdf.w - 2 * MARGIN
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(width, 8, f"{title}: {buddy}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(width, 5, t("followup.visit_list_caption", lang,
                               n=len(shown), as_of=format_date(as_of, lang),
                               today=format_date(today, lang)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for number, row in enumerate(shown.to_dict("records"), start=1):
        needed = LINE_MM * (5 + WRITE_LINES)
        if pdf.get_y() + needed > pdf.h - MARGIN:  # a household is never split over pages
            pdf.add_page()
        pdf.set_draw_color(*RULE)
        pdf.line(MARGIN, pdf.get_y(), MARGIN + width, pdf.get_y())
        pdf.ln(1.5)
        pdf.set_text_color(*INK)
        pdf.set_font(FONT, "B", 12)
        name = row.get(heads["head_name"]) or ""
        pdf.multi_cell(width, LINE_MM, f"{number}. {row[heads['household_id']]}  {name}",
                       new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 11)
        for key in ("address", "reasons", "next_action", "due_date", "needs"):
            value = row.get(heads[key])
            if isinstance(value, str) and value:
                pdf.multi_cell(width, LINE_MM, f"{heads[key]}: {value}", new_x="LMARGIN",
                               new_y="NEXT")
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(width, LINE_MM, t("followup.visit_list_write", lang),
                       new_x="LMARGIN", new_y="NEXT")
        for _ in range(WRITE_LINES):
            pdf.ln(LINE_MM)
            pdf.set_dash_pattern(dash=0.6, gap=1.2)
            pdf.line(MARGIN, pdf.get_y(), MARGIN + width, pdf.get_y())
            pdf.set_dash_pattern()
        pdf.ln(5)
    return complete_to_unicode(bytes(pdf.output()), pdf)
