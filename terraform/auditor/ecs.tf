locals {
  # The job audit_job_name of the config parameter, through the daemon's own code path: history row,
  # report, CloudWatch metrics, notifications. Exit code 2 means drift or failing rules.
  audit_arguments = [
    "schedule", "once", var.audit_job_name,
    "--config", "ssm:${aws_ssm_parameter.audit_config.name}",
  ]
}

resource "aws_cloudwatch_log_group" "auditor" {
  name              = "/ecs/digitallync-auditor"
  retention_in_days = 90
}

resource "aws_security_group" "auditor" {
  name        = "digitallync-auditor"
  description = "digitallync auditor task: HTTPS to AWS APIs only"
  vpc_id      = var.vpc_id

  tags = {
    Name = "digitallync-auditor"
  }
}

resource "aws_vpc_security_group_egress_rule" "auditor_https_out" {
  security_group_id = aws_security_group.auditor.id
  description       = "HTTPS to AWS APIs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_ecs_task_definition" "auditor" {
  family                   = "digitallync-auditor"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "512"
  memory                   = "1024"
  execution_role_arn       = aws_iam_role.auditor_execution.arn
  task_role_arn            = aws_iam_role.auditor_task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # Writable scratch space (audit history, temporary files) beside the read-only root filesystem.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = "auditor"
      image                  = var.auditor_image
      essential              = true
      readonlyRootFilesystem = true
      privileged             = false
      entryPoint             = ["audit"]
      command                = local.audit_arguments
      environment = [
        { name = "AWS_REGION", value = var.region },
        { name = "HOME", value = "/tmp" },
      ]
      mountPoints = [
        {
          sourceVolume  = "tmp"
          containerPath = "/tmp"
          readOnly      = false
        },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.auditor.name
          "awslogs-region"        = var.region
          "awslogs-stream-prefix" = "audit"
        }
      }
    },
  ])
}
