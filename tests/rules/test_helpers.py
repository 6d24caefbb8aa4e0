"""The rule helpers: attribute reading, verdict algebra, joins across code/state/live, policies, keys, backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditor.code.values import Encoded, Ref, Template
from auditor.models import Inventory, Observation, ObservationStatus, Origin, Resource, Status, Unresolved
from auditor.rules.backend import BACKEND_TYPE, backend_resource
from auditor.rules.containers import containers, image_repository
from auditor.rules.engine import evaluate
from auditor.rules.links import Links, bind_self, linked, refers_to
from auditor.rules.model import RuleContext, Verdict
from auditor.rules.policies import (
    actions_cover,
    customer_managed_key,
    document,
    iam_match,
    principal_is_everyone,
    principal_is_public,
    statements,
)
from auditor.rules.read import as_bool, blocks, get, live_read_from, observed, value_or_default
from auditor.rules.settings import RuleSettings
from auditor.rules.verdicts import all_of, any_of, failed, judge, passed, t_all, t_any, unknown, unobserved
from tests.rules.support import builtin_pack, code_resources, verdicts

UNKNOWN_VAR = Unresolved("var.name has no value")


def res(tf_type: str, name: str, attrs: dict[str, Any], origin: Origin = Origin.CODE,
        region: str | None = None) -> Resource:
    address = f"{tf_type}.{name}"
    rid = address if origin is Origin.CODE else str(attrs.get("id", name))
    return Resource(tf_type, rid, attrs, origin, region, address if origin is not Origin.LIVE else None)


def ctx(*resources: Resource, **extra: Any) -> RuleContext:
    by_type: dict[str, list[Resource]] = {}
    for r in resources:
        by_type.setdefault(r.type, []).append(r)
    return RuleContext(resources=by_type, **extra)


# --- reading ------------------------------------------------------------------------------------


def test_get_walks_blocks_and_stops_at_unknowns() -> None:
    attrs = {"versioning_configuration": [{"status": "Enabled"}], "rule": UNKNOWN_VAR, "tags": None}
    assert get(attrs, "versioning_configuration.0.status") == "Enabled"
    assert get(attrs, ("versioning_configuration", 0, "status")) == "Enabled"
    assert get(attrs, "versioning_configuration.1.status") is None
    assert get(attrs, "rule.0.x") is UNKNOWN_VAR
    assert get(attrs, "tags.Name") is None
    assert get(attrs, "missing.0") is None


def test_blocks_shapes() -> None:
    assert blocks({}, "rule") == []
    assert blocks({"rule": {"a": 1}}, "rule") == [{"a": 1}]
    assert blocks({"rule": [{"a": 1}, UNKNOWN_VAR]}, "rule") is UNKNOWN_VAR
    assert isinstance(blocks({"rule": "text"}, "rule"), Unresolved)


def test_value_or_default_only_defaults_code() -> None:
    code = res("aws_ecr_repository", "a", {})
    live = res("aws_ecr_repository", "a", {}, Origin.LIVE)
    assert value_or_default(code, "image_tag_mutability", "MUTABLE") == "MUTABLE"
    assert value_or_default(live, "image_tag_mutability", "MUTABLE") is None


def test_as_bool() -> None:
    assert as_bool("true") is True and as_bool("False") is False and as_bool(None) is None
    assert isinstance(as_bool("yes"), Unresolved)


# --- verdict algebra ----------------------------------------------------------------------------


def test_all_of_and_any_of() -> None:
    p, f, u = passed("p"), failed("f"), unknown("u")
    assert all_of([p, u, f]).status is Status.FAIL
    assert all_of([p, u]).status is Status.UNKNOWN
    assert all_of([p, p]).status is Status.PASS
    assert all_of([]).status is Status.NOT_APPLICABLE
    assert any_of([f, u, p]).status is Status.PASS
    assert any_of([f, u]).status is Status.UNKNOWN
    assert any_of([f, f]).message == "f; f"


def test_judge_never_passes_unknown_or_missing() -> None:
    assert judge(UNKNOWN_VAR, "x", bool, "true").status is Status.UNKNOWN
    assert judge(None, "x", bool, "true").status is Status.FAIL
    assert judge(None, "x", bool, "true", absent=unobserved("x")).status is Status.UNKNOWN
    assert judge(True, "x", bool, "true") == Verdict(Status.PASS, "x is True", True)


def test_three_valued_logic() -> None:
    assert t_all([True, None]) is None and t_all([None, False]) is False and t_all([]) is True
    assert t_any([False, None]) is None and t_any([None, True]) is True and t_any([]) is False


# --- joins --------------------------------------------------------------------------------------


def test_refers_to_by_reference_name_and_shared_unknown() -> None:
    bucket = res("aws_s3_bucket", "b", {"bucket": "logs"})
    other = frozenset({"aws_s3_bucket.other"})
    keys = ("bucket", "id", "arn")
    assert refers_to(Ref("aws_s3_bucket.b", "id"), bucket, keys, other) is True
    assert refers_to(Ref("aws_s3_bucket.other", "id"), bucket, keys, other) is False
    assert refers_to(Ref("data.aws_s3_bucket.x", "id"), bucket, keys, other) is None
    assert refers_to("logs", bucket, keys) is True
    assert refers_to("other-name", bucket, keys) is False
    assert refers_to(Template(("pre-", UNKNOWN_VAR)), bucket, keys) is False
    assert refers_to(Template((UNKNOWN_VAR, "s")), bucket, keys) is None
    named_by_var = res("aws_s3_bucket", "v", {"bucket": UNKNOWN_VAR})
    assert refers_to(Unresolved("var.name has no value"), named_by_var, keys) is True
    assert refers_to("logs", named_by_var, keys) is None


def test_refers_to_uses_ids_outside_code() -> None:
    live = res("aws_s3_bucket", "b", {"id": "logs"}, Origin.LIVE)
    assert refers_to("logs", live, ("bucket",)) is True
    code = res("aws_s3_bucket", "b", {})
    assert refers_to("aws_s3_bucket.b", code, ("bucket",)) is False


def _versioning(name: str, bucket: Any, **extra: Any) -> Resource:
    return res("aws_s3_bucket_versioning", name,
               {"bucket": bucket, "versioning_configuration": [{"status": "Enabled"}], **extra})


def test_linked_ambiguous_names_are_never_matched() -> None:
    a = res("aws_s3_bucket", "a", {"bucket": "same"})
    b = res("aws_s3_bucket", "b", {"bucket": "same"})
    child = _versioning("v", "same")
    links = linked(ctx(a, b, child), a, ("aws_s3_bucket_versioning",), "bucket", ("bucket",))
    assert links.matched == () and links.undecided[0][0] is child
    assert "also names aws_s3_bucket.b" in links.describe_undecided()


def test_linked_references_annotation_decides() -> None:
    a = res("aws_s3_bucket", "a", {"bucket": "same"})
    b = res("aws_s3_bucket", "b", {"bucket": "same"})
    child = _versioning("v", "same", _references={"bucket": ["aws_s3_bucket.b"]})
    context = ctx(a, b, child)
    assert linked(context, b, ("aws_s3_bucket_versioning",), "bucket", ("bucket",)).matched == (child,)
    assert linked(context, a, ("aws_s3_bucket_versioning",), "bucket", ("bucket",)) == Links((), ())


def test_linked_unknown_target_is_undecided_unless_claimed() -> None:
    named = res("aws_s3_bucket", "named", {"bucket": "named"})
    other = res("aws_s3_bucket", "other", {"bucket": "other"})
    child = _versioning("v", UNKNOWN_VAR)
    claimed = _versioning("w", "named")
    context = ctx(named, other, child, claimed)
    links = linked(context, other, ("aws_s3_bucket_versioning",), "bucket", ("bucket",))
    assert links.matched == () and [c for c, _ in links.undecided] == [child]
    verdict = evaluate(builtin_pack(), [named, other, child, claimed], RuleSettings(bucket_scope="all"))
    assert {f.resource_id: f.status for f in verdict if f.rule_id == "STATE-04"} == {
        "aws_s3_bucket.named": Status.PASS, "aws_s3_bucket.other": Status.UNKNOWN}


def test_linked_compares_known_regions_but_not_state_guesses() -> None:
    repo = res("aws_ecr_repository", "r", {"name": "app"}, region="eu-west-1")
    policy = res("aws_ecr_lifecycle_policy", "p", {"repository": "app"}, region="us-east-1")
    assert linked(ctx(repo, policy), repo, ("aws_ecr_lifecycle_policy",), "repository", ("name",)).matched == ()
    state_repo = res("aws_ecr_repository", "r", {"name": "app", "id": "app"}, Origin.STATE, "eu-west-1")
    state_policy = res("aws_ecr_lifecycle_policy", "p", {"repository": "app", "id": "app"}, Origin.STATE, "us-east-1")
    links = linked(ctx(state_repo, state_policy), state_repo, ("aws_ecr_lifecycle_policy",), "repository",
                       ("name",))
    assert links.matched == (state_policy,)


def test_bind_self() -> None:
    bucket = res("aws_s3_bucket", "b", {"bucket": UNKNOWN_VAR})
    identity = {"arn": "arn:aws:s3:::NAME", "bucket": "NAME"}
    assert bind_self(Template((Ref("aws_s3_bucket.b", "arn"), "/*")), bucket, identity) == "arn:aws:s3:::NAME/*"
    assert bind_self(Template(("arn:aws:s3:::", Unresolved("var.name has no value"))), bucket,
                         identity) == "arn:aws:s3:::NAME"
    assert bind_self(Ref("aws_s3_bucket.c", "arn"), bucket, identity) is None


def test_observed_and_live_read_from() -> None:
    live = res("aws_s3_bucket", "b", {"id": "b"}, Origin.LIVE)
    assert observed(ctx(), res("aws_s3_bucket", "b", {}), "aws_s3_bucket_policy")
    assert not observed(ctx(), live, "aws_s3_bucket_policy")
    inventory = Inventory(resources=(), api_calls=0, observations=(
        Observation("aws_s3_bucket_policy", "eu-west-1", ObservationStatus.OBSERVED),
        Observation("aws_s3_bucket_versioning", "eu-west-1", ObservationStatus.UNKNOWN, reason="AccessDenied"),
        Observation("aws_kms_key", "eu-west-1", ObservationStatus.OBSERVED)))
    wanted = {"eu-west-1": {"aws_s3_bucket_policy": ["b"], "aws_s3_bucket_versioning": ["b"]}}
    read = live_read_from(inventory, wanted, listed=["aws_kms_key"])
    assert read == {"aws_s3_bucket_policy": frozenset({"b"}), "aws_kms_key": frozenset({"*"})}
    context = ctx(live_read=read)
    assert observed(context, live, "aws_s3_bucket_policy")
    assert not observed(context, live, "aws_s3_bucket_versioning")  # AccessDenied: unobserved
    assert observed(context, res("aws_kms_key", "k", {"id": "k"}, Origin.LIVE))


# --- keys, policies, images, backend ------------------------------------------------------------


def test_customer_managed_key() -> None:
    managed = res("aws_kms_key", "m", {"id": "k1", "arn": "arn:aws:kms:r:1:key/k1", "_aws_managed": True},
                  Origin.LIVE)
    mine = res("aws_kms_key", "c", {"id": "k2", "arn": "arn:aws:kms:r:1:key/k2", "_aws_managed": False},
               Origin.LIVE)
    context = ctx(managed, mine)
    assert customer_managed_key(Ref("aws_kms_key.x", "arn")) is True
    assert customer_managed_key(Ref("data.aws_kms_key.x", "arn")) is None
    assert customer_managed_key("alias/aws/ecr") is False
    assert customer_managed_key("") is False
    assert customer_managed_key("arn:aws:kms:r:1:key/k1", context, bare_key=None) is False
    assert customer_managed_key("k2", context, bare_key=None) is True
    assert customer_managed_key("arn:aws:kms:r:1:key/k9", context, bare_key=None) is None


def test_policy_helpers() -> None:
    assert principal_is_everyone({"AWS": ["arn:aws:iam::1:root", "*"]}) is True
    assert principal_is_everyone({"Service": "ecs.amazonaws.com"}) is False
    assert principal_is_public({"AWS": "arn:aws:iam::*:root"}) is True
    assert principal_is_public(UNKNOWN_VAR) is None
    assert actions_cover(["s3:GetObject", "*"], "s3:*") is True
    assert actions_cover("s3:Get*", "s3:*") is False
    assert iam_match("arn:aws:s3:::b/*", "arn:aws:s3:::b/*") and not iam_match("arn:aws:s3:::b", "x")
    assert statements({"Statement": {"Effect": "Deny"}}) == [{"Effect": "Deny"}]
    assert statements(UNKNOWN_VAR) is UNKNOWN_VAR


def test_document_reads_every_source() -> None:
    assert document({"policy": '{"a": 1}'}, "policy") == {"a": 1}
    partial = Encoded("jsonencode", {"a": UNKNOWN_VAR})
    assert document({"policy": partial, "_decoded_policy": {"a": UNKNOWN_VAR}}, "policy") == {"a": UNKNOWN_VAR}
    assert isinstance(document({"policy": "{nope"}, "policy"), Unresolved)
    assert isinstance(document({}, "policy"), Unresolved)


def test_containers_of_an_unmanaged_live_family_are_unobserved() -> None:
    task = res("aws_ecs_task_definition", "t", {"id": "t", "_unmanaged_only": True}, Origin.LIVE)
    assert isinstance(containers(task), Unresolved)
    task = res("aws_ecs_task_definition", "t", {"container_definitions": '[{"name": "a", "image": "x"}]'})
    assert containers(task) == [{"name": "a", "image": "x"}]


def test_image_repository() -> None:
    repo = res("aws_ecr_repository", "app", {"name": "app",
                                              "repository_url": "1.dkr.ecr.r.amazonaws.com/app"}, Origin.STATE)
    context = ctx(repo)
    assert image_repository(context, "1.dkr.ecr.r.amazonaws.com/app:v1") is repo
    assert image_repository(context, "1.dkr.ecr.r.amazonaws.com/application:v1") is None
    assert image_repository(context, Template((Ref("aws_ecr_repository.app", "repository_url"), ":v1"))) is repo
    assert image_repository(context, Ref("data.aws_ecr_repository.x", "repository_url")) == \
        "data.aws_ecr_repository.x"
    assert image_repository(context, Ref("aws_ecr_repository.app", "name")) is None


def test_backend_resource() -> None:
    local = backend_resource(None, origin=Origin.CODE)
    assert local.type == BACKEND_TYPE and local.attributes == {"type": "local"}
    s3 = backend_resource({"_type": "s3", "bucket": "b", "key": "k", "region": "eu-west-1",
                               "_location": {"file": "backend.tf", "line": 1}}, origin=Origin.CODE)
    assert s3.id == "b/k" and s3.region == "eu-west-1" and s3.attributes["type"] == "s3"
    with pytest.raises(ValueError, match="backend type"):
        backend_resource({"bucket": "b"}, origin=Origin.LIVE)


def test_account_level_public_access_block_covers_buckets(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("""
resource "aws_s3_account_public_access_block" "account" {
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket" "covered" {
  bucket = "covered"
}
""", encoding="utf-8")
    got = verdicts(evaluate(builtin_pack(), code_resources(tmp_path)), "STATE-06")
    assert got == {"aws_s3_bucket.covered": Status.PASS}


def test_linked_needs_a_parent_of_the_context() -> None:
    outsider = res("aws_s3_bucket", "x", {"bucket": "x"})
    with pytest.raises(ValueError, match="not a resource of this rule context"):
        linked(ctx(), outsider, ("aws_s3_bucket_versioning",), "bucket", ("bucket",))


def test_linking_is_indexed_once_per_evaluation() -> None:
    buckets = [res("aws_s3_bucket", f"b{i}", {"bucket": f"b{i}"}) for i in range(300)]
    children = [_versioning(f"v{i}", f"b{i}") for i in range(300)]
    context = ctx(*buckets, *children)
    assert all(linked(context, b, ("aws_s3_bucket_versioning",), "bucket", ("bucket",)).matched == (c,)
               for b, c in zip(buckets, children, strict=True))
    assert sum(1 for key in context.memo if key[0] == "children") == 1
