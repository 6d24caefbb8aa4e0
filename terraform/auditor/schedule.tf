# The task's audit.toml: a stateless scheduled container has no config file of its own, so the
# config is a SecureString parameter the task reads (`--config ssm:<name>`, auditor/schedule/source.py).
# policies/audit-config.json grants the task role exactly ssm:GetParameter on it; the AWS managed key
# aws/ssm decrypts for any principal of the account allowed the GetParameter.
locals {
  config_policy = file("${path.module}/policies/audit-config.json")
}

resource "aws_ssm_parameter" "audit_config" {
  name        = var.config_parameter_name
  description = "audit.toml of the scheduled auditor task"
  type        = "SecureString"
  tier        = length(var.audit_config) > 4096 ? "Advanced" : "Standard"
  value       = var.audit_config
}

resource "aws_iam_policy" "audit_config" {
  name        = "digitallync-audit-config"
  description = "Read the scheduled audit's config parameter"
  policy      = local.config_policy

  lifecycle {
    precondition {
      condition     = strcontains(local.config_policy, "\"arn:aws:ssm:*:*:parameter${var.config_parameter_name}\"")
      error_message = "policies/audit-config.json does not name the parameter config_parameter_name."
    }
  }
}

resource "aws_iam_role_policy_attachment" "auditor_task_config" {
  role       = aws_iam_role.auditor_task.name
  policy_arn = aws_iam_policy.audit_config.arn
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# EventBridge Scheduler may start the auditor task in the stack's cluster, and pass the task's
# two roles to ECS; nothing else.
data "aws_iam_policy_document" "scheduler_run_task" {
  statement {
    actions   = ["ecs:RunTask"]
    resources = ["${aws_ecs_task_definition.auditor.arn_without_revision}:*"]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [data.aws_ecs_cluster.main.arn]
    }
  }

  statement {
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.auditor_execution.arn, aws_iam_role.auditor_task.arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "digitallync-auditor-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

resource "aws_iam_role_policy" "scheduler_run_task" {
  name   = "run-auditor-task"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler_run_task.json
}

resource "aws_scheduler_schedule" "nightly_audit" {
  name                         = "digitallync-nightly-audit"
  description                  = "Nightly drift and compliance audit of the digitallync stack"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = "UTC"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = data.aws_ecs_cluster.main.arn
    role_arn = aws_iam_role.scheduler.arn

    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.auditor.arn
      launch_type         = "FARGATE"
      task_count          = 1

      network_configuration {
        subnets          = var.private_subnet_ids
        security_groups  = [aws_security_group.auditor.id]
        assign_public_ip = false
      }
    }

    retry_policy {
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 3600
    }
  }
}
