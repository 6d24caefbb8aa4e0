"""DynamoDB tables (the Terraform lock table among them)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import botocore.exceptions

from auditor.aws import error_code
from auditor.catalog import TypeSpec
from auditor.inventory.base import CollectContext, collector, held_tags, paginate, tags_dict
from auditor.models import Resource

TABLE = TypeSpec(
    type="aws_dynamodb_table", partially_read=True,
    calls=("ListTables", "DescribeTable", "DescribeContinuousBackups", "DescribeTimeToLive", "ListTagsOfResource",
           "kms:DescribeKey", "resourcegroupstaggingapi:GetResources"),
    service="dynamodb",
    compared=("name", "hash_key", "range_key", "attribute", "billing_mode", "read_capacity", "write_capacity",
              "global_secondary_index", "local_secondary_index", "stream_enabled", "stream_view_type",
              "server_side_encryption", "deletion_protection_enabled", "table_class",
              "point_in_time_recovery", "ttl"),
    set_paths=("attribute", "global_secondary_index", "global_secondary_index.*.non_key_attributes",
               "local_secondary_index"),
    tags=True,
    optional_live=("point_in_time_recovery", "ttl", "tags"),
    ignored={
        "id": "the table name",
        "arn": "derived from the name",
        "stream_arn": "computed", "stream_label": "computed",
        "replica": "global-table replicas live in other regions",
        "on_demand_throughput": "AWS reports service defaults the state does not hold",
        "import_table": "create-time option", "restore_date_time": "create-time option",
        "restore_source_name": "create-time option", "restore_source_table_arn": "create-time option",
        "restore_to_latest_time": "create-time option",
        "timeouts": "provider-only",
    },
    notes="ListTables + DescribeTable per table (AWS has no batch form). DescribeContinuousBackups "
          "and DescribeTimeToLive only for tables a state holds, their tags from one paginated Tagging API "
          "GetResources (dynamodb:table), or ListTagsOfResource per held table where that is denied; unmanaged tables "
          "carry no point_in_time_recovery, ttl or tags. An SSE key equal to alias/aws/dynamodb reads "
          "as \"\" as the provider stores it (one DescribeKey per region, only when needed).",
)

_DEFAULT_KEY = "alias/aws/dynamodb"


def _default_dynamodb_key(ctx: CollectContext) -> str | None:
    """ARN of the AWS-managed DynamoDB key of the region, None when it does not exist."""

    def fetch() -> str | None:
        try:
            return str(ctx.client("kms").describe_key(KeyId=_DEFAULT_KEY)["KeyMetadata"]["Arn"])
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "NotFoundException":
                return None
            raise

    key: str | None = ctx.shared("kms.default_dynamodb_key", fetch)
    return key


def _key(schema: list[Mapping[str, Any]], kind: str) -> str:
    return next((str(k["AttributeName"]) for k in schema if k.get("KeyType") == kind), "")


def _throughput(entry: Mapping[str, Any]) -> tuple[int, int]:
    tp = entry.get("ProvisionedThroughput") or {}
    return int(tp.get("ReadCapacityUnits", 0)), int(tp.get("WriteCapacityUnits", 0))


def table_attributes(table: Mapping[str, Any], default_key: str | None = None) -> dict[str, Any]:
    """DescribeTable's Table -> aws_dynamodb_table state attributes (without the per-table extras)."""
    read, write = _throughput(table)
    gsis = []
    for index in table.get("GlobalSecondaryIndexes") or []:
        projection = index.get("Projection") or {}
        i_read, i_write = _throughput(index)
        gsis.append({
            "name": index["IndexName"],
            "hash_key": _key(index.get("KeySchema", []), "HASH"),
            "range_key": _key(index.get("KeySchema", []), "RANGE"),
            "projection_type": projection.get("ProjectionType", ""),
            "non_key_attributes": list(projection.get("NonKeyAttributes") or []),
            "read_capacity": i_read,
            "write_capacity": i_write,
        })
    lsis = []
    for index in table.get("LocalSecondaryIndexes") or []:
        projection = index.get("Projection") or {}
        lsis.append({
            "name": index["IndexName"],
            "range_key": _key(index.get("KeySchema", []), "RANGE"),
            "projection_type": projection.get("ProjectionType", ""),
            "non_key_attributes": list(projection.get("NonKeyAttributes") or []),
        })
    sse = table.get("SSEDescription")
    stream = table.get("StreamSpecification") or {}
    stream_enabled = bool(stream.get("StreamEnabled", False))
    return {
        "id": table["TableName"],
        "name": table["TableName"],
        "arn": table.get("TableArn", ""),
        "hash_key": _key(table.get("KeySchema", []), "HASH"),
        "range_key": _key(table.get("KeySchema", []), "RANGE"),
        "attribute": [{"name": a["AttributeName"], "type": a["AttributeType"]}
                      for a in table.get("AttributeDefinitions", [])],
        "billing_mode": (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
        "read_capacity": read,
        "write_capacity": write,
        "global_secondary_index": gsis,
        "local_secondary_index": lsis,
        "stream_enabled": stream_enabled,
        "stream_view_type": stream.get("StreamViewType", "") if stream_enabled else "",
        "stream_arn": table.get("LatestStreamArn", ""),
        "stream_label": table.get("LatestStreamLabel", ""),
        "server_side_encryption": [] if not sse else [{
            "enabled": sse.get("Status") == "ENABLED",
            "kms_key_arn": "" if sse.get("KMSMasterKeyArn") in (None, default_key)
            else sse["KMSMasterKeyArn"],
        }],
        "deletion_protection_enabled": bool(table.get("DeletionProtectionEnabled", False)),
        "table_class": (table.get("TableClassSummary") or {}).get("TableClass", "STANDARD"),
    }


def pitr_attribute(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """DescribeContinuousBackups -> point_in_time_recovery."""
    pitr = (answer.get("ContinuousBackupsDescription") or {}).get("PointInTimeRecoveryDescription") or {}
    return [{"enabled": pitr.get("PointInTimeRecoveryStatus") == "ENABLED",
             "recovery_period_in_days": int(pitr.get("RecoveryPeriodInDays", 0))}]


def ttl_attribute(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """DescribeTimeToLive -> ttl."""
    ttl = answer.get("TimeToLiveDescription") or {}
    return [{"attribute_name": ttl.get("AttributeName", ""),
             "enabled": ttl.get("TimeToLiveStatus") == "ENABLED"}]


def table_tags(ddb: Any, arn: str) -> dict[str, str]:
    """ListTagsOfResource over every page (it has no botocore paginator)."""
    tags: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ResourceArn": arn}
    while True:
        answer = ddb.list_tags_of_resource(**kwargs)
        tags.extend(answer.get("Tags") or [])
        if not answer.get("NextToken"):
            return tags_dict(tags)
        kwargs["NextToken"] = answer["NextToken"]


@collector(TABLE)
def collect_tables(ctx: CollectContext) -> Iterator[Resource]:
    ddb = ctx.client("dynamodb")
    wanted = ctx.wanted.get(TABLE.type, frozenset())
    for name in paginate(ddb, "list_tables", "TableNames"):
        table = ddb.describe_table(TableName=name)["Table"]
        if name not in wanted:
            yield ctx.resource(TABLE, name, table_attributes(table))
            continue
        key_arn = (table.get("SSEDescription") or {}).get("KMSMasterKeyArn")
        attrs = table_attributes(table, _default_dynamodb_key(ctx) if key_arn else None)
        attrs["point_in_time_recovery"] = pitr_attribute(ddb.describe_continuous_backups(TableName=name))
        attrs["ttl"] = ttl_attribute(ddb.describe_time_to_live(TableName=name))
        attrs["tags"] = held_tags(ctx, "dynamodb:table", table["TableArn"], lambda arn: table_tags(ddb, arn))
        attrs["tags_all"] = dict(attrs["tags"])
        yield ctx.resource(TABLE, name, attrs)
