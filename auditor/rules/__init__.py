"""The rule engine: rule metadata, verdicts, loading rule packs, evaluating them on resources."""
