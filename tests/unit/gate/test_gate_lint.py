"""`tradewire.gate.lint.lint`: every lint and input rule fires at the offending token, and only there."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from gate_support import METADATA_PATH, SIGNAL_PATH, Project, fixture_text, position

from tradewire.avro.catalog import Catalog
from tradewire.config import Config, load_config, parse_config
from tradewire.errors import ConfigError
from tradewire.gate.lint import enabled_lint_rules, lint
from tradewire.gate.rules import rules_of

ORDER_SIDE_PATH = "schemas/common/order_side.avsc"

# A located expectation: (rule id, token whose first character is the location, text the token is searched after).
Expected = tuple[str, str, str]


def lint_config(**lint_section: Any) -> Config:
    """A configuration with the given `lint:` section (the root directory is irrelevant to lint)."""
    return parse_config({"version": "v1", "lint": lint_section}, Path("project"))


def lint_files(files: Mapping[str, str], config: Config | None = None) -> list[tuple[str, str, int, int]]:
    """Lint fixture files placed at the given paths next to the shared metadata; (rule, path, line, col) found."""
    texts = {METADATA_PATH: fixture_text("event_metadata.avsc")}
    texts.update({path: fixture_text(fixture) for path, fixture in files.items()})
    findings = lint(Catalog.from_texts(texts), config or lint_config())
    return [(f.rule_id, f.path, f.line, f.col) for f in findings]


def located(path: str, fixture: str, expected: list[Expected]) -> list[tuple[str, str, int, int]]:
    """The (rule, path, line, col) of each expectation, located in the fixture's text."""
    text = fixture_text(fixture)
    return [(rule_id, path, *position(text, token, after=after)) for rule_id, token, after in expected]


