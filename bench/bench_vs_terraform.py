"""Benchmark: `terraform plan -refresh-only` against `audit run`, on the same stacks, in the same run.

Run: `.venv/bin/python bench/bench_vs_terraform.py [--units 25 100 250] [--repeat 1]`

Real Terraform (with the hashicorp/aws provider from the local mirror) applies terraform/bootstrap
and terraform/stack on an in-process moto server on 127.0.0.1, exactly as the conformance suite
does (tests/conformance/harness.py). Then, for the reference stack's state and for a generated
stack grown to each `--units` size (per unit: a security group with an ingress and an egress
rule resource, a metric alarm, a log group, a target group and a task definition), it times

- `terraform plan -refresh-only -lock=false` (what a drift check with Terraform costs; the plan
  file is not converted with `terraform show -json`),
- `audit run --no-rules` and `audit run` (with the compliance rules) of that one state,

and counts the AWS API requests each makes **at the moto server**: every request the server
answers is counted by the caller's User-Agent (the Terraform provider and Terraform's S3 backend
for Terraform, botocore for the auditor), so both tools are counted the same way, retries included.
The auditor's own `api_calls.total` is shown next to it as a cross-check. Needs `terraform` on
PATH and the provider mirror (see tests/conformance/harness.py); never reaches a real AWS host.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.conformance.harness import (  # noqa: E402 (the repository root must be importable first)
    Backend,
    Lab,
    TerraformRoot,
    ToolchainMissing,
    find_toolchain,
)

TERRAFORM_CALLERS = ("terraform-provider", "terraform-backend")
AUDITOR_CALLERS = ("boto3",)
GENERATED_KEY = "bench/generated/terraform.tfstate"
RESOURCES_PER_UNIT = 7

GENERATED_TF = """terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = "ap-south-1"
}

variable "units" {
  type = number
}

resource "aws_vpc" "bench" {
  cidr_block = "10.90.0.0/16"
}

resource "aws_security_group" "unit" {
  count       = var.units
  name        = "bench-${count.index}"
  description = "bench unit ${count.index}"
  vpc_id      = aws_vpc.bench.id
}

resource "aws_vpc_security_group_ingress_rule" "unit" {
  count             = var.units
  security_group_id = aws_security_group.unit[count.index].id
  ip_protocol       = "tcp"
  from_port         = 8000 + count.index
  to_port           = 8000 + count.index
  cidr_ipv4         = "10.0.0.0/8"
}

resource "aws_vpc_security_group_egress_rule" "unit" {
  count             = var.units
  security_group_id = aws_security_group.unit[count.index].id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_cloudwatch_log_group" "unit" {
  count             = var.units
  name              = "/bench/${count.index}"
  retention_in_days = 14
}

resource "aws_cloudwatch_metric_alarm" "unit" {
  count               = var.units
  alarm_name          = "bench-${count.index}"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  threshold           = 5
  comparison_operator = "GreaterThanThreshold"
  dimensions = {
    TargetGroup = "targetgroup/bench-${count.index}/0"
  }
}

resource "aws_lb_target_group" "unit" {
  count       = var.units
  name        = "bench-${count.index}"
  vpc_id      = aws_vpc.bench.id
  target_type = "ip"
  port        = 80
  protocol    = "HTTP"
}

