variable "region" {
  type        = string
  description = "AWS region of the stack. The two availability zones are \"<region>a\" and \"<region>b\"."
  default     = "ap-south-1"
}

variable "environment" {
  type        = string
  description = "Environment name, written to every resource's Environment tag."
  default     = "prod"
}

variable "domain_name" {
  type        = string
  description = "Public host name served by the load balancer; the ACM certificate is issued for it."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "The domain_name must be a lower-case DNS host name such as app.example.com."
  }
}

variable "image_digest" {
  type        = string
  description = "Digest of the application image in the ECR repository (sha256:<64 hex>). Images are pinned by digest, never by tag."

  validation {
    condition     = can(regex("^sha256:[0-9a-f]{64}$", var.image_digest))
    error_message = "The image_digest must look like sha256: followed by 64 lower-case hex digits."
  }
}

variable "ssl_policy" {
  type        = string
  description = "TLS security policy of the HTTPS listener. ELBSecurityPolicy-TLS13-1-2-2021-06 is the AWS-recommended default; choose ELBSecurityPolicy-TLS13-1-2-Res-2021-06 to pass Security Hub ELB.17."
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = startswith(var.ssl_policy, "ELBSecurityPolicy-TLS13-")
    error_message = "The ssl_policy must be a TLS 1.3 policy (ELBSecurityPolicy-TLS13-*)."
  }
}

variable "docker_hub_credential_arn" {
  type        = string
  description = "Secrets Manager secret holding Docker Hub credentials for the ECR pull-through cache; ECR requires the name prefix ecr-pullthroughcache/."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:ecr-pullthroughcache/.+$", var.docker_hub_credential_arn))
    error_message = "The docker_hub_credential_arn must be a Secrets Manager secret ARN whose name starts with ecr-pullthroughcache/."
  }
}

variable "alb_log_retention_days" {
  type        = number
  description = "Days to keep load balancer access logs in the logs bucket."
  default     = 90

  validation {
    condition     = var.alb_log_retention_days >= 1
    error_message = "The alb_log_retention_days must be at least 1."
  }
}
