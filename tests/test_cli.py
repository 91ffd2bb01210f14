"""The CLI through typer's runner: exact messages and exit codes for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_pictures_epub
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
    names = {"missing": "missing.txt", "empty": "empty.txt", "binary": "pic.txt", "empty-folder": "folder"}
    path = tmp_path / names[kind]
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
    assert result.stderr == (
        "error: eSpeak NG is not installed: run `sudo apt-get install espeak-ng` (or `bash setup.sh`)\n"
    )
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


# --- bad inputs, one table: files, EPUBs, voices.toml and the command line ---------------------


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


_CONTAINER = (
    b'<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    b'<rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>'
)


def _source(tmp: Path, kind: str) -> Path:
    """A bad story source of one kind, made in `tmp`."""
    if kind == "separators-only":
        (p := tmp / "dots.txt").write_text("  \n\n* * *\n\n---\n", encoding="utf-8")
    elif kind == "pictures-folder":
        (p := tmp / "pics").mkdir()
        (p / "cover.jpg").write_bytes(b"\xff\xd8\xff")
    elif kind == "gutenberg-licence-only":
        (p := tmp / "pg.txt").write_text(
            "Title: X\n\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\n\n"
            "*** END OF THE PROJECT GUTENBERG EBOOK X ***\n\nSection 1. General Terms of Use\n",
            encoding="utf-8",
        )
    elif kind == "epub-not-zip":
        (p := tmp / "book.epub").write_bytes(b"this is not a zip")
    elif kind == "epub-no-container":
        p = _zip(tmp / "book.epub", {"mimetype": b"application/epub+zip"})
    elif kind == "epub-drm":
        p = _zip(tmp / "book.epub", {"mimetype": b"application/epub+zip", "META-INF/container.xml": _CONTAINER,
                                     "META-INF/encryption.xml": b"<encryption><EncryptedData/></encryption>"})
    elif kind == "epub-missing-opf":
        p = _zip(tmp / "book.epub", {"mimetype": b"application/epub+zip", "META-INF/container.xml": _CONTAINER})
    elif kind == "epub-pictures":
        p = write_pictures_epub(tmp / "book.epub")
    else:
        p = bad_source(tmp, kind)
    return p


# (id, how the source is made, voices.toml text or None, extra arguments, exit status, stderr)
# {src} is the source's path and {voices} the voices.toml's.
BAD_INPUTS = [
    ("missing file", "missing", None, [], 1, "error: {src}: no such file or folder: check the path"),
    ("empty file", "empty", None, [], 1, "error: {src}: the story is empty: it has no words to read"),
    ("separators only", "separators-only", None, [], 1, "error: {src}: the story is empty: it has no words to read"),
    ("binary file", "binary", None, [], 1, "error: {src}: binary file, not a story: give a plain text file"),
    ("empty folder", "empty-folder", None, [], 1,
     "error: {src}: folder has no stories: add .txt or .md files, one per chapter"),
    ("folder of pictures", "pictures-folder", None, [], 1,
     "error: {src}: folder has no stories: add .txt or .md files, one per chapter"),
    ("gutenberg licence only", "gutenberg-licence-only", None, [], 1,
     "error: {src}: the story is empty: it has no words to read"),
    ("epub not a zip", "epub-not-zip", None, [], 1, "error: {src}: not an EPUB (not a zip archive): check the file"),
    ("epub without container", "epub-no-container", None, [], 1,
     "error: {src}: not an EPUB (no META-INF/container.xml): check the file"),
    ("epub with DRM", "epub-drm", None, [], 1, "error: {src}: the EPUB is DRM-protected: use a DRM-free copy"),
    ("epub without package", "epub-missing-opf", None, [], 1,
     "error: {src}: broken EPUB (content.opf is missing): check the file"),
    ("epub of pictures", "epub-pictures", None, [], 1,
     "error: {src}: the EPUB has no text to read: is it a picture book or comic?"),
    ("voices: bad TOML", "story", "[narrator]\nvoice = \"en\"\nrate = fast\n", [], 1,
     "error: {voices}:3: invalid TOML: Invalid value: fix the syntax"),
    ("voices: unknown key", "story", "[book]\ncolour = \"red\"\n", [], 1,
     "error: {voices}:2: unknown key 'colour' in [book]: "
     "use one of author, cover, front_matter, language, loudness_lufs, title"),
    ("voices: loudness out of range", "story", "[book]\nloudness_lufs = -60\n", [], 1,
     "error: {voices}:2: 'loudness_lufs' = -60 is out of range: use -40.0 to -13.0"),
    ("voices: loudness not a number", "story", "[book]\nloudness_lufs = \"loud\"\n", [], 1,
     "error: {voices}:2: 'loudness_lufs' must be a number, not 'loud'"),
    ("voices: rate not a number", "story", "[narrator]\nrate = \"fast\"\n", [], 1,
     "error: {voices}:2: 'rate' must be a whole number, not 'fast'"),
    ("voices: pitch out of range", "story", "[narrator]\npitch = 150\n", [], 1,
     "error: {voices}:2: 'pitch' = 150 is out of range: use 0 to 99"),
    ("voices: unknown gender", "story", "[characters.Mira]\ngender = \"girl\"\n", [], 1,
     "error: {voices}:2: gender 'girl' unknown: use \"female\" or \"male\""),
    ("voices: alias claimed twice", "story",
     "[characters.Mira]\naliases = [\"Diva\"]\n\n[characters.Luka]\naliases = [\"Diva\"]\n", [], 1,
     "error: {voices}:5: 'Diva' is claimed by both Mira and Luka: keep it under one character"),
    ("voices: unknown table", "story", "[voices]\nx = 1\n", [], 1,
     "error: {voices}:1: unknown table [voices]: use [book], [narrator], [characters.NAME], [pools], [pronunciations],"
     " [engines.piper], [not_characters], [[lines]] or [build]"),
    ("voices: empty pool", "story", "[pools]\nfemale = []\n", [], 1,
     "error: {voices}:2: pool 'female' is empty: list at least one voice"),
    ("voices: missing file", "story", None, ["--voices", "{tmp}/nope.toml"], 1,
     "error: {tmp}/nope.toml: no such file: check --voices, or leave it out to use built-in voices"),
    ("cli: no source", None, None, [], 2, "error: Missing argument 'sources': see --help"),
    ("cli: jobs 0", "story", None, ["--jobs", "0"], 2,
     "error: Invalid value for '--jobs' / '-j': 0 is not in the range x>=1: see --help"),
    ("cli: jobs not a number", "story", None, ["-j", "many"], 2,
     "error: Invalid value for '--jobs' / '-j': 'many' is not a valid int range: see --help"),
    ("cli: bitrate too low", "story", None, ["--bitrate", "7"], 2,
     "error: Invalid value for '--bitrate': 7 is not in the range 32<=x<=320: see --help"),
    ("cli: bitrate too high", "story", None, ["--bitrate", "999"], 2,
     "error: Invalid value for '--bitrate': 999 is not in the range 32<=x<=320: see --help"),
    ("cli: loudness out of range", "story", None, ["--loudness", "-50"], 1,
     "error: --loudness -50 is out of range: use -40 to -13 LUFS (-19 is the podcast norm)"),
    ("cli: unknown option", "story", None, ["--colour"], 2,
     "error: No such option: --colour (Possible options: --cover): see --help"),
    ("cli: option without value", "story", None, ["--output"], 2,
     "error: Option '--output' requires an argument: see --help"),
]


@pytest.mark.parametrize(
    ("kind", "config", "extra", "code", "message"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_inputs_table(tmp_path: Path, kind, config, extra, code: int, message: str) -> None:
    src = (story(tmp_path) if kind == "story" else _source(tmp_path, kind)) if kind else None
    voices_path = voices(tmp_path, config) if config is not None else None
    out = tmp_path / "out"
    args = ["build", *([str(src)] if src else []), "-o", str(out)]
    if voices_path:
        args += ["--voices", str(voices_path)]
    args += [a.format(tmp=tmp_path) for a in extra]
    result = invoke(*args)
    assert (result.exit_code, result.stderr) == (code, message.format(src=src, voices=voices_path, tmp=tmp_path) + "\n")
    assert result.stdout == ""
    assert not out.exists()  # nothing written, not even the folder


def test_unknown_command_is_one_line() -> None:
    result = invoke("frobnicate")
    assert (result.exit_code, result.stderr) == (2, "error: No such command 'frobnicate': see --help\n")
