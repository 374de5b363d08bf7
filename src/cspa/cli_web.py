"""``cspa serve`` (the web app and JSON API on uvicorn) and ``cspa web user|token`` (accounts).

Registered by :mod:`cspa.cli`.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from cspa.errors import CspaError
from cspa.outputs.safe_text import SafeConsole

console = SafeConsole()
err_console = SafeConsole(stderr=True)

DbOption = typer.Option(
    None, "--db", help="Database file (default: $CSPA_DB or cspa-output/cspa.duckdb)."
)
StateOption = typer.Option(
    None,
    "--state",
    help="Where users, sessions, edits and the audit trail live: 'duckdb' (the database, the default) "
    "or a postgresql:// URL ($CSPA_STATE).",
)


def _settings(db: Path | None, state: str | None, **kw):
    import os

    from cspa.app.web.settings import Settings
    from cspa.store.database import default_path

    path = Path(db or default_path())
    if not path.exists():
        raise CspaError(f"No database at {path}. Run `cspa demo` first, or give --db.")
    return Settings(db=path, state=state or os.environ.get("CSPA_STATE") or None, **kw)


def _state(db: Path | None, state: str | None):
    """The state store without the server (for account commands run beside a stopped server)."""
    from cspa.app.web.database import Database
    from cspa.app.web.serverfile import running_server
    from cspa.app.web.state import open_state

    settings = _settings(db, state)
    if settings.state is None and running_server(settings.db):
        raise CspaError(
            f"The server is running on {settings.db} and holds it; stop it first, or keep users in "
            "PostgreSQL (--state postgresql://...) to manage them while it runs."
        )
    database = None if settings.state else Database(settings.db, notify=err_console.print)
    return open_state(settings.state, database), database


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", help="Port to listen on."),
        db: Path = DbOption,
        state: str = StateOption,
        warm: bool = typer.Option(
            True, "--warm/--no-warm", help="Warm the page caches in the background after the start."
        ),
        insecure_cookies: bool = typer.Option(
            False,
            "--insecure-cookies",
            help="Send session cookies over plain http (only for a server on loopback without TLS).",
        ),
    ) -> None:
        """Run the web app and JSON API (pages at /, API at /api/v1, health at /healthz)."""
        import uvicorn

        from cspa.app.web.app import create_app
        from cspa.app.web.serverfile import remove_note, write_note

        loopback = host in ("127.0.0.1", "localhost", "::1")
        if insecure_cookies and not loopback:
            raise CspaError("--insecure-cookies is only for a server on loopback (127.0.0.1).")
        settings = _settings(db, state, secure_cookies=not insecure_cookies, warm=warm)
        url = f"http://{host}:{port}"
        err_console.print(
            f"Preparing {settings.db} (the first start judges every figure: about a minute) ..."
        )

        def stopped() -> None:
            # uvicorn re-raises the stopping signal after the app's shutdown, so nothing after
            # run() would run: the note goes and the store is closed here
            remove_note(settings.db)
            app_.state.closing = True  # the cache warmer stops at its next page
            warmer = getattr(app_.state, "warm_thread", None)
            if warmer is not None:
                warmer.join(30)
            app_.state.state.close()
            app_.state.db.close()

        from cspa.app.web.database import Database

        # waits (saying so) for a cspa command that is publishing a new version of the database
        app_ = create_app(
            settings, Database(settings.db, notify=err_console.print), on_shutdown=stopped
        )
        app_.state.local_token = write_note(settings.db, url)
        err_console.print(
            f"cspa is serving {settings.db} at {url} (state: {app_.state.state.describe()})."
        )
        try:
            uvicorn.run(app_, host=host, port=port, log_level="warning")
        finally:
            remove_note(settings.db)

    web_app = typer.Typer(help="Web app accounts: users and API tokens.", no_args_is_help=True)
    app.add_typer(web_app, name="web")

    @web_app.command("user")
    def user_add(
        username: str = typer.Argument(..., help="The user's sign-in name."),
        role: str = typer.Option(..., "--role", help="viewer, editor, inspector or admin."),
        areas: str = typer.Option(
            "", "--areas", help="DfE numbers the user edits or moderates, e.g. 821,909."
        ),
        password: str = typer.Option(
            None, "--password", help="The password (asked for when not given)."
        ),
        db: Path = DbOption,
        state: str = StateOption,
    ) -> None:
        """Add a user (or change an existing one's role, authorities and password)."""
        from cspa.app.web.security import hash_password

        pw = password or getpass.getpass(f"Password for {username} (10 characters or more): ")
        try:
            hashed = hash_password(pw)
        except ValueError as e:
            raise CspaError(str(e)) from None
        st, database = _state(db, state)
        codes = tuple(a for a in areas.replace(" ", "").split(",") if a)
        try:
            if st.user(username) is None:
                st.add_user(username, hashed, role, codes)
                console.print(
                    f"Added {username} ({role}{': ' + ', '.join(codes) if codes else ''})."
                )
            else:
                st.update_user(username, role=role, areas=codes, password_hash=hashed)
                console.print(
                    f"Updated {username} ({role}{': ' + ', '.join(codes) if codes else ''})."
                )
        except ValueError as e:
            raise CspaError(str(e)) from None
        finally:
            st.close()
            if database is not None:
                database.close()

    @web_app.command("token")
    def token(
        username: str = typer.Argument(..., help="Whose token: it reads and writes as this user."),
        name: str = typer.Option(None, "--name", help="What the token is for."),
        db: Path = DbOption,
        state: str = StateOption,
    ) -> None:
        """Make an API bearer token for a user (printed once; only its digest is kept)."""
        from cspa.app.web.security import new_token

        st, database = _state(db, state)
        try:
            if st.user(username) is None:
                raise CspaError(f"No user {username!r}; add one with `cspa web user`.")
            console.print(new_token(st, username, name))
        finally:
            st.close()
            if database is not None:
                database.close()
