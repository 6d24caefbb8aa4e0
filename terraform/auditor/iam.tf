# Policies live in policies/*.json, plain IAM policy documents that tests and reviewers can read
# without Terraform. They name the state bucket and lock table literally; the preconditions
# below stop a plan whose variables point somewhere the policies do not cover.
locals {
  readonly_policy = file("${path.module}/policies/audit-readonly.json")
  fix_policy      = file("${path.module}/policies/audit-fix.json")
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# `audit run`: reads state, locks (without taking them) and live resources. Never writes.
resource "aws_iam_policy" "audit_readonly" {
  name        = "digitallync-audit-readonly"
  description = "Read-only access for `audit run`"
  policy      = local.readonly_policy

  lifecycle {
    precondition {
      condition     = strcontains(local.readonly_policy, "arn:aws:s3:::${var.state_bucket_name}/*") && strcontains(local.readonly_policy, ":table/${var.lock_table_name}")
      error_message = "policies/audit-readonly.json does not cover the state bucket and lock table named by the variables."
    }
  }
}

# `--fix`: takes and releases the Terraform lock and reverts drift on the stack's resources.
resource "aws_iam_policy" "audit_fix" {
  name        = "digitallync-audit-fix"
  description = "Writes needed by the auditor's fix mode (lock handling and drift reverts)"
  policy      = local.fix_policy

  lifecycle {
    precondition {
      condition     = strcontains(local.fix_policy, "arn:aws:s3:::${var.state_bucket_name}/*.tflock") && strcontains(local.fix_policy, ":table/${var.lock_table_name}")
      error_message = "policies/audit-fix.json does not cover the state bucket and lock table named by the variables."
    }
  }
}

# The nightly task's role: read-only.
resource "aws_iam_role" "auditor_task" {
  name               = "digitallync-auditor-readonly"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "auditor_task_readonly" {
  role       = aws_iam_role.auditor_task.name
  policy_arn = aws_iam_policy.audit_readonly.arn
}

# Only for an operator-started fix run (a run-task override of the task role); the schedule
# never uses it.
resource "aws_iam_role" "auditor_fix" {
  name               = "digitallync-auditor-fix"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "auditor_fix" {
  for_each = {
    readonly = aws_iam_policy.audit_readonly.arn
    fix      = aws_iam_policy.audit_fix.arn
    deploy   = aws_iam_policy.audit_deploy.arn # a redeploy goes through the blue/green deployer
  }

  role       = aws_iam_role.auditor_fix.name
  policy_arn = each.value
}

resource "aws_iam_role" "auditor_execution" {
  name               = "digitallync-auditor-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "auditor_execution" {
  role       = aws_iam_role.auditor_execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}
