"""The cast a user writes in voices.toml steers who speaks, and a wrong line is fixed in one edit.

Stories written for these tests; the real CLI, and for the rebuild the real eSpeak NG and ffmpeg.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiobook.attribution import attribute
from audiobook.attribution.seed import NO_CAST, Listed, UserCast
from audiobook.build import build
from audiobook.cli import app
from audiobook.config import load_config
from audiobook.errors import ConfigError
from audiobook.load import parse_story
from audiobook.plan import BuildOptions, summary
from audiobook.segment import segment

HARBOUR = """The Harbour

Tom came down to the quay at noon. Reyes was already there, coiling rope.

"You're late," Reyes said.

"The tide waits for nobody," said Tom.
"""

RIDE = """The Ride

Ann led the horse out into the yard. Thunder tossed his head and pawed at the gravel.

"Easy now," Ann said, and patted his neck.

Thunder snorted. "We ride at dawn, you and I."
"""

PORCH = """The Porch

Mara and Joe sat on the porch steps. Joe had gone quiet hours ago. Old Pete came up the road with his dog.

"Is it always this hot here?" Mara asked.

"Only in August."

"I don't believe you."

"Ask anyone in town."

"I'm asking you."
"""

LETTER = """The Letter

I found the letter on the kitchen table when I came home. Sam was already reading it.

"Who is it from?" I asked.

"Your aunt," Sam said. "She wants us to visit."

"Then we'll go," I said.
"""

KITCHEN = """The Kitchen

Robin and Alex came in from the rain, shaking their coats.

"Where's the kettle?" she asked.

