variable "region" {
  type        = string
  description = "Region of the state bucket and the lock table; the backend blocks name it too."
  default     = "ap-south-1"
}

variable "environment" {
  type        = string
  description = "Environment name, written to every resource's Environment tag."
  default     = "prod"
}

variable "state_bucket_name" {
  type        = string
  description = "Name of the S3 bucket that holds every Terraform state of the project. Bucket names are global: if this one is taken, change it here, in the backend blocks and in ../auditor/policies."
  default     = "digitallync-tfstate"
}

variable "lock_table_name" {
  type        = string
  description = "Name of the DynamoDB table that holds Terraform's state locks and state digests."
  default     = "digitallync-tf-locks"
}
