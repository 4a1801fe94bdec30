"""Settings from flags, environment and file, through one table."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from mock_server.runtime.config import Config, load_config
from mock_server.runtime.settings import SETTINGS, ConfigError


def test_config_defaults_match_the_documentation() -> None:
    config = load_config({}, env={})
    assert (config.host, config.port, config.db, config.clock, config.profile) == (
        "127.0.0.1",
        8080,
        ".wanmock/state.db",
        "real",
        "realistic",
    )
    assert config.keys == {"sk-wanmock-test": Decimal("1000")}


def test_config_flag_wins_over_environment() -> None:
    config = load_config({"clock": "stepped"}, env={"WANMOCK_CLOCK": "virtual"})
    assert config.clock == "stepped"


def test_config_environment_wins_over_file(tmp_path: Path) -> None:
    file = tmp_path / "wanmock.toml"
    file.write_text('clock = "virtual"\nseed = 3\n')
    config = load_config({}, env={"WANMOCK_SEED": "9"}, config_file=str(file))
    assert (config.clock, config.seed) == ("virtual", 9)


def test_config_repeatable_environment_is_comma_separated() -> None:
    config = load_config({}, env={"WANMOCK_API_KEY": "a=1,b"})
    assert config.keys == {"a": Decimal("1"), "b": Decimal("1000")}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WANMOCK_PORT", "99999"),
        ("WANMOCK_CLOCK", "fast"),
        ("WANMOCK_TIME_SCALE", "0"),
        ("WANMOCK_API_KEY", "k=-5"),
        ("WANMOCK_SEED", "x"),
    ],
)
def test_config_bad_value_names_its_source(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_config({}, env={name: value})


def test_config_file_overrides_a_model_price(tmp_path: Path) -> None:
    file = tmp_path / "wanmock.toml"
    file.write_text('[models."wan2.6-reference-video"]\nrate = "2"\nbilling_rule = "per_call"\n')
    model = load_config({}, env={}, config_file=str(file)).models["wan2.6-reference-video"]
    assert (model.rate, model.billing_rule) == (Decimal("2"), "per_call")


def test_config_file_with_an_unknown_setting_is_an_error(tmp_path: Path) -> None:
    file = tmp_path / "wanmock.toml"
    file.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match="colour"):
        load_config({}, env={}, config_file=str(file))


def test_config_base_url_uses_public_url_when_given() -> None:
    config = load_config({"public_url": "https://fake.example/"}, env={})
    assert config.base_url == "https://fake.example"


def test_config_has_one_field_per_setting_with_its_default() -> None:
    fields = {f.name: f for f in dataclasses.fields(Config) if f.name != "models"}
    assert set(fields) == {s.name for s in SETTINGS}
    for setting in SETTINGS:
        assert getattr(Config(), setting.name) == setting.default