resource "aws_ecs_task_definition" "unit" {
  count                    = var.units
  family                   = "bench-${count.index}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  container_definitions = jsonencode([{
    name      = "app"
    image     = "public.ecr.aws/nginx/nginx:1.27"
    essential = true
  }])
}
"""


@dataclass(frozen=True)
class Measurement:
    stack: str
    resources: int
    tool: str
    seconds: float
    requests: int
    reported: int | None  # the auditor's own api_calls.total


def _counted(lab: Lab, callers: tuple[str, ...], action: Callable[[], int | None]) -> tuple[float, int, int | None]:
    before = lab.counter.snapshot()
    started = time.monotonic()
    reported = action()
    seconds = time.monotonic() - started
    after = lab.counter.snapshot()
    return seconds, sum(after[c] - before[c] for c in callers), reported


def measure(lab: Lab, label: str, resources: int, root: TerraformRoot, state_uri: str,
            repeat: int) -> list[Measurement]:
    """Both tools on one state, `repeat` rounds of each in turn (so a slow spell of the machine hits
    all of them alike): the median wall time, and the requests of the last round."""
    def plan() -> None:
        root.run("plan", "-refresh-only", "-lock=false", "-input=false", "-detailed-exitcode", ok=(0, 2))
        return None

    def audit(rules: bool) -> Callable[[], int]:
        def action() -> int:
            document = lab.audit(states=(state_uri,), rules=rules).document
            calls, summary = document["api_calls"], document["summary"]
            top = sorted(calls["by_operation"].items(), key=lambda kv: -kv[1])[:6]
            print(f"  audit on {label} ({'with' if rules else 'without'} rules): drift index "
                  f"{summary['drift_index']}, {summary['counts']}; {calls['total']} calls; most: "
                  + ", ".join(f"{op} {n}" for op, n in top), flush=True)
            return int(calls["total"])
        return action

    runs = (("terraform plan -refresh-only", TERRAFORM_CALLERS, plan),
            ("audit run --no-rules", AUDITOR_CALLERS, audit(False)),
            ("audit run (with rules)", AUDITOR_CALLERS, audit(True)))
    samples: dict[str, list[tuple[float, int, int | None]]] = {tool: [] for tool, _, _ in runs}
    for _ in range(repeat):
        for tool, callers, action in runs:
            samples[tool].append(_counted(lab, callers, action))
    return [Measurement(label, resources, tool, statistics.median(s[0] for s in samples[tool]),
                        samples[tool][-1][1], samples[tool][-1][2]) for tool, _, _ in runs]


def _count_resources(root: TerraformRoot) -> int:
    """Managed resource instances in the root's state (data sources left out)."""
    return sum(1 for line in root.run("state", "list").result.stdout.split() if not line.startswith("data."))


def run(units: list[int], repeat: int) -> list[Measurement]:
    toolchain = find_toolchain()
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="bench-vs-terraform-") as tmp, Lab(toolchain, Path(tmp)) as lab:
        started = time.monotonic()
        lab.apply_all()
        print(f"applied bootstrap + reference stack in {time.monotonic() - started:.0f} s", flush=True)
        stack = lab.roots[1]
        results += measure(lab, "reference stack", _count_resources(stack), stack, lab.backend.state_uri, repeat)
        backend = Backend(lab.backend.bucket, GENERATED_KEY, lab.backend.region, lab.backend.table)
        generated = lab.add_root("generated", {"main.tf": GENERATED_TF}, backend)
        generated.init()
        for size in units:
            (generated.path / "units.auto.tfvars.json").write_text(f'{{"units": {size}}}', encoding="utf-8")
            started = time.monotonic()
            generated.apply(timeout=1800)
            count = _count_resources(generated)
            print(f"applied the generated stack at {size} units ({count} resources) in "
                  f"{time.monotonic() - started:.0f} s", flush=True)
            results += measure(lab, f"generated, {size} units", count, generated, backend.state_uri, repeat)
    return results


def table(results: list[Measurement]) -> str:
    """Markdown: every measurement, with how many times faster and fewer requests than Terraform on that stack."""
    header = ("| stack | resources in state | tool | wall s | AWS requests (counted at moto) | "
              "auditor's api_calls.total | faster than terraform | fewer requests |")
    lines = [header, "|---|---:|---|---:|---:|---:|---:|---:|"]
    baseline = {m.stack: m for m in results if m.tool.startswith("terraform")}
    for m in results:
        reported = "" if m.reported is None else str(m.reported)
        base = baseline.get(m.stack)
        faster = f"{base.seconds / m.seconds:.1f}×" if base and base is not m and m.seconds else ""
        fewer = f"{base.requests / m.requests:.1f}×" if base and base is not m and m.requests else ""
        lines.append(f"| {m.stack} | {m.resources} | {m.tool} | {m.seconds:.2f} | {m.requests} | {reported} | "
                     f"{faster} | {fewer} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--units", type=int, nargs="+", default=[25, 100, 250],
                        help=f"generated stack sizes, in units of {RESOURCES_PER_UNIT} resources (ascending)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (the median time is shown)")
    args = parser.parse_args(argv)
    try:
        results = run(sorted(args.units), max(1, args.repeat))
    except ToolchainMissing as exc:
        print(f"bench_vs_terraform: skipped: {exc}", file=sys.stderr)
        return 0
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
