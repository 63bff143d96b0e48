"""The `liveloop` command line."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from liveloop.kit.settings import get_settings
from liveloop.logistics.cli import app as logistics_app
from liveloop.media.cli import app as media_app
from liveloop.moderation.cli import app as moderation_app
from liveloop.payments import cli as payments_cli

app = typer.Typer(
    help="liveloop: live shopping that closes every sale inside the stream.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
catalog_app = typer.Typer(help="Shops' catalogs.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(demo_app, name="demo")
app.add_typer(catalog_app, name="catalog")
app.add_typer(logistics_app, name="logistics", help="Cross-border logistics: landed cost.")
app.add_typer(media_app, name="media", help="Live video: nginx-rtmp, simulated streams.")
app.add_typer(moderation_app, name="moderation", help="The external-link ban.")
app.add_typer(payments_cli.app)  # `liveloop paysim`, the sandbox card processor

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _prepare_var() -> None:
    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    settings.media_dir.mkdir(parents=True, exist_ok=True)


@db_app.command("upgrade")
def db_upgrade(target: str = typer.Argument("heads", help="Revision to migrate to.")) -> None:
    """Apply every migration (all contexts' branches) to the configured database."""
    from liveloop import migrations

    _prepare_var()
    settings = get_settings()
    migrations.upgrade(settings.database_url, target)
    console.print(f"[green]database is at {target}[/]")


@db_app.command("downgrade")
def db_downgrade(
    target: str = typer.Argument(..., help="Revision to go back to, e.g. base."),
) -> None:
    """Undo migrations down to TARGET."""
    from liveloop import migrations

    migrations.downgrade(get_settings().database_url, target)
    console.print(f"[yellow]database is at {target}[/]")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Sign-in email.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    country: Annotated[str, typer.Option(help="ISO country code, e.g. GB.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    time_zone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
    locale: Annotated[str, typer.Option(help="Locale, e.g. en_GB.")] = "en_GB",
    admin: Annotated[bool, typer.Option(help="Make a platform admin.")] = False,
) -> None:
    """Create a user (for example the first platform admin)."""
    from pydantic import ValidationError

    from liveloop.accounts.schemas import SignUp
    from liveloop.bootstrap import bootstrap
    from liveloop.kit.errors import LiveloopError

    try:
        data = SignUp(
            email=email,
            password=password,
            display_name=name,
            country=country,
            time_zone=time_zone,
            locale=locale,
        )
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
        return

    async def run() -> str:
        container = bootstrap(get_settings())
        try:
            async with container.sessionmaker() as session:
                user = await container.accounts.create_user(
                    session,
                    email=str(data.email),
                    password=data.password,
                    display_name=data.display_name,
                    country=data.country,
                    time_zone=data.time_zone,
                    locale=data.locale,
                    is_platform_admin=admin,
                )
                await session.commit()
                return str(user.id)
        finally:
            await container.close()

    try:
        user_id = asyncio.run(run())
    except LiveloopError as exc:
        fail(exc.detail + "".join(f" ({e['field']}: {e['message']})" for e in exc.errors))
        return
    console.print(f"[green]created user {user_id}[/]")


@demo_app.command("seed")
def demo_seed() -> None:
    """Create the demo shops, people, products and streams (safe to run again)."""
    from liveloop import demo
    from liveloop.bootstrap import bootstrap

    async def run() -> demo.SeedReport:
        container = bootstrap(get_settings())
        try:
            with console.status("seeding demo data…") as status:
                return await demo.seed(container, on_step=lambda n: status.update(f"seeded {n}…"))
        finally:
            await container.close()

    report = asyncio.run(run())
    if report.created:
        console.print(
            "[green]demo data:[/] " + ", ".join(f"{v} {k}" for k, v in report.created.items())
        )
    else:
        console.print("[green]demo data already present[/]")


@catalog_app.command("import")
def catalog_import(
    file: Annotated[Path, typer.Argument(help="CSV file, UTF-8, one row per variant.")],
    shop: Annotated[str, typer.Option(help="The shop's slug.")],
    atomic: Annotated[bool, typer.Option(help="Import nothing if any row is bad.")] = False,
    report: Annotated[
        Path | None, typer.Option(help="Write the full report (every error) as JSON here.")
    ] = None,
) -> None:
    """Create or update a shop's variants by SKU from a CSV file (docs/CATALOG_IMPORT.md)."""
    import json

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from liveloop.bootstrap import bootstrap
    from liveloop.catalog import csv_import
    from liveloop.catalog import service as catalog_service
    from liveloop.catalog.errors import ImportRowsRefused
    from liveloop.kit.errors import LiveloopError

    if not file.is_file():
        fail(f"no such file: {file}")
    data = file.read_bytes()

    async def run(progress: Progress) -> csv_import.ImportReport:
        tasks: dict[str, object] = {}

        def on_progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done, total=total)  # type: ignore[arg-type]

        container = bootstrap(get_settings())
        try:
            async with container.sessionmaker() as session:
                found = await catalog_service.get_shop_by_slug_or_id(session, shop)
                result = await csv_import.import_catalog(
                    session,
                    found.id,
                    data,
                    actor="cli:catalog-import",
                    atomic=atomic,
                    progress=on_progress,
                )
                await session.commit()
            await container.dispatcher.drain()
            return result
        finally:
            await container.close()

    columns = (*Progress.get_default_columns()[:2], MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, BarColumn(), console=console, transient=False) as progress:
            result = asyncio.run(run(progress))
    except ImportRowsRefused as exc:
        body = exc.extra["report"]
        _print_import_errors(body["errors"])
        if report is not None:
            report.write_text(json.dumps(body, indent=2))
        fail(exc.detail, code=1)
        return
    except LiveloopError as exc:
        fail(exc.detail + "".join(f" ({e['field']}: {e['message']})" for e in exc.errors))
        return
    body = result.as_dict()
    if report is not None:
        report.write_text(json.dumps(body, indent=2))
    console.print(
        f"[green]created {result.created}, updated {result.updated}[/] "
        f"({result.products_created} new products); [red]failed {result.failed}[/]"
    )
    if result.errors:
        _print_import_errors(body["errors"])
        raise typer.Exit(1)


def _print_import_errors(errors: list[dict[str, object]], shown: int = 20) -> None:
    table = Table(title=f"{len(errors)} problems", title_justify="left")
    for name in ("row", "column", "reason"):
        table.add_column(name)
    for error in errors[:shown]:
        table.add_row(str(error["row"]), str(error["column"]), str(error["reason"]))
    err.print(table)
    if len(errors) > shown:
        err.print(f"… and {len(errors) - shown} more (use --report FILE for all of them)")


def _demo_room_id() -> str | None:
    """The demo live room, if the demo data is there (best effort: only for the banner)."""
    from liveloop.kit.db import create_engine, create_sessionmaker
    from liveloop.live.demo import demo_session

    async def find() -> str | None:
        engine = create_engine(get_settings().database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                live = await demo_session(session)
                return str(live.id) if live is not None else None
        finally:
            await engine.dispose()

    try:
        return asyncio.run(find())
    except Exception:
        return None


def print_banner(host: str, port: int) -> None:
    from liveloop.kit.settings import Environment
    from liveloop.web.demo_accounts import DEMO_LOGINS

    settings = get_settings()
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    table = Table(title="liveloop is starting", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    pages = [("Home", "/")]
    room = _demo_room_id()
    if room is not None:
        pages += [("Demo live room", f"/live/{room}"), ("Its host console", f"/live/{room}/host")]
    pages += [("Sandbox payments", "/paysim/")]
    for label, path in [
        *pages,
        ("API docs", "/docs"),
        ("OpenAPI", "/openapi.json"),
        ("Health", "/healthz"),
        ("Readiness", "/readyz"),
        ("Metrics", "/metrics"),
    ]:
        table.add_row(label, base + path)
    console.print(table)
    if settings.env is not Environment.production:
        logins = Table(
            title="Demo logins (password for all: " + DEMO_LOGINS[0].password + ")",
            title_justify="left",
        )
        logins.add_column("Role")
        logins.add_column("Email")
        for login in DEMO_LOGINS:
            logins.add_row(login.role, login.email)
        console.print(logins)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes (needs PostgreSQL and Redis above 1).")
    ] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Run the HTTP server."""
    import uvicorn

    from liveloop.kit.logging import configure_logging

    settings = get_settings()
    if workers > 1 and (settings.is_sqlite or not settings.redis_url):
        fail(
            "several workers share state through PostgreSQL and Redis: "
            "set LIVELOOP_DATABASE_URL and LIVELOOP_REDIS_URL"
        )
    # nginx calls back to this server, and links should name it: follow --port unless
    # configured. The environment carries it to uvicorn's worker processes too.
    os.environ.setdefault("LIVELOOP_MEDIA_CALLBACK_URL", f"http://127.0.0.1:{port}")
    if "LIVELOOP_PUBLIC_BASE_URL" not in os.environ:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        os.environ["LIVELOOP_PUBLIC_BASE_URL"] = f"http://{shown}:{port}"
        get_settings.cache_clear()
        settings = get_settings()
    _prepare_var()
    configure_logging(settings.log_level, json=settings.log_json)
    print_banner(host, port)
    from liveloop.media.wiring import start_media_server

    media_server = start_media_server(settings, console.print)

    def stop_media(signum: int, _frame: object) -> None:
        # uvicorn re-raises SIGTERM after its graceful shutdown; stop nginx before leaving.
        if media_server is not None:
            media_server.stop()
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop_media)
    try:
        uvicorn.run(
            "liveloop.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            log_config=None,
            proxy_headers=True,
            # Broadcasts are encoded once for every socket: per-message compression would undo
            # that, and a small frame limit refuses oversized client frames early.
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            ws_max_size=65_536,
        )
    finally:
        if media_server is not None:
            media_server.stop()


@app.command()
def worker() -> None:
    """Deliver domain events from the outbox (used when Redis is configured)."""
    from liveloop.kit.logging import configure_logging
    from liveloop.worker import run_worker

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    asyncio.run(run_worker(settings))


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
