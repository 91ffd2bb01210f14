"""Hostile and unusual input (issue 15): one section per class of defect, each test named after its class."""

from __future__ import annotations

from pathlib import Path

import pytest
from rawepub import write_epub, xhtml
from typer.testing import CliRunner

from audiobook.cli import app
from audiobook.plan import BuildOptions, plan
from audiobook.spoken import spoken_words


def _plan(tmp_path: Path, *sources: Path):
    voices = tmp_path / "none.toml"
    voices.write_text("", encoding="utf-8")
    return plan(BuildOptions(sources=sources, output_dir=tmp_path / "out", voices_path=voices))


def _spoken(chapter) -> list[str]:
    return spoken_words(" ".join(u.text for u in chapter.utterances))


# --- scene dividers: what the loader reads as a break is never counted as words to speak ------

DIVIDERS = ["xXx", "oOoOo", "OoO", "000", "XXX", "xoxo", "~*~", "=====", "-----", "x X x", "o0o0o", "* * *", "___"]


@pytest.mark.parametrize("divider", DIVIDERS)
@pytest.mark.parametrize("kind", ["txt", "epub"])
def test_scene_dividers_are_breaks_never_words(tmp_path: Path, kind: str, divider: str) -> None:
    before = 'Anna walked home. "Wait," said Ben.'
    after = "The next morning was bright."
    if kind == "txt":
        source = tmp_path / "d.txt"
        source.write_text(f"The Long Road\n\n{before}\n\n{divider}\n\n{after}\n", encoding="utf-8")
    else:
        body = f"<h1>The Long Road</h1><p>{before}</p><p>{divider}</p><p>{after}</p>"
        source = write_epub(tmp_path / "d.epub", [xhtml(body)])
    [chapter] = _plan(tmp_path, source).chapters
    assert _spoken(chapter) == spoken_words(f"The Long Road {before} {after}")
    sections = {u.section for u in chapter.utterances}
    assert len(sections) == 2  # the divider still separates two scenes


