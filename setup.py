"""Ships the top-level `rules/` and `reports/` folders inside the `auditor` package.

The repository keeps the built-in rule pack in `rules/` and the report templates in `reports/`
(one copy each). Here each folder is mapped to a package of its own, `auditor.builtin_rules` and
`auditor.report_templates`, with every file under it (walked, never listed by hand; `__pycache__`
left out) as package data. So the wheel, the sdist and the editable install all carry them, and
`auditor/resources.py` reads them back with importlib.resources. The rest of the metadata is in
pyproject.toml.
"""

import os

from setuptools import find_packages, setup

BUNDLED = {"auditor.builtin_rules": "rules", "auditor.report_templates": "reports"}
"""Package name -> the top-level folder it is built from."""


def bundled() -> tuple[list[str], dict[str, str], dict[str, list[str]]]:
    """Every folder under the bundled ones as a package (its files as data), and where each one lives."""
    packages, package_dir, package_data = [], {}, {}
    for package, folder in BUNDLED.items():
        for path, folders, _files in os.walk(folder):
            folders[:] = sorted(f for f in folders if f != "__pycache__" and not f.startswith("."))
            name = ".".join([package, *os.path.relpath(path, folder).split(os.sep)]) if path != folder else package
            packages.append(name)
            package_dir[name] = path
            package_data[name] = ["*"]
    return packages, package_dir, package_data


packages, package_dir, package_data = bundled()
setup(
    packages=find_packages(include=["auditor", "auditor.*"]) + packages,
    package_dir=package_dir,
    package_data={"auditor": ["py.typed"], **package_data},
    exclude_package_data={"": ["*.pyc", "*.pyo"]},
)
