"""`liveloop logistics …`: landed cost from the command line, JSON in and JSON out.

`landed-cost` reads one request on standard input and writes one JSON document on standard
output: the answer (exit status 0), or for bad input a problem document with the same fields
as the API's `application/problem+json` (exit status 1; a one-line summary also goes to
standard error). A rule or rate file that does not hold together exits with status 3.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from liveloop.kit.errors import LiveloopError, field_error, problem_body
from liveloop.logistics.fx import load_rate_table
from liveloop.logistics.landed_cost import landed_cost
from liveloop.logistics.rules import load_rule_book
from liveloop.logistics.schemas import LandedCostRequest

app = typer.Typer(no_args_is_help=True)

EXIT_BAD_INPUT = 1
EXIT_BAD_DATA = 3


@app.callback()
def logistics() -> None:
    """Logistics: the landed cost of a parcel (duties, taxes, fees)."""
    # A callback keeps `landed-cost` a subcommand even while it is the only one.


def _emit(document: dict[str, Any], *, compact: bool) -> None:
    text = json.dumps(document, ensure_ascii=False, indent=None if compact else 2)
    typer.echo(text)


def _fail(error: LiveloopError, *, compact: bool) -> None:
    _emit(
        problem_body(error.status, error.code, error.detail, errors=error.errors),
        compact=compact,
    )
    typer.echo(f"liveloop logistics: {error.code}: {error.detail}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT if error.status < 500 else EXIT_BAD_DATA)


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


@app.command("landed-cost")
def landed_cost_command(
    rates: Annotated[
        Path | None,
        typer.Option(help="Exchange-rate table (JSON); default: the shipped offline table."),
    ] = None,
    rules: Annotated[
        Path | None, typer.Option(help="Customs rules (TOML); default: the shipped rules.")
    ] = None,
    tariffs: Annotated[
        Path | None, typer.Option(help="Duty rates (TOML); default: the shipped starter set.")
    ] = None,
    compact: Annotated[bool, typer.Option(help="One line of JSON instead of indented.")] = False,
) -> None:
    """Read a landed-cost request (JSON) on stdin; write the answer (JSON) on stdout.

    Example: echo '{"destination": "GB", "date": "2026-11-22", "currency": "GBP",
    "items": [{"hs_code": "950300", "origin": "CN", "unit_price": "25.00", "quantity": 2}]}'
    | liveloop logistics landed-cost
    """
    try:
        raw = sys.stdin.read()
        try:
            payload = json.loads(raw)
        except ValueError as exc:
            raise LiveloopError(
                f"standard input is not one JSON document: {exc}", code="invalid_json"
            ) from exc
        try:
            request = LandedCostRequest.model_validate(payload)
        except ValidationError as exc:
            raise LiveloopError(
                "The request has invalid fields; see `errors`.",
                code="invalid",
                status=422,
                errors=[
                    field_error(_field(e["loc"]), e["msg"], code=e["type"])
                    for e in exc.errors(include_url=False)
                ],
            ) from exc
        book = load_rule_book(rules, tariffs) if rules or tariffs else None
        answer = landed_cost(request, rates=load_rate_table(rates), rules=book)
    except LiveloopError as error:
        _fail(error, compact=compact)
        return
    _emit(answer.model_dump(mode="json", by_alias=True), compact=compact)
