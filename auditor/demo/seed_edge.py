"""The reference stack's edge and workload: certificate, ALB and its log bucket, target groups, listeners, ECS.

Runs after seed_network and seed_platform (it reads their subnets, security groups, roles, ECR
repository and log group). Each resource is created with the arguments Terraform would send for
the stack's configuration (the provider sends its schema defaults explicitly, e.g. the ALB's idle
timeout and the health-check thresholds) and recorded in the hashicorp/aws v5 state shape, from what
was asked and what AWS answered. The certificate is requested with DNS validation, like the stack's;
the embedded AWS issues it at once (see auditor.demo.motoserver), and aws_acm_certificate_validation
waits for that as the provider does.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from typing import Any

from auditor.demo.seed_platform import BucketPlan, ExpiryRule, deny_insecure_transport, seed_bucket
from auditor.demo.seedkit import SeedContext
from auditor.inventory.acm import go_time_string
from auditor.inventory.sns import SUBSCRIPTION_TEXT

NAME = "digitallync-core"
DOMAIN = "app.digitallync.example"
ALB_LOG_PREFIX = "digitallync-core"
ALB_LOG_RETENTION_DAYS = 90
ELB_ACCOUNTS = {  # data.aws_elb_service_account: the account that writes a region's ALB access logs
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "eu-west-1": "156460612806", "eu-central-1": "054676820928",
    "ap-south-1": "718504428378", "ap-southeast-1": "114774131450", "ap-northeast-1": "582318560864",
}
ISSUE_TIMEOUT_SECONDS = 30.0
CONTAINER = "production-web"
APP_PORT = 3000
HTTPS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
IMAGE_DIGEST = hashlib.sha256(b"digitallync-core 1.0.0").hexdigest()

_SUBNET = 'aws_subnet.{tier}["{az}"]'
_ZONES = ("a", "b")


def _tags(name: str) -> dict[str, str]:
    return {"Name": name, "Environment": "production", "Project": "digitallync"}


def _aws_tags(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in tags.items()]


def _tagged(attrs: dict[str, Any], tags: dict[str, str]) -> dict[str, Any]:
    return {**attrs, "tags": dict(tags), "tags_all": dict(tags)}


def _flag(value: Any) -> str:
    """A Terraform value as an ELBv2 attribute string."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def seed_edge(ctx: SeedContext) -> None:
    """Create and record the certificate and its validation, the ALB's log bucket, the ALB, target groups,
    listeners and the /internal/* rule, the image repository's policy, the log group's error filter, the
    alarm topic's archive queue and subscription, cluster, task definition and the two colours' services
    (green idle at desired count 0)."""
    certificate = _certificate(ctx)
    validation = _certificate_validation(ctx, certificate)
    logs = _alb_log_bucket(ctx)
    lb = _load_balancer(ctx, logs)
    blue, green = _target_group(ctx, "blue"), _target_group(ctx, "green")
    https = _https_listener(ctx, lb, validation, blue, green)
    _redirect_listener(ctx, lb)
    _block_internal_rule(ctx, https)
    _repository_policy(ctx)
    _app_errors_filter(ctx)
    _alarm_archive(ctx)
    cluster = _cluster(ctx)
    task = _task_definition(ctx)
    _service(ctx, cluster, task, blue, "blue")
    _service(ctx, cluster, task, green, "green")


# --- ACM ------------------------------------------------------------------------------------------


def _rfc3339(value: Any) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(value, datetime) else ""


