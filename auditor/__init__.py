"""auditor: drift audit and compliance for Terraform-managed AWS."""
__version__ = "0.1.0"