def test_scene_divider_story_builds_from_the_command_line(tmp_path: Path) -> None:
    story = tmp_path / "d.txt"
    story.write_text('The Long Road\n\nAnna walked home. "Wait," said Ben.\n\nxXx\n\nThe next morning was bright.\n')
    voices = tmp_path / "none.toml"
    voices.write_text("")
    result = CliRunner().invoke(
        app, ["build", str(story), "-o", str(tmp_path / "out"), "--voices", str(voices), "-j", "1"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "The Long Road" / "01 - The Long Road.mp3").is_file()


# --- catastrophic regular expressions: no pattern backtracks over a long or odd block --------

BOX_SIGN = "\n".join(
    ["+--------------------------+", "|   THE ROYAL GEORGE INN   |", "|   ~~~~~~~~~~~~~~~~~~~~   |",
     "|  Rooms -- Meals -- Ale   |", "|                          |", "|   ! ! ! ! ! ! ! ! ! !    |",
     "|  *  *  *  *  *  *  *  *  |", "+--------------------------+"]
)
ADVERSARIAL_BLOCKS = {
    "box sign": BOX_SIGN,
    "box sign, tall": "\n".join([BOX_SIGN] * 50),
    "10,000 dashes": "-" * 10_000,
    "punctuation lines": "\n".join(["!?.,;:-*~" * 8 + " x"] * 8),
    "punctuation run": ".!?,;:-*~" * 3_000 + "a",
    "line of spaces": "word\n" + " " * 60_000 + "\nword",
    "line of tabs": "a\n" + "\t " * 30_000 + "\nb",
    "stars": "* " * 20_000 + "x",
    "capitalised words": "Ab " * 8_000 + "1",
    "titled names": "Mr Smith " * 5_000,
    "tags in one paragraph": '"Hi," said Ann. ' * 2_000,
    "quoted words": '"a" ' * 5_000,
    "single quotes": "'" * 20_000 + "a",
    "name then spaces": '"Oh, Ben' + " " * 20_000 + 'x"',
    "markdown heading of hashes": "# a" + " " * 3_000 + "#" * 3_000 + " " * 3_000 + "x",
}


def _text_stages(path: Path) -> None:
    from audiobook.attribution import attribute
    from audiobook.book import load_book
    from audiobook.normalise import normalise
    from audiobook.segment import segment, speech_text

    for story in load_book(path).chapters:
        script = attribute(segment(story))
        for line in script.lines:
            normalise(speech_text(story.text[line.start : line.end]))


@pytest.mark.parametrize("name", ADVERSARIAL_BLOCKS)
def test_catastrophic_regex_adversarial_blocks_load_in_under_a_second(tmp_path: Path, name: str) -> None:
    """Issue 15 asks for under a second (a boxed sign took 151 s): CPU time of this process, so a
    busy machine does not fail it; every block here took from 3 s to hours before."""
    import time

    path = tmp_path / "block.txt"
    path.write_text(f"A Sign\n\nAnna looked up.\n\n{ADVERSARIAL_BLOCKS[name]}\n\nThen she went in.\n", encoding="utf-8")
    _text_stages(path)  # warm: imports and compiled patterns
    started = time.process_time()
    _text_stages(path)
    assert time.process_time() - started < 1.0


def _nested_unbounded(pattern: str, flags: int) -> bool:
    """A repeat with no upper bound inside another: the shape that backtracks exponentially.
    Possessive repeats and atomic groups never backtrack, so they do not count."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    def walk(items, depth: int) -> bool:
        for op, av in items:
            if op in (c.MAX_REPEAT, c.MIN_REPEAT):
                inner = depth + (av[1] == c.MAXREPEAT)
                if inner > 1 or walk(av[2], inner):
                    return True
            elif op == c.SUBPATTERN and walk(av[3], depth):
                return True
            elif op == c.BRANCH and any(walk(b, depth) for b in av[1]):
                return True
            elif op in (c.ASSERT, c.ASSERT_NOT) and walk(av[1], depth):
                return True
        return False

    return walk(_parser.parse(pattern, flags), 0)


_RECORD_PATTERNS = """
import json, re, sys
from pathlib import Path
compiled = {}
real = re._compile
def recording(pattern, flags):
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("re"):
        frame = frame.f_back
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    if module.startswith("audiobook") and isinstance(pattern, str):
        compiled.setdefault(json.dumps([pattern, int(flags)]), module)
    return real(pattern, flags)
re._compile = recording
import importlib, pkgutil, audiobook
for module in pkgutil.walk_packages(audiobook.__path__, "audiobook."):
    importlib.import_module(module.name)
from test_hostile_input import _text_stages
for source in sys.argv[1:]:
    _text_stages(Path(source))
print(json.dumps(compiled))
"""


def test_catastrophic_regex_no_pattern_nests_unbounded_quantifiers() -> None:
    """Every pattern the package compiles, at import or while reading the seed stories (recorded in a
    fresh interpreter, so that patterns compiled at import are seen too)."""
    import json
    import subprocess
    import sys

    sources = sorted(str(p) for p in Path("seeds").glob("*.txt"))
    tests = str(Path(__file__).parent)
    run = subprocess.run(
        [sys.executable, "-c", _RECORD_PATTERNS, *sources], capture_output=True, text=True, check=True,
        env={**__import__("os").environ, "PYTHONPATH": tests},
    )
    compiled = {tuple(json.loads(key)): module for key, module in json.loads(run.stdout).items()}
    assert len(compiled) > 50  # the recording saw the package's patterns
    nested = [
        f"{module}: {pattern[:120]}"
        for (pattern, flags), module in compiled.items()
        if _nested_unbounded(pattern, flags)
    ]
    assert nested == []


# --- voices.toml: checked in one pass, whatever its size or shape ------------------------------


def test_casting_file_validation_is_linear_3000_characters_in_under_a_second(tmp_path: Path) -> None:
    """Each key's line was looked up by rescanning the file (2,000 characters: 87 s); CPU time, as above."""
    import time

    from audiobook.config import load_config

    voices = tmp_path / "voices.toml"
    tables = [
        f'[characters.Name{i}]\naliases = ["Alias{i}"]\ngender = "female"\nvoice = "en"\nrate = 170\npitch = 50\n'
        for i in range(3000)
    ]
    voices.write_text('[book]\ntitle = "Big"\n' + "".join(tables), encoding="utf-8")
    started = time.process_time()
    config = load_config(voices)
    assert time.process_time() - started < 1.0
    assert len(config.characters) == 3000 and config.characters[-1].line == 2 + 6 * 2999 + 1


def test_casting_file_errors_still_name_the_line_in_a_big_file(tmp_path: Path) -> None:
    from audiobook.config import load_config
    from audiobook.errors import ConfigError

    voices = tmp_path / "voices.toml"
    tables = [f'[characters."Dr. No {i}"]\nrate = 170\n' for i in range(2000)]
    voices.write_text("".join(tables) + '[characters."Dr. Who"]\n# rate = 1\nrate = 1000\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(voices)
    assert str(error.value) == f"{voices}:4003: 'rate' = 1000 is out of range: use 80 to 450"


def test_casting_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    from audiobook.config import load_config

    voices = tmp_path / "voices.toml"
    voices.write_bytes(b'\xef\xbb\xbf[book]\ntitle = "Notepad"\n\n[narrator]\nrate = 999\n')
    with pytest.raises(Exception) as error:
        load_config(voices)
    assert str(error.value) == f"{voices}:5: 'rate' = 999 is out of range: use 80 to 450"  # lines still count from 1
    voices.write_bytes(b'\xef\xbb\xbf[book]\ntitle = "Notepad"\n')
    assert load_config(voices).title == "Notepad"


# --- EPUB reading: every byte of text read as written, or the build says what it left out -----


def _epub_words(tmp_path: Path, *documents: bytes):
    from audiobook.book import load_book

    book = load_book(write_epub(tmp_path / "book.epub", list(documents)))
    return spoken_words(" ".join(story.text for story in book.chapters)), book.warnings


ACCENTED = "Café naïve, Zoë’s façade — déjà vu"


@pytest.mark.parametrize(
    "encoding, declare, bom",
    [("utf-16", True, False), ("utf-16-le", True, False), ("iso-8859-1", True, False), ("windows-1252", True, False),
     ("utf-8", False, True), ("utf-8", True, False), ("koi8-r", True, False)],
)
def test_epub_encodings_are_decoded_by_bom_or_declaration(
    tmp_path: Path, encoding: str, declare: bool, bom: bool
) -> None:
    text = (
        "Привет, мир и всё такое"
        if encoding == "koi8-r"
        else ACCENTED.replace("’", "'").replace("—", "-")
        if encoding == "iso-8859-1"
        else ACCENTED
    )
    data = xhtml(f"<p>{text}.</p><p>Second paragraph here.</p>", encoding=encoding, declare=declare, bom=bom)
    if encoding == "utf-16-le":
        data = b"\xff\xfe" + data  # UTF-16 needs its BOM; "utf-16" writes one itself
    words, warnings = _epub_words(tmp_path, data)
    assert words == spoken_words(f"{text} Second paragraph here")
    assert warnings == ()


def test_epub_deep_nesting_and_unclosed_elements_lose_no_paragraph(tmp_path: Path) -> None:
    paragraphs = [f"Paragraph number {n} goes here." for n in range(300)]
    deep = "<div>" * 3000 + "".join(f"<p>{p}</p>" for p in paragraphs) + "</div>" * 3000
    unclosed = "".join(f"<div><p>{p}</p>" for p in paragraphs)  # an unclosed <div> per paragraph
    for body in (deep, unclosed):
        words, warnings = _epub_words(tmp_path, xhtml(body))
        assert words == spoken_words(" ".join(paragraphs)) and warnings == ()


def test_epub_huge_text_node_is_read_whole(tmp_path: Path) -> None:
    node = " ".join(f"word{n % 1000}" for n in range(1_500_000))  # 11 MB in one text node
    words, warnings = _epub_words(tmp_path, xhtml(f"<p>Start here.</p><p>{node} end.</p>"))
    assert len(words) == 2 + 1_500_000 + 1 and words[-1] == "end" and warnings == ()


def test_epub_bytes_invalid_in_their_encoding_are_reported(tmp_path: Path) -> None:
    data = xhtml("<p>Good words here.</p>").replace(b"Good", b"Go\xff\xfed")
    words, warnings = _epub_words(tmp_path, data)
    assert words == ["go", "d", "words", "here"]
    assert warnings == (f"{tmp_path / 'book.epub'}: c0.xhtml: 2 bytes not valid utf-8 were replaced: check the EPUB",)


def test_epub_text_dropped_by_the_reader_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check counts the XHTML's text apart from the reader: a reader that loses a paragraph is caught."""
    from audiobook import epub

    real = epub._pieces
    monkeypatch.setattr(epub, "_pieces", lambda text, anchors: real(text, anchors)[:-1])
    words, warnings = _epub_words(tmp_path, xhtml("<p>First paragraph stays.</p><p>Last one is lost.</p>"))
    assert words == spoken_words("First paragraph stays")
    assert len(warnings) == 1 and "c0.xhtml: some text was not read (13 of 32 letters" in warnings[0]


def test_epub_decompression_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    import zipfile

    from audiobook.book import load_book
    from audiobook.errors import InputError

    bomb = write_epub(tmp_path / "bomb.epub", [xhtml("<p>Hello there.</p>")])
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as zf, zf.open("OEBPS/pad.xhtml", "w") as out:
        for _ in range(20):
            out.write(b" " * (1 << 20))  # 20 MB of spaces packs into about 20 KB
    assert bomb.stat().st_size < 200_000
    with pytest.raises(InputError) as error:
        load_book(bomb)
    assert str(error.value).startswith(f"{bomb}: OEBPS/pad.xhtml would unpack to 20 MB (")
    assert str(error.value).endswith("refusing an EPUB this large (limit 128 MB a file, 200x past 16 MB)")


# Hypothesis over EPUB structure: nesting, unclosed elements, encodings, entities, sizes.
# The property: every word of the XHTML body is spoken once, in order, or the build says what it left out.

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_VOCABULARY = [
    "Anna",
    "walked",
    "home",
    "said",
    "Ben",
    "the",
    "river",
    "café",
    "naïve",
    "déjà",
    "vu",
    "and",
    "7",
    "1999",
]
_ENTITIES = {"é": ["é", "&eacute;", "&#233;", "&#xE9;"], "&": ["&amp;", "&#38;"], " ": [" ", "&nbsp;", "&#32;", "\n"]}


@st.composite
def _paragraph(draw) -> tuple[str, str]:
    """(markup, plain text) of one paragraph, nested and wrapped at random."""
    words = draw(st.lists(st.sampled_from(_VOCABULARY), min_size=1, max_size=12))
    if draw(st.integers(0, 9)) == 0:
        words = words * draw(st.integers(100, 3000))  # now and then a long one
    plain = " ".join(words) + "."
    markup = "".join(draw(st.sampled_from(_ENTITIES[ch])) if ch in _ENTITIES else ch for ch in plain)
    for _ in range(draw(st.integers(0, 3))):
        tag = draw(st.sampled_from(["span", "em", "b", "a", "i", "strong"]))
        markup = f"<{tag}>{markup}</{tag}>"
    block = draw(st.sampled_from(["p", "div", "blockquote", "li", "h2", "section"]))
    markup = f"<{block} class='{draw(st.sampled_from(['', 'calibre1', 'indent']))}'>{markup}</{block}>"
    depth = draw(st.sampled_from([0, 0, 1, 5, 300, 1200]))
    closed = draw(st.booleans())
    markup = "<div>" * depth + markup + ("</div>" * depth if closed else "")
    noise = draw(st.sampled_from(["", "<!-- a comment -->", "<br/>", "<img src='x.png' alt='a > b'/>", "<hr/>"]))
    return markup + noise, plain


@st.composite
def _document(draw) -> tuple[bytes, list[str]]:
    paragraphs = draw(st.lists(_paragraph(), min_size=1, max_size=6))
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "iso-8859-1", "windows-1252"]))
    declare = encoding == "utf-8" and draw(st.booleans())
    bom = encoding == "utf-8" and draw(st.booleans())
    body = "".join(markup for markup, _ in paragraphs)
    data = xhtml(body, encoding=encoding, declare=declare or encoding != "utf-8", bom=bom)
    return data, spoken_words(" ".join(plain for _, plain in paragraphs))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(st.lists(_document(), min_size=1, max_size=3))
