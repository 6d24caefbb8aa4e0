"""docs/terraform-parity.md, written from a conformance run (deterministic: no ids, times or hosts)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from .harness import MOTO_PATCHES
from .known import CLEAN, KNOWN_DIFFERENCES, KnownDifference
from .parity import NOISE_RULES, Difference, Finding
from .scenarios import SCENARIOS
from .suite import Outcome, ParityRun

DOC_PATH = "docs/terraform-parity.md"

_RANDOM_IDS = (
    (re.compile(r"\b(sg|sgr|subnet|vpc|igw|rtb|rtbassoc|eni|eipalloc|eipassoc|nat|acl)-[0-9a-f]{8,17}\b"), r"\1-…"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "…"),
    (re.compile(r"/[0-9a-f]{16}\b"), "/…"),
)


def scrub(text: str) -> str:
    """Replace the random parts of moto ids so the document is the same on every run."""
    for pattern, replacement in _RANDOM_IDS:
        text = pattern.sub(replacement, text)
    return text


def _cell(text: str) -> str:
    return scrub(text).replace("|", "\\|").replace("\n", " ")


def _findings(findings: Iterable[Finding]) -> str:
    items = sorted(findings)
    return "<br>".join(f"`{_cell(str(f))}`" for f in items) if items else "—"


def _known_ids() -> dict[KnownDifference, str]:
    return {k: f"D{i}" for i, k in enumerate(KNOWN_DIFFERENCES, 1)}


def _label(difference: Difference, run: str, ids: Mapping[KnownDifference, str]) -> str:
    known = next((k for k in KNOWN_DIFFERENCES if k.difference == difference and k.applies_to(run)), None)
    return ids[known] if known else f"**new: {difference.side} {_cell(str(difference.finding))}**"


def _verdict(outcome: Outcome, baseline: frozenset[Difference], ids: Mapping[KnownDifference, str]) -> str:
    """parity, parity beyond the clean run's differences, or the differences (D-ids of known.py)."""
    own = outcome.differences if outcome.name == CLEAN else outcome.differences - baseline
    shared = ", ".join(_label(d, outcome.name, ids) for d in sorted(outcome.differences - own))
    if own:
        return "difference " + ", ".join(_label(d, outcome.name, ids) for d in sorted(own))
    return f"parity (and the clean run's {shared})" if shared else "parity"


def _scenario_table(run: ParityRun) -> list[str]:
    ids = _known_ids()
    titles = {s.name: s.title for s in SCENARIOS}
    lines = ["| run | out-of-band change (boto3) | `terraform plan -refresh-only` | `audit run` | verdict "
             "| undone with |", "|---|---|---|---|---|---|"]
    baseline_a, baseline_t = run.clean.auditor, run.clean.terraform
    for outcome in run.outcomes:
        clean = outcome.name == CLEAN
        tf = outcome.terraform if clean else outcome.terraform - baseline_t
        audit = outcome.auditor if clean else outcome.auditor - baseline_a
        lines.append(f"| {outcome.name} | {_cell(titles.get(outcome.name, outcome.title))} | {_findings(tf)} | "
                     f"{_findings(audit)} | {_verdict(outcome, run.clean.differences, ids)} | "
                     f"{_cell(outcome.undo) or '—'} |")
    return lines


def _notes(run: ParityRun) -> list[str]:
    """What the runs showed about Terraform's own behaviour, worded from the findings."""
    notes = []
    listener = next((o for o in run.scenarios if o.name == "listener-default-action"), None)
    if listener is not None:
        def paths(findings: Iterable[Finding]) -> str:
            found = sorted(f.path for f in findings if f.path.startswith("default_action"))
            return ", ".join(f"`{_cell(p)}`" for p in found) or "nothing"
        seen = paths(listener.terraform)
        verdict = "hid the drift from" if seen == "nothing" else "does not hide the drift from"
        notes.append(f"- `aws_lb_listener.https` has `ignore_changes = [default_action]`; it {verdict} "
                     f"`plan -refresh-only`: Terraform reported {seen}, the auditor {paths(listener.auditor)}. "
                     "`ignore_changes` only keeps an apply from reverting the change.")
    converged = [o for o in run.scenarios if o.undo.startswith("terraform apply")]
    if converged:
        notes.append("- " + ", ".join(o.name for o in converged) + ": a revoked rule comes back from AWS with a new "
                     "id, so a boto3 undo cannot restore what the state names; a targeted `terraform apply` "
                     "re-creates it and records the new id.")
    return notes


