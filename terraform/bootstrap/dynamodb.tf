# Terraform's DynamoDB lock table: items {LockID = "<bucket>/<key>", Info = ...} while a lock is
# held, and {LockID = "<bucket>/<key>-md5", Digest = ...} after every state write.
resource "aws_dynamodb_table" "locks" {
  name                        = var.lock_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "LockID"
  deletion_protection_enabled = true

  attribute {
    name = "LockID"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.tfstate.arn
  }

  lifecycle {
    prevent_destroy = true
  }
}
