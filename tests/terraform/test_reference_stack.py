"""terraform/: each file parses, is formatted, validates offline; the stack has the agreed addresses."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
import pytest

from auditor.inventory import load_collectors
from auditor.inventory.policy import inventory_actions
from tests.conftest import REPO

TERRAFORM = REPO / "terraform"
STACK = TERRAFORM / "stack"
BOOTSTRAP = TERRAFORM / "bootstrap"
AUDITOR = TERRAFORM / "auditor"
README = TERRAFORM / "README.md"
SEED = Path(__file__).resolve().parent / "fixtures" / "seed_task_definition"
POLICIES = AUDITOR / "policies"

ROOT_MODULES = {"bootstrap": BOOTSTRAP, "stack": STACK, "auditor": AUDITOR, "seed": SEED}
MIRROR_ENV = "AUDITOR_TF_PLUGIN_MIRROR"
MIRROR_CANDIDATES = (
    Path("/opt/tf-plugins"),
    Path("/usr/share/terraform/plugins"),
    Path("/usr/local/share/terraform/plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path.home() / ".local" / "share" / "terraform" / "plugins",
)
AWS_PROVIDER = Path("registry.terraform.io") / "hashicorp" / "aws"
UNREACHABLE_PROXY = "http://127.0.0.1:9"  # any request Terraform still tries fails on loopback

REQUIRED_ADDRESSES = frozenset({
    "aws_vpc.main",
    'aws_subnet.public["a"]', 'aws_subnet.public["b"]',
    'aws_subnet.private["a"]', 'aws_subnet.private["b"]',
    "aws_internet_gateway.main",
    "aws_route_table.public",
    'aws_route_table_association.public["a"]', 'aws_route_table_association.public["b"]',
    "aws_security_group.alb", "aws_security_group.service",
    "aws_vpc_security_group_ingress_rule.alb_https", "aws_vpc_security_group_ingress_rule.alb_http",
    "aws_vpc_security_group_ingress_rule.service_from_alb",
    "aws_vpc_security_group_egress_rule.alb_to_service",
    "aws_vpc_security_group_egress_rule.service_https_out",
    "aws_acm_certificate.main",
    "aws_lb.main", "aws_lb_target_group.blue", "aws_lb_target_group.green",
    "aws_lb_listener.https", "aws_lb_listener.http_redirect",
    "aws_ecs_cluster.main", "aws_ecs_task_definition.web_app", "aws_ecs_service.web_app",
    "aws_iam_role.ecs_execution_role", "aws_iam_role.ecs_task_role",
    "aws_ecr_repository.app", "aws_ecr_lifecycle_policy.app",
    "aws_cloudwatch_log_group.app", "aws_sns_topic.alarms",
    "aws_cloudwatch_metric_alarm.elb_5xx", "aws_cloudwatch_metric_alarm.target_5xx",
    "aws_cloudwatch_metric_alarm.unhealthy_hosts",
})

# The IAM actions behind every boto3 call `audit run` makes: the state backend's reads (the state object
# and its listing, the lock and digest item, the caller's identity and role), and what the collectors
# declare (auditor.inventory.policy, which writes the inventory statements of audit-readonly.json).
BACKEND_READ_ACTIONS = frozenset({
    "sts:GetCallerIdentity", "sts:AssumeRole", "s3:GetObject", "s3:ListBucket", "dynamodb:GetItem",
})
load_collectors()
AUDIT_READ_ACTIONS = BACKEND_READ_ACTIONS | frozenset(
    action for actions in inventory_actions().values() for action in actions)
# S3 decrypts KMS-encrypted state objects with the caller's permission; no boto3 call shows it.
AUDIT_READ_ONLY_EXTRAS = frozenset({"kms:Decrypt"})

_ADDRESS_IN_BACKTICKS = re.compile(r"`(aws_[a-z0-9_]+\.[a-z0-9_]+(?:\[[^\]`]+\])?)`")
_WHOLE_REFERENCE = re.compile(r"^\$\{(aws_[a-z0-9_]+)\.([a-z0-9_]+)\}$")
_WHOLE_LOCAL = re.compile(r"^\$\{local\.([a-z0-9_]+)\}$")
_TOSET_OF_STRINGS = re.compile(r'^\$\{toset\(\[((?:\s*"[^"]*"\s*,?)*)\]\)\}$')


# ---------------------------------------------------------------- reading HCL with python-hcl2


def _text(value: Any) -> Any:
    """A python-hcl2 string without the quotes that 5.x+ keeps around literals (4.x has none)."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return hcl2.load(handle)


