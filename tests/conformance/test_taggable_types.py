"""Every covered type the provider lets carry tags has its tags compared, and from a named source.

The provider's own schema (`terraform providers schema -json`, hashicorp/aws 5.100 from the mirror)
says which types hold `tags`; each such covered type must compare them (TypeSpec.tags) and its
collector must read them somewhere: the Tagging API's GetResources, a tag call, or the list/describe
answer itself (EC2, IAM, ECS, Secrets Manager); a type read by per-resource tag calls says why not in
bulk. docs/tag-sources.md is rewritten from the specs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.catalog import TypeSpec, specs

from .harness import REPO, Toolchain, _offline_env, cli_config, run_timed

pytestmark = pytest.mark.conformance

DOC = REPO / "docs" / "tag-sources.md"

TAGS_IN_ANSWER = {
    "ec2": "in the Describe* answer (EC2 returns tags with every resource)",
    "iam": "in the Get*/List* answer of each held resource (IAM has no Tagging API support)",
    "ecs": "in the Describe* answer (include=TAGS)",
    "secretsmanager": "in the ListSecrets answer",
}
"""Services whose list/describe answers carry the tags (no separate tag call)."""

BATCHED = {"elbv2:DescribeTags": "elbv2:DescribeTags (20 ARNs a call, one pass for load balancers, listeners and "
                                 "target groups)"}
"""Tag calls that take many resources at once."""


def tag_source(spec: TypeSpec) -> str | None:
    """How `spec`'s collector reads tags, or None when it names no source."""
    tag_calls = [f"{service}:{op}" for service, op in spec.operations
                 if op == "GetResources" or "Tag" in op.replace("Tags", "Tag")]
    bulk = [c for c in tag_calls if c.endswith("GetResources")]
    per = [c for c in tag_calls if not c.endswith("GetResources")]
    if bulk:
        fallback = ", ".join(per) or TAGS_IN_ANSWER[spec.service]
        return f"bulk: Tagging API GetResources per region; where it is denied, {fallback}"
    if per:
        calls = ", ".join(BATCHED.get(c, c) for c in per)
        return f"per held resource (concurrent): {calls}. Not in bulk: {spec.tags_per_resource or '(no reason given)'}"
    return TAGS_IN_ANSWER.get(spec.service)


@pytest.fixture(scope="module")
def provider_attributes(toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    root: Path = tmp_path_factory.mktemp("schema")
    (root / "main.tf").write_text('terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", '
                                  'version = "5.100.0" }\n  }\n}\n', encoding="utf-8")
    (root / "cli.tfrc").write_text(cli_config(toolchain.mirror), encoding="utf-8")
    env = _offline_env({"TF_CLI_CONFIG_FILE": str(root / "cli.tfrc"), "TF_IN_AUTOMATION": "1"})
    run_timed([toolchain.terraform, "init", "-input=false", "-backend=false"], cwd=root, env=env, timeout=300)
    shown = run_timed([toolchain.terraform, "providers", "schema", "-json"], cwd=root, env=env, timeout=300)
    schemas = json.loads(shown.result.stdout)["provider_schemas"]["registry.terraform.io/hashicorp/aws"]
    return {t: set(s["block"].get("attributes", {})) for t, s in schemas["resource_schemas"].items()}


def test_every_taggable_covered_type_compares_tags_from_a_source(provider_attributes: dict[str, set[str]]) -> None:
    covered = specs()
    taggable = sorted(t for t in covered if "tags" in provider_attributes[t])
    assert [t for t in taggable if not covered[t].tags] == []
    assert [t for t in taggable if tag_source(covered[t]) is None] == []
    assert [t for t in taggable if "(no reason given)" in str(tag_source(covered[t]))] == []
    assert [t for t in covered if covered[t].tags and t not in taggable] == []  # no tags the provider lacks
    lines = ["# Where the auditor reads each type's tags",
             "",
             "Written by `tests/conformance/test_taggable_types.py` from the type specs (do not edit by hand).",
             f"{len(taggable)} of the {len(covered)} covered types hold `tags` in the hashicorp/aws 5.100 schema; "
             "each compares them (state `tags_all`, else `tags`). Tags are read for resources a state holds.",
             "",
             "| type | tags read from |",
             "|---|---|"]
    lines += [f"| `{t}` | {tag_source(covered[t])} |" for t in taggable]
    DOC.write_text("\n".join(lines) + "\n", encoding="utf-8")
