"""The studio's web server: Starlette routes over a :class:`~audiobook.studio.session.Studio`, run by uvicorn
on 127.0.0.1 only. The only module that imports starlette and uvicorn.

Safe by default:

* it listens on 127.0.0.1 and nowhere else;
* a request whose ``Host`` is not this server's own address (``127.0.0.1:PORT`` or
  ``localhost:PORT``) is refused, so a page from another site cannot reach it by rebinding a DNS
  name to 127.0.0.1; so is a request whose ``Origin`` (or ``Sec-Fetch-Site``) says it comes from
  another site, and a write that is not JSON (which no other site can send without asking first);
* it reads only its own page and files named by number or digest (a chapter the studio built, a
  preview it made), never a path a request gives, and it writes only the casting file and the
  output folder (see :mod:`audiobook.studio.session`).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from ..engine import Voice
from ..errors import AudiobookError, ConfigError
from .session import BusyError, StaleError, Studio

STATIC = Path(__file__).parent / "static"
HOST = "127.0.0.1"
_PREVIEW_NAME = re.compile(r"[0-9a-f]{32}\.mp3")
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class Guard:
    """Refuses, with 403 and a one-line reason, any request that is not from this server's own page."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        self.app = app
        self.hosts = {f"{HOST}:{port}", f"localhost:{port}"}
        self.origins = {f"http://{host}" for host in self.hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        reason = self.refusal(scope["method"], headers)
        if reason is not None:
            await PlainTextResponse(f"refused: {reason}\n", status_code=403)(scope, receive, send)
            return

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] += [(k.lower().encode(), v.encode()) for k, v in _HEADERS.items()]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def refusal(self, method: str, headers: dict[str, str]) -> str | None:
        host = headers.get("host", "")
        if host not in self.hosts:
            return f"Host {host!r} is not this studio's address (http://{min(self.hosts)}/)"
        origin = headers.get("origin")
        if origin is not None and origin not in self.origins:
            return f"Origin {origin!r} is another site: only the studio's own page may ask"
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return "a request from another site: only the studio's own page may ask"
        content_type = headers.get("content-type", "").split(";")[0].strip()
        if method not in ("GET", "HEAD") and content_type != "application/json":
            return "a change must be sent as JSON by the studio's page"
        return None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


Handler = Callable[[Request], Awaitable[Response]]


def make_app(studio: Studio, port: int) -> ASGIApp:
    """The studio's ASGI app, for a server listening on 127.0.0.1:`port`."""

    async def call(work: Callable[[], Any]) -> Response:
        """Run studio work in a thread; its answer as JSON, its errors as one line."""
        try:
            result = await run_in_threadpool(work)
        except StaleError as exc:
            return _error(409, str(exc))
        except BusyError as exc:
            return _error(409, str(exc))
        except ConfigError as exc:
            return _error(422, str(exc))
        except AudiobookError as exc:
            return _error(400, str(exc))
        return JSONResponse(result)

    async def body(request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def book(request: Request) -> Response:
        return await call(lambda: asdict(studio.book()))

    async def voices(request: Request) -> Response:
        return await call(lambda: [asdict(v) for v in studio.voices()])

    async def preview(request: Request) -> Response:
        data = await body(request)
        voice = _voice(data.get("voice"))
        return await call(lambda: {"url": f"/audio/preview/{studio.preview(str(data.get('name', '')), voice).name}"})

    async def line(request: Request) -> Response:
        data = await body(request)
        try:
            chapter, index = int(data["chapter"]), int(data["line"])
        except (KeyError, TypeError, ValueError):
            return _error(400, "say which line: chapter and line")
        return await call(lambda: {"url": f"/audio/preview/{studio.line_audio(chapter, index).name}"})

    async def save(request: Request) -> Response:
        data = await body(request)
        changes = data.get("changes")
        if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
            return _error(400, "nothing to save: send changes")
        return await call(lambda: {"revision": studio.save(str(data.get("revision", "")), changes)})

    async def build(request: Request) -> Response:
        if request.method == "POST":
            response = await call(studio.start_build)
            if response.status_code != 200:
                return response
        return JSONResponse(asdict(studio.build_status()))

    async def preview_file(request: Request) -> Response:
        name = request.path_params["name"]
        path = studio.previews_dir / name
        if not _PREVIEW_NAME.fullmatch(name) or not path.is_file():
            return PlainTextResponse("no such preview\n", status_code=404)
        return FileResponse(path, media_type="audio/mpeg")

    async def chapter_file(request: Request) -> Response:
        path = studio.chapter_file(request.path_params["number"])
        if path is None or not path.is_file():
            return PlainTextResponse("no such chapter built by this studio\n", status_code=404)
        return FileResponse(path, media_type="audio/mpeg")

    routes = [
        Route("/", index),
        Route("/api/book", book),
        Route("/api/voices", voices),
        Route("/api/preview", preview, methods=["POST"]),
        Route("/api/line", line, methods=["POST"]),
        Route("/api/save", save, methods=["POST"]),
        Route("/api/build", build, methods=["GET", "POST"]),
        Route("/audio/preview/{name}", preview_file),
        Route("/audio/chapter/{number:int}", chapter_file),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Guard(Starlette(routes=routes), port)


def _voice(data: object) -> Voice | None:
    """A voice the page picked (id, rate, pitch), or None for the character's own."""
    if not isinstance(data, dict):
        return None
    try:
        return Voice(str(data["id"]), int(data["rate"]), int(data["pitch"]))
    except (KeyError, TypeError, ValueError):
        return None


def listen(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:`port` (0: any free port); AudiobookError if it cannot."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(64)
    except OSError as exc:
        sock.close()
        raise AudiobookError(f"cannot listen on {HOST}:{port}: {exc.strerror}: choose another --port") from None
    return sock


def serve(studio: Studio, sock: socket.socket) -> None:
    """Serve the studio on `sock` until interrupted (Ctrl+C or SIGTERM)."""
    port = sock.getsockname()[1]
    config = uvicorn.Config(make_app(studio, port), log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
