"""The files auditor ships beside its code: the built-in rule pack and the report templates.

Both are kept in the repository's top-level `rules/` and `reports/` folders and installed as the
packages `auditor.builtin_rules` and `auditor.report_templates` (setup.py maps them), so they are
read with importlib.resources wherever the package lives: a wheel in site-packages, a zip, or an
editable checkout.
"""

from __future__ import annotations

import hashlib
import platform
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # jinja2 is imported only by the reports that use it
    from jinja2 import BaseLoader

RULES_PACKAGE = "auditor.builtin_rules"
TEMPLATES_PACKAGE = "auditor.report_templates"


def builtin_rules() -> Traversable:
    """The folder of the built-in rule pack."""
    return files(RULES_PACKAGE)


def templates() -> Traversable:
    """The folder of the report templates."""
    return files(TEMPLATES_PACKAGE)


def template_loader(folder: Traversable | None = None) -> BaseLoader:
    """A jinja2 loader of the templates in `folder` (default: the report templates), by names such as
    `report.html.j2` or `sub/folder/name.j2`; nothing outside the folder."""
    from jinja2 import FunctionLoader

    folder = folder or templates()

    def read(name: str) -> str | None:
        entry = folder
        for part in name.split("/"):
            if part in ("", ".", ".."):
                return None
            entry = entry / part
        return entry.read_text(encoding="utf-8") if entry.is_file() else None

    return FunctionLoader(read)


def rule_files(folder: Traversable) -> list[Traversable]:
    """The rule files of a pack folder, in load order: every `*.py` not starting with `_`, by name."""
    return sorted((entry for entry in folder.iterdir()
                   if entry.name.endswith(".py") and not entry.name.startswith("_") and entry.is_file()),
                  key=lambda entry: entry.name)


def pack_digest(folder: Traversable) -> str:
    """The sha256 of a pack folder's rule files (names and contents): what `audit --version` shows."""
    digest = hashlib.sha256()
    for entry in rule_files(folder):
        digest.update(entry.name.encode() + b"\0" + hashlib.sha256(entry.read_bytes()).digest())
    return digest.hexdigest()


def version_lines() -> list[str]:
    """What `audit --version` prints: auditor's version, the built-in rule pack's (rule count, digest,
    where it was loaded from) and the versions of botocore, boto3 and Python."""
    from auditor import __version__
    from auditor.rules.engine import load_pack

    folder = builtin_rules()
    pack = load_pack(folder)
    return [
        f"audit {__version__}",
        f"rule pack: built-in {__version__}, {len(pack.rules)} rules, sha256:{pack_digest(folder)[:16]} ({folder})",
        f"botocore {_version('botocore')}, boto3 {_version('boto3')}, Python {platform.python_version()}",
    ]


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"
