output "state_bucket_name" {
  value = aws_s3_bucket.tfstate.id
}

output "state_bucket_arn" {
  value = aws_s3_bucket.tfstate.arn
}

output "lock_table_name" {
  value = aws_dynamodb_table.locks.name
}

output "lock_table_arn" {
  value = aws_dynamodb_table.locks.arn
}

output "state_kms_key_arn" {
  description = "Give it to a backend's kms_key_id to have state objects written with this key explicitly."
  value       = aws_kms_key.tfstate.arn
}

output "backend_config" {
  description = "The backend settings of every configuration that keeps its state here (add its own key)."
  value = {
    bucket         = aws_s3_bucket.tfstate.id
    region         = var.region
    encrypt        = true
    use_lockfile   = true
    dynamodb_table = aws_dynamodb_table.locks.name
  }
}
