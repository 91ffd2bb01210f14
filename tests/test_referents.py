"""Who a phrase in a tag or a beat refers to: names, he/she, I, descriptions, kin and spouses."""

from pathlib import Path

from audiobook.attribution import attribute
from audiobook.attribution.attribute import context, sieve
from audiobook.attribution.context import Context
from audiobook.load import parse_story
from audiobook.segment import segment


def ctx_of(text: str) -> Context:
    return context(segment(parse_story(Path("story.txt"), text, "utf-8")))


COUPLE = """When Walter came in from the rain, he shook his coat.
Martha looked up from her sewing; she smiled at Walter.

"You are late," she said.

"The roads were bad," he said.
"""


def test_he_and_she_go_to_the_character_of_that_gender_in_view() -> None:
    ctx = ctx_of(COUPLE)
    assert ctx.cast.gender("Walter") == "male" and ctx.cast.gender("Martha") == "female"
    at = COUPLE.index('"You are')
    assert ctx.resolver.resolve("she", at) == "Martha"
    assert ctx.resolver.resolve("he", at) == "Walter"


def test_an_excluded_character_is_never_the_pronoun() -> None:
    ctx = ctx_of(COUPLE)
    assert ctx.resolver.resolve("he", COUPLE.index('"The roads'), {"Walter"}) is None  # no other man in view


DECK = "Captain Reyes walked the deck with Lieutenant Moss. Reyes looked at the sky.\n\n"


def test_names_resolve_through_the_cast_with_or_without_title() -> None:
    text = DECK + '"Storm coming," said Reyes.\n'
    ctx = ctx_of(text)
    reyes = ctx.resolver.resolve("Reyes", 0)
    assert reyes == "Reyes"  # a character is called by the form the story uses most
    assert ctx.resolver.resolve("Captain Reyes", 0) == reyes
    assert ctx.cast.aliases[reyes] == ("Captain Reyes",)
    assert ctx.resolver.resolve("Lieutenant Moss", 0) == "Lieutenant Moss"


def test_a_title_noun_is_the_character_with_that_title() -> None:
    text = DECK + '"Storm coming," said the captain.\n'
    ctx = ctx_of(text)
    assert ctx.resolver.resolve("the captain", text.index('"Storm')) == "Captain Reyes"


def test_i_is_the_first_person_narrator_and_nobody_in_third_person() -> None:
    first = 'I walked to the shop with Anna. I bought tea and Anna bought jam. My bag was full.\n\n"Thanks," I said.\n'
    ctx = ctx_of(first)
    assert ctx.narrator == "narrator"
    assert ctx.resolver.resolve("I", first.index('"Thanks')) == "narrator"
    assert ctx_of(COUPLE).resolver.resolve("I", 0) is None


def test_an_unnamed_person_is_introduced_once_and_known_again_by_the_noun() -> None:
    text = "A tall stranger came to the door. The stranger held his hat.\n"
    ctx = ctx_of(text)
    resolver = ctx.resolver
    first = resolver.nominal("A tall stranger", 0)
    assert first == "a tall stranger"
    assert resolver.nominal("the stranger", text.index("The stranger")) == first
    assert first in resolver.one_off  # someone passing through


COMMITTEE = """Four men sat at the long table of the guild hall. A stout man in a green coat held the pen.

"Who sent you, boy?" said the stout man.

"Nobody, sir," said Tobin.

"Then go home," said another man, in a thin voice.

"He may stay," said the bald man at the end of the table.

Tobin bowed to the bald man, and the bald man nodded back.

"Thank you, sir," said Tobin. "And thank you too," he told the stout man.

"Sit there," said the old man by the window.

"By the window, sir?"

"There," said the old man. "My name, boy, is Harrow. Remember it." Saying this, Mr. Harrow turned to the window.
"""