def test_epub_structure_fuzz_every_word_spoken_once_or_reported(tmp_path: Path, documents) -> None:
    source = write_epub(tmp_path / "fuzz.epub", [data for data, _ in documents])
    book = _plan(tmp_path, source)
    spoken = [word for chapter in book.chapters for word in _spoken(chapter)]
    expected = [word for _, words in documents for word in words]
    if spoken != expected:
        assert any("was not read" in w or "were replaced" in w for w in book.warnings), (spoken[:20], expected[:20])


# --- the manifest: a rebuild deletes only files it wrote itself, inside the book folder -------


def _build(tmp_path: Path, source: Path, *extra: str):
    voices = tmp_path / "none.toml"
    voices.write_text("", encoding="utf-8")
    args = ["build", str(source), "-o", str(tmp_path / "out"), "--voices", str(voices), "-j", "1", *extra]
    return CliRunner().invoke(app, args)


def _two_chapter_book(tmp_path: Path) -> Path:
    stories = tmp_path / "stories"
    stories.mkdir()
    (stories / "01 - one.txt").write_text("One\n\nAnna walked home.\n", encoding="utf-8")
    (stories / "02 - two.txt").write_text("Two\n\nBen stayed out.\n", encoding="utf-8")
    return stories


def test_manifest_keys_outside_the_book_folder_delete_nothing(tmp_path: Path) -> None:
    import json

    stories = _two_chapter_book(tmp_path)
    assert _build(tmp_path, stories).exit_code == 0
    book = tmp_path / "out" / "Stories"
    victims = [tmp_path / "victim.mp3", tmp_path / "out" / "victim.txt", book / "notes.txt", book / "mine.mp3"]
    for victim in victims:
        victim.write_text("keep me")
    (book / "sub").mkdir()
    (book / "sub" / "x.mp3").write_text("keep me")
    (book / "link.mp3").symlink_to(tmp_path / "victim.mp3")
    manifest = json.loads((book / ".audiobook.json").read_text())
    files = manifest.get("files", manifest)
    assert "01 - One.mp3" in files
    entry = {"digest": "x", "bytes": 1, "duration_ms": 1, "marks": [], "cues": []}
    for key in [str(tmp_path / "victim.mp3"), "../victim.txt", "../../victim.mp3", "notes.txt", "sub/x.mp3",
                "sub/../../victim.txt", "link.mp3", "/etc/passwd", "..", "."]:
        files[key] = entry
    (book / ".audiobook.json").write_text(json.dumps(manifest))
    result = _build(tmp_path, stories)
    assert result.exit_code == 0, result.output
    assert all(v.read_text() == "keep me" for v in [*victims, book / "sub" / "x.mp3"])
    assert (book / "link.mp3").is_symlink()
    assert set(json.loads((book / ".audiobook.json").read_text())["files"]) == {
        "01 - One.mp3",
        "02 - Two.mp3",
        "Stories.mp3",
    }