def _certificate(ctx: SeedContext) -> dict[str, Any]:
    """aws_acm_certificate.main: requested for DOMAIN with DNS validation, recorded from DescribeCertificate."""
    tags = _tags(DOMAIN)
    acm = ctx.client("acm")
    arn = acm.request_certificate(DomainName=DOMAIN, ValidationMethod="DNS", Tags=_aws_tags(tags))["CertificateArn"]
    detail = acm.describe_certificate(CertificateArn=arn)["Certificate"]  # the provider's read after create
    records = [v for v in detail.get("DomainValidationOptions") or [] if v.get("ResourceRecord")]
    preference = (detail.get("Options") or {}).get("CertificateTransparencyLoggingPreference", "ENABLED")
    return ctx.add("aws_acm_certificate", "main", _tagged({
        "arn": arn, "id": arn,
        "certificate_authority_arn": "", "certificate_body": None, "certificate_chain": None,
        "domain_name": DOMAIN, "subject_alternative_names": sorted(detail.get("SubjectAlternativeNames") or []),
        "domain_validation_options": sorted(({
            "domain_name": v["DomainName"], "resource_record_name": v["ResourceRecord"]["Name"],
            "resource_record_type": v["ResourceRecord"]["Type"], "resource_record_value": v["ResourceRecord"]["Value"],
        } for v in records), key=lambda v: v["domain_name"]),
        "early_renewal_duration": "", "key_algorithm": detail.get("KeyAlgorithm", "RSA_2048"),
        "not_after": _rfc3339(detail.get("NotAfter")), "not_before": _rfc3339(detail.get("NotBefore")),
        "options": [{"certificate_transparency_logging_preference": preference}],
        "pending_renewal": False, "renewal_eligibility": detail.get("RenewalEligibility", ""), "renewal_summary": [],
        "status": detail["Status"], "type": detail["Type"],
        "validation_emails": [], "validation_method": "DNS", "validation_option": [],
    }, tags), sensitive_paths=(("private_key",),))


def _certificate_validation(ctx: SeedContext, certificate: dict[str, Any]) -> dict[str, Any]:
    """aws_acm_certificate_validation.main: wait until the certificate is ISSUED; its id is the IssuedAt time.

    The id is formatted by the collector module's helper: it is never compared, so nothing is echoed.
    """
    acm = ctx.client("acm")
    deadline = time.monotonic() + ISSUE_TIMEOUT_SECONDS
    while (detail := acm.describe_certificate(CertificateArn=certificate["arn"])["Certificate"])["Status"] != "ISSUED":
        if detail["Status"] != "PENDING_VALIDATION" or time.monotonic() > deadline:
            raise RuntimeError(f"certificate {certificate['arn']} is {detail['Status']}, not ISSUED: is the "
                               "embedded AWS running with reference_stack_moto()?")
        time.sleep(0.2)
    return ctx.add("aws_acm_certificate_validation", "main", {
        "certificate_arn": detail["CertificateArn"], "id": go_time_string(detail["IssuedAt"]), "timeouts": None,
        "validation_record_fqdns": None,
    }, dependencies=("aws_acm_certificate.main",))


# --- ELBv2 ----------------------------------------------------------------------------------------

_LB_SETTINGS: tuple[tuple[str, str, Any], ...] = (
    # (AWS attribute key, Terraform attribute, value): what the provider sends for this configuration.
    ("deletion_protection.enabled", "enable_deletion_protection", True),
    ("routing.http.drop_invalid_header_fields.enabled", "drop_invalid_header_fields", True),
    ("idle_timeout.timeout_seconds", "idle_timeout", 60),
    ("routing.http2.enabled", "enable_http2", True),
    ("routing.http.desync_mitigation_mode", "desync_mitigation_mode", "defensive"),
    ("routing.http.preserve_host_header.enabled", "preserve_host_header", False),
    ("routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
     "enable_tls_version_and_cipher_suite_headers", False),
    ("routing.http.xff_client_port.enabled", "enable_xff_client_port", False),
    ("routing.http.xff_header_processing.mode", "xff_header_processing_mode", "append"),
    ("waf.fail_open.enabled", "enable_waf_fail_open", False),
    ("client_keep_alive.seconds", "client_keep_alive", 3600),
    ("zonal_shift.config.enabled", "enable_zonal_shift", False),
)


