"""videolib: the ASGI app and the command line (`python server.py <command>` == `videolib <command>`)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import peewee
from pymysql.constants.ER import BAD_DB_ERROR

from models.database import (
    ConfigError,
    DatabaseConfig,
    bind,
    ensure_sqlite_parent,
    make_async_database,
    make_sync_database,
)

log = logging.getLogger("videolib")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# What a browser gets at GET /: no script, no style, only the way to the API.
ROOT_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>videolib</title></head>
<body>
<h1>videolib</h1>
<p>This is a GraphQL API: send queries to <a href="/graphql">/graphql</a>, which opens GraphiQL in a
browser (unless the server has introspection turned off).</p>
<p>Health check: <a href="/healthz">/healthz</a>.</p>
</body>
</html>
"""


# --- the app -------------------------------------------------------------------------------


def create_app(settings: Any = None) -> Any:
    """Build the Starlette app. Without settings, they come from the environment."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.body_limit import RequestBodyLimitMiddleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import BaseRoute, Route

    from resolvers.config import load_settings
    from schema.api import build_graphql_app
    from schema.http.deadlines import BodyDeadline
    from schema.http.graphiql import asset_routes
    from schema.http.metrics import Metrics
    from schema.http.middleware import JsonBodyLimitErrors, RequestScope
    from schema.http.negotiation import wants_html
    from schema.http.requestinfo import install_log_request_ids

    install_log_request_ids()
    if not logging.getLogger().handlers:
        # A worker process of `serve --workers N` starts here, without main()'s set-up.
        configure_logging()
    settings = settings or load_settings()
    db = bind(
        make_async_database(
            settings.database,
            pool_size=settings.db_pool_size,
            connect_timeout=settings.db_connect_timeout,
            read_timeout=settings.db_read_timeout,
        )
    )

    async def healthz(request: Request) -> JSONResponse:
        try:
            await db.aexecute_sql("SELECT 1")
        except Exception as exc:  # any driver failure means "not healthy", never a 500
            log.warning("health check failed: %s", exc)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        finally:
            await db.aclose()
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await db.close_pool()
            await graphql.persisted.close()

    async def home(request: Request) -> Response:
        # Nothing is served at /: point whoever lands here (a browser, curl) at the API.
        headers = {"Vary": "Accept", "Cache-Control": "no-cache"}
        if wants_html(request.headers.get("accept")):
            page_headers = {**headers, "Content-Security-Policy": "default-src 'none'"}  # it loads nothing
            return HTMLResponse(ROOT_PAGE, headers=page_headers)
        return JSONResponse(
            {"message": "videolib: send GraphQL to /graphql", "graphql": "/graphql", "health": "/healthz"},
            headers=headers,
        )

    graphql = build_graphql_app(settings, db)
    metrics = Metrics(db)
    routes: list[BaseRoute] = [
        Route("/", home, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics.endpoint, methods=["GET"]),
        # Every method reaches the endpoint, which answers the ones it does not serve with a
        # GraphQL-shaped 405 rather than Starlette's plain text.
        Route("/graphql", graphql, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
    ]
    if settings.introspection:  # GraphiQL's scripts and styles, only while it is served
        routes += asset_routes()
    middleware = [
        Middleware(
            RequestScope,
            on_finish=metrics.observe,
            max_connections=settings.limits.request_connections,
        )
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                expose_headers=["X-Request-ID"],
                # Bearer tokens, not cookies: nothing a browser would attach on its own.
                allow_credentials=False,
                max_age=600,
            )
        )
    # Starlette's own limit (what `Starlette(max_body_size=...)` installs), placed inside
    # RequestScope so a refused request is logged and carries its id like any other.
    middleware += [
        # A body trickled in is cut off with a 408 (the headers' deadline is in the protocol).
        Middleware(BodyDeadline, seconds=settings.connections.body_timeout_seconds),
        Middleware(JsonBodyLimitErrors),
        Middleware(RequestBodyLimitMiddleware, max_body_size=settings.limits.max_body_bytes),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)


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
        if exc.args and exc.args[0] == BAD_DB_ERROR:
            # The server answered: only the database is missing, which "cannot reach" would hide.
            raise CommandError(
                f"the database {config.name} does not exist on {config.host}:{config.port}: create it with "
                f"CREATE DATABASE `{config.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci; "
                "(README.md, \"Run on MariaDB\")"
            ) from None
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
            try:
                names = migrate.rollback(db, args.rollback, drop_rows=args.yes)
            except migrate.RollbackRefused as exc:
                raise CommandError(str(exc)) from None
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
    from resolvers.accounts.service import EmailTaken, create_user
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
        fields = {
            "email": email,
            "password_hash": hash_password(args.password),
            "display_name": args.display_name.strip(),
            "role": "admin" if args.admin else "member",
        }
        try:
            # The same email rule as register (resolvers/accounts/service.py).
            with db.atomic():
                user = create_user(db, fields)
        except EmailTaken:
            raise CommandError(
                f"a user with the email {email} already exists "
                "(emails that differ only in case or accents are one account)"
            ) from None
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
    from schema.http.transport import SERVE_HTTP

    settings = load_settings()
    connections = settings.connections
    # Fail here, with one line, rather than answer every request with an error.
    with _sync_database(settings.database) as db:
        _require_migrated(db)
    uvicorn.run(
        "server:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # Nagle off, and a deadline for each request's headers (schema/http/transport.py).
        http=SERVE_HTTP,
        # uvicorn answers 503 once the open connections reach limit_concurrency, this one
        # included: + 1, so that max_connections are served.
        limit_concurrency=connections.max_connections + 1,
        timeout_keep_alive=connections.keepalive_seconds,  # type: ignore[arg-type]
        log_level="info",
        # videolib.access writes one structured line per request instead (schema/http/middleware.py).
        access_log=False,
        log_config=None,
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


def _port(text: str) -> int:
    # Checked here, so that a bad port is argparse's one line and exit 2, not uvicorn's traceback.
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {value}")
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
    p.add_argument(
        "--yes", action="store_true", help="with --rollback: drop tables even when they hold rows"
    )
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
    p.add_argument("--port", type=_port, default=8000)
    p.add_argument("--workers", type=_positive, default=1)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    p.set_defaults(func=cmd_export_schema)
    return parser


def configure_logging() -> None:
    from schema.http.requestinfo import install_log_request_ids

    install_log_request_ids()
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    # One line per request (and uvicorn's start-up lines), on top of warnings from everything else.
    logging.getLogger("videolib.access").setLevel(logging.INFO)
    logging.getLogger("uvicorn").setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.func
    try:
        return handler(args)
    except (ConfigError, CommandError) as exc:
        print(f"videolib: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
