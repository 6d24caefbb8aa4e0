"""Benchmark: `audit scan` against checkov 3.3.30 on the same Terraform, and where their verdicts differ.

Run: `.venv/bin/python bench/bench_scan_vs_checkov.py [--repeat 5] [--venv bench/out/checkov-venv]`

1. Speed: wall and CPU time of `audit scan DIR --format json`, cold (`--no-cache`) and warm (its scan cache
   primed by one unmeasured run, kept in a temporary folder through AUDITOR_CACHE_DIR), and of `checkov -d DIR
   --framework terraform --quiet -o json --skip-download`, over checkov's own fixtures (one root module per folder)
   and over terraform/, repeated and interleaved, medians reported. `--version` and a folder holding one empty .tf
   file measure startup. Both tools run with bytecode on (PYTHONDONTWRITEBYTECODE dropped, as an installed tool
   runs), every command once unmeasured first so that the .pyc files exist.
2. Agreement: for every rule whose metadata names a checkov check (`peers.checkov`), our verdict on every resource
   checkov judged with that check in the fixture folders. The comparisons and their settings are the rows of the
   checkov parity tables (tests/rules/test_checkov_parity*.py), plus default settings for mapped checks without a
   row. A difference is "documented" by a parity row (or, for resources outside the check's own folder, by
   KNOWN_DIFFERENCES), "other peer fails it" when checkov fails the resource with another check our rule also
   covers, "ours not applicable" when our rule says why it does not apply, else "undocumented".
3. checkov on terraform/: every failed check, split into checks mapped to one of our rules and the rest, each with
   the reason recorded in TERRAFORM_REASONS (a failure without one is printed as such).

checkov lives in its own virtualenv, created on first run under the git-ignored bench/out/, never in .venv.
`--skip-download` keeps checkov from calling its vendor's API (unreachable here; it only adds guideline links).
Output: Markdown on stdout; the raw figures as JSON in bench/out/checkov-comparison.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from importlib.metadata import version
from pathlib import Path
from typing import Any

from auditor.catalog import canonical_type
from auditor.code import load_code
from auditor.code.loader import CodeModule
from auditor.code.values import Ref
from auditor.models import Origin, Status
from auditor.rules.backend import backend_resource
from auditor.rules.engine import BUILTIN_PACK, RulePack, evaluate, load_pack
from auditor.rules.links import address_type, normalize_address
from auditor.rules.model import Verdict
from auditor.rules.settings import RuleSettings
from auditor.rules.verdicts import all_of
from auditor.scan.code import root_modules

CHECKOV_VERSION = "3.3.30"
REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
FIXTURES = REPO.parent / "shared" / "fixtures" / "checkov"
TERRAFORM = REPO / "terraform"
STARTUP = "startup: one empty .tf"
PARITY_MODULE = "tests.rules.test_checkov_parity"

# checkov judges a resource of type K, our rule another type T linked to it by a reference:
# ROLL_UP[K] = (T, attribute of T referring to the K): the verdicts of every such T are combined (all must hold);
# ROLL_DOWN[K] = (T, attribute of the K referring to a T): our verdict on that T.
ROLL_UP: Mapping[str, tuple[str, str]] = {"aws_lb": ("aws_lb_listener", "load_balancer_arn")}
ROLL_DOWN: Mapping[str, tuple[str, str]] = {"aws_s3_bucket_public_access_block": ("aws_s3_bucket", "bucket")}

# Differences on fixture resources outside a check's own folder, which the parity tables (keyed by the check's own
# expected.json) cannot hold: (our rules, "folder/address"s, why).
NOT_GATEWAY = ("load_balancer_type 'not gateway' is no valid type (application, network or gateway), so which "
               "settings apply to this load balancer and its listener cannot be told")
KNOWN_DIFFERENCES: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (("ECS-02",), ("CKV_AWS_336/aws_ecs_task_definition.fail2",),
     "its container sets `privilege = true`, not an ECS field: no container is privileged (CKV_AWS_334 reads "
     "`privilege` instead of `privileged`, the catalog's known peer bug)"),
    (("ECS-04",), tuple(f"{folder}/aws_ecs_task_definition.{name}" for folder, names in
                        (("CKV_AWS_334", ("pass", "fail")), ("CKV_AWS_336", ("pass", "fail", "fail2")))
                        for name in names),
     "ECS-04 also requires an execution role (catalog: 'execution role is set and differs from the task role'); "
     "CKV_AWS_249 only compares the two roles, and passes a task definition that has neither"),
    (("ALB-04", "ALB-05", "ALB-06", "ALB-07", "ALB-08"),
     ("CKV_AWS_103/aws_lb.not_gateway_lb", "CKV_AWS_103/aws_lb_listener.not_gateway_listener"), NOT_GATEWAY),
)

# Why a check that checkov fails on terraform/ is not followed there. Keys: "CHECK folder/address" for one
# resource, or "CHECK" for every resource of the check.
TERRAFORM_REASONS: Mapping[str, str] = {
    # mapped to one of our rules
    "CKV_AWS_21 stack/aws_s3_bucket.alb_logs": (
        "the ALB access-log bucket holds write-once log objects that expire after alb_log_retention_days; STATE-04 "
        "asks versioning of state buckets (bucket_scope = \"state\"), and the state bucket is versioned"),
    "CKV_AWS_145 stack/aws_s3_bucket.alb_logs": (
        "ALB access logs can be delivered only to a bucket encrypted with SSE-S3 (AES256), never SSE-KMS: a KMS "
        "key here would stop log delivery. STATE-05 asks KMS of state buckets, and the state bucket uses a CMK"),
    "CKV_AWS_338": (
        "retention is a threshold, not a fixed year: CW-05's min_log_retention_days defaults to 30 (the app keeps "
        "30 days, the auditor 90); checkov's 365 is Security Hub CloudWatch.16's default, "
        "--min-log-retention-days 365 applies it"),
    "CKV_AWS_130": (
        "these public subnets hold the ALB and the NAT gateways and need public addresses; NET-03 judges only the "
        "subnets ECS tasks run in (CKV_AWS_130 is its subnet part), and the task subnets are private"),
    # outside our scope, or intentionally not followed
    "CKV_AWS_158": ("CloudWatch Logs encrypts every log group at rest already; a CMK per log group is not in the "
                    "rule catalog (the logs hold no secrets: the auditor redacts them)"),
    "CKV_AWS_297": ("EventBridge Scheduler encrypts schedules with an AWS-owned key; this one holds only the task "
                    "ARN and network settings, nothing a CMK would protect"),
    "CKV_AWS_26": ("the alarm topic carries CloudWatch alarm notifications only; SSE-KMS on it needs a CMK whose "
                   "policy admits cloudwatch.amazonaws.com, outside the catalog"),
    "CKV_AWS_260": ("port 80 open to the world on the public ALB's security group is expected (rules catalog): the "
                    "HTTP listener only redirects to HTTPS, which ALB-04 checks"),
    "CKV2_AWS_62": "S3 event notifications: nothing in the stack consumes bucket events",
    "CKV_AWS_18": ("S3 server access logging is not in the catalog; the state bucket's reads and writes are in "
                   "CloudTrail, and logging the ALB log bucket into another bucket only moves the question"),
    "CKV2_AWS_61": ("a lifecycle rule on the state bucket would expire old state versions, which are the point of "
                    "STATE-04's versioning; the ALB log bucket has one"),
    "CKV2_AWS_11": "VPC flow logs are not in the rule catalog (network basics: NET-01..03)",
    "CKV2_AWS_28": "a WAF web ACL in front of the ALB is an application-security product choice, not in the catalog",
    "CKV2_AWS_64": ("the KMS keys keep the default key policy (the account's IAM policies decide), as the AWS "
                    "provider creates it; custom key policies are not in the catalog"),
    "CKV2_AWS_5 auditor/aws_security_group.auditor": (
        "a checkov false positive: the group is attached to the auditor's Fargate task through the EventBridge "
        "Scheduler target's network configuration (schedule.tf), which checkov's graph does not follow"),
    "CKV2_AWS_12": ("the VPC's default security group is AWS-owned and unused by the stack (the catalog treats AWS "
                    "defaults as not managed); restricting it needs an aws_default_security_group"),
    "CKV_AWS_144": ("cross-region replication of the state and log buckets is a disaster-recovery choice outside "
                    "the catalog; state versions are kept by versioning"),
}


class BenchError(Exception):
    """An expected failure of the benchmark: printed as one line."""


# ---------------------------------------------------------------- running the tools


def last_line(text: str) -> str:
    """The error line of a tool's stderr (pip prints warnings after it), else its last line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["(no output)"])[-1]


