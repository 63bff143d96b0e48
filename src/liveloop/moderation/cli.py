"""`liveloop moderation`: run the link ban over texts from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from liveloop.moderation.linkban import LinkBan, LinkBanDataError, default_link_ban

app = typer.Typer(help="Content moderation.", no_args_is_help=True)


@app.callback()
def _moderation() -> None:
    """Content moderation."""


@app.command("scan")
def scan(
    data: Annotated[
        Path | None,
        typer.Option(help="Lists to use instead of the packaged link_ban.json.", exists=True),
    ] = None,
) -> None:
    """Read one text per line on stdin; write one JSON decision per line on stdout."""
    try:
        engine = LinkBan.from_data(data) if data is not None else default_link_ban()
    except LinkBanDataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    out = sys.stdout
    for line in sys.stdin:
        decision = engine.check(line.rstrip("\r\n"))
        row = {
            "allowed": decision.allowed,
            "findings": [
                {"match": f.match, "domain": f.domain, "rule": f.rule} for f in decision.findings
            ],
        }
        out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        # Flushed per line so that a pipe (tail -f chat.log | ...) sees each answer at once.
        out.flush()