def _differences(run: ParityRun) -> list[str]:
    lines = ["| id | runs | reported by | finding | who is right | why |", "|---|---|---|---|---|---|"]
    for known, label in _known_ids().items():
        runs = ", ".join(o.name for o in run.outcomes if known.applies_to(o.name))
        lines.append(f"| {label} | {runs if known.runs is not None else 'every run'} | {known.difference.side} | "
                     f"`{_cell(str(known.difference.finding))}` | {known.right} | {_cell(known.reason)} |")
    return lines if KNOWN_DIFFERENCES else ["None: every run is in parity."]


def _noise(run: ParityRun) -> list[str]:
    hits = Counter(h.rule for h in run.clean.noise)
    lines = ["| rule | what | why it is not drift | removed on the clean stack |", "|---|---|---|---|"]
    for rule in NOISE_RULES:
        where = sorted({f"{h.address} {h.path}" for h in run.clean.noise if h.rule == rule.id})
        shown = "<br>".join(f"`{_cell(w)}`" for w in where) if where else "—"
        lines.append(f"| `{rule.id}` | {_cell(rule.title)} | {_cell(rule.why)} | {hits[rule.id]}: {shown} |")
    return lines


def _lock(run: ParityRun) -> list[str]:
    lock = run.lock
    lines = ["| mechanism | Terraform wrote | `audit run` reported |", "|---|---|---|"]
    reported = {h["mechanism"]: h for h in lock.reported}
    for mechanism, info in sorted(lock.terraform.items()):
        got = reported.get(mechanism)
        same = got is not None and all(
            got[field] == info.get(key) for field, key in (("id", "ID"), ("operation", "Operation"),
                                                            ("who", "Who"), ("created", "Created")))
        answer = "—" if got is None else ("the same ID, Who and Created; operation " + got["operation"]
                                          if same else "different: " + _cell(repr(got)))
        lines.append(f"| {mechanism} | Operation {info.get('Operation')}, Who, Created, ID | {answer} |")
    released = "released both locks" if lock.released else "**left a lock behind**"
    lines.append("")
    lines.append(f"Answering `no` at the prompt ended `terraform apply` with exit code {lock.exit_code}; it "
                 f"{released}.")
    return lines