@dataclass(frozen=True)
class Ran:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process and its children
    stdout: str


def run(argv: Sequence[str], ok: Sequence[int], cwd: Path, env: Mapping[str, str]) -> Ran:
    """Run one command; an exit code outside `ok` is a BenchError."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(list(argv), capture_output=True, text=True, cwd=cwd, env=dict(env), check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in ok:
        raise BenchError(f"{Path(argv[0]).name} exited {done.returncode}: {last_line(done.stderr)}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Ran(wall, cpu, done.stdout)


def ensure_checkov(venv: Path) -> Path:
    """The checkov executable of `venv`, after creating the venv and installing checkov when missing."""
    if venv.resolve().is_relative_to((REPO / ".venv").resolve()):
        raise BenchError(f"{venv} is inside the project's .venv: checkov needs a virtualenv of its own")
    exe = venv / "bin" / "checkov"
    if not exe.exists():
        python = shutil.which("python3.11") or sys.executable
        print(f"creating {venv} and installing checkov=={CHECKOV_VERSION} into it (first run only)", file=sys.stderr)
        for argv in ([python, "-m", "venv", str(venv)],
                     [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"checkov=={CHECKOV_VERSION}"]):
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise BenchError(f"installing checkov {CHECKOV_VERSION} into {venv} failed: {last_line(done.stderr)}")
    found = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False).stdout.strip()
    if found != CHECKOV_VERSION:
        raise BenchError(f"{exe} is checkov {found or '(unknown)'}, not {CHECKOV_VERSION}: delete {venv} to reinstall")
    return exe


@dataclass(frozen=True)
class Tools:
    audit: Path
    checkov: Path
    cwd: Path  # a neutral working directory (no audit.toml, no .checkov.yaml)
    env: Mapping[str, str]  # bytecode on; AUDITOR_CACHE_DIR in a temporary folder

    @classmethod
    def make(cls, audit: Path, checkov: Path, tmp: Path) -> Tools:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        return cls(audit, checkov, tmp, env | {"AUDITOR_CACHE_DIR": str(tmp / "audit-cache")})

    def audit_scan(self, folder: Path, *, cache: bool) -> list[str]:
        argv = [str(self.audit), "scan", str(folder), "--format", "json"]
        return argv if cache else [*argv, "--no-cache"]

    def checkov_scan(self, folder: Path, *, quiet: bool = True) -> list[str]:
        argv = [str(self.checkov), "-d", str(folder), "--framework", "terraform", "-o", "json", "--skip-download"]
        return [*argv, "--quiet"] if quiet else argv

    def run_audit(self, argv: Sequence[str]) -> Ran:
        return run(argv, ok=(0, 2), cwd=self.cwd, env=self.env)

    def run_checkov(self, argv: Sequence[str]) -> Ran:
        return run(argv, ok=(0, 1), cwd=self.cwd, env=self.env)


# ---------------------------------------------------------------- 1. speed


OURS = ("cold", "warm")  # audit scan --no-cache; audit scan with its cache primed


@dataclass(frozen=True)
class Target:
    label: str
    cold: tuple[str, ...]
    warm: tuple[str, ...] | None  # None: nothing is cached (`--version`)
    checkov: tuple[str, ...]
    root_modules: int | None = None

    @classmethod
    def scan(cls, tools: Tools, label: str, folder: Path, root_modules: int) -> Target:
        return cls(label, tuple(tools.audit_scan(folder, cache=False)), tuple(tools.audit_scan(folder, cache=True)),
                   tuple(tools.checkov_scan(folder)), root_modules)


@dataclass(frozen=True)
class Timing:
    target: str
    cold: tuple[Ran, ...]
    warm: tuple[Ran, ...]  # empty when the target has no warm command
    checkov: tuple[Ran, ...]

    def median(self, tool: str, measure: str) -> float:
        return statistics.median(getattr(r, measure) for r in getattr(self, tool))

    def spread(self, tool: str, measure: str) -> str:
        values = [getattr(r, measure) for r in getattr(self, tool)]
        return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})" if values else "—"

    def ratio(self, tool: str, measure: str) -> float | None:
        """checkov's median over ours (`tool`: cold or warm), None without warm runs."""
        return self.median("checkov", measure) / self.median(tool, measure) if getattr(self, tool) else None

    def best_ratio(self, tool: str, measure: str) -> float | None:
        """The ratio of the fastest runs: the least disturbed by other load on the machine."""
        ours = getattr(self, tool)
        return min(getattr(r, measure) for r in self.checkov) / min(getattr(r, measure) for r in ours) if ours else None