LINT_CASES = [
    pytest.param(
        "optional_text_union.avsc",
        "schemas/common/optional_text.avsc",
        [("FILE_SINGLE_TYPE", '["null", "string"]', "")],
        "order_side.avsc",
        ORDER_SIDE_PATH,
        id="FILE_SINGLE_TYPE-top-level-union",
    ),
    pytest.param(
        "signal.avsc",
        "schemas/trading/signal.avsc",
        [("FILE_NAME", '{\n  "type": "record"', "")],
        "signal.avsc",
        SIGNAL_PATH,
        id="FILE_NAME-event-not-named-after-topic",
    ),
    pytest.param(
        "order_side.avsc",
        "schemas/common/side.avsc",
        [("FILE_NAME", '{\n  "type": "enum"', "")],
        "order_side.avsc",
        ORDER_SIDE_PATH,
        id="FILE_NAME-shared-type-not-snake-case-name",
    ),
    pytest.param(
        "signal_in_execution_namespace.avsc",
        SIGNAL_PATH,
        [("NAMESPACE", '"SignalGenerated"', "")],
        "signal.avsc",
        SIGNAL_PATH,
        id="NAMESPACE-event-outside-topic-domain",
    ),
    pytest.param(
        "order_side_in_trading_namespace.avsc",
        ORDER_SIDE_PATH,
        [("NAMESPACE", '"OrderSide"', "")],
        "order_side.avsc",
        ORDER_SIDE_PATH,
        id="NAMESPACE-shared-type-outside-common",
    ),
    pytest.param(
        "signal_topic_with_hyphen.avsc",
        "schemas/trading/trading.signals-generated.avsc",
        [("EVENT_TOPIC", '"trading.signals-generated"', "")],
        "signal.avsc",
        SIGNAL_PATH,
        id="EVENT_TOPIC-not-dotted-lowercase-words",
    ),
    pytest.param(
        "signal_without_topic.avsc",
        SIGNAL_PATH,
        [("EVENT_TOPIC", '"SignalGenerated"', "")],
        "signal.avsc",
        SIGNAL_PATH,
        id="EVENT_TOPIC-missing",
    ),
    pytest.param(
        "order_side_declaring_topic.avsc",
        ORDER_SIDE_PATH,
        [("EVENT_TOPIC", '"tradewire.topic"', "")],
        "order_side.avsc",
        ORDER_SIDE_PATH,
        id="EVENT_TOPIC-on-shared-type",
    ),
    pytest.param(
        "signal_without_key.avsc",
        SIGNAL_PATH,
        [("EVENT_KEY", '"SignalGenerated"', "")],
        "signal.avsc",
        SIGNAL_PATH,
        id="EVENT_KEY-missing",
    ),
    pytest.param(
        "signal_keyed_by_missing_ticker.avsc",
        SIGNAL_PATH,
        [("EVENT_KEY", '"ticker"', "")],
        "signal.avsc",
        SIGNAL_PATH,
        id="EVENT_KEY-not-a-field",
    ),
    pytest.param(
        "signal_keyed_by_int_horizon.avsc",
        SIGNAL_PATH,
        [("EVENT_KEY", '"horizon_seconds"', '"tradewire.key": "horizon_seconds"')],
        "signal.avsc",
        SIGNAL_PATH,
        id="EVENT_KEY-int-field",
    ),
    pytest.param(
        "signal_metadata_after_symbol.avsc",
        SIGNAL_PATH,
        [("EVENT_METADATA", '{"name": "symbol"', "")],
        "signal.avsc",
        SIGNAL_PATH,
        id="EVENT_METADATA-not-first",
    ),
    pytest.param(
        "signal_horizon_seconds_camel_case.avsc",
        SIGNAL_PATH,
        [("NAME_CASE", '"horizonSeconds"', "")],
        "signal.avsc",
        SIGNAL_PATH,
        id="NAME_CASE-field-camel-case",
    ),
    pytest.param(
        "order_side_lowercase_sell.avsc",
        ORDER_SIDE_PATH,
        [("NAME_CASE", '"sell"', "")],
        "order_side.avsc",
        ORDER_SIDE_PATH,
        id="NAME_CASE-enum-symbol-lowercase",
    ),
    pytest.param(
        "order_side_named_in_camel_case.avsc",
        ORDER_SIDE_PATH,
        [("NAME_CASE", '"orderSide"', "")],
        "order_side.avsc",
        ORDER_SIDE_PATH,
        id="NAME_CASE-type-camel-case",
    ),
    pytest.param(
        "signal_field_named_class.avsc",
        SIGNAL_PATH,
        [("NAME_PYTHON_SAFE", '"class"', "")],
        "signal.avsc",
        SIGNAL_PATH,
        id="NAME_PYTHON_SAFE-field-keyword",
    ),
    pytest.param(
        "signal_field_named_from_avro.avsc",
        SIGNAL_PATH,
        [("NAME_PYTHON_SAFE", '"from_avro"', "")],
        "signal.avsc",
        SIGNAL_PATH,
        id="NAME_PYTHON_SAFE-field-shadows-generated-method",
    ),
    pytest.param(
        "order_side_named_any.avsc",
        "schemas/common/any.avsc",
        [("NAME_PYTHON_SAFE", '"Any"', "")],
        "order_side.avsc",
        ORDER_SIDE_PATH,
        id="NAME_PYTHON_SAFE-type-shadows-typing-name",
    ),
    pytest.param(
        "order_side_symbol_none.avsc",
        ORDER_SIDE_PATH,
        [("NAME_CASE", '"None"', ""), ("NAME_PYTHON_SAFE", '"None"', "")],
        "order_side.avsc",
        ORDER_SIDE_PATH,
        id="NAME_PYTHON_SAFE-enum-symbol-keyword",
    ),
    pytest.param(
        "signal_without_doc.avsc",
        SIGNAL_PATH,
        [("DOC_TYPE", '"SignalGenerated"', "")],
        "signal.avsc",
        SIGNAL_PATH,
        id="DOC_TYPE-record",
    ),
    pytest.param(
        "order_side_without_doc.avsc",
        ORDER_SIDE_PATH,
        [("DOC_TYPE", '"OrderSide"', "")],
        "order_side.avsc",
        ORDER_SIDE_PATH,
        id="DOC_TYPE-enum",
    ),
    pytest.param(
        "signal_strategy_without_doc.avsc",
        SIGNAL_PATH,
        [("DOC_FIELD", '"strategy"', "")],
        "signal.avsc",
        SIGNAL_PATH,
        id="DOC_FIELD",
    ),
    pytest.param(
        "order_side_without_default.avsc",
        ORDER_SIDE_PATH,
        [("ENUM_DEFAULT", "[", '"symbols": [')],
        "order_side.avsc",
        ORDER_SIDE_PATH,
        id="ENUM_DEFAULT",
    ),
    pytest.param(
        "signal_reference_price_double.avsc",
        SIGNAL_PATH,
        [("FLOAT_FOR_MONEY", '"double"', "")],
        "signal_reference_price_decimal.avsc",
        SIGNAL_PATH,
        id="FLOAT_FOR_MONEY",
    ),
    pytest.param(
        "signal_reference_price_decimal_without_scale.avsc",
        SIGNAL_PATH,
        [("DECIMAL_PRECISION_SCALE", '{"type": "bytes"', "")],
        "signal_reference_price_decimal.avsc",
        SIGNAL_PATH,
        id="DECIMAL_PRECISION_SCALE-scale-missing",
    ),
    pytest.param(
        "signal_reference_price_scale_exceeds_precision.avsc",
        SIGNAL_PATH,
        [("DECIMAL_PRECISION_SCALE", "8", '"scale": 8')],
        "signal_reference_price_decimal.avsc",
        SIGNAL_PATH,
        id="DECIMAL_PRECISION_SCALE-scale-exceeds-precision",
    ),
    pytest.param(
        "signal_request_id_uuid_on_int.avsc",
        SIGNAL_PATH,
        [("LOGICAL_TYPE_VALID", '"uuid"', "")],
        "signal_request_id_uuid.avsc",
        SIGNAL_PATH,
        id="LOGICAL_TYPE_VALID-uuid-on-int",
    ),
    pytest.param(
        "signal_expires_at_plain_long.avsc",
        SIGNAL_PATH,
        [("TIMESTAMP_MICROS", '"long"', "")],
        "signal_expires_at_micros.avsc",
        SIGNAL_PATH,
        id="TIMESTAMP_MICROS-instant-without-logical-type",
    ),
    pytest.param(
        "signal_expires_at_millis.avsc",
        SIGNAL_PATH,
        [("TIMESTAMP_MICROS", '{"type": "long", "logicalType": "timestamp-millis"}', "")],
        "signal_expires_at_micros.avsc",
        SIGNAL_PATH,
        id="TIMESTAMP_MICROS-millis",
    ),
    pytest.param(
        "signal_note_null_last.avsc",
        SIGNAL_PATH,
        [("OPTIONAL_DEFAULT_NULL", '["string", "null"]', "")],
        "signal.avsc",
        SIGNAL_PATH,
        id="OPTIONAL_DEFAULT_NULL-null-not-first",
    ),
    pytest.param(
        "signal_note_without_default.avsc",
        SIGNAL_PATH,
        [("OPTIONAL_DEFAULT_NULL", '{"name": "note"', "")],
        "signal.avsc",
        SIGNAL_PATH,
        id="OPTIONAL_DEFAULT_NULL-no-default",
    ),
]