def _alb_log_bucket(ctx: SeedContext) -> dict[str, Any]:
    """aws_s3_bucket.alb_logs and its configurations: SSE-S3, private, writable by the region's ELB account
    under the log prefix only, TLS-only, objects expiring after ALB_LOG_RETENTION_DAYS."""
    if ctx.region not in ELB_ACCOUNTS:
        raise ValueError(f"no Elastic Load Balancing account known for {ctx.region}: add it to ELB_ACCOUNTS")
    bucket = f"{NAME}-alb-logs-{ctx.account_id}"
    delivery = {"Sid": "AllowElbAccessLogDelivery", "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ELB_ACCOUNTS[ctx.region]}:root"}, "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/{ALB_LOG_PREFIX}/AWSLogs/{ctx.account_id}/*"}
    return seed_bucket(ctx, BucketPlan(
        name="alb_logs", bucket=bucket, sse_algorithm="AES256",
        policy_statements=(delivery, deny_insecure_transport(bucket)),
        expiry=ExpiryRule("expire-access-logs", ALB_LOG_RETENTION_DAYS, abort_multipart_days=7)))


def _load_balancer(ctx: SeedContext, logs: dict[str, Any]) -> dict[str, Any]:
    elbv2 = ctx.client("elbv2")
    access_logs = {"bucket": logs["bucket"], "enabled": True, "prefix": ALB_LOG_PREFIX}
    subnets = [ctx.ref(_SUBNET.format(tier="public", az=z))["id"] for z in _ZONES]
    security_group = ctx.ref("aws_security_group.alb")["id"]
    tags = _tags(NAME)
    lb = elbv2.create_load_balancer(Name=NAME, Subnets=subnets, SecurityGroups=[security_group],
                                    Scheme="internet-facing", Type="application", IpAddressType="ipv4",
                                    Tags=_aws_tags(tags))["LoadBalancers"][0]
    arn = lb["LoadBalancerArn"]
    settings = [(key, value) for key, _, value in _LB_SETTINGS]
    settings += [(f"access_logs.s3.{k}", v) for k, v in access_logs.items()]
    answer = {a["Key"]: a["Value"] for a in elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=arn, Attributes=[{"Key": k, "Value": _flag(v)} for k, v in settings])["Attributes"]}
    zones = lb.get("AvailabilityZones") or []
    deps = (*(_SUBNET.format(tier="public", az=z) for z in _ZONES), "aws_security_group.alb",
            "aws_s3_bucket.alb_logs", "aws_s3_bucket_policy.alb_logs", "aws_s3_bucket_public_access_block.alb_logs")
    return ctx.add("aws_lb", "main", _tagged({
        "arn": arn, "id": arn, "arn_suffix": arn.split(":loadbalancer/", 1)[1],
        "name": NAME, "name_prefix": "", "internal": False, "load_balancer_type": "application",
        "ip_address_type": "ipv4", "subnets": sorted(subnets), "security_groups": [security_group],
        "subnet_mapping": [{"allocation_id": "", "ipv6_address": "", "outpost_id": "",
                            "private_ipv4_address": "", "subnet_id": z["SubnetId"]}
                           for z in sorted(zones, key=lambda z: z["SubnetId"])],
        "vpc_id": lb["VpcId"], "dns_name": lb["DNSName"], "zone_id": lb["CanonicalHostedZoneId"],
        "customer_owned_ipv4_pool": "", "dns_record_client_routing_policy": None,
        "enforce_security_group_inbound_rules_on_private_link_traffic": "",
        "enable_cross_zone_load_balancing": answer.get("load_balancing.cross_zone.enabled") == "true",
        **{tf_name: value for _, tf_name, value in _LB_SETTINGS},
        "access_logs": [access_logs],
        "connection_logs": [{"bucket": "", "enabled": False, "prefix": ""}],
        "ipam_pools": [], "minimum_load_balancer_capacity": [], "timeouts": None,
    }, tags), dependencies=deps)


_HEALTH_CHECK = {"enabled": True, "healthy_threshold": 3, "interval": 30, "matcher": "200", "path": "/health",
                 "port": "traffic-port", "protocol": "HTTP", "timeout": 5, "unhealthy_threshold": 3}
