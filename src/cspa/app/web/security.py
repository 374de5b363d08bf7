"""Sign-in, sessions, CSRF tokens, API tokens, the sign-in rate limit and the role rules.

* Passwords: argon2id (argon2-cffi's defaults, RFC 9106's second recommended parameter set).
* Sessions: a random 256-bit id in an HttpOnly, SameSite=Lax cookie (``Secure`` unless the server
  is told it runs without TLS on loopback); only its SHA-256 is stored. A new id is issued at every
  sign-in, so an id planted before sign-in (session fixation) never becomes a signed-in session.
* CSRF: every form carries a token that is an HMAC of the session id (or, before sign-in, of a
  random pre-session cookie) under the server's secret; a POST without the matching token is
  refused (403) before anything is read from its form.
* Sign-in rate limit: after ``FREE_FAILURES`` failures for an account or from a client within
  ``WINDOW``, each further attempt must wait twice as long as the last (1 s, 2 s, 4 s ... up to
  ``MAX_WAIT``); attempts inside the wait are refused with 429 and ``Retry-After`` without looking
  at the password (OWASP Authentication Cheat Sheet: "login throttling").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cspa.app.web.state import StateStore, User

SESSION_COOKIE = "cspa_session"
PRE_COOKIE = "cspa_pre"
SESSION_HOURS = 8
FREE_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)
MAX_WAIT = 900

_hasher = PasswordHasher()
# verifying against this when the account does not exist costs the same time as a real check,
# so response time does not tell which usernames exist
_DUMMY = _hasher.hash("not a password of anyone " + secrets.token_hex(8))


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise ValueError("a password needs at least 10 characters")
    return _hasher.hash(password)


def digest(secret_value: str) -> str:
    return hashlib.sha256(secret_value.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(secret: str, session_value: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + session_value.encode(), "sha256").hexdigest()


def csrf_ok(secret: str, session_value: str | None, token: str | None) -> bool:
    if not session_value or not token:
        return False
    return hmac.compare_digest(csrf_token(secret, session_value), token)


@dataclass
class SignIn:
    user: User | None
    retry_after: int = 0  # seconds, when refused by the rate limit


def wait_needed(state: StateStore, username: str, client: str) -> int:
    """Seconds this account or client must still wait before its next attempt (0: go ahead)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    n, last = state.failures(username, client, now - WINDOW)
    if n < FREE_FAILURES or last is None:
        return 0
    wait = min(2 ** (n - FREE_FAILURES), MAX_WAIT)
    left = (last + dt.timedelta(seconds=wait) - now).total_seconds()
    return max(0, int(left + 0.999))


def sign_in(state: StateStore, username: str, password: str, client: str) -> SignIn:
    username = (username or "").strip()
    wait = wait_needed(state, username, client)
    if wait:
        return SignIn(None, wait)
    stored = state.password_hash(username)
    try:
        _hasher.verify(stored or _DUMMY, password or "")
        ok = stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        state.record_failure(username, client)
        return SignIn(None, 0)
    state.clear_failures(username)
    if _hasher.check_needs_rehash(stored):
        state.update_user(username, password_hash=_hasher.hash(password))
    return SignIn(state.user(username))


def start_session(state: StateStore, user: User) -> str:
    """A fresh session id (the cookie's value); only its digest is stored."""
    sid = secrets.token_urlsafe(32)
    expires = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=SESSION_HOURS)
    state.create_session(digest(sid), user.username, expires)
    return sid


def new_token(state: StateStore, username: str, name: str | None = None) -> str:
    """A bearer token for the API (shown once; stored as its digest)."""
    token = "cspa_" + secrets.token_urlsafe(32)
    state.add_token(digest(token), username, name)
    return token
