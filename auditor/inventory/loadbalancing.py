"""The edge: ELBv2 load balancers, listeners and target groups, and ACM certificates.

Calls per region: DescribeLoadBalancers (paginated) once; DescribeLoadBalancerAttributes per load
balancer (no batch form; live rules read these attributes on unmanaged load balancers too);
DescribeListeners (paginated) per load balancer; DescribeTargetGroups (paginated) once;
DescribeTargetGroupAttributes only for target groups a state holds; DescribeTags once per 20 ARNs
of all three kinds together (one shared pass). ACM: ListCertificates (paginated, every key type)
once, then DescribeCertificate + ListTagsForCertificate only for certificates a state holds (the
DescribeCertificate answer is shared with aws_acm_certificate_validation).

Attributes read from DescribeLoadBalancerAttributes / DescribeTargetGroupAttributes follow the
provider's read: a key AWS leaves out of its answer (moto answers only what was set) sets nothing,
so the attribute is absent from the live resource and listed in `optional_live`; the provider
keeps its state value in that case too. The log blocks (`access_logs`, `connection_logs`) are
built, as the provider builds them, from whichever of their keys are present.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import botocore.exceptions

from auditor.aws import error_code
from auditor.catalog import StateView, TypeSpec
from auditor.inventory.base import CollectContext, chunks, collector, paginate, tags_dict
from auditor.models import Resource

Attr = tuple[str, str, Callable[[str], Any]]
"""(AWS attribute key, Terraform attribute, converter of the AWS string value)."""


def _bool(value: str) -> bool:
    return value.strip().lower() == "true"


def _key_values(attributes: Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    """ELBv2 [{Key, Value}] attribute lists as a plain dict."""
    return {str(a["Key"]): str(a.get("Value", "")) for a in attributes or []}


def _mapped(table: Sequence[Attr], answer: Mapping[str, str]) -> dict[str, Any]:
    """The Terraform attributes of `table` whose AWS key is present in `answer`."""
    return {tf_name: convert(answer[key]) for key, tf_name, convert in table if key in answer}


def _log_block(answer: Mapping[str, str], prefix: str) -> list[dict[str, Any]] | None:
    """`access_logs` / `connection_logs` from `<prefix>.s3.{enabled,bucket,prefix}`; None if none present."""
    keys = {f"{prefix}.s3.{k}" for k in ("enabled", "bucket", "prefix")}
    if not keys & answer.keys():
        return None
    return [{
        "bucket": answer.get(f"{prefix}.s3.bucket", ""),
        "enabled": _bool(answer.get(f"{prefix}.s3.enabled", "false")),
        "prefix": answer.get(f"{prefix}.s3.prefix", ""),
    }]


# --- shared ELBv2 reads (one per region, whichever collector asks first) -------------------------


def _load_balancers(ctx: CollectContext) -> list[dict[str, Any]]:
    return ctx.shared("elbv2.load_balancers", lambda: list(
        paginate(ctx.client("elbv2"), "describe_load_balancers", "LoadBalancers")))


def _listeners(ctx: CollectContext) -> list[dict[str, Any]]:
    def fetch() -> list[dict[str, Any]]:
        elbv2 = ctx.client("elbv2")
        return [listener for lb in _load_balancers(ctx)
                for listener in paginate(elbv2, "describe_listeners", "Listeners",
                                         LoadBalancerArn=lb["LoadBalancerArn"])]

    return ctx.shared("elbv2.listeners", fetch)


def _target_groups(ctx: CollectContext) -> list[dict[str, Any]]:
    return ctx.shared("elbv2.target_groups", lambda: list(
        paginate(ctx.client("elbv2"), "describe_target_groups", "TargetGroups")))


def _elb_tags(ctx: CollectContext) -> dict[str, dict[str, str]]:
    """Tags of every load balancer, listener and target group by ARN (DescribeTags takes 20 ARNs)."""

    def fetch() -> dict[str, dict[str, str]]:
        arns = ([lb["LoadBalancerArn"] for lb in _load_balancers(ctx)]
                + [listener["ListenerArn"] for listener in _listeners(ctx)]
                + [tg["TargetGroupArn"] for tg in _target_groups(ctx)])
        elbv2 = ctx.client("elbv2")
        answers = ctx.each(lambda batch: elbv2.describe_tags(ResourceArns=batch), list(chunks(arns, 20)))
        return {desc["ResourceArn"]: tags_dict(desc.get("Tags"))
                for answer in answers for desc in answer.get("TagDescriptions", [])}

    return ctx.shared("elbv2.tags", fetch)


_ELBV2_TAGS = ("DescribeTags takes 20 ARNs a call, in one pass for load balancers, listeners and target groups "
               "(listener rules: those a state holds), so it costs about one call per 20 resources; moto's "
               "GetResources lists load balancers and target groups but not listeners or listener rules, and the "
               "conformance suite applies real Terraform on moto")

# --- aws_lb ---------------------------------------------------------------------------------------

LB_ATTRIBUTES: tuple[Attr, ...] = (
    ("client_keep_alive.seconds", "client_keep_alive", int),
    ("routing.http.desync_mitigation_mode", "desync_mitigation_mode", str),
    ("dns_record.client_routing_policy", "dns_record_client_routing_policy", str),
    ("routing.http.drop_invalid_header_fields.enabled", "drop_invalid_header_fields", _bool),
    ("load_balancing.cross_zone.enabled", "enable_cross_zone_load_balancing", _bool),
    ("deletion_protection.enabled", "enable_deletion_protection", _bool),
    ("routing.http2.enabled", "enable_http2", _bool),
    ("routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
     "enable_tls_version_and_cipher_suite_headers", _bool),
    ("waf.fail_open.enabled", "enable_waf_fail_open", _bool),
    ("routing.http.xff_client_port.enabled", "enable_xff_client_port", _bool),
    ("zonal_shift.config.enabled", "enable_zonal_shift", _bool),
    ("idle_timeout.timeout_seconds", "idle_timeout", int),
    ("routing.http.preserve_host_header.enabled", "preserve_host_header", _bool),
    ("routing.http.xff_header_processing.mode", "xff_header_processing_mode", str),
)
_LB_ATTRIBUTE_NAMES = tuple(tf_name for _, tf_name, _ in LB_ATTRIBUTES)

LOAD_BALANCER = TypeSpec(
    type="aws_lb",
    tags_per_resource=_ELBV2_TAGS,
    calls=("DescribeLoadBalancers", "DescribeLoadBalancerAttributes", "DescribeListeners", "DescribeTargetGroups",
           "DescribeTags"),
    service="elbv2",
    compared=("name", "internal", "load_balancer_type", "subnets", "subnet_mapping", "security_groups",
              "ip_address_type", "customer_owned_ipv4_pool",
              "enforce_security_group_inbound_rules_on_private_link_traffic", "ipam_pools",
              "access_logs", "connection_logs", *_LB_ATTRIBUTE_NAMES),
    set_paths=("subnets", "subnet_mapping", "security_groups"),
    optional_live=("access_logs", "connection_logs", *_LB_ATTRIBUTE_NAMES),
    tags=True,
    ignored={
        "arn": "the import id", "id": "the import id",
        "arn_suffix": "derived from the ARN", "dns_name": "computed by AWS", "zone_id": "computed by AWS",
        "vpc_id": "computed from the subnets",
        "name_prefix": "provider-only: expanded into name",
        "minimum_load_balancer_capacity": "needs DescribeCapacityReservation, one call per load balancer",
        "timeouts": "provider-only",
    },
    notes="DescribeLoadBalancerAttributes is called for every load balancer (live rules read them); "
          "an attribute key missing from its answer leaves the attribute out (optional_live), as the "
          "provider's read leaves its state value alone.",
)


def lb_attributes(lb: Mapping[str, Any], answer: Mapping[str, str],
                  tags: Mapping[str, str]) -> dict[str, Any]:
    """A DescribeLoadBalancers entry plus its attributes ({key: value}) in aws_lb state shape."""
    arn = lb["LoadBalancerArn"]
    zones = lb.get("AvailabilityZones") or []
    attrs: dict[str, Any] = {
        "id": arn,
        "arn": arn,
        "arn_suffix": arn.split(":loadbalancer/", 1)[-1],
        "name": lb.get("LoadBalancerName", ""),
        "internal": lb.get("Scheme") == "internal",
        "load_balancer_type": lb.get("Type", ""),
        "ip_address_type": lb.get("IpAddressType", ""),
        "subnets": sorted(z["SubnetId"] for z in zones if z.get("SubnetId")),
        "subnet_mapping": [_subnet_mapping(z) for z in zones if z.get("SubnetId")],
        "security_groups": sorted(lb.get("SecurityGroups") or []),
        "customer_owned_ipv4_pool": lb.get("CustomerOwnedIpv4Pool", ""),
        "enforce_security_group_inbound_rules_on_private_link_traffic":
            lb.get("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic", ""),
        "ipam_pools": ([{"ipv4_ipam_pool_id": lb["IpamPools"]["Ipv4IpamPoolId"]}]
                       if (lb.get("IpamPools") or {}).get("Ipv4IpamPoolId") else []),
        "vpc_id": lb.get("VpcId", ""),
        "dns_name": lb.get("DNSName", ""),
        "zone_id": lb.get("CanonicalHostedZoneId", ""),
        **_mapped(LB_ATTRIBUTES, answer),
    }
    for block in ("access_logs", "connection_logs"):
        logs = _log_block(answer, block)
        if logs is not None:
            attrs[block] = logs
    return {**attrs, "tags": dict(tags), "tags_all": dict(tags)}


def _subnet_mapping(zone: Mapping[str, Any]) -> dict[str, Any]:
    address = (zone.get("LoadBalancerAddresses") or [{}])[0]
    return {
        "subnet_id": zone["SubnetId"],
        "outpost_id": zone.get("OutpostId", ""),
        "allocation_id": address.get("AllocationId", ""),
        "ipv6_address": address.get("IPv6Address", ""),
        "private_ipv4_address": address.get("PrivateIPv4Address", ""),
    }


@collector(LOAD_BALANCER)
def collect_load_balancers(ctx: CollectContext) -> Iterator[Resource]:
    elbv2 = ctx.client("elbv2")
    balancers = list(_load_balancers(ctx))
    answers = ctx.each(lambda arn: _key_values(elbv2.describe_load_balancer_attributes(
        LoadBalancerArn=arn).get("Attributes")), [lb["LoadBalancerArn"] for lb in balancers])
    tags = _elb_tags(ctx)  # after the per-balancer calls: another type's job may be reading them meanwhile
    for lb, answer in zip(balancers, answers, strict=True):
        arn = lb["LoadBalancerArn"]
        yield ctx.resource(LOAD_BALANCER, arn, lb_attributes(lb, answer, tags.get(arn, {})))


# --- aws_lb_listener ------------------------------------------------------------------------------

_EMPTY_ACTION_BLOCKS = ("authenticate_cognito", "authenticate_oidc", "fixed_response", "forward", "redirect")


def _action(action: Mapping[str, Any], position: int) -> dict[str, Any]:
    """One ELBv2 action in the provider's default_action shape.

    A forward to a single target group (AWS then fills both `TargetGroupArn` and `ForwardConfig`)
    is written as `target_group_arn`, weighted forwards as a `forward` block: the two forms the
    provider stores for the usual configurations (`normalize_actions` equates every form).
    """
    out: dict[str, Any] = {
        "type": action.get("Type", ""),
        "order": action.get("Order", position + 1),
        "target_group_arn": "",
        **{block: [] for block in _EMPTY_ACTION_BLOCKS},
    }
    kind = out["type"]
    if kind == "forward":
        config = action.get("ForwardConfig") or {}
        sticky = config.get("TargetGroupStickinessConfig")
        if action.get("TargetGroupArn") and not (sticky and sticky.get("Enabled")):
            out["target_group_arn"] = action["TargetGroupArn"]
        else:
            out["forward"] = [{
                "target_group": sorted(({"arn": tg["TargetGroupArn"], "weight": tg.get("Weight", 1)}
                                        for tg in config.get("TargetGroups") or []), key=lambda t: t["arn"]),
                "stickiness": ([{"enabled": bool(sticky.get("Enabled")),
                                 "duration": sticky.get("DurationSeconds", 0)}] if sticky else []),
            }]
    elif kind == "redirect":
        config = action.get("RedirectConfig") or {}
        out["redirect"] = [{"host": config.get("Host", ""), "path": config.get("Path", ""),
                            "port": config.get("Port", ""), "protocol": config.get("Protocol", ""),
                            "query": config.get("Query", ""), "status_code": config.get("StatusCode", "")}]
    elif kind == "fixed-response":
        config = action.get("FixedResponseConfig") or {}
        out["fixed_response"] = [{"content_type": config.get("ContentType", ""),
                                  "message_body": config.get("MessageBody", ""),
                                  "status_code": config.get("StatusCode", "")}]
    elif kind == "authenticate-cognito":
        config = action.get("AuthenticateCognitoConfig") or {}
        out["authenticate_cognito"] = [{
            **_auth_common(config),
            "user_pool_arn": config.get("UserPoolArn", ""),
            "user_pool_client_id": config.get("UserPoolClientId", ""),
            "user_pool_domain": config.get("UserPoolDomain", ""),
        }]
    elif kind == "authenticate-oidc":
        config = action.get("AuthenticateOidcConfig") or {}
        out["authenticate_oidc"] = [{
            **_auth_common(config),
            "authorization_endpoint": config.get("AuthorizationEndpoint", ""),
            "client_id": config.get("ClientId", ""),
            "issuer": config.get("Issuer", ""),
            "token_endpoint": config.get("TokenEndpoint", ""),
            "user_info_endpoint": config.get("UserInfoEndpoint", ""),
        }]
    return out


def _auth_common(config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "authentication_request_extra_params": dict(config.get("AuthenticationRequestExtraParams") or {}),
        "on_unauthenticated_request": config.get("OnUnauthenticatedRequest", ""),
        "scope": config.get("Scope", ""),
        "session_cookie_name": config.get("SessionCookieName", ""),
        "session_timeout": config.get("SessionTimeout", 0),
    }


def actions_attribute(actions: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """ELBv2 DefaultActions -> the provider's `default_action` list, in `order`."""
    converted = [_action(a, i) for i, a in enumerate(actions or [])]
    return sorted(converted, key=lambda a: a["order"])


