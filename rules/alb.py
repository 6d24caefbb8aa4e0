"""ALB-01..09: the load balancer in front of the service: zones, TLS, redirects, hardening, health checks.

ALB-01, 05 and 08 judge application load balancers only (network and gateway load balancers have
no such setting); ALB-06 judges every load balancer, ALB-07 application and network ones. ALB-02..04
judge listeners by their protocol: a listener without one takes its load balancer's default (HTTP on
an application load balancer), so its `load_balancer_arn` is joined to the `aws_lb`. An HTTP listener
is out of scope for the TLS rules even though AWS (and moto) report an `ssl_policy` on it, and a
network load balancer's TCP:80 listener is not an HTTP listener at all. ALB-09 judges HTTP/HTTPS
target groups.

Load balancer attributes live reads take from DescribeLoadBalancerAttributes; a key missing from the
answer (moto reports only what was set) is unobserved, never the default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from auditor.code.values import Ref, Template
from auditor.models import Origin, Resource, Unresolved
from auditor.rules.engine import rule
from auditor.rules.joins import (
    APPLICATION,
    ARN_KEYS,
    LB_TYPES,
    LISTENER_RULE,
    listener_load_balancer,
    load_balancer_type,
    name_of,
    subnet_values,
    subnet_zones,
    zone_spread,
)
from auditor.rules.links import address_type, linked
from auditor.rules.model import Guard, Peers, RuleContext, Verdict
from auditor.rules.read import as_bool, blocks, get, observed, show, value_or_default
from auditor.rules.settings import TlsProfile
from auditor.rules.verdicts import all_of, failed, judge, not_applicable, passed, unknown, unobserved, unresolved

LB = "aws_lb"
LISTENER = "aws_lb_listener"
TARGET_GROUP = "aws_lb_target_group"
LISTENER_CERTIFICATE = "aws_lb_listener_certificate"
TLS_PROTOCOLS = ("HTTPS", "TLS")
API_DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08"

# --- load balancers ------------------------------------------------------------------------------


def _of_types(res: Resource, kinds: Sequence[str]) -> Verdict | None:
    """None when the load balancer is of one of `kinds`; else NOT_APPLICABLE (UNKNOWN if unknowable)."""
    kind = load_balancer_type(res)
    if isinstance(kind, Unresolved):
        return unresolved("load_balancer_type", kind)
    if kind not in LB_TYPES:
        return unknown(f"load_balancer_type {kind!r} is not one of {', '.join(LB_TYPES)}", kind)
    if kind not in kinds:
        return not_applicable(f"a {kind} load balancer (judged for {' and '.join(kinds)} load balancers)")
    return None


def _for_types(*kinds: str) -> Guard:
    """Judge only load balancers of `kinds`."""
    return lambda res, ctx: _of_types(res, kinds)


def _attribute(res: Resource, name: str, default: Any, ok: Callable[[Any], bool], expected: str) -> Verdict:
    """A load balancer attribute: code takes the provider's default, live/state must report it."""
    value = value_or_default(res, name, default)
    if value is None:
        return unobserved(f"{name} (DescribeLoadBalancerAttributes did not report it)")
    if isinstance(default, bool):
        value = as_bool(value)
    shown = name if res.origin is not Origin.CODE or name in res.attributes else f"{name} (default)"
    return judge(value, shown, ok, expected)


