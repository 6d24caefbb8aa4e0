"""WAFv2 web ACL associations (a regional web ACL on a load balancer).

Calls per region: GetWebACLForResource once per association a state holds. AWS lists associations only
per web ACL and per resource type (ListResourcesForWebACL, which moto lacks), so associations no state
holds are not searched for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import botocore.exceptions

from auditor.aws import error_code
from auditor.catalog import TypeSpec
from auditor.inventory.base import CollectContext, collector
from auditor.models import Resource


def association_key(attributes: Mapping[str, Any]) -> str | None:
    """The associated resource's ARN: a resource has at most one web ACL, so another ACL on it is a change
    of `web_acl_arn`, not a missing association plus another one."""
    return str(attributes.get("resource_arn") or "") or None


WEB_ACL_ASSOCIATION = TypeSpec(
    type="aws_wafv2_web_acl_association", partially_read=True,
    service="wafv2",
    compared=("web_acl_arn", "resource_arn"),
    state_id=association_key,
    report_unmanaged=False,
    calls=("GetWebACLForResource",),
    ignored={"id": "`<web ACL ARN>,<resource ARN>`; matched on the resource ARN", "timeouts": "provider-only"},
    notes="GetWebACLForResource for each resource a state's association names (WAFNonexistentItemException "
          "or no web ACL: missing). Not searched for unmanaged associations: AWS lists them only per web ACL "
          "and resource type.",
)


@collector(WEB_ACL_ASSOCIATION)
def collect_web_acl_associations(ctx: CollectContext) -> Iterator[Resource]:
    wafv2 = ctx.client("wafv2")
    resources = sorted(ctx.wanted.get(WEB_ACL_ASSOCIATION.type, frozenset()))

    def web_acl(resource_arn: str) -> str | None:
        try:
            answer = wafv2.get_web_acl_for_resource(ResourceArn=resource_arn)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "WAFNonexistentItemException":
                return None  # the resource is gone: so is its association
            raise
        return str((answer.get("WebACL") or {}).get("ARN") or "") or None

    for resource_arn, acl in zip(resources, ctx.each(web_acl, resources), strict=True):
        if acl is not None:
            yield ctx.resource(WEB_ACL_ASSOCIATION, resource_arn, {
                "id": f"{acl},{resource_arn}", "web_acl_arn": acl, "resource_arn": resource_arn})
