"""Speakers the text does not name when they speak: voices recognised later, descriptions named
later, self-introductions and remembered voices."""

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from audiobook.attribution import unnamed
from audiobook.attribution.attribute import attribute, context
from audiobook.attribution.characters import Cast
from audiobook.attribution.context import Context, Decision
from audiobook.attribution.unnamed import (
    MEMORY,
    identify_descriptions,
    identify_voices,
    memories,
    self_introduced,
    voice_gender,
)
from audiobook.load import parse_story
from audiobook.segment import segment


def ctx_of(text: str) -> Context:
    return context(segment(parse_story(Path("story.txt"), text, "utf-8")))


def quotes(ctx: Context) -> list[int]:
    return [i for i, s in enumerate(ctx.segs) if s.kind == "dialogue"]


def test_self_introduced_names_a_known_character() -> None:
    cast = Cast(forms={"Miku": "Miku", "Hatsune Miku": "Miku"})
    assert self_introduced('"I\'m Miku! You\'re in my class."', cast) == "Miku"
    assert self_introduced('"My name is Hatsune Miku."', cast) == "Miku"
    assert self_introduced('"My name, sir, is Miku."', cast) == "Miku"  # a word to the listener inside
    assert self_introduced('"I am tired."', cast) is None
    assert self_introduced('"I\'m Rin."', cast) is None  # nobody the story knows


def test_a_name_on_the_line_is_the_caller_saying_who_they_are() -> None:
    cast = Cast(forms={"Miku": "Miku", "Kaito": "Kaito"})
    assert self_introduced('"This is Kaito speaking. I have just seen her."', cast) == "Kaito"  # on the telephone
    assert self_introduced('"Hullo? It\'s Miku here."', cast) == "Miku"
    assert self_introduced('"This is Kaito speaking to the crowd at last"', cast) is None  # no end to the words
    assert self_introduced('"Is Miku here?"', cast) is None


def test_its_me_and_a_name_is_the_speaker_saying_who_they_are() -> None:
    cast = Cast(forms={"Miku": "Miku", "Kaito": "Kaito"})
    assert self_introduced('"Kaito, dear, this _is_ me, Miku."', cast) == "Miku"  # on the telephone
    assert self_introduced('"Open the door! It\'s only me, Miku."', cast) == "Miku"
    assert self_introduced('"Give it to me, Miku."', cast) is None  # Miku is called


def test_voice_gender_from_the_narration_after() -> None:
    assert voice_gender("His voice gave away his identity.") == "male"
    assert voice_gender("She knew her voice at once; her voice had not changed.") == "female"
    assert voice_gender("The room was silent.") is None


VOICE = """The stage was empty. Miku waited by the piano, and she hummed to herself.

"You came back," said a familiar voice. His voice gave away his identity at once.

Miku turned. Kaito stood in the doorway. Kaito had not changed.

"Of course I came back."
"""


def test_a_voice_is_the_character_named_right_after_it() -> None:
    ctx = ctx_of(VOICE)
    q = quotes(ctx)
    ctx.resolver.voices.add("a familiar voice")
    ctx.resolver.nominal_gender["a familiar voice"] = "male"
    ctx.decided[q[0]] = Decision("a familiar voice", "speech-verb", 0.95)
    identify_voices(ctx)
    assert ctx.decided[q[0]] == Decision("Kaito", "speech-verb", 0.95)  # the rule that found the line stays


def test_a_voice_nobody_names_stays_a_voice() -> None:
    text = VOICE.replace("Miku turned. Kaito stood in the doorway. Kaito had not changed.", "The lights went out.")
    ctx = ctx_of(text)
    q = quotes(ctx)
    ctx.resolver.voices.add("a familiar voice")
    ctx.decided[q[0]] = Decision("a familiar voice", "speech-verb", 0.95)
    identify_voices(ctx)
    assert ctx.speaker(q[0]) == "a familiar voice"


PARSON = """The fair was crowded. Simon kept the apple stall. Simon was busy all morning.

"A fine day," said the parson.

"It is, sir," said Simon.

"I am Parson Tringham, of the church on the hill."
"""


def test_a_description_is_the_name_it_gives_itself() -> None:
    ctx = ctx_of(PARSON)
    q = quotes(ctx)
    ctx.resolver.nominal_gender["the parson"] = "male"
    ctx.decided[q[0]] = Decision("the parson", "speech-verb", 0.95)
    ctx.decided[q[1]] = Decision("Simon", "speech-verb", 0.95)
    ctx.decided[q[2]] = Decision("the parson", "turn-taking", 0.5)
    identify_descriptions(ctx)
    assert ctx.speaker(q[0]) == ctx.speaker(q[2]) == "Parson Tringham"
    assert ctx.speaker(q[1]) == "Simon"
    assert "the parson" in ctx.cast.aliases["Parson Tringham"]


