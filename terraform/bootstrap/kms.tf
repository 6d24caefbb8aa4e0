# Encrypts the state objects and the lock table. The default key policy leaves access to IAM
# policies of this account; the auditor's read-only policy may decrypt only through S3.
resource "aws_kms_key" "tfstate" {
  description             = "Terraform state of digitallync (S3 bucket and DynamoDB lock table)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}
