"""The documentation keeps up with the code: every setting is in docs/configuration.md."""

from pathlib import Path

from config.defaults import SETTINGS

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented():
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for name in SETTINGS:
        assert f"`{name}`" in text, name


def test_readme_gives_the_two_set_up_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text
