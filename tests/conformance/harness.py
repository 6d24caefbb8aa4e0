"""Real Terraform against an in-process moto server: toolchain discovery, work dirs, commands.

Used by the conformance suite and by bench/bench_vs_terraform.py. Nothing here can reach a real
AWS host: every provider and backend endpoint names the local moto server, providers install
only from the local filesystem mirror, and Terraform's HTTP(S) proxy is a closed loopback port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

from tests.conftest import REPO

TERRAFORM_DIR = REPO / "terraform"
AUDIT = str(Path(sys.executable).parent / "audit")

MIRROR_ENV = "AUDITOR_TF_PLUGIN_MIRROR"
MIRROR_CANDIDATES = (
    Path("/opt/tf-plugins"),
    Path("/usr/share/terraform/plugins"),
    Path.home() / ".terraform.d" / "plugins",
)
AWS_PROVIDER = Path("registry.terraform.io") / "hashicorp" / "aws"
UNREACHABLE_PROXY = "http://127.0.0.1:9"  # whatever Terraform still tries to fetch fails on loopback

# Every endpoint key of the provider's `endpoints` block the two configurations touch
# (the provider names the ALB API both `elb` and `elbv2`; both are set).
PROVIDER_SERVICES = ("acm", "appautoscaling", "cloudwatch", "dynamodb", "ec2", "ecr", "ecs", "elb", "elbv2", "events",
                     "iam", "kms", "logs", "route53", "s3", "secretsmanager", "servicediscovery", "sns", "sqs", "ssm",
                     "sts", "wafv2")
BACKEND_SERVICES = ("s3", "dynamodb", "sts", "iam")
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
OVERRIDE_FILE = "zz_conformance_override.tf"  # Terraform merges *_override.tf over the configuration

# The stack's three variables without defaults; values that pass its validations.
STACK_VARIABLES = {
    "domain_name": "app.digitallync.example",
    "image_digest": "sha256:" + "5" * 64,
    "docker_hub_credential_arn":
        "arn:aws:secretsmanager:ap-south-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf",
}


class ToolchainMissing(Exception):
    """Terraform or the AWS provider mirror is not on this machine (the suite skips)."""


@dataclass(frozen=True)
class Toolchain:
    terraform: str
    mirror: Path


def find_toolchain() -> Toolchain:
    """The terraform binary on PATH and a filesystem mirror holding hashicorp/aws."""
    terraform = shutil.which("terraform")
    if terraform is None:
        raise ToolchainMissing("terraform is not on PATH")
    configured = os.environ.get(MIRROR_ENV)
    candidates = (Path(configured),) if configured else MIRROR_CANDIDATES
    for candidate in candidates:
        if (candidate / AWS_PROVIDER).is_dir():
            return Toolchain(terraform, candidate)
    where = ", ".join(str(c) for c in candidates)
    raise ToolchainMissing(f"no provider mirror holding {AWS_PROVIDER} in {where} (set {MIRROR_ENV})")


def _hcl_text(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value.startswith('"') else value


@dataclass(frozen=True)
class Backend:
    """The S3 backend block of terraform/stack/backend.tf."""

    bucket: str
    key: str
    region: str
    table: str

    @property
    def state_uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def lock_id(self) -> str:
        return f"{self.bucket}/{self.key}"

    @classmethod
    def of_stack(cls) -> Backend:
        with (TERRAFORM_DIR / "stack" / "backend.tf").open(encoding="utf-8") as handle:
            document = hcl2.load(handle)
        [block] = [body for terraform in document["terraform"] for backend in terraform["backend"]
                   for kind, body in backend.items() if _hcl_text(kind) == "s3"]
        return cls(_hcl_text(block["bucket"]), _hcl_text(block["key"]), _hcl_text(block["region"]),
                   _hcl_text(block["dynamodb_table"]))


def _hcl_map(values: Mapping[str, str], indent: str) -> str:
    return "\n".join(f"{indent}{key:<10} = {json.dumps(value)}" for key, value in values.items())


def provider_override(endpoint: str) -> str:
    """The provider block that points every endpoint at moto with fake credentials."""
    endpoints = _hcl_map(dict.fromkeys(PROVIDER_SERVICES, endpoint), "    ")
    return f"""provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}
