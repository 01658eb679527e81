"""Settings: documented defaults, then instance/kasir.toml, then KASIR_* environment variables."""

from config.loader import SettingsError, load_settings

__all__ = ["SettingsError", "load_settings"]
