"""Write seeded resources as a Terraform v4 state file, and publish it the way the S3 backend does."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

from auditor.aws import Aws
from auditor.demo.seedkit import Seeded

PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'
TERRAFORM_VERSION = "1.11.4"


def _sensitive(paths: Sequence[tuple[str | int, ...]]) -> list[list[dict[str, Any]]]:
    out = []
    for path in paths:
        steps = []
        for step in path:
            if isinstance(step, int):
                steps.append({"type": "index", "value": {"value": step, "type": "number"}})
            else:
                steps.append({"type": "get_attr", "value": step})
        out.append(steps)
    return out


def build_state(items: Sequence[Seeded], *, serial: int = 1, lineage: str | None = None) -> dict[str, Any]:
    """A v4 state document holding `items` (grouped into resources by type and name)."""
    resources: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        res = resources.setdefault((item.type, item.name), {
            "mode": "managed", "type": item.type, "name": item.name, "provider": PROVIDER, "instances": []})
        instance: dict[str, Any] = {}
        if item.index_key is not None:
            instance["index_key"] = item.index_key
        instance.update({
            "schema_version": item.schema_version,
            "attributes": item.attributes,
            "sensitive_attributes": _sensitive(item.sensitive_paths),
            "private": "bnVsbA==",
        })
        if item.dependencies:
            # Terraform records config addresses here: `aws_subnet.public`, never `...public["a"]`.
            instance["dependencies"] = sorted({d.split("[", 1)[0] for d in item.dependencies})
        res["instances"].append(instance)
    return {
        "version": 4,
        "terraform_version": TERRAFORM_VERSION,
        "serial": serial,
        "lineage": lineage or str(uuid.uuid4()),
        "outputs": {},
        "resources": list(resources.values()),
        "check_results": None,
    }


def publish_state(aws: Aws, region: str, bucket: str, key: str, state: dict[str, Any],
                  lock_table: str | None) -> str:
    """Upload like Terraform's S3 backend: the object, then the `<bucket>/<key>-md5` digest item."""
    body = (json.dumps(state, indent=2) + "\n").encode()
    aws.client("s3", region).put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    digest = hashlib.md5(body, usedforsecurity=False).hexdigest()
    if lock_table:
        aws.client("dynamodb", region).put_item(
            TableName=lock_table, Item={"LockID": {"S": f"{bucket}/{key}-md5"}, "Digest": {"S": digest}})
    return digest