def test_a_description_set_apart_or_with_other_modifiers_is_someone_else() -> None:
    ctx = ctx_of(COMMITTEE)
    resolver = ctx.resolver
    at = COMMITTEE.index
    stout = resolver.nominal("A stout man", at("A stout man"), new=True, speaker=False)
    assert resolver.nominal("the stout man", at('said the stout')) == stout  # the same modifier: the same man
    assert resolver.nominal("the man", at('said the stout')) == stout  # no modifier: the one described last
    other = resolver.nominal("another man", at("said another man"))
    assert other == "another man" != stout  # "another" sets him apart
    bald = resolver.nominal("the bald man", at("said the bald man"))
    assert bald == "the bald man"  # "another man" does not absorb a man described otherwise
    assert resolver.nominal("the man", at("said the bald man") + 20) == bald  # the one described last
    assert resolver.nominal("the stout man", at("he told the stout")) == stout  # still the stout one
    assert resolver.nominal("the second man", at("he told the stout")) == "the second man"
    assert resolver.nominal("the poor man", at("he told the stout")) == "the second man"  # a judgement, no modifier


def test_a_passing_state_is_no_modifier() -> None:
    text = "A tall man walked home from market.\n\nHe lay down on the bank and slept.\n"
    resolver = ctx_of(text).resolver
    tall = resolver.nominal("A tall man", 0, new=True, speaker=False)
    for state in ("the prostrate man", "the sleeping man", "the astonished man"):
        assert resolver.nominal(state, text.index("He lay")) == tall  # a state, not someone else


def test_descriptions_with_different_modifiers_speak_as_different_people() -> None:
    script = attribute(segment(parse_story(Path("story.txt"), COMMITTEE, "utf-8")))
    speakers = [line.speaker for line in script.lines if line.kind == "dialogue"]
    assert speakers[0] == "a stout man"  # `said the stout man`: the stout man in the green coat
    assert speakers[2] == "another man"
    assert speakers[3] == "the bald man"
    assert speakers[6] == speakers[8] == "Mr. Harrow"  # the old man by the window names himself


VICARAGE = """Old Hobb met the parson at the gate of the churchyard, and Hobb touched his hat.

"Good evening," said the parson. "Is your roof mended yet, Hobb?"

"Not yet, sir," said Hobb.

The clergyman shook his head; as far as he knew, the roof had leaked since Easter.

"Then I shall send a man tomorrow," said he.
"""


def test_another_word_for_the_same_calling_is_the_same_person_nearby() -> None:
    script = attribute(segment(parse_story(Path("story.txt"), VICARAGE, "utf-8")))
    speakers = [line.speaker for line in script.lines if line.kind == "dialogue"]
    assert speakers[-1] == speakers[0] == "the parson"  # the clergyman who shook his head is the parson
    resolver = ctx_of(VICARAGE).resolver
    parson = resolver.nominal("the parson", VICARAGE.index("said the parson"), new=True)
    assert resolver.known_head("clergyman", VICARAGE.index("The clergyman")) == "parson"
    assert resolver.known_head("clergyman", VICARAGE.index("The clergyman") + 5000) is None  # chapters on: someone else
    assert resolver.nominal("the clergyman", VICARAGE.index("The clergyman")) == parson


INN = """Sir Walter Grey, Dr. Moss, and the rest of the family having asked me to write this down, I go back to the
time when my father kept the inn and the tall old seaman with the scarred chin first came to lodge with us.

He rapped on the door with his stick, and called for a glass of rum.

"A quiet cove," says he. "I'll stay here a bit."
"""


def test_a_description_with_what_it_wears_is_someone_new_and_a_subject() -> None:
    script = attribute(segment(parse_story(Path("story.txt"), INN, "utf-8")))
    speakers = [line.speaker for line in script.lines if line.kind == "dialogue"]
    assert speakers == ["the tall old seaman", "the tall old seaman"]  # not Dr. Moss, named in passing


def test_a_mood_or_a_judgement_is_no_modifier_but_a_look_or_a_noun_is() -> None:
    text = "A small boy sat on the wall.\n\nThe other boys threw stones at the river.\n"
    resolver = ctx_of(text).resolver
    boy = resolver.nominal("A small boy", 0, new=True, speaker=False)
    at = text.index("The other")
    assert resolver.nominal("the other boys", at) == "the other boys"
    assert resolver.nominal("the boy", at + 30) == boy  # a group is never the boy of a later `said the boy`
    assert resolver.nominal("the little boy", at + 30) == boy  # little and small: one look
    assert resolver.nominal("this vivacious boy", at + 30) == boy  # a mood, not someone else
    assert resolver.nominal("the child", at + 30) == boy  # the child of the scene is the boy
    keeper = resolver.nominal("a book-stall keeper", at + 40, new=True)
    assert resolver.nominal("the office keeper", at + 50) != keeper  # a noun tells them apart


