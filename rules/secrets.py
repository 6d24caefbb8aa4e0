"""SEC-01..04: secrets that Terraform code, task definitions and module interfaces expose.

SEC-01 and SEC-04 judge the `terraform_file` pseudo-resource (one per .tf/.tfvars file, with the
masked findings of a detect-secrets pass over its raw text), SEC-03 the `terraform_variable` and
`terraform_output` pseudo-resources (see `auditor.rules.secrets`), SEC-02 every task definition from
code, state and live alike. No message or value ever holds a secret: only its masked prefix and length.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.models import Resource, Unresolved
from auditor.rules.containers import judge_containers
from auditor.rules.engine import rule
from auditor.rules.model import Peers, RuleContext, Verdict
from auditor.rules.read import get
from auditor.rules.secrets import (
    FILE_TYPE,
    OUTPUT_TYPE,
    VARIABLE_TYPE,
    describe_hits,
    hits_of,
    is_secret_name,
    mask,
    unknown_secret_source,
    value_secret_kind,
)
from auditor.rules.verdicts import failed, not_applicable, passed, unknown, unresolved

TASK_DEFINITION = "aws_ecs_task_definition"


def _file_hits(res: Resource, *, aws: bool, what: str) -> Verdict:
    hits = hits_of(res, aws=aws)
    path = get(res, "path")
    if hits:
        return failed(f"{len(hits)} hard-coded {what} in {path}: {describe_hits(hits)}", hits[0]["masked"])
    return passed(f"no hard-coded {what} in {path}")


@rule(
    id="SEC-01", title="No hard-coded AWS credentials in Terraform files", severity="critical",
    resource_types=(FILE_TYPE,),
    rationale="""
An access key written into a .tf or .tfvars file is in every clone, fork, CI log and state snapshot of
the repository, and stays in its history after the line is deleted: anyone who reads the code can act
as that IAM identity. The whole text is read, not only provider blocks: access key ids (AKIA/ASIA...)
anywhere, and secret keys or session tokens in AWS provider and S3 backend blocks or under names that
mention AWS (variable defaults, locals, maps). Findings show a masked prefix and the length only.
""",
    remediation="Delete the key from the code and deactivate it in IAM (it is compromised once committed); let "
                "the provider use the standard credential chain (environment, profile, SSO, an assumed role or "
                "OIDC in CI). A line that only looks like a key can be marked `# pragma: allowlist secret`.",
    terraform="""
provider "aws" {
  region = "eu-west-1"
  # credentials come from the environment, a profile or an assumed role
  assume_role {
    role_arn = "arn:aws:iam::111122223333:role/terraform"
  }
}
""",
    peers=Peers(checkov=("CKV_AWS_41", "CKV_SECRET_2"), trivy=("aws-access-key-id", "aws-secret-access-key")),
)
def no_aws_credentials(res: Resource, ctx: RuleContext) -> Verdict:
    return _file_hits(res, aws=True, what="AWS credentials")


@rule(
    id="SEC-04", title="No other hard-coded secrets in Terraform files", severity="high",
    resource_types=(FILE_TYPE,),
    rationale="""
Passwords, tokens and private keys written into the code leak the same way as AWS keys: to every reader
of the repository and into the state in clear text. Found are what detect-secrets' plugins recognise
(private keys, service tokens, JWTs, credentials in URLs, `password = "..."` style assignments),
random-looking strings under secret names, and any literal string given to an argument, object key or
variable default whose name says secret (the same name rule that redacts state).
""",
    remediation="Pass the secret at apply time instead: a `sensitive = true` variable without default, an "
                "`ephemeral` resource or a data source reading Secrets Manager / SSM, or a write-only argument "
                "(`password_wo`); or let the service manage it (`manage_master_user_password = true`). Rotate a "
                "secret that was committed. Mark a false positive with `# pragma: allowlist secret`.",
    terraform="""
resource "aws_db_instance" "main" {
  identifier                  = "app"
  engine                      = "postgres"
  instance_class              = "db.t4g.micro"
  allocated_storage           = 20
  username                    = "app"
  manage_master_user_password = true
}
""",
    peers=Peers(checkov=("CKV_SECRET_4", "CKV_SECRET_6", "CKV_SECRET_9", "CKV_SECRET_10", "CKV_SECRET_13",
                         "CKV_SECRET_19")),
)
def no_other_secrets(res: Resource, ctx: RuleContext) -> Verdict:
    return _file_hits(res, aws=False, what="secrets")


# --- SEC-02 ------------------------------------------------------------------------------------


def _is_reference(value: Any) -> bool:
    """An empty value or an ARN names where a secret is, it is not one."""
    return value is None or value == "" or (isinstance(value, str) and value.startswith("arn:"))


def _entry_problem(name: Any, value: Any, what: str) -> str | Unresolved | None:
    """Why one plain name/value pair passes a secret (None when it does not; Unresolved when unknown)."""
    if isinstance(name, Unresolved):
        return Unresolved(f"the name of a {what} cannot be known statically: {name.reason}")
    label = f"{what} {name}"
    if isinstance(name, str) and is_secret_name(name) and not _is_reference(value):
        return f"{label} (the name says secret)"
    if isinstance(value, str):
        kind = value_secret_kind(value)
        return f"{label} looks like a secret ({kind}): {mask(value)}" if kind else None
    if isinstance(value, Unresolved):
        source = unknown_secret_source(value)
        return f"{label} is set from {source}" if source else None
    return None


def _pairs(container: Mapping[str, Any]) -> list[tuple[Any, Any, str]] | Unresolved:
    """(name, value, what) of the container's plain environment and log driver options."""
    out: list[tuple[Any, Any, str]] = []
    environment = container.get("environment")
    if isinstance(environment, Unresolved):
        return environment
    for entry in environment or ():
        if isinstance(entry, Unresolved):
            return entry
        if isinstance(entry, Mapping):
            out.append((entry.get("name"), entry.get("value"), "environment variable"))
    options = get(container, "logConfiguration.options")
    if isinstance(options, Unresolved):
        return options
    if isinstance(options, Mapping):
        out.extend((key, value, "log option") for key, value in options.items())
    return out


