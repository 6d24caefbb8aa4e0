"""The pandas analysis on a constructed 90-day history whose answers are known."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import time_machine

from auditor.history import History, open_history
from auditor.history import analysis as an
from tests.history.docs import make_doc
from tests.history.pg import create_database

T0 = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
LB, SVC, SG = ("aws_lb", "lb-a"), ("aws_ecs_service", "svc-b"), ("aws_security_group", "sg-c")


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def _doc(n: int) -> dict:
    """Day n of the story:
    - lb-a's idle_timeout drifts on days 10-14 and 30-32 (resolved on 15 and 33: 5 and 3 days);
    - svc-b is missing from day 0 and never comes back;
    - sg-c is unmanaged on days 60, 62, 64, 66 (each resolved the next day: 4 one-day episodes, 3 reopens);
    - ALB-01 fails on lb-a on days 0-19 and passes from day 20 (one 20-day episode);
    - on day 50 the security groups cannot be listed (nothing open there, nothing resolved)."""
    drifts = [(*SVC, "missing", [])]
    in_sync = []
    if 10 <= n <= 14 or 30 <= n <= 32:
        drifts.append((*LB, "changed", ["idle_timeout"]))
    else:
        in_sync.append(LB)
    if n in (60, 62, 64, 66):
        drifts.append((*SG, "unmanaged", []))
    verdicts = [("ALB-01", *LB, "FAIL" if n < 20 else "PASS")]
    return make_doc(day(n), drifts, verdicts, in_sync=in_sync,
                    unknown_types=["aws_security_group"] if n == 50 else ())


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ninety_days(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('h') / 'h.db'}"
    else:
        url = create_database(request.getfixturevalue("postgres_server"), "ninety_days")
    h = open_history(url)
    for n in range(90):
        h.record_document(_doc(n))
    yield h
    h.close()


def test_overall_trend(ninety_days: History) -> None:
    t = an.trend(ninety_days)
    assert len(t) == 90 and list(t["started_at"].iloc[[0, -1]]) == [pd.Timestamp(day(0)), pd.Timestamp(day(89))]
    by_day = t.set_index(t["started_at"].dt.day_of_year - pd.Timestamp(day(0)).day_of_year)
    assert by_day.loc[0, "drift_index"] == 0.5 and by_day.loc[10, "drift_index"] == 1.0
    assert by_day.loc[60, "drift_index"] == pytest.approx(2 / 3, abs=1e-4)
    assert by_day.loc[0, "failed"] == 1 and by_day.loc[20, "failed"] == 0
    assert int(t["failed"].sum()) == 20
    assert len(an.trend(ninety_days, last=30)) == 30


def test_trend_per_type_state_and_account(ninety_days: History) -> None:
    lb = an.trend(ninety_days, "type").query("name == 'aws_lb'")
    assert len(lb) == 90 and int((lb["drift_index"] == 1.0).sum()) == 8 and int(lb["failed"].sum()) == 20
    account = an.trend(ninety_days, "account")
    assert set(account["name"]) == {"123456789012"} and int(account["failed"].sum()) == 20
    state = an.trend(ninety_days, "state")
    assert set(state["name"]) == {"s3://tfstate/app/terraform.tfstate"}
    assert state["drift_index"].tolist() == an.trend(ninety_days)["drift_index"].tolist()
    last = an.trend(ninety_days, "type", last=7)
    assert last["run_id"].nunique() == 7 and last["started_at"].min() == pd.Timestamp(day(83))


def test_mean_time_to_resolve(ninety_days: History) -> None:
    assert an.mean_time_to_resolve(ninety_days, "drift") == pd.Timedelta(days=2)  # (5 + 3 + 4 x 1) / 6
    assert an.mean_time_to_resolve(ninety_days, "rule") == pd.Timedelta(days=20)
    per_type = an.mean_time_to_resolve(ninety_days, "drift", by="type")
    assert per_type["aws_lb"] == pd.Timedelta(days=4) and per_type["aws_security_group"] == pd.Timedelta(days=1)
    assert "aws_ecs_service" not in per_type  # never resolved


def test_episodes(ninety_days: History) -> None:
    eps = an.episodes(ninety_days)
    assert len(eps) == 1 + 2 + 4 + 1  # svc-b, lb-a twice, sg-c four times, ALB-01
    still_open = eps[eps["resolved_at"].isna()]
    assert still_open["type"].tolist() == ["aws_ecs_service"] and still_open["opened_at"].iloc[0] == day(0)


def test_flapping(ninety_days: History) -> None:
    flaps = an.flapping(ninety_days)
    assert flaps[["type", "item", "reopened"]].values.tolist() == [["aws_security_group", "<unmanaged>", 3]]
    assert set(an.flapping(ninety_days, min_reopens=1)["type"]) == {"aws_security_group", "aws_lb"}


def test_top_drifting_types(ninety_days: History) -> None:
    top = an.top_drifting_types(ninety_days)
    assert top[["type", "runs_drifted", "drift_episodes"]].values.tolist() == [
        ["aws_ecs_service", 90, 1], ["aws_lb", 8, 2], ["aws_security_group", 4, 4]]
    assert an.top_drifting_types(ninety_days, n=1)["type"].tolist() == ["aws_ecs_service"]


def test_an_empty_history_has_empty_answers(tmp_path: object) -> None:
    with open_history(f"sqlite:///{tmp_path}/empty.db") as h:
        assert an.trend(h).empty and an.trend(h, "type").empty
        assert an.episodes(h).empty and an.flapping(h).empty and an.top_drifting_types(h).empty
        assert pd.isna(an.mean_time_to_resolve(h))


def test_stats_over_the_whole_history(ninety_days: History) -> None:
    s = an.stats(ninety_days)
    assert s.runs == 90 and s.mttr_drift_days == 2.0 and s.mttr_rule_days == 20.0
    assert s.mttr_by_type == (("aws_lb", 4.0), ("aws_security_group", 1.0))
    assert [(f.type, f.item, f.reopened) for f in s.flapping] == [("aws_security_group", "<unmanaged>", 3)]
    assert [(t.type, t.runs_drifted, t.drift_episodes) for t in s.top_types] == [
        ("aws_ecs_service", 90, 1), ("aws_lb", 8, 2), ("aws_security_group", 4, 4)]
    types = {t.name: t for t in s.trends["type"]}
    assert (types["aws_ecs_service"].runs_drifted, types["aws_ecs_service"].latest) == (90, 1.0)
    lb = types["aws_lb"]
    assert (lb.runs, lb.runs_drifted, lb.first, lb.latest, lb.failing_latest) == (90, 8, 0.0, 0.0, 0)
    assert lb.mean == pytest.approx(8 / 90, abs=1e-4)
    [state] = s.trends["state"]
    assert (state.name, state.runs, state.runs_drifted, state.first) == ("s3://tfstate/app/terraform.tfstate", 90, 90,
                                                                          0.5)
    assert [a.name for a in s.trends["account"]] == ["123456789012"]
    assert s.to_dict()["flapping"][0]["reopened"] == 3


def test_stats_in_a_window(ninety_days: History) -> None:
    s = an.stats(ninety_days, since=day(60))  # sg-c flaps in it; lb-a and ALB-01 were resolved before it
    assert s.runs == 30 and s.mttr_drift_days == 1.0 and s.mttr_rule_days is None
    assert [(t.type, t.runs_drifted, t.drift_episodes) for t in s.top_types] == [
        ("aws_ecs_service", 30, 0), ("aws_security_group", 4, 4)]
    assert [f.reopened for f in s.flapping] == [3]
    before = an.stats(ninety_days, until=day(29))  # the first lb-a episode and ALB-01 only
    assert before.runs == 30 and before.mttr_drift_days == 5.0 and before.mttr_rule_days == 20.0
    assert before.flapping == () and "aws_security_group" not in {t.type for t in before.top_types}
    assert len(an.trend(ninety_days, last=7, until=day(29))) == 7


def test_history_stats_command(ninety_days: History) -> None:
    from click.testing import CliRunner

    from auditor.cli import cli

    def stats(*args: str) -> str:
        result = CliRunner().invoke(cli, ["history", "stats", "--history", ninety_days.url, *args])
        assert result.exit_code == 0, result.output
        return result.output

    with time_machine.travel(day(90), tick=False):
        whole = json.loads(stats("--format", "json"))
        window = json.loads(stats("--days", "30", "--format", "json"))
        table = stats("--days", "30")
    assert whole == json.loads(json.dumps(an.stats(ninety_days).to_dict(), default=str))
    assert (whole["runs"], whole["mttr_drift_days"], whole["mttr_rule_days"]) == (90, 2.0, 20.0)
    assert (window["runs"], window["mttr_drift_days"], window["mttr_rule_days"]) == (30, 1.0, None)
    assert [t["type"] for t in window["top_types"]] == ["aws_ecs_service", "aws_security_group"]
    lines = table.splitlines()
    assert lines[0] == "30 completed run(s), since 2026-07-31 06:00:00Z"
    assert lines[1] == "mean time to resolve: drift 1.0 d, failing rule - d"
    assert "  aws_security_group" in lines[2] and lines[2].endswith(" 1.0 d")
    flaps = lines.index("flapping findings (resolved, then back):")
    assert lines[flaps + 1].startswith("    3x reopened  drift aws_security_group.")
    assert lines[flaps + 1].endswith("<unmanaged>")
    assert any(line.startswith("  aws_ecs_service") and line.split()[1:3] == ["30", "0"] for line in lines)


def _rows(page: str, label: str) -> list[list[str]]:
    """The cells of the table with aria-label `label`, tags stripped."""
    table = page.split(f'aria-label="{label}"', 1)[1].split("</table>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1])]


def test_the_report_shows_the_analysis_up_to_its_run(ninety_days: History) -> None:
    from auditor.report.html import render_document

    runs = sorted(ninety_days.runs(), key=lambda r: r.started_at)
    page = render_document(ninety_days.run(runs[-1].id).document or {}, ninety_days.url)  # days 60-89
    assert "Over the last 30 runs</h3>" in page
    assert "Mean time to resolve a drift<b>1.0 d</b>" in page and "Mean time to fix a failing rule<b>n/a</b>" in page
    assert "Flapping findings<b>1</b>" in page
    assert [r[:3] + r[4:] for r in _rows(page, "Top drifting resource types")] == [
        ["aws_ecs_service", "30", "0", "n/a"], ["aws_security_group", "4", "4", "1.0"]]
    [flap] = _rows(page, "Flapping findings: resolved, then back")
    assert flap == ["drift", "aws_security_group.sg-c", "&lt;unmanaged&gt;", "3"]
    scoped = _rows(page, "Drift index per state, account and type")
    assert [r[:4] for r in scoped[:2]] == [["state", "s3://tfstate/app/terraform.tfstate", "30", "30"],
                                            ["account", "123456789012", "30", "30"]]
    assert ["type", "aws_ecs_service", "30", "30", "1.000", "1.000", "1.000", "0"] in scoped

    old = render_document(ninety_days.run(runs[29].id).document or {}, ninety_days.url)  # days 0-29
    assert "Over the last 30 runs</h3>" in old and "Mean time to resolve a drift<b>5.0 d</b>" in old
    assert "Mean time to fix a failing rule<b>20.0 d</b>" in old
    assert "Flapping findings<b>0</b>" in old and "Flapping findings: resolved" not in old
