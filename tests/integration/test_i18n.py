"""Bahasa Indonesia first, English per user: every message translated, catalogs compiled, pages localised."""

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from pos.permissions import public
from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "pos" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None}


def source_messages() -> set:
    found = set()
    method_map = [
        ("pos/**.py", "python"),
        ("config/**.py", "python"),
        ("ledger/**.py", "python"),
        ("inventory/**.py", "python"),
        ("drivers/**.py", "python"),
        ("pos/templates/**.html", "jinja2"),
    ]
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalog(lang: str):
    with open(CATALOGS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=lang)


def test_every_message_in_the_code_has_an_indonesian_translation():
    messages = source_messages()
    assert len(messages) > 100
    indonesian = catalog("id")
    missing = []
    for message in messages:
        key = message[0] if isinstance(message, tuple) else message
        entry = indonesian.get(key)
        if (
            entry is None
            or not entry.string
            or entry.fuzzy
            or (isinstance(entry.string, tuple) and not all(entry.string))
        ):
            missing.append(key)
    assert not missing, f"untranslated into Indonesian: {missing}"


def test_the_english_catalog_covers_every_message_too():
    english = catalog("en")
    for message in source_messages():
        key = message[0] if isinstance(message, tuple) else message
        assert english.get(key) is not None, key


def _key(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_compiled_catalogs_match_their_sources():
    """`make translations` must have been run after the last .po change: the app reads the .mo files."""
    for lang in ("id", "en"):
        source = {_key(m.id): _key(m.string) for m in catalog(lang) if m.id and m.string}
        with open(CATALOGS / lang / "LC_MESSAGES" / "messages.mo", "rb") as fh:
            compiled = {_key(m.id): _key(m.string) for m in read_mo(io.BytesIO(fh.read())) if m.id}
        assert compiled == source, lang


def test_placeholders_survive_translation():
    import re

    pattern = re.compile(r"%\(\w+\)[sd]")
    for entry in catalog("id"):
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = set(pattern.findall(ids[-1]))
        for text in strings:
            assert set(pattern.findall(text)) == wanted, entry.id


def test_login_page_speaks_indonesian_by_default_and_english_on_request(client):
    page = client.get("/login")
    assert '<html lang="id">' in page.text and "Nama pengguna" in page.text and "Kata sandi" in page.text
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client)})
    page = client.get("/login")
    assert '<html lang="en">' in page.text and "Username" in page.text and "Password" in page.text


def test_a_users_language_follows_them_and_money_stays_rupiah(signed_in, client, demo_app):
    from pos import auth
    from pos.db import db

    with demo_app.app_context():
        user = db.session.scalar(db.select(auth.User).where(auth.User.username == "manajer"))
        auth.set_locale(user, "en")
        rendered = demo_app.jinja_env.from_string("{{ 12500|rupiah }} {{ 1234.5|number }}").render()
    assert rendered == "Rp 12.500 1.234,5"
    signed_in("manajer")
    page = client.get("/")
    assert "Audit log" in page.text and "Good day" in page.text
    denied = client.get("/admin/pengguna")
    assert denied.status_code == 403 and "Access denied" in denied.text


def test_error_pages_are_translated(make_app):
    app = make_app()

    @app.get("/boom")
    @public
    def boom():
        raise RuntimeError("kaboom")

    client = app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500
    assert "Kesalahan server" in page.text and "kaboom" not in page.text
    assert "Halaman tidak ditemukan" in client.get("/nope").text
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client)})
    assert "Server error" in client.get("/boom").text
    assert "Page not found" in client.get("/nope").text
