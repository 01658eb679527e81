"""Command line: `flask --app wsgi user ...` and `flask --app wsgi demo load`."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from pos import auth
from pos.db import db
from pos.errors import PosError
from pos.models import Role, User

user_cli = AppGroup("user", help="Create and manage users and their API tokens.")
demo_cli = AppGroup("demo", help="The demo cooperative.")

ROLE_CHOICE = click.Choice([r.value for r in Role])


def _fail(exc: PosError) -> None:
    raise click.ClickException(str(exc))


@user_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=ROLE_CHOICE, help="kasir, apoteker, gudang, manajer, pengurus or pengawas")
@click.option("--name", "full_name", default="", help="Full name shown on screens and receipts.")
@click.option("--pin", default=None, help="Till PIN, 4 to 6 digits (optional).")
@click.option("--locale", default=None, type=click.Choice(["id", "en"]), help="Defaults to default_locale.")
@click.password_option(help="Asked for when not given.")
def create(username, role, full_name, pin, locale, password):
    """Create USERNAME with ROLE; asks for the password twice."""
    try:
        user = auth.create_user(username, role, password, full_name=full_name, pin=pin, locale=locale, actor_name="cli")
    except PosError as exc:
        _fail(exc)
    click.echo(f"created {user.username} ({user.role.value})")


@user_cli.command("list")
def list_users():
    """List users with role and status."""
    for user in db.session.scalars(sa.select(User).order_by(User.username)):
        status = "active" if user.active else "disabled"
        if auth.is_locked(user.username):
            status += ",locked"
        click.echo(f"{user.username:20} {user.role.value:10} {status:16} {user.full_name}")


@user_cli.command("disable")
@click.argument("username")
def disable(username):
    """Disable USERNAME: no sign-in, open sessions ended, tokens refused."""
    try:
        auth.set_active(username, False, actor_name="cli")
    except PosError as exc:
        _fail(exc)
    click.echo(f"disabled {auth.normalise_username(username)}")


@user_cli.command("enable")
@click.argument("username")
def enable(username):
    """Enable USERNAME again."""
    try:
        auth.set_active(username, True, actor_name="cli")
    except PosError as exc:
        _fail(exc)
    click.echo(f"enabled {auth.normalise_username(username)}")


@user_cli.command("role")
@click.argument("username")
@click.argument("role", type=ROLE_CHOICE)
def role(username, role):
    """Give USERNAME another ROLE (audited)."""
    try:
        auth.set_role(username, role, actor_name="cli")
    except PosError as exc:
        _fail(exc)
    click.echo(f"{auth.normalise_username(username)} is now {role}")


@user_cli.command("password")
@click.argument("username")
@click.password_option()
def password(username, password):
    """Set USERNAME's password."""
    try:
        auth.set_password(username, password, actor_name="cli")
    except PosError as exc:
        _fail(exc)
    click.echo("password changed")


@user_cli.command("pin")
@click.argument("username")
@click.option("--pin", prompt=True, hide_input=True, confirmation_prompt=True)
def pin(username, pin):
    """Set USERNAME's till PIN."""
    try:
        auth.set_pin(username, pin, actor_name="cli")
    except PosError as exc:
        _fail(exc)
    click.echo("PIN changed")


@user_cli.command("unlock")
@click.argument("username")
def unlock(username):
    """Lift a lock after repeated failed sign-ins."""
    auth.unlock(username, actor=None)
    click.echo(f"unlocked {auth.normalise_username(username)}")


@user_cli.command("token")
@click.argument("username")
@click.option("--name", default="", help="What the token is for, e.g. 'timbangan-gudang'.")
def token(username, name):
    """Print a new API token for USERNAME once; only its hash is stored."""
    user = db.session.scalar(sa.select(User).where(User.username == auth.normalise_username(username)))
    if user is None or not user.active:
        raise click.ClickException(f"no active user named {auth.normalise_username(username)!r}")
    click.echo(auth.issue_token(user, name))


@user_cli.command("revoke-tokens")
@click.argument("username")
def revoke_tokens(username):
    """Revoke every API token of USERNAME."""
    try:
        count = auth.revoke_tokens(username)
    except PosError as exc:
        _fail(exc)
    click.echo(f"revoked {count} token(s)")


@demo_cli.command("load")
def load():
    """Load the demo cooperative (safe to run again; refused in production)."""
    from pos.demo import DEMO_PASSWORD, DEMO_USERS, load_demo

    if current_app.config["KASIR"]["env"] == "production":
        raise click.ClickException("refused: KASIR_ENV=production does not take demo data")
    from pos.demo import DemoRefused

    try:
        created = load_demo()
    except DemoRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("demo cooperative loaded" if created else "demo cooperative already present")
    if created:
        from pos.demo import print_demo_receipts

        folder = print_demo_receipts()
        click.echo(f"a test page and a demo receipt were printed to {folder}")
    click.echo(f"demo logins (password {DEMO_PASSWORD}):")
    for username, _name, _role, pin_code in DEMO_USERS:
        click.echo(f"  {username:10} PIN {pin_code}")


def register_cli(app: Flask) -> None:
    from inventory.cli import stock_cli
    from ledger.cli import ledger_cli
    from pos.devices_cli import printer_cli
    from pos.sales.cli import sales_cli

    app.cli.add_command(stock_cli)
    app.cli.add_command(printer_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(sales_cli)
