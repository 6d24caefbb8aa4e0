"""Conformance of the auditor with real Terraform (`terraform plan -refresh-only`) on moto."""
