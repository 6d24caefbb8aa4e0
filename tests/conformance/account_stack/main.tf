# The second conformance stack: the other resource types a production ECS/ALB account holds.
# Applied by real Terraform (hashicorp/aws 5.100) on moto with local state; the suite wires the
# provider to moto in an override file.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

provider "aws" {
  region = "ap-south-1"
}

data "aws_caller_identity" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
  tags    = { Stack = "account", Team = "platform" }
}

# --- IAM ----------------------------------------------------------------------------------------

resource "aws_iam_role" "exec" {
  name = "acct-task-exec"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ecs-tasks.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
  tags = local.tags
}

resource "aws_iam_role_policy" "exec_logs" {
  name = "logs"
  role = aws_iam_role.exec.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"], Resource = "*" }]
  })
}

resource "aws_iam_policy" "deploy" {
  name        = "acct-deploy"
  path        = "/ci/"
  description = "CI deploys"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["ecs:UpdateService"], Resource = "*" }]
  })
  tags = local.tags
}

resource "aws_iam_instance_profile" "bastion" {
  name = "acct-bastion"
  role = aws_iam_role.exec.name
  tags = local.tags
}

resource "aws_iam_user" "ci" {
  name = "acct-ci"
  path = "/robots/"
  tags = local.tags
}

resource "aws_iam_access_key" "ci" {
  user = aws_iam_user.ci.name
}

# --- messaging ----------------------------------------------------------------------------------

resource "aws_sns_topic" "alarms" {
  name = "acct-alarms"
  tags = local.tags
}

resource "aws_sns_topic_policy" "alarms" {
  arn = aws_sns_topic.alarms.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Sid = "cw", Effect = "Allow", Principal = { Service = "cloudwatch.amazonaws.com" },
    Action = "sns:Publish", Resource = aws_sns_topic.alarms.arn }]
  })
}

resource "aws_sqs_queue" "alarms" {
  name                       = "acct-alarms"
  visibility_timeout_seconds = 60
  message_retention_seconds  = 86400
  tags                       = local.tags
}

resource "aws_sqs_queue_policy" "alarms" {
  queue_url = aws_sqs_queue.alarms.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "sns.amazonaws.com" }, Action = "sqs:SendMessage",
    Resource = aws_sqs_queue.alarms.arn }]
  })
}

resource "aws_sns_topic_subscription" "alarms" {
  topic_arn            = aws_sns_topic.alarms.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.alarms.arn
  raw_message_delivery = true
}

# --- observability ------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "app" {
  name              = "/acct/app"
  retention_in_days = 30
  tags              = local.tags
}

resource "aws_cloudwatch_log_metric_filter" "errors" {
  name           = "acct-errors"
  log_group_name = aws_cloudwatch_log_group.app.name
  pattern        = "ERROR"

  metric_transformation {
    name      = "AppErrors"
    namespace = "Acct"
    value     = "1"
  }
}

resource "aws_cloudwatch_dashboard" "service" {
  dashboard_name = "acct-service"
  dashboard_body = jsonencode({
    widgets = [{ type = "text", x = 0, y = 0, width = 6, height = 3, properties = { markdown = "service" } }]
  })
}

resource "aws_cloudwatch_event_rule" "task_stopped" {
  name        = "acct-task-stopped"
  description = "ECS tasks that stop"
  event_pattern = jsonencode({
    source      = ["aws.ecs"]
    detail-type = ["ECS Task State Change"]
  })
  tags = local.tags
}

resource "aws_cloudwatch_event_target" "task_stopped" {
  rule      = aws_cloudwatch_event_rule.task_stopped.name
  target_id = "to-queue"
  arn       = aws_sqs_queue.alarms.arn
}

# --- ECR ----------------------------------------------------------------------------------------

resource "aws_ecr_repository" "app" {
  name                 = "acct-app"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  tags = local.tags
}

resource "aws_ecr_repository_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Sid = "CiPull", Effect = "Allow", Principal = { AWS = "arn:aws:iam::${local.account}:root" },
    Action = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] }]
  })
}

resource "aws_ecr_registry_scanning_configuration" "registry" {
  scan_type = "ENHANCED"
  rule {
    scan_frequency = "SCAN_ON_PUSH"
    repository_filter {
      filter      = "acct-*"
      filter_type = "WILDCARD"
    }
  }
}

resource "aws_ecr_replication_configuration" "registry" {
  replication_configuration {
    rule {
      destination {
        region      = "eu-west-1"
        registry_id = local.account
      }
    }
  }
}

# --- KMS, parameters, secrets -------------------------------------------------------------------

resource "aws_kms_key" "app" {
  description         = "acct app data"
  enable_key_rotation = true
  tags                = local.tags
}

resource "aws_kms_alias" "app" {
  name          = "alias/acct-app"
  target_key_id = aws_kms_key.app.key_id
}

resource "aws_ssm_parameter" "db_password" {
  name        = "/acct/db-password"
  type        = "SecureString"
  value       = "conformance-only-not-a-secret"
  description = "database password"
  tags        = local.tags
}

resource "aws_secretsmanager_secret" "api_key" {
  name                    = "acct/api-key"
  description             = "API key"
  recovery_window_in_days = 0
  tags                    = local.tags
}

# --- network ------------------------------------------------------------------------------------

resource "aws_vpc" "main" {
  cidr_block           = "10.60.0.0/16"
  enable_dns_hostnames = true
  tags                 = local.tags
}

