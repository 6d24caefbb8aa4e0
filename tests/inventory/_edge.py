"""Helpers shared by the edge (ELBv2, ACM) and ECS collector tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from auditor.aws import Aws
from auditor.catalog import TypeSpec
from auditor.diff import attribute_changes
from auditor.inventory.base import CollectContext, CollectFn
from auditor.models import AttributeChange, Origin, Resource

ACCOUNT = "123456789012"
REGION = "ap-south-1"


def collect(aws: Aws, fn: CollectFn, wanted: Mapping[str, Iterable[str]] | None = None,
            region: str = REGION) -> dict[str, Resource]:
    """Live resources a collector yields, by import id."""
    ctx = CollectContext(aws, region, ACCOUNT, {t: frozenset(ids) for t, ids in (wanted or {}).items()})
    found = {r.id: r for r in fn(ctx)}
    assert all(r.origin is Origin.LIVE and r.region == region for r in found.values())
    return found


def compared(spec: TypeSpec, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The compared attributes; every one not in optional_live must really be produced."""
    missing = [a for a in spec.compared if a not in attrs and a not in spec.optional_live]
    assert not missing, f"{spec.type} does not produce {missing}"
    return {a: attrs[a] for a in spec.compared if a in attrs}


def changes(spec: TypeSpec, state: Mapping[str, Any], live: Mapping[str, Any]) -> list[AttributeChange]:
    """The diff's attribute changes between a state and a live resource (the spec's normalizers applied)."""
    return attribute_changes(spec, state, live)


def covered_names(spec: TypeSpec) -> set[str]:
    """Every attribute name the spec accounts for: compared, ignored, tags."""
    return set(spec.compared) | set(spec.ignored) | {"tags", "tags_all"}


# Top-level attributes of each type in the hashicorp/aws 5.100.0 provider schema
# (`terraform providers schema -json`).
PROVIDER_ATTRIBUTES: dict[str, str] = {
    "aws_lb": (
        "access_logs arn arn_suffix client_keep_alive connection_logs customer_owned_ipv4_pool "
        "desync_mitigation_mode dns_name dns_record_client_routing_policy drop_invalid_header_fields "
        "enable_cross_zone_load_balancing enable_deletion_protection enable_http2 "
        "enable_tls_version_and_cipher_suite_headers enable_waf_fail_open enable_xff_client_port "
        "enable_zonal_shift enforce_security_group_inbound_rules_on_private_link_traffic id idle_timeout "
        "internal ip_address_type ipam_pools load_balancer_type minimum_load_balancer_capacity name "
        "name_prefix preserve_host_header security_groups subnet_mapping subnets tags tags_all timeouts "
        "vpc_id xff_header_processing_mode zone_id"),
    "aws_lb_listener": (
        "alpn_policy arn certificate_arn default_action id load_balancer_arn mutual_authentication port "
        "protocol routing_http_request_x_amzn_mtls_clientcert_header_name "
        "routing_http_request_x_amzn_mtls_clientcert_issuer_header_name "
        "routing_http_request_x_amzn_mtls_clientcert_leaf_header_name "
        "routing_http_request_x_amzn_mtls_clientcert_serial_number_header_name "
        "routing_http_request_x_amzn_mtls_clientcert_subject_header_name "
        "routing_http_request_x_amzn_mtls_clientcert_validity_header_name "
        "routing_http_request_x_amzn_tls_cipher_suite_header_name "
        "routing_http_request_x_amzn_tls_version_header_name "
        "routing_http_response_access_control_allow_credentials_header_value "
        "routing_http_response_access_control_allow_headers_header_value "
        "routing_http_response_access_control_allow_methods_header_value "
        "routing_http_response_access_control_allow_origin_header_value "
        "routing_http_response_access_control_expose_headers_header_value "
        "routing_http_response_access_control_max_age_header_value "
        "routing_http_response_content_security_policy_header_value routing_http_response_server_enabled "
        "routing_http_response_strict_transport_security_header_value "
        "routing_http_response_x_content_type_options_header_value "
        "routing_http_response_x_frame_options_header_value ssl_policy tags tags_all "
        "tcp_idle_timeout_seconds timeouts"),
    "aws_lb_target_group": (
        "arn arn_suffix connection_termination deregistration_delay health_check id ip_address_type "
        "lambda_multi_value_headers_enabled load_balancer_arns load_balancing_algorithm_type "
        "load_balancing_anomaly_mitigation load_balancing_cross_zone_enabled name name_prefix port "
        "preserve_client_ip protocol protocol_version proxy_protocol_v2 slow_start stickiness tags "
        "tags_all target_failover target_group_health target_health_state target_type vpc_id"),
    "aws_acm_certificate": (
        "arn certificate_authority_arn certificate_body certificate_chain domain_name "
        "domain_validation_options early_renewal_duration id key_algorithm not_after not_before options "
        "pending_renewal private_key renewal_eligibility renewal_summary status subject_alternative_names "
        "tags tags_all type validation_emails validation_method validation_option"),
    "aws_acm_certificate_validation": (
        "certificate_arn id timeouts validation_record_fqdns"),
    "aws_ecs_cluster": (
        "arn configuration id name service_connect_defaults setting tags tags_all"),
    "aws_ecs_service": (
        "alarms availability_zone_rebalancing capacity_provider_strategy cluster "
        "deployment_circuit_breaker deployment_controller deployment_maximum_percent "
        "deployment_minimum_healthy_percent desired_count enable_ecs_managed_tags enable_execute_command "
        "force_delete force_new_deployment health_check_grace_period_seconds iam_role id launch_type "
        "load_balancer name network_configuration ordered_placement_strategy placement_constraints "
        "platform_version propagate_tags scheduling_strategy service_connect_configuration "
        "service_registries tags tags_all task_definition timeouts triggers volume_configuration "
        "vpc_lattice_configurations wait_for_steady_state"),
    "aws_ecs_task_definition": (
        "arn arn_without_revision container_definitions cpu enable_fault_injection ephemeral_storage "
        "execution_role_arn family id inference_accelerator ipc_mode memory network_mode pid_mode "
        "placement_constraints proxy_configuration requires_compatibilities revision runtime_platform "
        "skip_destroy tags tags_all task_role_arn track_latest volume"),
}
