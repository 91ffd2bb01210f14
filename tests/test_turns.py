"""Turn-taking: untagged lines of a conversation alternate from the lines whose speaker is known."""

from pathlib import Path

from audiobook.attribution import attribute
from audiobook.attribution.attribute import context
from audiobook.attribution.context import Context, Decision
from audiobook.attribution.turns import runs, turn_taking
from audiobook.load import parse_story
from audiobook.segment import segment

FIRESIDE = """Ann and Tom sat by the fire. Ann poked the coals while Tom watched her.

"It is cold," said Ann.

"Colder tomorrow."

"Then we stay in."

"If you like."

The clock struck nine. Nobody moved for an hour.

"Bed," said Tom.

"Not yet."
"""


def ctx_of(text: str) -> Context:
    return context(segment(parse_story(Path("story.txt"), text, "utf-8")))


def quotes(ctx: Context) -> list[int]:
    return [i for i, s in enumerate(ctx.segs) if s.kind == "dialogue"]


def speakers(ctx: Context) -> list[str | None]:
    return [ctx.speaker(i) for i in quotes(ctx)]


def test_runs_are_consecutive_paragraphs_of_dialogue() -> None:
    ctx = ctx_of(FIRESIDE)
    conversations, continued = runs(ctx)
    first = ctx.segs[quotes(ctx)[0]].paragraph
    assert conversations[0] == [first, first + 1, first + 2, first + 3]
    assert len(conversations) == 2  # narration between ends a conversation
    assert continued == {}


def test_speakers_alternate_from_a_tagged_line() -> None:
    ctx = ctx_of(FIRESIDE)
    q = quotes(ctx)
    ctx.decided[q[0]] = Decision("Ann", "speech-verb", 0.95)
    ctx.decided[q[4]] = Decision("Tom", "speech-verb", 0.95)
    turn_taking(ctx)
    assert speakers(ctx) == ["Ann", "Tom", "Ann", "Tom", "Tom", "Ann"]
    rules = ["speech-verb", "turn-taking", "turn-taking", "turn-taking", "speech-verb", "turn-taking"]
    assert [ctx.decided[i].rule for i in q] == rules
    assert all(ctx.decided[i].confidence < 0.9 for i in q if ctx.decided[i].rule == "turn-taking")


def test_a_line_can_be_anchored_after_the_lines_it_decides() -> None:
    ctx = ctx_of(FIRESIDE)
    q = quotes(ctx)
    ctx.decided[q[3]] = Decision("Tom", "speech-verb", 0.95)  # the run's last line: count backwards
    turn_taking(ctx)
    assert speakers(ctx)[:4] == ["Ann", "Tom", "Ann", "Tom"]


def test_the_one_addressed_answers() -> None:
    text = FIRESIDE.replace('"Colder tomorrow."', '"Colder tomorrow, Ann."')
    ctx = ctx_of(text)
    q = quotes(ctx)
    ctx.vocatives[ctx.segs[q[1]].paragraph] = ["Ann"]
    turn_taking(ctx)
    assert ctx.speaker(q[2]) == "Ann" and ctx.decided[q[2]].rule == "vocative"
    assert ctx.speaker(q[1]) != "Ann"  # nobody calls themselves by name


def test_a_run_without_any_anchor_alternates_the_two_last_named() -> None:
    ctx = ctx_of(FIRESIDE)
    turn_taking(ctx)
    first_run = speakers(ctx)[:4]
    assert set(first_run) == {"Ann", "Tom"}
    assert first_run[0] != first_run[1] and first_run[0] == first_run[2]


def test_a_paragraph_continuing_a_quotation_is_the_same_turn() -> None:
    text = """Ann and Tom sat by the fire.

"It is cold," said Ann. "I remember a winter when the river froze

"and we walked across it to the mill."

"I remember too."
"""
    ctx = ctx_of(text)
    q = quotes(ctx)
    ctx.decided[q[0]] = Decision("Ann", "speech-verb", 0.95)
    turn_taking(ctx)
    assert ctx.segs[q[2]].continues
    assert ctx.decided[q[2]] == Decision("Ann", "continued-quote", 0.8)
    assert ctx.speaker(q[3]) == "Tom"  # the continued paragraph is not a turn of its own


