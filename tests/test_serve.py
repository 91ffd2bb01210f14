"""`audiobook serve` over real HTTP on 127.0.0.1: byte ranges, content types, traversal, the
rewritten feed, and gPodder's `gpo` subscribing and downloading every episode."""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest
from conftest import SmallBook

from audiobook.errors import ServeError
from audiobook.serve import Server, make_server, parse_range

AUDIOBOOK = Path(sys.executable).parent / "audiobook"


@pytest.fixture(scope="module")
def server(small_book: SmallBook) -> Iterator[Server]:
    lines: list[str] = []
    server = make_server(small_book.output, "127.0.0.1", 0, log=lines.append)
    server.logged = lines  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def get(
    server: Server, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def url_path(book: SmallBook, path: Path) -> str:
    return "/" + quote(path.relative_to(book.output).as_posix())


def first_mp3(book: SmallBook) -> Path:
    return sorted(book.book_dir.glob("[0-9]* - *.mp3"))[0]


# --- byte ranges ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=100-1099", 100, 1099), ("bytes=5000-", 5000, None), ("bytes=-777", -777, None), ("bytes=0-0", 0, 0)],
)
def test_range_request_gets_206_with_exactly_those_bytes(
    server: Server, small_book: SmallBook, header: str, start: int, end: int | None
) -> None:
    path = first_mp3(small_book)
    data = path.read_bytes()
    expected = data[start:] if end is None else data[start : end + 1]
    first = start if start >= 0 else len(data) + start

    status, headers, body = get(server, url_path(small_book, path), {"Range": header})

    assert status == 206
    assert body == expected
    assert headers["content-length"] == str(len(expected))
    assert headers["content-range"] == f"bytes {first}-{first + len(expected) - 1}/{len(data)}"
    assert headers["content-type"] == "audio/mpeg"
    assert headers["accept-ranges"] == "bytes"


def test_whole_file_is_200_with_length_and_accept_ranges(server: Server, small_book: SmallBook) -> None:
    path = first_mp3(small_book)

    status, headers, body = get(server, url_path(small_book, path))

    assert (status, body) == (200, path.read_bytes())
    assert headers["content-length"] == str(path.stat().st_size) and headers["accept-ranges"] == "bytes"
    assert "content-range" not in headers


def test_head_sends_the_headers_only(server: Server, small_book: SmallBook) -> None:
    path = first_mp3(small_book)

    status, headers, body = get(server, url_path(small_book, path), method="HEAD")

    assert (status, body, headers["content-length"]) == (200, b"", str(path.stat().st_size))


def test_unsatisfiable_range_is_416_with_the_size(server: Server, small_book: SmallBook) -> None:
    path = first_mp3(small_book)
    size = path.stat().st_size

    status, headers, _ = get(server, url_path(small_book, path), {"Range": f"bytes={size}-"})

    assert status == 416
    assert headers["content-range"] == f"bytes */{size}"


def test_if_range_with_a_stale_etag_sends_the_whole_file(server: Server, small_book: SmallBook) -> None:
    path = first_mp3(small_book)

    status, _, body = get(server, url_path(small_book, path), {"Range": "bytes=0-9", "If-Range": '"stale"'})

    assert (status, len(body)) == (200, path.stat().st_size)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9,20-29", None), ("pages=1-2", None), ("bytes=9-1", None), ("bytes=-0", "unsatisfiable"),
        ("bytes=3-50", (3, 9)),
    ],
)
def test_parse_range_edge_cases(header: str, expected) -> None:
    result = parse_range(header, 10)
    assert (result if result is None or isinstance(result, str) else (result.start, result.end)) == expected


# --- content types and the feed ---------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "content_type"),
    [
        ("*.mp3", "audio/mpeg"),
        ("feed.xml", "application/rss+xml; charset=utf-8"),
        ("*.vtt", "text/vtt; charset=utf-8"),
        ("*.chapters.json", "application/json+chapters; charset=utf-8"),
        ("cover.jpg", "image/jpeg"),
    ],
)
def test_content_types(server: Server, small_book: SmallBook, pattern: str, content_type: str) -> None:
    path = sorted(small_book.book_dir.glob(pattern))[0]

    status, headers, _ = get(server, url_path(small_book, path))

    assert (status, headers["content-type"]) == (200, content_type)