"""


def backend_override(endpoint: str, backend: Backend) -> str:
    """The S3 backend (DynamoDB lock and S3 lock file) on moto."""
    endpoints = ", ".join(f"{service} = {json.dumps(endpoint)}" for service in BACKEND_SERVICES)
    return f"""terraform {{
  backend "s3" {{
    bucket                      = {json.dumps(backend.bucket)}
    key                         = {json.dumps(backend.key)}
    region                      = {json.dumps(backend.region)}
    encrypt                     = true
    dynamodb_table              = {json.dumps(backend.table)}
    use_lockfile                = true
    use_path_style              = true
    access_key                  = "testing"
    secret_key                  = "testing"
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_region_validation      = true
    endpoints                   = {{ {endpoints} }}
  }}
}}
"""


def cli_config(mirror: Path) -> str:
    """TF_CLI_CONFIG_FILE content: providers from the mirror only, no checkpoint calls."""
    return f"""provider_installation {{
  filesystem_mirror {{
    path    = {json.dumps(str(mirror))}
    include = ["registry.terraform.io/*/*"]
  }}
  direct {{
    exclude = ["registry.terraform.io/*/*"]
  }}
}}
disable_checkpoint = true
"""


def _offline_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without AWS/Terraform settings or proxies, plus fake credentials, a
    closed loopback proxy for anything not on 127.0.0.1, and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))
           and k.lower() not in ("http_proxy", "https_proxy", "no_proxy", "all_proxy")}
    for name in ("HTTP_PROXY", "HTTPS_PROXY"):
        env[name] = env[name.lower()] = UNREACHABLE_PROXY
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1"
    env.update(FAKE_CREDENTIALS)
    env.update({"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"})
    env.update(extra)
    return env


class CommandFailed(AssertionError):
    """A Terraform or audit command exited with an unexpected code."""


@dataclass(frozen=True)
class Timed:
    """A finished command: its result and wall time."""

    result: subprocess.CompletedProcess[str]
    seconds: float


def run_timed(argv: list[str], *, cwd: Path | None, env: Mapping[str, str], timeout: float,
              ok: tuple[int, ...] = (0,)) -> Timed:
    """Run a command to completion; an exit code outside `ok` is CommandFailed with its output's tail."""
    started = time.monotonic()
    result = subprocess.run(argv, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout,
                            check=False)
    seconds = time.monotonic() - started
    if result.returncode not in ok:
        tail = (result.stderr or result.stdout)[-3000:]
        raise CommandFailed(f"{' '.join(argv[:3])} … exited {result.returncode} in {cwd}:\n{tail}")
    return Timed(result, seconds)


@dataclass
class TerraformRoot:
    """A copy of one root module of terraform/, wired to moto."""

    name: str
    path: Path
    terraform: str
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 300, ok: tuple[int, ...] = (0,)) -> Timed:
        return run_timed([self.terraform, *args, "-no-color"], cwd=self.path, env=self.env, timeout=timeout, ok=ok)

    def start(self, *args: str) -> subprocess.Popen[str]:
        """A Terraform command in the background with stdin a pipe (answer its prompt yourself)."""
        return subprocess.Popen([self.terraform, *args, "-no-color"], cwd=self.path, env=self.env, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def init(self) -> Timed:
        return self.run("init", "-input=false")

    def apply(self, *extra: str, timeout: float = 420) -> Timed:
        return self.run("apply", "-auto-approve", "-input=false", *extra, timeout=timeout)

    def refresh_only_plan(self, plan_name: str) -> tuple[Path, Timed]:
        """`terraform plan -refresh-only -out=… -lock=false`: the canonical drift check."""
        plan = self.path / plan_name
        timed = self.run("plan", "-refresh-only", f"-out={plan}", "-lock=false", "-input=false",
                         "-detailed-exitcode", ok=(0, 2))
        return plan, timed

    def show_json(self, plan: Path) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.run("show", "-json", str(plan)).result.stdout)
        return document


