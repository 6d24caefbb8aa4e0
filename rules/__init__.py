"""The built-in rule pack (each other `*.py` here is one rule file; names starting with `_` are not rules).

Installed as the package `auditor.builtin_rules` (see setup.py) and loaded from there like any
`--rules-dir` folder.
"""