def _labelled(blocks: Any) -> Iterator[tuple[str, Any]]:
    """(label, body) of every block in a python-hcl2 block list, skipping its `__meta__` keys."""
    for block in blocks or []:
        for label, body in block.items():
            if not label.startswith("__"):
                yield _text(label), body


@dataclass(frozen=True, slots=True)
class _Declared:
    """The resource and local blocks of one root module, keyed the way Terraform addresses them."""

    resources: dict[tuple[str, str], Mapping[str, Any]]
    locals: dict[str, Any]


def _declared(module: Path) -> _Declared:
    resources: dict[tuple[str, str], Mapping[str, Any]] = {}
    local_values: dict[str, Any] = {}
    for path in sorted(module.glob("*.tf")):
        document = _load(path)
        assert "module" not in document, f"{path.name}: the stack keeps every resource in the root module"
        for tf_type, by_name in _labelled(document.get("resource")):
            for name, body in by_name.items():
                if not name.startswith("__"):
                    assert (tf_type, _text(name)) not in resources, f"{tf_type}.{_text(name)} declared twice"
                    resources[(tf_type, _text(name))] = body
        for block in document.get("locals") or []:
            local_values.update({k: v for k, v in block.items() if not k.startswith("__")})
    return _Declared(resources, local_values)


def _instance_keys(for_each: Any, declared: _Declared) -> list[str]:
    """The keys of a for_each that is a literal map or set, a local holding one, or another resource."""
    if isinstance(for_each, Mapping):
        return [_text(key) for key in for_each if not key.startswith("__")]
    if isinstance(for_each, list):
        return [str(_text(item)) for item in for_each]
    if isinstance(for_each, str):
        if match := _WHOLE_REFERENCE.match(for_each):
            other = declared.resources[(match[1], match[2])]
            return _instance_keys(other["for_each"], declared)
        if match := _WHOLE_LOCAL.match(for_each):
            return _instance_keys(declared.locals[match[1]], declared)
        if match := _TOSET_OF_STRINGS.match(for_each):
            return re.findall(r'"([^"]*)"', match[1])
    raise AssertionError(f"for_each = {for_each!r} cannot be expanded statically; use a literal map or set")


def _addresses(declared: _Declared) -> set[str]:
    found: set[str] = set()
    for (tf_type, name), body in declared.resources.items():
        base = f"{tf_type}.{name}"
        if "for_each" in body:
            found.update(f'{base}["{key}"]' for key in _instance_keys(body["for_each"], declared))
        elif "count" in body:
            count = body["count"]
            assert isinstance(count, int), f"{base}: count = {count!r} is not a literal number"
            found.update(f"{base}[{index}]" for index in range(count))
        else:
            found.add(base)
    return found


def _readme_extra_addresses() -> set[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Addresses beyond the demo")
    end = text.find("\n## ", start + 1)
    return set(_ADDRESS_IN_BACKTICKS.findall(text[start:end if end != -1 else len(text)]))


def _variable_defaults(module: Path) -> dict[str, Any]:
    variables = _load(module / "variables.tf").get("variable")
    return {name: _text(body.get("default")) for name, body in _labelled(variables)}


def _s3_backend(path: Path) -> dict[str, Any]:
    blocks = [body for terraform in _load(path).get("terraform") or []
              for kind, body in _labelled(terraform.get("backend")) if kind == "s3"]
    assert len(blocks) == 1, f"{path}: expected one backend \"s3\" block, found {len(blocks)}"
    return {key: _text(value) for key, value in blocks[0].items() if not key.startswith("__")}


def _policy(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((POLICIES / name).read_text(encoding="utf-8"))
    return document


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _actions(policy: Mapping[str, Any]) -> dict[str, list[str]]:
    """Each action of an Allow-only policy and the resources it is granted on."""
    granted: dict[str, list[str]] = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow", statement
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        for action in _as_list(statement["Action"]):
            granted.setdefault(action, []).extend(_as_list(statement["Resource"]))
    return granted


# ---------------------------------------------------------------- the terraform binary, offline


def _plugin_mirror() -> Path | None:
    configured = os.environ.get(MIRROR_ENV)
    candidates = (Path(configured),) if configured else MIRROR_CANDIDATES
    return next((path for path in candidates if (path / AWS_PROVIDER).is_dir()), None)


@dataclass(frozen=True, slots=True)
class Terraform:
    """The terraform binary and an environment that can only install providers from the local mirror."""

    binary: str
    env: Mapping[str, str]

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.binary, *args], cwd=cwd, env=dict(self.env), capture_output=True,
                              text=True, timeout=300, check=False)