# Each case: (bad fixture, where it is placed, what it breaks) and (corrected fixture, where that belongs).
FIRING_CASES = [pytest.param(*case.values[:3], id=case.id) for case in LINT_CASES]
CORRECTED_CASES = [pytest.param(*case.values[3:], id=case.id) for case in LINT_CASES]


@pytest.mark.parametrize(("fixture", "path", "expected"), FIRING_CASES)
def test_lint_rule_fires_at_the_offending_token(fixture: str, path: str, expected: list[Expected]) -> None:
    """A schema breaking one house rule gets exactly that rule's finding, at the line and column of the culprit."""
    assert located(path, fixture, expected) == lint_files({path: fixture})


@pytest.mark.parametrize(("fixed_fixture", "fixed_path"), CORRECTED_CASES)
def test_lint_rule_is_quiet_on_the_corrected_schema(fixed_fixture: str, fixed_path: str) -> None:
    """The corrected schema, placed where it belongs, has no finding at all."""
    assert [] == lint_files({fixed_path: fixed_fixture})


@pytest.mark.parametrize(("fixture", "path", "expected"), FIRING_CASES)
def test_lint_rule_fires_through_the_cli(project: Project, fixture: str, path: str, expected: list[Expected]) -> None:
    """`tradewire lint --format json` reports the same located finding and exits 100."""
    project.put(path, fixture)
    result = project.run("lint", "--format", "json")
    actual = [(f["rule_id"], f["path"], f["line"], f["col"]) for f in result.json_findings()]
    assert (100, located(path, fixture, expected)) == (result.code, actual)


def test_every_lint_rule_has_a_firing_case() -> None:
    """The case table (with the TOPIC_UNIQUE tests below) covers every rule `tradewire rules --check lint` lists."""
    covered = {rule_id for case in LINT_CASES for rule_id, _, _ in case.values[2]} | {"TOPIC_UNIQUE"}
    assert sorted(r.id for r in rules_of("lint")) == sorted(covered)


def test_topic_unique_fires_on_the_second_event_of_a_topic() -> None:
    """A second event type on a taken topic is reported at its topic (and its file is misnamed for that topic)."""
    second_path = "schemas/trading/trading.signals.generated_v2.avsc"
    text = fixture_text("signal_v2_reusing_signal_topic.avsc")
    expected = [
        ("FILE_NAME", second_path, 1, 1),
        ("TOPIC_UNIQUE", second_path, *position(text, '"trading.signals.generated"')),
    ]
    assert expected == lint_files({SIGNAL_PATH: "signal.avsc", second_path: "signal_v2_reusing_signal_topic.avsc"})


