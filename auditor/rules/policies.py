"""KMS keys and JSON policy documents: customer-managed keys, IAM statements and principals.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from auditor.code.values import Ref, decoded
from auditor.models import Origin, Resource, Unresolved
from auditor.rules.links import address_type
from auditor.rules.model import RuleContext
from auditor.rules.read import as_list, attributes, get
from auditor.rules.verdicts import Tri, t_any

CMK_TYPES = frozenset({"aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key", "aws_kms_replica_external_key"})


def customer_managed_key(value: Any, ctx: RuleContext | None = None, *, bare_key: Tri = True) -> Tri:
    """Whether a key argument names a customer-managed KMS key.

    True for a reference to a managed `aws_kms_key` (or replica/external key), False for an empty
    value or an AWS-managed `alias/aws/...`, None when unknown (a variable, a data source). A key id
    or ARN is looked up among the source's `aws_kms_key` resources (live ones say `_aws_managed`);
    when it is not there, `bare_key` answers: True where the provider blanks the AWS-managed key
    (DynamoDB), None where it reports that key's ARN like any other (ECR).
    """
    if isinstance(value, Ref):
        kind = address_type(value.address)
        return True if kind is not None and kind[0] == "managed" and kind[1] in CMK_TYPES else None
    if isinstance(value, Unresolved):
        return None
    if not isinstance(value, str) or not value:
        return False
    if re.search(r"(^|:)alias/aws/", value):
        return False
    for key in ctx.of_type(*CMK_TYPES) if ctx is not None else ():
        names = {get(key, "arn"), get(key, "key_id"), get(key, "id") if key.origin is not Origin.CODE else None}
        if value in names or value.rsplit("/", 1)[-1] in names:
            return get(key, "_aws_managed") is not True
    return bare_key


def document(res: Resource | Mapping[str, Any], name: str) -> Any:
    """The structure of a JSON-string attribute (policy, container_definitions) from any source:
    a parsed dict/list, or an Unresolved (unknown, not JSON, not set)."""
    return decoded(attributes(res), name)


def statements(policy: Any) -> list[Mapping[str, Any]] | Unresolved:
    """The statements of a policy document (a single statement object counts as a list of one)."""
    if isinstance(policy, Unresolved):
        return policy
    if not isinstance(policy, Mapping):
        return Unresolved("the policy is not a JSON object")
    found = policy.get("Statement")
    if isinstance(found, Unresolved):
        return found
    out: list[Mapping[str, Any]] = []
    for item in as_list(found):
        if isinstance(item, Unresolved):
            return item
        if isinstance(item, Mapping):
            out.append(item)
    return out


def iam_match(pattern: str, text: str) -> bool:
    """IAM wildcard matching (`*` any run, `?` one character), case-sensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _tri_item(value: Any, test: Callable[[str], bool]) -> Tri:
    if isinstance(value, Unresolved):
        return None
    return test(value) if isinstance(value, str) else False


def principal_is_everyone(principal: Any) -> Tri:
    """`"*"`, `{"AWS": "*"}` or `{"AWS": ["*", ...]}`: anyone. None when unknown."""
    if isinstance(principal, Unresolved):
        return None
    if isinstance(principal, str):
        return principal == "*"
    if isinstance(principal, Mapping):
        aws = principal.get("AWS")
        if isinstance(aws, Unresolved):
            return None
        return t_any(_tri_item(p, lambda p: p == "*") for p in as_list(aws))
    return False


def principal_is_public(principal: Any) -> Tri:
    """Anyone, or any principal of every account (`arn:aws:iam::*:root`)."""
    everyone = principal_is_everyone(principal)
    if everyone is not False or not isinstance(principal, Mapping):
        return everyone
    return t_any(_tri_item(p, lambda p: "*" in p) for p in as_list(principal.get("AWS")))


def actions_cover(actions: Any, wanted: str) -> Tri:
    """Whether an Action field grants/denies every action matching `wanted` (`s3:*`)."""
    if isinstance(actions, Unresolved):
        return None
    return t_any(_tri_item(a, lambda a: iam_match(a.lower(), wanted.lower())) for a in as_list(actions))