@rule(
    id="ALB-01", title="ALB spans ≥2 AZs", severity="high", resource_types=(LB,),
    rationale="""
A load balancer in one availability zone goes down with that zone, and takes the service with it.
Its zones are those of its subnets (`subnets` or `subnet_mapping`), resolved to the `aws_subnet`
resources and their `availability_zone`. The minimum is the `min_azs` setting (default 2; Security
Hub ELB.13 allows 2-6).""",
    remediation="Attach the load balancer to subnets in at least two availability zones (one public subnet "
                "per zone for an internet-facing load balancer).",
    terraform="""
resource "aws_subnet" "public" {
  for_each = { a = "10.0.0.0/24", b = "10.0.1.0/24" }

  vpc_id                  = aws_vpc.main.id
  cidr_block              = each.value
  availability_zone       = "eu-west-1${each.key}"
  map_public_ip_on_launch = true
}

resource "aws_lb" "main" {
  name               = "example"
  load_balancer_type = "application"
  subnets            = [for subnet in aws_subnet.public : subnet.id]
}
""",
    peers=Peers(securityhub=("ELB.13",), aws_config=("elbv2-multiple-az",), prowler=("elbv2_is_in_multiple_az",)),
    applies=_for_types(APPLICATION),
)
def alb_multi_az(res: Resource, ctx: RuleContext) -> Verdict:
    subnets = subnet_values(res, "subnets", "subnet_mapping[].subnet_id")
    if isinstance(subnets, Unresolved):
        return unresolved("the subnets", subnets)
    if not subnets:
        return failed("no subnets are attached (subnets and subnet_mapping are empty)")
    return zone_spread(subnet_zones(ctx, subnets), ctx.settings.min_azs, "the load balancer")


# --- listeners -----------------------------------------------------------------------------------


def _protocol(ctx: RuleContext, listener: Resource) -> str | Verdict:
    """The listener's protocol; left out, its load balancer's default (HTTP on an ALB, none on a GWLB)."""
    value = get(listener, "protocol")
    if isinstance(value, Unresolved):
        return unresolved("protocol", value)
    if isinstance(value, str) and value:
        return value.upper()
    lb = listener_load_balancer(ctx, listener)
    if isinstance(lb, Unresolved):
        return unknown(f"protocol is not set, and its default depends on the load balancer, which cannot be "
                       f"told: {lb.reason}")
    kind = load_balancer_type(lb)
    if isinstance(kind, Unresolved):
        return unresolved(f"the type of {name_of(lb)} (protocol is not set)", kind)
    if kind == APPLICATION:
        return "HTTP"
    if kind == "gateway":
        return "GENEVE"
    if kind == "network":
        return unknown(f"protocol is not set on a listener of network load balancer {name_of(lb)}")
    return unknown(f"protocol is not set and {name_of(lb)} has load_balancer_type {kind!r}, not one of "
                   f"{', '.join(LB_TYPES)}", kind)


def _with_protocol(*protocols: str) -> Guard:
    """Judge only listeners whose (effective) protocol is one of `protocols`."""

    def guard(res: Resource, ctx: RuleContext) -> Verdict | None:
        protocol = _protocol(ctx, res)
        if isinstance(protocol, Verdict):
            return protocol
        if protocol not in protocols:
            return not_applicable(f"a listener with protocol {protocol} (judged for {' and '.join(protocols)} "
                                  "listeners)")
        return None

    return guard


ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:")
IAM_CERTIFICATE = re.compile(r"^arn:aws[a-z-]*:iam::")


def _acm_certificate(value: Any, what: str) -> Verdict:
    if value is None or value == "":
        return failed(f"{what} is not set: the listener has no certificate")
    if isinstance(value, Ref):
        kind = address_type(value.address)
        if kind is not None and kind[1].startswith("aws_acm_certificate"):
            return passed(f"{what} is the ACM certificate {value.target}", show(value))
        if kind is not None and kind[1] == "aws_iam_server_certificate":
            return failed(f"{what} is the IAM server certificate {value.target}, not an ACM certificate", show(value))
        return unresolved(what, value)
    if isinstance(value, Template):
        prefix = value.literal_prefix
        if ACM_ARN.match(prefix):
            return passed(f"{what} is an ACM certificate ARN ({value.display})", value.display)
        if IAM_CERTIFICATE.match(prefix):
            return failed(f"{what} is an IAM server certificate ({value.display}), not an ACM certificate",
                          value.display)
        return unresolved(what, value)
    if isinstance(value, Unresolved):
        return unresolved(what, value)
    if isinstance(value, str) and ACM_ARN.match(value):
        return passed(f"{what} is the ACM certificate {value}", value)
    return failed(f"{what} is {show(value)}, not an ACM certificate ARN (arn:aws:acm:...)", value)


