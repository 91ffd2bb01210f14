"""The CLI through typer's runner: exact messages and exit codes for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiobook.cli import app

ROOT = Path(__file__).parent.parent


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def story(tmp_path: Path) -> Path:
    path = tmp_path / "story.txt"
    path.write_text('"Hello," said Mira.\n', encoding="utf-8")
    return path


def voices(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "voices.toml"
    path.write_text(text, encoding="utf-8")
    return path


def bad_source(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / {"missing": "missing.txt", "empty": "empty.txt", "binary": "pic.txt", "empty-folder": "folder"}[kind]
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "binary":
        path.write_bytes(b"\x89PNG\x00\x01")
    elif kind == "empty-folder":
        path.mkdir()
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing", "no such file or folder: check the path"),
        ("empty", "the story is empty: it has no words to read"),
        ("binary", "binary file, not a story: give a plain text file"),
        ("empty-folder", "folder has no stories: add .txt or .md files, one per chapter"),
    ],
)
def test_bad_sources(tmp_path: Path, kind: str, message: str) -> None:
    source = bad_source(tmp_path, kind)
    out = tmp_path / "out"
    result = invoke("build", str(source), "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr == f"error: {source}: {message}\n"
    assert not out.exists()  # nothing written, not even the folder


def test_malformed_voices_toml_names_the_line(tmp_path: Path) -> None:
    config = voices(tmp_path, '[narrator]\nvoice = "en"\nrate = fast\n')
    result = invoke("build", str(story(tmp_path)), "-o", str(tmp_path / "out"), "--voices", str(config))
    assert result.exit_code == 1
    assert result.stderr == f"error: {config}:3: invalid TOML: Invalid value: fix the syntax\n"
    assert not (tmp_path / "out").exists()


def test_unknown_voice_id_names_the_line_and_suggests(tmp_path: Path) -> None:
    config = voices(tmp_path, '[book]\ntitle = "T"\n\n[characters.Mira]\nvoice = "en-us+f9"\n')
    result = invoke("build", str(story(tmp_path)), "-o", str(tmp_path / "out"), "--voices", str(config))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {config}:5: unknown eSpeak NG voice variant 'f9' in 'en-us+f9'")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_missing_espeak_says_how_to_install(tmp_path: Path) -> None:
    """A process in which libespeak-ng cannot be loaded, as on a machine without it."""
    code = (
        "import ctypes, sys\n"
        "def no_library(name): raise OSError(name + ': cannot open shared object file')\n"
        "ctypes.cdll.LoadLibrary = no_library\n"
        "from audiobook.cli import app\n"
        "app(sys.argv[1:], prog_name='audiobook')\n"
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-c", code, "build", str(story(tmp_path)), "-o", str(out)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr == "error: eSpeak NG is not installed: run `sudo apt-get install espeak-ng` (or `bash setup.sh`)\n"
    assert not out.exists()


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    result = invoke("build", str(story(tmp_path)), "--jobs", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--jobs' / '-j'" in result.stderr


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == "audiobook 0.1.0\n"


def test_help_lists_build_options() -> None:
    result = invoke("build", "--help")
    assert result.exit_code == 0
    for option in ("--output", "--voices", "--cache", "--jobs", "--bitrate"):
        assert option in result.stdout