@pytest.mark.parametrize(
    "manifest",
    [
        "[]",
        "null",
        '"text"',
        "{not json",
        '{"a": 1}',
        '{"01 - One.mp3": {"digest": 5}}',
        '{"01 - One.mp3": {"digest": "x", "bytes": 1, "marks": "zz"}}',
        '{"01 - One.mp3": {"digest": "x", "bytes": 1, "cues": [[1]]}}',
        "[" * 100_000 + "]" * 100_000,
        '{"book": {}, "files": []}',
        '{"book": {"sources": 5}, "files": {"x.mp3": 7}}',
    ],
    ids=[
        "list",
        "null",
        "string",
        "broken",
        "number entry",
        "digest number",
        "marks string",
        "short cue",
        "deep",
        "files list",
        "files entry number",
    ],
)
def test_manifest_of_the_wrong_shape_is_ignored_with_a_warning(tmp_path: Path, manifest: str) -> None:
    stories = _two_chapter_book(tmp_path)
    assert _build(tmp_path, stories).exit_code == 0
    book = tmp_path / "out" / "Stories"
    (book / ".audiobook.json").write_text(manifest)
    result = _build(tmp_path, stories)
    assert result.exit_code == 0, result.output
    assert f"warning: {book / '.audiobook.json'}: not a manifest a build wrote" in result.output
    assert (book / "01 - One.mp3").stat().st_size > 1000
    assert "warning" not in _build(tmp_path, stories).output  # the next build wrote a good one