def test_topic_unique_is_quiet_when_each_event_has_its_own_topic() -> None:
    """Two event types on two topics, each in the file named after its topic, lint clean."""
    second_path = "schemas/trading/trading.signals.generated_v2.avsc"
    assert [] == lint_files({SIGNAL_PATH: "signal.avsc", second_path: "signal_v2_own_topic.avsc"})


INPUT_CASES = [
    pytest.param(
        "signal_missing_comma.avsc",
        "INVALID_JSON",
        '"fields"',
        """invalid JSON: expected ',' or '}' in an object, found '"'""",
        id="INVALID_JSON",
    ),
    pytest.param(
        "signal_horizon_seconds_hyphenated.avsc",
        "INVALID_AVRO",
        '"horizon-seconds"',
        "field name 'horizon-seconds' is not a valid Avro name ([A-Za-z_][A-Za-z0-9_]*)",
        id="INVALID_AVRO",
    ),
    pytest.param(
        "signal_horizon_seconds_string_default.avsc",
        "INVALID_DEFAULT",
        '"soon"',
        "default 'soon' of field 'horizon_seconds' does not match its type int",
        id="INVALID_DEFAULT",
    ),
    pytest.param(
        "signal_venue_of_undefined_type.avsc",
        "UNKNOWN_TYPE",
        '"tradewire.common.Venue"',
        "unknown type 'tradewire.common.Venue': no schema file defines 'tradewire.common.Venue'",
        id="UNKNOWN_TYPE",
    ),
    pytest.param(
        "signal_redefining_event_metadata.avsc",
        "DUPLICATE_TYPE",
        '"EventMetadata"',
        "type 'tradewire.common.EventMetadata' is already defined in schemas/common/event_metadata.avsc",
        id="DUPLICATE_TYPE",
    ),
]


@pytest.mark.parametrize(("fixture", "rule_id", "token", "message"), INPUT_CASES)
def test_input_rule_gives_one_located_finding(fixture: str, rule_id: str, token: str, message: str) -> None:
    """An unreadable schema gets exactly one finding, with its rule, the culprit's position and a clear message."""
    text = fixture_text(fixture)
    catalog = Catalog.from_texts({METADATA_PATH: fixture_text("event_metadata.avsc"), SIGNAL_PATH: text})
    found = [(f.rule_id, f.path, f.line, f.col, f.message) for f in lint(catalog, lint_config())]
    assert [(rule_id, SIGNAL_PATH, *position(text, token), message)] == found


def test_duplicate_shared_type_is_reported_in_the_later_file() -> None:
    """The same shared type defined in two files is one DUPLICATE_TYPE finding at the second file's name."""
    text = fixture_text("order_side.avsc")
    expected = [("DUPLICATE_TYPE", "schemas/common/side.avsc", *position(text, '"OrderSide"'))]
    assert expected == lint_files({ORDER_SIDE_PATH: "order_side.avsc", "schemas/common/side.avsc": "order_side.avsc"})


def test_reference_cycle_gives_one_located_finding() -> None:
    """Two shared types referencing each other give one REFERENCE_CYCLE finding at the reference closing the cycle."""
    leg_text = fixture_text("order_leg_referencing_group.avsc")
    found = lint_files(
        {
            "schemas/common/order_group.avsc": "order_group_referencing_leg.avsc",
            "schemas/common/order_leg.avsc": "order_leg_referencing_group.avsc",
        }
    )
    expected = [
        (
            "REFERENCE_CYCLE",
            "schemas/common/order_leg.avsc",
            *position(leg_text, '"tradewire.common.OrderGroup"'),
        )
    ]
    assert expected == found


def test_one_way_reference_between_shared_types_is_clean() -> None:
    """Breaking the cycle (the leg keeps only the group's id) makes both files lint clean."""
    found = lint_files(
        {
            "schemas/common/order_group.avsc": "order_group_referencing_leg.avsc",
            "schemas/common/order_leg.avsc": "order_leg.avsc",
        }
    )
    assert [] == found


def test_input_findings_cannot_be_switched_off() -> None:
    """Input rules are reported even under `except` of every category and `ignore` of the file's directory."""
    categories = sorted({r.category for r in rules_of("lint")})
    config = lint_config(use=["DEFAULT"], ignore=["schemas/trading"], **{"except": categories})
    text = fixture_text("signal_missing_comma.avsc")
    expected = [("INVALID_JSON", SIGNAL_PATH, *position(text, '"fields"'))]
    assert expected == lint_files({SIGNAL_PATH: "signal_missing_comma.avsc"}, config)