def test_a_weak_opening_guess_gives_way_to_the_runs_surest_tag() -> None:
    ctx = ctx_of(FIRESIDE)
    q = quotes(ctx)
    ctx.decided[q[0]] = Decision("Tom", "introduced", 0.6)  # a guess from the narration before
    ctx.decided[q[2]] = Decision("Ann", "speech-verb", 0.95)  # two turns on: the opening line is Ann's too
    turn_taking(ctx)
    assert ctx.decided[q[0]].speaker == "Ann" and ctx.decided[q[0]].rule == "turn-taking"
    assert ctx.decided[q[0]].confidence < 0.65


def test_a_weak_opening_guess_gives_way_to_the_nearest_tag_though_others_join_later() -> None:
    """`He told her the news.` / `"What's new?"` (his, by the lead-in) / … / `"Dear me," Ann said.`:
    two turns on, the tag says the opening line is Ann's, whoever joins the talk after it."""
    text = (
        "Tom told Ann the news.\n\n"
        + "\n\n".join(f'"Line {n}."' for n in range(7))
        + "\n"
    )
    ctx = ctx_of(text)
    q = quotes(ctx)
    ctx.decided[q[0]] = Decision("Tom", "introduced", 0.6)  # a guess from the narration before
    ctx.decided[q[2]] = Decision("Ann", "speech-verb", 0.95)  # two turns on: the opening line is Ann's
    for k, who in ((4, "Bill"), (5, "Jim"), (6, "Sue")):  # then three more people talk
        ctx.decided[q[k]] = Decision(who, "speech-verb", 0.97)
    turn_taking(ctx)
    assert ctx.speaker(q[0]) == "Ann"


def test_a_line_calling_the_last_but_one_speaker_goes_to_a_third_voice() -> None:
    text = """The three of them stood in the hall.

"Where were you at ten?" said Ruth.

"In the garden," said Walter.

"She was there too," said Hugh.

"And after that, Walter?"
"""
    ctx = ctx_of(text)
    q = quotes(ctx)
    ctx.decided[q[0]] = Decision("Ruth", "speech-verb", 0.95)
    ctx.decided[q[1]] = Decision("Walter", "speech-verb", 0.95)
    ctx.decided[q[2]] = Decision("Hugh", "speech-verb", 0.95)
    ctx.vocatives[ctx.segs[q[3]].paragraph] = ["Walter"]
    turn_taking(ctx)
    # not Walter (called by name), not Hugh (who just spoke): the one who asked before
    assert ctx.speaker(q[3]) == "Ruth"


def test_of_two_called_the_one_called_last_answers() -> None:
    text = (
        "Carol, Dan and Bea sat writing letters.\n\n"
        '"That is no praise for Dan, Carol," cried Bea, "he writes slowly. Do you not, Dan?"\n\n'
        '"My style is not yours."\n'
    )
    script = attribute(segment(parse_story(Path("story.txt"), text, "utf-8")))
    assert [line.speaker for line in script.lines if line.kind == "dialogue"][-1] == "Dan"


STABLE = """Tom Hale kept a mare called Ginger. Every evening he rode Ginger along the river, and every
evening Mary Hale waited for him with supper.

"You are late," said Mary.

"The train was slow," said Tom.

Mary set the table. Tom came back from the stable, where he had left Ginger with a bucket of
oats and a blanket over Ginger.

"Are you hungry?" asked Mary.

"Starving."

"There is soup."
"""


def test_the_one_who_answers_is_someone_who_talks_not_the_last_name() -> None:
    ctx = ctx_of(STABLE)
    q = quotes(ctx)
    for i, who in ((q[0], "Mary"), (q[1], "Tom"), (q[2], "Mary")):
        ctx.decided[i] = Decision(who, "speech-verb", 0.95)
    turn_taking(ctx)
    # Ginger is named last before the question, but only Tom and Mary ever say anything
    assert speakers(ctx)[3:] == ["Tom", "Mary"]


SCENES = """Ann and Tom sat by the fire.

"It is cold," said Ann.

"Colder tomorrow."

* * *

"Where is everybody?" asked Jo.

"Gone to bed."

"Then we talk in the morning."



"As you like."
"""


def test_a_scene_divider_ends_a_conversation_and_a_wide_gap_before_a_line_does_not() -> None:
    ctx = ctx_of(SCENES)
    conversations, _ = runs(ctx)
    paragraphs = [[ctx.segs[i].paragraph for i in quotes(ctx)][k] for k in (0, 2, 5)]
    assert [c[0] for c in conversations] == paragraphs[:2]  # a new conversation after `* * *`
    assert len(conversations[1]) == 4  # the gap before "As you like." is a page break: the talk goes on