_TG_SETTINGS = {"deregistration_delay.timeout_seconds": "30", "slow_start.duration_seconds": "0",
                "load_balancing.algorithm.type": "round_robin",
                "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
                "stickiness.enabled": "false", "stickiness.type": "lb_cookie",
                "stickiness.lb_cookie.duration_seconds": "86400"}


def _target_group(ctx: SeedContext, colour: str) -> dict[str, Any]:
    elbv2 = ctx.client("elbv2")
    name = f"digitallync-{colour}"
    vpc_id = ctx.ref("aws_vpc.main")["id"]
    tags = _tags(name)
    hc = _HEALTH_CHECK
    tg = elbv2.create_target_group(
        Name=name, Protocol="HTTP", ProtocolVersion="HTTP1", Port=APP_PORT, VpcId=vpc_id, TargetType="ip",
        IpAddressType="ipv4", HealthCheckEnabled=hc["enabled"], HealthCheckProtocol=hc["protocol"],
        HealthCheckPort=hc["port"], HealthCheckPath=hc["path"], HealthCheckIntervalSeconds=hc["interval"],
        HealthCheckTimeoutSeconds=hc["timeout"], HealthyThresholdCount=hc["healthy_threshold"],
        UnhealthyThresholdCount=hc["unhealthy_threshold"], Matcher={"HttpCode": hc["matcher"]},
        Tags=_aws_tags(tags))["TargetGroups"][0]
    arn = tg["TargetGroupArn"]
    elbv2.modify_target_group_attributes(TargetGroupArn=arn,
                                         Attributes=[{"Key": k, "Value": v} for k, v in _TG_SETTINGS.items()])
    return ctx.add("aws_lb_target_group", colour, _tagged({
        "arn": arn, "id": arn, "arn_suffix": arn[arn.index("targetgroup/"):],
        "name": name, "name_prefix": "", "port": APP_PORT, "protocol": "HTTP", "protocol_version": "HTTP1",
        "target_type": "ip", "vpc_id": vpc_id, "ip_address_type": "ipv4",
        "health_check": [dict(hc)],
        "deregistration_delay": "30", "slow_start": 0, "load_balancing_algorithm_type": "round_robin",
        "load_balancing_cross_zone_enabled": "use_load_balancer_configuration",
        "load_balancing_anomaly_mitigation": None,
        "stickiness": [{"cookie_duration": 86400, "cookie_name": "", "enabled": False, "type": "lb_cookie"}],
        "connection_termination": None, "lambda_multi_value_headers_enabled": False,
        "preserve_client_ip": None, "proxy_protocol_v2": False, "load_balancer_arns": [],
        "target_failover": [{"on_deregistration": None, "on_unhealthy": None}],
        "target_group_health": [{
            "dns_failover": [{"minimum_healthy_targets_count": None,
                              "minimum_healthy_targets_percentage": None}],
            "unhealthy_state_routing": [{"minimum_healthy_targets_count": None,
                                         "minimum_healthy_targets_percentage": None}],
        }],
        "target_health_state": [{"enable_unhealthy_connection_termination": None,
                                 "unhealthy_draining_interval": None}],
    }, tags), dependencies=("aws_vpc.main",))


_LISTENER_HEADER_FIELDS = (
    "routing_http_request_x_amzn_mtls_clientcert_header_name",
    "routing_http_request_x_amzn_mtls_clientcert_issuer_header_name",
    "routing_http_request_x_amzn_mtls_clientcert_leaf_header_name",
    "routing_http_request_x_amzn_mtls_clientcert_serial_number_header_name",
    "routing_http_request_x_amzn_mtls_clientcert_subject_header_name",
    "routing_http_request_x_amzn_mtls_clientcert_validity_header_name",
    "routing_http_request_x_amzn_tls_cipher_suite_header_name",
    "routing_http_request_x_amzn_tls_version_header_name",
    "routing_http_response_access_control_allow_credentials_header_value",
    "routing_http_response_access_control_allow_headers_header_value",
    "routing_http_response_access_control_allow_methods_header_value",
    "routing_http_response_access_control_allow_origin_header_value",
    "routing_http_response_access_control_expose_headers_header_value",
    "routing_http_response_access_control_max_age_header_value",
    "routing_http_response_content_security_policy_header_value",
    "routing_http_response_server_enabled",
    "routing_http_response_strict_transport_security_header_value",
    "routing_http_response_x_content_type_options_header_value",
    "routing_http_response_x_frame_options_header_value",
)