def test_removed_chapter_leaves_no_stale_files(tmp_path: Path) -> None:
    stories = _two_chapter_book(tmp_path)
    assert _build(tmp_path, stories).exit_code == 0
    book = tmp_path / "out" / "Stories"
    assert {p.name for p in book.glob("02 - *")} == {"02 - Two.mp3", "02 - Two.vtt", "02 - Two.chapters.json"}
    (stories / "02 - two.txt").unlink()
    assert _build(tmp_path, stories).exit_code == 0
    assert list(book.glob("02 - *")) == [] and (book / "01 - One.vtt").is_file()


# --- clip length: capped whatever the punctuation, so memory is too -----------------------------

_CLIPPABLE = st.lists(
    st.one_of(
        st.sampled_from(
            ["word", "Anna", "ß", "é" * 150, "x" * 700, "-", ",", ", ", ".", ". ", " ", "  ", "\n", "—", "…"]
        ),
        st.text(max_size=5),
    ),
    max_size=400,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_CLIPPABLE)
def test_clip_length_cap_holds_whatever_the_punctuation(text: str) -> None:
    from audiobook.plan import MAX_CLIP_CHARS, clip_texts

    clips = clip_texts(text)
    assert all(len(clip) <= MAX_CLIP_CHARS for clip in clips)
    assert spoken_words(" ".join(clips)) == spoken_words(text)  # every word, in order, once


def test_clip_length_cap_holds_for_unpunctuated_text_through_the_plan(tmp_path: Path) -> None:
    from audiobook.plan import MAX_CLIP_CHARS

    story = tmp_path / "run.txt"
    story.write_text(
        "A Long Run\n\n" + "anna walked on and on " * 4000 + "\n\nthen " + "z" * 5000 + "\n", encoding="utf-8"
    )
    [chapter] = _plan(tmp_path, story).chapters
    assert max(len(u.text) for u in chapter.utterances) <= MAX_CLIP_CHARS
    assert len(chapter.utterances) > 150


def _peak_rss_kb(command: list[str]) -> tuple[int, int]:
    """Run `command`, sampling /proc every 20 ms: the peak resident memory of its largest process and of
    all its processes together (workers are reaped by the forkserver, so rusage does not see them)."""
    import os
    import subprocess
    import time

    def sample(root: int) -> tuple[int, int]:
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat, open(f"/proc/{entry}/statm") as statm:
                        ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
                        rss[int(entry)] = int(statm.read().split()[1]) * page_kb
                except (OSError, ValueError, IndexError):
                    continue
                children.setdefault(ppid, []).append(int(entry))
        todo, largest, total = [root], 0, 0
        while todo:
            pid = todo.pop()
            largest, total = max(largest, rss.get(pid, 0)), total + rss.get(pid, 0)
            todo += children.get(pid, [])
        return largest, total

    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = (0, 0)
    while process.poll() is None:
        largest, total = sample(process.pid)
        peak = (max(peak[0], largest), max(peak[1], total))
        time.sleep(0.02)
    assert process.returncode == 0
    return peak


