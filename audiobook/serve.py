"""`audiobook serve`: the output folder over HTTP, for podcast apps on this machine or the local network.

Built on the standard library's ThreadingHTTPServer with a handler of our own (no dependency;
SimpleHTTPRequestHandler has no byte ranges and lists folders). It serves GET and HEAD with
single byte ranges (206, 416), the content types podcast apps expect, and only regular files
under the root: ``..``, encoded traversal, hidden files (the clip cache) and symlinks leading
out of the root are all 404. Each book's feed.xml is rewritten per request so its links point
at this server, at the host and port the client used.
"""

from __future__ import annotations

import email.utils
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

from . import __version__
from .errors import PublishError, ServeError
from .feed import FEED_NAME, rebase_feed

__all__ = ["CONTENT_TYPES", "ByteRange", "Server", "feed_paths", "lan_addresses", "make_server", "parse_range"]

CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".xml": "application/rss+xml; charset=utf-8",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json+chapters; charset=utf-8",  # the only JSON we write is chapters
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".m4b": "audio/mp4",
}
CHUNK_BYTES = 64 * 1024
_HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
_RANGE = re.compile(r"bytes=(?P<start>[0-9]{0,18})-(?P<end>[0-9]{0,18})")  # longer numbers: malformed, ignored
IDLE_TIMEOUT_S = 30  # a connection that sends nothing for this long is closed
MAX_CONNECTIONS = 64  # at once; more are refused at once (one thread each)
LISTEN_BACKLOG = 128  # connections waiting to be accepted


@dataclass(frozen=True)
class ByteRange:
    start: int  # first byte
    end: int  # last byte, inclusive (as in Content-Range)

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_range(header: str | None, size_bytes: int) -> ByteRange | None | str:
    """The single byte range asked for, None to send the whole file, or "unsatisfiable".

    A malformed header or several ranges are ignored (the whole file is sent), as RFC 9110 allows.
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match["start"] and not match["end"]):
        return None
    if not match["start"]:  # "-N": the last N bytes
        suffix = int(match["end"])
        if suffix == 0 or size_bytes == 0:
            return "unsatisfiable"
        return ByteRange(max(0, size_bytes - suffix), size_bytes - 1)
    start = int(match["start"])
    end = int(match["end"]) if match["end"] else None
    if end is not None and end < start:
        return None
    if start >= size_bytes:
        return "unsatisfiable"
    end = size_bytes - 1 if end is None else end
    return ByteRange(start, min(end, size_bytes - 1))


def resolve_under(root: Path, url_path: str) -> Path | None:
    """The regular file ``url_path`` names under ``root`` (already resolved), or None."""
    raw = url_path.split("?", 1)[0].split("#", 1)[0]
    if not raw.startswith("/"):  # absolute-form ("http://...") and anything else odd
        return None
    path = unquote(raw, errors="strict")
    if "\x00" in path or "\\" in path:
        return None
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") or part.startswith(".") for part in parts):
        return None
    try:
        candidate = root.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def feed_paths(root: Path) -> list[Path]:
    """Every book's feed.xml that the server will serve: ``root``'s own, and one level down, in name
    order (a book folder that is a symlink leading out of the root is not served, so not listed)."""
    resolved = root.resolve()
    own = [root / FEED_NAME] if (root / FEED_NAME).is_file() else []
    below = (p for p in root.glob(f"*/{FEED_NAME}") if not p.parent.name.startswith("."))
    return [p for p in own + sorted(below) if p.resolve().is_relative_to(resolved)]


def lan_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses, as far as its own name resolves (no traffic sent)."""
    try:
        _, _, addresses = socket.gethostbyname_ex(socket.gethostname())
    except OSError:
        return []
    return sorted({a for a in addresses if not a.startswith("127.")})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], root: Path, log: Callable[[str], None]) -> None:
        self.root = root
        self.log = log
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        if ":" in address[0]:
            self.address_family = socket.AF_INET6  # --host ::1, --host ::
        super().__init__(address, _Handler)
        self.own_hosts = _own_hosts(self.host)

    def process_request(self, request, client_address) -> None:
        """One thread per connection, at most MAX_CONNECTIONS of them: a connection past that is closed at once."""
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    @property
    def host(self) -> str:
        """The address it listens on (an IP server's address is text)."""
        return str(self.server_address[0])

    @property
    def port(self) -> int:
        return self.server_address[1]


