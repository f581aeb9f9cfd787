"""An agent whose turn ended in an error, as the dashboard shows it: its glyph and label in the
theme's error colour, its error line as its last output, counted right after the waits."""

from __future__ import annotations

from textual.color import Color
from textual.widgets import Static

from app.core.status import Status
from app.ui.app import QuarterdeckApp
from tests.ui.fakes import NOW, FakePort, make_row

SIZE = (140, 40)


async def test_an_error_row_says_so_in_its_own_colour() -> None:
    rows = [
        make_row("waits", Status.NEEDS_INPUT, label="needs_input:permission"),
        make_row("broke", Status.ERROR, summary="API Error: 529 Overloaded"),
        make_row("busy", Status.WORKING),
    ]
    app = QuarterdeckApp(FakePort(rows=rows), clock=lambda: NOW, preview_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.dashboard.table
        status = table.get_cell("broke", "status")
        assert str(status) == "! error"
        wanted = Color.parse(app.theme_variables["status-error"]).rich_color
        assert any(span.style.color == wanted for span in status.spans if span.style)  # type: ignore[union-attr]
        assert "API Error: 529 Overloaded" in str(table.get_cell("broke", "summary"))
        header = str(app.query_one("#fleet-counts", Static).render())
        assert header.index("needs_input") < header.index("error") < header.index("working")