SICKROOM = """Mrs. Orme showed the doctor up the stairs, and she went back to her baking.

The doctor shut the door behind him. "Feel pretty sick, Tilda?" he asked.

She looked at him with a smile. "I thought you were here," she said.
"""


def test_a_she_opening_the_paragraph_after_a_call_is_the_one_called() -> None:
    script = attribute(segment(parse_story(Path("story.txt"), SICKROOM, "utf-8")))
    speakers = [line.speaker for line in script.lines if line.kind == "dialogue"]
    assert speakers[-1] == "Tilda"  # the one the doctor called answers, not Mrs. Orme named before
    ctx = ctx_of(SICKROOM)
    ctx.resolver.calls.append((SICKROOM.index('"Feel'), ("Tilda",)))
    assert ctx.resolver.answerer("female", SICKROOM.index("She looked"), set()) == "Tilda"
    assert ctx.resolver.answerer("female", SICKROOM.index('"I thought'), set()) is None  # not a he/she opening it
    assert ctx.resolver.answerer("male", SICKROOM.index("She looked"), set()) is None  # nobody called is a man


SURGERY = """The bell rang twice, and Mrs. Vane ran down to open the door.

Dr. Hollis and Mr. Crane came in together. Mr. Crane, a surgeon from the next village, was a stout
man with a loud laugh; Dr. Hollis said little.

"Where is the boy?" said the surgeon. "Show me the way."

"Upstairs," said Mrs. Vane.

The doctor went up first. "He is asleep," said the physician, coming down again.
"""


def test_a_description_is_the_named_character_the_narration_set_beside_it() -> None:
    script = attribute(segment(parse_story(Path("story.txt"), SURGERY, "utf-8")))
    speakers = [line.speaker for line in script.lines if line.kind == "dialogue"]
    assert speakers[0] == speakers[1] == "Mr. Crane"  # `Mr. Crane, a surgeon`: the surgeon, not Dr. Hollis
    assert speakers[3] == "Mr. Crane"  # the physician: another word for his calling
    resolver = ctx_of(SURGERY).resolver
    assert resolver.apposed("surgeon", SURGERY.index("Mr. Crane, a")) is None  # not before it is said
    assert resolver.apposed("doctor", len(SURGERY)) == "Mr. Crane"
    later = SURGERY + "\nAt noon a physician from the town came to the door.\n"
    assert ctx_of(later).resolver.apposed("doctor", len(later)) is None  # someone new of that calling since


def test_a_title_noun_is_the_character_the_story_also_calls_by_that_title() -> None:
    text = (
        "The west gate was kept by Roule, and Roule let nobody pass. They called him Sergeant Roule.\n\n"
        '"Papers!" said Roule.\n\n"Here, sir," said the carter.\n\n"Pass on," said the sergeant.\n'
    )
    resolver = ctx_of(text).resolver
    assert resolver.epithet("sergeant", text.index('"Pass on'), True) == "Roule"  # Sergeant Roule, called Roule


def test_a_description_with_a_name_after_it_is_the_name() -> None:
    from audiobook.attribution.cues import speaker_phrase

    assert speaker_phrase("the poet Gable, with a laugh") == "Gable"
    assert speaker_phrase("the poet, with a laugh") == "the poet"


def test_a_voice_is_someone_to_be_recognised_later() -> None:
    ctx = ctx_of("The room was dark.\n")
    assert ctx.resolver.nominal("a familiar voice", 0) == "a familiar voice"
    assert "a familiar voice" in ctx.resolver.voices


def test_his_wife_is_the_married_woman_of_his_name() -> None:
    text = (
        "Mr. Tom Bennet sat by the fire with Mrs. Bennet. Mr. Bennet read his paper.\n\n"
        '"My dear," said his wife, "have you heard?"\n'
    )
    ctx = ctx_of(text)
    assert ctx.resolver.resolve("his wife", text.index('"My dear')) == "Mrs. Bennet"