def test_clip_length_cap_bounds_peak_memory_whatever_the_punctuation(tmp_path: Path) -> None:
    """The same 1,100 words with a full stop every twelve words, and with none, built for real: the
    largest process peaks no higher without punctuation (before the cap: 291 MB against 67 MB)."""
    import sys

    words = ("the river ran on past the old mill where anna waited for ben " * 92).split()
    punctuated = " ".join(w + ("." if i % 12 == 11 else "") for i, w in enumerate(words))
    peaks = {}
    for name, body in [("punctuated", punctuated), ("unpunctuated", " ".join(words))]:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "story.txt").write_text(f"A Long Run\n\n{body}\n", encoding="utf-8")
        (folder / "voices.toml").write_text("", encoding="utf-8")
        args = [
            "build",
            str(folder / "story.txt"),
            "-o",
            str(folder / "out"),
            "--voices",
            str(folder / "voices.toml"),
            "-j",
            "1",
        ]
        peaks[name] = _peak_rss_kb([sys.executable, "-m", "audiobook.cli", *args])
    assert peaks["unpunctuated"][0] <= 1.25 * peaks["punctuated"][0], peaks


# --- encodings: UTF-8 first, then a byte order mark, then detection, with a warning naming it ---

_STORY = "Café Story\n\nCafé naïve, said Zoë. The river ran on.\n"
_RUSSIAN = "Рассказ\n\nПривет, мир! Как дела? Хорошо, сказала она.\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le", "utf-32", "utf-8-sig"])
def test_encodings_with_a_byte_order_mark_are_read_without_a_warning(tmp_path: Path, encoding: str) -> None:
    from audiobook.book import load_book

    path = tmp_path / "story.txt"
    data = _STORY.replace("\n", "\r\n").encode(encoding)
    if encoding in ("utf-16-be", "utf-16-le"):
        data = ("\ufeff" + _STORY).encode(encoding)  # Notepad's "Unicode" and "Unicode big endian"
    path.write_bytes(data)
    book = load_book(path)
    assert book.chapters[0].text == _STORY and book.warnings == ()
    story = book.chapters[0]
    assert open(path, encoding=story.encoding).read() == story.text  # offsets point into the file as read


@pytest.mark.parametrize(
    "text, encoding",
    [(_STORY, "latin-1"), (_STORY, "cp1252"), (_RUSSIAN, "koi8-r"), (_RUSSIAN, "cp1251"), ("Café naïve\n", "latin-1")],
)
def test_encodings_detected_are_read_right_and_named_in_a_warning(tmp_path: Path, text: str, encoding: str) -> None:
    import codecs

    from audiobook.book import load_book

    path = tmp_path / "story.txt"
    path.write_bytes(text.encode(encoding))
    book = load_book(path)
    assert book.chapters[0].text == text
    chosen = book.chapters[0].encoding
    assert text.encode(encoding).decode(chosen) == text and codecs.lookup(chosen)
    assert book.warnings == (
        f"{path}: not UTF-8, read as {chosen} (detected): if any letters sound wrong, save the file as UTF-8",
    )


# --- tracebacks: every failure is one line naming the file, never a traceback ---------------------


