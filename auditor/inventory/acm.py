"""ACM certificates and their validations (the HTTPS listeners' certificates).

Calls per region: ListCertificates (paginated, every key type) once; DescribeCertificate for
certificates a state holds, their tags from one paginated Tagging API GetResources (acm:certificate), or
ListTagsForCertificate per held certificate where that is denied.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from auditor.catalog import TypeSpec
from auditor.inventory.base import CollectContext, collector, held_tags, paginate, tags_dict
from auditor.models import Resource


def _rfc3339(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value or "")


# --- aws_acm_certificate --------------------------------------------------------------------------

CERTIFICATE = TypeSpec(
    type="aws_acm_certificate", partially_read=True,
    calls=("ListCertificates", "DescribeCertificate", "ListTagsForCertificate",
           "resourcegroupstaggingapi:GetResources"),
    service="acm",
    compared=("domain_name", "subject_alternative_names", "key_algorithm", "certificate_authority_arn",
              "options"),
    set_paths=("subject_alternative_names",),
    optional_live=("options",),
    tags=True,
    ignored={
        "arn": "the import id", "id": "the import id",
        "certificate_body": "not returned by DescribeCertificate (GetCertificate per certificate)",
        "certificate_chain": "not returned by DescribeCertificate (GetCertificate per certificate)",
        "private_key": "secret; never readable from AWS",
        "status": "computed; expiry and revocation are rules' business",
        "not_after": "computed; moves on every managed renewal",
        "not_before": "computed; moves on every managed renewal",
        "pending_renewal": "computed by the provider from early_renewal_duration",
        "early_renewal_duration": "provider-only",
        "renewal_eligibility": "computed", "renewal_summary": "computed", "type": "computed",
        "domain_validation_options": "computed DNS validation records",
        "validation_emails": "computed", "validation_method": "create-time; a change makes a new certificate",
        "validation_option": "create-time input",
    },
    notes="DescribeCertificate is called, and tags read, only for certificates a state holds; "
          "the others keep their ListCertificates summary (`_summary_only`).",
)


def _key_types(acm: Any) -> list[str]:
    """Every key type ListCertificates can filter on (by default it lists RSA_2048 only)."""
    includes = acm.meta.service_model.operation_model("ListCertificates").input_shape.members["Includes"]
    return list(includes.members["keyTypes"].member.enum)


def certificate_attributes(detail: Mapping[str, Any], tags: Mapping[str, str]) -> dict[str, Any]:
    """A DescribeCertificate answer in aws_acm_certificate state shape."""
    arn = detail["CertificateArn"]
    kind = detail.get("Type", "")
    validations = detail.get("DomainValidationOptions") or []
    method = next((v["ValidationMethod"] for v in validations if v.get("ValidationMethod")), "")
    attrs: dict[str, Any] = {
        "id": arn,
        "arn": arn,
        "domain_name": detail.get("DomainName", ""),
        "subject_alternative_names": sorted(detail.get("SubjectAlternativeNames") or []),
        "key_algorithm": detail.get("KeyAlgorithm", ""),
        "certificate_authority_arn": detail.get("CertificateAuthorityArn", ""),
        "status": detail.get("Status", ""),
        "type": kind,
        "not_after": _rfc3339(detail.get("NotAfter")),
        "not_before": _rfc3339(detail.get("NotBefore")),
        "renewal_eligibility": detail.get("RenewalEligibility", ""),
        "validation_method": method if kind == "AMAZON_ISSUED" and method else "NONE",
        "domain_validation_options": sorted((
            {"domain_name": v.get("DomainName", ""),
             "resource_record_name": v["ResourceRecord"].get("Name", ""),
             "resource_record_type": v["ResourceRecord"].get("Type", ""),
             "resource_record_value": v["ResourceRecord"].get("Value", "")}
            for v in validations if v.get("ResourceRecord")), key=lambda v: v["domain_name"]),
        "validation_emails": sorted({e for v in validations for e in v.get("ValidationEmails") or []}),
    }
    preference = (detail.get("Options") or {}).get("CertificateTransparencyLoggingPreference")
    if preference:
        attrs["options"] = [{"certificate_transparency_logging_preference": preference}]
    return {**attrs, "tags": dict(tags), "tags_all": dict(tags)}


def certificate_summary_attributes(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A ListCertificates summary: enough to report an unmanaged certificate."""
    arn = summary["CertificateArn"]
    sans = summary.get("SubjectAlternativeNameSummaries")
    attrs: dict[str, Any] = {
        "id": arn,
        "arn": arn,
        "domain_name": summary.get("DomainName", ""),
        "key_algorithm": summary.get("KeyAlgorithm", ""),
        "status": summary.get("Status", ""),
        "type": summary.get("Type", ""),
        "not_after": _rfc3339(summary.get("NotAfter")),
        "not_before": _rfc3339(summary.get("NotBefore")),
        "_summary_only": True,
    }
    if sans and not summary.get("HasAdditionalSubjectAlternativeNames"):
        attrs["subject_alternative_names"] = sorted(sans)
    return attrs


