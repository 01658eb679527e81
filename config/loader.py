"""Load settings in order of precedence: defaults < instance/kasir.toml < KASIR_* / DATABASE_URL < overrides."""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.defaults import CASH_ROUNDING, ENVIRONMENTS, LOCALES, SETTINGS, TAX_STATUSES, TIMEZONES

_TRUE = {"1", "true", "yes", "ya", "on"}
_FALSE = {"0", "false", "no", "tidak", "off", ""}
MIN_SECRET_LENGTH = 32
SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret


class SettingsError(Exception):
    """A setting has a wrong value or an insecure one where that is refused."""


def _coerce(name: str, raw: Any, default: Any, source: str) -> Any:
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise SettingsError(f"{source}: {name} must be true or false, not {raw!r}")
    if isinstance(default, int):
        if isinstance(raw, bool):
            raise SettingsError(f"{source}: {name} must be a whole number, not {raw!r}")
        try:
            return int(str(raw).strip())
        except ValueError:
            raise SettingsError(f"{source}: {name} must be a whole number, not {raw!r}") from None
    if isinstance(default, list):
        if isinstance(raw, list):
            return [str(item).strip() for item in raw if str(item).strip()]
        return [part.strip() for part in str(raw).split(",") if part.strip()]
    if not isinstance(raw, str):
        raise SettingsError(f"{source}: {name} must be text, not {raw!r}")
    return raw


def read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: {exc}") from None
    unknown = sorted(set(data) - set(SETTINGS))
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s): {', '.join(unknown)}")
    return data


def load_settings(
    instance_path: str | os.PathLike,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the effective settings, validated; generates the secret key on first run."""
    environ = os.environ if environ is None else environ
    instance = Path(instance_path)
    settings: dict[str, Any] = {name: _copy(default) for name, (default, _doc) in SETTINGS.items()}
    toml_path = instance / "kasir.toml"
    for name, raw in read_toml(toml_path).items():
        settings[name] = _coerce(name, raw, SETTINGS[name][0], str(toml_path))
    for name, (default, _doc) in SETTINGS.items():
        key = "KASIR_" + name.upper()
        if key in environ:
            settings[name] = _coerce(name, environ[key], default, key)
    if environ.get("DATABASE_URL") and not environ.get("KASIR_DATABASE_URL"):
        settings["database_url"] = environ["DATABASE_URL"]  # the app's own KASIR_DATABASE_URL wins
    for name, raw in (overrides or {}).items():
        if name not in SETTINGS:
            raise SettingsError(f"unknown setting: {name}")
        settings[name] = _coerce(name, raw, SETTINGS[name][0], "overrides")
    _validate(settings)
    if not settings["database_url"]:
        settings["database_url"] = "sqlite:///" + str((instance / "kasir.db").resolve())
    check_hash_method(settings["password_hash_method"])
    if not settings["secret_key"]:
        settings["secret_key"] = _instance_secret(instance)
    if settings["env"] == "production":
        refuse_insecure(settings)
    return settings


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def _validate(s: dict[str, Any]) -> None:
    if s["env"] not in ENVIRONMENTS:
        raise SettingsError(f"env must be one of {', '.join(ENVIRONMENTS)}, not {s['env']!r}")
    if s["tax_status"] not in TAX_STATUSES:
        raise SettingsError(f"tax_status must be pkp or non_pkp, not {s['tax_status']!r}")
    if s["cash_rounding"] not in CASH_ROUNDING:
        raise SettingsError(f"cash_rounding must be one of {', '.join(CASH_ROUNDING)}, not {s['cash_rounding']!r}")
    if s["default_locale"] not in LOCALES:
        raise SettingsError(f"default_locale must be one of {', '.join(LOCALES)}, not {s['default_locale']!r}")
    s["timezone"] = TIMEZONES.get(s["timezone"].upper(), s["timezone"])
    try:
        ZoneInfo(s["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"timezone {s['timezone']!r} is not a known IANA zone (e.g. Asia/Makassar)") from None
    for name in ("idle_timeout_minutes", "login_max_failures", "login_lock_minutes"):
        if s[name] < 1:
            raise SettingsError(f"{name} must be at least 1")
    if not 0 <= s["ppn_rate_percent"] <= 100:
        raise SettingsError("ppn_rate_percent must be between 0 and 100")
    if not 0 <= s["kasbon_limit_percent"] <= 1000:
        raise SettingsError("kasbon_limit_percent must be between 0 and 1000")
    if not 0 <= s["future_days"] <= 366:
        raise SettingsError("future_days must be between 0 and 366")
    for name in ("simpanan_pokok_amount", "simpanan_wajib_amount", "kasbon_limit_max"):
        if s[name] < 0:
            raise SettingsError(f"{name} must not be negative")
    unknown = set(s["shu_capital_savings"]) - {"pokok", "wajib", "sukarela"}
    if unknown or not s["shu_capital_savings"]:
        raise SettingsError("shu_capital_savings lists pokok, wajib and/or sukarela")
    _validate_devices(s)


def _validate_devices(s: dict[str, Any]) -> None:
    """Network printers: the allowed networks as canonical CIDR texts, the allowed ports as whole numbers."""
    networks = []
    for text in s["printer_networks"]:
        try:
            networks.append(str(ipaddress.ip_network(str(text).strip(), strict=False)))
        except ValueError:
            raise SettingsError(f"printer_networks: {text!r} is not a network such as 192.168.0.0/16") from None
    s["printer_networks"] = networks
    ports = []
    for text in s["printer_ports"]:
        port = str(text).strip()
        if not (port.isascii() and port.isdigit()) or not 0 < int(port) <= 65535:
            raise SettingsError(f"printer_ports: {text!r} is not a TCP port between 1 and 65535")
        ports.append(int(port))
    s["printer_ports"] = ports


def _instance_secret(instance: Path) -> str:
    path = instance / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Create with owner-only permissions; O_EXCL so two starting processes never write two keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def refuse_insecure(s: dict[str, Any]) -> None:
    """Production refuses settings that are fine on a developer's desk but unsafe in a shop."""
    problems = []
    if len(s["secret_key"]) < MIN_SECRET_LENGTH:
        problems.append(f"secret_key is shorter than {MIN_SECRET_LENGTH} characters")
    if s["database_url"].startswith("sqlite://") and s["database_url"] in ("sqlite://", "sqlite:///:memory:"):
        problems.append("an in-memory database loses every sale on restart")
    if _hash_too_weak(s["password_hash_method"]):
        problems.append("password_hash_method is too weak (use scrypt, the default)")
    if problems:
        raise SettingsError("refused in production: " + "; ".join(problems))


def _hash_too_weak(method: str) -> bool:
    parts = method.split(":")
    try:
        if parts[0] == "scrypt":
            return len(parts) > 1 and int(parts[1]) < 2**15
        if parts[0] == "pbkdf2":
            return len(parts) > 2 and int(parts[2]) < 600_000
    except ValueError:
        return True
    return True


def check_hash_method(method: str) -> None:
    """Hash once at start-up so a misspelt method fails now, not at the first sign-in."""
    from werkzeug.security import generate_password_hash

    try:
        generate_password_hash("check", method=method)
    except (ValueError, TypeError):
        raise SettingsError(f"password_hash_method {method!r} is not a werkzeug hash method") from None
