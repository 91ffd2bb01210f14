"""The command line: a thin layer over the library. Only this module prints or exits."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Optional
from urllib.parse import quote

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from . import __version__
from .build import BuildOptions, BuildResult
from .build import Progress as BuildProgress
from .build import build as build_book
from .errors import AudiobookError, ServeError
from .serve import feed_paths, lan_addresses, make_server

app = typer.Typer(
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
    if result.feed_path is not None:
        lines.append(f"Feed: {result.feed_path}  (listen in a podcast app: audiobook serve {result.book_dir.parent})")
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
    base_url: Annotated[
        Optional[str],
        typer.Option("--base-url", metavar="URL", help="Where the book folder will be hosted, for the feed. Default: audiobook serve."),
    ] = None,
    cover: Annotated[
        Optional[Path], typer.Option("--cover", help="Cover image (JPEG or PNG, square, 1400 px or more). Default: drawn.")
    ] = None,
) -> None:
    """Build an audiobook: one tagged, chaptered MP3 per story, a cover, transcripts and a podcast feed."""
    options = BuildOptions(
        tuple(sources), output, voices, cache, jobs or os.cpu_count() or 1, bitrate, base_url=base_url, cover=cover
    )
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
    host: Annotated[str, typer.Option("--host", help="Address to listen on; 0.0.0.0 for the local network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free port).")] = 8000,
) -> None:
    """Serve the built books over HTTP, with a podcast feed per book for podcast apps."""
    try:
        feeds = feed_paths(outdir)
        if not feeds:
            raise ServeError(f"{outdir}: no book with a feed.xml; build one first: audiobook build SOURCE -o {outdir}")
        server = make_server(outdir, host, port, log=lambda line: typer.echo(line, err=True))
    except AudiobookError as exc:
        fail(str(exc))
    lines = serve_banner(outdir, host, server.port, feeds, lan_addresses)
    try:
        typer.echo("\n".join(lines))
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def run() -> None:  # pragma: no cover - console entry point convenience
    app(prog_name="audiobook")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
