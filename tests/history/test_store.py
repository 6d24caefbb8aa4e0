"""The history store's contract, the same on SQLite, PostgreSQL and S3."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from auditor.history import History, HistoryError, default_url, open_history
from auditor.history.record import drift_key, rule_key
from tests.history.docs import make_doc

T0 = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
LB = ("aws_lb", "arn:lb/app")
SG = ("aws_security_group", "sg-1")


def _day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def test_runs_are_listed_newest_first_with_their_figures(history: History) -> None:
    first = history.record_document(make_doc(_day(0), [(*LB, "changed", ["idle_timeout"])], in_sync=[SG]))
    second = history.record_document(make_doc(_day(1), in_sync=[LB, SG]), job="nightly", trigger="schedule")
    runs = history.runs()
    assert [r.id for r in runs] == [second, first]
    assert runs[1].drifted == 1 and runs[1].resources == 2 and runs[1].drift_index == 0.5
    assert runs[0].job == "nightly" and runs[0].trigger == "schedule" and runs[0].status == "completed"
    assert runs[0].started_at == _day(1) and runs[0].account_id == "123456789012"
    assert history.runs(limit=1)[0].id == second
    assert [r.id for r in history.runs(since=_day(1))] == [second]


def test_a_run_keeps_its_json_result_and_id(history: History) -> None:
    run_id = history.record_document(make_doc(_day(0), [(*LB, "missing", [])]))
    record = history.run(run_id)
    assert record.document is not None
    assert record.document["run"]["id"] == run_id
    assert record.document["resources"][0]["kind"] == "missing"
    assert record.states[0].serial == 7 and record.states[0].digest == "match"
    assert history.run(run_id[:20]).info.id == run_id
    assert history.run("latest").info.id == run_id


def test_unknown_and_ambiguous_run_references_are_one_line_errors(history: History) -> None:
    history.record_document(make_doc(_day(0)))
    history.record_document(make_doc(_day(0) + timedelta(seconds=1)))
    with pytest.raises(HistoryError, match="no run 'nope'"):
        history.run("nope")
    with pytest.raises(HistoryError, match="ambiguous"):
        history.run("2026")
    assert history.prune(_day(0) + timedelta(milliseconds=500)) == 1
    with pytest.raises(HistoryError, match="no previous run"):
        history.run("previous")


def test_findings_are_new_then_persisting_then_resolved_then_reopened(history: History) -> None:
    drift = drift_key(*LB, "idle_timeout")
    rule = rule_key("ALB-01", *LB)
    r1 = history.record_document(make_doc(_day(0), [(*LB, "changed", ["idle_timeout"])],
                                          [("ALB-01", *LB, "FAIL")]))
    r2 = history.record_document(make_doc(_day(1), [(*LB, "changed", ["idle_timeout"])],
                                          [("ALB-01", *LB, "FAIL")]))
    r3 = history.record_document(make_doc(_day(2), in_sync=[LB], verdicts=[("ALB-01", *LB, "PASS")]))
    r4 = history.record_document(make_doc(_day(3), [(*LB, "changed", ["idle_timeout"])]))
    assert history.run_statuses(r1) == {drift: "new", rule: "new"}
    assert history.run_statuses(r2) == {drift: "persisting", rule: "persisting"}
    assert history.run_statuses(r3) == {drift: "resolved", rule: "resolved"}
    assert history.run_statuses(r4) == {drift: "reopened"}
    found = history.findings()
    assert found[drift].status == "reopened" and found[drift].reopened == 1
    assert found[drift].first_seen == _day(0) and found[drift].last_seen == _day(3) and found[drift].last_run == r4
    assert found[rule].status == "resolved" and found[rule].resolved_at == _day(2) and found[rule].resolved_run == r3
    assert found[rule].detail.item == "ALB-01" and found[drift].detail.item == "idle_timeout"
    assert set(history.findings(r4)) == {drift} and set(history.findings(r3)) == {drift, rule}


def test_a_finding_that_could_not_be_observed_is_not_resolved(history: History) -> None:
    drift = drift_key(*SG, "<unmanaged>")
    rule = rule_key("ALB-01", *LB)
    history.record_document(make_doc(_day(0), [(*SG, "unmanaged", [])], [("ALB-01", *LB, "FAIL")]))
    blind = history.record_document(make_doc(_day(1), unknown_types=["aws_security_group"],
                                             verdicts=[("ALB-01", *LB, "UNKNOWN")]))
    assert history.run_statuses(blind) == {drift: "unverified", rule: "unverified"}
    no_state = history.record_document(make_doc(_day(2), state_failures=["s3://tfstate/other"], rules=False))
    assert history.run_statuses(no_state) == {drift: "unverified", rule: "unverified"}
    found = history.findings()
    assert found[drift].status == "new" and found[drift].last_seen == _day(0)
    assert found[rule].status == "new"


def test_a_failed_run_is_listed_and_judges_nothing(history: History) -> None:
    history.record_document(make_doc(_day(0), [(*LB, "missing", [])]))
    failed = history.record_failure(started_at=_day(1), finished_at=_day(1) + timedelta(seconds=3),
                                     error="AccessDenied on ListBuckets", job="nightly", trigger="schedule")
    latest = history.runs()[0]
    assert latest.id == failed and latest.status == "failed" and latest.error == "AccessDenied on ListBuckets"
    assert history.run_statuses(failed) == {}
    assert history.findings()[drift_key(*LB, "<missing>")].status == "new"
    assert history.run(failed).document is None
    assert history.resolve("latest") != failed  # `latest` is the latest completed run


def test_scores_per_state_type_account_and_rule(history: History) -> None:
    history.record_document(make_doc(_day(0), [(*LB, "changed", ["x"])], [("ALB-01", *LB, "FAIL"),
                                                                         ("ALB-01", *SG, "PASS")], in_sync=[SG]))
    rows = history.scores()
    by = {(s.scope, s.name): s for _, _, s in rows}
    assert by[("type", "aws_lb")].drift_index == 1.0 and by[("type", "aws_security_group")].drifted == 0
    assert by[("account", "123456789012")].audited == 2 and by[("account", "123456789012")].drifted == 1
    assert by[("state", "s3://tfstate/app/terraform.tfstate")].drift_index == 0.5
    assert (by[("rule", "ALB-01")].passed, by[("rule", "ALB-01")].failed) == (1, 1)
    assert {s.scope for _, _, s in history.scores("rule")} == {"rule"}


def test_prune_forgets_old_runs_but_not_when_a_finding_was_first_seen(history: History) -> None:
    old = history.record_document(make_doc(_day(0), [(*LB, "missing", [])]))
    new = history.record_document(make_doc(_day(40), [(*LB, "missing", [])]))
    assert history.prune(_day(30)) == 1
    assert [r.id for r in history.runs()] == [new]
    with pytest.raises(HistoryError):
        history.run(old)
    assert history.scores() and all(run_id == new for run_id, _, _ in history.scores())


def test_journals_keep_their_entries_in_order(history: History) -> None:
    history.append_journal("deploy-1", "deploy", {"step": 1, "action": "register"})
    history.append_journal("fix-1", "fix", {"step": 1})
    history.append_journal("deploy-1", "deploy", {"step": 2, "action": "shift", "weights": [90, 10]})
    history.append_journal("deploy-2", "deploy", {"step": 1})
    assert history.read_journal("deploy-1") == [{"step": 1, "action": "register"},
                                                {"step": 2, "action": "shift", "weights": [90, 10]}]
    assert history.read_journal("nothing") == []
    assert history.list_journals("deploy") == ["deploy-1", "deploy-2"]
    assert history.list_journals("fix") == ["fix-1"]
    with pytest.raises(HistoryError, match="unknown journal kind"):
        history.append_journal("x", "other", {})


def test_sqlalchemy_url(history: History, history_url: str) -> None:
    if history_url.startswith("s3://"):
        assert history.sqlalchemy_url is None
    else:
        assert history.sqlalchemy_url is not None
        assert history.sqlalchemy_url.split("://")[0] in ("sqlite", "postgresql+psycopg")


def test_a_second_opening_sees_the_same_history(history_url: str) -> None:
    with open_history(history_url) as first:
        run_id = first.record_document(make_doc(_day(0), [(*LB, "missing", [])]))
        first.append_journal("d", "deploy", {"n": 1})
    with open_history(history_url) as again:
        assert [r.id for r in again.runs()] == [run_id]
        assert again.read_journal("d") == [{"n": 1}]
        assert again.findings()[drift_key(*LB, "<missing>")].first_run == run_id


def test_default_store_is_sqlite_in_the_xdg_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_url() == f"sqlite:///{tmp_path / 'data' / 'auditor' / 'history.db'}"
    with open_history(None) as h:
        h.record_document(make_doc(_day(0)))
    assert (tmp_path / "data" / "auditor" / "history.db").is_file()
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_url() == f"sqlite:///{tmp_path / 'home' / '.local' / 'share' / 'auditor' / 'history.db'}"


def test_a_bare_path_is_a_sqlite_file(tmp_path: Path) -> None:
    with open_history(str(tmp_path / "h.db")) as h:
        assert h.sqlalchemy_url == f"sqlite:///{tmp_path / 'h.db'}"


@pytest.mark.parametrize("url", ["ftp://x/y", "s3://", "mysql://u@h/d"])
def test_unsupported_urls_are_one_line_errors(url: str) -> None:
    with pytest.raises(HistoryError):
        open_history(url)


def test_a_password_in_the_url_is_never_shown(postgres_server: str) -> None:
    url = postgres_server.replace("postgres@", "postgres:s3cr3t-pw@").replace("/postgres", "/no_such_db")
    with pytest.raises(HistoryError) as err:
        open_history(url)
    assert "s3cr3t-pw" not in str(err.value) and "***" in str(err.value)


def test_two_s3_writers_never_overwrite_one_run(s3_url: str) -> None:
    from auditor.history.record import from_document

    record = from_document(make_doc(_day(0)))
    a, b = open_history(s3_url), open_history(s3_url)
    a.record(record)
    with pytest.raises(HistoryError, match="already exists"):
        b.record(record)
    assert len(b.runs()) == 1


def test_s3_objects_are_encrypted(s3_url: str) -> None:
    import boto3

    with open_history(s3_url) as h:
        run_id = h.record_document(make_doc(_day(0)))
        h.append_journal("d1", "deploy", {"n": 1})
    s3 = boto3.client("s3", region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="audit-history")["Contents"]]
    assert f"team/app/runs/{run_id}.json.gz" in keys and "team/app/journals/d1/000001.json" in keys
    for key in keys:
        assert s3.head_object(Bucket="audit-history", Key=key)["ServerSideEncryption"] == "AES256"
