"""`audit report`: the auditor's report of a recorded run or of a JSON result, as HTML, Markdown or CSV,
optionally published with an index across runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson

from auditor.errors import ConfigError


def _source(source: str | None, history_url: str | None) -> tuple[dict[str, Any], Any]:
    """(the run's JSON result, its history context or None) from a result file or a run reference."""
    from auditor.history import HistoryError, open_history
    from auditor.report.model import history_context

    if source and (source.endswith(".json") or Path(source).is_file()):
        try:
            doc = orjson.loads(Path(source).read_bytes())
        except OSError as exc:
            raise ConfigError(f"cannot read {source}: {exc.strerror or exc}") from None
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"{source} is not JSON: {exc}") from None
        if not isinstance(doc, dict) or doc.get("schema") != "auditor.audit/v1":
            raise ConfigError(f"{source} is not an audit result (schema auditor.audit/v1)",
                              "write one with `audit run --json FILE`")
        run_id = (doc.get("run") or {}).get("id")
        if history_url is None or not run_id:
            return doc, None
        with open_history(history_url) as history:
            return doc, history_context(history, run_id)
    if history_url is None:
        raise ConfigError("a run id needs the history", "drop --no-history, or pass a result.json file")
    with open_history(history_url) as history:
        record = history.run(source or "latest")
        if record.document is None:
            raise HistoryError(f"run {record.info.id} failed ({record.info.error}): it has no report")
        return dict(record.document), history_context(history, record.info.id)


@click.command("report")
@click.argument("source", required=False, metavar="[RUN|RESULT.json]")
@click.option("--html", "html_out", type=click.Path(path_type=Path), help="Write the HTML report to FILE.")
@click.option("--markdown", "md_out", type=click.Path(path_type=Path),
              help="Write the Markdown summary (PR comment, CI step summary) to FILE.")
@click.option("--csv", "csv_out", type=click.Path(path_type=Path),
              help="Write one CSV row per drifted attribute and rule verdict to FILE.")
@click.option("--publish", metavar="DIR|s3://BUCKET/PREFIX/",
              help="Publish the run's JSON and report, latest.html and index.html (S3: SSE-S3 encrypted).")
@click.option("--history", "history_url", metavar="URL",
              help="The history to read: sqlite:///PATH, postgresql://..., s3://BUCKET/PREFIX (default: `history` "
                   "in audit.toml, else $XDG_DATA_HOME/auditor/history.db).")
@click.option("--no-history", is_flag=True, help="Render a result file alone, without trend or first-seen dates.")
@click.option("--health", "health_days", type=click.IntRange(1, 455), metavar="DAYS",
              help="Add service health: load balancer availability over the last DAYS days (CloudWatch) and "
                   "the ECS services' deployments, read now with the default AWS credentials.")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="audit.toml with `history` (default: ./audit.toml).")
def report_cmd(source: str | None, html_out: Path | None, md_out: Path | None, csv_out: Path | None,
               publish: str | None, history_url: str | None, no_history: bool, health_days: int | None,
               config_path: Path | None) -> None:
    """Render the auditor's report of RUN (a run id, a unique prefix, `latest`; default latest) from the
    history, or of a RESULT.json written by `audit run --json`.

    With no output option the Markdown summary is printed.
    """
    from auditor.cli import _load_config
    from auditor.history import default_url
    from auditor.report import write_atomic
    from auditor.report.model import build

    url = None if no_history else (history_url or _load_config(config_path).history or default_url())
    doc, ctx = _source(source, url)
    report = build(doc, ctx)
    page = None
    if html_out or publish:
        from auditor.report.html import render_report

        health = None
        if health_days:
            from auditor.aws import Aws, AwsSettings
            from auditor.report.health import read_health

            aws = Aws(AwsSettings(region=(report.regions or (None,))[0]))
            if url is None:
                health = read_health(aws, doc, health_days)
            else:
                from auditor.history import open_history

                with open_history(url) as history:
                    health = read_health(aws, doc, health_days, history=history)
        page = render_report(report, health=health)
    if html_out and page is not None:
        write_atomic(html_out, page)
    if csv_out:
        from auditor.report.csv_report import render_csv

        write_atomic(csv_out, render_csv(report))
    from auditor.report.markdown import render_markdown

    if md_out:
        write_atomic(md_out, render_markdown(report))
    if publish and page is not None:
        from auditor.report.publish import publish as publish_to

        for where in publish_to(publish, doc, report, page):
            click.echo(f"wrote {where}")
    if not (html_out or md_out or csv_out or publish):
        click.echo(render_markdown(report), nl=False)
