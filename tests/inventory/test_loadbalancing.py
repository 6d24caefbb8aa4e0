"""ELBv2 and ACM collectors: provider-shaped converters, paging, call counts (moto in-process, Stubber)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.catalog import canonical_type, spec_for
from auditor.inventory import acm as acmmod
from auditor.inventory import loadbalancing as lbmod
from auditor.inventory.runner import collect_inventory
from auditor.models import ObservationStatus
from tests.inventory._edge import (
    ACCOUNT,
    PROVIDER_ATTRIBUTES,
    REGION,
    changes,
    collect,
    compared,
    covered_names,
)


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield Aws(AwsSettings(region=REGION))


@pytest.fixture
def network(aws: Aws) -> dict[str, Any]:
    """A VPC with two subnets in two AZs and a security group."""
    ec2 = aws.client("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
        "Subnet"]["SubnetId"] for i, z in enumerate("ab")]
    group = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    return {"vpc": vpc, "subnets": subnets, "sg": group}


def _new_lb(aws: Aws, network: dict[str, Any], name: str, **kwargs: Any) -> dict[str, Any]:
    return aws.client("elbv2", REGION).create_load_balancer(
        Name=name, Subnets=network["subnets"], SecurityGroups=[network["sg"]], **kwargs)["LoadBalancers"][0]


def _new_tg(aws: Aws, network: dict[str, Any], name: str, **kwargs: Any) -> dict[str, Any]:
    return aws.client("elbv2", REGION).create_target_group(
        Name=name, Protocol="HTTP", Port=3000, VpcId=network["vpc"], TargetType="ip",
        **kwargs)["TargetGroups"][0]


def _pem_certificate(domain: str, *, ec: bool = False) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec as ec_keys
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key: Any = (ec_keys.generate_private_key(ec_keys.SECP256R1()) if ec
                else rsa.generate_private_key(65537, 2048))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    start = datetime(2025, 1, 1, tzinfo=UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(start).not_valid_after(start + timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain), x509.DNSName(f"www.{domain}")]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


# --- specs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [lbmod.LOAD_BALANCER, lbmod.LISTENER, lbmod.TARGET_GROUP, acmmod.CERTIFICATE,
                                  acmmod.CERTIFICATE_VALIDATION], ids=lambda s: s.type)
def test_spec_accounts_for_every_provider_attribute(spec: Any) -> None:
    names, tag_names = set(PROVIDER_ATTRIBUTES[spec.type].split()), {"tags", "tags_all"}
    assert covered_names(spec) - tag_names == names - tag_names
    assert spec.tags == (tag_names <= names)
    assert not set(spec.compared) & set(spec.ignored)
    assert set(spec.optional_live) <= set(spec.compared)
    assert {p.split(".")[0] for p in spec.set_paths} <= set(spec.compared)


def test_alb_names_are_aliases() -> None:
    assert canonical_type("aws_alb") == "aws_lb"
    assert canonical_type("aws_alb_listener") == "aws_lb_listener"
    assert canonical_type("aws_alb_target_group") == "aws_lb_target_group"
    assert spec_for("aws_alb") is lbmod.LOAD_BALANCER


# --- aws_lb -----------------------------------------------------------------------------------------


def test_load_balancer_in_provider_shape(aws: Aws, network: dict[str, Any]) -> None:
    lb = _new_lb(aws, network, "web", Tags=[{"Key": "Name", "Value": "web"}])
    elbv2 = aws.client("elbv2", REGION)
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "true"},
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
        {"Key": "idle_timeout.timeout_seconds", "Value": "120"},
        {"Key": "routing.http2.enabled", "Value": "false"},
        {"Key": "routing.http.desync_mitigation_mode", "Value": "strictest"},
        {"Key": "access_logs.s3.enabled", "Value": "true"},
        {"Key": "access_logs.s3.bucket", "Value": "logs"},
        {"Key": "access_logs.s3.prefix", "Value": "alb"},
    ])

    live = collect(aws, lbmod.collect_load_balancers)[lb["LoadBalancerArn"]]
    arn = lb["LoadBalancerArn"]
    assert compared(lbmod.LOAD_BALANCER, live.attributes) == {
        "name": "web", "internal": False, "load_balancer_type": "application",
        "subnets": sorted(network["subnets"]),
        "subnet_mapping": [{"subnet_id": s, "outpost_id": "", "allocation_id": "", "ipv6_address": "",
                            "private_ipv4_address": ""} for s in network["subnets"]],
        "security_groups": [network["sg"]], "ip_address_type": "ipv4", "customer_owned_ipv4_pool": "",
        "enforce_security_group_inbound_rules_on_private_link_traffic": "", "ipam_pools": [],
        "access_logs": [{"bucket": "logs", "enabled": True, "prefix": "alb"}],
        "enable_deletion_protection": True, "drop_invalid_header_fields": True, "idle_timeout": 120,
        "enable_http2": False, "desync_mitigation_mode": "strictest",
        "enable_cross_zone_load_balancing": False,  # moto's answer for an ALB
    }
    assert live.attributes["arn_suffix"] == arn.split(":loadbalancer/")[1]
    assert live.attributes["arn_suffix"].startswith("app/web/")
    assert live.attributes["dns_name"] == lb["DNSName"]
    assert live.attributes["zone_id"] == lb["CanonicalHostedZoneId"]
    assert live.attributes["vpc_id"] == network["vpc"]
    assert live.attributes["tags"] == live.attributes["tags_all"] == {"Name": "web"}


def test_lb_attributes_aws_leaves_out_are_absent_not_false(aws: Aws, network: dict[str, Any]) -> None:
    lb = _new_lb(aws, network, "bare")  # moto answers only attributes that were set, plus a few
    live = collect(aws, lbmod.collect_load_balancers)[lb["LoadBalancerArn"]].attributes
    for name in ("drop_invalid_header_fields", "idle_timeout", "enable_http2", "desync_mitigation_mode"):
        assert name not in live
    assert live["enable_deletion_protection"] is False  # present in the answer: read as given
    state = {**live, "drop_invalid_header_fields": True, "idle_timeout": 60}
    assert changes(lbmod.LOAD_BALANCER, state, live) == []
    [change] = changes(lbmod.LOAD_BALANCER, {**live, "enable_deletion_protection": True}, live)
    assert (change.path, change.state, change.live) == ("enable_deletion_protection", True, False)


def test_log_blocks_follow_the_keys_present() -> None:
    assert lbmod._log_block({}, "access_logs") is None
    assert lbmod._log_block({"access_logs.s3.bucket": "b"}, "access_logs") == [
        {"bucket": "b", "enabled": False, "prefix": ""}]
    assert lbmod._log_block({"connection_logs.s3.enabled": "true", "connection_logs.s3.bucket": "c"},
                            "connection_logs") == [{"bucket": "c", "enabled": True, "prefix": ""}]


# --- aws_lb_listener --------------------------------------------------------------------------------


def test_listeners_in_provider_shape(aws: Aws, network: dict[str, Any]) -> None:
    elbv2 = aws.client("elbv2", REGION)
    lb_arn = _new_lb(aws, network, "edge")["LoadBalancerArn"]
    blue, green = (_new_tg(aws, network, n)["TargetGroupArn"] for n in ("blue", "green"))
    cert_pem, key_pem = _pem_certificate("edge.example")
    cert_arn = aws.client("acm", REGION).import_certificate(Certificate=cert_pem, PrivateKey=key_pem)[
        "CertificateArn"]
    https = elbv2.create_listener(
        LoadBalancerArn=lb_arn, Port=443, Protocol="HTTPS", SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        Certificates=[{"CertificateArn": cert_arn}], Tags=[{"Key": "Name", "Value": "https"}],
        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": green, "Weight": 10},
            {"TargetGroupArn": blue, "Weight": 90}]}}])["Listeners"][0]
    plain = elbv2.create_listener(
        LoadBalancerArn=lb_arn, Port=8080, Protocol="HTTP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": blue}])["Listeners"][0]
    redirect = elbv2.create_listener(LoadBalancerArn=lb_arn, Port=80, Protocol="HTTP", DefaultActions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "Host": "#{host}",
                                                "Path": "/#{path}", "Query": "#{query}",
                                                "StatusCode": "HTTP_301"}}])["Listeners"][0]
    fixed = elbv2.create_listener(LoadBalancerArn=lb_arn, Port=81, Protocol="HTTP", DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"ContentType": "text/plain", "MessageBody": "no",
                                                           "StatusCode": "503"}}])["Listeners"][0]

    found = collect(aws, lbmod.collect_listeners)
    assert set(found) == {x["ListenerArn"] for x in (https, plain, redirect, fixed)}
    empty = {"authenticate_cognito": [], "authenticate_oidc": [], "fixed_response": [], "forward": [],
             "redirect": [], "target_group_arn": "", "order": 1}
    live_https = found[https["ListenerArn"]].attributes
    assert compared(lbmod.LISTENER, live_https) == {
        "load_balancer_arn": lb_arn, "port": 443, "protocol": "HTTPS",
        "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "certificate_arn": cert_arn, "alpn_policy": None,
        "mutual_authentication": [],
        "default_action": [{**empty, "type": "forward", "forward": [{
            "target_group": sorted([{"arn": blue, "weight": 90}, {"arn": green, "weight": 10}],
                                   key=lambda g: str(g["arn"])),
            "stickiness": [{"enabled": False, "duration": 0}]}]}],
    }
    assert live_https["tags"] == {"Name": "https"}
    assert found[plain["ListenerArn"]].attributes["default_action"] == [
        {**empty, "type": "forward", "target_group_arn": blue}]
    assert found[redirect["ListenerArn"]].attributes["default_action"] == [{
        **empty, "type": "redirect", "redirect": [{
            "host": "#{host}", "path": "/#{path}", "port": "443", "protocol": "HTTPS", "query": "#{query}",
            "status_code": "HTTP_301"}]}]
    assert found[fixed["ListenerArn"]].attributes["default_action"] == [{**empty, "type": "fixed-response",
                                                                         "fixed_response": [{
        "content_type": "text/plain", "message_body": "no", "status_code": "503"}]}]
    assert found[plain["ListenerArn"]].attributes["certificate_arn"] is None


def test_forward_forms_the_provider_stores_compare_equal() -> None:
    blue, green = "arn:tg/blue", "arn:tg/green"
    as_arn = [{"type": "forward", "order": 1, "target_group_arn": blue, "forward": []}]
    as_block = [{"type": "forward", "order": 1, "target_group_arn": "", "forward": [
        {"target_group": [{"arn": blue, "weight": 1}], "stickiness": [{"enabled": False, "duration": 0}]}]}]
    as_import = [{"type": "forward", "order": 1, "target_group_arn": blue, "forward": [
        {"target_group": [{"arn": blue, "weight": 1}], "stickiness": []}]}]
    forms = [lbmod.normalize_actions(a) for a in (as_arn, as_block, as_import)]
    assert forms[0] == forms[1] == forms[2]
    assert lbmod.normalize_actions(forms[0]) == forms[0]

    weighted = [{"type": "forward", "order": 1, "target_group_arn": "", "forward": [{
        "target_group": [{"arn": green, "weight": 0}, {"arn": blue, "weight": 100}],
        "stickiness": [{"enabled": False, "duration": 0}]}]}]
    reordered = [{"type": "forward", "order": 1, "forward": [{
        "target_group": [{"arn": blue, "weight": 100}, {"arn": green, "weight": 0}]}]}]
    assert lbmod.normalize_actions(weighted) == lbmod.normalize_actions(reordered)
    shifted = [{"type": "forward", "order": 1, "forward": [{
        "target_group": [{"arn": blue, "weight": 50}, {"arn": green, "weight": 50}]}]}]
    assert lbmod.normalize_actions(weighted) != lbmod.normalize_actions(shifted)
    sticky = [{"type": "forward", "order": 1, "forward": [{
        "target_group": [{"arn": blue, "weight": 1}], "stickiness": [{"enabled": True, "duration": 60}]}]}]
    assert lbmod.normalize_actions(sticky) != forms[0]
    assert lbmod.normalize_actions(None) is None


def test_weight_shift_is_reported_inside_the_forward_block(aws: Aws, network: dict[str, Any]) -> None:
    elbv2 = aws.client("elbv2", REGION)
    lb_arn = _new_lb(aws, network, "shift")["LoadBalancerArn"]
    blue, green = (_new_tg(aws, network, n)["TargetGroupArn"] for n in ("blue", "green"))
    arn = elbv2.create_listener(LoadBalancerArn=lb_arn, Port=80, Protocol="HTTP", DefaultActions=[
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": blue, "Weight": 100},
                                                               {"TargetGroupArn": green, "Weight": 0}]}}])[
        "Listeners"][0]["ListenerArn"]
    state = collect(aws, lbmod.collect_listeners)[arn].attributes
    elbv2.modify_listener(ListenerArn=arn, DefaultActions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": 50}, {"TargetGroupArn": green, "Weight": 50}]}}])
    live = collect(aws, lbmod.collect_listeners)[arn].attributes
    paths = [c.path for c in changes(lbmod.LISTENER, state, live)]
    assert paths and all(p.startswith("default_action[0].forward") for p in paths)


def test_oidc_client_secret_is_not_compared() -> None:
    action = {"type": "authenticate-oidc", "order": 1,
              "authenticate_oidc": [{"client_id": "c", "issuer": "i"}]}
    state = [{**action, "authenticate_oidc": [{"client_id": "c", "issuer": "i", "client_secret": "s3cr3t"}]}]
    assert lbmod.normalize_actions(state) == lbmod.normalize_actions([action])


# --- aws_lb_target_group ----------------------------------------------------------------------------


def test_target_group_in_provider_shape(aws: Aws, network: dict[str, Any]) -> None:
    elbv2 = aws.client("elbv2", REGION)
    tg = _new_tg(aws, network, "blue", HealthCheckPath="/health", Matcher={"HttpCode": "200"},
                 HealthyThresholdCount=3, UnhealthyThresholdCount=3, Tags=[{"Key": "Name", "Value": "blue"}])
    other = _new_tg(aws, network, "other")
    elbv2.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "30"},
        {"Key": "stickiness.enabled", "Value": "true"},
        {"Key": "stickiness.lb_cookie.duration_seconds", "Value": "600"}])

    found = collect(aws, lbmod.collect_target_groups, {"aws_lb_target_group": [tg["TargetGroupArn"]]})
    live = found[tg["TargetGroupArn"]].attributes
    assert compared(lbmod.TARGET_GROUP, live) == {
        "name": "blue", "port": 3000, "protocol": "HTTP", "protocol_version": "HTTP1", "target_type": "ip",
        "vpc_id": network["vpc"], "ip_address_type": "ipv4",
        "health_check": [{"enabled": True, "healthy_threshold": 3, "interval": 30, "matcher": "200",
                          "path": "/health", "port": "traffic-port", "protocol": "HTTP", "timeout": 5,
                          "unhealthy_threshold": 3}],
        "deregistration_delay": "30",
        "stickiness": [{"enabled": True, "type": "lb_cookie", "cookie_duration": 600, "cookie_name": ""}],
        "slow_start": 0, "load_balancing_algorithm_type": "round_robin",
        "load_balancing_cross_zone_enabled": "use_load_balancer_configuration",
    }
    assert live["arn_suffix"] == "targetgroup/blue/" + tg["TargetGroupArn"].rsplit("/", 1)[1]
    assert live["tags"] == {"Name": "blue"}
    unwanted = found[other["TargetGroupArn"]].attributes  # attributes only read for groups in state
    assert "deregistration_delay" not in unwanted and "stickiness" not in unwanted
    assert unwanted["health_check"][0]["port"] == "traffic-port"


def test_stickiness_of_app_cookies() -> None:
    answer = {"stickiness.enabled": "true", "stickiness.type": "app_cookie",
              "stickiness.app_cookie.cookie_name": "SESSION", "stickiness.app_cookie.duration_seconds": "120",
              "stickiness.lb_cookie.duration_seconds": "86400"}
    assert lbmod._stickiness(answer) == [{"enabled": True, "type": "app_cookie", "cookie_duration": 120,
                                          "cookie_name": "SESSION"}]
    assert lbmod._stickiness({}) is None


# --- aws_acm_certificate ----------------------------------------------------------------------------


def test_certificates_are_described_only_when_a_state_holds_them(aws: Aws) -> None:
    acm = aws.client("acm", REGION)
    rsa_pem, rsa_key = _pem_certificate("app.example")
    ec_pem, ec_key = _pem_certificate("ec.example", ec=True)
    managed = acm.import_certificate(Certificate=rsa_pem, PrivateKey=rsa_key,
                                     Tags=[{"Key": "Env", "Value": "prod"}])["CertificateArn"]
    other = acm.import_certificate(Certificate=ec_pem, PrivateKey=ec_key)["CertificateArn"]

    found = collect(aws, acmmod.collect_certificates, {"aws_acm_certificate": [managed]})
    assert set(found) == {managed, other}  # the EC certificate too: every key type is listed
    live = found[managed].attributes
    assert compared(acmmod.CERTIFICATE, live) == {
        "domain_name": "app.example", "subject_alternative_names": ["app.example", "www.app.example"],
        "key_algorithm": "RSA_2048", "certificate_authority_arn": "",
        "options": [{"certificate_transparency_logging_preference": "ENABLED"}],
    }
    assert (live["type"], live["status"], live["validation_method"]) == ("IMPORTED", "ISSUED", "NONE")
    assert live["not_after"] == "2034-12-30T00:00:00Z"
    assert live["tags"] == live["tags_all"] == {"Env": "prod"}
    summary = found[other].attributes
    assert summary["_summary_only"] is True and summary["domain_name"] == "ec.example"
    assert summary["key_algorithm"] == "EC_prime256v1" and "tags" not in summary


def test_list_certificates_asks_for_every_key_type() -> None:
    aws = Aws(AwsSettings(region=REGION))
    acm = aws.client("acm", REGION)
    with Stubber(acm) as stub:
        stub.add_response("list_certificates", {"CertificateSummaryList": []},
                          {"Includes": {"keyTypes": acmmod._key_types(acm)}})
        assert collect(aws, acmmod.collect_certificates) == {}
        stub.assert_no_pending_responses()
    assert {"RSA_2048", "RSA_4096", "EC_prime256v1", "EC_secp384r1"} <= set(acmmod._key_types(acm))


# --- aws_acm_certificate_validation -----------------------------------------------------------------

VALIDATION = acmmod.CERTIFICATE_VALIDATION


def _requested(aws: Aws, domain: str = "app.digitallync.example") -> str:
    return str(aws.client("acm", REGION).request_certificate(DomainName=domain, ValidationMethod="DNS")[
        "CertificateArn"])


def test_go_time_string_prints_like_the_providers_go_runtime() -> None:
    assert acmmod.go_time_string(datetime(2024, 5, 1, 10, 11, 12, 345000, tzinfo=UTC)) == (
        "2024-05-01 10:11:12.345 +0000 UTC")
    assert acmmod.go_time_string(datetime(2024, 5, 1, 12, 11, 12, tzinfo=timezone(timedelta(hours=2)))) == (
        "2024-05-01 10:11:12 +0000 UTC")


def test_validation_of_an_issued_certificate_is_matched_on_its_arn(aws: Aws) -> None:
    from auditor.demo.motoserver import reference_stack_moto

    with reference_stack_moto():  # the embedded AWS issues DNS-validated certificates at once
        arn = _requested(aws)
        found = collect(aws, acmmod.collect_certificate_validations, {VALIDATION.type: [arn]})
    issued = aws.client("acm", REGION).describe_certificate(CertificateArn=arn)["Certificate"]["IssuedAt"]
    assert found[arn].attributes == {"id": acmmod.go_time_string(issued), "certificate_arn": arn}
    # as the provider writes it: id = IssuedAt, validation_record_fqdns unset
    state = {"id": "2024-05-01 10:11:12.345 +0000 UTC", "certificate_arn": arn, "timeouts": None,
             "validation_record_fqdns": None}
    assert VALIDATION.import_id(state) == arn
    assert changes(VALIDATION, state, found[arn].attributes) == []


def test_a_pending_or_gone_certificate_leaves_its_validation_missing(aws: Aws,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import settings

    monkeypatch.setattr(settings, "ACM_VALIDATION_WAIT", 3600)  # DNS records never published
    pending, gone = _requested(aws, "pending.example"), _requested(aws, "gone.example")
    aws.client("acm", REGION).delete_certificate(CertificateArn=gone)
    before = aws.counter.snapshot()

    assert collect(aws, acmmod.collect_certificate_validations, {VALIDATION.type: [pending, gone]}) == {}
    spent = {op: n - before.get(op, 0) for op, n in aws.counter.snapshot().items() if n != before.get(op, 0)}
    assert spent == {"acm.ListCertificates": 1, "acm.DescribeCertificate": 1}  # the gone one is not described


def test_no_validation_in_state_costs_no_call(aws: Aws) -> None:
    _requested(aws)
    before = aws.counter.snapshot()
    assert collect(aws, acmmod.collect_certificate_validations) == {}
    assert aws.counter.snapshot() == before


def test_certificate_and_validation_share_one_describe(aws: Aws) -> None:
    from auditor.demo.motoserver import reference_stack_moto

    with reference_stack_moto():
        arn = _requested(aws)
        before = aws.counter.snapshot()
        inventory = collect_inventory(aws, [REGION], [acmmod.CERTIFICATE.type, VALIDATION.type], ACCOUNT,
                                      {REGION: {acmmod.CERTIFICATE.type: frozenset({arn}),
                                                VALIDATION.type: frozenset({arn})}})
    assert sorted(r.type for r in inventory.resources) == [acmmod.CERTIFICATE.type, VALIDATION.type]
    after = aws.counter.snapshot()
    assert {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)} == {
        "acm.ListCertificates": 1, "acm.DescribeCertificate": 1,
        "resource-groups-tagging-api.GetResources": 1}


# --- paging and call counts -------------------------------------------------------------------------

_LB_ARN = "arn:aws:elasticloadbalancing:{r}:{a}:loadbalancer/app/{n}/0123456789abcdef"
_TG_ARN = "arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{n}/0123456789abcdef"


def _stub_lb(name: str) -> dict[str, Any]:
    return {"LoadBalancerArn": _LB_ARN.format(r=REGION, a=ACCOUNT, n=name), "LoadBalancerName": name,
            "Type": "application", "Scheme": "internal", "VpcId": "vpc-1", "IpAddressType": "ipv4",
            "AvailabilityZones": [{"ZoneName": f"{REGION}a", "SubnetId": "subnet-a"}]}


def _stub_tg(name: str) -> dict[str, Any]:
    return {"TargetGroupArn": _TG_ARN.format(r=REGION, a=ACCOUNT, n=name), "TargetGroupName": name,
            "Protocol": "HTTP", "Port": 80, "VpcId": "vpc-1", "TargetType": "ip"}


def test_every_describe_load_balancers_page_is_read() -> None:
    aws = Aws(AwsSettings(region=REGION))
    elbv2 = aws.client("elbv2", REGION)
    first, second = _stub_lb("one"), _stub_lb("two")
    arns = [first["LoadBalancerArn"], second["LoadBalancerArn"]]
    with Stubber(elbv2) as stub:
        stub.add_response("describe_load_balancers", {"LoadBalancers": [first], "NextMarker": "page-2"}, {})
        stub.add_response("describe_load_balancers", {"LoadBalancers": [second]}, {"Marker": "page-2"})
        for arn in arns:  # the per-balancer calls first, the shared tag reading after
            stub.add_response("describe_load_balancer_attributes", {"Attributes": [
                {"Key": "deletion_protection.enabled", "Value": "true"}]}, {"LoadBalancerArn": arn})
        for arn in arns:
            stub.add_response("describe_listeners", {"Listeners": []}, {"LoadBalancerArn": arn})
        stub.add_response("describe_target_groups", {"TargetGroups": []}, {})
        stub.add_response("describe_tags", {"TagDescriptions": [
            {"ResourceArn": arns[1], "Tags": [{"Key": "Team", "Value": "edge"}]}]}, {"ResourceArns": arns})
        found = collect(aws, lbmod.collect_load_balancers)
        stub.assert_no_pending_responses()
    assert set(found) == set(arns)
    assert found[arns[1]].attributes["tags"] == {"Team": "edge"}
    assert found[arns[0]].attributes["internal"] is True
    assert found[arns[0]].attributes["enable_deletion_protection"] is True


def test_every_describe_target_groups_page_is_read() -> None:
    aws = Aws(AwsSettings(region=REGION))
    elbv2 = aws.client("elbv2", REGION)
    first, second = _stub_tg("blue"), _stub_tg("green")
    arns = [first["TargetGroupArn"], second["TargetGroupArn"]]
    with Stubber(elbv2) as stub:
        stub.add_response("describe_target_groups", {"TargetGroups": [first], "NextMarker": "page-2"}, {})
        stub.add_response("describe_target_groups", {"TargetGroups": [second]}, {"Marker": "page-2"})
        stub.add_response("describe_target_group_attributes", {"Attributes": [  # before the shared tag reading
            {"Key": "deregistration_delay.timeout_seconds", "Value": "15"}]}, {"TargetGroupArn": arns[1]})
        stub.add_response("describe_load_balancers", {"LoadBalancers": []}, {})
        stub.add_response("describe_tags", {"TagDescriptions": []}, {"ResourceArns": arns})
        found = collect(aws, lbmod.collect_target_groups, {"aws_lb_target_group": [arns[1]]})
        stub.assert_no_pending_responses()
    assert set(found) == set(arns)
    assert found[arns[1]].attributes["deregistration_delay"] == "15"
    assert "deregistration_delay" not in found[arns[0]].attributes


def test_edge_inventory_costs_the_expected_calls(aws: Aws, network: dict[str, Any]) -> None:
    elbv2, acm = aws.client("elbv2", REGION), aws.client("acm", REGION)
    groups = [_new_tg(aws, network, f"tg-{i}")["TargetGroupArn"] for i in range(12)]
    lbs = [_new_lb(aws, network, f"lb-{i}")["LoadBalancerArn"] for i in range(3)]
    for i, lb_arn in enumerate(lbs):
        for port in (80, 8080):
            elbv2.create_listener(LoadBalancerArn=lb_arn, Port=port, Protocol="HTTP",
                                  DefaultActions=[{"Type": "forward", "TargetGroupArn": groups[i]}])
    certs = [acm.import_certificate(Certificate=pem, PrivateKey=key)["CertificateArn"]
             for pem, key in (_pem_certificate("a.example"), _pem_certificate("b.example"))]
    wanted = {REGION: {"aws_lb_target_group": frozenset(groups[:2]),
                       "aws_acm_certificate": frozenset(certs[:1])}}
    before = aws.counter.snapshot()

    inventory = collect_inventory(aws, [REGION], ["aws_lb", "aws_alb_listener", "aws_lb_target_group",
                                                  "aws_acm_certificate"], ACCOUNT, wanted)

    assert {o.type: o.status for o in inventory.observations} == dict.fromkeys(
        ["aws_acm_certificate", "aws_lb", "aws_lb_listener", "aws_lb_target_group"],
        ObservationStatus.OBSERVED)
    after = aws.counter.snapshot()
    calls = {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}
    assert calls == {
        "elastic-load-balancing-v2.DescribeLoadBalancers": 1,
        "elastic-load-balancing-v2.DescribeLoadBalancerAttributes": 3,  # one per load balancer
        "elastic-load-balancing-v2.DescribeListeners": 3,  # one per load balancer
        "elastic-load-balancing-v2.DescribeTargetGroups": 1,
        "elastic-load-balancing-v2.DescribeTargetGroupAttributes": 2,  # only the groups a state holds
        # 3 load balancers + 6 listeners + 12 groups = 21 ARNs, 20 per call, one pass for the three types
        "elastic-load-balancing-v2.DescribeTags": 2,
        "acm.ListCertificates": 1,
        "acm.DescribeCertificate": 1,
        "resource-groups-tagging-api.GetResources": 1,  # the certificate's tags in bulk
    }
    assert len([r for r in inventory.resources if r.type == "aws_lb_listener"]) == 6

