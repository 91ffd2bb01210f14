"""The command-line reference in docs/cli.md is generated from --help and must be current."""

import inspect
import shlex
import subprocess
import sys
from pathlib import Path

import typer

from audiobook.cli import app

ROOT = Path(__file__).parent.parent


def test_cli_reference_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "generate.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_every_command_shows_examples_that_parse() -> None:
    """Each command's --help ends its text with an Example: block, and every example is a command
    line that command accepts (options spelled right, values of the right type)."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for name, command in group.commands.items():
        text = inspect.cleandoc(command.help or "")
        assert "\n\nExample:\n\n" in text, f"audiobook {name}: no Example: block in its help"
        examples = [line.strip() for line in text.split("\n\nExample:\n\n", 1)[1].splitlines() if line.strip()]
        assert examples, name
        for example in examples:
            args = shlex.split(example.split("  #")[0])
            assert args[:2] == ["audiobook", name], example
            command.make_context(name, args[2:])  # raises click.UsageError for an unknown option or a bad value