INQUEST = """I went to the inquest with my friend Poirot. I had never seen one before, and I was nervous.

The Coroner was a brisk little man. He turned to Mr. Grey, who stood by the window.

"You were at home that night?" asked the Coroner.

"At home."

"Alone?"

"Quite alone."
"""


def test_a_first_person_narrator_who_only_watches_is_nobodys_partner() -> None:
    ctx = ctx_of(INQUEST)
    assert ctx.narrator is not None
    q = quotes(ctx)
    ctx.decided[q[0]] = Decision("Coroner", "speech-verb", 0.95)
    turn_taking(ctx)
    assert speakers(ctx) == ["Coroner", "Mr. Grey", "Coroner", "Mr. Grey"]


def test_a_first_person_narrator_in_the_scene_answers() -> None:
    ctx = ctx_of(INQUEST.replace("He turned to Mr. Grey", "He turned to me and then to Mr. Grey"))
    q = quotes(ctx)
    ctx.decided[q[0]] = Decision("Coroner", "speech-verb", 0.95)
    turn_taking(ctx)
    assert speakers(ctx)[1] == ctx.narrator


GATE = """Mr. Lane waited at the gate. Anna came down the road with her basket, and Mrs. Dale walked behind her.

"Is the road to the mill open?" Anna asked him.

"Open since noon."

"Then we go by the mill."
"""


def test_the_one_a_line_is_said_to_answers_if_of_that_gender() -> None:
    # Mrs. Dale is the last named, but Anna asks "him": the man at the gate answers
    assert _speakers_of(GATE) == ["Anna", "Mr. Lane", "Anna"]
    # and so with a word of address
    sir = GATE.replace('open?" Anna asked him.', 'open, sir?" Anna asked.')
    assert _speakers_of(sir) == ["Anna", "Mr. Lane", "Anna"]
    # with neither, the last named of those about answers, as before
    plain = GATE.replace('open?" Anna asked him.', 'open?" Anna asked.')
    assert _speakers_of(plain) == ["Anna", "Mrs. Dale", "Anna"]


def _speakers_of(text: str) -> list[str | None]:
    script = attribute(segment(parse_story(Path("story.txt"), text, "utf-8")))
    return [line.speaker for line in script.lines if line.kind == "dialogue"]


def test_a_tag_says_whom_a_line_is_said_to() -> None:
    from audiobook.attribution.address_words import told_gender

    assert told_gender(" she asked him.") == "male"
    assert told_gender(", he said to her gently, ") == "female"
    assert told_gender(" he told her mother.") is None  # someone's mother, not her
    assert told_gender(" he said.") is None


TELEPHONE = """Mr. Hale had not written to the house for years. The telephone rang in the hall, and Kaito
went to answer it. Miku was calling from town; she sounded tired.

"Hello? Are you still up?"

"Yes. We had a letter from a man called Mr. Hale this morning."

"Mr. Hale? How very odd."

"Why odd?"

"He never writes to anyone."
"""


def test_a_name_asked_back_from_the_line_before_is_echoed_not_called() -> None:
    # "Mr. Hale?" repeats the name the caller just gave: it does not make Mr. Hale the one who answers
    assert _speakers_of(TELEPHONE) == ["Miku", "Kaito", "Miku", "Kaito", "Miku"]


DESK = """Mr. Grey sat at the desk, writing. Ellen watched him from the sofa.

"You write very fast," said Ellen.

Mr. Grey made no answer.

"Are you writing to your sister?"

"To my brother."
"""


def test_the_one_who_made_no_answer_does_not_speak_next() -> None:
    # `Mr. Grey made no answer.` leads into the next line: not his, but hers, who spoke before the silence
    assert _speakers_of(DESK) == ["Ellen", "Ellen", "Mr. Grey"]
    assert _speakers_of(DESK.replace("made no answer", "said never a word")) == ["Ellen", "Ellen", "Mr. Grey"]
    assert _speakers_of(DESK.replace("made no answer", "shook his head in silent reproach")) == [
        "Ellen", "Ellen", "Mr. Grey"
    ]


def test_a_silence_that_ends_in_a_lead_in_is_a_tag() -> None:
    # `Mr. Grey was silent and then said:` leads into his line: the silence is over
    desk = DESK.replace("Mr. Grey made no answer.", "Mr. Grey was silent and then said:")
    assert _speakers_of(desk)[1] == "Mr. Grey"