@rule(
    id="ALB-02", title="HTTPS listener uses an ACM certificate", severity="high", resource_types=(LISTENER,),
    rationale="""
ACM certificates renew themselves and their private key never leaves AWS; an IAM server certificate
or an imported one is renewed by hand and expires unnoticed. HTTPS (and TLS) listeners must use a
certificate from ACM (`aws_acm_certificate`, its validation, or an `arn:aws:acm:` ARN), and so must
any extra certificate attached with `aws_lb_listener_certificate`.""",
    remediation="Issue the certificate with `aws_acm_certificate` (DNS validation) and set the listener's "
                "`certificate_arn` to it (through `aws_acm_certificate_validation` so the listener waits for "
                "issuance).",
    terraform="""
resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = aws_acm_certificate_validation.main.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}
""",
    peers=Peers(aws_config=("elbv2-acm-certificate-required",)),
    applies=_with_protocol(*TLS_PROTOCOLS),
)
def listener_acm_certificate(res: Resource, ctx: RuleContext) -> Verdict:
    verdicts = [_acm_certificate(get(res, "certificate_arn"), "certificate_arn")]
    extra = linked(ctx, res, (LISTENER_CERTIFICATE,), "listener_arn", ARN_KEYS)
    verdicts += [_acm_certificate(get(c, "certificate_arn"), f"{name_of(c)} certificate_arn") for c in extra.matched]
    if extra.undecided:
        verdicts.append(unknown(f"another certificate may be attached: {extra.describe_undecided()}"))
    return all_of(verdicts)


TLS12_MINIMUM = re.compile(r"ELBSecurityPolicy-(TLS13-1-[23]|FS-1-2|TLS-1-2)(-.+)?")
ELB17_POLICIES = frozenset({
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
})
TLS_PROFILES: Mapping[str, tuple[Callable[[str], bool], str]] = {
    TlsProfile.AWS_RECOMMENDED: (lambda p: TLS12_MINIMUM.fullmatch(p) is not None,
                                 "a policy whose minimum protocol is TLS 1.2 (ELBSecurityPolicy-TLS13-1-2-*, "
                                 "-TLS13-1-3-*, -FS-1-2-*, -TLS-1-2-*)"),
    TlsProfile.SECURITYHUB_ELB17: (lambda p: p in ELB17_POLICIES,
                                   "one of Security Hub ELB.17's policies (" + ", ".join(sorted(ELB17_POLICIES)) + ")"),
}


@rule(
    id="ALB-03", title="Listener uses a modern TLS policy", severity="high", resource_types=(LISTENER,),
    rationale="""
The security policy fixes the TLS versions and ciphers clients may negotiate; TLS 1.0/1.1 and CBC
ciphers are broken or deprecated. The allowlist is the `tls_profile` setting: "aws-recommended"
accepts policies whose minimum is TLS 1.2 (AWS's default ELBSecurityPolicy-TLS13-1-2-2021-06
included, unlike the TLS13-1-0/1-1 policies a prefix match would let through); "securityhub-elb17"
accepts only the TLS13-1-3 and TLS13-1-2-Res (FIPS, PQ) policies of Security Hub ELB.17, which
rejects TLS13-1-2-2021-06. An HTTPS/TLS listener without `ssl_policy` gets the API default,
ELBSecurityPolicy-2016-08 (TLS 1.0).""",
    remediation="Set `ssl_policy` to ELBSecurityPolicy-TLS13-1-2-Res-2021-06 (passes both profiles) or "
                "ELBSecurityPolicy-TLS13-1-2-2021-06 (AWS recommended).",
    terraform="""
resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
  certificate_arn   = aws_acm_certificate_validation.main.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}
""",
    peers=Peers(checkov=("CKV_AWS_103", "CKV2_AWS_74"), trivy=("AVD-AWS-0047",), securityhub=("ELB.17",),
                aws_config=("elbv2-predefined-security-policy-ssl-check",), prowler=("elbv2_insecure_ssl_ciphers",)),
    applies=_with_protocol(*TLS_PROTOCOLS),
)
def listener_tls_policy(res: Resource, ctx: RuleContext) -> Verdict:
    profile = TLS_PROFILES.get(ctx.settings.tls_profile)
    if profile is None:
        return unknown(f"unknown tls_profile {ctx.settings.tls_profile!r} (one of {', '.join(TLS_PROFILES)})")
    accepts, expected = profile
    policy = value_or_default(res, "ssl_policy", API_DEFAULT_SSL_POLICY)
    if policy is None:
        return unobserved("ssl_policy")
    what = "ssl_policy" if res.origin is not Origin.CODE or get(res, "ssl_policy") else "ssl_policy (API default)"
    return judge(policy, f"{what} under the {ctx.settings.tls_profile} profile",
                 lambda p: isinstance(p, str) and accepts(p), expected)


