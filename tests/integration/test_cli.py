"""The command line: users, tokens and the demo cooperative."""

import pytest
import sqlalchemy as sa

from config import SettingsError
from pos.db import db
from pos.models import AuditEntry, User


def test_user_create_asks_for_the_password_and_the_user_can_sign_in(runner, demo_app):
    result = runner.invoke(
        args=["user", "create", "Rina", "--role", "kasir", "--name", "Rina Wati", "--pin", "8080"],
        input="rahasia9\nrahasia9\n",
    )
    assert result.exit_code == 0, result.output
    assert "created rina (kasir)" in result.output
    from tests.conftest import sign_in

    assert sign_in(demo_app.test_client(), "rina", "rahasia9").status_code == 302
    listing = runner.invoke(args=["user", "list"]).output
    assert "rina" in listing and "Rina Wati" in listing and "kasir" in listing


@pytest.mark.parametrize(
    ("args", "typed", "message"),
    [
        (["user", "create", "kasir", "--role", "kasir"], "rahasia9\nrahasia9\n", "taken"),
        (["user", "create", "x", "--role", "kasir"], "rahasia9\nrahasia9\n", "username"),
        (["user", "create", "andi", "--role", "kasir"], "abc\nabc\n", "at least"),
        (["user", "create", "andi", "--role", "kasir", "--pin", "12"], "rahasia9\nrahasia9\n", "PIN"),
        (["user", "create", "andi", "--role", "raja"], "rahasia9\nrahasia9\n", "raja"),
    ],
)
def test_user_create_refuses_bad_input_and_creates_nothing(runner, demo_app, args, typed, message):
    with demo_app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    result = runner.invoke(args=args, input=typed)
    assert result.exit_code != 0
    assert message in result.output
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before


def test_user_disable_and_role_are_audited(runner, demo_app):
    assert runner.invoke(args=["user", "disable", "kasir"]).exit_code == 0
    assert runner.invoke(args=["user", "role", "gudang", "manajer"]).exit_code == 0
    assert "disabled" in runner.invoke(args=["user", "list"]).output
    with demo_app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.actor_name == "cli")))
        assert "user.disabled" in actions and "user.role_changed" in actions
    assert runner.invoke(args=["user", "disable", "nobody"]).exit_code != 0


def test_production_refuses_demo_data(make_app, demo_app):
    with pytest.raises(SettingsError, match="demo"):
        make_app(env="production", password_hash_method="scrypt")


def test_production_refuses_to_load_the_demo(make_app):
    app = make_app(env="production", password_hash_method="scrypt")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "production" in result.output