def _times(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.1f}×"


def time_targets(tools: Tools, targets: Sequence[Target], repeat: int) -> list[Timing]:
    """Each target `repeat` times with each tool, interleaved so that load on the machine hits both alike, after
    one unmeasured run of every command (it writes the .pyc files, and primes our scan cache)."""
    runs: dict[tuple[str, str], list[Ran]] = defaultdict(list)
    for i in range(repeat + 1):
        for t in targets:
            print(f"  {f'round {i}/{repeat}' if i else 'priming'}: {t.label}", file=sys.stderr)
            ran = {"cold": tools.run_audit(t.cold), "checkov": tools.run_checkov(t.checkov)}
            if t.warm is not None:
                ran["warm"] = tools.run_audit(t.warm)
            for tool, one in ran.items():
                if i:
                    runs[(t.label, tool)].append(one)
    return [Timing(t.label, *(tuple(runs[(t.label, tool)]) for tool in (*OURS, "checkov"))) for t in targets]


# ---------------------------------------------------------------- checkov's verdicts


@dataclass(frozen=True)
class CheckovResult:
    check: str
    name: str
    folder: str  # root module folder relative to the scanned directory ("" for the directory itself)
    address: str  # normalized
    type: str  # canonical (aws_alb -> aws_lb)
    status: Status


