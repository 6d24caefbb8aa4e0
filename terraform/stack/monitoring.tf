resource "aws_cloudwatch_log_group" "app" {
  name              = "/ecs/digitallync"
  retention_in_days = 30
}

# Subscribe the on-call channel (email, chat, paging) to this topic outside this stack.
resource "aws_sns_topic" "alarms" {
  name = "digitallync-core-alarms"
}

# 5xx responses produced by the load balancer itself (no healthy target, timeouts, ...).
resource "aws_cloudwatch_metric_alarm" "elb_5xx" {
  alarm_name          = "digitallync-core-elb-5xx"
  alarm_description   = "The load balancer returned 5xx responses of its own."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_ELB_5XX_Count"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  dimensions = {
    LoadBalancer = aws_lb.main.arn_suffix
  }
}

# 5xx responses from the tasks behind the blue target group.
resource "aws_cloudwatch_metric_alarm" "target_5xx" {
  alarm_name          = "digitallync-core-target-5xx-blue"
  alarm_description   = "The blue target group's tasks returned 5xx responses."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  dimensions = {
    LoadBalancer = aws_lb.main.arn_suffix
    TargetGroup  = aws_lb_target_group.blue.arn_suffix
  }
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  alarm_name          = "digitallync-core-unhealthy-hosts-blue"
  alarm_description   = "A task behind the blue target group fails its health check."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  dimensions = {
    LoadBalancer = aws_lb.main.arn_suffix
    TargetGroup  = aws_lb_target_group.blue.arn_suffix
  }
}

# The green target group serves production traffic during and after a blue/green release, and
# the deployer gates each traffic step on these two alarms.
resource "aws_cloudwatch_metric_alarm" "target_5xx_green" {
  alarm_name          = "digitallync-core-target-5xx-green"
  alarm_description   = "The green target group's tasks returned 5xx responses."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  dimensions = {
    LoadBalancer = aws_lb.main.arn_suffix
    TargetGroup  = aws_lb_target_group.green.arn_suffix
  }
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts_green" {
  alarm_name          = "digitallync-core-unhealthy-hosts-green"
  alarm_description   = "A task behind the green target group fails its health check."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  dimensions = {
    LoadBalancer = aws_lb.main.arn_suffix
    TargetGroup  = aws_lb_target_group.green.arn_suffix
  }
}

# Application errors as a metric (the app logs "level":"error" lines to the service's log group).
resource "aws_cloudwatch_log_metric_filter" "app_errors" {
  name           = "digitallync-core-app-errors"
  log_group_name = aws_cloudwatch_log_group.app.name
  pattern        = "{ $.level = \"error\" }"

  metric_transformation {
    name          = "AppErrors"
    namespace     = "DigitalLync/Core"
    value         = "1"
    default_value = "0"
  }
}

# Every alarm notification is also kept for 14 days in a queue: the on-call tooling reads it as the
# record of what fired (the topic's other subscribers live outside this stack).
resource "aws_sqs_queue" "alarm_archive" {
  name                      = "digitallync-core-alarm-archive"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true

  # Inline (not aws_sqs_queue_policy): a separate policy resource makes every refresh report the
  # queue's own `policy` attribute as changed.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AlarmTopicDelivers"
      Effect    = "Allow"
      Principal = { Service = "sns.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = "arn:aws:sqs:${var.region}:${data.aws_caller_identity.current.account_id}:digitallync-core-alarm-archive"
      Condition = { ArnEquals = { "aws:SourceArn" = aws_sns_topic.alarms.arn } }
    }]
  })
}

resource "aws_sns_topic_subscription" "alarm_archive" {
  topic_arn            = aws_sns_topic.alarms.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.alarm_archive.arn
  raw_message_delivery = true
}
