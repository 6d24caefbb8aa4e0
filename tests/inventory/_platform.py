"""Helpers shared by the ECR, monitoring, storage and IAM collector tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from auditor.aws import Aws, AwsSettings
from auditor.catalog import TypeSpec
from auditor.diff import attribute_changes
from auditor.inventory.base import CollectContext
from auditor.models import Origin, Resource

ACCOUNT = "123456789012"
REGION = "ap-south-1"

CollectFn = Callable[[CollectContext], Iterable[Resource]]


def context(aws: Aws, wanted: Mapping[str, Iterable[str]] | None = None,
            region: str = REGION) -> CollectContext:
    return CollectContext(aws, region, ACCOUNT, {t: frozenset(ids) for t, ids in (wanted or {}).items()})


def collect(fn: CollectFn, ctx: CollectContext, spec: TypeSpec) -> dict[str, Resource]:
    """Live resources of one type by import id; checks they are live resources of that type."""
    found = {r.id: r for r in fn(ctx)}
    assert all(r.type == spec.type and r.origin is Origin.LIVE and r.region == ctx.region
               for r in found.values())
    return found


def compared(spec: TypeSpec, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The compared attributes; every one not in optional_live must really be produced."""
    missing = [a for a in spec.compared if a not in attrs and a not in spec.optional_live]
    assert not missing, f"{spec.type} does not produce {missing}"
    return {a: attrs[a] for a in spec.compared if a in attrs}


def calls(aws: Aws, service: str) -> dict[str, int]:
    """API calls sent so far to one service (`service.Operation` -> count)."""
    return {k: v for k, v in aws.counter.snapshot().items() if k.split(".")[0] == service}


def spent_since(aws: Aws, before: Mapping[str, int]) -> dict[str, int]:
    """API calls sent since `before` (an earlier `aws.counter.snapshot()`)."""
    return {k: v - before.get(k, 0) for k, v in aws.counter.snapshot().items() if v != before.get(k, 0)}


def paged(aws: Aws, service: str, operation: str, key: str, pages: Sequence[list[Any]], fn: CollectFn, *,
          token: str, token_out: str | None = None, more: Mapping[str, Any] | None = None,
          params: Mapping[str, Any] | None = None) -> list[Resource]:
    """Run `fn` against stubbed pages of `operation`: every page must be asked for, with its token.

    token: the request's paging parameter; token_out: the answer's (default: the same name);
    more: extra fields of a page that is not the last (IAM's IsTruncated).
    """
    with Stubber(aws.client(service, REGION)) as stub:
        for number, page in enumerate(pages):
            answer: dict[str, Any] = {key: page}
            if number < len(pages) - 1:
                answer.update({token_out or token: f"page-{number + 2}", **(more or {})})
            expected = dict(params or {})
            if number:
                expected[token] = f"page-{number + 1}"
            stub.add_response(operation, answer, expected)
        found = list(fn(context(aws)))
        stub.assert_no_pending_responses()
    return found


def deny_tagging(aws: Aws) -> None:
    """Make the Tagging API answer AccessDeniedException in REGION (collectors then ask each resource)."""
    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "AccessDeniedException", "Message": "not allowed"}
        return AWSResponse("https://tagging.invalid", 400, {}, None), {"Error": error,
                                                                          "ResponseMetadata": {"HTTPStatusCode": 400}}

    aws.client("resourcegroupstaggingapi", REGION).meta.events.register("before-call", refuse)


def new_aws() -> Aws:
    return Aws(AwsSettings(region=REGION))


def change_paths(spec: TypeSpec, state: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """The attribute paths the diff finds changed between a state's and a live resource."""
    return [c.path for c in attribute_changes(spec, state, live)]
