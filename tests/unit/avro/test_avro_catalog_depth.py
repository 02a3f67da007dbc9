"""Specification of the catalog's depth limits: long reference chains, types nested too deep, long cycles."""

from __future__ import annotations

import json

from tradewire.avro.catalog import MAX_TYPE_DEPTH, Catalog


def _chain(length: int) -> dict[str, str]:
    """`length` record files, each (but the first) with a field of the previous file's type."""
    texts = {}
    for index in range(length):
        fields = [{"name": "a", "type": "int"}]
        if index:
            fields.append({"name": "previous", "type": f"t.R{index - 1}"})
        texts[f"schemas/r{index:04d}.avsc"] = json.dumps(
            {"type": "record", "name": f"R{index}", "namespace": "t", "fields": fields}
        )
    return texts


def _summary(catalog: Catalog) -> list[tuple[str, str, str]]:
    return [(problem.rule, problem.origin.file, problem.message) for problem in catalog.problems()]


def test_a_reference_chain_as_deep_as_allowed_parses() -> None:
    """127 files each using the previous one (types nested 128 deep) all parse, the deepest last in dependency
    order."""
    catalog = Catalog.from_texts(_chain(MAX_TYPE_DEPTH - 1))
    assert ([], MAX_TYPE_DEPTH - 1) == (_summary(catalog), sum(schema_file.ok for schema_file in catalog))
    assert "schemas/r0126.avsc" == catalog.dependency_order()[-1].path


def test_a_reference_chain_too_deep_is_one_finding() -> None:
    """In a chain of 1,000 files, the first file nesting types past the limit gets one INVALID_AVRO problem;
    the files built on it are unusable without repeating it, and nothing recurses past Python's limit."""
    catalog = Catalog.from_texts(_chain(1000))
    message = "types nest 129 levels deep (counting the types it references); at most 128 are allowed"
    assert [("INVALID_AVRO", "schemas/r0127.avsc", message)] == _summary(catalog)
    assert (MAX_TYPE_DEPTH - 1, False) == (
        sum(schema_file.ok for schema_file in catalog),
        catalog.files["schemas/r0999.avsc"].ok,
    )


def test_one_file_nesting_too_deep_is_invalid_avro() -> None:
    """128 nested arrays (129 levels with the items' int) in one file are INVALID_AVRO at the file's root."""
    text = '{"type": "array", "items": ' * 128 + '"int"' + "}" * 128
    catalog = Catalog.from_texts({"schemas/deep.avsc": text})
    message = "types nest 129 levels deep (counting the types it references); at most 128 are allowed"
    assert [("INVALID_AVRO", "schemas/deep.avsc", message)] == _summary(catalog)
    assert "" == catalog.problems()[0].origin.pointer


def test_recursive_types_are_not_infinitely_deep() -> None:
    """A record that refers to itself (a linked list) has the depth of one pass through it."""
    text = json.dumps(
        {
            "type": "record",
            "name": "Node",
            "namespace": "t",
            "fields": [{"name": "next", "type": ["null", "Node"], "default": None}],
        }
    )
    catalog = Catalog.from_texts({"schemas/node.avsc": text})
    assert ([], True) == (_summary(catalog), catalog.files["schemas/node.avsc"].ok)


def test_a_long_reference_cycle_is_reported_without_recursing_past_the_limit() -> None:
    """300 files referencing each other in a ring are all unusable, reported as REFERENCE_CYCLE, no RecursionError."""
    size = 300
    texts = {
        f"schemas/c{index:03d}.avsc": json.dumps(
            {
                "type": "record",
                "name": f"C{index}",
                "namespace": "t",
                "fields": [{"name": "p", "type": f"t.C{(index + 1) % size}"}],
            }
        )
        for index in range(size)
    }
    catalog = Catalog.from_texts(texts)
    assert {"REFERENCE_CYCLE"} == {rule for rule, _, _ in _summary(catalog)}
    assert "schemas/c031.avsc reaches a reference cycle through more than 32 files" == catalog.problems()[0].message
    assert 0 == sum(schema_file.ok for schema_file in catalog)