def owning_root(file_path: str, roots: Sequence[str]) -> str:
    """The root module folder (relative) holding a file checkov reports as `/sub/dir/file.tf`."""
    folder = Path(file_path.lstrip("/")).parent.as_posix()
    folder = "" if folder == "." else folder
    candidates = [r for r in roots if r == "" or folder == r or folder.startswith(r + "/")]
    return max(candidates, key=len, default=folder)


def checkov_results(document: Any, roots: Sequence[str]) -> list[CheckovResult]:
    """The PASSED and FAILED resource results of a `checkov -o json` document (one report or a list)."""
    out: list[CheckovResult] = []
    for report in document if isinstance(document, list) else [document]:
        if report.get("check_type", "terraform") != "terraform":
            continue
        results = report.get("results", {})
        for key, status in (("passed_checks", Status.PASS), ("failed_checks", Status.FAIL)):
            for c in results.get(key, []):
                address = normalize_address(c["resource"])
                kind = address_type(address)
                out.append(CheckovResult(c["check_id"], c["check_name"], owning_root(c["file_path"], roots), address,
                                         canonical_type(kind[1] if kind else address.split(".")[0]), status))
    return out


def checkov_run(tools: Tools, folder: Path, roots: Sequence[str]) -> tuple[float, int, list[CheckovResult]]:
    """One full (non-quiet) checkov run: its time, resource count and every verdict."""
    ran = tools.run_checkov(tools.checkov_scan(folder, quiet=False))
    document = json.loads(ran.stdout)
    summaries = [r.get("summary", r) for r in (document if isinstance(document, list) else [document])]
    return ran.wall, sum(int(s.get("resource_count", 0)) for s in summaries), checkov_results(document, roots)


# ---------------------------------------------------------------- our verdicts


