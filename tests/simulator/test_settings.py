"""Settings from explicit values and BBDC_SIM_* variables; errors name the key."""

from __future__ import annotations

import pytest

from simulator.config import ConfigError, RuntimeConfig
from simulator.settings import Settings, SettingsError
from simulator.version import BitbucketVersion


def test_defaults() -> None:
    settings = Settings.from_sources({}, environ={})
    assert (settings.host, settings.port, settings.dataset, settings.seed) == (
        "127.0.0.1",
        7990,
        "small",
        1,
    )
    assert settings.bitbucket_version.major == 9
    assert settings.context_path == ""


def test_environment_is_read() -> None:
    settings = Settings.from_sources(
        {},
        environ={
            "BBDC_SIM_PORT": "0",
            "BBDC_SIM_BITBUCKET_VERSION": "8.19.1",
            "BBDC_SIM_DATASET": "medium",
            "BBDC_SIM_BASE_URL": "http://127.0.0.1:7990/bitbucket/",
            "OTHER": "ignored",
        },
    )
    assert settings.port == 0
    assert settings.bitbucket_version == BitbucketVersion(8, 19, 1)
    assert settings.dataset == "medium"
    assert settings.context_path == "/bitbucket"


def test_explicit_values_win_over_environment() -> None:
    settings = Settings.from_sources({"port": 1234, "seed": None}, environ={"BBDC_SIM_PORT": "5"})
    assert settings.port == 1234
    assert settings.seed == 1


def test_unknown_environment_key_is_named() -> None:
    with pytest.raises(SettingsError, match="BBDC_SIM_PROT"):
        Settings.from_sources({}, environ={"BBDC_SIM_PROT": "1"})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("BBDC_SIM_PORT", "abc"),
        ("BBDC_SIM_PORT", "70000"),
        ("BBDC_SIM_BITBUCKET_VERSION", "eight"),
        ("BBDC_SIM_DATASET", "huge"),
        ("BBDC_SIM_REPOS", "-3"),
        ("BBDC_SIM_BASE_URL", "ftp://example"),
        ("BBDC_SIM_BASE_URL", "http://h/x?y=1"),
    ],
)
def test_bad_values_name_their_key(key: str, value: str) -> None:
    name = key.removeprefix("BBDC_SIM_").lower()
    with pytest.raises(SettingsError, match=f"({key}|{name})"):
        Settings.from_sources({}, environ={key: value})


def test_bad_explicit_value_names_the_flag() -> None:
    with pytest.raises(SettingsError, match="--bitbucket-version"):
        Settings.from_sources({"bitbucket_version": "x"}, environ={})


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_with_overrides_parses_strings() -> None:
    settings = Settings().with_overrides(bitbucket_version="7.20.0", port=0)
    assert settings.bitbucket_version == BitbucketVersion(7, 20, 0)
    with pytest.raises(SettingsError, match="unknown setting: nope"):
        Settings().with_overrides(nope=1)


def test_runtime_config_patch_is_all_or_nothing() -> None:
    config = RuntimeConfig.from_settings(Settings())
    before = config.version
    with pytest.raises(ConfigError, match="unknown config key: colour"):
        config.patch({"version": "7.0.0", "colour": "blue"})
    assert config.version == before
    with pytest.raises(ConfigError, match="version"):
        config.patch({"version": 7})
    with pytest.raises(ConfigError, match="JSON object"):
        config.patch(["version"])
    config.patch({"version": "7.21.0"})
    assert config.to_json()["version"] == "7.21.0"


def test_nested_sections_patch_and_validate() -> None:
    config = RuntimeConfig.from_settings(Settings())
    config.patch(
        {
            "oauth2": {"access_token_seconds": 60, "accept_basic_client_auth": True},
            "tfa": {"installed": True, "enforce": "groups", "groups": ["developers"]},
            "oauth1": {"accept_rsa_sha2": True},
        }
    )
    assert config.oauth2.access_token_seconds == 60
    assert config.oauth2.accept_basic_client_auth is True
    assert config.tfa.groups == ("developers",)
    assert config.to_json()["tfa"]["groups"] == ["developers"]
    assert config.oauth1.accept_rsa_sha2 is True


@pytest.mark.parametrize(
    ("patch", "key"),
    [
        ({"oauth2": {"access_token_seconds": 0}}, "oauth2.access_token_seconds"),
        ({"oauth2": {"access_token_seconds": "60"}}, "oauth2.access_token_seconds"),
        ({"oauth2": {"accept_basic_client_auth": 1}}, "oauth2.accept_basic_client_auth"),
        ({"oauth2": {"code_seconds": 601}}, "oauth2.code_seconds"),
        ({"oauth2": {"colour": 1}}, "oauth2.colour"),
        ({"oauth2": []}, "oauth2"),
        ({"tfa": {"enforce": "everyone"}}, "tfa.enforce"),
        ({"tfa": {"blocked_response": "500"}}, "tfa.blocked_response"),
        ({"tfa": {"groups": "developers"}}, "tfa.groups"),
        ({"tfa": {"ip_whitelist": ["10.0.0.0/33"]}}, "tfa.ip_whitelist"),
        ({"tfa": {"ip_whitelist": ["not-an-ip"]}}, "tfa.ip_whitelist"),
    ],
)
def test_bad_nested_values_name_their_key(patch: dict[str, object], key: str) -> None:
    config = RuntimeConfig.from_settings(Settings())
    before = config.to_json()
    with pytest.raises(ConfigError) as caught:
        config.patch({"version": "8.0.0", **patch})
    assert caught.value.key == key
    assert config.to_json() == before


def test_max_page_limit_is_runtime_config_and_resets() -> None:
    config = RuntimeConfig.from_settings(Settings(max_page_limit=50))
    assert config.max_page_limit == 50
    config.patch({"max_page_limit": 5})
    assert config.to_json()["max_page_limit"] == 5
    for bad in (0, -1, "5", True, 100_001):
        with pytest.raises(ConfigError) as caught:
            config.patch({"max_page_limit": bad})
        assert caught.value.key == "max_page_limit"
    assert RuntimeConfig.from_settings(Settings(max_page_limit=50)).max_page_limit == 50