def _state_action(kind: str, **blocks: Any) -> dict[str, Any]:
    """One default_action element as the provider writes it (every block present, empty if unused)."""
    action: dict[str, Any] = {"authenticate_cognito": [], "authenticate_oidc": [], "fixed_response": [],
                              "forward": [], "order": 1, "redirect": [], "target_group_arn": "", "type": kind}
    action.update(blocks)
    return action


def _listener(ctx: SeedContext, name: str, lb: dict[str, Any], port: int, protocol: str,
              actions: list[dict[str, Any]], state_action: dict[str, Any], deps: tuple[str, ...],
              **extra: Any) -> dict[str, Any]:
    tags = _tags(f"{NAME}-{name}")
    listener = ctx.client("elbv2").create_listener(LoadBalancerArn=lb["arn"], Port=port, Protocol=protocol,
                                                   DefaultActions=actions, Tags=_aws_tags(tags),
                                                   **extra)["Listeners"][0]
    arn = listener["ListenerArn"]
    certificates = listener.get("Certificates") or []
    return ctx.add("aws_lb_listener", name, _tagged({
        "arn": arn, "id": arn, "load_balancer_arn": lb["arn"], "port": port, "protocol": protocol,
        "ssl_policy": listener.get("SslPolicy", ""),
        "certificate_arn": certificates[0]["CertificateArn"] if certificates else None,
        "alpn_policy": None, "default_action": [state_action], "mutual_authentication": [],
        "tcp_idle_timeout_seconds": None, "timeouts": None,
        **dict.fromkeys(_LISTENER_HEADER_FIELDS),
    }, tags), dependencies=("aws_lb.main", *deps))


def _https_listener(ctx: SeedContext, lb: dict[str, Any], validation: dict[str, Any], blue: dict[str, Any],
                    green: dict[str, Any]) -> dict[str, Any]:
    """The HTTPS listener; its certificate comes from the validation, so it never serves a pending one."""
    weights = ((blue["arn"], 100), (green["arn"], 0))
    actions = [{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in weights],
        "TargetGroupStickinessConfig": {"Enabled": False}}}]
    state_action = _state_action("forward", forward=[{
        "stickiness": [{"duration": 0, "enabled": False}],
        "target_group": [{"arn": arn, "weight": weight} for arn, weight in weights],
    }])
    return _listener(ctx, "https", lb, 443, "HTTPS", actions, state_action,
                     ("aws_acm_certificate.main", "aws_acm_certificate_validation.main",
                      "aws_lb_target_group.blue", "aws_lb_target_group.green"),
                     SslPolicy=HTTPS_POLICY, Certificates=[{"CertificateArn": validation["certificate_arn"]}])


def _redirect_listener(ctx: SeedContext, lb: dict[str, Any]) -> dict[str, Any]:
    redirect = {"host": "#{host}", "path": "/#{path}", "port": "443", "protocol": "HTTPS",
                "query": "#{query}", "status_code": "HTTP_301"}
    actions = [{"Type": "redirect", "RedirectConfig": {
        "Host": redirect["host"], "Path": redirect["path"], "Port": redirect["port"],
        "Protocol": redirect["protocol"], "Query": redirect["query"], "StatusCode": redirect["status_code"]}}]
    return _listener(ctx, "http_redirect", lb, 80, "HTTP", actions,
                     _state_action("redirect", redirect=[redirect]), ())


