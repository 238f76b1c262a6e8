"""The driver protocol's schemas: one canonical set, packaged, valid, and the docs agree."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from conformance.drivers.http import schema_names
from tests.schemas import validate

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "fixtures" / "schemas" / "driver"
PACKAGED = ROOT / "conformance" / "schemas" / "driver"
DOC = ROOT / "docs" / "driver-protocol.md"
EXAMPLE = re.compile(r"<!-- schema: (?P<schema>\S+) -->\n```json\n(?P<body>.*?)\n```", re.S)

NAMES = sorted(path.name for path in FIXTURES.glob("*.json"))


def doc_examples() -> list[tuple[str, str]]:
    """Every JSON example of the protocol document with the schema it is annotated with."""
    return [(m["schema"], m["body"]) for m in EXAMPLE.finditer(DOC.read_text())]


def test_there_is_a_schema_per_body_of_the_protocol() -> None:
    assert NAMES == [
        "capabilities.json",
        "code-credentials-request.json",
        "create-integration-request.json",
        "created-integration.json",
        "error.json",
        "integrations.json",
        "packages.json",
        "repositories.json",
        "session.json",
        "submit-request.json",
        "submit-result.json",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_the_packaged_schema_is_identical_to_the_fixture(name: str) -> None:
    assert (PACKAGED / name).read_bytes() == (FIXTURES / name).read_bytes()


def test_the_package_holds_no_other_schema() -> None:
    assert sorted(path.name for path in PACKAGED.glob("*.json")) == NAMES


def test_the_driver_loads_every_schema_from_the_package() -> None:
    assert schema_names() == NAMES


def test_the_schemas_are_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())

    # hatchling puts every file of the packages in the wheel (tests/test_wheel.py installs it).
    assert "conformance" in config["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert (ROOT / "conformance" / "schemas" / "driver" / "session.json").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_each_schema_is_valid_and_named_by_its_id(name: str) -> None:
    schema = json.loads((FIXTURES / name).read_text())

    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"driver/{name}"


@pytest.mark.parametrize(("schema", "body"), doc_examples())
def test_each_example_of_the_document_matches_its_schema(schema: str, body: str) -> None:
    validate(json.loads(body), schema)


def test_the_document_has_an_example_of_every_schema() -> None:
    assert {schema for schema, _ in doc_examples()} == {f"driver/{name}" for name in NAMES}


def test_the_document_links_every_schema() -> None:
    text = DOC.read_text()

    assert [name for name in NAMES if f"(../fixtures/schemas/driver/{name})" not in text] == []
