"""Terraform state: fetching (S3 backend, local files), verifying, parsing, exporting."""