def _one_line_error(result, starts: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith(f"error: {starts}"), result.output


def _png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side_px", [10_000, 40_000])  # past Pillow's limit (a warning), and past twice it (an error)
def test_tracebacks_cover_over_the_pixel_limit_is_one_line(tmp_path: Path, side_px: int) -> None:
    story = tmp_path / "s.txt"
    story.write_text("Title\n\nAnna walked home.\n")
    cover = tmp_path / "huge.png"
    cover.write_bytes(_png_header(side_px, side_px))
    _one_line_error(_build(tmp_path, story, "--cover", str(cover)), f"{cover}: cover has more pixels")


def test_tracebacks_epub_cover_over_the_pixel_limit_gives_a_drawn_cover(tmp_path: Path) -> None:
    from dataclasses import replace

    from audiobook.build import book_cover
    from audiobook.cover import MIN_SIZE_PX

    book = _plan(tmp_path, write_epub(tmp_path / "b.epub", [xhtml("<p>Anna walked home.</p>")]))

    cover = book_cover(replace(book, source_cover=_png_header(40_000, 40_000)), None)
    assert cover.size_px >= MIN_SIZE_PX


def test_tracebacks_huge_numbers_are_left_as_digits() -> None:
    from audiobook.normalise import normalise

    for text in ["$" + "9" * 309, "$" + "9" * 5000 + " and more", "£" + "1" * 400 + ".50"]:
        assert normalise(text).startswith(text[:20])
    assert normalise("$3.50") == "three dollars fifty"


def test_tracebacks_deeply_nested_toml_is_one_line(tmp_path: Path) -> None:
    voices = tmp_path / "voices.toml"
    voices.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    story = tmp_path / "s.txt"
    story.write_text("Title\n\nAnna walked home.\n")
    result = CliRunner().invoke(app, ["build", str(story), "-o", str(tmp_path / "out"), "--voices", str(voices)])
    _one_line_error(result, f"{voices}: invalid TOML: values nested too deeply")


def test_tracebacks_cast_write_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    story = tmp_path / "s.txt"
    story.write_text('Title\n\n"Wait," said Ben.\n')
    voices = tmp_path / "none.toml"
    voices.write_text("")
    target = tmp_path / "missing" / "dir" / "v.toml"
    result = CliRunner().invoke(app, ["cast", str(story), "--voices", str(voices), "--write", str(target)])
    _one_line_error(result, f"{target}: no such file or folder: check the path")
    assert not target.parent.exists()


# --- error messages say what happened, not a guess -------------------------------------------------


def test_error_messages_name_the_real_problem(tmp_path: Path) -> None:
    story = tmp_path / "s.txt"
    story.write_text('Title\n\n"Wait," said Ben.\n')
    voices = tmp_path / "none.toml"
    voices.write_text("")
    folder = tmp_path / "a folder"
    folder.mkdir()
    result = CliRunner().invoke(
        app, ["preview", "Ben", str(story), "--voices", str(voices), "-o", str(folder), "--no-play"]
    )
    _one_line_error(result, f"{folder}: is a folder: give a file name")
    _one_line_error(_build(tmp_path, Path("/dev/null")), "/dev/null: not a story file or folder")


def test_hidden_and_resource_fork_files_are_not_chapters(tmp_path: Path) -> None:
    stories = _two_chapter_book(tmp_path)
    (stories / "._01 - one.txt").write_bytes(b"\x00\x05\x16\x07Mac OS X        \x00\x02")  # AppleDouble
    (stories / ".notes.txt").write_text("Notes\n\nRemember to fix chapter two.\n")
    book = _plan(tmp_path, stories)
    assert [c.title for c in book.chapters] == ["One", "Two"]


# --- the server: bounded in time and threads, and its feeds' links are its own ---------------------

import http.client  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402


@pytest.fixture
def running(small_book):
    from audiobook.serve import make_server

    started = []

    def start(host: str = "127.0.0.1"):
        server = make_server(small_book.output, host, 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def _feed_path(small_book) -> str:
    from urllib.parse import quote

    return "/" + quote((small_book.book_dir / "feed.xml").relative_to(small_book.output).as_posix())


def test_server_range_header_of_thousands_of_digits_is_ignored(running, small_book) -> None:
    server = running()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", _feed_path(small_book), headers={"Range": "bytes=" + "9" * 5000 + "-"})
    response = connection.getresponse()
    assert response.status == 200 and response.read().startswith(b"<?xml")
    connection.close()


def test_server_idle_connections_are_closed(running, monkeypatch) -> None:
    from audiobook import serve

    assert serve._Handler.timeout == serve.IDLE_TIMEOUT_S == 30  # the README's figure; None: held open forever
    monkeypatch.setattr(serve._Handler, "timeout", 1)  # the same mechanism, quicker
    server = running()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as idle:
        assert idle.recv(1) == b""  # closed by the server after its timeout, not held open forever


def test_server_connections_past_the_cap_are_refused(running, small_book, monkeypatch) -> None:
    from audiobook import serve

    monkeypatch.setattr(serve, "MAX_CONNECTIONS", 3)
    server = running()
    assert server.request_queue_size >= 128  # the listen backlog was 5
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(3)]
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as extra:
            assert extra.recv(1) == b""  # closed at once
    finally:
        for connection in idle:
            connection.close()
    for _ in range(50):  # the slots come back as the idle connections end
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request("GET", _feed_path(small_book))
            if connection.getresponse().status == 200:
                break
        except (ConnectionError, http.client.HTTPException):
            import time

            time.sleep(0.1)
        finally:
            connection.close()
    else:
        raise AssertionError("the server never served again")


def test_server_feed_links_ignore_a_host_header_that_is_not_this_server(running, small_book) -> None:
    server = running()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", _feed_path(small_book), headers={"Host": f"evil.example:{server.port}"})
    body = connection.getresponse().read()
    connection.close()
    assert b"evil.example" not in body and f"http://127.0.0.1:{server.port}/".encode() in body


def test_server_listens_on_ipv6_loopback(running, small_book) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc.strerror}")
    server = running("::1")
    connection = http.client.HTTPConnection("::1", server.port, timeout=10)
    connection.request("GET", _feed_path(small_book))
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status == 200 and f"http://[::1]:{server.port}/".encode() in body


