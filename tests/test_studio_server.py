"""The studio's server is safe by default: it listens on 127.0.0.1 only, refuses requests whose Host or
Origin is not its own, reads nothing but its page and what it made, and writes nothing outside the
output folder and the casting file. Driven over real HTTP against `audiobook studio` in its own process."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from studio_run import RunningStudio, copy_seed_book, needs_studio, running_studio

pytestmark = [needs_studio, pytest.mark.needs_espeak]

SECRET = "the contents of a file outside the book folder"


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory):
    root = copy_seed_book(tmp_path_factory.mktemp("studio-server"))
    (root / "secret.txt").write_text(SECRET, encoding="utf-8")
    with running_studio(root) as running:
        yield running


def _files(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*") if p.is_file()}


def test_its_own_page_and_book(studio: RunningStudio) -> None:
    status, page = studio.request("GET", "/")
    assert status == 200 and b"audiobook studio" in page
    book = studio.get_json("/api/book")
    assert book["title"] == "Vocaloid Stories"
    assert {"Miku", "Kaito", "Haku", "Luka"} <= {row["name"] for row in book["cast"]}


@pytest.mark.parametrize("host", ["evil.example:80", "attacker.test", "127.0.0.1.nip.io", "", "127.0.0.1"])
def test_a_foreign_host_is_refused(studio: RunningStudio, host: str) -> None:
    """DNS rebinding: a page from another name that now resolves to 127.0.0.1 still says its own Host."""
    status, body = studio.request("GET", "/api/book", headers={"Host": host})
    assert status == 403, body
    assert b"refused: Host" in body


def test_localhost_by_name_is_its_own(studio: RunningStudio) -> None:
    status, _ = studio.request("GET", "/api/book", headers={"Host": f"localhost:{studio.port}"})
    assert status == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1", "https://127.0.0.1"])
def test_a_foreign_origin_cannot_read_or_write(studio: RunningStudio, origin: str) -> None:
    before = studio.voices.read_bytes()
    revision = studio.get_json("/api/book")["revision"]
    status, body = studio.request("GET", "/api/book", headers={"Origin": origin})
    assert status == 403 and b"refused: Origin" in body
    change = {"op": "voice", "name": "Kaito", "voice": {"id": "en-us+m1", "rate": 170, "pitch": 40}}
    status, body = studio.request("POST", "/api/save", {"revision": revision, "changes": [change]},
                                  headers={"Origin": origin})
    assert status == 403, body
    assert studio.voices.read_bytes() == before


def test_a_cross_site_request_and_a_form_post_are_refused(studio: RunningStudio) -> None:
    before = studio.voices.read_bytes()
    revision = studio.get_json("/api/book")["revision"]
    body = {"revision": revision, "changes": [{"op": "gender", "name": "Kaito", "gender": "female"}]}
    status, answer = studio.request("POST", "/api/save", body, headers={"Sec-Fetch-Site": "cross-site"})
    assert status == 403, answer
    # a plain HTML form from any site can post text/plain without asking first: never accepted
    status, answer = studio.request("POST", "/api/save", body, headers={"Content-Type": "text/plain"})
    assert status == 403 and b"JSON" in answer
    assert studio.voices.read_bytes() == before


def test_it_listens_on_127_0_0_1_only(studio: RunningStudio) -> None:
    with socket.create_connection(("127.0.0.1", studio.port), timeout=5):
        pass
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", studio.port), timeout=5):
        pass  # another loopback address: a server on 0.0.0.0 would answer here (and on the network)


TRAVERSALS = [
    "/static/../secret.txt", "/static/%2e%2e/%2e%2e/%2e%2e/secret.txt", "/static/..%2f..%2f..%2fsecret.txt",
    "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fvoices.toml", "/audio/preview/..%2f..%2f..%2fsecret.txt",
    "/audio/preview/../../secret.txt", "/audio/chapter/..%2f..%2fsecret.txt", "/audio/chapter/1",
    "/secret.txt", "/voices.toml", "/seeds/01%20-%20The%20Act%20of%20Leaving.txt", "/output/", "//etc/passwd",
    "/static//etc/passwd", "/audio/preview/" + "0" * 32 + ".mp3", "/audio/preview/%2fetc%2fpasswd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_nothing_outside_its_own_files_is_readable(studio: RunningStudio, path: str) -> None:
    status, body = studio.request("GET", path)
    assert status in (404, 405), (status, body[:200])
    assert SECRET.encode() not in body and b"[characters" not in body and b"root:" not in body


def test_nothing_is_written_outside_the_output_folder_and_the_casting_file(studio: RunningStudio) -> None:
    root = studio.root
    before = _files(root)
    revision = studio.get_json("/api/book")["revision"]
    hostile = [
        {"op": "voice", "name": "../../secret", "voice": {"id": "en-us+m1", "rate": 170, "pitch": 40}},
        {"op": "gender", "name": "/etc/passwd", "gender": "male"},
    ]
    status, _ = studio.request("POST", "/api/save", {"revision": revision, "changes": hostile})
    assert status == 200  # odd names are only keys inside voices.toml
    for body in ({"name": "../../secret"},
                 {"name": "Miku", "voice": {"id": "../../../secret", "rate": 170, "pitch": 40}},
                 {"name": "Miku", "voice": {"id": "piper:../../secret", "rate": 170, "pitch": 40}}):
        status, answer = studio.request("POST", "/api/preview", body)
        assert status == 400, answer
    status, _ = studio.request("POST", "/api/line", {"chapter": -1, "line": 0})
    assert status == 400
    status, answer = studio.request("POST", "/api/preview", {"name": "Miku"})
    assert status == 200, answer
    after = _files(root)
    changed = {name for name in set(before) | set(after) if before.get(name) != after.get(name)}
    assert "voices.toml" in changed
    outside = {name for name in changed if name != "voices.toml" and not name.startswith("output" + os.sep)}
    assert outside == set()
    assert (root / "secret.txt").read_text(encoding="utf-8") == SECRET
    assert any(name.endswith(".mp3") for name in changed)  # the preview, in the output folder's cache


def test_a_save_from_an_old_revision_is_refused_and_changes_nothing(studio: RunningStudio) -> None:
    old = studio.get_json("/api/book")["revision"]
    change = {"op": "voice", "name": "Luki", "voice": {"id": "en+m4", "rate": 165, "pitch": 30}}
    status, answer = studio.request("POST", "/api/save", {"revision": old, "changes": [change]})
    assert status == 200, answer
    saved = studio.voices.read_bytes()
    change = {"op": "voice", "name": "Luki", "voice": {"id": "en+m6", "rate": 165, "pitch": 30}}
    status, answer = studio.request("POST", "/api/save", {"revision": old, "changes": [change]})
    assert status == 409
    assert "changed since this page read it" in json.loads(answer)["error"]
    assert studio.voices.read_bytes() == saved
