"""Loading a folder: resources in state shape, expansion, modules, blocks, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.code import (
    CodeModule,
    Encoded,
    EvalError,
    Ref,
    Template,
    Unexpandable,
    Unresolved,
    declared_addresses,
    decoded,
    load_code,
)
from auditor.errors import ConfigError
from auditor.models import Origin
from auditor.state.model import REDACTED
from tests.code._helpers import by_address

Load = Callable[..., CodeModule]
Write = Callable[..., Path]

SEED_TASK = """
variable "docker_image_url" {%s}

resource "aws_ecs_task_definition" "web_app" {
  family                   = "digitallync-core"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.ecs_execution_role.arn
  container_definitions = jsonencode([{
    name = "production-web", image = "${var.docker_image_url}:latest", essential = true
    portMappings = [{ containerPort = 3000, hostPort = 3000 }]
    logConfiguration = { logDriver = "awslogs", options = {
      "awslogs-group" = "/ecs/digitallync", "awslogs-region" = "ap-south-1",
      "awslogs-stream-prefix" = "web" } }
  }])
}
"""


def test_seed_task_definition_with_a_variable_default(load: Load) -> None:
    module = load(SEED_TASK % ' default = "docker.io/acme/web" ')
    task = by_address(module, "aws_ecs_task_definition.web_app")
    assert task.type == "aws_ecs_task_definition" and task.origin is Origin.CODE
    assert task.id == task.address == "aws_ecs_task_definition.web_app"
    attributes = task.attributes
    assert attributes["cpu"] == "256" and attributes["requires_compatibilities"] == ["FARGATE"]
    assert attributes["execution_role_arn"] == Ref("aws_iam_role.ecs_execution_role", "arn")
    assert attributes["container_definitions"] == (
        '[{"essential":true,"image":"docker.io/acme/web:latest","logConfiguration":{"logDriver":"awslogs",'
        '"options":{"awslogs-group":"/ecs/digitallync","awslogs-region":"ap-south-1",'
        '"awslogs-stream-prefix":"web"}},"name":"production-web",'
        '"portMappings":[{"containerPort":3000,"hostPort":3000}]}]'
    )
    image = decoded(attributes, "container_definitions")[0]["image"]
    assert image.endswith(":latest") and ".dkr.ecr." not in image
    assert attributes["_location"] == {"file": "main.tf", "line": 4}


def test_seed_task_definition_without_a_default_keeps_what_is_known(load: Load) -> None:
    task = by_address(load(SEED_TASK % ""), "aws_ecs_task_definition.web_app")
    text = task.attributes["container_definitions"]
    assert isinstance(text, Encoded) and isinstance(text, Unresolved)
    container = task.attributes["_decoded_container_definitions"][0]
    assert decoded(task.attributes, "container_definitions")[0] is container
    image = container["image"]
    assert isinstance(image, Template)
    assert image.endswith(":latest") is True
    assert image.refs == ()  # nothing points at an aws_ecr_repository
    assert not any(".dkr.ecr." in part for part in image.literals)
    assert container["portMappings"] == [{"containerPort": 3000, "hostPort": 3000}]
    assert container["logConfiguration"]["options"]["awslogs-stream-prefix"] == "web"


def test_nested_blocks_are_lists_of_objects(load: Load) -> None:
    module = load("""
        resource "aws_lb_listener" "http" {
          port = 80
          default_action {
            type = "redirect"
            redirect {
              protocol    = "HTTPS"
              status_code = "HTTP_301"
            }
          }
        }
        resource "aws_lb_target_group" "tg" {
          health_check {
            path = "/health"
          }
          tags = { Name = "tg" }
        }
    """)
    listener = by_address(module, "aws_lb_listener.http").attributes
    assert listener["default_action"] == [{"type": "redirect",
                                           "redirect": [{"protocol": "HTTPS", "status_code": "HTTP_301"}]}]
    target_group = by_address(module, "aws_lb_target_group.tg").attributes
    assert target_group["health_check"] == [{"path": "/health"}]
    assert target_group["tags"] == {"Name": "tg"}


def test_type_aliases_are_canonical_but_addresses_keep_the_declared_type(load: Load) -> None:
    module = load("""
        resource "aws_alb" "a" {}
        resource "aws_alb_listener" "l" {}
        resource "aws_alb_target_group" "t" {}
    """)
    assert {(r.type, r.address) for r in module.resources} == {
        ("aws_lb", "aws_alb.a"), ("aws_lb_listener", "aws_alb_listener.l"),
        ("aws_lb_target_group", "aws_alb_target_group.t")}


def test_count_and_for_each_expansion(load: Load) -> None:
    module = load("""
        variable "n" { default = 2 }
        locals {
          buckets = { "logs.example.com" = "a", "say \\"hi\\"" = "b" }
        }
        resource "aws_s3_bucket" "counted" {
          count  = var.n
          bucket = "b-${count.index}"
        }
        resource "aws_s3_bucket" "keyed" {
          for_each = local.buckets
          bucket   = "${each.key}-${each.value}"
        }
        resource "aws_s3_bucket" "from_set" {
          for_each = toset(["x", "y"])
          bucket   = each.value
        }
        resource "aws_s3_bucket" "none" {
          count = 0
        }
        resource "aws_s3_bucket_versioning" "keyed" {
          for_each = aws_s3_bucket.keyed
          bucket   = each.value.bucket
        }
    """)
    assert declared_addresses(module) == {
        "aws_s3_bucket.counted[0]", "aws_s3_bucket.counted[1]",
        'aws_s3_bucket.keyed["logs.example.com"]', 'aws_s3_bucket.keyed["say \\"hi\\""]',
        'aws_s3_bucket.from_set["x"]', 'aws_s3_bucket.from_set["y"]',
        'aws_s3_bucket_versioning.keyed["logs.example.com"]', 'aws_s3_bucket_versioning.keyed["say \\"hi\\""]',
    }
    assert by_address(module, "aws_s3_bucket.counted[1]").attributes["bucket"] == "b-1"
    assert by_address(module, 'aws_s3_bucket.keyed["say \\"hi\\""]').attributes["bucket"] == 'say "hi"-b'
    assert by_address(module, 'aws_s3_bucket_versioning.keyed["logs.example.com"]').attributes["bucket"] == \
        "logs.example.com-a"
    assert module.unexpanded == ()


def test_unexpandable_for_each_is_said_not_guessed(load: Load) -> None:
    module = load("""
        data "aws_availability_zones" "available" {}
        variable "zones" {}
        resource "aws_subnet" "per_zone" {
          for_each          = toset(data.aws_availability_zones.available.names)
          availability_zone = each.key
        }
        resource "aws_subnet" "by_var" {
          count = length(var.zones)
        }
        resource "aws_subnet" "listed" {
          for_each = ["a", "b"]
        }
        resource "aws_route_table_association" "per_subnet" {
          for_each  = aws_subnet.per_zone
          subnet_id = each.value.id
        }
        resource "aws_lb" "main" {
          subnets = [aws_subnet.per_zone["a"].id]
        }
    """)
    assert declared_addresses(module) == {"data.aws_availability_zones.available", "aws_lb.main"}
    reasons = {u.address: u.reason for u in module.unexpanded}
    assert reasons["aws_subnet.per_zone"] == \
        "for_each is unknown (data source: data.aws_availability_zones.available.names)"
    assert reasons["aws_subnet.by_var"].startswith("count is unknown (var.zones has no value")
    assert reasons["aws_subnet.listed"] == "for_each must be a map or a set of strings, got a list (use toset())"
    assert reasons["aws_route_table_association.per_subnet"].startswith("for_each is unknown")
    assert module.unexpanded[0] == Unexpandable("aws_route_table_association.per_subnet",
                                                reasons["aws_route_table_association.per_subnet"], "main.tf", 14)
    # a reference into resources whose instances are unknown still names its target
    assert by_address(module, "aws_lb.main").attributes["subnets"] == [Ref('aws_subnet.per_zone["a"]', "id")]


def test_dynamic_blocks(load: Load) -> None:
    module = load("""
        variable "ports" { default = { http = 80, https = 443 } }
        variable "unknown" {}
        resource "aws_security_group" "web" {
          ingress {
            from_port = 22
          }
          dynamic "ingress" {
            for_each = var.ports
            iterator = rule
            content {
              description = rule.key
              from_port   = rule.value
            }
          }
          dynamic "egress" {
            for_each = var.unknown
            content {
              from_port = egress.value
            }
          }
        }
    """)
    attributes = by_address(module, "aws_security_group.web").attributes
    assert attributes["ingress"] == [{"from_port": 22}, {"description": "http", "from_port": 80},
                                     {"description": "https", "from_port": 443}]
    assert isinstance(attributes["egress"], Unresolved)
    assert attributes["egress"].reason.startswith("dynamic block egress:")


def test_local_module_with_for_each_and_outputs(write: Write) -> None:
    root = write({
        "main.tf": """
            provider "aws" {
              region = "eu-west-1"
            }
            module "site" {
              source   = "./modules/site"
              for_each = { blue = "b", green = "g" }
              name     = "web-${each.key}"
            }
            resource "aws_cloudwatch_metric_alarm" "blue" {
              alarm_name = module.site["blue"].lb_name
              dimensions = { LoadBalancer = module.site["blue"].lb_arn_suffix }
            }
        """,
        "modules/site/main.tf": """
            variable "name" {}
            resource "aws_lb" "this" {
              name = var.name
            }
            output "lb_name" { value = aws_lb.this.name }
            output "lb_arn_suffix" { value = aws_lb.this.arn_suffix }
        """,
    })
    module = load_code(root)
    assert declared_addresses(module) == {
        'module.site["blue"].aws_lb.this', 'module.site["green"].aws_lb.this', "aws_cloudwatch_metric_alarm.blue"}
    lb = by_address(module, 'module.site["green"].aws_lb.this')
    assert lb.attributes["name"] == "web-green"
    assert lb.attributes["_location"] == {"file": "modules/site/main.tf", "line": 3}
    assert lb.region == "eu-west-1"
    alarm = by_address(module, "aws_cloudwatch_metric_alarm.blue").attributes
    assert alarm["alarm_name"] == "web-blue"
    assert alarm["dimensions"] == {"LoadBalancer": Ref('module.site["blue"].aws_lb.this', "arn_suffix")}
    assert module.files == ("main.tf", "modules/site/main.tf")


def test_remote_module_is_unexpanded(load: Load) -> None:
    module = load("""
        module "vpc" {
          source  = "terraform-aws-modules/vpc/aws"
          version = "5.0.0"
        }
        module "git" {
          source = "git::https://example.com/mod.git"
        }
        resource "aws_lb" "main" {
          subnets = module.vpc.public_subnets
        }
    """)
    assert {u.address: u.reason for u in module.unexpanded} == {
        "module.vpc": "remote module source 'terraform-aws-modules/vpc/aws' is not loaded",
        "module.git": "remote module source 'git::https://example.com/mod.git' is not loaded",
    }
    subnets = by_address(module, "aws_lb.main").attributes["subnets"]
    assert isinstance(subnets, Unresolved) and "remote module source" in subnets.reason


def test_backend_settings(load: Load) -> None:
    module = load("""
        terraform {
          required_version = ">= 1.10"
          backend "s3" {
            bucket       = "acme-tfstate"
            key          = "prod/terraform.tfstate"
            region       = "eu-west-1"
            use_lockfile = true
          }
        }
    """)
    assert module.backend == {"bucket": "acme-tfstate", "key": "prod/terraform.tfstate", "region": "eu-west-1",
                              "use_lockfile": True, "_type": "s3", "_location": {"file": "main.tf", "line": 4}}
    assert load('resource "aws_vpc" "v" {}').backend is None


def test_override_files_merge_into_the_original(write: Write) -> None:
    root = write({
        "main.tf": """
            resource "aws_lb" "main" {
              name     = "web"
              internal = false
              access_logs {
                bucket = "old"
              }
            }
        """,
        "main_override.tf": """
            resource "aws_lb" "main" {
              internal = true
              access_logs {
                bucket = "new"
              }
            }
        """,
    })
    attributes = load_code(root).resources[0].attributes
    assert attributes["name"] == "web" and attributes["internal"] is True
    assert attributes["access_logs"] == [{"bucket": "new"}]


def test_regions_follow_provider_configurations(load: Load) -> None:
    module = load("""
        variable "region" { default = "ap-south-1" }
        provider "aws" {
          region = var.region
        }
        provider "aws" {
          alias  = "us"
          region = "us-east-1"
        }
        resource "aws_acm_certificate" "cdn" {
          provider = aws.us
        }
        resource "aws_vpc" "main" {}
        resource "random_id" "x" {}
    """)
    regions = {r.address: r.region for r in module.resources}
    assert regions == {"aws_acm_certificate.cdn": "us-east-1", "aws_vpc.main": "ap-south-1", "random_id.x": None}


def test_lifecycle_meta_arguments_are_annotations(load: Load) -> None:
    module = load("""
        resource "aws_lb_listener" "https" {
          port       = 443
          depends_on = [aws_lb.main]
          lifecycle {
            ignore_changes        = [default_action, tags["Owner"]]
            create_before_destroy = true
          }
        }
    """)
    attributes = by_address(module, "aws_lb_listener.https").attributes
    assert "depends_on" not in attributes and "lifecycle" not in attributes
    assert attributes["_lifecycle"] == {"ignore_changes": ["default_action", 'tags["Owner"]'],
                                        "create_before_destroy": True}


def test_secret_named_strings_are_redacted(load: Load) -> None:
    module = load("""
        variable "pw" {}
        resource "aws_db_instance" "db" {
          password        = "hunter2"
          master_password = "${var.pw}x"
          password_length = 12
          username        = "admin"
        }
    """)
    attributes = by_address(module, "aws_db_instance.db").attributes
    assert attributes["password"] == REDACTED and attributes["master_password"] == REDACTED
    assert attributes["password_length"] == 12 and attributes["username"] == "admin"


@pytest.mark.parametrize(("text", "message"), [
    ('resource "aws_vpc" "v" {\n  cidr_block = "10.0.0.0/16"\n  tags = {\n', "main.tf:4: malformed HCL"),
    ('resource "aws_vpc" "v" {\n  x = \n}\n', "main.tf:2: malformed HCL"),
    ('resource "aws_vpc" {\n}\n', "main.tf:1: a resource block takes 2 label(s)"),
    ('resource "aws_vpc" "v" {}\nresource "aws_vpc" "v" {}\n',
     "main.tf:2: duplicate resource aws_vpc.v (first declared at main.tf:1)"),
    ('resource "aws_vpc" "v" {\n  a = 1\n  a = 2\n}\n', "main.tf:3: duplicate argument 'a'"),
])
def test_malformed_hcl_is_a_one_line_config_error(load: Load, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(text)
    assert caught.value.message.startswith(message), caught.value.message
    assert "\n" not in str(caught.value)


def test_malformed_child_module_names_its_file(write: Write) -> None:
    root = write({"main.tf": 'module "m" {\n  source = "./m"\n}\n', "m/main.tf": "resource {\n"})
    with pytest.raises(ConfigError, match=r"^m/main\.tf:\d+: malformed HCL"):
        load_code(root)


def test_a_folder_without_tf_files_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("no code here", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"no \.tf files"):
        load_code(tmp_path)
    with pytest.raises(ConfigError, match="not a directory"):
        load_code(tmp_path / "missing")


def test_json_configuration_files_are_reported_not_silently_skipped(write: Write) -> None:
    root = write({"main.tf": 'resource "aws_vpc" "v" {}\n',
                  "extra.tf.json": json.dumps({"resource": {"aws_vpc": {"w": {}}}})})
    module = load_code(root)
    assert any("extra.tf.json" in p and "not read" in p for p in module.problems)


def test_data_sources_are_resources_of_their_own(load: Load) -> None:
    module = load("""
        data "aws_iam_policy_document" "assume" {
          statement {
            actions = ["sts:AssumeRole"]
          }
        }
        resource "aws_iam_role" "r" {
          assume_role_policy = data.aws_iam_policy_document.assume.json
        }
    """)
    (document,) = module.data_sources
    assert document.address == "data.aws_iam_policy_document.assume"
    assert document.attributes["statement"] == [{"actions": ["sts:AssumeRole"]}]
    role = by_address(module, "aws_iam_role.r").attributes
    assert role["assume_role_policy"] == Ref("data.aws_iam_policy_document.assume", "json")
    assert declared_addresses(module) == {"data.aws_iam_policy_document.assume", "aws_iam_role.r"}


def test_resources_are_in_state_list_order(load: Load) -> None:
    module = load("""
        resource "b_x" "a" {}
        resource "a_x" "b" {
          count = 11
        }
    """)
    assert [r.address for r in module.resources][:4] == ["a_x.b[0]", "a_x.b[1]", "a_x.b[2]", "a_x.b[3]"]
    assert module.resources[-1].address == "b_x.a"


def test_values_in_attributes_are_plain(load: Load) -> None:
    attributes = by_address(load("""
        resource "aws_vpc" "v" {
          ids  = toset(["b", "a"])
          nums = [for i in range(2) : i]
        }
    """), "aws_vpc.v").attributes
    assert attributes["ids"] == ["a", "b"] and type(attributes["ids"]) is list
    assert attributes["nums"] == [0, 1]


def test_counted_module_passes_providers_and_typed_inputs(write: Write) -> None:
    root = write({
        "main.tf": """
            provider "aws" {
              region = "eu-west-1"
            }
            provider "aws" {
              alias  = "us"
              region = "us-east-1"
            }
            variable "enabled" { default = true }
            module "edge" {
              source    = "./edge"
              count     = var.enabled ? 1 : 0
              providers = { aws = aws.us }
              ports     = ["443", "80"]
            }
            module "missing" {
              source = "./nowhere"
            }
        """,
        "edge/main.tf": """
            variable "ports" { type = list(number) }
            resource "aws_security_group_rule" "in" {
              count     = length(var.ports)
              from_port = var.ports[count.index]
            }
        """,
    })
    module = load_code(root)
    rules = [r for r in module.resources if r.type == "aws_security_group_rule"]
    assert [(r.address, r.attributes["from_port"], r.region) for r in rules] == [
        ("module.edge[0].aws_security_group_rule.in[0]", 443, "us-east-1"),
        ("module.edge[0].aws_security_group_rule.in[1]", 80, "us-east-1"),
    ]
    assert [(u.address, u.reason) for u in module.unexpanded] == [
        ("module.missing", "local module source './nowhere' has no .tf files")]


def test_a_broken_template_file_is_an_error_value_not_a_crash(write: Write) -> None:
    root = write({
        "main.tf": 'resource "terraform_data" "x" {\n  v = templatefile("t.tpl", {})\n}\n',
        "t.tpl": "%{ if true }never closed",
    })
    module = load_code(root)
    value = module.resources[0].attributes["v"]
    assert isinstance(value, EvalError) and "without %{endif}" in value.reason
    assert any("terraform_data.x.v" in p for p in module.problems)