resource "aws_default_security_group" "main" {
  vpc_id = aws_vpc.main.id
  tags   = local.tags
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id
  tags   = local.tags
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.main.id
  service_name      = "com.amazonaws.ap-south-1.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
  tags              = local.tags
}

resource "aws_network_acl" "private" {
  vpc_id = aws_vpc.main.id
  ingress {
    rule_no    = 100
    protocol   = "tcp"
    action     = "allow"
    cidr_block = "10.60.0.0/16"
    from_port  = 443
    to_port    = 443
  }
  tags = local.tags
}

resource "aws_s3_bucket" "logs" {
  bucket = "acct-access-logs"
  tags   = local.tags
}

resource "aws_s3_bucket" "assets" {
  bucket = "acct-assets"
  tags   = local.tags
}

resource "aws_s3_bucket_ownership_controls" "assets" {
  bucket = aws_s3_bucket.assets.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_acl" "logs" {
  bucket = aws_s3_bucket.logs.id
  access_control_policy {
    owner {
      id = data.aws_canonical_user_id.current.id
    }
    grant {
      permission = "WRITE"
      grantee {
        type = "Group"
        uri  = "http://acs.amazonaws.com/groups/s3/LogDelivery"
      }
    }
    grant {
      permission = "READ_ACP"
      grantee {
        type = "Group"
        uri  = "http://acs.amazonaws.com/groups/s3/LogDelivery"
      }
    }
  }
}

data "aws_canonical_user_id" "current" {}

resource "aws_s3_bucket_logging" "assets" {
  bucket        = aws_s3_bucket.assets.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "assets/"
  depends_on    = [aws_s3_bucket_acl.logs]
}

resource "aws_flow_log" "main" {
  vpc_id               = aws_vpc.main.id
  traffic_type         = "REJECT"
  log_destination_type = "s3"
  log_destination      = aws_s3_bucket.logs.arn
  tags                 = local.tags
}

# --- service discovery and DNS ------------------------------------------------------------------

resource "aws_service_discovery_private_dns_namespace" "internal" {
  name        = "acct.internal"
  description = "services"
  vpc         = aws_vpc.main.id
  tags        = local.tags
}

resource "aws_service_discovery_service" "web" {
  name = "web"
  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.internal.id
    routing_policy = "MULTIVALUE"
    dns_records {
      ttl  = 10
      type = "A"
    }
  }
  tags = local.tags
}

resource "aws_route53_zone" "public" {
  name    = "acct.example.com"
  comment = "public zone"
  tags    = local.tags
}

resource "aws_route53_record" "www" {
  zone_id = aws_route53_zone.public.zone_id
  name    = "www"
  type    = "A"
  ttl     = 300
  records = ["10.60.1.10", "10.60.1.11"]
}

resource "aws_route53_record" "verify" {
  zone_id = aws_route53_zone.public.zone_id
  name    = "acct.example.com"
  type    = "TXT"
  ttl     = 60
  records = ["v=spf1 -all"]
}

# --- load balancing: listener rules and an extra listener certificate ---------------------------

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.60.1.0/24"
  availability_zone = "ap-south-1a"
  tags              = local.tags
}

resource "aws_subnet" "b" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.60.2.0/24"
  availability_zone = "ap-south-1b"
  tags              = local.tags
}

resource "aws_lb" "internal" {
  name               = "acct-internal"
  internal           = true
  load_balancer_type = "application"
  subnets            = [aws_subnet.a.id, aws_subnet.b.id]
  tags               = local.tags
}

resource "aws_lb_target_group" "blue" {
  name        = "acct-blue"
  port        = 8080
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = aws_vpc.main.id
  tags        = local.tags
}

resource "aws_lb_target_group" "green" {
  name        = "acct-green"
  port        = 8080
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = aws_vpc.main.id
  tags        = local.tags
}

resource "aws_acm_certificate" "api" {
  domain_name       = "api.acct.example.com"
  validation_method = "DNS"
  tags              = local.tags
}

resource "aws_acm_certificate" "legacy" {
  domain_name       = "legacy.acct.example.com"
  validation_method = "DNS"
  tags              = local.tags
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.internal.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = aws_acm_certificate.api.arn

  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      status_code  = "404"
    }
  }
  tags = local.tags
}

resource "aws_lb_listener_certificate" "legacy" {
  listener_arn    = aws_lb_listener.https.arn
  certificate_arn = aws_acm_certificate.legacy.arn
}

resource "aws_lb_listener_rule" "api" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10

  action {
    type = "forward"
    forward {
      target_group {
        arn    = aws_lb_target_group.blue.arn
        weight = 90
      }
      target_group {
        arn    = aws_lb_target_group.green.arn
        weight = 10
      }
    }
  }

  condition {
    path_pattern {
      values = ["/api/*", "/v2/*"]
    }
  }
  tags = local.tags
}

resource "aws_lb_target_group_attachment" "blue" {
  target_group_arn = aws_lb_target_group.blue.arn
  target_id        = "10.60.1.10"
  port             = 8080
}

resource "aws_wafv2_web_acl" "edge" {
  name  = "acct-edge"
  scope = "REGIONAL"
  default_action {
    allow {}
  }
  visibility_config {
    cloudwatch_metrics_enabled = false
    metric_name                = "acct-edge"
    sampled_requests_enabled   = false
  }
  tags = local.tags
}

resource "aws_wafv2_web_acl_association" "internal" {
  resource_arn = aws_lb.internal.arn
  web_acl_arn  = aws_wafv2_web_acl.edge.arn
}
