"""Benchmark: a whole audit against a moto server at growing stack sizes, and the diff alone.

Run: `.venv/bin/python bench/bench_audit.py [--sizes 1000 2000 5000] [--diff-pairs 10000]`

For each size it resets a moto server on 127.0.0.1, seeds the reference stack plus generated
resources of the numerous types (security groups with an ingress and an egress rule, metric
alarms, log groups with a metric filter, target groups, SSM parameters; alarms, log groups and
parameters tagged, so their tags are read too), publishes a state holding all of them, then times
`run_audit` with a fresh call counter: wall time, API calls, calls per audited resource.
The generated part of the state is written from one inventory pass (this measures speed and
call counts, not converter fidelity — the test suite does that). Never reaches a real AWS host.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from typing import Any

from auditor.aws import Aws, AwsSettings
from auditor.demo.motoserver import MotoServer
from auditor.demo.run import REGION, pointed_at, seed_reference_stack
from auditor.demo.seedkit import Seeded
from auditor.demo.statefile import build_state, publish_state
from auditor.diff import diff
from auditor.inventory.runner import collect_inventory
from auditor.models import Inventory, Observation, ObservationStatus, Origin, Resource
from auditor.pipeline import run_audit
from auditor.state.resources import StateResources

GENERATED_TYPES = ("aws_security_group", "aws_vpc_security_group_ingress_rule",
                   "aws_vpc_security_group_egress_rule", "aws_cloudwatch_metric_alarm",
                   "aws_cloudwatch_log_group", "aws_lb_target_group", "aws_cloudwatch_log_metric_filter",
                   "aws_ssm_parameter")
TAGS = [{"Key": "Team", "Value": "bench"}]


def seed_generated(aws: Aws, vpc_id: str, groups: int) -> None:
    """`groups` × (SG + ingress rule + egress rule + alarm + log group + metric filter + target group +
    SSM parameter)."""
    ec2, cw, logs, elbv2, ssm = (aws.client(s, REGION) for s in ("ec2", "cloudwatch", "logs", "elbv2", "ssm"))
    for i in range(groups):
        sg = ec2.create_security_group(GroupName=f"bench-{i}", Description="bench", VpcId=vpc_id)["GroupId"]
        ec2.revoke_security_group_egress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8000 + i % 1000, "ToPort": 8000 + i % 1000,
             "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
        ec2.authorize_security_group_egress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        cw.put_metric_alarm(AlarmName=f"bench-{i}", Namespace="AWS/ApplicationELB",
                            MetricName="HTTPCode_Target_5XX_Count", Statistic="Sum", Period=60,
                            EvaluationPeriods=5, Threshold=5.0, ComparisonOperator="GreaterThanThreshold",
                            Dimensions=[{"Name": "TargetGroup", "Value": f"targetgroup/bench-{i}/0"}], Tags=TAGS)
        logs.create_log_group(logGroupName=f"/bench/{i}", tags={"Team": "bench"})
        logs.put_retention_policy(logGroupName=f"/bench/{i}", retentionInDays=14)
        logs.put_metric_filter(logGroupName=f"/bench/{i}", filterName=f"bench-{i}-errors", filterPattern="ERROR",
                               metricTransformations=[{"metricName": f"Errors{i}", "metricNamespace": "Bench",
                                                       "metricValue": "1"}])
        elbv2.create_target_group(Name=f"bench-{i}", Protocol="HTTP", Port=80, VpcId=vpc_id, TargetType="ip")
        ssm.put_parameter(Name=f"/bench/{i}/endpoint", Value=f"https://svc-{i}.internal", Type="String", Tags=TAGS)


def state_items_from_live(aws: Aws, account_id: str, known: set[tuple[str, str]]) -> list[Seeded]:
    """One inventory pass over the generated types, as state items (bench only)."""
    first = collect_inventory(aws, [REGION], GENERATED_TYPES, account_id)
    wanted = {REGION: {t: frozenset(r.id for r in first.resources if r.type == t) for t in GENERATED_TYPES}}
    full = collect_inventory(aws, [REGION], GENERATED_TYPES, account_id, wanted)
    items = []
    for n, res in enumerate(r for r in full.resources if r.key not in known):
        attrs = {k: v for k, v in res.attributes.items() if not k.startswith("_")}
        items.append(Seeded(res.type, f"gen_{n}", attrs))
    return items


def bench_size(server: MotoServer, total: int) -> dict[str, Any]:
    server.reset()
    aws = Aws(AwsSettings(region=REGION))
    seeded = seed_reference_stack(aws)
    base = len(seeded.stack.items) + len(seeded.bootstrap.items)
    groups = max(0, (total - base) // len(GENERATED_TYPES))
    t0 = time.perf_counter()
    seed_generated(aws, seeded.stack.ref("aws_vpc.main")["id"], groups)
    seed_seconds = time.perf_counter() - t0
    known = {(i.type, str(i.attributes.get("id") or i.attributes.get("arn") or i.attributes.get("name")))
             for i in seeded.stack.items}
    known |= {("aws_cloudwatch_metric_alarm", i.attributes["alarm_name"]) for i in seeded.stack.items
              if i.type == "aws_cloudwatch_metric_alarm"}
    known |= {("aws_cloudwatch_log_group", i.attributes["name"]) for i in seeded.stack.items
              if i.type == "aws_cloudwatch_log_group"}
    generated = state_items_from_live(aws, aws.account_id(), known)
    publish_state(aws, REGION, seeded.bucket, "bench/terraform.tfstate", build_state(generated), seeded.lock_table)

    fresh = Aws(AwsSettings(region=REGION))
    t0 = time.perf_counter()
    run = run_audit(seeded.config(), fresh)
    wall = time.perf_counter() - t0
    audited = run.score.overall.audited
    counts = Counter(d.kind.value for d in run.drifts)
    top = sorted(run.inventory.api_calls_by_operation.items(), key=lambda kv: -kv[1])[:5]
    return {"resources": audited, "seed_s": seed_seconds, "audit_s": wall, "calls": run.inventory.api_calls,
            "calls_per_resource": run.inventory.api_calls / max(audited, 1), "kinds": dict(counts), "top": top}


def bench_diff(pairs: int) -> float:
    """diff() over `pairs` state/live pairs of real collector shapes, 5% of them changed."""
    rng = random.Random(7)
    state, live = [], []
    for i in range(pairs):
        attrs = {"id": f"sg-{i:017x}", "name": f"sg-{i}", "description": "managed", "vpc_id": "vpc-1",
                 "ingress": [{"from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"],
                              "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [],
                              "self": False, "description": ""}],
                 "egress": [], "tags": {"Name": f"sg-{i}"}, "tags_all": {"Name": f"sg-{i}", "Env": "prod"},
                 "revoke_rules_on_delete": False, "name_prefix": ""}
        state.append(Resource("aws_security_group", attrs["id"], attrs, Origin.STATE, REGION,
                              f"aws_security_group.s[{i}]", "s3://b/k"))
        changed = dict(attrs)
        if rng.random() < 0.05:
            changed["description"] = "edited by hand"
        changed["tags"] = dict(attrs["tags_all"])
        live.append(Resource("aws_security_group", attrs["id"], changed, Origin.LIVE, REGION))
    sr = StateResources(tuple(state), {r.key: ("s3://b/k",) for r in state}, (), (), frozenset())
    inv = Inventory(tuple(live), (Observation("aws_security_group", REGION, ObservationStatus.OBSERVED,
                                              len(live)),), 0)
    t0 = time.perf_counter()
    drifts = diff(sr, inv)
    elapsed = time.perf_counter() - t0
    assert len(drifts) == pairs
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000])
    parser.add_argument("--diff-pairs", type=int, default=10_000)
    args = parser.parse_args()
    print(f"diff of {args.diff_pairs} resource pairs (5% changed): {bench_diff(args.diff_pairs):.3f} s")
    with MotoServer() as server, pointed_at(server.endpoint, REGION):
        print(f"{'resources':>9} {'seed s':>7} {'audit s':>8} {'API calls':>9} {'calls/res':>9}  top operations")
        for size in args.sizes:
            r = bench_size(server, size)
            top = ", ".join(f"{op} {n}" for op, n in r["top"])
            print(f"{r['resources']:>9} {r['seed_s']:>7.1f} {r['audit_s']:>8.2f} {r['calls']:>9} "
                  f"{r['calls_per_resource']:>9.3f}  {top}   kinds={r['kinds']}")


if __name__ == "__main__":
    main()
