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