def _redirect_protocol(action: Mapping[str, Any]) -> Verdict:
    protocol = get(action, "redirect.0.protocol")
    if isinstance(protocol, Unresolved):
        return unresolved("the redirect protocol", protocol)
    if isinstance(protocol, str) and protocol.upper() == "HTTPS":
        return passed("redirects to HTTPS", protocol)
    shown = protocol or "#{protocol} (the default: the request's own protocol)"
    return failed(f"redirects to {shown}, not to HTTPS: the request stays on plain HTTP", protocol or "#{protocol}")


def _default_redirect(actions: Sequence[Mapping[str, Any]]) -> Verdict:
    if not actions:
        return failed("it has no default action")
    kinds = [a.get("type") for a in actions]
    for kind in kinds:
        if isinstance(kind, Unresolved):
            return unresolved("the default action type", kind)
    redirects = [a for a in actions if a.get("type") == "redirect"]
    if not redirects:
        return failed(f"the default action is {' + '.join(str(k) for k in kinds)}, not a redirect to HTTPS: it "
                      "serves plain HTTP", kinds)
    verdict = _redirect_protocol(redirects[0])
    return Verdict(verdict.status, f"the default action {verdict.message}", verdict.value)


def _rule_actions(listener_rule: Resource) -> Verdict:
    """A listener rule on an HTTP listener may answer (fixed response) or redirect to HTTPS, never forward."""
    where = name_of(listener_rule)
    actions = blocks(listener_rule, "action")
    if isinstance(actions, Unresolved):
        return unresolved(f"the actions of {where}", actions)
    verdicts = []
    for action in actions:
        kind = action.get("type")
        if isinstance(kind, Unresolved):
            verdicts.append(unresolved(f"an action type of {where}", kind))
        elif kind == "redirect":
            found = _redirect_protocol(action)
            verdicts.append(Verdict(found.status, f"{where} {found.message}", found.value))
        elif kind == "forward":
            verdicts.append(failed(f"{where} forwards plain HTTP requests to a target group", kind))
        else:
            verdicts.append(passed(f"{where} answers with {kind}"))
    return all_of(verdicts)


@rule(
    id="ALB-04", title="Every HTTP listener redirects to HTTPS", severity="high", resource_types=(LISTENER,),
    rationale="""
A plain-HTTP listener that forwards to the application exposes requests, cookies and tokens on the
wire. Each HTTP listener of an application load balancer must answer with a redirect whose protocol
is HTTPS (a redirect that keeps `#{protocol}` or names HTTP does not count, though some peers accept
any redirect), and no listener rule on it may forward. Listeners of network and gateway load
balancers (TCP:80 included) are not HTTP listeners. Mapped to Security Hub ELB.1: ELB.18 fails
every non-HTTPS listener, redirect-only ones included.""",
    remediation="Make the HTTP listener's default action `redirect { protocol = \"HTTPS\", port = \"443\", "
                "status_code = \"HTTP_301\" }` and move forwarding rules to the HTTPS listener.",
    terraform="""
resource "aws_lb_listener" "http_redirect" {
  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }
}
""",
    peers=Peers(checkov=("CKV_AWS_2", "CKV2_AWS_20"), trivy=("AVD-AWS-0054",), securityhub=("ELB.1",),
                aws_config=("alb-http-to-https-redirection-check",), prowler=("elbv2_ssl_listeners",)),
    applies=_with_protocol("HTTP"),
)
def http_redirects_to_https(res: Resource, ctx: RuleContext) -> Verdict:
    actions = blocks(res, "default_action")
    if isinstance(actions, Unresolved):
        return unresolved("default_action", actions)
    verdicts = [_default_redirect(actions)]
    rules_ = linked(ctx, res, (LISTENER_RULE,), "listener_arn", ARN_KEYS)
    verdicts += [_rule_actions(r) for r in rules_.matched]
    if rules_.undecided:
        verdicts.append(unknown(f"a listener rule may be attached: {rules_.describe_undecided()}"))
    verdict = all_of(verdicts)
    if verdict.status.value == "PASS" and not observed(ctx, res, LISTENER_RULE):
        return passed(f"{verdict.message} (its listener rules were not read)", verdict.value)
    return verdict