# signal_camel_case_undocumented_double_price.avsc breaks NAME_CASE and DOC_FIELD (field horizonSeconds, NAMING and
# DOCS) and FLOAT_FOR_MONEY (reference_price, TYPES).
THREE_DEFECTS = "signal_camel_case_undocumented_double_price.avsc"


def three_defects(*rule_ids: str) -> list[tuple[str, str, int, int]]:
    """The expected findings of THREE_DEFECTS restricted to `rule_ids`, in output order."""
    text = fixture_text(THREE_DEFECTS)
    every = [
        ("DOC_FIELD", SIGNAL_PATH, *position(text, '"horizonSeconds"')),
        ("NAME_CASE", SIGNAL_PATH, *position(text, '"horizonSeconds"')),
        ("FLOAT_FOR_MONEY", SIGNAL_PATH, *position(text, '"double"')),
    ]
    return [item for item in every if item[0] in rule_ids]


@pytest.mark.parametrize(
    ("lint_section", "expected_rules"),
    [
        pytest.param({}, ("DOC_FIELD", "NAME_CASE", "FLOAT_FOR_MONEY"), id="default"),
        pytest.param({"use": ["DOCS"]}, ("DOC_FIELD",), id="use-one-category"),
        pytest.param({"use": ["NAMING", "TYPES"]}, ("NAME_CASE", "FLOAT_FOR_MONEY"), id="use-two-categories"),
        pytest.param({"use": ["FLOAT_FOR_MONEY"]}, ("FLOAT_FOR_MONEY",), id="use-one-rule"),
        pytest.param({"except": ["NAMING"]}, ("DOC_FIELD", "FLOAT_FOR_MONEY"), id="except-category"),
        pytest.param({"except": ["DOC_FIELD", "FLOAT_FOR_MONEY"]}, ("NAME_CASE",), id="except-rules"),
        pytest.param({"use": ["TYPES"], "except": ["FLOAT_FOR_MONEY"]}, (), id="use-category-except-its-rule"),
        pytest.param({"ignore": ["schemas/trading"]}, (), id="ignore-directory"),
        pytest.param({"ignore": [SIGNAL_PATH]}, (), id="ignore-file"),
        pytest.param(
            {"ignore": ["schemas/execution"]},
            ("DOC_FIELD", "NAME_CASE", "FLOAT_FOR_MONEY"),
            id="ignore-other-directory",
        ),
        pytest.param(
            {"ignore_only": {"DOC_FIELD": ["schemas/trading"]}}, ("NAME_CASE", "FLOAT_FOR_MONEY"), id="ignore-only-rule"
        ),
        pytest.param(
            {"ignore_only": {"DOC_FIELD": ["schemas/execution"]}},
            ("DOC_FIELD", "NAME_CASE", "FLOAT_FOR_MONEY"),
            id="ignore-only-other-directory",
        ),
    ],
)
def test_lint_configuration_selects_rules_and_paths(lint_section: dict[str, Any], expected_rules: tuple[str]) -> None:
    """`lint.use`, `lint.except`, `lint.ignore` and `lint.ignore_only` decide which findings are reported."""
    found = lint_files({SIGNAL_PATH: THREE_DEFECTS}, lint_config(**lint_section))
    assert three_defects(*expected_rules) == found


@pytest.mark.parametrize(
    ("lint_section", "message"),
    [
        pytest.param(
            {"use": ["DEFAULT", "NO_SUCH_RULE"]},
            "lint.use: unknown rule or category NO_SUCH_RULE (see `tradewire rules`)",
            id="use",
        ),
        pytest.param(
            {"except": ["FIELD_REMOVED_WITHOUT_DEFAULT"]},
            "lint.except: unknown rule or category FIELD_REMOVED_WITHOUT_DEFAULT (see `tradewire rules`)",
            id="except-breaking-rule",
        ),
    ],
)
def test_unknown_rule_in_lint_configuration_is_a_config_error(lint_section: dict[str, Any], message: str) -> None:
    """A rule or category lint does not know, in `use` or `except`, raises ConfigError naming it."""
    with pytest.raises(ConfigError) as raised:
        enabled_lint_rules(lint_config(**lint_section).lint)
    assert message == str(raised.value)


def test_repository_schemas_lint_clean(repo_root: Path) -> None:
    """The contracts in this repository's schemas/ follow every house rule of its own tradewire.yaml."""
    config = load_config(repo_root / "tradewire.yaml")
    assert [] == lint(Catalog.from_directory(config.root, config.schemas), config)
