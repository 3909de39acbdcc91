"""videolib: the ASGI app and the command line (`python server.py <command>` == `videolib <command>`)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import peewee

from models.database import (
    ConfigError,
    DatabaseConfig,
    bind,
    ensure_sqlite_parent,
    make_async_database,
    make_sync_database,
)

log = logging.getLogger("videolib")


# --- the app -------------------------------------------------------------------------------


class BodyLimit:
    """Refuse request bodies over `limit` bytes before anything parses them (413).

    Starlette and uvicorn set no limit; a GraphQL request of our size never needs more."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> Any:
            # A chunked body has no Content-Length: count it as it arrives.
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = (
            b'{"errors":[{"message":"the request body is larger than %d bytes",'
            b'"extensions":{"code":"BAD_USER_INPUT"}}]}' % self.limit
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def create_app(settings: Any = None) -> Any:
    """Build the Starlette app. Without settings, they come from the environment."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from resolvers.config import load_settings
    from schema.api import build_graphql_app

    settings = settings or load_settings()
    db = bind(make_async_database(settings.database))

    async def healthz(request: Request) -> JSONResponse:
        try:
            await db.aexecute_sql("SELECT 1")
        except Exception as exc:  # any driver failure means "not healthy", never a 500
            log.warning("health check failed: %s", exc)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await db.close_pool()

    graphql = build_graphql_app(settings, db)
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
    ]
    from starlette.middleware import Middleware

    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(BodyLimit, limit=settings.max_body_bytes)],
    )


# --- the command line ----------------------------------------------------------------------


class CommandError(Exception):
    """A failure the user can act on: printed as one line, exit status 1."""


def _config() -> DatabaseConfig:
    from resolvers.config import load_settings

    return load_settings().database


@contextlib.contextmanager
def _sync_database(config: DatabaseConfig) -> Any:
    ensure_sqlite_parent(config)
    db = make_sync_database(config)
    try:
        db.connect()
    except peewee.DatabaseError as exc:
        reason = str(exc).strip() or type(exc).__name__
        raise CommandError(f"cannot reach the database at {config.describe()}: {reason}") from None
    bind(db)
    try:
        yield db
    finally:
        db.close()


def cmd_migrate(args: argparse.Namespace) -> int:
    from models import migrate

    with _sync_database(_config()) as db:
        if args.rollback is not None:
            names = migrate.rollback(db, args.rollback)
            verb = "rolled back"
        else:
            names = migrate.apply(db)
            verb = "applied"
    for name in names:
        print(f"{verb} {name}")
    if not names:
        print("nothing to do: the database is up to date" if verb == "applied" else "nothing to roll back")
    return 0


def _require_migrated(db: peewee.Database) -> None:
    from models import migrate

    if migrate.pending(db):
        raise CommandError("the database is not migrated: run `videolib migrate` first")


def cmd_create_user(args: argparse.Namespace) -> int:
    from models import User
    from resolvers.accounts.validation import (
        ValidationError,
        normalise_email,
        validate_registration,
    )
    from resolvers.passwords import hash_password
    from schema.ids import global_id

    try:
        email = normalise_email(args.email)
        validate_registration(email, args.password, args.display_name)
    except ValidationError as exc:
        raise CommandError(str(exc)) from None
    with _sync_database(_config()) as db:
        _require_migrated(db)
        try:
            with db.atomic():
                user = User.create(
                    email=email,
                    password_hash=hash_password(args.password),
                    display_name=args.display_name.strip(),
                    role="admin" if args.admin else "member",
                )
        except peewee.IntegrityError:
            raise CommandError(f"a user with the email {email} already exists") from None
    print(global_id("User", user.id))
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from models import demo

    with _sync_database(_config()) as db:
        _require_migrated(db)
        added = demo.seed(db)
    summary = ", ".join(f"{n} {what}" for what, n in added.items())
    print(f"demo catalogue ready ({summary} added)")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from resolvers.config import load_settings

    settings = load_settings()
    # Fail here, with one line, rather than answer every request with an error.
    with _sync_database(settings.database) as db:
        _require_migrated(db)
    uvicorn.run(
        "server:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
    )
    return 0


def cmd_export_schema(args: argparse.Namespace) -> int:
    from schema.api import print_schema

    sys.stdout.write(print_schema())
    return 0


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number >= 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="videolib",
        description="The videolib GraphQL API. The database comes from DATABASE_URL "
        "(default sqlite:///videolib.db).",
    )
    sub = parser.add_subparsers(dest="command", metavar="command", required=True)

    p = sub.add_parser("migrate", help="apply pending migrations (or undo the last N)")
    p.add_argument("--rollback", type=_non_negative, metavar="N", help="undo the last N migrations")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("create-user", help="create a user and print their global ID")
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--display-name", required=True)
    p.add_argument("--admin", action="store_true", help="give the user the admin role")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("seed-demo", help="load the demo catalogue (safe to run again)")
    p.set_defaults(func=cmd_seed_demo)

    p = sub.add_parser("serve", help="serve /graphql and /healthz")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_positive, default=8000)
    p.add_argument("--workers", type=_positive, default=1)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    p.set_defaults(func=cmd_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.func
    try:
        return handler(args)
    except (ConfigError, CommandError) as exc:
        print(f"videolib: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
