variable "region" {
  type        = string
  description = "Region of the audited stack, of its state bucket and of the auditor task."
  default     = "ap-south-1"
}

variable "environment" {
  type        = string
  description = "Environment name, written to every resource's Environment tag."
  default     = "prod"
}

variable "cluster_name" {
  type        = string
  description = "ECS cluster the auditor task runs in (the stack's cluster)."
  default     = "digitallync"
}

variable "vpc_id" {
  type        = string
  description = "VPC of the auditor task (output vpc_id of ../stack)."
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets with a route to the AWS APIs (output private_subnet_ids of ../stack)."

  validation {
    condition     = length(var.private_subnet_ids) > 0
    error_message = "Give at least one private subnet."
  }
}

variable "auditor_image" {
  type        = string
  description = "Auditor container image in ECR, pinned by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:<64 hex>."

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$", var.auditor_image))
    error_message = "The auditor_image must be an ECR image pinned by digest (<registry>/<repo>@sha256:<64 hex>)."
  }
}

variable "state_bucket_name" {
  type        = string
  description = "Bucket holding the Terraform states (../bootstrap). policies/*.json name it literally: keep them in step."
  default     = "digitallync-tfstate"
}

variable "lock_table_name" {
  type        = string
  description = "DynamoDB lock table of the S3 backend (../bootstrap). policies/*.json name it literally: keep them in step."
  default     = "digitallync-tf-locks"
}

variable "report_bucket_name" {
  type        = string
  description = "Bucket the scheduled runs publish their reports to (`publish` in audit.toml's [[schedules]], SSE-S3). policies/audit-publish.json names it literally: keep them in step."
  default     = "digitallync-audit-reports"
}

variable "report_prefix" {
  type        = string
  description = "Folder of the reports inside report_bucket_name (`publish = \"s3://<bucket>/<prefix>\"`; each job writes under <prefix>/<job>/). policies/audit-publish.json names it literally: keep them in step."
  default     = "audit"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.report_prefix))
    error_message = "The report_prefix must be a key prefix without a leading or trailing slash, e.g. audit or reports/prod."
  }
}

variable "schedule_expression" {
  type        = string
  description = "When the audit runs, as an EventBridge Scheduler expression evaluated in UTC."
  default     = "cron(0 2 * * ? *)"
}

variable "audit_job_name" {
  type        = string
  description = "The [[schedules]] job the scheduled task runs (`audit schedule once <name>`) and whose CloudWatch metrics the alarms watch."
  default     = "nightly"
}

variable "drift_index_alarm_threshold" {
  type        = number
  description = "Drift index at or above which the drift alarm fires."
  default     = 10
}

variable "deploy_lease_table_name" {
  type        = string
  description = "DynamoDB table of the blue/green deployer's leases (`audit deploy --lease-table`). policies/audit-deploy.json names it literally: keep them in step."
  default     = "auditor-deploy-leases"
}

variable "audit_config" {
  type        = string
  sensitive   = true
  description = "audit.toml of the scheduled task, with the [[schedules]] job audit_job_name and a durable `history` (s3:// or postgresql://): stored as the SecureString parameter config_parameter_name, read by the task with `--config ssm:<name>`. E.g. TF_VAR_audit_config=\"$(cat audit.toml)\"."

  validation {
    condition     = length(trimspace(var.audit_config)) > 0 && length(var.audit_config) <= 8192
    error_message = "The audit_config must be a non-empty audit.toml of at most 8 KiB (the SSM advanced tier's limit)."
  }
}

variable "config_parameter_name" {
  type        = string
  description = "SSM parameter holding audit_config. policies/audit-config.json names it literally: keep them in step."
  default     = "/auditor/config"

  validation {
    condition     = can(regex("^(/[A-Za-z0-9_.-]+)+$", var.config_parameter_name))
    error_message = "The config_parameter_name must be an SSM parameter path such as /auditor/config."
  }
}