def test_a_kinship_word_is_the_one_character_with_that_title() -> None:
    ctx = ctx_of(
        "Uncle John Linden came to tea with Jane. Jane poured. Uncle John drank.\n\n"
        '"Surely, uncle, you will stay," said Jane.\n'
    )
    assert ctx.resolver.kin("uncle") == "Uncle John Linden"
    assert ctx.resolver.kin("aunt") is None


PARTY = """Walter Grey came late to the party, and the room was already full.

He glanced round him, and saw that the guests were all strangers, though
Mr. Fortescue was plainly the celebrity of the evening. She was not there.
"""


def test_a_he_opening_a_sentence_of_narration_is_a_mention_of_whom_it_stands_for() -> None:
    ctx = ctx_of(PARTY)
    sieve(ctx)
    at = PARTY.index("He glanced")
    mentions = {(m.start, m.character) for m in ctx.cast.mentions}
    walter = ctx.cast.resolve("Walter Grey")  # (a given name opening the text is part of the name)
    assert (at, walter) in mentions  # `Walter Grey came late` … `He glanced`: he is still Walter
    assert not any(m.start == PARTY.index("She was") for m in ctx.cast.mentions)  # no woman in view: no mention
    assert ctx.resolver.resolve("he", len(PARTY)) == walter  # the one the narration is about, not Mr. Fortescue


def test_the_latter_and_the_former_are_the_last_two_named() -> None:
    text = (
        "Mrs. Oakes and Miss Pratt met them at the gate.\n\n"
        '"My dear girl," said the latter, "come in out of the rain."\n\n'
        '"Do," said the former.\n'
    )
    script = attribute(segment(parse_story(Path("s.txt"), text, "utf-8")))
    said = [line.speaker for line in script.lines if line.kind == "dialogue"]
    assert said == ["Miss Pratt", "Miss Pratt", "Mrs. Oakes"]


def test_a_quote_that_calls_someone_by_name_is_not_theirs() -> None:
    text = (
        "Jenny smiled at Harriet.\n\n"
        '"You will like him," said Jenny.\n\n'
        "Harriet looked grave.\n\n"
        '"My dear Harriet, you must not make too much of it."\n'
    )
    script = attribute(segment(parse_story(Path("s.txt"), text, "utf-8")))
    said = [line.speaker for line in script.lines if line.kind == "dialogue"]
    assert said == ["Jenny", "Jenny"]  # not Harriet, whose beat comes before: the line calls her by name


TEA = """Mrs. Hale had gone up to bed. Mr. Hale came in from the garden, and Clara poured his tea.

"The garden is too wet for you, my dear."

"I cannot agree with you, papa; the sun is out."

"It was raining an hour ago."
"""


def test_papa_is_the_mr_of_the_scene_and_answers_next() -> None:
    ctx = ctx_of(TEA)
    assert ctx.resolver.parent("papa", TEA.index('"I cannot')) == "Mr. Hale"
    assert ctx.resolver.parent("mamma", TEA.index('"I cannot')) == "Mrs. Hale"
    assert ctx.resolver.parent("papa", TEA.index("Mr. Hale")) is None  # nobody so titled before
    sieve(ctx)
    q = [i for i, s in enumerate(ctx.segs) if s.kind == "dialogue"]
    assert ctx.vocatives[ctx.segs[q[1]].paragraph] == ["Mr. Hale"]
    assert [ctx.speaker(i) for i in q] == ["Mr. Hale", "Clara", "Mr. Hale"]  # the one called answers


def test_papa_is_the_father_whose_family_name_the_child_of_the_scene_bears() -> None:
    text = (
        "Clara Hale sat with her father. Mr. Hale was tired.\n\n"
        "Mr. Dunne had called that morning, and Mr. Dunne had stayed to dinner.\n\n"
        '"You are quiet tonight, papa."\n'
    )
    ctx = ctx_of(text)
    assert ctx.resolver.parent("papa", text.index('"You')) == "Mr. Hale"  # not the Mr. named last and most