def _certificate_summaries(ctx: CollectContext) -> list[dict[str, Any]]:
    """Every certificate of the region (one paginated ListCertificates, shared by both ACM types)."""
    acm = ctx.client("acm")
    return ctx.shared("acm.list_certificates", lambda: list(paginate(
        acm, "list_certificates", "CertificateSummaryList", Includes={"keyTypes": _key_types(acm)})))


def _certificate_detail(ctx: CollectContext, arn: str) -> dict[str, Any]:
    """DescribeCertificate of one certificate, called once per region whichever ACM type asks first."""
    detail: dict[str, Any] = ctx.shared(f"acm.describe_certificate:{arn}", lambda: ctx.client(
        "acm").describe_certificate(CertificateArn=arn)["Certificate"])
    return detail


@collector(CERTIFICATE)
def collect_certificates(ctx: CollectContext) -> Iterator[Resource]:
    acm = ctx.client("acm")
    wanted = ctx.wanted.get(CERTIFICATE.type, frozenset())
    for summary in _certificate_summaries(ctx):
        arn = summary["CertificateArn"]
        if arn in wanted:
            tags = held_tags(ctx, "acm:certificate", arn, lambda held: tags_dict(
                acm.list_tags_for_certificate(CertificateArn=held).get("Tags")))
            attrs = certificate_attributes(_certificate_detail(ctx, arn), tags)
        else:
            attrs = certificate_summary_attributes(summary)
        yield ctx.resource(CERTIFICATE, arn, attrs)


# --- aws_acm_certificate_validation ---------------------------------------------------------------


def go_time_string(value: datetime) -> str:
    """A time as Go's time.Time.String() prints it in UTC: `2024-05-01 10:11:12.345 +0000 UTC`."""
    moment = value.astimezone(UTC)
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (f".{fraction}" if fraction else "") + " +0000 UTC"


CERTIFICATE_VALIDATION = TypeSpec(
    type="aws_acm_certificate_validation",
    calls=("ListCertificates", "DescribeCertificate"),
    service="acm",
    compared=("certificate_arn",),
    state_id=lambda a: str(a.get("certificate_arn") or "") or None,
    ignored={
        "id": "the provider's id is the certificate's IssuedAt time (Go time format), not an AWS id; "
              "matched on certificate_arn, the ARN `terraform import` would need",
        "validation_record_fqdns": "create-time input, checked against the certificate once and never read back",
        "timeouts": "provider-only",
    },
    report_unmanaged=False,
    notes="No AWS object of its own: its live form is the certificate being ISSUED, read as the provider "
          "reads it (DescribeCertificate, shared with aws_acm_certificate). One resource per certificate "
          "a state validation names, present while that certificate exists and is ISSUED; a certificate "
          "gone, expired, revoked or back to pending makes the validation missing (the provider drops it "
          "from state and would wait for validation again). The state holds no region for it, so it is "
          "looked up in the audit's default region.",
)


@collector(CERTIFICATE_VALIDATION)
def collect_certificate_validations(ctx: CollectContext) -> Iterator[Resource]:
    wanted = ctx.wanted.get(CERTIFICATE_VALIDATION.type, frozenset())
    if not wanted:
        return
    existing = {s["CertificateArn"] for s in _certificate_summaries(ctx)}
    for arn in sorted(wanted & existing):
        detail = _certificate_detail(ctx, arn)
        if detail.get("Status") != "ISSUED":
            continue
        issued = detail.get("IssuedAt")
        yield ctx.resource(CERTIFICATE_VALIDATION, arn, {
            "id": go_time_string(issued) if isinstance(issued, datetime) else str(issued or ""),
            "certificate_arn": detail.get("CertificateArn", arn),
        })