def make_server(
    root: Path, host: str = "127.0.0.1", port: int = 8000, log: Callable[[str], None] = lambda _: None
) -> Server:
    """A server for ``root`` bound to host:port (port 0: any free port); call ``serve_forever()``."""
    root = Path(root)
    if not root.is_dir():
        raise ServeError(f"{root}: no such folder; build a book first (audiobook build SOURCE -o {root})")
    try:
        return Server((host, port), root.resolve(), log)
    except OSError as exc:
        raise ServeError(f"{host}:{port}: cannot listen: {exc.strerror}; pass another --port or --host") from None


def _own_hosts(bound: str) -> frozenset[str]:
    """The host names a client may reach this server by, for the links in its feeds."""
    loopback = {"localhost", "127.0.0.1", "::1"}
    if bound in ("0.0.0.0", "::", ""):
        return frozenset(loopback | set(lan_addresses()) | {socket.gethostname().lower()})
    return frozenset({bound.lower()} | (loopback if bound in loopback else set()))


class _Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = f"audiobook/{__version__}"
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S  # idle connections are closed, so their threads end

    def do_HEAD(self) -> None:
        self._respond(body=False)

    def do_GET(self) -> None:
        self._respond(body=True)

    def log_message(self, format: str, *args: object) -> None:  # one line per request, to the CLI
        self.server.log(f"{self.address_string()} {format % args}")

    def _respond(self, body: bool) -> None:
        try:
            path = resolve_under(self.server.root, self.path)
        except UnicodeDecodeError:
            path = None
        if path is None:
            self._not_found(body)
            return
        if path.name == FEED_NAME:
            try:
                data = rebase_feed(path.read_bytes(), self._book_url(path.parent))
            except (PublishError, OSError, ValueError):
                self._not_found(body)
                return
            self._send(path, len(data), body, lambda r: data[r.start : r.end + 1])
            return
        size = path.stat().st_size
        self._send(path, size, body, None)

    def _book_url(self, book_dir: Path) -> str:
        """This server's address as the client reached it, when the Host header names one of this
        machine's own names and this port; else the address it listens on (a feed's links never
        point at a host a client made up)."""
        address, port = self.server.host, self.server.port
        host = self.headers.get("Host", "")
        match = _HOST_HEADER.fullmatch(host)
        name = host.rsplit(":", 1)[0] if match and not host.startswith("[") else host[1:].split("]")[0] if match else ""
        given_port = host.rsplit(":", 1)[1] if match and (match.group(1) or match.group(2)) else "80"
        if not match or name.lower() not in self.server.own_hosts or given_port != str(port):
            shown = address if address not in ("0.0.0.0", "::", "") else (lan_addresses() or ["127.0.0.1"])[0]
            host = f"[{shown}]:{port}" if ":" in shown else f"{shown}:{port}"
        relative = book_dir.relative_to(self.server.root).as_posix()
        return f"http://{host}/" + ("" if relative == "." else quote(relative) + "/")

    def _send(self, path: Path, size: int, body: bool, read: Callable[[ByteRange], bytes] | None) -> None:
        stat = path.stat()
        etag = f'"{size:x}-{stat.st_mtime_ns:x}"'
        last_modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
        requested = parse_range(self.headers.get("Range"), size)
        if_range = self.headers.get("If-Range")
        if if_range is not None and if_range not in (etag, last_modified):
            requested = None  # the file changed since the client's copy: send it whole
        if requested == "unsatisfiable":
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        whole = ByteRange(0, size - 1)
        part = requested if isinstance(requested, ByteRange) else whole
        self.send_response(HTTPStatus.PARTIAL_CONTENT if isinstance(requested, ByteRange) else HTTPStatus.OK)
        self.send_header("Content-Type", CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream"))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(part.length if size else 0))
        if isinstance(requested, ByteRange):
            self.send_header("Content-Range", f"bytes {part.start}-{part.end}/{size}")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.end_headers()
        if not body or size == 0:
            return
        try:
            if read is not None:
                self.wfile.write(read(part))
                return
            with path.open("rb") as file:
                file.seek(part.start)
                left = part.length
                while left > 0:
                    chunk = file.read(min(CHUNK_BYTES, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped listening: normal for players that seek

    def _not_found(self, body: bool) -> None:
        message = b"404 Not Found\n"
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(message)))
        self.end_headers()
        if body:
            self.wfile.write(message)