@pytest.fixture(scope="session")
def terraform_binary() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("terraform is not on PATH: install Terraform >= 1.10 to check formatting and validation")
    return binary


@pytest.fixture(scope="session")
def terraform(terraform_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    mirror = _plugin_mirror()
    if mirror is None:
        where = os.environ.get(MIRROR_ENV) or ", ".join(str(path) for path in MIRROR_CANDIDATES)
        pytest.skip(f"no provider mirror holding {AWS_PROVIDER} in {where} (set {MIRROR_ENV})")
    config = tmp_path_factory.mktemp("terraform-cli") / "terraform.rc"
    config.write_text(
        "provider_installation {\n"
        f"  filesystem_mirror {{\n    path    = {json.dumps(str(mirror))}\n"
        '    include = ["registry.terraform.io/*/*"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n'
        "}\ndisable_checkpoint = true\n", encoding="utf-8")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("TF_") and key.upper() not in {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}}
    env.update({"TF_CLI_CONFIG_FILE": str(config), "TF_IN_AUTOMATION": "1", "TF_INPUT": "0",
                "CHECKPOINT_DISABLE": "1", "HTTP_PROXY": UNREACHABLE_PROXY, "HTTPS_PROXY": UNREACHABLE_PROXY})
    return Terraform(terraform_binary, env)