def _block_internal_rule(ctx: SeedContext, listener: dict[str, Any]) -> dict[str, Any]:
    """/internal/* answered 404 at the load balancer (a fixed response: no forward a deployer owns)."""
    body = {"content_type": "text/plain", "message_body": "Not found", "status_code": "404"}
    paths = ["/internal/*"]
    rule = ctx.client("elbv2").create_rule(
        ListenerArn=listener["arn"], Priority=10,
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
            "ContentType": body["content_type"], "MessageBody": body["message_body"],
            "StatusCode": body["status_code"]}}],
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": paths}}])["Rules"][0]
    arn = rule["RuleArn"]
    return ctx.add("aws_lb_listener_rule", "block_internal", _tagged({
        "arn": arn, "id": arn, "listener_arn": listener["arn"], "priority": 10,
        "action": [_state_action("fixed-response", fixed_response=[body])],
        "condition": [{"host_header": [], "http_header": [], "http_request_method": [],
                       "path_pattern": [{"values": paths}], "query_string": [], "source_ip": []}],
    }, {}), dependencies=("aws_lb_listener.https",))


def _repository_policy(ctx: SeedContext) -> dict[str, Any]:
    """Only the account's ECS execution role pulls the service image."""
    repository = ctx.ref("aws_ecr_repository.app")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "EcsExecutionPull", "Effect": "Allow",
        "Principal": {"AWS": ctx.ref("aws_iam_role.ecs_execution_role")["arn"]},
        "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "Condition": {"StringEquals": {"aws:PrincipalAccount": ctx.account_id}}}]})
    answer = ctx.client("ecr").set_repository_policy(repositoryName=repository["name"], policyText=policy)
    return ctx.add("aws_ecr_repository_policy", "app", {
        "id": repository["name"], "repository": repository["name"], "registry_id": answer["registryId"],
        "policy": policy,
    }, dependencies=("aws_ecr_repository.app", "aws_iam_role.ecs_execution_role"))


def _app_errors_filter(ctx: SeedContext) -> dict[str, Any]:
    """The application's error lines in its log group, as the AppErrors metric."""
    group = ctx.ref("aws_cloudwatch_log_group.app")["name"]
    name, pattern = f"{NAME}-app-errors", '{ $.level = "error" }'
    transformation = {"name": "AppErrors", "namespace": "DigitalLync/Core", "value": "1", "default_value": "0"}
    ctx.client("logs").put_metric_filter(
        logGroupName=group, filterName=name, filterPattern=pattern, metricTransformations=[{
            "metricName": transformation["name"], "metricNamespace": transformation["namespace"],
            "metricValue": transformation["value"], "defaultValue": float(transformation["default_value"])}])
    return ctx.add("aws_cloudwatch_log_metric_filter", "app_errors", {
        "id": name, "name": name, "log_group_name": group, "pattern": pattern,
        "metric_transformation": [{**transformation, "unit": "", "dimensions": {}}],
    }, dependencies=("aws_cloudwatch_log_group.app",))


ARCHIVE_RETENTION_SECONDS = 14 * 24 * 3600


