output "task_definition_arn" {
  value = aws_ecs_task_definition.auditor.arn
}

output "readonly_role_arn" {
  description = "Role of the nightly audit task."
  value       = aws_iam_role.auditor_task.arn
}

output "fix_role_arn" {
  description = "Task role for an operator-started fix run (see README)."
  value       = aws_iam_role.auditor_fix.arn
}

output "schedule_arn" {
  value = aws_scheduler_schedule.nightly_audit.arn
}

output "log_group_name" {
  value = aws_cloudwatch_log_group.auditor.name
}

output "drift_audit_topic_arn" {
  description = "SNS topic of the drift alarms and the scheduler's notifications."
  value       = aws_sns_topic.drift_audit.arn
}

output "deployer_role_arn" {
  description = "Task role for a blue/green deploy (`audit deploy`); separate from the read-only audit role."
  value       = aws_iam_role.deployer.arn
}

output "deploy_lease_table_name" {
  value = aws_dynamodb_table.deploy_leases.name
}
