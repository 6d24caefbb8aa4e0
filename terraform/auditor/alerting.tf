# After each scheduled run the auditor sends CloudWatch metrics (namespace DriftAudit, dimensions
# Job and State), publishes change notifications to this topic and publishes its report to
# s3://<report_bucket_name>/<report_prefix>/<job>/ (auditor/report/publish.py: PutObject with SSE-S3,
# GetObject of index.json, ListBucket so a first publish sees "no index yet" rather than AccessDenied).
# policies/audit-publish.json grants exactly those calls; the read-only policy stays read-only.
locals {
  publish_policy = file("${path.module}/policies/audit-publish.json")
}

resource "aws_sns_topic" "drift_audit" {
  name = "digitallync-drift-audit"
}

resource "aws_iam_policy" "audit_publish" {
  name        = "digitallync-audit-publish"
  description = "CloudWatch metrics and SNS notifications of scheduled audits"
  policy      = local.publish_policy

  lifecycle {
    precondition {
      condition     = strcontains(local.publish_policy, ":${aws_sns_topic.drift_audit.name}\"")
      error_message = "policies/audit-publish.json does not name the drift-audit topic."
    }
    precondition {
      condition     = strcontains(local.publish_policy, "\"arn:aws:s3:::${var.report_bucket_name}/${var.report_prefix}/*\"")
      error_message = "policies/audit-publish.json does not cover the reports named by report_bucket_name and report_prefix."
    }
  }
}

resource "aws_iam_role_policy_attachment" "auditor_task_publish" {
  role       = aws_iam_role.auditor_task.name
  policy_arn = aws_iam_policy.audit_publish.arn
}

# Drift above the threshold pages whoever subscribes to the topic.
resource "aws_cloudwatch_metric_alarm" "drift_index" {
  alarm_name          = "digitallync-drift-index"
  alarm_description   = "Drift index of the nightly audit at or above ${var.drift_index_alarm_threshold}"
  namespace           = "DriftAudit"
  metric_name         = "DriftIndex"
  dimensions          = { Job = var.audit_job_name, State = "all" }
  statistic           = "Maximum"
  period              = 86400
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.drift_index_alarm_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.drift_audit.arn]
  ok_actions          = [aws_sns_topic.drift_audit.arn]
}

# A failed run, or no run at all for a day (missing data), pages too.
resource "aws_cloudwatch_metric_alarm" "run_failed" {
  alarm_name          = "digitallync-audit-run-failed"
  alarm_description   = "The nightly audit failed or did not run"
  namespace           = "DriftAudit"
  metric_name         = "RunFailed"
  dimensions          = { Job = var.audit_job_name, State = "all" }
  statistic           = "Maximum"
  period              = 86400
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.drift_audit.arn]
  ok_actions          = [aws_sns_topic.drift_audit.arn]
}