def _alarm_archive(ctx: SeedContext) -> None:
    """A queue keeping every alarm notification 14 days (SSE-SQS), writable by the alarm topic only (an inline
    policy: a separate aws_sqs_queue_policy makes Terraform's refresh report the queue's policy), subscribed."""
    name, topic = f"{NAME}-alarm-archive", ctx.ref("aws_sns_topic.alarms")["arn"]
    arn = f"arn:aws:sqs:{ctx.region}:{ctx.account_id}:{name}"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AlarmTopicDelivers", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})
    # what the provider sends on create: every argument, its defaults included
    url = ctx.client("sqs").create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": "30", "SqsManagedSseEnabled": "true", "MaximumMessageSize": "262144",
        "KmsDataKeyReusePeriodSeconds": "300", "MessageRetentionPeriod": str(ARCHIVE_RETENTION_SECONDS),
        "DelaySeconds": "0", "ReceiveMessageWaitTimeSeconds": "0", "Policy": policy})["QueueUrl"]
    ctx.add("aws_sqs_queue", "alarm_archive", {
        "id": url, "url": url, "name": name, "name_prefix": "", "arn": arn, "content_based_deduplication": False,
        "deduplication_scope": "", "delay_seconds": 0, "fifo_queue": False, "fifo_throughput_limit": "",
        "kms_data_key_reuse_period_seconds": 300, "kms_master_key_id": "", "max_message_size": 262144,
        "message_retention_seconds": ARCHIVE_RETENTION_SECONDS, "policy": policy, "receive_wait_time_seconds": 0,
        "redrive_allow_policy": "", "redrive_policy": "", "sqs_managed_sse_enabled": True,
        "visibility_timeout_seconds": 30, "tags": {}, "tags_all": {}, "timeouts": None,
    }, dependencies=("aws_sns_topic.alarms",))
    sns = ctx.client("sns")
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True,
                                 Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    answer = sns.get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]
    ctx.add("aws_sns_topic_subscription", "alarm_archive", {
        "id": subscription, "arn": subscription, "topic_arn": topic, "protocol": "sqs", "endpoint": arn,
        "raw_message_delivery": True, "owner_id": answer.get("Owner", ctx.account_id),
        **{attr: answer.get(key, "") for attr, key in SUBSCRIPTION_TEXT.items()},
        "confirmation_timeout_in_minutes": 1, "endpoint_auto_confirms": False, "pending_confirmation": False,
        "confirmation_was_authenticated": str(answer.get("ConfirmationWasAuthenticated", "")).lower() == "true",
    }, dependencies=("aws_sns_topic.alarms", "aws_sqs_queue.alarm_archive"))


# --- ECS ------------------------------------------------------------------------------------------


def _cluster(ctx: SeedContext) -> dict[str, Any]:
    name = "digitallync"
    settings = [{"name": "containerInsights", "value": "enabled"}]
    tags = _tags(name)
    cluster = ctx.client("ecs").create_cluster(clusterName=name, settings=settings,
                                               tags=_aws_tags(tags, "key", "value"))["cluster"]
    arn = cluster["clusterArn"]
    return ctx.add("aws_ecs_cluster", "main", _tagged({
        "arn": arn, "id": arn, "name": name, "setting": settings,
        "configuration": [], "service_connect_defaults": [],
    }, tags))


