"""The rule engine: `applies=` decides first, the check runs only on what it lets through, errors are UNKNOWN."""

from __future__ import annotations

from pathlib import Path

from auditor.models import Origin, Resource, Status
from auditor.rules.engine import evaluate, load_pack

PACK = '''
from auditor.models import Status
from auditor.rules.engine import rule
from auditor.rules.model import Verdict

CHECKED = []


def only_big(res, ctx):
    size = res.attributes.get("size")
    if size is None:
        return Verdict(Status.UNKNOWN, "size not known")
    return None if size > 10 else Verdict(Status.NOT_APPLICABLE, "a small one")


def broken_guard(res, ctx):
    raise RuntimeError("guard broke")


@rule(id="USR-01", title="big things are blue", severity="low", resource_types=["thing"], rationale="r",
      remediation="m", terraform="t", applies=only_big)
def blue(res, ctx):
    CHECKED.append(res.id)
    ok = res.attributes.get("colour") == "blue"
    return Verdict(Status.PASS if ok else Status.FAIL, "colour")


@rule(id="USR-02", title="never judged", severity="low", resource_types=["thing"], rationale="r",
      remediation="m", terraform="t", applies=broken_guard)
def never(res, ctx):
    return Verdict(Status.PASS, "passed without a guard")
'''


def test_applies_decides_before_the_check(tmp_path: Path) -> None:
    (tmp_path / "user.py").write_text(PACK)
    pack = load_pack(tmp_path)
    things = [Resource("thing", name, attrs, Origin.CODE, address=f"thing.{name}") for name, attrs in (
        ("big_blue", {"size": 11, "colour": "blue"}), ("big_red", {"size": 20, "colour": "red"}),
        ("small", {"size": 1, "colour": "red"}), ("unsized", {"colour": "blue"}))]
    got = {(f.rule_id, f.resource_id): (f.status, f.message) for f in evaluate(pack, things)}
    assert {k[1]: v[0] for k, v in got.items() if k[0] == "USR-01"} == {
        "big_blue": Status.PASS, "big_red": Status.FAIL, "small": Status.NOT_APPLICABLE, "unsized": Status.UNKNOWN}
    assert got[("USR-01", "small")][1] == "a small one"
    check = pack.get("USR-01")
    assert check is not None and check.check.__globals__["CHECKED"] == ["big_blue", "big_red"]
    broken = {v for k, v in got.items() if k[0] == "USR-02"}
    assert broken == {(Status.UNKNOWN, "rule error: RuntimeError: guard broke")}
