"""WSGI entry point: `flask --app wsgi ...` and `waitress-serve wsgi:app`."""

from pos.app import create_app

app = create_app()
