provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "digitallync"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}

# The cluster of ../stack; the auditor runs there as a one-off task.
data "aws_ecs_cluster" "main" {
  cluster_name = var.cluster_name
}