class RequestCounter:
    """Counts the requests the moto server answers, by caller (from the User-Agent)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_caller: Counter[str] = Counter()

    @staticmethod
    def caller(user_agent: str) -> str:
        if "terraform-provider-aws" in user_agent:
            return "terraform-provider"
        if "Terraform/" in user_agent:
            return "terraform-backend"
        return "boto3" if "Botocore/" in user_agent or "Boto3/" in user_agent else "other"

    def record(self, environ: Mapping[str, Any]) -> None:
        if str(environ.get("PATH_INFO", "")).startswith("/moto-api"):
            return
        with self._lock:
            self._by_caller[self.caller(str(environ.get("HTTP_USER_AGENT", "")))] += 1

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self._by_caller)

    @contextmanager
    def installed(self) -> Iterator[RequestCounter]:
        """Count every request any in-process moto server serves while active."""
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication

        original = DomainDispatcherApplication.__call__
        counter = self

        def counting(app: Any, environ: dict[str, Any], start_response: Any) -> Any:
            counter.record(environ)
            return original(app, environ, start_response)

        DomainDispatcherApplication.__call__ = counting  # type: ignore[assignment]
        try:
            yield self
        finally:
            DomainDispatcherApplication.__call__ = original  # type: ignore[method-assign]


@contextmanager
def moto_fidelity() -> Iterator[None]:
    """Fix, while active, the moto behaviour that would make both tools see something AWS never says.

    See MOTO_PATCHES for the list and the reasons; each is a deviation from AWS, not a test shortcut.
    """
    from moto.ec2.models.security_groups import SecurityGroupRule

    from auditor.demo.seed_platform import moto_honours_tls_only_policies

    moto_honours_tls_only_policies()
    original = SecurityGroupRule.__dict__["description"]

    def description(self: Any) -> str | None:
        found: str | None = self.ip_range.get("Description") or self.source_group.get("Description")
        return found

    SecurityGroupRule.description = property(description)  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        SecurityGroupRule.description = original  # type: ignore[method-assign]


MOTO_PATCHES = (
    ("DescribeSecurityGroupRules drops the Description of a rule that references a security group "
     "(moto reads it only from an IP range)",
     "Terraform and the auditor both read that call, so both reported the two group-referencing rules of the "
     "stack as changed (description → null) on a clean stack; AWS returns the description. The suite restores "
     "it from the rule's group pair."),
    ("a bucket policy statement with a Condition is applied unconditionally",
     "the state bucket's TLS-only Deny would refuse every request to the state "
     "(auditor.demo.seed_platform.moto_honours_tls_only_policies treats requests as made over TLS)."),
    ("CreatePullThroughCacheRule / DescribePullThroughCacheRules are not implemented",
     "auditor.demo.motoserver adds them in-process, so aws_ecr_pull_through_cache_rule.docker_hub is applied "
     "and audited like everything else (nothing is excluded from the stack)."),
    ("Application Auto Scaling's ListTagsForResource / TagResource / UntagResource are not implemented, and "
     "RegisterScalableTarget drops its Tags",
     "auditor.demo.motoserver adds them in-process (tags kept per scalable target), so the provider can read "
     "back aws_appautoscaling_target.web_app after creating it (and the auditor compares them)."),
    ("AWS managed IAM policies are not loaded by default",
     "MOTO_IAM_LOAD_MANAGED_POLICIES=true is set before the server starts (auditor.demo.motoserver), so "
     "aws_iam_role_policy_attachment.ecs_execution can attach AmazonECSTaskExecutionRolePolicy."),
)


@dataclass(frozen=True)
class AuditResult:
    exit_code: int
    document: dict[str, Any]
    seconds: float


@dataclass
class Lab:
    """A moto server, the bootstrap and stack configurations copied and wired to it, and `audit`."""

    toolchain: Toolchain
    workdir: Path
    backend: Backend = field(default_factory=Backend.of_stack)
    counter: RequestCounter = field(default_factory=RequestCounter)
    endpoint: str = ""
    terraform_env: dict[str, str] = field(default_factory=dict)
    bootstrap: TerraformRoot | None = None
    stack: TerraformRoot | None = None
    _stack: ExitStack = field(default_factory=ExitStack)

    def __enter__(self) -> Lab:
        from auditor.demo.motoserver import MotoServer

        try:
            self._stack.enter_context(moto_fidelity())
            self._stack.enter_context(self.counter.installed())
            server = self._stack.enter_context(MotoServer())
        except BaseException:
            self._stack.close()
            raise
        self.endpoint = server.endpoint
        cli = self.workdir / "terraform.tfrc"
        cli.write_text(cli_config(self.toolchain.mirror), encoding="utf-8")
        self.terraform_env = _offline_env({"TF_CLI_CONFIG_FILE": str(cli), "TF_IN_AUTOMATION": "1",
                                           "AWS_REGION": self.backend.region})
        self.bootstrap = self._wire(self._copy("bootstrap"), backend=None, variables={})
        self.stack = self._wire(self._copy("stack"), backend=self.backend, variables=STACK_VARIABLES)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _copy(self, name: str) -> Path:
        path = self.workdir / name
        shutil.copytree(TERRAFORM_DIR / name, path, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
        return path

    def _wire(self, path: Path, *, backend: Backend | None, variables: Mapping[str, str]) -> TerraformRoot:
        text = provider_override(self.endpoint) + (backend_override(self.endpoint, backend) if backend else "")
        (path / OVERRIDE_FILE).write_text(text, encoding="utf-8")
        if variables:
            (path / "conformance.auto.tfvars.json").write_text(json.dumps(dict(variables)), encoding="utf-8")
        return TerraformRoot(path.name, path, self.toolchain.terraform, self.terraform_env)

    def add_root(self, name: str, files: Mapping[str, str], backend: Backend | None) -> TerraformRoot:
        """Another root module (generated text), wired to moto, its state in `backend` (None: a local file)."""
        path = self.workdir / name
        path.mkdir(exist_ok=True)
        for file_name, text in files.items():
            (path / file_name).write_text(text, encoding="utf-8")
        return self._wire(path, backend=backend, variables={})

    @property
    def roots(self) -> tuple[TerraformRoot, TerraformRoot]:
        assert self.bootstrap is not None and self.stack is not None, "enter the Lab first"
        return self.bootstrap, self.stack

    @property
    def bootstrap_state(self) -> Path:
        return self.roots[0].path / "terraform.tfstate"

    def apply_all(self) -> dict[str, float]:
        """Bootstrap with local state, then the stack into the bootstrap's bucket and table."""
        seconds = {}
        for root in self.roots:
            seconds[f"{root.name} init"] = root.init().seconds
            seconds[f"{root.name} apply"] = root.apply().seconds
        return seconds

    def aws_env(self) -> dict[str, str]:
        """The standard SDK settings a user gives the auditor, pointed at moto."""
        return _offline_env({"AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": self.backend.region,
                             "AWS_MAX_ATTEMPTS": "2"})

    def audit(self, *extra: str, states: tuple[str, ...] = (), rules: bool = False,
              timeout: float = 300) -> AuditResult:
        """`audit run … --format json` of `states` (default: the stack's in S3 and the bootstrap's local file)."""
        chosen = states or (self.backend.state_uri, str(self.bootstrap_state))
        argv = [AUDIT, "run", *(a for uri in chosen for a in ("--state", uri)), "--lock-table", self.backend.table,
                "--region", self.backend.region, "--format", "json", *(() if rules else ("--no-rules",)), *extra]
        timed = run_timed(argv, cwd=self.workdir, env=self.aws_env(), timeout=timeout, ok=(0, 1, 2))
        if "Traceback" in timed.result.stderr:
            raise CommandFailed(f"audit printed a traceback:\n{timed.result.stderr[-3000:]}")
        try:
            document = json.loads(timed.result.stdout)
        except json.JSONDecodeError as exc:
            raise CommandFailed(f"audit exited {timed.result.returncode} without JSON: "
                                f"{timed.result.stderr[-2000:]}") from exc
        return AuditResult(timed.result.returncode, document, timed.seconds)

    def boto3_client(self, service: str) -> Any:
        import boto3

        make: Any = boto3.client
        return make(service, region_name=self.backend.region, endpoint_url=self.endpoint,
                    aws_access_key_id="testing", aws_secret_access_key="testing", config=_NO_RETRIES)


def _no_retries() -> Any:
    from botocore.config import Config

    return Config(retries={"max_attempts": 1})


_NO_RETRIES = _no_retries()