def test_served_feed_points_at_the_host_and_port_the_client_used(server: Server, small_book: SmallBook) -> None:
    feed = url_path(small_book, small_book.book_dir / "feed.xml")

    _, headers, body = get(server, feed)
    parsed = feedparser.parse(body)
    _, _, other = get(server, feed, {"Host": "192.0.2.7:9999"})  # only a header: nothing is sent there
    _, _, local = get(server, feed, {"Host": f"localhost:{server.port}"})

    base = f"http://127.0.0.1:{server.port}{feed.removesuffix('feed.xml')}"
    assert parsed.bozo == 0 and int(headers["content-length"]) == len(body)
    assert [e.enclosures[0].href for e in parsed.entries] == [
        base + quote(p.name) for p in sorted(small_book.book_dir.glob("[0-9]* - *.mp3"))
    ]
    assert b"127.0.0.1:8000" not in body
    # a Host that is not this server (issue 15: the links trusted any Host header) gets the server's own address
    assert feedparser.parse(other).entries[0].enclosures[0].href.startswith(f"http://127.0.0.1:{server.port}/")
    assert feedparser.parse(local).entries[0].enclosures[0].href.startswith(f"http://localhost:{server.port}/")


def test_a_malformed_host_header_falls_back_to_the_server_address(server: Server, small_book: SmallBook) -> None:
    feed = url_path(small_book, small_book.book_dir / "feed.xml")

    _, _, body = get(server, feed, {"Host": 'evil"/><x'})

    assert feedparser.parse(body).entries[0].enclosures[0].href.startswith(f"http://127.0.0.1:{server.port}/")


def test_requests_are_logged_one_line_each(server: Server, small_book: SmallBook) -> None:
    get(server, "/nothing-here.mp3")

    assert any(line.endswith('"GET /nothing-here.mp3 HTTP/1.1" 404 -') for line in server.logged)  # type: ignore[attr-defined]
    assert all("\n" not in line for line in server.logged)  # type: ignore[attr-defined]


# --- only files under OUTDIR ------------------------------------------------------------


@pytest.fixture
def outside(small_book: SmallBook) -> Iterator[Path]:
    """A secret beside OUTDIR, and symlinks to it (and to /etc) inside the book folder."""
    secret = small_book.output.parent / "secret.txt"
    secret.write_text("secret\n")
    links = [small_book.book_dir / "link-out.mp3", small_book.book_dir / "link-dir"]
    links[0].symlink_to(secret)
    links[1].symlink_to("/etc", target_is_directory=True)
    yield secret
    for link in links:
        link.unlink()
    secret.unlink()


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/BOOK/../../secret.txt",
        "/BOOK/%2e%2e/%2e%2e/secret.txt",
        "/BOOK/..%5c..%5csecret.txt",
        "/..%2f..%2f..%2fetc%2fpasswd",
        "//etc/passwd",
        "/etc/passwd",
        "http://127.0.0.1/etc/passwd",
        "/BOOK/link-out.mp3",
        "/BOOK/link-dir/passwd",
        "/.cache",
        "/BOOK/feed.xml%00.mp3",
        "/%ff%fe",
        "/BOOK",
        "/",
    ],
)
def test_traversal_symlinks_out_hidden_files_and_folders_are_404(
    server: Server, small_book: SmallBook, outside: Path, path: str
) -> None:
    path = path.replace("BOOK", quote(small_book.book_dir.name))

    status, _, body = get(server, path)

    assert status == 404
    assert b"secret" not in body and b"root:" not in body


def test_a_symlink_inside_the_root_is_served(server: Server, small_book: SmallBook) -> None:
    link = small_book.book_dir / "same-cover.jpg"
    link.symlink_to(small_book.book_dir / "cover.jpg")
    try:
        status, _, body = get(server, url_path(small_book, link))
    finally:
        link.unlink()

    assert (status, body) == (200, (small_book.book_dir / "cover.jpg").read_bytes())


def test_serving_a_missing_folder_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ServeError, match=r"nothing: no such folder; build a book first"):
        make_server(tmp_path / "nothing", "127.0.0.1", 0)


def test_a_port_in_use_is_a_one_line_error(server: Server, small_book: SmallBook) -> None:
    with pytest.raises(ServeError, match=rf"^127.0.0.1:{server.port}: cannot listen: .*; pass another --port"):
        make_server(small_book.output, "127.0.0.1", server.port)


