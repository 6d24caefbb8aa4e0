"""Tags changed, added or removed by hand, for every tagged type the audit compares, in each
service's own tagging calls (the state's `tags` are put back; keys it does not hold are removed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from auditor.fix.model import Call, Risk
from auditor.fix.reverts import Revert, all_tags, state_attrs, tag_changes
from auditor.models import Drift, DriftKind


@dataclass(frozen=True, slots=True)
class _Tagger:
    """How one service tags: the calls for (resource handle, tags to put, keys to drop), and their permissions."""

    types: tuple[str, ...]
    handle: Callable[[Drift], str]
    put: Callable[[str, dict[str, str]], Call]
    drop: Callable[[str, list[str]], Call]
    permissions: tuple[str, ...]


def _arn(drift: Drift) -> str:
    return str(state_attrs(drift).get("arn") or drift.id)


def _id(drift: Drift) -> str:
    return drift.id


def _pairs(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted(tags.items())]


_TAGGERS = (
    _Tagger(("aws_lb", "aws_lb_listener", "aws_lb_target_group"), _id,
            lambda h, t: Call("elbv2", "add_tags", {"ResourceArns": [h], "Tags": _pairs(t)}),
            lambda h, k: Call("elbv2", "remove_tags", {"ResourceArns": [h], "TagKeys": k}),
            ("elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags")),
    _Tagger(("aws_vpc", "aws_subnet", "aws_security_group", "aws_internet_gateway", "aws_nat_gateway", "aws_eip",
             "aws_route_table", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"), _id,
            lambda h, t: Call("ec2", "create_tags", {"Resources": [h], "Tags": _pairs(t)}),
            lambda h, k: Call("ec2", "delete_tags", {"Resources": [h], "Tags": [{"Key": key} for key in k]}),
            ("ec2:CreateTags", "ec2:DeleteTags")),
    _Tagger(("aws_ecr_repository",), _arn,
            lambda h, t: Call("ecr", "tag_resource", {"resourceArn": h, "tags": _pairs(t)}),
            lambda h, k: Call("ecr", "untag_resource", {"resourceArn": h, "tagKeys": k}),
            ("ecr:TagResource", "ecr:UntagResource")),
    _Tagger(("aws_ecs_cluster", "aws_ecs_service", "aws_ecs_task_definition"), _arn,
            lambda h, t: Call("ecs", "tag_resource", {"resourceArn": h, "tags": _pairs(t, "key", "value")}),
            lambda h, k: Call("ecs", "untag_resource", {"resourceArn": h, "tagKeys": k}),
            ("ecs:TagResource", "ecs:UntagResource")),
    _Tagger(("aws_dynamodb_table",), _arn,
            lambda h, t: Call("dynamodb", "tag_resource", {"ResourceArn": h, "Tags": _pairs(t)}),
            lambda h, k: Call("dynamodb", "untag_resource", {"ResourceArn": h, "TagKeys": k}),
            ("dynamodb:TagResource", "dynamodb:UntagResource")),
    _Tagger(("aws_sns_topic",), _arn,
            lambda h, t: Call("sns", "tag_resource", {"ResourceArn": h, "Tags": _pairs(t)}),
            lambda h, k: Call("sns", "untag_resource", {"ResourceArn": h, "TagKeys": k}),
            ("sns:TagResource", "sns:UntagResource")),
    _Tagger(("aws_kms_key",), _id,
            lambda h, t: Call("kms", "tag_resource", {"KeyId": h, "Tags": _pairs(t, "TagKey", "TagValue")}),
            lambda h, k: Call("kms", "untag_resource", {"KeyId": h, "TagKeys": k}),
            ("kms:TagResource", "kms:UntagResource")),
    _Tagger(("aws_iam_role",), _id,
            lambda h, t: Call("iam", "tag_role", {"RoleName": h, "Tags": _pairs(t)}),
            lambda h, k: Call("iam", "untag_role", {"RoleName": h, "TagKeys": k}),
            ("iam:TagRole", "iam:UntagRole")),
)


def _calls(tagger: _Tagger) -> Callable[[Drift], tuple[Call, ...]]:
    def calls(drift: Drift) -> tuple[Call, ...]:
        put, drop = tag_changes(drift)
        handle = tagger.handle(drift)
        return ((tagger.put(handle, put),) if put else ()) + ((tagger.drop(handle, drop),) if drop else ())

    return calls


def _s3_tags(drift: Drift) -> tuple[Call, ...]:
    """S3 replaces a bucket's whole tag set: the state's set is put (none: the tagging is deleted)."""
    tags = {k: str(v) for k, v in all_tags(state_attrs(drift)).items()}
    bucket = str(state_attrs(drift).get("bucket") or drift.id)
    if not tags:
        return (Call("s3", "delete_bucket_tagging", {"Bucket": bucket}),)
    return (Call("s3", "put_bucket_tagging", {"Bucket": bucket, "Tagging": {"TagSet": _pairs(tags)}}),)


REVERTS: tuple[Revert, ...] = (
    *(Revert(tf_type, "tags", frozenset({DriftKind.CHANGED}), ("tags", "tags_all"), tagger.permissions, Risk.LOW,
             "the resource still exists (a tagging call on a deleted resource fails and changes nothing)",
             _calls(tagger))
      for tagger in _TAGGERS for tf_type in tagger.types),
    Revert("aws_s3_bucket", "tags", frozenset({DriftKind.CHANGED}), ("tags", "tags_all"),
           ("s3:PutBucketTagging",), Risk.LOW,
           "the bucket still exists (its whole tag set is replaced by the state's)", _s3_tags),
)
