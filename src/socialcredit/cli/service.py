"""``socialcredit serve`` and ``socialcredit token create|revoke|list``.

Exit codes: 0 done; 2 a usage error (unsafe or invalid settings, an unknown token, a ledger that
cannot be opened).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from socialcredit.cli._common import console, err_console, fail, print_json, print_table
from socialcredit.errors import SocialCreditError

DbOpt = Annotated[
    str, typer.Option("--db", help="The ledger: a SQLite file or a postgresql:// URL.", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ActorOpt = Annotated[
    str | None,
    typer.Option(help="Who does this, for the chain of actions (default: cli:<your user name>)."),
]
ReasonOpt = Annotated[
    str | None, typer.Option(help="Why, for the chain of actions (token create: default the label).")
]


def _actor(actor: str | None) -> str:
    import getpass

    if actor and actor.strip():
        return actor.strip()
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name (some containers)
        return "cli"


token_app = typer.Typer(help="Bearer tokens for the HTTP API (stored hashed).", no_args_is_help=True)


def serve(
    db: DbOpt,
    rulebook: Annotated[
        list[str] | None,
        typer.Option("--rulebook", help="A rulebook to evaluate (repeat for several; default national)."),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to bind (loopback unless --allow-remote).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Allow a non-loopback --host (put TLS in front).")
    ] = False,
    today: Annotated[
        str | None, typer.Option(help="The service's date (YYYY-MM-DD), to replay a past day.")
    ] = None,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log every request to stdout.")] = False,
) -> None:
    """Serve the HTTP API under /v1 (OpenAPI at /openapi.json, docs at /docs) and the public portal at /."""
    import uvicorn
    from pydantic import ValidationError

    from socialcredit.service import Settings, create_app

    try:
        settings = Settings(
            db=db,
            rulebooks=tuple(rulebook or ("national",)),
            host=host,
            port=port,
            allow_remote=allow_remote,
            today=today,
        )
    except ValidationError as exc:
        fail("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()))
    try:
        app = create_app(settings)
    except SocialCreditError as exc:
        fail(str(exc))
    console.print(
        f"serving {settings.db_shown} with {', '.join(settings.rulebooks)} on "
        f"http://{settings.host}:{settings.port}/v1 (docs at /docs); "
        f"the portal at http://{settings.host}:{settings.port}/"
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=access_log)


def _open(db: str):
    from socialcredit.ledger import open_ledger

    try:
        return open_ledger(db, create=False)
    except SocialCreditError as exc:
        fail(str(exc))


@token_app.command("create")
def token_create(
    db: DbOpt,
    role: Annotated[str, typer.Option(help="source, officer, subject or admin.", show_default=False)],
    source: Annotated[str | None, typer.Option(help="For --role source: the data source.")] = None,
    subject: Annotated[str | None, typer.Option(help="For --role subject: the subject id.")] = None,
    expires: Annotated[
        str | None, typer.Option(help="Stops working at this date (00:00 China Standard Time) or date-time.")
    ] = None,
    label: Annotated[str | None, typer.Option(help="A note: who holds it, and why.")] = None,
    actor: ActorOpt = None,
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a token and print it once (only its hash is stored)."""
    from socialcredit.service.tokens import create_token, parse_expiry

    try:
        when = parse_expiry(expires)
        if when is not None and when <= dt.datetime.now(dt.UTC):
            fail(f"--expires {expires} is in the past: the token would never work")
        with _open(db) as ledger:
            info, bearer = create_token(
                ledger,
                role=role,
                source=source,
                subject=subject,
                expires=expires,
                label=label,
                actor=_actor(actor),
                reason=reason,
            )
    except SocialCreditError as exc:
        fail(str(exc))
    if as_json:
        print_json({**info.to_dict(), "token": bearer})
        return
    console.print(
        f"token {info.id} ({info.role}"
        + (f", source {info.source}" if info.source else "")
        + (f", subject {info.subject}" if info.subject else "")
        + (f", expires {info.expires_at}" if info.expires_at else "")
        + ")"
    )
    console.print(bearer, soft_wrap=True, highlight=False)
    err_console.print("shown this once: store it now (send it as `Authorization: Bearer <token>`)")


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (see `token list`).", show_default=False)],
    db: DbOpt,
    actor: ActorOpt = None,
    reason: ReasonOpt = None,
) -> None:
    """Revoke a token: it stops working (a running server notices within seconds)."""
    from socialcredit.service.tokens import revoke_token

    try:
        with _open(db) as ledger:
            info = revoke_token(ledger, token_id, actor=_actor(actor), reason=reason)
    except SocialCreditError as exc:
        fail(str(exc))
    console.print(f"token {info.id} revoked at {info.revoked_at}")


@token_app.command("list")
def token_list(db: DbOpt, as_json: JsonOpt = False) -> None:
    """List tokens (never their secrets): role, scope, status, dates."""
    from socialcredit.service.tokens import list_tokens

    try:
        with _open(db) as ledger:
            rows = [t.to_dict() for t in list_tokens(ledger)]
    except SocialCreditError as exc:
        fail(str(exc))
    if as_json:
        print_json(rows)
        return
    print_table(
        "API tokens",
        ["id", "role", "source", "subject", "status", "created", "expires", "label"],
        [
            (
                r["id"],
                r["role"],
                r["source"],
                r["subject"],
                r["status"],
                r["created_at"],
                r["expires_at"],
                r["label"],
            )
            for r in rows
        ],
    )


def register(app: typer.Typer) -> None:
    """Register ``serve`` and ``token``."""
    app.command("serve")(serve)
    app.add_typer(token_app, name="token")