class OurVerdicts:
    """Our verdicts on every root module under a folder: loaded once, evaluated once per settings.

    backends: folder -> the backend block to evaluate that root module with instead of its own (the parity
    tables name some fixtures' tables as lock tables this way).
    """

    def __init__(self, root: Path, pack: RulePack, backends: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.pack = pack
        self.backends = dict(backends or {})
        self.modules: dict[str, CodeModule] = {}
        for folder in root_modules(root):
            rel = folder.relative_to(root).as_posix()
            self.modules["" if rel == "." else rel] = load_code(folder)
        self._cache: dict[RuleSettings, dict[tuple[str, str, str], Verdict]] = {}

    @property
    def resource_count(self) -> int:
        return sum(len(m.resources) for m in self.modules.values())

    def verdicts(self, settings: RuleSettings) -> dict[tuple[str, str, str], Verdict]:
        """(rule, folder, address) -> the rule's verdict (several verdicts on one resource: all must hold)."""
        if settings not in self._cache:
            found: dict[tuple[str, str, str], list[Verdict]] = defaultdict(list)
            for rel, module in self.modules.items():
                block = self.backends.get(rel, module.backend)
                resources = [*module.resources, backend_resource(block, origin=Origin.CODE, source=rel)]
                for f in evaluate(self.pack, resources, settings):
                    if f.address:
                        found[(f.rule_id, rel, normalize_address(f.address))].append(Verdict(f.status, f.message))
            self._cache[settings] = {k: all_of(v) for k, v in found.items()}
        return self._cache[settings]

    def children(self, child_type: str, attribute: str) -> dict[tuple[str, str], list[str]]:
        """(folder, parent address) -> the addresses of `child_type` resources whose `attribute` refers to it."""
        out: dict[tuple[str, str], list[str]] = defaultdict(list)
        for rel, module in self.modules.items():
            for r in module.resources:
                ref = r.attributes.get(attribute)
                if canonical_type(r.type) == child_type and isinstance(ref, Ref) and r.address:
                    out[(rel, normalize_address(ref.address))].append(normalize_address(r.address))
        return out

    def referenced(self, folder: str, address: str, attribute: str) -> str | None:
        """The address the resource's `attribute` refers to, None when it is no reference."""
        for r in self.modules[folder].resources:
            ref = r.attributes.get(attribute)
            if r.address and normalize_address(r.address) == address and isinstance(ref, Ref):
                return normalize_address(ref.address)
        return None

    def judge(self, rule_id: str, result: CheckovResult, settings: RuleSettings) -> Verdict | str | None:
        """Our verdict on the resource checkov judged; None when we have none; a str when not comparable."""
        rule = self.pack.get(rule_id)
        if rule is None:
            raise BenchError(f"rule {rule_id} is not in the pack")
        types = {canonical_type(t) for t in rule.meta.resource_types}
        verdicts = self.verdicts(settings)
        if result.type in types:
            return verdicts.get((rule_id, result.folder, result.address))
        if result.type in ROLL_UP and ROLL_UP[result.type][0] in types:
            kids = self.children(*ROLL_UP[result.type]).get((result.folder, result.address), [])
            found = [verdicts[(rule_id, result.folder, k)] for k in kids if (rule_id, result.folder, k) in verdicts]
            return all_of(found) if found else Verdict(Status.NOT_APPLICABLE, f"no {ROLL_UP[result.type][0]}")
        if result.type in ROLL_DOWN and ROLL_DOWN[result.type][0] in types:
            target = self.referenced(result.folder, result.address, ROLL_DOWN[result.type][1])
            verdict = verdicts.get((rule_id, result.folder, target)) if target else None
            return Verdict(verdict.status, f"on {target}: {verdict.message}") if verdict else None
        return f"{rule_id} judges {', '.join(sorted(types))}, not {result.type}"


# ---------------------------------------------------------------- 2. agreement


@dataclass(frozen=True)
class Comparison:
    """One checkov check against one of our rules at some settings, with the differences its parity row
    documents (address in the check's own fixture folder -> our verdict, why)."""

    check: str
    rule: str
    settings: RuleSettings
    documented: Mapping[str, tuple[Status, str]]

    @property
    def label(self) -> str:
        default = RuleSettings()
        changed = [f"{f.name}={getattr(self.settings, f.name)}" for f in fields(RuleSettings)
                   if getattr(self.settings, f.name) != getattr(default, f.name)]
        return f"{self.check} / {self.rule}" + (f" ({'; '.join(changed)})" if changed else "")


def parity_rows() -> list[Any]:
    """Every `Parity` row of the parity test module (module-level rows and tuples of rows)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # the parity tables are data inside the test package
    try:
        module = importlib.import_module(PARITY_MODULE)
    except ImportError as exc:
        raise BenchError(f"cannot read the parity table {PARITY_MODULE}: {exc}") from None
    rows: list[Any] = []
    for value in vars(module).values():
        for row in value if isinstance(value, tuple) else (value,):
            if isinstance(row, module.Parity) and all(row is not r for r in rows):
                rows.append(row)
    return rows


def comparisons(pack: RulePack, rows: Sequence[Any]) -> list[Comparison]:
    """The parity rows whose rule still maps to the check, then default settings for mapped checks without a row."""
    mapped = {(c, r.meta.id) for r in pack.rules for c in r.meta.peers.checkov}
    out = [Comparison(row.check, row.rule, row.settings or RuleSettings(), dict(row.differences))
           for row in rows if (row.check, row.rule) in mapped]
    covered = {(c.check, c.rule) for c in out}
    out += [Comparison(check, rule, RuleSettings(), {}) for check, rule in sorted(mapped - covered)]
    return sorted(out, key=lambda c: (c.rule, c.check, c.settings != RuleSettings()))


def fixture_backends(rows: Sequence[Any]) -> dict[str, Mapping[str, Any]]:
    """Fixture folder -> the backend its parity row evaluates it with."""
    return {row.check: row.backend for row in rows if row.backend is not None}


class Kind(StrEnum):
    """Why a verdict pair differs, in the order the explanations are tried."""

    DOCUMENTED = "documented"  # a parity row, or KNOWN_DIFFERENCES
    OTHER_PEER = "other peer fails it"  # our rule also covers another checkov check, which fails the resource
    SCOPE = "ours not applicable"  # our rule says why it does not apply
    UNDOCUMENTED = "undocumented"


@dataclass(frozen=True)
class Judgement:
    comparison: str
    folder: str
    address: str
    checkov: Status
    ours: Status | None
    message: str
    kind: Kind | None  # None: agreement
    reason: str


def explain(c: Comparison, every: Sequence[Comparison], folder: str, address: str, ours: Verdict | None,
            checkov_index: Mapping[tuple[str, str, str], Status], peers: Sequence[str]) -> tuple[Kind, str]:
    """Why our verdict differs from checkov's (see Kind for the order)."""
    status = ours.status if ours else None
    for row in [c, *(o for o in every if o.rule == c.rule and o is not c)]:
        if row.check == folder and address in row.documented:
            documented, why = row.documented[address]
            if documented is status:
                return Kind.DOCUMENTED, why if row is c else f"{why} [parity row {row.label}]"
            if row is c:
                return Kind.UNDOCUMENTED, f"UNEXPECTED: the parity row documents {documented}"
    for rules, addresses, why in KNOWN_DIFFERENCES:
        if c.rule in rules and f"{folder}/{address}" in addresses:
            return Kind.DOCUMENTED, f"{why} [bench]"
    if status is Status.FAIL:
        failing = [p for p in peers if p != c.check and checkov_index.get((p, folder, address)) is Status.FAIL]
        if failing:
            return Kind.OTHER_PEER, f"{c.rule} also covers {', '.join(failing)}, which checkov fails here"
    if status is Status.NOT_APPLICABLE and ours:
        return Kind.SCOPE, ours.message
    return Kind.UNDOCUMENTED, ours.message if ours else "no verdict: the resource is not in our loaded code"


@dataclass(frozen=True)
class ComparisonSummary:
    label: str
    judged: int
    agree: int
    differ: Mapping[str, int]  # Kind -> count
    not_comparable: int
    not_comparable_why: str


def compare(ours: OurVerdicts, results: Sequence[CheckovResult],
            every: Sequence[Comparison]) -> tuple[list[ComparisonSummary], list[Judgement]]:
    index = {(r.check, r.folder, r.address): r.status for r in results}
    summaries: list[ComparisonSummary] = []
    differences: list[Judgement] = []
    for c in every:
        rule = ours.pack.get(c.rule)
        peers = rule.meta.peers.checkov if rule else ()
        judged: list[Judgement] = []
        skipped: set[str] = set()
        for r in (r for r in results if r.check == c.check):
            verdict = ours.judge(c.rule, r, c.settings)
            if isinstance(verdict, str):
                skipped.add(verdict)
                continue
            status = verdict.status if verdict else None
            if status is r.status:
                judged.append(Judgement(c.label, r.folder, r.address, r.status, status, "", None, ""))
                continue
            kind, why = explain(c, every, r.folder, r.address, verdict, index, peers)
            judged.append(Judgement(c.label, r.folder, r.address, r.status, status,
                                    verdict.message if verdict else "", kind, why))
        differ = [j for j in judged if j.kind is not None]
        summaries.append(ComparisonSummary(
            c.label, len(judged), len(judged) - len(differ),
            {k.value: sum(1 for j in differ if j.kind is k) for k in Kind},
            sum(1 for r in results if r.check == c.check) - len(judged), "; ".join(sorted(skipped))))
        differences += differ
    return summaries, differences


# ---------------------------------------------------------------- 3. checkov on terraform/


@dataclass(frozen=True)
class TerraformFailure:
    check: str
    name: str
    resource: str  # folder/address
    rules: tuple[str, ...]  # our rules mapped to the check
    ours: str  # our verdicts on the resource, "RULE STATUS: message"
    reason: str


def terraform_failures(ours: OurVerdicts, results: Sequence[CheckovResult]) -> list[TerraformFailure]:
    mapped: dict[str, list[str]] = defaultdict(list)
    for rule in ours.pack.rules:
        for check in rule.meta.peers.checkov:
            mapped[check].append(rule.meta.id)
    out = []
    for r in sorted((r for r in results if r.status is Status.FAIL), key=lambda r: (r.check, r.folder, r.address)):
        resource = f"{r.folder}/{r.address}" if r.folder else r.address
        said = []
        for rule_id in mapped.get(r.check, []):
            verdict = ours.judge(rule_id, r, RuleSettings())
            said.append(f"{rule_id} {verdict.status}: {verdict.message}" if isinstance(verdict, Verdict)
                        else f"{rule_id}: {verdict or 'no verdict'}")
        reason = TERRAFORM_REASONS.get(f"{r.check} {resource}") or TERRAFORM_REASONS.get(r.check)
        out.append(TerraformFailure(r.check, r.name, resource, tuple(mapped.get(r.check, [])), " · ".join(said),
                                    reason or "NO REASON RECORDED: review this failure"))
    return out


# ---------------------------------------------------------------- report


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def speed_section(timings: Sequence[Timing], targets: Sequence[Target], repeat: int) -> Iterator[str]:
    modules = {t.label: t.root_modules for t in targets}
    startup = next(t for t in timings if t.target == STARTUP)
    for measure, title in (("wall", "Wall time"), ("cpu", "CPU time (user + system, the tool and its children)")):
        yield f"\n## {title}: median of {repeat} interleaved runs, seconds (min–max)\n"
        yield md_table(["target", "root modules", "audit cold (--no-cache)", "audit warm (cached)", "checkov",
                        "checkov ÷ audit cold", "checkov ÷ audit warm", "same, fastest runs (cold / warm)"], [
            (t.target, modules[t.target] or "—", t.spread("cold", measure), t.spread("warm", measure),
             t.spread("checkov", measure), _times(t.ratio("cold", measure)), _times(t.ratio("warm", measure)),
             f"{_times(t.best_ratio('cold', measure))} / {_times(t.best_ratio('warm', measure))}") for t in timings])
        rows = []
        for t in timings:
            if modules[t.target] and t is not startup:
                theirs = t.median("checkov", measure) - startup.median("checkov", measure)
                ours = [t.median(tool, measure) - startup.median(tool, measure) for tool in OURS]
                rows.append((t.target, *(f"{o:.2f}" for o in ours), f"{theirs:.2f}",
                             *(f"{theirs / o:.1f}×" if o > 0 else "n/a" for o in ours)))
        yield f"\nNet of startup (median minus the '{STARTUP}' median):\n"
        yield md_table(["target", "audit scan cold", "audit scan warm", "checkov", "checkov ÷ audit cold",
                        "checkov ÷ audit warm"], rows)


def agreement_section(summaries: Sequence[ComparisonSummary], differences: Sequence[Judgement],
                      backends: Mapping[str, Mapping[str, Any]]) -> Iterator[str]:
    yield "## Verdict agreement on checkov's fixtures\n"
    if backends:
        yield ("Fixture folders evaluated with the backend their parity row gives: " + "; ".join(
            f"{folder}: " + ", ".join(f"{k}={v}" for k, v in b.items() if not k.startswith("_"))
            for folder, b in backends.items()) + ".\n")
    kinds = [k.value for k in Kind]
    seen = [s for s in summaries if s.judged or s.not_comparable]
    yield md_table(["check / rule (settings)", "judged", "agree", *(f"differ: {k}" for k in kinds), "not comparable"],
                   [(s.label, s.judged, s.agree, *(s.differ[k] for k in kinds),
                     f"{s.not_comparable} ({s.not_comparable_why})" if s.not_comparable else 0) for s in seen])
    unseen = [s.label for s in summaries if not (s.judged or s.not_comparable)]
    if unseen:
        yield "\nMapped checks that judged no fixture resource (no fixture for them): " + ", ".join(unseen) + "."
    total = sum(s.judged for s in summaries)
    agree = sum(s.agree for s in summaries)
    yield (f"\nTotal: {total} verdict pairs, {agree} agree ({100 * agree / max(total, 1):.1f}%); differ: "
           + ", ".join(f"{k} {sum(s.differ[k] for s in summaries)}" for k in kinds) + ".\n")
    for kind in Kind:
        rows = [d for d in differences if d.kind is kind]
        if rows:
            yield f"\n### Differences: {kind.value} ({len(rows)})\n"
            yield md_table(["check / rule", "resource", "checkov", "ours", "why"],
                           [(d.comparison, f"{d.folder}/{d.address}", d.checkov, d.ours or "none", d.reason)
                            for d in rows])


def terraform_section(failures: Sequence[TerraformFailure], mapped_results: Sequence[CheckovResult]) -> Iterator[str]:
    mapped = [f for f in failures if f.rules]
    others = [f for f in failures if not f.rules]
    passed = sum(1 for r in mapped_results if r.status is Status.PASS)
    yield f"## checkov on terraform/: {len(failures)} failed checks\n"
    yield (f"Checks mapped to our rules judged {len(mapped_results)} resources there: {passed} passed, "
           f"{len(mapped_results) - passed} failed.\n")
    yield f"### (a) Checks mapped to our rules: {len(mapped)} failed\n"
    yield md_table(["check", "resource", "our verdicts", "why"],
                   [(f.check, f.resource, f.ours, f.reason) for f in mapped]) if mapped else "None."
    yield f"\n### (b) Checks outside our rules: {len(others)} failed\n"
    grouped: dict[str, list[TerraformFailure]] = defaultdict(list)
    for f in others:
        grouped[f.check].append(f)
    yield md_table(["check", "title", "resources", "why not followed"], [
        (check, fs[0].name, ", ".join(f.resource for f in fs), " / ".join(dict.fromkeys(f.reason for f in fs)))
        for check, fs in grouped.items()])


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per tool and target (default 5)")
    parser.add_argument("--venv", type=Path, default=OUT / "checkov-venv", help="checkov's own virtualenv")
    parser.add_argument("--fixtures", type=Path, default=FIXTURES, help="checkov's fixture folders")
    parser.add_argument("--json", type=Path, default=OUT / "checkov-comparison.json", help="raw figures file")
    args = parser.parse_args()
    try:
        return report(args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def report(args: argparse.Namespace) -> int:
    if not args.fixtures.is_dir():
        raise BenchError(f"checkov fixtures not found at {args.fixtures}")
    checkov = ensure_checkov(args.venv)
    audit = Path(sys.executable).parent / "audit"
    if not audit.exists():
        raise BenchError(f"{audit} not found: install the project into this virtualenv first")
    pack = load_pack(BUILTIN_PACK)
    rows = parity_rows()
    every = comparisons(pack, rows)
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        empty = Path(tmp) / "empty"
        empty.mkdir()
        (empty / "main.tf").write_text("", encoding="utf-8")
        tools = Tools.make(audit, checkov, Path(tmp))
        backends = fixture_backends(rows)
        ours = {"fixtures": OurVerdicts(args.fixtures, pack, backends), "terraform": OurVerdicts(TERRAFORM, pack)}
        targets = [Target("`--version` (interpreter and imports)", (str(audit), "--version"), None,
                          (str(checkov), "--version")),
                   Target.scan(tools, STARTUP, empty, 1),
                   Target.scan(tools, "checkov fixtures", args.fixtures, len(ours["fixtures"].modules)),
                   Target.scan(tools, "terraform/", TERRAFORM, len(ours["terraform"].modules))]
        print("timing ...", file=sys.stderr)
        timings = time_targets(tools, targets, args.repeat)
        print("full checkov runs for the verdicts ...", file=sys.stderr)
        fx_seconds, fx_count, fx_results = checkov_run(tools, args.fixtures, list(ours["fixtures"].modules))
        tf_seconds, tf_count, tf_results = checkov_run(tools, TERRAFORM, list(ours["terraform"].modules))

    summaries, differences = compare(ours["fixtures"], fx_results, every)
    failures = terraform_failures(ours["terraform"], tf_results)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"# audit scan vs checkov {CHECKOV_VERSION}\n")
    print(f"Run {now} on {platform.node() or 'this machine'}: {os.cpu_count()} CPUs, {platform.platform()}, "
          f"Python {platform.python_version()}; auditor {version('auditor')}, checkov {CHECKOV_VERSION} "
          f"({checkov.parent.parent}).\n")
    print("Commands: `" + " ".join(tools.audit_scan(Path("DIR"), cache=False)[1:]) + "` (cold), `" +
          " ".join(tools.audit_scan(Path("DIR"), cache=True)[1:]) + "` (warm: the same folder scanned once before, "
          "unchanged) and `checkov " + " ".join(tools.checkov_scan(Path("DIR"))[1:]) + "`; bytecode on.\n")
    print("\n".join(speed_section(timings, targets, args.repeat)))
    print(f"\nResources: checkov counted {fx_count} in the fixtures and {tf_count} in terraform/; our loader "
          f"expanded {ours['fixtures'].resource_count} and {ours['terraform'].resource_count}. One full "
          f"(non-quiet) checkov run, the one the verdicts come from: {fx_seconds:.2f} s and {tf_seconds:.2f} s.\n")
    print("\n".join(agreement_section(summaries, differences, backends)))
    print()
    mapped_checks = {c for rule in pack.rules for c in rule.meta.peers.checkov}
    print("\n".join(terraform_section(failures, [r for r in tf_results if r.check in mapped_checks])))

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "date": now, "cpus": os.cpu_count(), "platform": platform.platform(), "checkov": CHECKOV_VERSION,
        "auditor": version("auditor"), "repeat": args.repeat,
        "timings": [{"target": t.target, "audit": [asdict(r) | {"stdout": None} for r in t.cold],
                     "audit_warm": [asdict(r) | {"stdout": None} for r in t.warm],
                     "checkov": [asdict(r) | {"stdout": None} for r in t.checkov],
                     **{f"{prefix}{measure}_ratio{suffix}": ratio(tool, measure)
                        for tool, prefix in (("cold", ""), ("warm", "warm_"))
                        for ratio, suffix in ((t.ratio, ""), (t.best_ratio, "_fastest"))
                        for measure in ("wall", "cpu")}}
                    for t in timings],
        "agreement": [asdict(s) for s in summaries],
        "differences": [asdict(d) for d in differences],
        "terraform_failures": [asdict(f) for f in failures],
    }, indent=2, default=str), encoding="utf-8")
    print(f"\n(raw figures: {args.json})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