def test_the_other_of_two_talking_is_not_the_one_who_spoke_last() -> None:
    # `"…," repeated the other`: the other of the two talking, never a new person called "the other"
    text = (
        "Martha and Walter sat in the kitchen after supper.\n\n"
        '"Shall we go to the fair on Saturday?" asked Martha.\n\n'
        '"The fair is over. It closed on Monday."\n\n'
        '"Closed on Monday!" repeated the other, and she put down her cup.\n\n'
        "Later Martha met Hester Dunn by the well. Hester had a bucket.\n\n"
        '"Did she say any more, Hester?" inquired Martha.\n\n'
        '"Not a word," replied the other.\n'
    )
    script = attribute(segment(parse_story(Path("story.txt"), text, "utf-8")))
    said = [line.speaker for line in script.lines if line.kind == "dialogue"]
    assert said[2] == "Martha"  # the one who asked, not Walter who answered
    assert said[4] == "Hester"  # the one the line before called
    assert "the other" not in {c.name for c in script.characters}


def test_someone_known_by_whose_they_are_is_not_the_owner() -> None:
    # `said Dan's girl`, `asked Mr. Bumble's good lady`: the one owned speaks, a woman, never the owner
    text = (
        "Milly came in with Dan and a girl in furs.\n\n"
        '"Well, well," said Dan, "what next?"\n\n'
        '"Do I get a drink?" said Dan\'s girl.\n\n'
        "Mr. Bumble sat by the fire.\n\n"
        '"Is that the man?" asked Mr. Bumble\'s good lady.\n'
    )
    script = attribute(segment(parse_story(Path("story.txt"), text, "utf-8")))
    said = [line.speaker for line in script.lines if line.kind == "dialogue"]
    assert said[2:] == ["Dan's girl", "Mr. Bumble's good lady"]
    genders = {c.name: c.gender for c in script.characters}
    assert genders["Dan's girl"] == genders["Mr. Bumble's good lady"] == "female"


def test_a_voice_owned_is_the_owners() -> None:
    text = 'Walter and Martha sat at supper.\n\n"Not in this rain." Martha\'s clear voice startled him.\n'
    script = attribute(segment(parse_story(Path("story.txt"), text, "utf-8")))
    assert [line.speaker for line in script.lines if line.kind == "dialogue"] == ["Martha"]


def _said(text: str) -> list[str | None]:
    script = attribute(segment(parse_story(Path("story.txt"), text, "utf-8")))
    return [line.speaker for line in script.lines if line.kind == "dialogue"]


def test_a_friend_of_his_is_a_man_in_view_when_there_is_one() -> None:
    text = (
        "Mr. Gradgrind and Mr. Bounderby stood in the hall with Louisa.\n\n"
        '"Do it at once," said Mr. Bounderby.\n\n'
        '"Are you walking?" asked his friend.\n'
    )
    assert _said(text) == ["Mr. Bounderby", "Mr. Gradgrind"]



def test_a_lead_in_tag_right_before_a_quote_outweighs_the_narration_after_it() -> None:
    # `and Kate said to Ann, "…" So Ann, …` / `when Mr. Crane said, "…!" she answered, "…"`: the narration
    # after the first quote leads into the next one; it is not the first quote's tag
    text = (
        "Kate and Ann sat at the table with Tom. Tom talked on and on, and Kate said to Ann, "
        '"Drink up your milk first, dear." So Ann, who was drinking her milk, tried to say she could.\n\n'
        'Mrs. Hale made the tea. And when Mr. Crane said, "Your health, ma\'am!" she answered with great feeling, '
        '"Thank you, sir."\n'
    )
    assert _said(text) == ["Kate", "Mr. Crane", "Mrs. Hale"]


def test_a_tag_between_two_quotes_that_leads_into_the_second_does_not_join_them() -> None:
    text = (
        "Mary and Nell sat in the hall with Anne.\n\n"
        '"I cannot possibly do without Anne," was Mary\'s reasoning; and Nell\'s reply was, '
        '"Then Anne had better stay."\n'
    )
    assert _said(text) == ["Mary", "Nell"]
