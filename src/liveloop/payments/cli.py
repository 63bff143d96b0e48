"""`liveloop paysim`: the sandbox card processor as its own HTTP service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer()

DEFAULT_WEBHOOK_URL = "http://127.0.0.1:8000/api/v1/payments/webhooks/sandbox"


@app.command("paysim")
def paysim(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8090,
    fd: Annotated[
        int | None,
        typer.Option(help="Serve on this already-listening socket (socket activation)."),
    ] = None,
    webhook_url: Annotated[
        str | None,
        typer.Option(
            help="Where to send webhooks [default: LIVELOOP_PAYSIM_WEBHOOK_URL, or "
            "liveloop on 127.0.0.1:8000]."
        ),
    ] = None,
    webhook_secret: Annotated[
        str | None,
        typer.Option(help="Signing secret [default: LIVELOOP_PAYSIM_WEBHOOK_SECRET]."),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(help="API key clients must send [default: LIVELOOP_PAYSIM_API_KEY]."),
    ] = None,
    public_url: Annotated[
        str | None, typer.Option(help="Base URL browsers reach paysim at, for challenge pages.")
    ] = None,
    min_delay: Annotated[float | None, typer.Option(min=0, help="Least webhook delay, s.")] = None,
    max_delay: Annotated[float | None, typer.Option(min=0, help="Most webhook delay, s.")] = None,
    duplicates: Annotated[
        float | None, typer.Option(min=0, max=1, help="Chance a webhook is sent twice.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for delays and duplicates.")] = None,
    timeout_hold: Annotated[
        float, typer.Option(min=0, help="How long the timeout card (…0119) holds a request, s.")
    ] = 35.0,
    state_file: Annotated[
        Path | None, typer.Option(help="Keep paysim's state in this JSON file across restarts.")
    ] = None,
) -> None:
    """Run paysim, the sandbox card processor (test cards, 3-D Secure, late webhooks)."""
    import uvicorn

    from liveloop.kit.logging import configure_logging
    from liveloop.kit.settings import get_settings
    from liveloop.payments.config import PaymentsSettings
    from liveloop.payments.paysim_app import create_paysim_app

    settings = PaymentsSettings()
    overrides: dict[str, Any] = {
        "webhook_url": webhook_url or settings.paysim_webhook_url or DEFAULT_WEBHOOK_URL,
        "public_url": public_url,
        "state_file": state_file,
        "timeout_hold_seconds": timeout_hold,
    }
    for name, value in [
        ("webhook_secret", webhook_secret),
        ("api_key", api_key),
        ("min_delay_seconds", min_delay),
        ("max_delay_seconds", max_delay),
        ("duplicate_probability", duplicates),
        ("seed", seed),
    ]:
        if value is not None:
            overrides[name] = value
    config = settings.paysim_config(**overrides)
    if config.min_delay_seconds > config.max_delay_seconds:
        raise typer.BadParameter("--min-delay is above --max-delay")
    base = get_settings()
    configure_logging(base.log_level, json=base.log_json)
    where = f"fd {fd}" if fd is not None else f"http://{host}:{port}"
    typer.echo(f"paysim on {where}, webhooks to {config.webhook_url}", err=True)
    uvicorn.run(create_paysim_app(config), host=host, port=port, fd=fd, log_config=None)


if __name__ == "__main__":  # pragma: no cover - `python -m liveloop.payments.cli`
    app()