def test_a_line_tagged_she_is_never_a_mans_guess() -> None:
    from audiobook.attribution.addressed import tagged_genders

    text = (
        "Ellen and Mr. Grey sat by the window.\n\n"
        '"It is late," said Ellen.\n\n'
        '"Not so late."\n\n'
        '"Being so tired," she said quietly.\n\n'
        '"Then go up."\n'
    )
    ctx = ctx_of(text)
    q = quotes(ctx)
    ctx.decided[q[0]] = Decision("Ellen", "speech-verb", 0.95)
    ctx.decided[q[1]] = Decision("Mr. Grey", "turn-taking", 0.55)
    ctx.decided[q[2]] = Decision("Mr. Grey", "turn-taking", 0.55)  # a guess against its own tag
    ctx.decided[q[3]] = Decision("Mr. Grey", "turn-taking", 0.55)  # no tag: left alone
    tagged_genders(ctx)
    assert speakers(ctx) == ["Ellen", "Mr. Grey", "Ellen", "Mr. Grey"]
    ctx.decided[q[0]] = Decision("Mr. Grey", "speech-verb", 0.95)
    ctx.decided[q[2]] = Decision("Mr. Grey", "turn-taking", 0.55)
    tagged_genders(ctx)
    assert speakers(ctx) == ["Mr. Grey", "Mr. Grey", None, "Mr. Grey"]  # no woman near: no one


def test_a_line_led_in_by_a_she_is_never_a_mans_guess() -> None:
    from audiobook.attribution.addressed import tagged_genders

    text = (
        "Ellen and Mr. Grey sat by the window.\n\n"
        '"It is late," said Ellen.\n\n'
        '"Not so late."\n\n'
        'The clock struck, and she said to him at the window, with a yawn, "Then I shall go up."\n\n'
        '"Good night."\n'
    )
    ctx = ctx_of(text)
    q = quotes(ctx)
    ctx.decided[q[0]] = Decision("Ellen", "speech-verb", 0.95)
    ctx.decided[q[1]] = Decision("Mr. Grey", "turn-taking", 0.55)
    ctx.decided[q[2]] = Decision("Mr. Grey", "same-paragraph", 0.85)  # a guess against its own lead-in
    ctx.decided[q[3]] = Decision("Mr. Grey", "turn-taking", 0.55)
    tagged_genders(ctx)
    assert speakers(ctx) == ["Ellen", "Mr. Grey", "Ellen", "Mr. Grey"]


def _vocatives_of(text: str) -> list[list[str]]:
    """The names each dialogue paragraph calls, after the whole sieve."""
    from audiobook.attribution.attribute import sieve

    ctx = ctx_of(text)
    sieve(ctx)
    paragraphs = dict.fromkeys(ctx.segs[i].paragraph for i in quotes(ctx))
    return [ctx.vocatives.get(p, []) for p in paragraphs]


PARLOUR = """Ann and Tom sat in the parlour. Mrs. Dale had sent them a goose that morning, and Ann
was writing to thank her.

"Nobody could be kinder," said Ann.

"Oh, Mrs. Dale; every body knows Mrs. Dale."

"You are unjust to her."
"""


def test_a_name_a_line_speaks_of_again_is_not_called() -> None:
    from audiobook.attribution.addressed import talked_of

    assert talked_of("Oh, Mrs. Dale; every body knows Mrs. Dale.", "Mrs. Dale", ["Mrs. Dale"])
    assert not talked_of("Mary Ann! Mary Ann!", "Mary Ann", ["Mary Ann", "Mary Ann"])  # called twice
    assert not talked_of("Oh, Mrs. Dale, come in.", "Mrs. Dale", ["Mrs. Dale"])
    # so Mrs. Dale, spoken of, does not answer the line: Ann does
    assert _vocatives_of(PARLOUR) == [[], [], []]
    assert _speakers_of(PARLOUR) == ["Ann", "Tom", "Ann"]


