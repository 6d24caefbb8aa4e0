"""SNS: topic subscriptions and topic policies (topics themselves are in monitoring.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.catalog import Detail, Listing, TypeSpec
from auditor.inventory.base import register

# Terraform attribute -> GetSubscriptionAttributes key (strings; absent keys are "")
SUBSCRIPTION_TEXT = {  # attribute -> GetSubscriptionAttributes key, for the provider's text attributes
    "delivery_policy": "DeliveryPolicy", "filter_policy": "FilterPolicy", "filter_policy_scope": "FilterPolicyScope",
    "redrive_policy": "RedrivePolicy", "replay_policy": "ReplayPolicy", "subscription_role_arn": "SubscriptionRoleArn",
}


def subscription_attributes(subscription: Mapping[str, Any], details: Mapping[str, Any]) -> dict[str, Any]:
    """ListSubscriptions item (+ GetSubscriptionAttributes when read) -> aws_sns_topic_subscription attributes."""
    arn = subscription["SubscriptionArn"]
    attrs: dict[str, Any] = {
        "id": arn,
        "arn": arn,
        "topic_arn": subscription.get("TopicArn", ""),
        "protocol": subscription.get("Protocol", ""),
        "endpoint": subscription.get("Endpoint", ""),
        "owner_id": subscription.get("Owner", ""),
    }
    answer = details.get("GetSubscriptionAttributes")
    if answer is not None:
        for name, key in SUBSCRIPTION_TEXT.items():
            attrs[name] = answer.get(key, "")
        attrs["raw_message_delivery"] = str(answer.get("RawMessageDelivery", "false")).lower() == "true"
        attrs["pending_confirmation"] = str(answer.get("PendingConfirmation", "false")).lower() == "true"
        attrs["confirmation_was_authenticated"] = str(
            answer.get("ConfirmationWasAuthenticated", "false")).lower() == "true"
    return attrs


def _pending(subscription: Mapping[str, Any]) -> bool:
    """A subscription still waiting for confirmation has no ARN yet (`PendingConfirmation`)."""
    return not str(subscription.get("SubscriptionArn", "")).startswith("arn:")


SUBSCRIPTION = TypeSpec(
    type="aws_sns_topic_subscription", partially_read=True,
    service="sns",
    compared=("topic_arn", "protocol", "endpoint", "raw_message_delivery", "filter_policy", "filter_policy_scope",
              "delivery_policy", "redrive_policy", "replay_policy", "subscription_role_arn"),
    json_attributes=("filter_policy", "delivery_policy", "redrive_policy", "replay_policy"),
    optional_live=("raw_message_delivery", "filter_policy", "filter_policy_scope", "delivery_policy",
                   "redrive_policy", "replay_policy", "subscription_role_arn"),
    normalizers={"filter_policy_scope": lambda v: None if v in (None, "", "MessageAttributes") else v},
    ignored={
        "id": "the subscription ARN",
        "arn": "the import id",
        "owner_id": "the account id",
        "pending_confirmation": "computed by AWS",
        "confirmation_was_authenticated": "computed by AWS",
        "confirmation_timeout_in_minutes": "provider-only create option",
        "endpoint_auto_confirms": "provider-only create option",
    },
    notes="ListSubscriptions (paginated) once; GetSubscriptionAttributes for subscriptions a state holds (the "
          "settings beyond topic, protocol and endpoint are compared for those only). Subscriptions pending "
          "confirmation have no ARN and are left out. filter_policy_scope MessageAttributes is AWS's default.",
    listing=Listing("ListSubscriptions", "Subscriptions", "SubscriptionArn", skip=_pending,
                    convert=lambda subscription, details, _: subscription_attributes(subscription, details),
                    details=(Detail("GetSubscriptionAttributes",
                                    lambda s: {"SubscriptionArn": s["SubscriptionArn"]}, "Attributes"),)),
)
collect_subscriptions = register(SUBSCRIPTION)


def topic_policy_attributes(topic: Mapping[str, Any], details: Mapping[str, Any]) -> dict[str, Any] | None:
    """GetTopicAttributes' Policy in aws_sns_topic_policy state shape."""
    answer = details.get("GetTopicAttributes")
    if answer is None:
        return None
    arn = topic["TopicArn"]
    return {"id": arn, "arn": arn, "owner": answer.get("Owner", ""), "policy": answer.get("Policy", "")}


TOPIC_POLICY = TypeSpec(
    type="aws_sns_topic_policy", partially_read=True,
    service="sns",
    compared=("arn", "policy"),
    json_attributes=("policy",),
    state_id=lambda a: str(a.get("arn") or a.get("id") or "") or None,
    report_unmanaged=False,
    ignored={"id": "the topic ARN", "owner": "the account id"},
    notes="GetTopicAttributes for the topics whose policy a state holds (found by the shared ListTopics). A "
          "topic's policy always exists (AWS writes a default one), so a gone topic is the policy's only "
          "`missing`.",
    listing=Listing("ListTopics", "Topics", "TopicArn", held_only=True,
                    convert=lambda topic, details, _: topic_policy_attributes(topic, details),
                    details=(Detail("GetTopicAttributes", lambda topic: {"TopicArn": topic["TopicArn"]},
                                    "Attributes"),)),
)
collect_topic_policies = register(TOPIC_POLICY)
