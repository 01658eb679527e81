"""One-time form tokens: every form that moves money or stock takes effect once.

A form carries a fresh token (`form_token()` in templates). Its view calls `claim(purpose)` first inside the write
transaction and `result(url)` with the page that shows what it did; the token's row commits with the use case or
not at all. A second submit of the same form (a double click, the browser resending the POST, a retry after a
timeout) finds the row and is shown the first result instead of doing it again.
"""

from __future__ import annotations

import hashlib
import re
import secrets

import sqlalchemy as sa
from flask import Flask, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from markupsafe import Markup

from pos.db import db
from pos.errors import N_, InvalidInput
from pos.models import FormUse

FIELD = "form_token"
_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class AlreadyDone(Exception):
    """The form's token was used: show the first result (or, if it came back with other values, say so)."""

    def __init__(self, token: str, digest: str) -> None:
        super().__init__(token)
        self.token = token
        self.digest = digest


def form_digest() -> str:
    """What the form said, without its tokens: a resend with other values is not the same form."""
    items = sorted((k, v) for k, v in request.form.items(multi=True) if k not in (FIELD, "csrf_token"))
    return hashlib.sha256(repr(items).encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)


def claim(purpose: str) -> FormUse:
    """Record the form's token in the current write transaction; a used token raises AlreadyDone."""
    token = (request.form.get(FIELD) or "").strip()
    if not _SHAPE.fullmatch(token):
        raise InvalidInput(N_("This form is out of date: reload the page and fill it in again.")).at(FIELD)
    digest = form_digest()
    if db.session.get(FormUse, token) is not None:
        raise AlreadyDone(token, digest)
    user = g.get("user")
    use = FormUse(token=token, purpose=purpose[:40], used_by=(user.username if user else "")[:40], result_url="",
                  digest=digest)
    try:
        with db.session.begin_nested():
            db.session.add(use)
    except sa.exc.IntegrityError:  # the same form committed by a parallel request in the meantime (PostgreSQL)
        raise AlreadyDone(token, digest) from None
    g.form_use = use
    return use


def result(url: str) -> str:
    """Where the first result is shown (call inside the transaction, after the use case)."""
    use = g.get("form_use")
    if use is not None:
        use.result_url = url[:300]
        db.session.flush()
    return url


def field() -> Markup:
    """The hidden input a form that moves money or stock carries: `{{ once_field() }}`."""
    return Markup('<input type="hidden" name="%s" value="%s">') % (FIELD, new_token())


def init_app(app: Flask) -> None:
    app.jinja_env.globals["form_token"] = new_token
    app.jinja_env.globals["once_field"] = field

    @app.errorhandler(AlreadyDone)
    def already_done(exc: AlreadyDone):
        db.session.rollback()
        use = db.session.get(FormUse, exc.token)
        target = use.result_url if use is not None and use.result_url else request.referrer or url_for("main.index")
        if use is not None and use.digest and use.digest != exc.digest:
            message = gettext("This form was already sent with other values and took effect then; the new values "
                              "were not saved. To record them, open the form again.")
            return render_template("errors/error.html", status=409, title=gettext("Already sent"), message=message,
                                   result_url=target), 409
        flash(gettext("This form was sent already and took effect once: here is what it did."), "info")
        return redirect(target, 303)