@pytest.fixture(scope="session", params=sorted(ROOT_MODULES))
def initialized(request: pytest.FixtureRequest, terraform: Terraform,
                tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A copy of one root module in tmp, after `terraform init -backend=false` (the repo stays clean)."""
    name: str = request.param
    copy = tmp_path_factory.mktemp(f"tf-{name}") / name
    shutil.copytree(ROOT_MODULES[name], copy, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    result = terraform.run("init", "-backend=false", "-input=false", "-no-color", cwd=copy)
    assert result.returncode == 0, f"terraform init failed in {name}:\n{result.stdout}\n{result.stderr}"
    return name, copy


# ---------------------------------------------------------------- tests


def _tf_files() -> list[Path]:
    files = [path for path in TERRAFORM.rglob("*.tf") if ".terraform" not in path.parts]
    return sorted(files) + sorted(SEED.glob("*.tf"))


@pytest.mark.parametrize("path", _tf_files(), ids=lambda path: str(path.relative_to(REPO)))
def test_every_tf_file_parses(path: Path) -> None:
    document = _load(path)
    assert any(not key.startswith("__") for key in document), f"{path} declares nothing"


def test_the_tree_holds_the_three_root_modules() -> None:
    for module in (BOOTSTRAP, STACK, AUDITOR):
        assert sorted(module.glob("*.tf")), f"{module} has no .tf files"
    assert (BOOTSTRAP / "backend.tf.example").is_file()
    assert (STACK / "backend.tf").is_file()


def test_terraform_fmt_reports_nothing(terraform_binary: str, tmp_path: Path) -> None:
    command = [terraform_binary, "fmt", "-check", "-recursive", "-diff", "-no-color", str(TERRAFORM)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"
    example = tmp_path / "backend_example.tf"  # fmt only looks at *.tf
    shutil.copyfile(BOOTSTRAP / "backend.tf.example", example)
    result = subprocess.run([terraform_binary, "fmt", "-check", "-diff", "-no-color", str(example)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"backend.tf.example is not formatted:\n{result.stdout}{result.stderr}"


def test_terraform_validate(initialized: tuple[str, Path], terraform: Terraform) -> None:
    name, copy = initialized
    result = terraform.run("validate", "-json", "-no-color", cwd=copy)
    report = json.loads(result.stdout)
    problems = [f"{d['severity']}: {d['summary']} {d.get('range', {}).get('filename', '')}"
                for d in report["diagnostics"]]
    assert report["valid"] and not problems, f"terraform validate in {name}:\n" + "\n".join(problems)


def test_stack_declares_exactly_the_agreed_addresses() -> None:
    extras = _readme_extra_addresses()
    assert extras, "terraform/README.md has no addresses under 'Addresses beyond the demo'"
    overlap = sorted(extras & REQUIRED_ADDRESSES)
    assert not overlap, f"listed as extras but already required: {overlap}"
    declared = _addresses(_declared(STACK))
    expected = REQUIRED_ADDRESSES | extras
    assert declared == expected, (f"declared but not agreed: {sorted(declared - expected)}; "
                                  f"agreed but not declared: {sorted(expected - declared)}")


def test_for_each_expansion_follows_references_locals_and_sets() -> None:
    declared = _Declared(
        resources={("aws_subnet", "x"): {"for_each": {"a": '"10.0.0.0/24"', "b": '"10.0.1.0/24"'}}},
        locals={"zones": '${toset(["c", "d"])}'},
    )
    assert _instance_keys("${aws_subnet.x}", declared) == ["a", "b"]
    assert _instance_keys("${local.zones}", declared) == ["c", "d"]
    with pytest.raises(AssertionError, match="cannot be expanded statically"):
        _instance_keys("${var.zones}", declared)


def test_backend_names_agree_everywhere() -> None:
    backend = _s3_backend(STACK / "backend.tf")
    assert backend == _s3_backend(BOOTSTRAP / "backend.tf.example")
    assert backend["key"] == "digitallync/prod/terraform.tfstate"
    assert backend["use_lockfile"] is True and backend["encrypt"] is True
    assert all(not str(value).startswith("${") for value in backend.values()), "backend takes literals only"
    boot, audit = _variable_defaults(BOOTSTRAP), _variable_defaults(AUDITOR)
    assert (backend["bucket"], backend["dynamodb_table"], backend["region"]) == (
        boot["state_bucket_name"], boot["lock_table_name"], boot["region"])
    for name in ("state_bucket_name", "lock_table_name"):
        assert audit[name] == boot[name], name
    readonly, fix = _actions(_policy("audit-readonly.json")), _actions(_policy("audit-fix.json"))
    assert readonly["s3:GetObject"] == [f"arn:aws:s3:::{backend['bucket']}/*"]
    assert readonly["s3:ListBucket"] == [f"arn:aws:s3:::{backend['bucket']}"]
    assert readonly["dynamodb:GetItem"] == [f"arn:aws:dynamodb:*:*:table/{backend['dynamodb_table']}"]
    assert fix["s3:PutObject"] == [f"arn:aws:s3:::{backend['bucket']}/*.tflock"]
    for action in ("dynamodb:PutItem", "dynamodb:DeleteItem"):
        assert readonly["dynamodb:GetItem"][0] in fix[action]


def test_readonly_policy_grants_exactly_the_audit_reads() -> None:
    policy = _policy("audit-readonly.json")
    assert policy["Version"] == "2012-10-17"
    granted = _actions(policy)
    assert set(granted) == AUDIT_READ_ACTIONS | AUDIT_READ_ONLY_EXTRAS, (
        f"missing: {sorted(AUDIT_READ_ACTIONS - set(granted))}; "
        f"unexpected: {sorted(set(granted) - AUDIT_READ_ACTIONS - AUDIT_READ_ONLY_EXTRAS)}")
    assert all("*" not in action for action in granted)
    decrypt = next(s for s in policy["Statement"] if "kms:Decrypt" in _as_list(s["Action"]))
    assert decrypt["Condition"]["StringLike"]["kms:ViaService"] == "s3.*.amazonaws.com"


def test_fix_policy_is_separate_from_the_reads() -> None:
    granted = _actions(_policy("audit-fix.json"))
    reads = _actions(_policy("audit-readonly.json"))
    shared = {(a, r) for a, rs in granted.items() for r in rs} & {(a, r) for a, rs in reads.items() for r in rs}
    # a revert may declare a read it needs for its precondition (the service's scalable target); never a write
    assert all(a.split(":", 1)[1].startswith(("Describe", "Get", "List")) for a, _ in shared), shared
    for action in ("ecs:UpdateService", "elasticloadbalancing:ModifyListener", "dynamodb:PutItem",
                   "dynamodb:DeleteItem", "s3:PutObject", "s3:DeleteObject"):
        assert action in granted, action
    wide = [a for a, resources in granted.items() if "*" in resources]
    assert all(a.split(":", 1)[1].startswith(("Describe", "Get", "List")) for a in wide), wide


def test_auditor_terraform_loads_the_policy_files() -> None:
    iam = (AUDITOR / "iam.tf").read_text(encoding="utf-8")
    for name in ("audit-readonly.json", "audit-fix.json"):
        assert f'file("${{path.module}}/policies/{name}")' in iam


def test_stack_image_is_pinned_by_digest_and_the_seed_is_not() -> None:
    stack_task = _declared(STACK).resources[("aws_ecs_task_definition", "web_app")]
    seed_task = _declared(SEED).resources[("aws_ecs_task_definition", "web_app")]
    assert _text(stack_task["family"]) == _text(seed_task["family"]) == "digitallync-core"
    stack_containers = stack_task["container_definitions"]
    seed_containers = seed_task["container_definitions"]
    assert "${aws_ecr_repository.app.repository_url}@${var.image_digest}" in stack_containers
    assert ":latest" not in stack_containers
    assert "${var.docker_image_url}:latest" in seed_containers and ".dkr.ecr." not in seed_containers
