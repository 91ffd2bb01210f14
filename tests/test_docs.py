"""The command-line reference in docs/cli.md is generated from --help and must be current."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_cli_reference_is_current() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "generate.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
