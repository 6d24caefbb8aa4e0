"""IAM roles and their managed-policy attachments (a global service: listed from whichever region asks)."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

import botocore.exceptions

from auditor.aws import error_code
from auditor.catalog import TypeSpec
from auditor.inventory.base import CollectContext, collector, paginate, tags_dict
from auditor.models import Resource

_AWS_ROLE_PATHS = ("/aws-service-role/", "/service-role/", "/aws-reserved/")

ROLE = TypeSpec(
    type="aws_iam_role", partially_read=True,
    service="iam",
    global_service=True,
    compared=("name", "path", "assume_role_policy", "description", "max_session_duration",
              "permissions_boundary"),
    json_attributes=("assume_role_policy",),
    tags=True,
    optional_live=("permissions_boundary", "tags"),
    ignored={
        "id": "the role name",
        "arn": "derived from the path and name",
        "unique_id": "computed",
        "create_date": "computed",
        "name_prefix": "create-time option",
        "force_detach_policies": "provider-only delete option",
        "inline_policy": "needs ListRolePolicies + GetRolePolicy per role; audit aws_iam_role_policy instead",
        "managed_policy_arns": "needs ListAttachedRolePolicies per role; audit the attachments instead",
    },
    aws_owned=lambda r: str(r.attributes.get("path", "")).startswith(_AWS_ROLE_PATHS),
    notes="ListRoles returns neither tags nor the permissions boundary: GetRole is called for roles a "
          "state holds, so both are compared for managed roles only. Roles under /aws-service-role/, "
          "/service-role/ and /aws-reserved/ are created by AWS and never reported unmanaged.",
)


def policy_text(document: Any) -> str:
    """A policy document as JSON text: botocore hands it decoded, raw IAM answers URL-encode it."""
    if isinstance(document, str):
        return urllib.parse.unquote(document) if document.startswith("%") else document
    return json.dumps(document, separators=(",", ":"))


def role_attributes(role: Mapping[str, Any], detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """ListRoles item (+ GetRole answer when read) -> aws_iam_role state attributes."""
    created: Any = role.get("CreateDate") or ""
    attrs: dict[str, Any] = {
        "id": role["RoleName"],
        "name": role["RoleName"],
        "arn": role.get("Arn", ""),
        "path": role.get("Path", "/"),
        "unique_id": role.get("RoleId", ""),
        "create_date": created.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(created, "strftime") else created,
        "assume_role_policy": policy_text(role.get("AssumeRolePolicyDocument", "")),
        "description": role.get("Description", ""),
        "max_session_duration": role.get("MaxSessionDuration", 3600),
    }
    if detail is not None:
        boundary = detail.get("PermissionsBoundary") or {}
        attrs["permissions_boundary"] = boundary.get("PermissionsBoundaryArn", "")
        attrs["tags"] = tags_dict(detail.get("Tags"))
        attrs["tags_all"] = dict(attrs["tags"])
    return attrs


@collector(ROLE)
def collect_roles(ctx: CollectContext) -> Iterator[Resource]:
    iam = ctx.client("iam")
    wanted = ctx.wanted.get(ROLE.type, frozenset())
    for role in paginate(iam, "list_roles", "Roles"):
        name = role["RoleName"]
        detail = iam.get_role(RoleName=name)["Role"] if name in wanted else None
        yield ctx.resource(ROLE, name, role_attributes(role, detail))


# --- aws_iam_role_policy_attachment -------------------------------------------------------------


def attachment_import_id(attributes: Mapping[str, Any]) -> str | None:
    """`<role name>/<policy ARN>`: the id `terraform import` takes (the provider's own id is made up)."""
    role, policy = attributes.get("role"), attributes.get("policy_arn")
    return f"{role}/{policy}" if role and policy else None


ROLE_POLICY_ATTACHMENT = TypeSpec(
    type="aws_iam_role_policy_attachment", partially_read=True,
    service="iam",
    global_service=True,
    compared=("role", "policy_arn"),
    state_id=attachment_import_id,
    ignored={"id": "a unique id the provider makes up (`<role>-<timestamp><counter>`); matched on the "
                   "import id <role>/<policy_arn> instead"},
    report_unmanaged=False,
    notes="ListAttachedRolePolicies (paginated) once per role that a state attachment names; every policy "
          "attached to those roles is listed. A role that no longer exists has no attachments (they are "
          "missing). Attachments of other roles are not read, so none is reported unmanaged.",
)

_NO_SUCH_ENTITY = "NoSuchEntity"


@collector(ROLE_POLICY_ATTACHMENT)
def collect_role_policy_attachments(ctx: CollectContext) -> Iterator[Resource]:
    wanted = ctx.wanted.get(ROLE_POLICY_ATTACHMENT.type, frozenset())
    iam = ctx.client("iam")
    for role in sorted({import_id.split("/", 1)[0] for import_id in wanted if "/" in import_id}):
        try:
            attached = list(paginate(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role))
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == _NO_SUCH_ENTITY:
                continue
            raise
        for policy in attached:
            attrs = {"role": role, "policy_arn": policy["PolicyArn"]}
            import_id = attachment_import_id(attrs) or ""
            yield ctx.resource(ROLE_POLICY_ATTACHMENT, import_id, {"id": import_id, **attrs})
