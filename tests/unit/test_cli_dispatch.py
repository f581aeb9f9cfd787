"""Every subcommand the parser knows has its handler, and the bare command opens the dashboard."""

from __future__ import annotations

import argparse

from app.cli import COMMANDS, build_parser
from app.cli.hosting import cmd_open


def test_every_subcommand_has_a_handler_and_no_handler_lacks_a_subcommand() -> None:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(sub.choices) == {name for name in COMMANDS if name is not None}
    assert COMMANDS[None] is cmd_open


def test_the_repository_option_works_before_and_after_the_command() -> None:
    parser = build_parser()
    assert parser.parse_args(["-C", "/r", "ls"]).path == "/r"
    assert parser.parse_args(["ls", "-C", "/r"]).path == "/r"
    assert parser.parse_args(["ls"]).path == "."