def test_a_group_is_no_one_person() -> None:
    text = PARSON.replace("the parson", "the strangers").replace("I am Parson Tringham", "We are Parson Tringham's men")
    ctx = ctx_of(text)
    q = quotes(ctx)
    ctx.resolver.nominal_gender["the strangers"] = None
    ctx.decided[q[0]] = Decision("the strangers", "speech-verb", 0.95)
    identify_descriptions(ctx)
    assert ctx.speaker(q[0]) == "the strangers"


MEMORY_TEXT = """I sat alone in my room. I listened to the rain and I remembered the old house.

"You're worthless."

I closed my eyes. I tried to sleep.
"""


def test_a_lone_quote_nobody_present_says_is_a_memory() -> None:
    ctx = ctx_of(MEMORY_TEXT)
    assert ctx.narrator is not None
    memories(ctx)
    (q,) = quotes(ctx)
    assert ctx.decided[q] == Decision(MEMORY, "memory", 0.4)


def test_a_quote_with_someone_present_is_no_memory() -> None:
    ctx = ctx_of(MEMORY_TEXT.replace("I closed my eyes.", "Mara closed the door."))
    memories(ctx)
    assert all(i not in ctx.decided for i in quotes(ctx))


def test_a_remembered_call_for_a_parent_is_the_narrator_as_a_child() -> None:
    ctx = ctx_of(MEMORY_TEXT.replace("You're worthless.", "Mommy, someday I will learn to fly."))
    memories(ctx)
    (q,) = quotes(ctx)
    assert ctx.decided[q] == Decision(ctx.narrator or "", "memory", 0.4)


def test_a_remembered_voice_is_not_the_voice_a_later_line_turns_out_to_be() -> None:
    # "a voice" is both the remembered voices' speaker and a voice recognised later: Mrs. Hale's
    # voice at the mill is hers, the voice remembered in the garden stays a voice
    text = (
        "I sat alone in the garden that evening and thought of the old days at the farm.\n\n"
        '"Come in now, it is late."\n\n'
        "I had heard those words a hundred times as a boy. I went up to my room and slept.\n\n"
        "The next morning I walked down to the village. I knocked at the door of the mill.\n\n"
        '"Who is there?" said a voice. It was the voice of Mrs. Hale, who kept the mill, and she came out to me.\n'
    )
    script = attribute(segment(parse_story(Path("story.txt"), text, "utf-8")))
    assert [(line.speaker, line.rule) for line in script.lines if line.kind == "dialogue"] == [
        (MEMORY, "memory"),
        ("Mrs. Hale", "speech-verb"),
    ]


def test_no_memories_in_a_third_person_story() -> None:
    ctx = ctx_of(MEMORY_TEXT.replace("I ", "Kaito ").replace("my ", "his "))
    assert ctx.narrator is None
    memories(ctx)
    assert ctx.decided == {}




SUPPER = """My uncle sat at the head of the table, and old Mr. Hale took his chair by the fire. Jack was late.

"Boys should be out in the air," said Mr. Hale. "Am I right, Jack?"

"That's my principle too," said my uncle. "Let him run about."

"Not for me, thank you," said Mr. Hale.
"""


def test_a_description_answering_to_a_name_is_that_name_by_its_first_name_gender() -> None:
    # nothing in the text says whether Jack is a man or a woman, but the name does: "my uncle" answers to it
    ctx = ctx_of(SUPPER)
    q = quotes(ctx)
    ctx.resolver.nominal_gender["my uncle"] = "male"
    ctx.decided[q[0]] = Decision("Mr. Hale", "speech-verb", 0.95)
    ctx.decided[q[1]] = Decision("Mr. Hale", "same-paragraph", 0.85)
    ctx.decided[q[2]] = Decision("my uncle", "speech-verb", 0.95)
    ctx.decided[q[3]] = Decision("my uncle", "same-paragraph", 0.85)
    ctx.vocatives[ctx.segs[q[1]].paragraph] = ["Jack"]
    identify_descriptions(ctx)
    assert ctx.resolver.gender("Jack") is None and ctx.resolver.voice_gender("Jack") == "male"
    assert [ctx.speaker(i) for i in q] == ["Mr. Hale", "Mr. Hale", "Jack", "Jack", None]
    assert "my uncle" in ctx.cast.aliases["Jack"]


PADDOCK = """I lived in a meadow with my mother. I have never forgotten my mother's kind ways; she was a wise
old mare, and everyone at the farm was fond of her. Her name was Bramble.

"Keep away from the hedge," said my mother. "The dogs are out today."

"Why?" I asked.

"Because they run without looking," she said.
"""


def test_a_description_takes_the_name_the_narration_gives_it() -> None:
    script = attribute(segment(parse_story(Path("story.txt"), PADDOCK, "utf-8")))
    said = [line.speaker for line in script.lines if line.kind == "dialogue"]
    assert said[:2] == ["Bramble", "Bramble"] and said[-1] == "Bramble"
    assert "my mother" in next(c.aliases for c in script.characters if c.name == "Bramble")