def _compliance(audit: Mapping[str, Any]) -> list[str]:
    compliance = audit.get("compliance") or {}
    counts = compliance.get("counts") or {}
    lines = ["Status counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + ".", ""]
    others = [f for f in compliance.get("findings", ()) if f["status"] not in ("PASS", "NOT_APPLICABLE")]
    if not others:
        return [*lines, "Every applicable rule passes."]
    lines += ["| rule | status | severity | on | message |", "|---|---|---|---|---|"]
    for f in sorted(others, key=lambda f: (f["rule"], f["origin"], f["type"])):
        lines.append(f"| {f['rule']} | {f['status']} | {f['severity']} | {f['origin']} {f['type']} | "
                     f"{_cell(f['message'])} |")
    return lines


def _clean_audit(run: ParityRun) -> list[str]:
    audit = run.clean_audit
    counts = audit["summary"]["counts"]
    digests = ", ".join(f"{'stack (S3)' if s['uri'].startswith('s3://') else 'bootstrap (local file)'}: "
                        f"{(s.get('digest') or {}).get('status')}" for s in audit["states"])
    unmanaged = sorted(f"{r['type']} {r['id']}" for r in audit["resources"] if r["kind"] == "unmanaged")
    return [
        f"- `audit run --no-rules` of both states: {counts['in_sync']} in sync, {counts['changed']} changed, "
        f"{counts['missing']} missing, {counts['unmanaged']} unmanaged, {counts['unknown']} unknown; exit code "
        f"{audit['run']['exit_code']}.",
        f"- md5 digest of the states: {digests}.",
        "- Unmanaged: " + ("; ".join(f"`{_cell(u)}`" for u in unmanaged) if unmanaged else
                           "none (moto's default VPC, its subnets and default security group are AWS-owned)."),
        f"- `terraform plan -refresh-only` of both roots: {len(run.clean.noise)} attribute differences, all noise "
        f"(below); {len(run.clean.terraform)} left.",
    ]


def render(run: ParityRun) -> str:
    v = run.versions
    parity = sum(1 for o in run.scenarios if not o.differences - run.clean.differences)
    bugs = sum(1 for k in KNOWN_DIFFERENCES if k.auditor_bug)
    clean = "in parity" if not run.clean.differences else "differs from Terraform by " + ", ".join(
        _label(d, CLEAN, _known_ids()) for d in sorted(run.clean.differences))
    lines = [
        "# Terraform parity",
        "",
        "<!-- Generated by tests/conformance/test_terraform_parity.py: every run rewrites this file. "
        "Do not edit it by hand. -->",
        "",
        f"Terraform {v['terraform']} with hashicorp/aws {v['hashicorp/aws']} applied `terraform/bootstrap` "
        f"({run.resources['bootstrap']} resources, local state) and `terraform/stack` ({run.resources['stack']} "
        f"resources, S3 backend with `dynamodb_table` and `use_lockfile`) on a moto {v['moto']} server on "
        "127.0.0.1. Nothing of the stack is excluded. Then each out-of-band change below was made with boto3, one "
        "at a time and undone before the next, and both `terraform plan -refresh-only` and `audit run --no-rules` "
        "looked at it.",
        "",
        f"**{parity} of {len(run.scenarios)} scenarios in parity beyond the clean run; the clean run {clean}. "
        + (f"{len(KNOWN_DIFFERENCES)} known difference(s), {bugs} of them auditor bug(s).**" if KNOWN_DIFFERENCES
           else "No known differences.**"),
        "",
        "## How the two are compared",
        "",
        "- **Terraform**: `terraform plan -refresh-only -out=plan.bin -lock=false`, then `terraform show -json "
        "plan.bin`. Every `resource_drift` entry: `delete` is a *missing* resource; `update` is diffed leaf by leaf "
        "between `change.before` (the state) and `change.after` (refreshed), and the noise rules below remove what "
        "is not drift. `tags_all.<key>` is written `tags.<key>`, the auditor's name for the effective tags.",
        "- **auditor**: `audit run --format json --no-rules` of both states: each `changed` path, each `missing` "
        "resource, each `unmanaged` resource (an unmanaged security-group rule is written like Terraform's view of "
        "it: an ingress/egress entry of its group that no rule resource manages).",
        "- Two findings match when address and kind are equal and one path is the other or lies inside it (the "
        "auditor reports a Terraform set such as `default_action[0].forward[0].target_group` as a whole, "
        "Terraform's differ its leaves).",
        "- Each scenario's Terraform findings must also be exactly the change it made (so every undo is checked by "
        "the next run). The scenario columns leave out what the clean run already showed.",
        "",
        "## Runs",
        "",
        *_scenario_table(run),
        "",
        *_notes(run),
        "",
        "## Differences",
        "",
        *_differences(run),
        "",
        "## The clean stack",
        "",
        *_clean_audit(run),
        "",
        "## Terraform noise removed before comparing",
        "",
        *_noise(run),
        "",
        "## moto deviations from AWS the suite works around",
        "",
        *(f"- {_cell(what)}: {_cell(how)}" for what, how in MOTO_PATCHES),
        "",
        "## A lock held by Terraform itself",
        "",
        "`terraform apply` (a variable changed, so it stops at its confirmation prompt) holds the DynamoDB lock "
        "item and the `.tflock` object; `audit run` ran meanwhile.",
        "",
        *_lock(run),
        "",
        "## Compliance rules on the clean stack (`audit run` with rules)",
        "",
        *_compliance(run.rules_audit),
        "",
    ]
    return "\n".join(lines)
