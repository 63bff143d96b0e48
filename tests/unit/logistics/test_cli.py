"""`liveloop logistics landed-cost`: one JSON request on stdin, one JSON document on stdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from liveloop.logistics.cli import app

runner = CliRunner()

REQUEST: dict[str, Any] = {
    "destination": "GB",
    "date": "2026-11-22",
    "currency": "USD",
    "items": [{"hs_code": "950300", "origin": "CN", "unit_price": "25.00", "quantity": 2}],
    "shipping": "0.00",
}


def run(stdin: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["landed-cost", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_a_request_in_another_currency_answers_with_the_rate_used() -> None:
    code, out, err = run(json.dumps(REQUEST))
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "destination": "GB",
        "currency": "USD",
        "incoterm": "DDP",
        "goods_value": "50.00",
        "shipping": "0.00",
        "regime": "gb_low_value",
        "duty": "0.00",
        "duty_collected_at": None,
        "duty_lines": [],
        "taxes": [{"name": "VAT", "rate": "0.20", "amount": "10.00", "collected_at": "checkout"}],
        "fees": [],
        "total_duties_and_taxes": "10.00",
        "price_at_checkout": "60.00",
        "due_on_delivery": "0.00",
        "exchange_rate": {"from": "USD", "to": "GBP", "rate": "0.79", "date": "2026-11-20"},
        "unconfirmed": False,
    }


def test_compact_output_is_one_line() -> None:
    code, out, _ = run(json.dumps(REQUEST), "--compact")
    assert code == 0
    assert out.count("\n") == 1
    assert json.loads(out)["total_duties_and_taxes"] == "10.00"


def test_bad_input_is_a_problem_document_on_stdout_and_exit_status_1() -> None:
    bad = {**REQUEST, "items": [{**REQUEST["items"][0], "hs_code": "999999"}]}
    code, out, err = run(json.dumps(bad))
    assert code == 1
    assert json.loads(out) == {
        "type": "https://liveloop.dev/problems/invalid_hs_code",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "999999 (commodities not specified) is not a product's HS code",
        "code": "invalid_hs_code",
        "errors": [
            {
                "field": "items.0.hs_code",
                "message": "999999 (commodities not specified) is not a product's HS code",
                "code": "not_allowed",
            }
        ],
    }
    assert err == (
        "liveloop logistics: invalid_hs_code: "
        "999999 (commodities not specified) is not a product's HS code\n"
    )


def test_a_wrongly_shaped_request_names_every_field() -> None:
    bad = {**REQUEST, "date": "someday", "items": [{**REQUEST["items"][0], "quantity": "2"}]}
    code, out, _ = run(json.dumps(bad))
    problem = json.loads(out)
    assert (code, problem["code"], problem["status"]) == (1, "invalid", 422)
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("date", "date_from_datetime_parsing"),
        ("items.0.quantity", "int_type"),
    ]


def test_input_that_is_not_json() -> None:
    code, out, _ = run("{destination: GB")
    problem = json.loads(out)
    assert (code, problem["code"], problem["status"]) == (1, "invalid_json", 400)


def test_a_broken_rate_table_exits_with_status_3(tmp_path: Path) -> None:
    rates = tmp_path / "rates.json"
    rates.write_text('{"base": "USD", "rates": [{"date": "2026-01-01", "quotes": {"GBP": 1}}]}')
    code, out, _ = run(json.dumps(REQUEST), "--rates", str(rates))
    assert (code, json.loads(out)["code"]) == (3, "logistics_data_invalid")
