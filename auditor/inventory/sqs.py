"""SQS queues and queue policies.

Calls per region: ListQueues (paginated) once; GetQueueAttributes (All) for each queue a state holds
(as a queue or as a queue's policy); one paginated Tagging API GetResources for the held queues' tags
(ListQueueTags per held queue where that is denied). Unmanaged queues carry their URL and name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.catalog import BulkTags, Detail, Listing, TypeSpec
from auditor.inventory.base import CollectContext, arn_partition, managed_by, register, with_tags

# Terraform attribute -> (GetQueueAttributes key, kind); absent keys take the provider's zero value, except
# for "int?" kinds (left out, so not compared: the data-key period is reported only for SSE-KMS queues).
_QUEUE_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "content_based_deduplication": ("ContentBasedDeduplication", "bool"),
    "deduplication_scope": ("DeduplicationScope", "str"),
    "delay_seconds": ("DelaySeconds", "int"),
    "fifo_queue": ("FifoQueue", "bool"),
    "fifo_throughput_limit": ("FifoThroughputLimit", "str"),
    "kms_data_key_reuse_period_seconds": ("KmsDataKeyReusePeriodSeconds", "int?"),
    "kms_master_key_id": ("KmsMasterKeyId", "str"),
    "max_message_size": ("MaximumMessageSize", "int"),
    "message_retention_seconds": ("MessageRetentionPeriod", "int"),
    "policy": ("Policy", "str"),
    "receive_wait_time_seconds": ("ReceiveMessageWaitTimeSeconds", "int"),
    "redrive_allow_policy": ("RedriveAllowPolicy", "str"),
    "redrive_policy": ("RedrivePolicy", "str"),
    "sqs_managed_sse_enabled": ("SqsManagedSseEnabled", "bool"),
    "visibility_timeout_seconds": ("VisibilityTimeout", "int"),
    "arn": ("QueueArn", "str"),
}


def _value(raw: Any, kind: str) -> Any:
    if kind == "bool":
        return str(raw).lower() == "true"
    if kind == "int":
        return int(raw) if raw not in (None, "") else 0
    return raw or ""


def _name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def queue_attributes(url: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """Queue URL (+ GetQueueAttributes and ListQueueTags when read) -> aws_sqs_queue state attributes."""
    attrs: dict[str, Any] = {"id": url, "url": url, "name": _name(url)}
    answer = details.get("GetQueueAttributes")
    if answer is not None:
        for tf_name, (key, kind) in _QUEUE_ATTRIBUTES.items():
            if kind.endswith("?") and key not in answer:
                continue
            attrs[tf_name] = _value(answer.get(key), kind.rstrip("?"))
    return with_tags(attrs, details, "ListQueueTags")


def queue_arn(url: str, ctx: CollectContext) -> str:
    """A queue's ARN from its URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`)."""
    account, name = url.rstrip("/").split("/")[-2:]
    return f"arn:{arn_partition(ctx.region)}:sqs:{ctx.region}:{account}:{name}"


_DETAILS = (Detail("GetQueueAttributes", lambda url: {"QueueUrl": url, "AttributeNames": ["All"]}, "Attributes"),)

QUEUE = TypeSpec(
    type="aws_sqs_queue", partially_read=True,
    service="sqs",
    mirrored=managed_by("policy", "aws_sqs_queue_policy", "queue_url"),
    compared=("name", *(a for a in _QUEUE_ATTRIBUTES if a != "arn")),
    json_attributes=("policy", "redrive_policy", "redrive_allow_policy"),
    optional_live=(*(a for a in _QUEUE_ATTRIBUTES if a != "arn"), "tags"),
    tags=True,
    ignored={
        "id": "the queue URL",
        "url": "the import id",
        "arn": "derived from the region, account and name",
        "name_prefix": "create-time option",
        "timeouts": "provider-only",
    },
    notes="ListQueues (paginated) gives URLs only: GetQueueAttributes (All) is called for queues a state "
          "holds, their tags read from one paginated Tagging API GetResources (`sqs`: a queue ARN names no "
          "resource type), or by ListQueueTags per held queue where that is denied; unmanaged queues carry "
          "their URL and name. Where a state holds an "
          "aws_sqs_queue_policy for the queue, `policy` is that resource's (compared there, not here).",
    listing=Listing("ListQueues", "QueueUrls", lambda url: str(url),
                    convert=lambda url, details, _: queue_attributes(url, details),
                    details=(*_DETAILS, Detail("ListQueueTags", lambda url: {"QueueUrl": url}, "Tags",
                                                     bulk_tags=BulkTags("sqs", queue_arn)))),
)
collect_queues = register(QUEUE)


def queue_policy_attributes(url: str, details: Mapping[str, Any]) -> dict[str, Any] | None:
    """GetQueueAttributes' Policy in aws_sqs_queue_policy state shape (None: the queue has no policy)."""
    answer = details.get("GetQueueAttributes")
    if answer is None or not answer.get("Policy"):
        return None
    return {"id": url, "queue_url": url, "policy": answer["Policy"]}


QUEUE_POLICY = TypeSpec(
    type="aws_sqs_queue_policy", partially_read=True,
    service="sqs",
    compared=("queue_url", "policy"),
    json_attributes=("policy",),
    state_id=lambda a: str(a.get("queue_url") or a.get("id") or "") or None,
    report_unmanaged=False,
    ignored={"id": "the queue URL"},
    notes="GetQueueAttributes for the queues whose policy a state holds (the shared ListQueues says which "
          "exist); a policy set outside Terraform on another queue is not detected.",
    listing=Listing("ListQueues", "QueueUrls", lambda url: str(url), held_only=True,
                    convert=lambda url, details, _: queue_policy_attributes(url, details), details=_DETAILS),
)
collect_queue_policies = register(QUEUE_POLICY)
