"""The command line: a thin layer over the library. Only this module prints or exits."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from . import __version__
from .build import BuildOptions, BuildResult
from .build import Progress as BuildProgress
from .build import build as build_book
from .errors import AudiobookError

# click's base exception, whether typer uses click itself or its own vendored copy
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class _OneLineErrors(typer.core.TyperGroup):
    """A bad command line is one line too: ``error: <what>: see --help``, exit status 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except _ClickException as exc:
            message = " ".join(exc.format_message().split()).rstrip(".")
            typer.echo(f"error: {message}: see --help", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
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
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
) -> None:
    """Turn stories into multi-voice, chaptered, tagged MP3 audiobooks."""


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def format_duration(ms: int) -> str:
    seconds = round(ms / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def summary(result: BuildResult) -> str:
    """One screen: chapters, duration, who reads what, where the files are."""
    plan = result.plan
    lines = [
        f"Built \"{plan.title}\" by {plan.author}: {len(result.chapters)} chapters, "
        f"{format_duration(result.duration_ms)}",
    ]
    for chapter in result.chapters:
        lines.append(
            f"  {chapter.path.name}  {format_duration(chapter.duration_ms)}  "
            f"{len(chapter.marks)} chapter mark{'s' if len(chapter.marks) != 1 else ''}"
        )
    lines.append("Voices:")
    roles = [plan.casting.narrator, *plan.casting.roles]
    width = max(len(r.name) for r in roles)
    for role in roles:
        v = role.voice
        lines.append(
            f"  {role.name:<{width}}  {v.voice_id:<16} rate {v.rate_wpm:>3}  pitch {v.pitch:>2}  "
            f"{role.source:<11}  {role.lines} line{'s' if role.lines != 1 else ''}"
            if role is not plan.casting.narrator
            else f"  {role.name:<{width}}  {v.voice_id:<16} rate {v.rate_wpm:>3}  pitch {v.pitch:>2}  {role.source}"
        )
    cached = result.clips_total - result.clips_synthesized
    lines.append(f"Clips: {result.clips_total} ({result.clips_synthesized} synthesized, {cached} from cache)")
    lines.append(f"Files: {result.book_dir}{os.sep}")
    return "\n".join(lines)


@app.command()
def build(
    sources: Annotated[
        list[Path], typer.Argument(help="Story files, or a folder of them (one book, each file a chapter, in name order).")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder to write the book into.")] = Path("output"),
    voices: Annotated[
        Optional[Path], typer.Option("--voices", help="Casting file. Default: ./voices.toml if it exists, else built-in voices.")
    ] = None,
    cache: Annotated[Optional[Path], typer.Option("--cache", help="Clip cache folder. Default: OUTPUT/.cache.")] = None,
    jobs: Annotated[
        Optional[int],
        typer.Option("--jobs", "-j", min=1, show_default=False, help="Worker processes for synthesis. Default: number of cores."),
    ] = None,
    bitrate: Annotated[int, typer.Option("--bitrate", min=8, max=320, help="MP3 bitrate in kbps (CBR, mono).")] = 64,
) -> None:
    """Build an audiobook: one tagged, chaptered MP3 per story."""
    options = BuildOptions(tuple(sources), output, voices, cache, jobs or os.cpu_count() or 1, bitrate)
    console = Console(stderr=True)
    show = console.is_terminal and not os.environ.get("CI")
    columns = (TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=not show, transient=True) as progress:
        tasks: dict[str, int] = {}

        def on_progress(event: BuildProgress) -> None:
            label = "Synthesizing clips" if event.stage == "synthesize" else "Encoding chapters"
            if event.stage not in tasks:
                tasks[event.stage] = progress.add_task(label, total=event.total)
            progress.update(tasks[event.stage], completed=event.done)

        try:
            result = build_book(options, on_progress)
        except AudiobookError as exc:
            progress.stop()
            fail(str(exc))
        except KeyboardInterrupt:
            progress.stop()
            fail("interrupted: finished clips are cached; run the same command again to continue", 130)
    typer.echo(summary(result))


def run() -> None:  # pragma: no cover - console entry point convenience
    app(prog_name="audiobook")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
