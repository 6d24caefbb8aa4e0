"""The read-only IAM policy of terraform/auditor, derived from what the collectors declare.

Every TypeSpec names the API operations its collector makes (its listing, details and `calls`);
their IAM actions fill two statements of `policies/audit-readonly.json`: `ReadBucketSettings`
(S3 bucket-level reads, on every bucket) and `ReadLiveInventory` (everything else, on `*`). The
other statements (reading the state object, its lock and digest, the caller's identity) are about
the state backend, not the inventory, and are kept as written.

    python -m auditor.inventory.policy terraform/auditor/policies/audit-readonly.json          # rewrite
    python -m auditor.inventory.policy --check terraform/auditor/policies/audit-readonly.json  # exit 1 if stale
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auditor.inventory.base import registry

BUCKET_STATEMENT = "ReadBucketSettings"
INVENTORY_STATEMENT = "ReadLiveInventory"
_ACCOUNT_WIDE_S3 = frozenset({"s3:ListAllMyBuckets"})


def inventory_actions() -> dict[str, list[str]]:
    """Statement Sid -> the sorted IAM actions the collectors declare for it."""
    actions = {a for collector in registry().values() for a in collector.spec.iam_actions}
    bucket = sorted(a for a in actions if a.startswith("s3:") and a not in _ACCOUNT_WIDE_S3)
    return {BUCKET_STATEMENT: bucket, INVENTORY_STATEMENT: sorted(actions - set(bucket))}


def derive(document: Mapping[str, Any]) -> dict[str, Any]:
    """`document` with the inventory statements' actions replaced by the declared ones."""
    derived = inventory_actions()
    statements = [dict(s, Action=derived[s["Sid"]]) if s.get("Sid") in derived else dict(s)
                  for s in document["Statement"]]
    missing = set(derived) - {s.get("Sid") for s in statements}
    if missing:
        raise ValueError(f"the policy has no statement {', '.join(sorted(missing))}")
    return {**document, "Statement": statements}


def render(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Derive the auditor's read-only IAM policy from the collectors.")
    parser.add_argument("policy", type=Path, help="audit-readonly.json (rewritten in place)")
    parser.add_argument("--check", action="store_true", help="only say whether it is up to date (exit 1 if not)")
    args = parser.parse_args(argv)
    current = args.policy.read_text(encoding="utf-8")
    wanted = render(derive(json.loads(current)))
    if args.check:
        if wanted != current:
            print(f"{args.policy} is not derived from the collectors' declarations: run "
                  f"python -m auditor.inventory.policy {args.policy}", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        from auditor.report import write_atomic

        write_atomic(args.policy, wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