def test_a_name_with_an_aside_and_a_verb_after_it_is_the_subject_not_called() -> None:
    from audiobook.attribution.addressed import talked_of

    said = "Mr. Hale, I suppose, is not a man who reads?"
    assert talked_of(said, "Mr. Hale", ["Mr. Hale"])
    assert talked_of("Mr. Hale, you know, (she smiled,) is out of the question.", "Mr. Hale", ["Mr. Hale"])
    assert not talked_of("Mr. Hale, I suppose, you will stay to dine?", "Mr. Hale", ["Mr. Hale"])
    text = PARLOUR.replace('"Oh, Mrs. Dale; every body knows Mrs. Dale."', '"Mrs. Dale, I suppose, is a great reader?"')
    assert _vocatives_of(text) == [[], [], []]


CORNER = """Ann and Tom sat in the parlour after dinner.

"Who sent the goose?" said Ann.

"I think Mr. Hale sent it."

"Mr. Hale!--How very kind."

"He is always kind."
"""


def test_a_name_cried_back_from_the_line_before_is_echoed_not_called() -> None:
    assert _vocatives_of(CORNER)[2] == []
    assert _vocatives_of(CORNER.replace("Mr. Hale!--How", "Mr. Hale.--How"))[2] == []
    # not echoed when the line before did not speak of him: then he is called
    assert _vocatives_of(CORNER.replace("I think Mr. Hale sent it.", "I think the vicar sent it."))[2] == ["Mr. Hale"]


ROSES = """Ann and Tom sat in the garden with Mrs. Dale after tea.

"The roses are late this year," said Ann.

"Very late," said Mrs. Dale. Tom was silent a while, and then added,

"It has been a cold spring."

"Colder than the last."
"""


def test_a_lead_in_closing_the_paragraph_before_tags_the_next_line() -> None:
    # not Ann's turn again after Mrs. Dale's: the sentence after Mrs. Dale's line leads into Tom's
    assert _speakers_of(ROSES)[2] == "Tom"
    # a sentence that ends with a full stop leads into nothing: the turns go on
    assert _speakers_of(ROSES.replace("and then added,", "and then looked away."))[2] == "Ann"


MILL = """Tom had gone out early, and Ann was alone at the mill.

It rained all the morning over the fields.

"Ann will be wet through by now."
"""


def test_with_nothing_else_to_go_by_a_line_is_not_given_to_the_one_it_speaks_of() -> None:
    # the last named is Ann, but the line speaks of her: the one named before her says it
    assert _speakers_of(MILL) == ["Tom"]


def test_a_first_name_and_a_family_name_speak_of_the_one_the_cast_knows_by_the_first() -> None:
    from audiobook.attribution.cues import named_in

    ctx = ctx_of(FIRESIDE)
    assert ctx.cast.resolve("Ann Grey") is None
    assert named_in("I cannot talk of women like Ann Grey.", ctx.cast) == {"Ann"}
    assert named_in("I met Miss Ann Grey.", ctx.cast) == set()  # a title: a name of its own, not Ann's


LANE = """Anna and Mr. Lane walked back from the mill together.

"Is the road to the village open?" Anna asked him.

"Since noon."

"Then we go round by the church."
"""


def test_the_tag_beside_a_stretch_of_guesses_says_whose_turn_comes_next() -> None:
    from audiobook.attribution.addressed import gendered_turns

    ctx = ctx_of(LANE)
    q = quotes(ctx)
    ctx.decided[q[0]] = Decision("Anna", "speech-verb", 0.95)
    ctx.decided[q[1]] = Decision("Anna", "turn-taking", 0.55)  # a stretch guessed the wrong way round
    ctx.decided[q[2]] = Decision("Mr. Lane", "turn-taking", 0.55)
    gendered_turns(ctx)
    # "Anna asked him": the line after hers is a man's, and the turns of the stretch swap
    assert speakers(ctx) == ["Anna", "Mr. Lane", "Anna"]


GARDEN = """Nora and Mr. Hale walked on by the hedge. He stopped to look back at her.

"It is too far," said Nora.

She was still looking at him in wonder.

"You think so, my Nora, but you will see."
"""


def test_a_he_or_she_before_a_line_that_calls_them_is_the_listener_not_another() -> None:
    # she is Nora, whom the line calls: not the speaker, and not some other woman either
    text = "Mrs. Lamb had gone in.\n\n" + GARDEN
    assert _speakers_of(text)[-1] == "Mr. Hale"


BENCH = """Nora and Mr. Hale sat on the bench by the pond.

"Will you stay the summer?" said Mr. Hale.

"I cannot say," said Nora.

"Why not?" She did not answer. The ducks came up to the bank.
"""


