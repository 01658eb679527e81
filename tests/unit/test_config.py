"""Settings: defaults < instance/kasir.toml < KASIR_* environment < explicit overrides; production refusals."""

import os
import stat

import pytest

from config import SettingsError, load_settings
from config.defaults import SETTINGS


def write_toml(instance, text):
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "kasir.toml").write_text(text, encoding="utf-8")


def test_defaults_are_documented_and_used(tmp_path):
    settings = load_settings(tmp_path, environ={})
    for name, (default, doc) in SETTINGS.items():
        assert doc, f"{name} has no description"
        if name not in ("database_url", "secret_key"):
            assert settings[name] == default
    assert settings["timezone"] == "Asia/Makassar"
    assert settings["tax_status"] == "non_pkp"
    assert settings["database_url"] == "sqlite:///" + str((tmp_path / "kasir.db").resolve())


def test_toml_overrides_defaults_and_environment_overrides_toml(tmp_path):
    write_toml(
        tmp_path,
        'cooperative_name = "Koperasi Sumber Rejeki"\ntimezone = "WIB"\nlogin_max_failures = 3\noutlets = ["TK"]\n',
    )
    from_file = load_settings(tmp_path, environ={})
    assert from_file["cooperative_name"] == "Koperasi Sumber Rejeki"
    assert from_file["timezone"] == "Asia/Jakarta"  # WIB/WITA/WIT are accepted for the zone
    assert from_file["login_max_failures"] == 3
    assert from_file["outlets"] == ["TK"]

    env = {
        "KASIR_COOPERATIVE_NAME": "Koperasi Dari Env",
        "KASIR_LOGIN_MAX_FAILURES": "7",
        "KASIR_SESSION_COOKIE_SECURE": "ya",
        "KASIR_OUTLETS": "TK, AP",
        "DATABASE_URL": "postgresql://x/y",
    }
    from_env = load_settings(tmp_path, environ=env)
    assert from_env["cooperative_name"] == "Koperasi Dari Env"
    assert from_env["login_max_failures"] == 7
    assert from_env["session_cookie_secure"] is True
    assert from_env["outlets"] == ["TK", "AP"]
    assert from_env["database_url"] == "postgresql://x/y"
    assert from_env["timezone"] == "Asia/Jakarta"  # untouched by the environment: still the file's value

    explicit = load_settings(tmp_path, environ=env, overrides={"cooperative_name": "Override"})
    assert explicit["cooperative_name"] == "Override"


@pytest.mark.parametrize(
    ("toml", "env"),
    [
        ('tax_status = "maybe"', {}),
        ('timezone = "Mars/Olympus"', {}),
        ("login_max_failures = 0", {}),
        ('colour = "red"', {}),
        ("this is not toml", {}),
        ("", {"KASIR_LOGIN_MAX_FAILURES": "lima"}),
        ("", {"KASIR_SESSION_COOKIE_SECURE": "perhaps"}),
        ('default_locale = "fr"', {}),
        ("", {"KASIR_ENV": "staging"}),
    ],
)
def test_wrong_settings_are_refused_with_the_reason(tmp_path, toml, env):
    write_toml(tmp_path, toml)
    with pytest.raises(SettingsError):
        load_settings(tmp_path, environ=env)


def test_secret_key_is_generated_once_private_and_kept(tmp_path):
    first = load_settings(tmp_path, environ={})["secret_key"]
    second = load_settings(tmp_path, environ={})["secret_key"]
    assert first == second and len(first) >= 32
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_production_refuses_insecure_settings(tmp_path):
    with pytest.raises(SettingsError, match="secret_key"):
        load_settings(tmp_path, environ={"KASIR_ENV": "production", "KASIR_SECRET_KEY": "short"})
    with pytest.raises(SettingsError, match="in-memory"):
        load_settings(tmp_path, environ={"KASIR_ENV": "production", "DATABASE_URL": "sqlite://"})
    with pytest.raises(SettingsError, match="too weak"):
        load_settings(tmp_path, environ={"KASIR_ENV": "production", "KASIR_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    ok = load_settings(tmp_path, environ={"KASIR_ENV": "production"})
    assert ok["env"] == "production"
