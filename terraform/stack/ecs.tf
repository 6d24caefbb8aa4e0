resource "aws_ecs_cluster" "main" {
  name = "digitallync"

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_task_definition" "web_app" {
  family                   = "digitallync-core"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.ecs_execution_role.arn
  task_role_arn            = aws_iam_role.ecs_task_role.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # The root filesystem is read-only; this task-scoped volume gives the application a writable /tmp.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = "production-web"
      image                  = "${aws_ecr_repository.app.repository_url}@${var.image_digest}"
      essential              = true
      readonlyRootFilesystem = true
      privileged             = false
      portMappings = [
        {
          containerPort = 3000
          hostPort      = 3000
          protocol      = "tcp"
        },
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
          "awslogs-group"         = aws_cloudwatch_log_group.app.name
          "awslogs-region"        = var.region
          "awslogs-stream-prefix" = "web"
        }
      }
    },
  ])
}

# Terraform owns the service definition and the revision it runs. The blue/green deployer
# registers new revisions and moves traffic between the target groups; after a release the
# digest it shipped goes into var.image_digest so the next plan converges (see README).
# task_definition is deliberately not in ignore_changes: a revision that Terraform did not
# write must show up as drift. This is the blue colour: it serves all traffic at rest.
resource "aws_ecs_service" "web_app" {
  name                               = "digitallync-core"
  cluster                            = aws_ecs_cluster.main.id
  task_definition                    = aws_ecs_task_definition.web_app.arn
  desired_count                      = 2
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = 60
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"

  network_configuration {
    subnets          = [for subnet in aws_subnet.private : subnet.id]
    security_groups  = [aws_security_group.service.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.blue.arn
    container_name   = "production-web"
    container_port   = 3000
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # A target group must be attached to a load balancer before a service can register into it.
  depends_on = [aws_lb_listener.https]
}

# The green colour: the service `audit deploy` brings up behind the green target group (weight 0
# at rest, see aws_lb_listener.https), shifts traffic to, and scales back to zero on rollback. Idle
# it runs nothing; it uses blue's task definition, so the state describes both colours with one
# revision. Its settings mirror blue's: when a release has made green the serving colour it must be
# as sound as blue was (circuit breaker, private subnets, managed tags).
resource "aws_ecs_service" "web_app_green" {
  name                               = "digitallync-core-green"
  cluster                            = aws_ecs_cluster.main.id
  task_definition                    = aws_ecs_task_definition.web_app.arn
  desired_count                      = 0
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = 60
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"

  network_configuration {
    subnets          = [for subnet in aws_subnet.private : subnet.id]
    security_groups  = [aws_security_group.service.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.green.arn
    container_name   = "production-web"
    container_port   = 3000
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [aws_lb_listener.https]
}

# Autoscaling of the serving colour (blue at rest): 2 to 6 tasks tracking 60% average CPU. While
# `audit deploy` moves traffic it suspends dynamic scaling on every colour that has a scalable
# target, and at the end leaves it resumed on the colour serving and suspended on the idle one, so
# scaling never fights the deployer (see auditor/deploy/scaling.py and the README).
resource "aws_appautoscaling_target" "web_app" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.web_app.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = 2
  max_capacity       = 6
}

resource "aws_appautoscaling_policy" "web_app_cpu" {
  name               = "digitallync-core-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.web_app.service_namespace
  resource_id        = aws_appautoscaling_target.web_app.resource_id
  scalable_dimension = aws_appautoscaling_target.web_app.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = 60
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