def test_the_one_who_does_not_answer_a_line_did_not_speak_it() -> None:
    # `"Why not?" She did not answer.`: she heard it; he asked it
    assert _speakers_of(BENCH) == ["Mr. Hale", "Nora", "Mr. Hale"]
    assert _speakers_of(BENCH.replace("She did not answer.", "She only shook her head."))[2] == "Mr. Hale"


def test_the_one_the_speakers_own_paragraph_names_answers() -> None:
    """`Tom danced with Mary. She said, "…"`: Tom answers her, not Bill, who spoke before and went
    off (Tom never has a tag of his own)."""
    text = (
        "Mary had come with her brother Bill.\n\n"
        '"The band is late," said Bill.\n\n'
        "Bill went off to find a drink.\n\n"
        'Tom danced with Mary. She said, "Are you fond of dancing?"\n\n'
        '"No, are you?"\n\n'
        '"So-so."\n\n'
        '"Well, let us sit down."\n'
    )
    script = attribute(segment(parse_story(Path("story.txt"), text, "utf-8")))
    said = [line.speaker for line in script.lines if line.kind == "dialogue"]
    assert said == ["Bill", "Mary", "Tom", "Mary", "Tom"]


HEARTH = """Mr. Hale and Mrs. Dale sat by the fire.

"It is cold to-night," said Mr. Hale.

Mrs. Dale looked so forlorn, that with a sudden look of pity, he cried,

"Ah! by the bye," then lowering his voice, "the letter came."
"""


def test_a_lead_in_tag_leads_into_a_line_with_narration_of_its_own() -> None:
    # the paragraph goes on after the line (`then lowering his voice`): the lead-in's tag still says whose it is
    assert _speakers_of(HEARTH)[1:] == ["Mr. Hale", "Mr. Hale"]


def test_a_line_after_the_tag_of_the_line_before_is_the_one_its_own_lead_in_names() -> None:
    """Narration between two quotes may end one line's tag and open the next's: `"…?" Martha
    panted; but Tom only answered "…"` (a lead-in with no comma), `"…?" Martha asked, so eagerly
    that Tom said, in a tired tone, "…"`: the second line is Tom's, not Martha's."""
    text = (
        "Martha walked down to the harbour with her brother Tom.\n\n"
        '"Is it far to the lighthouse?" Martha asked, so eagerly that Tom said, in a rather tired tone, '
        '"Not far! It is only a mile."\n\n'
        '"What boat is that?" Martha panted as she ran; but Tom only answered "Come on!" and ran faster.\n'
    )
    script = attribute(segment(parse_story(Path("story.txt"), text, "utf-8")))
    said = [line.speaker for line in script.lines if line.kind == "dialogue"]
    assert said == ["Martha", "Tom", "Martha", "Tom"]


WINDOW = """Mr. Hale and Mrs. Dale were at the window when the door opened.

He was going to bow and pass on, but her gentle "How do you do?" made him stop.

She had the kindest "Good night!" from Mr. Hale, and went up.
"""


def test_a_line_spoken_of_as_someones_own_is_theirs() -> None:
    # `her gentle "…"` is hers though he is the subject; `the kindest "…" from Mr. Hale` his though she is
    assert _speakers_of(WINDOW) == ["Mrs. Dale", "Mr. Hale"]


def test_the_one_who_hears_a_line_said_did_not_say_it() -> None:
    # `Martha heard him say to himself "…"`: the sentence before the line is hers, the line his
    text = (
        "Martha walked down to the harbour with her brother Tom.\n\n"
        "Tom went round the corner of the boathouse. Martha heard him say to himself "
        '"Then I shall go round by the pier."\n'
    )
    script = attribute(segment(parse_story(Path("story.txt"), text, "utf-8")))
    assert [line.speaker for line in script.lines if line.kind == "dialogue"] == ["Tom"]


def test_a_he_heard_speaking_is_the_nearest_he_not_the_hearer() -> None:
    # `she could hear his voice saying "…"`: his, the one man near, though she is the sentence's subject
    text = (
        "Martha sat alone in the boathouse and thought of her brother Tom. Tom had gone to sea in May, "
        "and his boat was still out.\n\n"
        'She sat very still. She could hear his voice saying, "Keep the lamp lit for me."\n'
    )
    script = attribute(segment(parse_story(Path("story.txt"), text, "utf-8")))
    assert [line.speaker for line in script.lines if line.kind == "dialogue"] == ["Tom"]
