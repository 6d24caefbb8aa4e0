"""Send an AuditRun to where it was asked for: the console, a file, or both, in each asked-for format."""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from auditor.report import write_all

if TYPE_CHECKING:  # rich loads only for the output that draws tables or bars
    from rich.console import Console

    from auditor.models import AuditRun

RUN_FORMATS = ("table", "json", "plan-json", "html")

_RENDERERS = {"json": "auditor.report.json_report", "plan-json": "auditor.report.plan_json",
              "html": "auditor.report.html"}
"""Machine format -> the module whose `render` writes it (imported when asked for: jinja2 only for html)."""


def console(**options: Any) -> Console:
    """A rich Console (rich is imported only by the output that draws tables or bars)."""
    from rich.console import Console

    return Console(**options)


def table_text(draw: Callable[[Console], None]) -> str:
    """What `draw` prints on a console, as plain text 160 columns wide (for `--format table -o FILE`)."""
    recorder = console(file=io.StringIO(), record=True, width=160)
    draw(recorder)
    return recorder.export_text()


def _renderer(fmt: str) -> Callable[[AuditRun], str]:
    render: Callable[[AuditRun], str] = importlib.import_module(_RENDERERS[fmt]).render
    return render


def emit(run: AuditRun, fmt: str, output: Path | None, html: Path | None, json_out: Path | None,
         history_url: str | None = None) -> None:
    """Print or write the result in the asked-for format(s); the HTML report shows the history at
    `history_url` around the run when the run was recorded there. Every file is rendered first and then
    written all or none (write_all): a bad `-o` never leaves the HTML report written beside an error."""
    files: list[tuple[Path, str | bytes]] = []
    if json_out:
        files.append((json_out, _renderer("json")(run)))
    if html:
        from auditor.report.html import render as render_html

        files.append((html, render_html(run, history_url)))
    text: str | None = None
    if fmt == "table":
        from auditor.report.console import print_summary

        if output:
            files.append((output, table_text(lambda con: print_summary(run, con))))
    else:
        if fmt == "html":
            from auditor.report.html import render as render_html

            text = render_html(run, history_url)
        else:
            text = _renderer(fmt)(run)
        if output:
            files.append((output, text))
    write_all(files)
    if output:
        return
    if fmt == "table":
        print_summary(run, console())
    elif text is not None:
        click.echo(text, nl=False)
