# Remote state in the bucket and lock table that ../bootstrap creates.
#
# A backend block cannot use variables, so these are literals: keep them equal to the
# bootstrap defaults (state_bucket_name, lock_table_name, region) and to
# ../bootstrap/backend.tf.example. Both lock mechanisms are on while the team moves from
# DynamoDB locking to S3-native locking; see that example for the migration steps.
terraform {
  backend "s3" {
    bucket         = "digitallync-tfstate"
    key            = "digitallync/prod/terraform.tfstate"
    region         = "ap-south-1"
    encrypt        = true
    use_lockfile   = true
    dynamodb_table = "digitallync-tf-locks"
  }
}
