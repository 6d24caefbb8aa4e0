output "alb_dns_name" {
  description = "Point var.domain_name at this name (CNAME or alias record)."
  value       = aws_lb.main.dns_name
}

output "certificate_validation_records" {
  description = "DNS records to publish so that ACM can issue the certificate."
  value = [
    for option in aws_acm_certificate.main.domain_validation_options : {
      name  = option.resource_record_name
      type  = option.resource_record_type
      value = option.resource_record_value
    }
  ]
}

output "ecr_repository_url" {
  description = "Push application images here; deploy them by digest."
  value       = aws_ecr_repository.app.repository_url
}

output "cluster_name" {
  value = aws_ecs_cluster.main.name
}

output "service_name" {
  value = aws_ecs_service.web_app.name
}

output "https_listener_arn" {
  description = "The listener whose forward weights the blue/green deployer moves."
  value       = aws_lb_listener.https.arn
}

output "target_group_arns" {
  value = {
    blue  = aws_lb_target_group.blue.arn
    green = aws_lb_target_group.green.arn
  }
}

output "alarm_topic_arn" {
  value = aws_sns_topic.alarms.arn
}

output "vpc_id" {
  value = aws_vpc.main.id
}

output "private_subnet_ids" {
  description = "Subnets for other Fargate tasks, such as the nightly auditor in ../auditor."
  value       = [for subnet in aws_subnet.private : subnet.id]
}