def _task_definition(ctx: SeedContext) -> dict[str, Any]:
    repository_url = ctx.ref("aws_ecr_repository.app")["repository_url"]
    log_group = ctx.ref("aws_cloudwatch_log_group.app")["name"]
    execution_role = ctx.ref("aws_iam_role.ecs_execution_role")["arn"]
    task_role = ctx.ref("aws_iam_role.ecs_task_role")["arn"]
    container = {
        "name": CONTAINER,
        "image": f"{repository_url}@sha256:{IMAGE_DIGEST}",
        "essential": True,
        "portMappings": [{"containerPort": APP_PORT, "hostPort": APP_PORT, "protocol": "tcp"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": log_group, "awslogs-region": ctx.region, "awslogs-stream-prefix": "web"}},
        "readonlyRootFilesystem": True,
        "privileged": False,
    }
    tags = _tags(NAME)
    task = ctx.client("ecs").register_task_definition(
        family=NAME, containerDefinitions=[container], networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"], cpu="256", memory="512", executionRoleArn=execution_role,
        taskRoleArn=task_role, tags=_aws_tags(tags, "key", "value"))["taskDefinition"]
    arn = task["taskDefinitionArn"]
    # As the provider's read writes it: AWS adds these empty lists to every container.
    stored = {**container, "environment": [], "mountPoints": [], "volumesFrom": []}
    return ctx.add("aws_ecs_task_definition", "web_app", _tagged({
        "arn": arn, "arn_without_revision": arn.rsplit(":", 1)[0], "id": NAME, "family": NAME,
        "revision": task["revision"],
        "container_definitions": json.dumps([stored], sort_keys=True, separators=(",", ":")),
        "cpu": "256", "memory": "512", "network_mode": "awsvpc", "requires_compatibilities": ["FARGATE"],
        "execution_role_arn": execution_role, "task_role_arn": task_role,
        "ipc_mode": "", "pid_mode": "", "enable_fault_injection": False, "skip_destroy": False,
        "track_latest": False, "ephemeral_storage": [], "inference_accelerator": [],
        "placement_constraints": [], "proxy_configuration": [], "runtime_platform": [], "volume": [],
    }, tags), schema_version=1, dependencies=(
        "aws_ecr_repository.app", "aws_cloudwatch_log_group.app", "aws_iam_role.ecs_execution_role",
        "aws_iam_role.ecs_task_role"))


SERVICES = {"blue": ("web_app", NAME, 2), "green": ("web_app_green", f"{NAME}-green", 0)}
"""colour -> (Terraform name, service name, desired count) of terraform/stack's two services."""


def _service(ctx: SeedContext, cluster: dict[str, Any], task: dict[str, Any], target_group: dict[str, Any],
             colour: str) -> dict[str, Any]:
    """One colour's service, registered with its target group; both run the stack's one task definition."""
    tf_name, name, desired = SERVICES[colour]
    subnets = sorted(ctx.ref(_SUBNET.format(tier="private", az=z))["id"] for z in _ZONES)
    security_group = ctx.ref("aws_security_group.service")["id"]
    tags = _tags(name)
    load_balancer = {"target_group_arn": target_group["arn"], "container_name": CONTAINER,
                     "container_port": APP_PORT}
    service = ctx.client("ecs").create_service(
        cluster=cluster["arn"], serviceName=name, taskDefinition=task["arn"], desiredCount=desired,
        launchType="FARGATE", schedulingStrategy="REPLICA", deploymentController={"type": "ECS"},
        networkConfiguration={"awsvpcConfiguration": {
            "subnets": subnets, "securityGroups": [security_group], "assignPublicIp": "DISABLED"}},
        loadBalancers=[{"targetGroupArn": load_balancer["target_group_arn"], "containerName": CONTAINER,
                        "containerPort": APP_PORT}],
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                 "maximumPercent": 200, "minimumHealthyPercent": 100},
        healthCheckGracePeriodSeconds=60, enableECSManagedTags=False, enableExecuteCommand=False,
        tags=_aws_tags(tags, "key", "value"))["service"]
    deps = (*(_SUBNET.format(tier="private", az=z) for z in _ZONES), "aws_security_group.service",
            "aws_ecs_cluster.main", "aws_ecs_task_definition.web_app", f"aws_lb_target_group.{colour}",
            "aws_lb_listener.https")
    return ctx.add("aws_ecs_service", tf_name, _tagged({
        "id": service["serviceArn"], "name": name, "cluster": cluster["arn"], "task_definition": task["arn"],
        "desired_count": desired, "launch_type": "FARGATE", "platform_version": service.get("platformVersion", ""),
        "scheduling_strategy": "REPLICA", "propagate_tags": service.get("propagateTags", "NONE"),
        "enable_ecs_managed_tags": False, "enable_execute_command": False,
        "health_check_grace_period_seconds": 60,
        "deployment_maximum_percent": 200, "deployment_minimum_healthy_percent": 100,
        "deployment_circuit_breaker": [{"enable": True, "rollback": True}],
        "deployment_controller": [{"type": "ECS"}],
        "network_configuration": [{"subnets": subnets, "security_groups": [security_group],
                                   "assign_public_ip": False}],
        "load_balancer": [{**load_balancer, "elb_name": ""}],
        "alarms": [], "availability_zone_rebalancing": service.get("availabilityZoneRebalancing", ""),
        "capacity_provider_strategy": [], "ordered_placement_strategy": [], "placement_constraints": [],
        "service_connect_configuration": [], "service_registries": [], "volume_configuration": [],
        "vpc_lattice_configurations": [], "iam_role": service.get("roleArn"),
        "force_delete": None, "force_new_deployment": None, "wait_for_steady_state": False, "triggers": {},
        "timeouts": None,
    }, tags), schema_version=1, dependencies=deps)
