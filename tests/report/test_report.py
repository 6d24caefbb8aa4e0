"""The report's data model and its HTML, Markdown and CSV renderings; `audit report` and publishing."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
from datetime import date
from pathlib import Path

import boto3
import orjson
import pytest
from click.testing import CliRunner

from auditor.cli import cli
from auditor.history import History
from auditor.report.csv_report import render_csv
from auditor.report.html import render_report
from auditor.report.markdown import render_markdown
from auditor.report.model import build, history_context
from tests.report.sample import HOSTILE, T0, day_doc

LB = "aws_lb.arn:aws:elasticloadbalancing:lb/app"


def _report(sample: tuple[History, list[str]], day: int):  # type: ignore[no-untyped-def]
    history, ids = sample
    return build(history.run(ids[day]).document or {}, history_context(history, ids[day]))


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collect().feed(html)
    return found


def test_changes_since_the_previous_run_with_first_seen_and_age(sample: tuple[History, list[str]]) -> None:
    r = _report(sample, 20)
    assert r.change_counts() == {"new": 2, "reopened": 0, "persisting": 3, "resolved": 0, "unverified": 0}
    new = sorted((c.label, c.item) for c in r.changes if c.status == "new")
    assert new == [(LB, "idle_timeout"), (LB, "{{7*7}}")]
    missing = next(d for d in r.drift if d.kind == "missing")
    assert missing.first_seen == T0 and missing.age_days == 20.0 and missing.status == "persisting"
    r25 = _report(sample, 25)
    assert [(c.status, c.item) for c in r25.changes if c.status == "resolved"] == [("resolved", "ALB-01")]
    assert r25.previous_run == sample[1][24] and len(r25.trend) == 26
    r36 = _report(sample, 36)
    assert [c.item for c in r36.changes if c.status == "resolved"] == ["<unmanaged>"]


def test_controls_frameworks_groups_and_exceptions(sample: tuple[History, list[str]]) -> None:
    r = _report(sample, 10)
    by_id = {c.id: c for c in r.controls}
    assert [c.id for c in r.controls] == ["ALB-01", "CW-01", "ECR-01"]  # failing first, then unknown, then the rest
    assert by_id["ALB-01"].status == "FAIL" and by_id["ALB-01"].verdicts[0].history == "persisting"
    assert by_id["ECR-01"].counts == {"SUPPRESSED": 1} and by_id["ECR-01"].verdicts[0].suppressed
    assert by_id["CW-01"].status == "UNKNOWN" and by_id["CW-01"].passed == ("aws_cloudwatch_log_group./ecs/app",)
    rows = {(f.framework, f.control): f for f in r.frameworks}
    assert rows[("securityhub", "ELB.4")].status == "FAIL" and rows[("securityhub", "ELB.4")].rules == ("ALB-01",)
    assert rows[("aws_config", "alb-http-drop-invalid-header-enabled")].status == "FAIL"
    assert r.frameworks[0].framework == "securityhub"
    groups = {g.name: g for g in r.rule_groups}
    assert groups["ALB"].pass_rate == 0.0 and groups["CW"].pass_rate == 1.0 and groups["CW"].unknown == 1
    assert groups["ECR"].pass_rate is None and groups["ECR"].suppressed == 1
    expired, valid = r.exceptions
    assert expired.expired and expired.approver == HOSTILE[0] and expired.rule == "CW-01"
    assert not valid.expired and valid.approver == "jane.doe@example.com"
    assert valid.days_left == (date(2027, 3, 31) - date(2026, 10, 11)).days


def test_without_history_the_report_covers_the_run_alone() -> None:
    doc = day_doc(21)
    doc["run"]["caller"] = "arn:aws:sts::123456789012:assumed-role/auditor/ci"
    r = build(doc)
    assert "Run as</th><td><code>arn:aws:sts::123456789012:assumed-role/auditor/ci</code>" in render_report(r)
    r = build(day_doc(21))
    assert r.history_source is None and r.trend == () and r.changes == ()
    assert all(d.first_seen is None for d in r.drift)
    html = render_report(r)
    assert "No history was consulted" in html and "No trend yet" not in html


def test_the_page_is_self_contained_and_locked_down(report_html: Path) -> None:
    html = report_html.read_text(encoding="utf-8")
    tags = _tags(html)
    assert {t for t, _ in tags} & {"link", "iframe", "object", "embed", "img", "audio", "video", "source", "base",
                                   "form"} == set()
    attributes = [(name, value or "") for _, attrs in tags for name, value in attrs]
    assert not [a for a in attributes if a[0] in ("src", "srcset", "action", "formaction", "background")]
    assert all(value.startswith("#") or value.startswith("runs/") for name, value in attributes if name == "href")
    assert not [a for a in attributes if a[0].startswith("on")]
    assert "@import" not in html and "url(" not in html
    csp = re.search(r'Content-Security-Policy" content="([^"]+)"', html)
    assert csp and "default-src 'none'" in csp.group(1)
    script = re.search(r"<script>(.*?)</script>", html, re.S)
    assert script and len(re.findall(r"<script", html)) == 1
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp.group(1)
    assert 'role="img"' in html and "<title id=\"drift30-t\">" in html
    assert len(html) < 200_000


def test_hostile_strings_are_escaped(report_html: Path) -> None:
    html = report_html.read_text(encoding="utf-8")
    body = html.split("<body>", 1)[1].rsplit("<script>", 1)[0]
    assert "<script>alert(1)" not in body and "<img src=x" not in body and "onerror=alert(2)>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "{{7*7}}" in body and ">49<" not in body


def test_markdown_escapes_and_summarises(sample: tuple[History, list[str]]) -> None:
    md = render_markdown(_report(sample, 33))
    assert md.startswith("## Audit of account 123456789012 — drift or failing rules")
    assert "\\<script\\>alert(1)\\</script\\>" in md and "<script>" not in md
    assert "### Expired exceptions" in md and "**Since the previous run:**" in md
    assert "| unmanaged |" in md


def test_csv_has_one_row_per_attribute_and_verdict_and_no_formulas(sample: tuple[History, list[str]]) -> None:
    r = _report(sample, 33)
    rows = list(csv.DictReader(io.StringIO(render_csv(r))))
    drift = [row for row in rows if row["section"] == "drift"]
    assert sorted(row["attribute_or_rule"] for row in drift) == sorted(
        ["(whole resource)", "(whole resource)", "idle_timeout", "{{7*7}}"])
    rules = [row for row in rows if row["section"] == "rule"]
    assert sorted((row["attribute_or_rule"], row["status"]) for row in rules) == [
        ("ALB-01", "PASS"), ("CW-01", "PASS"), ("CW-01", "UNKNOWN"), ("ECR-01", "FAIL")]
    assert all(not row[k].startswith(("=", "+", "-", "@")) for row in rows for k in row)
    assert next(row for row in rules if row["status"] == "FAIL")["suppressed_by"] == "legacy images, replaced in Q1"


def test_audit_report_of_a_recorded_run(sample: tuple[History, list[str]], tmp_path: Path) -> None:
    history, ids = sample
    result = CliRunner().invoke(cli, ["report", ids[30][:20], "--history", history.url, "--html",
                                      str(tmp_path / "r.html"), "--markdown", str(tmp_path / "r.md"),
                                      "--csv", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert ids[30] in html and "Since the previous run" in html
    assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith("## Audit of account")
    assert (tmp_path / "r.csv").read_text(encoding="utf-8").startswith("section,status")
    latest = CliRunner().invoke(cli, ["report", "--history", history.url])
    assert latest.exit_code == 0 and ids[-1] in latest.output


def test_audit_report_of_a_result_file(sample: tuple[History, list[str]], tmp_path: Path) -> None:
    history, ids = sample
    result_file = tmp_path / "result.json"
    result_file.write_bytes(orjson.dumps(history.run(ids[21]).document))
    with_history = CliRunner().invoke(cli, ["report", str(result_file), "--history", history.url])
    assert with_history.exit_code == 0 and "**Since the previous run:**" in with_history.output
    alone = CliRunner().invoke(cli, ["report", str(result_file), "--no-history"])
    assert alone.exit_code == 0 and "Since the previous run" not in alone.output
    other = tmp_path / "other.json"
    other.write_text('{"schema": "something/else"}', encoding="utf-8")
    bad = CliRunner().invoke(cli, ["report", str(other), "--no-history"])
    assert bad.exit_code != 0 and "is not an audit result" in str(bad.exception)


def test_a_failed_run_has_no_report(tmp_path: Path) -> None:
    from auditor.history import HistoryError, open_history

    url = f"sqlite:///{tmp_path / 'h.db'}"
    with open_history(url) as h:
        h.record_failure(started_at=T0, finished_at=T0, error="AccessDenied")
    result = CliRunner().invoke(cli, ["report", "latest", "--history", url])
    assert isinstance(result.exception, HistoryError)  # `latest` skips failed runs: none is left
    with open_history(url) as h:
        failed = h.runs()[0].id
    result = CliRunner().invoke(cli, ["report", failed, "--history", url])
    assert isinstance(result.exception, HistoryError) and "has no report" in str(result.exception)


def test_publish_to_a_folder_keeps_an_index(sample: tuple[History, list[str]], tmp_path: Path) -> None:
    history, ids = sample
    out = tmp_path / "site"
    for run_id in ids[-3:]:
        result = CliRunner().invoke(cli, ["report", run_id, "--history", history.url, "--publish", str(out)])
        assert result.exit_code == 0, result.output
    index = (out / "index.html").read_text(encoding="utf-8")
    assert [m for m in re.findall(r'href="runs/([^"]+)\.html"', index)] == ids[-1:-4:-1]
    assert (out / "latest.html").read_text(encoding="utf-8") == (out / "runs" / f"{ids[-1]}.html").read_text(
        encoding="utf-8")
    assert orjson.loads((out / "runs" / f"{ids[-2]}.json").read_bytes())["run"]["id"] == ids[-2]
    assert len(orjson.loads((out / "index.json").read_bytes())) == 3


def test_publish_to_s3_encrypts_every_object(sample: tuple[History, list[str]]) -> None:
    from moto import mock_aws

    history, ids = sample
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="audit-site")
        result = CliRunner().invoke(cli, ["report", ids[-1], "--history", history.url, "--publish",
                                          "s3://audit-site/reports/"])
        assert result.exit_code == 0, result.output
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="audit-site")["Contents"])
        assert keys == sorted(["reports/index.html", "reports/index.json", "reports/latest.html",
                               f"reports/runs/{ids[-1]}.html", f"reports/runs/{ids[-1]}.json"])
        for key in keys:
            head = s3.head_object(Bucket="audit-site", Key=key)
            assert head["ServerSideEncryption"] == "AES256"
        assert s3.head_object(Bucket="audit-site", Key="reports/latest.html")["ContentType"].startswith("text/html")


@pytest.mark.parametrize("day", [0, 39])
def test_every_run_renders(sample: tuple[History, list[str]], day: int) -> None:
    r = _report(sample, day)
    assert "Methodology and limits" in render_report(r)
