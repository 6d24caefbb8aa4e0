"""IAM roles and their managed-policy attachments (a global service: listed from whichever region asks)."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

import botocore.exceptions

from auditor.aws import error_code
from auditor.catalog import Detail, Listing, StateView, TypeSpec
from auditor.inventory.base import CollectContext, collector, paginate, register, tags_dict
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
    listing=Listing("ListRoles", "Roles", "RoleName",
                    convert=lambda role, details, _: role_attributes(role, details.get("GetRole")),
                    details=(Detail("GetRole", lambda role: {"RoleName": role["RoleName"]}, "Role"),)),
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


collect_roles = register(ROLE)


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
    calls=("ListAttachedRolePolicies",),
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


# --- aws_iam_role_policy ------------------------------------------------------------------------


def role_policy_import_id(attributes: Mapping[str, Any]) -> str | None:
    """`<role name>:<policy name>`: the provider's id and import id."""
    role, name = attributes.get("role"), attributes.get("name")
    return f"{role}:{name}" if role and name else (str(attributes.get("id") or "") or None)


def _inline_policy_names(res: Resource) -> frozenset[str]:
    return frozenset(str(p.get("name")) for p in res.attributes.get("inline_policy") or [] if p.get("name"))


def _inline_in_role(live: Resource, view: StateView) -> bool:
    """`covered`: the role's own `inline_policy` blocks in a state manage this policy."""
    role, name = live.attributes.get("role"), live.attributes.get("name")
    return any(r.id == role and name in _inline_policy_names(r) for r in view.get(ROLE.type, ()))


ROLE_POLICY = TypeSpec(
    type="aws_iam_role_policy", partially_read=True,
    service="iam",
    global_service=True,
    compared=("name", "role", "policy"),
    json_attributes=("policy",),
    state_id=role_policy_import_id,
    covered=_inline_in_role,
    calls=("ListRolePolicies", "GetRolePolicy"),
    ignored={"id": "`<role>:<name>`, the import id", "name_prefix": "create-time option"},
    notes="ListRolePolicies (paginated) and GetRolePolicy for every inline policy of the roles a state's "
          "aws_iam_role_policy names; an inline policy added to such a role outside Terraform is unmanaged "
          "(unless the role's own inline_policy blocks in state name it). Inline policies of other roles are "
          "not read.",
)


def role_policy_attributes(role: str, name: str, document: Any) -> dict[str, Any]:
    """A GetRolePolicy answer in aws_iam_role_policy state shape."""
    return {"id": f"{role}:{name}", "name": name, "role": role, "policy": policy_text(document)}


@collector(ROLE_POLICY)
def collect_role_policies(ctx: CollectContext) -> Iterator[Resource]:
    wanted = ctx.wanted.get(ROLE_POLICY.type, frozenset())
    iam = ctx.client("iam")
    roles = sorted({import_id.split(":", 1)[0] for import_id in wanted if ":" in import_id})

    def read(role: str) -> list[dict[str, Any]]:
        try:
            names = list(paginate(iam, "list_role_policies", "PolicyNames", RoleName=role))
            answers = [iam.get_role_policy(RoleName=role, PolicyName=name) for name in names]
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == _NO_SUCH_ENTITY:
                return []  # the role is gone, and its inline policies with it: missing
            raise
        return [role_policy_attributes(role, a["PolicyName"], a["PolicyDocument"]) for a in answers]

    for attrs in (a for found in ctx.each(read, roles) for a in found):
        yield ctx.resource(ROLE_POLICY, attrs["id"], attrs)


# --- aws_iam_policy -----------------------------------------------------------------------------


def managed_policy_attributes(policy: Mapping[str, Any], details: Mapping[str, Any]) -> dict[str, Any]:
    """ListPolicies item (+ GetPolicy and the default GetPolicyVersion when read) -> aws_iam_policy attributes."""
    attrs: dict[str, Any] = {
        "id": policy["Arn"],
        "arn": policy["Arn"],
        "name": policy.get("PolicyName", ""),
        "path": policy.get("Path", "/"),
        "policy_id": policy.get("PolicyId", ""),
        "attachment_count": policy.get("AttachmentCount", 0),
    }
    detail = details.get("GetPolicy")
    if detail is not None:
        attrs["description"] = detail.get("Description", "")
        attrs["tags"] = tags_dict(detail.get("Tags"))
        attrs["tags_all"] = dict(attrs["tags"])
    version = details.get("GetPolicyVersion")
    if version is not None:
        attrs["policy"] = policy_text(version.get("Document", ""))
    return attrs


POLICY = TypeSpec(
    type="aws_iam_policy", partially_read=True,
    service="iam",
    global_service=True,
    compared=("name", "path", "description", "policy"),
    json_attributes=("policy",),
    tags=True,
    optional_live=("description", "policy", "tags"),
    ignored={
        "id": "the policy ARN",
        "arn": "the import id",
        "policy_id": "computed",
        "attachment_count": "computed: changes with every attachment, which are audited on their own",
        "name_prefix": "create-time option",
    },
    notes="ListPolicies (Scope=Local, paginated) once; GetPolicy (description, tags) and GetPolicyVersion of "
          "the default version (the document) for policies a state holds. AWS managed policies are not listed.",
    listing=Listing("ListPolicies", "Policies", "Arn", params={"Scope": "Local"},
                    convert=lambda policy, details, _: managed_policy_attributes(policy, details),
                    details=(Detail("GetPolicy", lambda p: {"PolicyArn": p["Arn"]}, "Policy"),
                             Detail("GetPolicyVersion", lambda p: {"PolicyArn": p["Arn"],
                                                                   "VersionId": p["DefaultVersionId"]},
                                    "PolicyVersion"))),
)
collect_policies = register(POLICY)


