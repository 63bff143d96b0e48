"""`liveloop moderation scan`: one text per line in, one JSON decision per line out."""

# ruff: noqa: RUF001 - look-alike characters are what these tests are about

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from liveloop.moderation.cli import app

runner = CliRunner()


def test_scan_answers_each_line_in_order() -> None:
    stdin = "love it!\nbuy at amzn.to/x\n\nｔｅｍｕ．ｃｏｍ 和 bit.ly/y\r\n"
    result = runner.invoke(app, ["scan"], input=stdin)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        '{"allowed":true,"findings":[]}',
        '{"allowed":false,"findings":[{"match":"amzn.to/x","domain":"amzn.to",'
        '"rule":"marketplace_shortlink"}]}',
        '{"allowed":true,"findings":[]}',
        '{"allowed":false,"findings":[{"match":"ｔｅｍｕ．ｃｏｍ","domain":"temu.com",'
        '"rule":"marketplace"},{"match":"bit.ly/y","domain":"bit.ly","rule":"shortener"}]}',
    ]


def test_scan_of_nothing_writes_nothing() -> None:
    result = runner.invoke(app, ["scan"], input="")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_scan_with_other_lists(tmp_path: Path) -> None:
    lists = tmp_path / "lists.json"
    lists.write_text(
        json.dumps({"version": 1, "entries": [{"domain": "example-shop.com", "rule": "shop"}]}),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["scan", "--data", str(lists)], input="example-shop.com\namzn.to\n")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["allowed"] for line in result.stdout.splitlines()] == [False, True]


def test_scan_refuses_broken_lists(tmp_path: Path) -> None:
    lists = tmp_path / "lists.json"
    lists.write_text('{"entries": [{"domain": "jd.*", "rule": "shop"}]}', encoding="utf-8")
    result = runner.invoke(app, ["scan", "--data", str(lists)], input="x\n")
    assert result.exit_code == 2
    assert "a brand is one label of 4 or more" in result.stderr
    assert result.stdout == ""
