"""The bad-input corpus: every malformed or hostile state gives a one-line StateError.

Each file in tests/state/bad/ has the fragment its message must contain in bad/expected.json.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from auditor.errors import StateError
from auditor.state.parse import parse_state

BAD = Path(__file__).parent / "bad"
EXPECTED: dict[str, str] = json.loads((BAD / "expected.json").read_text())


def test_every_corpus_file_has_an_expectation() -> None:
    files = {p.name for p in BAD.iterdir() if p.name != "expected.json"}
    assert files == set(EXPECTED)
    assert len(files) >= 25


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_state_gives_one_line_error(name: str) -> None:
    """A state-wide problem is a StateError; a problem inside one resource makes that resource
    unreadable (with the same one-line reason) and leaves the rest of the state read."""
    source = f"bad/{name}"
    try:
        document = parse_state((BAD / name).read_bytes(), source)
    except StateError as error:
        text = str(error)
        assert EXPECTED[name] in error.message
        assert error.source == source and text.startswith(f"{source}: ")
    else:
        assert len(document.unreadable) == 1, name
        [(_, text)] = document.unreadable
        assert EXPECTED[name] in text
    assert "\n" not in text and "\r" not in text
    assert len(text) < 400
    assert "PLANTED-SECRET" not in text


def _mutations(seed: int, count: int) -> list[bytes]:
    """Seeded random damage to a valid state: values swapped for other JSON kinds, bytes flipped."""
    rng = random.Random(seed)
    base = {
        "version": 4,
        "terraform_version": "1.9.8",
        "serial": 3,
        "lineage": "l",
        "outputs": {"o": {"value": ["a", 1], "type": ["tuple", ["string", "number"]], "sensitive": False}},
        "resources": [
            {
                "module": 'module.m["k"]',
                "mode": "managed",
                "type": "aws_vpc",
                "name": "v",
                "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                "instances": [
                    {
                        "index_key": 0,
                        "schema_version": 1,
                        "attributes": {"id": "v", "tags": {"a": "b"}, "l": [{"x": 1}]},
                        "sensitive_attributes": [[{"type": "get_attr", "value": "id"}]],
                        "dependencies": ["aws_subnet.s"],
                        "deposed": "0a1b2c3d",
                        "status": "tainted",
                    }
                ],
            }
        ],
        "check_results": [],
    }
    kinds: list[Any] = [None, True, -1, 2.5, "", "x" * 50, [], [1, [2]], {}, {"a": {"b": []}}]
    out: list[bytes] = []
    for _ in range(count):
        doc = orjson.loads(orjson.dumps(base))
        node: Any = doc
        while isinstance(node, dict | list) and node:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            key = rng.choice(keys)
            child = node[key]
            if not isinstance(child, dict | list) or rng.random() < 0.3:
                node[key] = rng.choice(kinds)
                break
            node = child
        data = bytearray(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        if rng.random() < 0.3:
            data[rng.randrange(len(data))] = rng.randrange(256)
        out.append(bytes(data))
    return out


def test_random_damage_gives_a_state_error_or_a_document() -> None:
    for data in _mutations(seed=20261127, count=3000):
        try:
            document = parse_state(data, "fuzz.tfstate")
        except StateError as error:
            assert "\n" not in str(error) and str(error).startswith("fuzz.tfstate: ")
        else:
            assert all("\n" not in why for _, why in document.unreadable)
