"""Text safe to print: connection strings described without their password, errors reduced to
one line with every known secret masked. Shared by the loader, the pipeline and the CLI."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def secrets_of(url: str) -> list[str]:
    """The password(s) a connection string carries, in every spelling an error could echo."""
    found: list[str] = []
    try:
        if password := conninfo_to_dict(url).get("password"):
            found.append(str(password))
    except psycopg.Error:
        pass
    try:
        if password := urlsplit(url).password:
            found += [password, unquote(password)]
    except ValueError:
        pass
    return [secret for secret in found if secret]


def scrub(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """`text` with passwords masked (known secrets, URL userinfo and key=value forms)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _KV_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))


def first_line(error: BaseException, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """The first meaningful line of an error (libpq prefixes some with 'connection failed:'),
    passwords masked; the error's type name when it has no message."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return scrub(lines[0] if lines else type(error).__name__, secrets)


def describe_url(url: str | None) -> str | None:
    """user@host:port/dbname of a connection string (URL or conninfo), never its password;
    None when there is no connection string."""
    if not url:
        return None
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "(unparsable connection string)"
    user = params.get("user") or "(default user)"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return f"{user}@{host}:{params.get('port') or 5432}/{params.get('dbname') or ''}"
