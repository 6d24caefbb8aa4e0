"""Live inventory: collectors per Terraform type and the runner that calls them."""

from __future__ import annotations

import importlib

COLLECTOR_MODULES = (
    "auditor.inventory.network",
    "auditor.inventory.security_groups",
    "auditor.inventory.loadbalancing",
    "auditor.inventory.acm",
    "auditor.inventory.ecs",
    "auditor.inventory.ecr",
    "auditor.inventory.monitoring",
    "auditor.inventory.storage",
    "auditor.inventory.dynamodb",
    "auditor.inventory.iam",
    "auditor.inventory.kms",
    "auditor.inventory.appautoscaling",
    "auditor.inventory.sns",
    "auditor.inventory.sqs",
    "auditor.inventory.secrets",
    "auditor.inventory.events",
    "auditor.inventory.vpc_traffic",
    "auditor.inventory.servicediscovery",
    "auditor.inventory.route53",
    "auditor.inventory.wafv2",
)

_loaded = False


def load_collectors() -> None:
    """Import every collector module once so its @collector registrations run."""
    global _loaded
    if _loaded:
        return
    for name in COLLECTOR_MODULES:
        importlib.import_module(name)
    _loaded = True