def test_a_name_given_in_a_quote_or_to_an_indefinite_description_names_nobody() -> None:
    quoted = PADDOCK.replace("Her name was Bramble.", '"Her name was Bramble," the farmer told us.')
    said = [line.speaker for line in attribute(segment(parse_story(Path("s.txt"), quoted, "utf-8"))).lines]
    assert "Bramble" not in said


PIER = """Ansel sat on the pier with his coffee. A small boy in a blue cap came along the boards and stopped
in front of him.

"Can I have your sugar?" he asked.

"You may take one lump," said Ansel.

"I want two," said the child. "Sugar is the best thing there is."

"Then take two," said Ansel.

A young lady came down the pier towards them. The little boy was jumping from one board to the next.

"Tobias," said the young lady, "come away from the edge."

"I won't fall," replied Tobias.
"""


def test_a_description_is_the_name_it_is_called_by_in_view() -> None:
    script = attribute(segment(parse_story(Path("story.txt"), PIER, "utf-8")))
    speakers = [line.speaker for line in script.lines if line.kind == "dialogue"]
    # the boy, the child and the little boy are one, and the young lady calls him Tobias
    assert speakers[0] == speakers[2] == speakers[3] == speakers[-1] == "Tobias"
    assert speakers[1] == speakers[4] == "Ansel"


def test_a_name_the_description_calls_itself_is_not_its_name() -> None:
    text = PIER.replace('"Tobias," said the young lady,', '"Tobias," cried the little boy to his dog,').replace(
        '"I won\'t fall," replied Tobias.', "The dog ran to him."
    )
    speakers = [line.speaker for line in attribute(segment(parse_story(Path("story.txt"), text, "utf-8"))).lines]
    assert "Tobias" not in speakers and speakers.count("a small boy") == 5  # he calls the dog Tobias


TABLE = """The guests of the inn sat down to dinner. Mr. Penrose told Nell about the hills.

"You must walk up to the old tower on the first fine day," he said.

"No!" cried a voice from the far end of the table. "Mr. Penrose, you are wrong. She must go to the lake."

Nell looked down the table. Above all the talk rose the voice of the tall lady, crying:
"""


def test_a_voice_is_the_one_whose_voice_the_narration_says_it_was() -> None:
    script = attribute(segment(parse_story(Path("story.txt"), TABLE, "utf-8")))
    speakers = [line.speaker for line in script.lines if line.kind == "dialogue"]
    assert speakers[1] == speakers[2] == "the tall lady"
    named = TABLE.replace("the voice of the tall lady", "the voice of Mrs. Hale")
    speakers = [line.speaker for line in attribute(segment(parse_story(Path("story.txt"), named, "utf-8"))).lines]
    assert "Mrs. Hale" in speakers and "a voice" not in speakers


TRAIN = """Nora sat by the window of the train and watched the fields go by.

"That," said a voice at her shoulder, "is the prettiest town on the line."

"Is it?" she answered.

The train was just leaving the station. For some time she had been aware of a man behind her. He leaned
forward over her seat.

"You have not been this way before?" he asked.
"""


def test_a_voice_is_the_someone_the_narration_introduces_next() -> None:
    script = attribute(segment(parse_story(Path("story.txt"), TRAIN, "utf-8")))
    speakers = [line.speaker for line in script.lines if line.kind == "dialogue"]
    assert speakers[0] == speakers[1] == "a man"  # the voice at her shoulder: the man behind her
    named = TRAIN.replace("aware of a man behind her", "aware of Mr. Dorr behind her, and of a man by the door")
    speakers = [line.speaker for line in attribute(segment(parse_story(Path("story.txt"), named, "utf-8"))).lines]
    assert "a man" not in speakers  # someone named first: not the man by the door


@settings(max_examples=300, deadline=None)
@given(st.from_regex(unnamed._SELF_INTRO))
def test_every_self_introduction_holds_a_word_of_the_quick_check(text: str) -> None:
    """`self_introduced` tries its pattern only on quotes holding one of `_INTRODUCING`: a form added to the
    pattern without its words there would never be found. Any text the pattern matches must pass the check."""
    assert any(words in text for words in unnamed._INTRODUCING), text


def test_a_quote_across_the_narrators_nod_is_a_conversation_not_a_memory() -> None:
    text = (
        "I walked with my old friend along the quay until the rain came.\n\n"
        '"You knew the ship was late?"\n\n'
        "I nodded.\n\n"
        '"Then you knew before any of us."\n'
    )
    ctx = ctx_of(text)
    assert ctx.narrator is not None
    memories(ctx)
    assert all(ctx.decided.get(i) is None or ctx.decided[i].rule != "memory" for i in quotes(ctx))