def normalize_actions(value: Any) -> Any:
    """Equate the forms the provider stores for the same listener actions (applied to both sides).

    A forward to one target group without stickiness becomes `target_group_arn` alone, whether the
    state wrote it as `target_group_arn`, a one-group `forward` block or both (import); otherwise a
    `forward` block with its groups sorted and disabled stickiness dropped. AWS never returns an
    OIDC client secret, so `authenticate_oidc.client_secret` is dropped. Idempotent.
    """
    if not isinstance(value, list):
        return value
    return [_normalize_action(a) if isinstance(a, Mapping) else a for a in value]


def _normalize_action(action: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(action)
    if out.get("authenticate_oidc"):
        out["authenticate_oidc"] = [{k: v for k, v in block.items() if k != "client_secret"}
                                    for block in out["authenticate_oidc"]]
    if out.get("type") != "forward":
        return out
    forward = (out.get("forward") or [{}])[0] or {}
    groups = [{"arn": g.get("arn"), "weight": g.get("weight", 1)} for g in forward.get("target_group") or []]
    if not groups and out.get("target_group_arn"):
        groups = [{"arn": out["target_group_arn"], "weight": 1}]
    sticky = [s for s in forward.get("stickiness") or [] if s and s.get("enabled")]
    if len(groups) == 1 and not sticky:
        out["target_group_arn"], out["forward"] = groups[0]["arn"], []
    else:
        out["target_group_arn"] = ""
        out["forward"] = [{"target_group": sorted(groups, key=lambda g: str(g["arn"])), "stickiness": sticky}]
    return out


def _mutual_authentication(config: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not config:
        return []
    if config.get("Mode") == "off":
        return [{"mode": "off"}]
    block: dict[str, Any] = {"advertise_trust_store_ca_names": config.get("AdvertiseTrustStoreCaNames", "")}
    for key, name in (("IgnoreClientCertificateExpiry", "ignore_client_certificate_expiry"),
                      ("Mode", "mode"), ("TrustStoreArn", "trust_store_arn")):
        if key in config:
            block[name] = config[key]
    return [block]


# --- deployer-owned forwards ----------------------------------------------------------------------

_DEPLOYER_CONTROLLERS = frozenset({"CODE_DEPLOY", "EXTERNAL"})


def _forwarded_groups(actions: Any) -> set[str]:
    """Every target group ARN the forward actions of an action list name, in any provider form."""
    out: set[str] = set()
    for action in actions or []:
        if not isinstance(action, Mapping) or action.get("type") != "forward":
            continue
        if action.get("target_group_arn"):
            out.add(str(action["target_group_arn"]))
        for forward in action.get("forward") or []:
            out.update(str(g.get("arn")) for g in (forward or {}).get("target_group") or [] if g.get("arn"))
    return out


def deployer_of(res: Resource, view: StateView) -> str | None:
    """Who rewrites this listener's (or listener rule's) forwards on every deployment, if anyone:
    CodeDeploy when a deployment group's traffic routes name the listener; the ECS service's own
    deployment controller (CODE_DEPLOY or EXTERNAL) when the service's target group is forwarded to."""
    listener = str(res.attributes.get("listener_arn") or res.attributes.get("arn") or res.id)
    for group in view.get("aws_codedeploy_deployment_group", ()):
        for info in group.attributes.get("load_balancer_info") or []:
            for pair in (info or {}).get("target_group_pair_info") or []:
                routes = [*(pair.get("prod_traffic_route") or []), *(pair.get("test_traffic_route") or [])]
                if any(listener in (route or {}).get("listener_arns", []) for route in routes):
                    return f"CodeDeploy deployment group {group.address or group.id}"
    forwarded = _forwarded_groups(res.attributes.get("default_action") or res.attributes.get("action"))
    for service in view.get("aws_ecs_service", ()):
        controller = (service.attributes.get("deployment_controller") or [{}])[0] or {}
        groups = {str(lb.get("target_group_arn")) for lb in service.attributes.get("load_balancer") or []}
        if controller.get("type") in _DEPLOYER_CONTROLLERS and groups & forwarded:
            return f"the {controller['type']} deployment controller of {service.address or service.id}"
    return None


def without_forward_targets(value: Any) -> Any:
    """Actions with the deployer's part of each forward dropped (which target groups, what weights):
    a blue/green or canary deployer swaps and reweighs them on every deployment. Idempotent."""
    normalized = normalize_actions(value)
    if not isinstance(normalized, list):
        return normalized
    return [{**a, "target_group_arn": "", "forward": []} if isinstance(a, Mapping) and a.get("type") == "forward"
            else a for a in normalized]


def _owned_forwards(attribute: str) -> Callable[[Resource, StateView], Mapping[str, Callable[[Any], Any]]]:
    def owned(res: Resource, view: StateView) -> Mapping[str, Callable[[Any], Any]]:
        return {attribute: without_forward_targets} if deployer_of(res, view) else {}

    return owned


_LISTENER_ATTRIBUTE_FIELDS = (
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
    "tcp_idle_timeout_seconds",
)

LISTENER = TypeSpec(
    type="aws_lb_listener",
    tags_per_resource=_ELBV2_TAGS,
    calls=("DescribeLoadBalancers", "DescribeListeners", "DescribeTargetGroups", "DescribeTags"),
    service="elbv2",
    compared=("load_balancer_arn", "port", "protocol", "ssl_policy", "certificate_arn", "alpn_policy",
              "default_action", "mutual_authentication"),
    set_paths=("default_action.*.forward.*.target_group",),
    normalizers={"default_action": normalize_actions},
    tags=True,
    deployer_owned=_owned_forwards("default_action"),
    ignored={
        "arn": "the import id", "id": "the import id", "timeouts": "provider-only",
        **{name: "needs DescribeListenerAttributes, one more call per listener"
           for name in _LISTENER_ATTRIBUTE_FIELDS},
    },
    notes="`default_action` forwards are compared through normalize_actions: the provider stores a "
          "single-group forward as target_group_arn, as a forward block or both, depending on config. Where a "
          "deployer owns the listener (a CodeDeploy deployment group routes through it, or an ECS service "
          "with a CODE_DEPLOY or EXTERNAL controller is forwarded to), which target groups it forwards to "
          "and with what weights are the deployer's: not compared (deployer_of).",
)


def listener_attributes(listener: Mapping[str, Any], tags: Mapping[str, str]) -> dict[str, Any]:
    """A DescribeListeners entry in aws_lb_listener state shape."""
    arn = listener["ListenerArn"]
    certificates = listener.get("Certificates") or []
    alpn = listener.get("AlpnPolicy") or []
    attrs: dict[str, Any] = {
        "id": arn,
        "arn": arn,
        "load_balancer_arn": listener.get("LoadBalancerArn", ""),
        "port": listener.get("Port"),
        "protocol": listener.get("Protocol", ""),
        "ssl_policy": listener.get("SslPolicy", ""),
        "certificate_arn": certificates[0].get("CertificateArn") if certificates else None,
        "alpn_policy": alpn[0] if len(alpn) == 1 else None,
        "default_action": actions_attribute(listener.get("DefaultActions")),
        "mutual_authentication": _mutual_authentication(listener.get("MutualAuthentication")),
    }
    return {**attrs, "tags": dict(tags), "tags_all": dict(tags)}


@collector(LISTENER)
def collect_listeners(ctx: CollectContext) -> Iterator[Resource]:
    tags = _elb_tags(ctx)
    for listener in _listeners(ctx):
        arn = listener["ListenerArn"]
        yield ctx.resource(LISTENER, arn, listener_attributes(listener, tags.get(arn, {})))


# --- aws_lb_listener_rule -------------------------------------------------------------------------

_CONDITION_FIELDS = (("HostHeaderConfig", "host_header"), ("PathPatternConfig", "path_pattern"),
                     ("HttpRequestMethodConfig", "http_request_method"), ("SourceIpConfig", "source_ip"))


def _condition(condition: Mapping[str, Any]) -> dict[str, Any]:
    """One DescribeRules condition in the provider's `condition` block shape (the *Config form)."""
    out: dict[str, Any] = {name: [] for _, name in _CONDITION_FIELDS}
    out.update(http_header=[], query_string=[])
    for key, name in _CONDITION_FIELDS:
        if condition.get(key):
            out[name] = [{"values": sorted(condition[key].get("Values") or [])}]
    field_name = condition.get("Field")
    if not any(out.values()) and field_name in {"host-header", "path-pattern", "http-request-method", "source-ip"}:
        out[field_name.replace("-", "_")] = [{"values": sorted(condition.get("Values") or [])}]
    if condition.get("HttpHeaderConfig"):
        header = condition["HttpHeaderConfig"]
        out["http_header"] = [{"http_header_name": header.get("HttpHeaderName", ""),
                               "values": sorted(header.get("Values") or [])}]
    if condition.get("QueryStringConfig"):
        out["query_string"] = [{"key": pair.get("Key", ""), "value": pair.get("Value", "")}
                               for pair in condition["QueryStringConfig"].get("Values") or []]
    return out


def listener_rule_attributes(rule: Mapping[str, Any], listener_arn: str,
                             tags: Mapping[str, str] | None) -> dict[str, Any]:
    """A DescribeRules entry in aws_lb_listener_rule state shape."""
    arn = rule["RuleArn"]
    priority = rule.get("Priority", "")
    attrs: dict[str, Any] = {
        "id": arn,
        "arn": arn,
        "listener_arn": listener_arn,
        "priority": int(priority) if str(priority).isdigit() else priority,
        "action": actions_attribute(rule.get("Actions")),
        "condition": [_condition(c) for c in rule.get("Conditions") or []],
    }
    if tags is not None:
        attrs["tags"] = dict(tags)
        attrs["tags_all"] = dict(tags)
    return attrs


LISTENER_RULE = TypeSpec(
    type="aws_lb_listener_rule",
    tags_per_resource=_ELBV2_TAGS,
    service="elbv2",
    calls=("DescribeLoadBalancers", "DescribeListeners", "DescribeRules", "DescribeTags"),
    compared=("listener_arn", "priority", "action", "condition"),
    set_paths=("action.*.forward.*.target_group", "condition", "condition.*.host_header.*.values",
               "condition.*.path_pattern.*.values", "condition.*.http_request_method.*.values",
               "condition.*.source_ip.*.values", "condition.*.http_header.*.values", "condition.*.query_string"),
    normalizers={"action": normalize_actions},
    tags=True,
    optional_live=("tags",),
    deployer_owned=_owned_forwards("action"),
    ignored={"id": "the rule ARN", "arn": "the import id"},
    notes="DescribeRules (paginated) once per listener, default rules left out (they are the listener's "
          "default_action); tags by DescribeTags (20 ARNs a call) for rules a state holds. Forwards are "
          "compared through normalize_actions, and not at all where a deployer owns them (see deployer_of).",
)


@collector(LISTENER_RULE)
def collect_listener_rules(ctx: CollectContext) -> Iterator[Resource]:
    elbv2 = ctx.client("elbv2")
    listeners = [listener["ListenerArn"] for listener in _listeners(ctx)]
    found = ctx.each(lambda arn: [r for r in paginate(elbv2, "describe_rules", "Rules", ListenerArn=arn)
                                  if not r.get("IsDefault")], listeners)
    wanted = ctx.wanted.get(LISTENER_RULE.type, frozenset())
    held = sorted(r["RuleArn"] for rules in found for r in rules if r["RuleArn"] in wanted)
    answers = ctx.each(lambda batch: elbv2.describe_tags(ResourceArns=batch), list(chunks(held, 20)))
    tags = {d["ResourceArn"]: tags_dict(d.get("Tags")) for answer in answers for d in answer.get("TagDescriptions", [])}
    for listener_arn, rules in zip(listeners, found, strict=True):
        for rule in rules:
            arn = rule["RuleArn"]
            yield ctx.resource(LISTENER_RULE, arn, listener_rule_attributes(
                rule, listener_arn, tags.get(arn, {}) if arn in wanted else None))


# --- aws_lb_listener_certificate -----------------------------------------------------------------


def listener_certificate_import_id(attributes: Mapping[str, Any]) -> str | None:
    """`<listener ARN>_<certificate ARN>`: the provider's id and import id."""
    listener, certificate = attributes.get("listener_arn"), attributes.get("certificate_arn")
    return f"{listener}_{certificate}" if listener and certificate else None


LISTENER_CERTIFICATE = TypeSpec(
    type="aws_lb_listener_certificate", partially_read=True,
    service="elbv2",
    compared=("listener_arn", "certificate_arn"),
    state_id=listener_certificate_import_id,
    calls=("DescribeListenerCertificates",),
    ignored={"id": "`<listener ARN>_<certificate ARN>`, the import id"},
    notes="DescribeListenerCertificates (paginated) for each listener a state's listener certificate names; "
          "the listener's default certificate is aws_lb_listener's certificate_arn, not this type. An extra "
          "certificate added by hand to such a listener is unmanaged.",
)


@collector(LISTENER_CERTIFICATE)
def collect_listener_certificates(ctx: CollectContext) -> Iterator[Resource]:
    wanted = ctx.wanted.get(LISTENER_CERTIFICATE.type, frozenset())
    listeners = sorted({str(ctx.state_attribute(LISTENER_CERTIFICATE.type, i, "listener_arn") or "")
                        for i in wanted} - {""})
    elbv2 = ctx.client("elbv2")

    def read(listener: str) -> list[dict[str, Any]]:
        try:
            return [c for c in paginate(elbv2, "describe_listener_certificates", "Certificates", ListenerArn=listener)
                    if not c.get("IsDefault")]
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "ListenerNotFound":
                return []  # the listener is gone, and its certificates with it: missing
            raise

    for listener, certificates in zip(listeners, ctx.each(read, listeners), strict=True):
        for certificate in certificates:
            attrs = {"listener_arn": listener, "certificate_arn": certificate["CertificateArn"]}
            import_id = listener_certificate_import_id(attrs) or ""
            yield ctx.resource(LISTENER_CERTIFICATE, import_id, {"id": import_id, **attrs})


# --- aws_lb_target_group --------------------------------------------------------------------------

TG_ATTRIBUTES: tuple[Attr, ...] = (
    ("deregistration_delay.timeout_seconds", "deregistration_delay", str),
    ("deregistration_delay.connection_termination.enabled", "connection_termination", _bool),
    ("lambda.multi_value_headers.enabled", "lambda_multi_value_headers_enabled", _bool),
    ("load_balancing.algorithm.type", "load_balancing_algorithm_type", str),
    ("load_balancing.algorithm.anomaly_mitigation", "load_balancing_anomaly_mitigation", str),
    ("load_balancing.cross_zone.enabled", "load_balancing_cross_zone_enabled", str),
    ("preserve_client_ip.enabled", "preserve_client_ip", str),
    ("proxy_protocol_v2.enabled", "proxy_protocol_v2", _bool),
    ("slow_start.duration_seconds", "slow_start", int),
)
_TG_ATTRIBUTE_NAMES = tuple(tf_name for _, tf_name, _ in TG_ATTRIBUTES)

TARGET_GROUP = TypeSpec(
    type="aws_lb_target_group", partially_read=True,
    tags_per_resource=_ELBV2_TAGS,
    calls=("DescribeLoadBalancers", "DescribeListeners", "DescribeTargetGroups", "DescribeTargetGroupAttributes",
           "DescribeTags"),
    service="elbv2",
    compared=("name", "port", "protocol", "protocol_version", "target_type", "vpc_id", "ip_address_type",
              "health_check", "stickiness", *_TG_ATTRIBUTE_NAMES),
    optional_live=("stickiness", *_TG_ATTRIBUTE_NAMES),
    tags=True,
    ignored={
        "arn": "the import id", "id": "the import id", "arn_suffix": "derived from the ARN",
        "name_prefix": "provider-only: expanded into name",
        "load_balancer_arns": "computed from the listeners and rules that use the group",
        "target_failover": "Gateway Load Balancer only; not compared",
        "target_group_health": "DNS failover / unhealthy routing thresholds; not compared",
        "target_health_state": "Network Load Balancer only; not compared",
    },
    notes="deregistration_delay, stickiness, slow_start... come from DescribeTargetGroupAttributes, called "
          "only for target groups a state holds: they are blue/green switches (draining, client pinning) "
          "worth comparing, and unmanaged groups need only be reported.",
)


def target_group_attributes(tg: Mapping[str, Any], answer: Mapping[str, str] | None,
                            tags: Mapping[str, str]) -> dict[str, Any]:
    """A DescribeTargetGroups entry (plus its attributes, when read) in aws_lb_target_group state shape."""
    arn = tg["TargetGroupArn"]
    matcher = tg.get("Matcher") or {}
    attrs: dict[str, Any] = {
        "id": arn,
        "arn": arn,
        "arn_suffix": arn[arn.index("targetgroup/"):] if "targetgroup/" in arn else "",
        "name": tg.get("TargetGroupName", ""),
        "port": tg.get("Port"),
        "protocol": tg.get("Protocol", ""),
        "protocol_version": tg.get("ProtocolVersion", ""),
        "target_type": tg.get("TargetType", ""),
        "vpc_id": tg.get("VpcId", ""),
        "ip_address_type": tg.get("IpAddressType", ""),
        "load_balancer_arns": sorted(tg.get("LoadBalancerArns") or []),
        "health_check": [{
            "enabled": bool(tg.get("HealthCheckEnabled", False)),
            "healthy_threshold": tg.get("HealthyThresholdCount"),
            "interval": tg.get("HealthCheckIntervalSeconds"),
            "matcher": matcher.get("HttpCode") or matcher.get("GrpcCode") or "",
            "path": tg.get("HealthCheckPath", ""),
            "port": tg.get("HealthCheckPort", ""),
            "protocol": tg.get("HealthCheckProtocol", ""),
            "timeout": tg.get("HealthCheckTimeoutSeconds"),
            "unhealthy_threshold": tg.get("UnhealthyThresholdCount"),
        }],
    }
    if answer is not None:
        attrs.update(_mapped(TG_ATTRIBUTES, answer))
        stickiness = _stickiness(answer)
        if stickiness is not None:
            attrs["stickiness"] = stickiness
    return {**attrs, "tags": dict(tags), "tags_all": dict(tags)}


def _stickiness(answer: Mapping[str, str]) -> list[dict[str, Any]] | None:
    if "stickiness.enabled" not in answer and "stickiness.type" not in answer:
        return None
    kind = answer.get("stickiness.type", "")
    cookie = kind in ("lb_cookie", "app_cookie")
    duration = answer.get(f"stickiness.{kind}.duration_seconds") if cookie else None
    return [{
        "enabled": _bool(answer.get("stickiness.enabled", "false")),
        "type": kind,
        "cookie_duration": int(duration) if duration else 0,
        "cookie_name": answer.get("stickiness.app_cookie.cookie_name", "") if kind == "app_cookie" else "",
    }]


@collector(TARGET_GROUP)
def collect_target_groups(ctx: CollectContext) -> Iterator[Resource]:
    elbv2 = ctx.client("elbv2")
    wanted = ctx.wanted.get(TARGET_GROUP.type, frozenset())
    groups = list(_target_groups(ctx))

    def attributes(arn: str) -> dict[str, str] | None:
        if arn not in wanted:
            return None
        return _key_values(elbv2.describe_target_group_attributes(TargetGroupArn=arn).get("Attributes"))

    answers = ctx.each(attributes, [tg["TargetGroupArn"] for tg in groups])
    tags = _elb_tags(ctx)  # after the per-group calls (the long pole): another type's job may be reading them
    for tg, answer in zip(groups, answers, strict=True):
        arn = tg["TargetGroupArn"]
        yield ctx.resource(TARGET_GROUP, arn, target_group_attributes(tg, answer, tags.get(arn, {})))


# --- aws_lb_target_group_attachment ---------------------------------------------------------------

_GONE_REASONS = frozenset({"Target.DeregistrationInProgress", "Target.NotRegistered"})
"""Target health reasons of a target that is no longer registered (the provider's read drops them too)."""


def attachment_import_id(attributes: Mapping[str, Any]) -> str | None:
    """`<target group ARN>,<target id>[,<port>]`: the key an attachment is matched on (the provider's id,
    `<target group ARN>-<timestamp>`, is random and the type has no import)."""
    group, target, port = attributes.get("target_group_arn"), attributes.get("target_id"), attributes.get("port")
    if not group or not target:
        return None
    return f"{group},{target}" + (f",{int(port)}" if port not in (None, "", 0) else "")


TARGET_GROUP_ATTACHMENT = TypeSpec(
    type="aws_lb_target_group_attachment", partially_read=True,
    service="elbv2",
    compared=("target_group_arn", "target_id", "port"),
    optional_live=("port",),
    state_id=attachment_import_id,
    report_unmanaged=False,
    calls=("DescribeTargetHealth",),
    ignored={
        "id": "random (`<target group ARN>-<timestamp>`); matched on `<target group ARN>,<target id>[,<port>]`",
        "availability_zone": "create-time option the provider never reads back",
    },
    notes="DescribeTargetHealth once per target group a state's attachment names (no account-wide listing "
          "exists); a target deregistering or not registered is gone, as in the provider's read. Targets "
          "ECS registers for its services are not Terraform's, so no target is ever reported unmanaged.",
)


@collector(TARGET_GROUP_ATTACHMENT)
def collect_target_group_attachments(ctx: CollectContext) -> Iterator[Resource]:
    held: dict[str, list[tuple[str, str, int | None]]] = {}
    for import_id in sorted(ctx.wanted.get(TARGET_GROUP_ATTACHMENT.type, frozenset())):
        group, target, *ports = import_id.split(",")
        held.setdefault(group, []).append((import_id, target, int(ports[0]) if ports else None))
    elbv2 = ctx.client("elbv2")

    def registered(group: str) -> list[dict[str, Any]]:
        try:
            answer = elbv2.describe_target_health(TargetGroupArn=group)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) == "TargetGroupNotFound":
                return []  # the group is gone, and its attachments with it: missing
            raise
        return [d["Target"] for d in answer.get("TargetHealthDescriptions") or []
                if (d.get("TargetHealth") or {}).get("Reason") not in _GONE_REASONS]

    groups = sorted(held)
    for group, targets in zip(groups, ctx.each(registered, groups), strict=True):
        for import_id, target, port in held[group]:
            if any(t["Id"] == target and (port is None or t.get("Port") == port) for t in targets):
                attrs: dict[str, Any] = {"target_group_arn": group, "target_id": target}
                if port is not None:
                    attrs["port"] = port
                yield ctx.resource(TARGET_GROUP_ATTACHMENT, import_id, attrs)