# --- the real command and a real podcast client --------------------------------------------


class Serving:
    def __init__(self, outdir: Path) -> None:
        self.process = subprocess.Popen(
            [str(AUDIOBOOK), "serve", str(outdir), "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        self.banner: list[str] = []
        for line in self.process.stdout:
            self.banner.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl+C"):
                break
        assert self.banner and self.banner[-1].startswith("Press Ctrl+C"), self.stop()

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.stderr.read() if self.process.stderr else ""


def test_serve_prints_the_feed_url_to_paste_into_a_podcast_app(small_book: SmallBook) -> None:
    serving = Serving(small_book.output)
    log = serving.stop()

    port = serving.banner[0].rsplit(":", 1)[1].rstrip("/")
    assert serving.banner == [
        f"Serving {small_book.output}{os.sep} on http://127.0.0.1:{port}/",
        "Only this machine can connect (--host 0.0.0.0 to listen on the local network).",
        "Paste a feed URL into a podcast app:",
        f"  http://127.0.0.1:{port}/{quote(small_book.book_dir.name)}/feed.xml",
        "Press Ctrl+C to stop.",
    ]
    assert serving.process.returncode == 0 and log == ""


def test_serve_without_a_built_book_is_a_one_line_error(tmp_path: Path) -> None:
    command = [str(AUDIOBOOK), "serve", str(tmp_path), "--port", "0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)

    assert result.returncode == 1
    assert result.stderr == (
        f"error: {tmp_path}: no book with a feed.xml; build one first: audiobook build SOURCE -o {tmp_path}\n"
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_gpodder_subscribes_and_downloads_every_episode_byte_identical(small_book: SmallBook, tmp_path: Path) -> None:
    gpo = shutil.which("gpo")
    if gpo is None:
        if os.environ.get("CI"):
            pytest.fail("gpo (gPodder) is not installed: setup.sh should have installed the gpodder package")
        pytest.skip("needs gPodder's gpo: apt-get install gpodder (or bash setup.sh)")
    env = {
        key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")
    } | {
        "GPODDER_HOME": str(tmp_path / "home"),
        "GPODDER_DOWNLOAD_DIR": str(tmp_path / "downloads"),
        "NO_PROXY": "127.0.0.1",
    }
    serving = Serving(small_book.output)
    try:
        feed_url = serving.banner[3].strip()
        assert feed_url.startswith("http://127.0.0.1:")

        def run(*args: str) -> str:
            result = subprocess.run([gpo, *args], env=env, capture_output=True, text=True, timeout=120)
            assert result.returncode == 0, result.stdout + result.stderr
            return result.stdout

        run("subscribe", feed_url)
        episodes = run("episodes", feed_url)
        downloaded = run("download", feed_url)
    finally:
        log = serving.stop()

    built = sorted(small_book.book_dir.glob("[0-9]* - *.mp3"))
    assert 'Rain & <Thunder> "Tonight" ☔' in episodes and "Second" in episodes
    assert f"{len(built)} episodes downloaded" in downloaded
    files = [p for p in (tmp_path / "downloads").rglob("*") if p.is_file()]
    assert sorted(sha256(p) for p in files) == sorted(sha256(p) for p in built)
    assert sorted(p.stat().st_size for p in files) == sorted(p.stat().st_size for p in built)
    assert sum(" 200 " in line or " 206 " in line for line in log.splitlines() if ".mp3 " in line) >= len(built)


def test_banner_for_the_local_network_names_this_machines_addresses(small_book: SmallBook) -> None:
    from audiobook.cli import serve_banner

    feeds = [small_book.book_dir / "feed.xml"]
    book = quote(small_book.book_dir.name)

    lines = serve_banner(small_book.output, "0.0.0.0", 8000, feeds, lambda: ["192.168.1.20"])

    assert lines[1] == "Listening on the local network: any device on it can fetch these files."
    assert lines[3] == f"  http://192.168.1.20:8000/{book}/feed.xml"
    unknown = serve_banner(small_book.output, "0.0.0.0", 8000, feeds, lambda: [])
    assert unknown[3] == f"  http://THIS-MACHINE'S-ADDRESS:8000/{book}/feed.xml"