# --- load balancer hardening ---------------------------------------------------------------------


@rule(
    id="ALB-05", title="ALB drops invalid header fields", severity="medium", resource_types=(LB,),
    rationale="""
An ALB that passes header fields with invalid characters on to targets lets a client smuggle
requests past a proxy or the application's parsing (HTTP desync). With
`drop_invalid_header_fields = true` the load balancer removes them. The provider's default is
false.""",
    remediation="Set `drop_invalid_header_fields = true` on the load balancer.",
    terraform="""
resource "aws_lb" "main" {
  name                       = "example"
  load_balancer_type         = "application"
  subnets                    = [aws_subnet.public_a.id, aws_subnet.public_b.id]
  drop_invalid_header_fields = true
}
""",
    peers=Peers(checkov=("CKV_AWS_131",), trivy=("AVD-AWS-0052",), securityhub=("ELB.4",),
                aws_config=("alb-http-drop-invalid-header-enabled",),
                prowler=("elbv2_alb_drop_invalid_header_fields_enabled",)),
    applies=_for_types(APPLICATION),
)
def drops_invalid_headers(res: Resource, ctx: RuleContext) -> Verdict:
    return _attribute(res, "drop_invalid_header_fields", False, lambda v: v is True, "true")


@rule(
    id="ALB-06", title="Deletion protection is on", severity="medium", resource_types=(LB,),
    rationale="""
The load balancer is the service's public entry point (its DNS name is what clients and records
point at); deleting it by mistake, from the console or a bad `terraform apply`, is an outage.
Deletion protection makes AWS refuse the delete until it is turned off.""",
    remediation="Set `enable_deletion_protection = true` on the load balancer.",
    terraform="""
resource "aws_lb" "main" {
  name                       = "example"
  load_balancer_type         = "application"
  subnets                    = [aws_subnet.public_a.id, aws_subnet.public_b.id]
  enable_deletion_protection = true
}
""",
    peers=Peers(checkov=("CKV_AWS_150",), securityhub=("ELB.6",), aws_config=("elb-deletion-protection-enabled",),
                prowler=("elbv2_deletion_protection",)),
    applies=_for_types(*LB_TYPES),
)
def deletion_protection(res: Resource, ctx: RuleContext) -> Verdict:
    return _attribute(res, "enable_deletion_protection", False, lambda v: v is True, "true")


@rule(
    id="ALB-07", title="Access logs are on", severity="medium", resource_types=(LB,),
    rationale="""
Access logs record every request (client, path, status, target, TLS version): the evidence for an
incident and for the 5xx alarms' root cause. The `access_logs` block needs `enabled = true`, which
defaults to false even when a bucket is given. Gateway load balancers have no access logs.""",
    remediation="Add `access_logs { bucket = <bucket>, enabled = true }`; the bucket policy must let the "
                "region's Elastic Load Balancing account write to it.",
    terraform="""
resource "aws_lb" "main" {
  name               = "example"
  load_balancer_type = "application"
  subnets            = [aws_subnet.public_a.id, aws_subnet.public_b.id]

  access_logs {
    bucket  = aws_s3_bucket.alb_logs.id
    prefix  = "example"
    enabled = true
  }
}
""",
    peers=Peers(checkov=("CKV_AWS_91",), securityhub=("ELB.5",), aws_config=("elb-logging-enabled",),
                prowler=("elbv2_logging_enabled",)),
    applies=_for_types(APPLICATION, "network"),
)
def access_logs(res: Resource, ctx: RuleContext) -> Verdict:
    found = blocks(res, "access_logs")
    if isinstance(found, Unresolved):
        return unresolved("access_logs", found)
    if not found:
        if res.origin is Origin.LIVE:
            return unobserved("access_logs (DescribeLoadBalancerAttributes did not report access_logs.s3.*)")
        return failed("no access_logs block: access logging is off")
    enabled = as_bool(found[0].get("enabled"))
    verdict = judge(enabled, "access_logs.enabled", lambda v: v is True, "true",
                    absent=failed("access_logs.enabled is not set (default false): access logging is off"))
    if verdict.status.value != "PASS":
        return verdict
    bucket = found[0].get("bucket")
    if bucket in (None, ""):
        return failed("access_logs is enabled without a bucket")
    return passed(f"access logs go to bucket {show(bucket)}", show(bucket))