# --- aws_iam_instance_profile -------------------------------------------------------------------


def instance_profile_attributes(profile: Mapping[str, Any], details: Mapping[str, Any]) -> dict[str, Any]:
    """ListInstanceProfiles item (+ GetInstanceProfile's tags when read) -> aws_iam_instance_profile attributes."""
    roles = profile.get("Roles") or []
    created: Any = profile.get("CreateDate") or ""
    attrs: dict[str, Any] = {
        "id": profile["InstanceProfileName"],
        "name": profile["InstanceProfileName"],
        "arn": profile.get("Arn", ""),
        "path": profile.get("Path", "/"),
        "unique_id": profile.get("InstanceProfileId", ""),
        "create_date": created.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(created, "strftime") else created,
        "role": roles[0]["RoleName"] if roles else "",
    }
    detail = details.get("GetInstanceProfile")
    if detail is not None:
        attrs["tags"] = tags_dict(detail.get("Tags"))
        attrs["tags_all"] = dict(attrs["tags"])
    return attrs


INSTANCE_PROFILE = TypeSpec(
    type="aws_iam_instance_profile", partially_read=True,
    service="iam",
    global_service=True,
    compared=("name", "path", "role"),
    tags=True,
    optional_live=("tags",),
    ignored={
        "id": "the profile name",
        "arn": "derived from the path and name",
        "unique_id": "computed",
        "create_date": "computed",
        "name_prefix": "create-time option",
    },
    notes="ListInstanceProfiles (paginated) gives the role; GetInstanceProfile (its tags) for profiles a state holds.",
    listing=Listing("ListInstanceProfiles", "InstanceProfiles", "InstanceProfileName",
                    convert=lambda profile, details, _: instance_profile_attributes(profile, details),
                    details=(Detail("GetInstanceProfile",
                                    lambda p: {"InstanceProfileName": p["InstanceProfileName"]}, "InstanceProfile"),)),
)
collect_instance_profiles = register(INSTANCE_PROFILE)


# --- aws_iam_user and aws_iam_access_key --------------------------------------------------------


def user_attributes(user: Mapping[str, Any], details: Mapping[str, Any]) -> dict[str, Any]:
    """ListUsers item (+ GetUser's boundary and tags when read) -> aws_iam_user attributes."""
    attrs: dict[str, Any] = {"id": user["UserName"], "name": user["UserName"], "arn": user.get("Arn", ""),
                             "path": user.get("Path", "/"), "unique_id": user.get("UserId", "")}
    detail = details.get("GetUser")
    if detail is not None:
        attrs["permissions_boundary"] = (detail.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn", "")
        attrs["tags"] = tags_dict(detail.get("Tags"))
        attrs["tags_all"] = dict(attrs["tags"])
    return attrs


USER = TypeSpec(
    type="aws_iam_user", partially_read=True,
    service="iam",
    global_service=True,
    compared=("name", "path", "permissions_boundary"),
    tags=True,
    optional_live=("permissions_boundary", "tags"),
    ignored={"id": "the user name", "arn": "derived from the path and name", "unique_id": "computed",
             "force_destroy": "provider-only delete option"},
    notes="ListUsers (paginated) once; GetUser (permissions boundary, tags) for users a state holds.",
    listing=Listing("ListUsers", "Users", "UserName",
                    convert=lambda user, details, _: user_attributes(user, details),
                    details=(Detail("GetUser", lambda user: {"UserName": user["UserName"]}, "User"),)),
)
collect_users = register(USER)


_SECRET_FREE = "a secret: never read (AWS returns it only once, at creation) and never compared"

ACCESS_KEY = TypeSpec(
    type="aws_iam_access_key", partially_read=True,
    service="iam",
    global_service=True,
    compared=("user", "status"),
    calls=("ListAccessKeys",),
    ignored={
        "id": "the access key id",
        "create_date": "computed",
        "secret": _SECRET_FREE, "ses_smtp_password_v4": _SECRET_FREE,
        "encrypted_secret": _SECRET_FREE, "encrypted_ses_smtp_password_v4": _SECRET_FREE,
        "key_fingerprint": "computed with the encrypted secret", "pgp_key": "create-time option",
    },
    notes="ListAccessKeys (paginated) once per user that a state's access key names: only key ids, status and "
          "dates come back, never a secret. A key added by hand to such a user is unmanaged; keys of other "
          "users are not read.",
)


def access_key_attributes(key: Mapping[str, Any]) -> dict[str, Any]:
    """A ListAccessKeys item in aws_iam_access_key state shape (no secret exists in it)."""
    created: Any = key.get("CreateDate") or ""
    return {"id": key["AccessKeyId"], "user": key.get("UserName", ""), "status": key.get("Status", ""),
            "create_date": created.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(created, "strftime") else created}


@collector(ACCESS_KEY)
def collect_access_keys(ctx: CollectContext) -> Iterator[Resource]:
    wanted = ctx.wanted.get(ACCESS_KEY.type, frozenset())
    users = sorted({str(ctx.state_attribute(ACCESS_KEY.type, key_id, "user") or "") for key_id in wanted} - {""})
    iam = ctx.client("iam")

    def read(user: str) -> list[dict[str, Any]]:
        try:
            return list(paginate(iam, "list_access_keys", "AccessKeyMetadata", UserName=user))
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == _NO_SUCH_ENTITY:
                return []  # the user is gone, and its keys with it: missing
            raise

    for key in (k for keys in ctx.each(read, users) for k in keys):
        yield ctx.resource(ACCESS_KEY, key["AccessKeyId"], access_key_attributes(key))
