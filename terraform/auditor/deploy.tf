# The blue/green deployer (`audit deploy`, and `audit --fix` when it puts a service back): its lease
# table and its own role, separate from the nightly audit's read-only role.
locals {
  deploy_policy = file("${path.module}/policies/audit-deploy.json")
}

# One item per service being deployed: {LeaseID = "<cluster>/<blue>+<green>", holder, deploy_id,
# expires_at}. Taken with a conditional put, deleted when the deploy ends; TTL sweeps the lease of a
# deploy whose process died once it has expired.
resource "aws_dynamodb_table" "deploy_leases" {
  name                        = var.deploy_lease_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "LeaseID"
  deletion_protection_enabled = true

  attribute {
    name = "LeaseID"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

resource "aws_iam_policy" "audit_deploy" {
  name        = "digitallync-audit-deploy"
  description = "Blue/green deploys of the stack's ECS services: task definitions, scaling, listener weights, lease"
  policy      = local.deploy_policy

  lifecycle {
    precondition {
      condition     = strcontains(local.deploy_policy, ":table/${var.deploy_lease_table_name}")
      error_message = "policies/audit-deploy.json does not cover the lease table named by deploy_lease_table_name."
    }
  }
}

# Only for an operator- or CI-started deploy (a run-task override of the task role); the nightly
# schedule never uses it.
resource "aws_iam_role" "deployer" {
  name               = "digitallync-deployer"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "deployer" {
  role       = aws_iam_role.deployer.name
  policy_arn = aws_iam_policy.audit_deploy.arn
}
