"""WSGI entry point: `flask --app wsgi ...` and `waitress-serve wsgi:app`."""

import sys

from pos.app import create_app

# A thread rendering a long report holds the interpreter for up to the switch interval (5 ms by default) each
# time a till's lookup wants it back, several times per lookup; 1 ms keeps a scan fast while a report renders.
sys.setswitchinterval(0.001)

app = create_app()
