"""The one page registry: every page file, its title key, icon and help.

``dashboard/app.py`` builds ``st.navigation`` from this list; a test checks that every
``pages/*.py`` is registered here and every registered file exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES_DIR = ROOT / "pages"


@dataclass(frozen=True)
class PageSpec:
    file: str  # under pages/
    title_key: str  # i18n key of the page title
    help_key: str  # i18n key of the one-line description
    icon: str  # Material icon
    url_path: str
    default: bool = False
    admin: bool = False  # offered to administrators only

    @property
    def path(self) -> Path:
        return PAGES_DIR / self.file


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview.py", "page.overview", "page.overview_help", ":material/dashboard:",
             "overview", default=True),
    PageSpec("map.py", "map.title", "map.help", ":material/map:", "map"),
    PageSpec("coverage.py", "coverage.title", "coverage.help", ":material/grid_on:",
             "coverage"),
    PageSpec("outcomes.py", "page.outcomes", "page.outcomes_help", ":material/trending_up:",
             "outcomes"),
    PageSpec("households.py", "households.title", "households.help", ":material/home:",
             "households"),
    PageSpec("followup.py", "followup.title", "followup.help", ":material/assignment_late:",
             "followup"),
    PageSpec("agencies.py", "agencies.title", "agencies.help", ":material/groups:",
             "agencies"),
    PageSpec("data_quality.py", "page.quality", "page.quality_help", ":material/fact_check:",
             "quality"),
    PageSpec("data_import.py", "page.import", "page.import_help", ":material/upload_file:",
             "import"),
    PageSpec("definitions.py", "page.definitions", "page.definitions_help",
             ":material/menu_book:", "definitions"),
    PageSpec("presenter.py", "presenter.title", "presenter.help", ":material/slideshow:",
             "present"),
    PageSpec("admin.py", "admin.title", "admin.help", ":material/admin_panel_settings:",
             "admin", admin=True),
)