def _container_secrets(container: Mapping[str, Any]) -> Verdict:
    pairs = _pairs(container)
    if isinstance(pairs, Unresolved):
        return unresolved("the environment", pairs)
    problems = [_entry_problem(name, value, what) for name, value, what in pairs]
    plain = [p for p in problems if isinstance(p, str)]
    if plain:
        return failed("passes secrets in plain text instead of `secrets` (valueFrom): " + "; ".join(plain),
                      len(plain))
    unknowns = [p for p in problems if isinstance(p, Unresolved)]
    if unknowns:
        return unknown("; ".join(u.reason for u in unknowns))
    injected = container.get("secrets")
    count = len(injected) if isinstance(injected, list) else 0
    return passed(f"no secret in {len(pairs)} plain value(s); {count} injected from secrets", count)


@rule(
    id="SEC-02", title="Task definitions pass secrets through `secrets`, not plain environment values",
    severity="high", resource_types=(TASK_DEFINITION,),
    rationale="""
Plain `environment` values (and log driver `options`) are part of the task definition: anyone allowed
DescribeTaskDefinition, the console and every state snapshot show them in clear text, and each revision
keeps them forever. The `secrets` list injects the same variables at start from Secrets Manager or SSM
Parameter Store, under IAM and KMS control. A variable fails when its name says secret (PASSWORD,
SECRET, TOKEN, API_KEY, PRIVATE_KEY, AWS_SECRET_ACCESS_KEY, ...) and its value is not an ARN, when its
value looks like a key or token, or when code sets it from a sensitive or secret-named variable. A value
known only at apply time is judged by its name and its source.
""",
    remediation="Move the variable to the container's `secrets` list with `valueFrom` set to a Secrets Manager "
                "secret or SSM parameter ARN, give the execution role `secretsmanager:GetSecretValue` / "
                "`ssm:GetParameters` on it, and remove the plain value (register a new revision).",
    terraform="""
resource "aws_ecs_task_definition" "app" {
  family                   = "app"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  container_definitions = jsonencode([{
    name        = "app"
    image       = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:1.4.2"
    essential   = true
    environment = [{ name = "LOG_LEVEL", value = "info" }]
    secrets = [{
      name      = "DB_PASSWORD"
      valueFrom = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/db-password-AbCdEf"
    }]
  }])
}
""",
    peers=Peers(trivy=("AVD-AWS-0036",), securityhub=("ECS.8",), aws_config=("ecs-no-environment-secrets",),
                prowler=("ecs_task_definitions_no_environment_secrets",)),
)
def no_plain_secrets(res: Resource, ctx: RuleContext) -> Verdict:
    return judge_containers(res, _container_secrets)


# --- SEC-03 ------------------------------------------------------------------------------------


def _looks_secret(res: Resource, what: str) -> list[str]:
    reasons = []
    if get(res, "secret_name") is True:
        reasons.append("its name says secret")
    reasons += [f"its value reads {source}" for source in get(res, "secret_sources") or ()]
    hits = hits_of(res)
    if hits:
        reasons.append(f"its {what} holds {describe_hits(hits)}")
    return reasons


@rule(
    id="SEC-03", title="Secret-looking variables and outputs are `sensitive = true`", severity="medium",
    resource_types=(VARIABLE_TYPE, OUTPUT_TYPE),
    rationale="""
Terraform prints variables and outputs in plan and apply output, CI logs and `terraform output` unless
they are marked sensitive. A variable or output looks secret when its name says so (the same name rule
that redacts state), when an output reads a sensitive variable or a secret-named attribute
(`aws_db_instance.main.password`, `random_password.db.result`), or when a default or value holds what
the secret detectors recognise. Marking it sensitive keeps it out of the logs (the state still holds it:
protect the state, or use `ephemeral = true`).
""",
    remediation="Add `sensitive = true` to the variable or output block (and drop any literal default: pass the "
                "value at apply time).",
    terraform="""
variable "db_password" {
  type      = string
  sensitive = true
}

output "db_password" {
  value     = var.db_password
  sensitive = true
}
""",
    peers=Peers(),
)
def sensitive_declared(res: Resource, ctx: RuleContext) -> Verdict:
    kind, what = ("variable", "default") if res.type == VARIABLE_TYPE else ("output", "value")
    name = get(res, "name")
    reasons = _looks_secret(res, what)
    if not reasons:
        return not_applicable(f"{kind} {name} does not look secret")
    sensitive = get(res, "sensitive")
    if isinstance(sensitive, Unresolved):
        return unresolved("sensitive", sensitive)
    if sensitive is True:
        return passed(f"{kind} {name} looks secret ({reasons[0]}) and is sensitive", True)
    return failed(f"{kind} {name} looks secret ({'; '.join(reasons)}) but is not marked sensitive = true", False)