def test_server_banner_with_a_symlinked_book_folder_is_one_listing(small_book, tmp_path: Path) -> None:
    import shutil

    from audiobook.cli import serve_banner
    from audiobook.serve import feed_paths

    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(small_book.book_dir, elsewhere)
    link = small_book.output / "Linked Book"
    link.symlink_to(elsewhere, target_is_directory=True)
    try:
        feeds = feed_paths(small_book.output)
        lines = serve_banner(small_book.output, "127.0.0.1", 8000, feeds, lambda: [])
    finally:
        link.unlink()
    assert feeds == [small_book.book_dir / "feed.xml"]  # served only what resolves inside the folder
    assert not any("Linked" in line for line in lines)


# --- orphans: nothing of a build outlives its command ---------------------------------------------


def _descendants(root: int) -> set[int]:
    import os

    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] != "Z":
                    alive.add(pid)
        except OSError:
            pass
    return alive


def _start_long_build(tmp_path: Path):
    import subprocess
    import sys
    import time

    story = tmp_path / "long.txt"
    sentences = [f"Sentence number {n} of a story long enough to be stopped halfway through." for n in range(120)]
    story.write_text("A Long Story\n\n" + "\n\n".join(sentences) + "\n", encoding="utf-8")
    (tmp_path / "none.toml").write_text("")
    args = ["build", str(story), "-o", str(tmp_path / "out"), "--voices", str(tmp_path / "none.toml"), "-j", "2"]
    process = subprocess.Popen(
        [sys.executable, "-m", "audiobook.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    seen: set[int] = set()
    for _ in range(600):  # until the forkserver, its workers and their eSpeak helpers are all up
        seen |= _descendants(process.pid)
        if len(_alive(seen)) >= 5 or process.poll() is not None:
            break
        time.sleep(0.1)
    assert process.poll() is None, "the build finished before it could be stopped"
    return process, args


def _gone(pids: set[int]) -> set[int]:
    import time

    for _ in range(100):
        if not _alive(pids):
            return set()
        time.sleep(0.1)
    return _alive(pids)


def test_orphans_none_after_sigkill_of_the_build_alone(tmp_path: Path) -> None:
    import os
    import signal

    process, _ = _start_long_build(tmp_path)
    helpers = _descendants(process.pid)
    os.kill(process.pid, signal.SIGKILL)  # the command only, not its process group
    process.wait()
    assert helpers and _gone(helpers) == set()


def test_orphans_none_after_sigterm_which_is_handled_like_ctrl_c(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    process, args = _start_long_build(tmp_path)
    helpers = _descendants(process.pid)
    os.kill(process.pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert (
        stderr.strip().splitlines()[-1]
        == "error: interrupted: finished clips are cached; run the same command again to continue"
    )
    assert "Traceback" not in stderr
    assert _gone(helpers) == set()
    resumed = subprocess.run(
        [sys.executable, "-m", "audiobook.cli", *args], capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0 and "from cache" in resumed.stdout


# --- minor: nothing replaced or left behind silently ---------------------------------------------


def test_minor_titles_that_sanitise_alike_never_replace_each_other(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, line in [(first, "Anna walked home."), (second, "Ben ran away.")]:
        folder.mkdir()
        (folder / "s.txt").write_text(f"Title\n\n{line}\n")
    assert _build(tmp_path, first, "--title", "a:b").exit_code == 0
    mp3 = tmp_path / "out" / "a-b" / "01 - Title.mp3"
    before = mp3.read_bytes()
    result = _build(tmp_path, second, "--title", "a?b")
    assert result.exit_code == 1 and "holds another book" in result.output
    assert mp3.read_bytes() == before


def test_minor_segment_json_dir_keeps_stories_of_the_same_name(tmp_path: Path) -> None:
    import json

    paths = []
    for folder, speaker in [("x", "Anna"), ("y", "Ben")]:
        (tmp_path / folder).mkdir()
        paths.append(tmp_path / folder / "story.txt")
        paths[-1].write_text(f'Title\n\n"Wait," said {speaker}.\n')
    out = tmp_path / "json"
    result = CliRunner().invoke(app, ["segment", *map(str, paths), "--json-dir", str(out)])
    assert result.exit_code == 0, result.output
    written = sorted(out.iterdir())
    assert [p.name for p in written] == ["story (2).json", "story.json"]
    assert "Ben" in json.dumps(json.loads(written[0].read_text())) and "Anna" in written[1].read_text()


def test_minor_bad_book_cover_leaves_no_book_folder(tmp_path: Path) -> None:
    story = tmp_path / "s.txt"
    story.write_text("Title\n\nAnna walked home.\n")
    voices = tmp_path / "voices.toml"
    voices.write_text('[book]\ncover = "missing.png"\n')
    result = CliRunner().invoke(app, ["build", str(story), "-o", str(tmp_path / "out"), "--voices", str(voices)])
    _one_line_error(result, f"{tmp_path / 'missing.png'}: no such cover image")
    assert not (tmp_path / "out" / "Title").exists()