DESYNC_MODES = ("defensive", "strictest")


@rule(
    id="ALB-08", title="Desync mitigation is defensive or strictest", severity="low", resource_types=(LB,),
    rationale="""
The desync mitigation mode decides what the ALB does with ambiguous requests that could smuggle a
second request past it (HTTP desync). `monitor` forwards them all; `defensive` (the default) and
`strictest` block the dangerous ones. It is the alternative to ALB-05 that Security Hub's ELB.4
note points to.""",
    remediation="Leave `desync_mitigation_mode` at its default `defensive`, or set `strictest`.",
    terraform="""
resource "aws_lb" "main" {
  name                   = "example"
  load_balancer_type     = "application"
  subnets                = [aws_subnet.public_a.id, aws_subnet.public_b.id]
  desync_mitigation_mode = "defensive"
}
""",
    peers=Peers(checkov=("CKV_AWS_328",), securityhub=("ELB.12",), aws_config=("alb-desync-mode-check",),
                prowler=("elbv2_desync_mitigation_mode",)),
    applies=_for_types(APPLICATION),
)
def desync_mitigation(res: Resource, ctx: RuleContext) -> Verdict:
    return _attribute(res, "desync_mitigation_mode", "defensive", lambda v: v in DESYNC_MODES,
                      " or ".join(DESYNC_MODES))


# --- target groups -------------------------------------------------------------------------------


def _health_setting(block: Mapping[str, Any], name: str) -> Verdict:
    value = block.get(name)
    if isinstance(value, Unresolved):
        return unresolved(f"health_check.{name}", value)
    if not value:
        return failed(f"health_check.{name} is not set")
    return passed(f"health_check.{name} is {show(value)}", value)


@rule(
    id="ALB-09", title="Target group defines a health check", severity="medium", resource_types=(TARGET_GROUP,),
    rationale="""
The load balancer sends traffic only to targets that pass the health check, and the ECS deployment
circuit breaker and the blue/green deployer judge a release by it. An HTTP/HTTPS target group must
define it explicitly: an application endpoint (`path`) and the status codes that mean healthy
(`matcher`). Without a `health_check` block AWS probes `/` for 200, which proves only that
something answers.""",
    remediation="Add `health_check { path = \"/health\", matcher = \"200\" }` (with interval and thresholds "
                "that suit the application) to the target group.",
    terraform="""
resource "aws_lb_target_group" "app" {
  name        = "example"
  vpc_id      = aws_vpc.main.id
  target_type = "ip"
  port        = 3000
  protocol    = "HTTP"

  health_check {
    path    = "/health"
    matcher = "200"
  }
}
""",
    peers=Peers(checkov=("CKV_AWS_261",)),
)
def target_group_health_check(res: Resource, ctx: RuleContext) -> Verdict:
    protocol = get(res, "protocol")
    if isinstance(protocol, Unresolved):
        return unresolved("protocol", protocol)
    if not isinstance(protocol, str) or protocol.upper() not in ("HTTP", "HTTPS"):
        kind = value_or_default(res, "target_type", "instance")
        return not_applicable(f"a {protocol or kind} target group (judged for HTTP and HTTPS target groups)")
    found = blocks(res, "health_check")
    if isinstance(found, Unresolved):
        return unresolved("health_check", found)
    if not found:
        return failed("no health_check block: AWS probes / for 200, which proves only that something answers")
    enabled = as_bool(found[0].get("enabled"))
    if isinstance(enabled, Unresolved):
        return unresolved("health_check.enabled", enabled)
    if enabled is False:
        return failed("health_check.enabled is false", False)
    return all_of([_health_setting(found[0], "path"), _health_setting(found[0], "matcher")])
