# The auditor's own deployment keeps its state beside the stack's, in the bucket and lock
# table that ../bootstrap creates (literals: a backend block cannot use variables).
terraform {
  backend "s3" {
    bucket         = "digitallync-tfstate"
    key            = "digitallync/auditor/terraform.tfstate"
    region         = "ap-south-1"
    encrypt        = true
    use_lockfile   = true
    dynamodb_table = "digitallync-tf-locks"
  }
}
