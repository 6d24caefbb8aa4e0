"""The report templates, installed as the package `auditor.report_templates` (see setup.py)."""