"On the stove, where it always is," he said.
"""


def speakers(text: str, user: UserCast = NO_CAST, fixed: dict[int, str] | None = None) -> dict[str, str | None]:
    """Each line of dialogue (its words, quotation marks aside) -> its speaker."""
    script = attribute(segment(parse_story(Path("story.txt"), text, "utf-8")), user, fixed)
    return {text[line.start : line.end].strip("\"“”"): line.speaker for line in script.lines if line.kind == "dialogue"}


def quote_index(text: str, words: str) -> int:
    """The segment index of the quote holding `words`."""
    seg = segment(parse_story(Path("story.txt"), text, "utf-8"))
    return next(i for i, s in enumerate(seg.segments) if s.kind == "dialogue" and words in text[s.start : s.end])


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_a_listed_alias_merges_two_would_be_characters() -> None:
    assert set(speakers(HARBOUR).values()) == {"Tom", "Reyes"}  # found alone: two people
    user = UserCast((Listed("Tom Reyes", ("Tom", "Reyes"), "male"),))
    assert speakers(HARBOUR, user) == {"You're late,": "Tom Reyes", "The tide waits for nobody,": "Tom Reyes"}


def test_not_characters_removes_a_speaker() -> None:
    assert speakers(RIDE)["We ride at dawn, you and I."] == "Thunder"  # `Thunder snorted.`: the horse speaks
    found = speakers(RIDE, UserCast((), ("Thunder",)))
    assert "Thunder" not in found.values()
    assert found["We ride at dawn, you and I."] == "Ann"


def test_a_fixed_line_changes_that_line_and_the_untagged_run_after_it() -> None:
    before = speakers(PORCH)
    assert before["Only in August."] == "Pete" and before["Ask anyone in town."] == "Pete"
    after = speakers(PORCH, fixed={quote_index(PORCH, "Only in August"): "Joe"})
    assert after == {
        "Is it always this hot here?": "Mara",  # tagged: the fix does not move it
        "Only in August.": "Joe",  # the fix
        "I don't believe you.": "Mara",
        "Ask anyone in town.": "Joe",  # the turns after it follow the fix
        "I'm asking you.": "Mara",
    }


def test_first_person_names_the_narrator() -> None:
    nell = UserCast((Listed("Nell", (), "female", True),))
    script = attribute(segment(parse_story(Path("letter.txt"), LETTER, "utf-8")), nell)
    said = {LETTER[line.start : line.end]: line.speaker for line in script.lines if line.kind == "dialogue"}
    assert script.narrator == "Nell"
    assert said['"Who is it from?"'] == "Nell" and said['"Then we\'ll go,"'] == "Nell"
    assert said['"Your aunt,"'] == "Sam"


def test_a_listed_gender_decides_pronouns() -> None:
    as_written = UserCast((Listed("Robin", (), "female"), Listed("Alex", (), "male")))
    kettle, stove = "Where's the kettle?", "On the stove, where it always is,"
    assert speakers(KITCHEN, as_written) == {kettle: "Robin", stove: "Alex"}
    swapped = UserCast((Listed("Robin", (), "male"), Listed("Alex", (), "female")))
    assert speakers(KITCHEN, swapped) == {kettle: "Alex", stove: "Robin"}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('quote = "I"\nspeaker = "Joe"', r'quote "I" matches 2 lines \(The Porch ~0:\d\d "I don\'t believe you\."; '
                                        r'The Porch ~0:\d\d "I\'m asking you\."\): quote more of the line'),
        ('quote = "Only in Augsut"\nspeaker = "Joe"', r'quote "Only in Augsut" matches no line of dialogue; nearest: '
                                                      r'The Porch ~0:\d\d "Only in August\."'),
        ('quote = "Only in August"\nspeaker = "Jo"', r"speaker 'Jo' is not in the cast \(did you mean 'Joe'\?\)"),
    ],
    ids=["ambiguous", "unmatched", "misspelt speaker"],
)
def test_a_bad_lines_entry_is_a_one_line_error_naming_file_and_line(tmp_path: Path, entry: str, message: str) -> None:
    story = write(tmp_path / "porch.txt", PORCH)
    voices = write(tmp_path / "voices.toml", f'[characters.Mara]\ngender = "female"\n\n[[lines]]\n{entry}\n')
    for command in (["segment", str(story)], ["cast", str(story)], ["build", str(story), "-o", str(tmp_path / "out")]):
        result = invoke(*command, "--voices", str(voices))
        assert result.exit_code == 1
        assert re.fullmatch(rf"error: {re.escape(str(voices))}:4: {message}.*\n", result.stderr), result.stderr
    assert not (tmp_path / "out").exists()  # nothing half-written


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[lines]]\nquote = "Hi"\n',
         ':1: [[lines]] needs speaker = "...": the start of the line of dialogue and who says it'),
        ('[[lines]]\nquote = "Hi"\nspeaker = "Joe"\nvoice = "en"\n',
         ":1: unknown key 'voice' in [[lines]]: use one of quote, speaker"),
        ('\n[[lines]]\nquote = "Hi"\nspeaker = "A"\n\n[[lines]]\nquote = "hi"\nspeaker = "B"\n',
         ":6: this quote is already fixed at line 2: keep one entry"),
        ('[characters.Paris]\ngender = "female"\n\n[not_characters]\nnames = ["Paris"]\n',
         ":5: 'Paris' is in [not_characters] and is Paris's name: keep it in one place"),
        ("[not_characters]\nnames = \"Paris\"\n", ":2: 'names' must be a list, not 'Paris'"),
        ("[characters.Nell]\nfirst_person = \"yes\"\n", ":2: 'first_person' must be true or false, not 'yes'"),
    ],
)
def test_new_keys_are_checked_like_the_others(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "voices.toml", text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}{message}"


def test_the_new_keys_load(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "voices.toml", (
        '[characters."Tom Reyes"]\naliases = ["Tom", "Reyes"]\ngender = "male"\nfirst_person = true\n\n'
        '[not_characters]\nnames = ["Paris", "Brahms"]\n\n'
        '[[lines]]\nquote = "Where did the pony go?"\nspeaker = "Margaret"\n'
    )))
    tom = config.characters[0]
    assert (tom.name, tom.aliases, tom.gender, tom.first_person, tom.settings.voice) == (
        "Tom Reyes", ("Tom", "Reyes"), "male", True, None)  # no voice needed
    assert config.not_characters == ("Paris", "Brahms")
    assert [(f.quote, f.speaker, f.line) for f in config.lines] == [("Where did the pony go?", "Margaret", 9)]


def test_segment_find_shows_chapter_time_speaker_and_rule(tmp_path: Path) -> None:
    story = write(tmp_path / "porch.txt", PORCH)
    result = invoke("segment", str(story), "--find", "ask", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [re.split(r"\s{2,}", line) for line in lines] == [
        ["1 The Porch", lines[0].split()[3], "narrator", "narration", "Mara asked."],
        ["1 The Porch", lines[1].split()[3], "Pete", "turn-taking", "Ask anyone in town."],
        ["1 The Porch", lines[2].split()[3], "Mara", "turn-taking", "I'm asking you."],
    ]
    times = [line.split()[3] for line in lines]
    assert all(re.fullmatch(r"~\d:\d\d", t) for t in times) and times == sorted(times)  # not built yet: estimated
    nothing = invoke("segment", str(story), "--find", "zebra")
    assert nothing.exit_code == 1 and nothing.stderr == f'error: {story}: no line holds "zebra": try fewer words\n'


def test_cast_write_starts_a_casting_that_keeps_the_speakers(tmp_path: Path) -> None:
    story = write(tmp_path / "letter.txt", LETTER.replace("Sam was", "My brother Sam was"))
    written = tmp_path / "cast.toml"
    assert invoke("cast", str(story), "--write", str(written)).exit_code == 0
    text = written.read_text(encoding="utf-8")
    assert '# 2 lines, first: "Your aunt,"\n[characters.Sam]\ngender = "male"\n' in text
    assert "never names: list them as a character" in text  # an "I" the story never names
    before = invoke("segment", str(story), "--voices", str(tmp_path / "none.toml"))
    assert "none.toml: no such file" in before.stderr  # --voices must exist
    plain = invoke("segment", str(story)).stdout
    again = invoke("segment", str(story), "--voices", str(written)).stdout
    assert re.sub(r"~\d+:\d\d", "", again) == re.sub(r"~\d+:\d\d", "", plain)  # a round trip changes no speaker
    named = write(tmp_path / "named.toml", text + '\n[characters.Nell]\ngender = "female"\nfirst_person = true\n')
    assert "  Nell: Who is it from?" in invoke("segment", str(story), "--voices", str(named)).stdout


@pytest.mark.needs_espeak
@pytest.mark.needs_ffmpeg
def test_a_rebuild_after_one_fix_synthesizes_only_the_changed_clips(tmp_path: Path) -> None:
    stories = tmp_path / "book"
    stories.mkdir()
    write(stories / "1 - porch.txt", PORCH)
    write(stories / "2 - kitchen.txt", KITCHEN)
    casting = '[book]\ntitle = "Porch"\n\n[characters.Mara]\ngender = "female"\n'
    voices = write(tmp_path / "voices.toml", casting)
    options = BuildOptions((stories,), tmp_path / "out", voices, jobs=2)
    first = build(options)
    assert first.clips_synthesized == first.clips_total and not first.recast
    write(voices, casting + '\n[[lines]]\nquote = "Only in August"\nspeaker = "Joe"\n')
    fixed = build(options)
    # the fix and the turn after it that follows it: two lines, two clips, nothing else
    assert fixed.clips_synthesized == 2
    assert [(r.lines, r.why) for r in fixed.recast] == [(2, f"[[lines]] in {voices}:7")]
    assert f"Speakers changed: 2 lines (2 lines: [[lines]] in {voices}:7)" in summary(fixed)
    again = build(options)
    assert again.clips_synthesized == 0 and not again.recast
    found = invoke("segment", str(stories), "--voices", str(voices), "-o", str(tmp_path / "out"), "--find", "August")
    line = r"1 The Porch\s+0:\d\d\s+Joe\s+fixed\s+Only in August\.\n"  # built: the exact time, no ~
    assert re.fullmatch(line, found.stdout), found.stdout
    # a mistyped quote after a build: the nearest lines with the times they are heard at in it
    write(voices, casting + '\n[[lines]]\nquote = "Only in Augst"\nspeaker = "Joe"\n')
    wrong = invoke("segment", str(stories), "--voices", str(voices), "-o", str(tmp_path / "out"))
    assert wrong.exit_code == 1
    assert re.search(r'nearest: The Porch 0:\d\d "Only in August\."', wrong.output), wrong.output


def test_a_description_in_a_tag_is_one_of_the_listed_cast() -> None:
    text = (
        "I walked down the lane with Ferris. The evening was warm and I was tired.\n\n"
        '"A fine evening," said my companion.\n'
    )
    assert speakers(text) == {"A fine evening,": "my companion"}  # found alone: someone unnamed
    user = UserCast((Listed("Ferris", gender="male"), Listed("Nell", gender="female", first_person=True)))
    assert speakers(text, user) == {"A fine evening,": "Ferris"}  # the user listed the people: one of them


def test_a_description_the_story_gave_someone_unnamed_stays_theirs() -> None:
    text = (
        "Kate sat by the fire when a thin girl in a grey shawl came to the door.\n\n"
        '"Come in," said Kate.\n\n'
        '"I cannot stay," said the girl. "They will miss me."\n\n'
        '"Who will?" said Kate.\n\n'
        '"The men at the inn," said the girl.\n'
    )
    user = UserCast((Listed("Kate", gender="female"), Listed("Nell", gender="female")))
    found = speakers(text, user)
    # not Kate, the woman the tag before named: the girl at the door, whoever she turns out to be
    assert found["I cannot stay,"] == found["The men at the inn,"] == "a thin girl"
    assert found["Come in,"] == found["Who will?"] == "Kate"


def test_a_description_set_beside_a_name_outweighs_a_listed_role() -> None:
    surgery = (
        "Mary waited on the landing. Mr. Crane, a surgeon from the next village, came up the stairs "
        "with his bag.\n\n"
        '"How is he?" asked Mary.\n\n'
        '"Better than I feared," said the doctor.\n'
    )
    user = UserCast(
        (Listed("Mary", gender="female"), Listed("Mr. Crane", gender="male"), Listed("The Doctor", gender="male"))
    )
    assert speakers(surgery, user)["Better than I feared,"] == "Mr. Crane"  # the doctor of this scene
    unnamed = surgery.replace("Mr. Crane, a surgeon from the next village,", "A man")
    assert speakers(unnamed, user)["Better than I feared,"] == "The Doctor"  # the listed role
    another = surgery.replace("came up the stairs", "came up the stairs, and a doctor from town after him,")
    assert speakers(another, user)["Better than I feared,"] == "The Doctor"  # someone new of that calling since


def test_a_given_name_two_listed_characters_share_is_the_one_in_view() -> None:
    text = (
        "John Carter walked into the stable, where Sam was brushing the mare.\n\n"
        '"Is she lame?" asked John.\n\n'
        '"Not she," said Sam.\n\n'
        "Upstairs, John Pell sat in the study with Mary, reading the paper.\n\n"
        '"Shall we go out?" said John.\n\n'
        '"If you like," said Mary.\n'
    )
    user = UserCast(
        (
            Listed("John Carter", ("John",), "male"),
            Listed("John Pell", gender="male"),
            Listed("Sam", gender="male"),
            Listed("Mary", gender="female"),
        )
    )
    found = speakers(text, user)
    assert found["Is she lame?"] == "John Carter"
    assert found["Shall we go out?"] == "John Pell"  # not the John of the stable: the John in the study


def test_the_family_name_of_one_listed_character_is_theirs() -> None:
    text = (
        "Inspector Hale stood by the fire. Peter Brown sat in the corner with his pipe, "
        "and Mary Lane poured the tea.\n\n"
        '"You did this, Brown," said the inspector.\n\n'
        '"I never did."\n\n'
        "Brown knocked out his pipe on the grate, and a small brown dog looked up.\n"
    )
    user = UserCast(
        (
            Listed("Inspector Hale", gender="male"),
            Listed("Peter Brown", gender="male"),
            Listed("Mary Lane", gender="female"),
        )
    )
    assert speakers(text, user)["I never did."] == "Peter Brown"  # the one called by his family name answers


def test_a_full_name_several_listed_names_hold_is_the_first_listed() -> None:
    text = 'Tom Reyes came in from the boat.\n\n"The nets are torn," said Tom Reyes.\n'
    assert speakers(text) == {"The nets are torn,": "Tom Reyes"}
    user = UserCast((Listed("Tom Reyes the elder", gender="male"), Listed("Tom Reyes the younger", gender="male")))
    assert speakers(text, user) == {"The nets are torn,": "Tom Reyes the elder"}  # listed, not a new character


def test_the_one_who_answers_is_one_of_the_listed_people() -> None:
    text = (
        "Kate sat with Ann by the window. Down in the street Tom Dixon was loading the cart, and he waved.\n\n"
        '"Will he write to us?" said Kate.\n\n'
        '"Not he."\n'
    )
    assert speakers(text)["Not he."] == "Tom Dixon"  # found alone: the last one named who did something
    user = UserCast((Listed("Kate", gender="female"), Listed("Ann", gender="female")))
    assert speakers(text, user)["Not he."] == "Ann"  # the user listed who talks: Tom is only seen


def test_a_name_called_that_nobody_listed_makes_no_one_answer() -> None:
    text = (
        "Kate and Ann sat in the parlour. Rover lay by the fire, and Rover snored.\n\n"
        '"Shall we walk, Rover?" said Kate.\n\n'
        '"Not in this rain."\n'
    )
    assert speakers(text)["Not in this rain."] == "Rover"  # found alone: the one called answers
    user = UserCast((Listed("Kate", gender="female"), Listed("Ann", gender="female")))
    assert speakers(text, user)["Not in this rain."] == "Ann"  # the dog is no one the user lists


def test_someone_unnamed_who_talks_is_one_of_the_listed_people() -> None:
    ferry = (
        "The boat lay at the foot of the steps, and a ferryman sat in it mending a net.\n\n"
        '"Cross, sir?" said a ferryman.\n'
    )
    assert speakers(ferry) == {"Cross, sir?": "a ferryman"}  # found alone: someone unnamed
    user = UserCast((Listed("The Ferryman", gender="male"), Listed("Tom", gender="male")))
    assert speakers(ferry, user) == {"Cross, sir?": "The Ferryman"}  # the one listed by that description
    lane = (
        "Tom Grey waited at the inn door for Mrs. Pell. At last a woman in a grey shawl came up the lane.\n\n"
        '"Is the coach gone?" said the woman.\n\n'
        '"An hour since," said Tom.\n'
    )
    assert speakers(lane)["Is the coach gone?"] == "a woman"
    user = UserCast((Listed("Mrs. Pell", gender="female"), Listed("Tom Grey", gender="male")))
    assert speakers(lane, user)["Is the coach gone?"] == "Mrs. Pell"  # the listed woman of the scene


def test_a_shared_given_name_is_the_one_whose_family_is_in_view() -> None:
    river = "The river ran brown and slow under the bridge, and the rain came down on the fields all day. " * 36
    text = (
        "Charles Grey kept the mill above the town.\n\n" + river + "\n\n"
        "Mary Pell was sewing by the fire when the door opened.\n\n"
        '"You are late, Charles," she said.\n\n'
        '"The roads were bad," said Charles.\n'
    )
    user = UserCast(
        (
            Listed("Charles Grey", gender="male"),
            Listed("Charles Pell", gender="male"),
            Listed("Mary Pell", gender="female"),
        )
    )
    assert speakers(text, user)["The roads were bad,"] == "Charles Pell"  # the miller is pages away: Mary's Charles
