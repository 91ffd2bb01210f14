"""Cues to who speaks: speech tags either side of a quote, action beats, lead-ins, names called."""

import re

import pytest

from audiobook.attribution.cues import (
    KIN_VOCATIVE,
    NAME_ASKED,
    NAME_PHRASE,
    PARENT_VOCATIVE,
    SPEECH_VERBS,
    Who,
    beats,
    introducer,
    listeners,
    names_called,
    open_ended,
    speaker_phrase,
    tag_after,
    tag_before,
    tag_positions,
)


@pytest.mark.parametrize(
    ("narration", "open_quote", "phrase"),
    [
        (" said Kaito. Then he left.", True, "Kaito"),
        (" Kaito said quietly.", True, "Kaito"),
        (" she asked.", False, "she"),
        (" whispered Tuppence.", False, "Tuppence"),  # a lower-case tag after `?`: still the quote's tag
        (" said the old man, leaning on his stick.", True, "the old man"),
        (" the saloon-keeper demanded.", False, "the saloon-keeper"),  # any description in a tag speaks
        (" said the ferry-keeper\ncarelessly. \"Ask her.\"", True, "the ferry-keeper"),  # the adverb is not his name
        (" suddenly cried Hobbs aloud. \"Back!\"", True, "Hobbs"),  # an adverb before the verb
    ],
)
def test_tag_after_names_the_speaker(narration: str, open_quote: bool, phrase: str) -> None:
    who = tag_after(narration, open_quote)
    assert who is not None and who.phrase == phrase
    assert who.rule == "speech-verb"


def test_tag_after_is_none_for_plain_narration() -> None:
    assert tag_after(" The rain fell on the roof.", False) is None
    assert tag_after("", True) is None


def test_a_verb_after_an_open_quote_is_a_tag_of_lower_confidence() -> None:
    who = tag_after(" Big Medicine harrumphed.", True)
    assert who == Who("Big Medicine", "speech-tag", 0.85)
    assert tag_after(" Big Medicine harrumphed.", False) is None  # `"Stop." Big Medicine harrumphed…`: not a tag


@pytest.mark.parametrize(
    ("narration", "phrase"),
    [
        ("Kaito turned to her and said,", "Kaito"),
        ("The rain had stopped. Then aloud he said abruptly:", "he"),  # only the last sentence counts
        ("The old lady felt Tom's shirt, and said:", "The old lady"),  # the subject, not the shirt's owner
        ("At last the Mole, who had been quiet all evening,\ncalled out,", "the Mole"),  # late in its sentence
        ("And when Mr. Tulliver regularly answered,", "Mr. Tulliver"),
        ("After a while, Ellen heard the Badger say,", "the Badger"),  # the infinitive after `heard`
        ("A short pause followed, and Mrs. Grove began again.", "Mrs. Grove"),  # a tag may end its sentence
        ("With a steadier voice she soon added,", "she"),
        ("Nell, with flushed cheeks, raised her head and said:", "Nell"),
        ("The others crowded round, while the Warden gravely held out the cup, saying", "the Warden"),
        ("Two began in a low voice,", "Two"),  # a number is a name right before the verb
    ],
)
def test_tag_before_names_the_speaker(narration: str, phrase: str) -> None:
    who = tag_before(narration)
    assert who is not None and who.phrase == phrase


def test_tag_before_is_none_without_a_speech_verb() -> None:
    assert tag_before("The rain had stopped.") is None
    assert tag_before("Kaito said nothing for a while. The rain had stopped.") is None
    assert tag_before("He said nothing.") is None  # the sentence ends on what was (not) said
    assert tag_before("She told him the whole story.") is None
    assert tag_before("The rain began.") is None  # a late tag's subject is a person
    assert tag_before("Tom looked at her and smiled.") is None  # a gesture ending its sentence is a beat


def test_beats_are_the_subjects_of_sentences_around_the_quote() -> None:
    assert beats("Haku sighed.", "") == [Who("Haku", "action-beat", 0.7)]
    assert [w.phrase for w in beats("The wind was cold.", "He shook his head.")] == ["He"]
    assert beats("The wind was cold.", "") == []  # no one there
    # an adverb of doubt opens the sentence, its subject is still the one in view
    assert [w.phrase for w in beats("Maybe Luki could see it in my eyes, for he gave me a few details.", "")] == [
        "Luki"
    ]


def test_a_beat_after_a_phrase_of_time_or_with_a_phrase_set_off_by_commas() -> None:
    # `Shortly afterwards`, `At length`, `A moment later` open the sentence; the one who acts follows
    assert [w.phrase for w in beats("Shortly afterwards Mara, passing the door, saw Kaito in the yard.", "")] == [
        "Mara"
    ]
    assert [w.phrase for w in beats("At length Haku rose.", "")] == ["Haku"]
    assert [w.phrase for w in beats("A moment later Luka turned away.", "")] == ["Luka"]
    assert beats("Shortly afterwards the rain stopped.", "") == []


def test_a_beat_may_open_with_when_or_where() -> None:
    """`That evening as usual she rang the farm.` / `"I'm calling from the station."`: hers."""
    assert [w.phrase for w in beats("That evening as usual she rang the farm.", "")] == ["she"]
    assert [w.phrase for w in beats("The next morning Kaito wrote to his aunt.", "")] == ["Kaito"]
    assert [w.phrase for w in beats("In the hall Luka took off her gloves.", "")] == ["Luka"]
    assert [w.phrase for w in beats("At breakfast he read the paper.", "")] == ["he"]
    assert beats("At breakfast the rain began again.", "") == []  # no one there
    assert [w.phrase for w in beats("Of course, she tried again.", "")] == ["she"]


def test_a_tag_that_calls_the_line_his_reply_or_her_reflection() -> None:
    assert tag_after(' was her consoling reflection; "any thing will do."', True) == Who("she", "speech-verb", 0.85)
    assert tag_after(" came his answer.", True) == Who("he", "speech-verb", 0.85)
    assert tag_after(" was all the reply.", True) is None  # nobody's
    assert tag_after(" was Mr. Hale's rejoinder, and", True) == Who("Mr. Hale", "speech-verb", 0.85)
    assert tag_after(" was therefore his answer.", True) == Who("he", "speech-verb", 0.85)


def test_the_subject_of_the_last_clause_before_the_quote_comes_first() -> None:
    # `…, but he stretched out his arm`: the one nearest the quote acts last, and speaks
    assert [w.phrase for w in beats("She came towards him, but he held up his hand.", "")] == ["he", "She"]
    assert [w.phrase for w in beats("Mara was dressed by then and she waited by the door.", "")] == ["she", "Mara"]
    assert [w.phrase for w in beats("She sat down; the fire was out.", "")] == ["She"]  # no one in the last
    # `but he was hurried off by Mara`: he is acted on, not the one who goes on to speak
    assert [w.phrase for w in beats("Luka stood up, but he was actually hurried off by Mara.", "")] == ["Luka"]


def test_beats_nearest_first() -> None:
    found = beats("Mara waited. Haku sighed.", "Kaito laughed.")
    assert [w.phrase for w in found] == ["Haku", "Mara", "Kaito"]


def test_names_called() -> None:
    assert names_called('"Haku, wait!"') == ["Haku"]
    assert names_called('"Come here, Kaito."') == ["Kaito"]
    assert "Mr. Fortescue" in names_called('"Oh, Mr. Fortescue, how kind!"')
    assert names_called('"Bingley."') == []  # a name given in answer, not someone called
    assert names_called('"The door is open."') == []


def test_kinship_words_and_name_questions() -> None:
    assert KIN_VOCATIVE.findall('"Surely, uncle, you know."') == ["uncle"]
    assert KIN_VOCATIVE.findall('"My uncle knows."') == []  # talked about, not called
    assert PARENT_VOCATIVE.findall('"I cannot agree with you, papa; you know I cannot."') == ["papa"]
    assert PARENT_VOCATIVE.findall('"Oh, mamma! May I go?"') == ["mamma"]
    assert PARENT_VOCATIVE.findall('"Mother, the kettle."') == ["Mother"]
    assert PARENT_VOCATIVE.findall('"My father! He is home."') == []  # talked about
    assert PARENT_VOCATIVE.findall('"Father Brown, come in."') == []  # a priest's title
    assert NAME_ASKED.search('"And what is your name?"')
    assert not NAME_ASKED.search('"The name of the ship is painted on her bow."')


def test_open_ended_quotes_run_into_their_tag() -> None:
    assert open_ended('"Well,')
    assert open_ended('"But—')
    assert not open_ended('"Well."')


def test_listeners_are_who_a_tag_addresses() -> None:
    assert listeners(" said he to Temple.") == ["Temple"]
    assert listeners(" he asked Katharine.") == ["Katharine"]
    assert listeners(" she said.") == []


def test_introducer_hears_someone_begin_to_speak() -> None:
    assert introducer("I sat down. I heard a voice singing in the next room.") == [Who("a voice", "introduced", 0.6)]
    assert [w.phrase for w in introducer("I kept strumming, and Miku continued singing.")] == ["Miku"]
    assert introducer("As the girl spoke, he rose.") == []  # her speech has ended


def test_speaker_phrase() -> None:
    assert speaker_phrase("the child's nurse said") == "the child's nurse"
    assert speaker_phrase("Miss Betsey nodded") == "Miss Betsey"
    assert speaker_phrase("she smiled") == "she"
    assert speaker_phrase("Then it rained") is None  # a capitalised word that is no one
    # a description holds no article or possessive before its noun: not "the time her father"
    assert speaker_phrase("the time her father had sat down") is None
    assert speaker_phrase("her father had sat down") == "her father"


def test_tag_positions_mark_speech_tag_subjects() -> None:
    text = "said Kaito. Mara said nothing. The sun rose."
    assert tag_positions(text, [(0, len(text))]) == {text.index("Kaito"), text.index("Mara")}
    assert tag_positions(text, [(12, len(text))]) == {text.index("Mara")}  # only inside the spans given



@pytest.mark.parametrize(
    "text",
    [
        "said Mr. Tom Jones said nothing",  # a tag after a tag's subject: the first wins, the rest is its name
        "cried Mary-cried Tom. Señor Ruiz replied. Mrs Hall asked, and Mister Bell said",
        "MacDonald said. McKay whispered. Mcduff said. Macbeth quickly answered Dr Watson",
        "xTom said; the boy Tom said; O'Brien said; Tom's dog said; said\n  Jane Eyre",
        "answered Ann\n\nBob said. Then: said. SAID Ann. unsaid Ann. replied Tom replied",
    ],
)
def test_tag_positions_are_those_of_one_pattern_of_both_kinds(text: str) -> None:
    # what `tag_positions` finds in two fast passes is what one pattern of both kinds finds in one
    verb = "|".join(sorted(SPEECH_VERBS, key=len, reverse=True))
    name = NAME_PHRASE.pattern
    both = re.compile(rf"\b(?:{verb})\s+(?P<a>{name})|(?=[A-Z])(?P<b>{name})\s+(?:\w+ly\s+)?(?:{verb})\b")
    for spans in ([(0, len(text))], [(0, 20), (25, 60), (61, len(text))]):
        expected = {m.start("a") if m.group("a") else m.start("b") for s, e in spans for m in both.finditer(text, s, e)}
        assert tag_positions(text, spans) == expected
    assert expected

def test_the_one_heard_saying_a_quote_speaks_it_not_the_hearer() -> None:
    assert tag_after(" Nora heard her say.", True) == Who("she", "speech-verb", 0.9)
    assert tag_after(" I heard an old porter grumbling as he went.", True) == Who("an old porter", "speech-verb", 0.9)
    assert tag_after(" he overheard the captain tell his mate,", True) == Who("the captain", "speech-verb", 0.9)
    assert listeners(" Nora heard her say.") == ["Nora"]  # who hears it does not say it
    assert tag_after(" Nora heard the rain.", True) is None


def test_a_name_after_i_is_the_speakers_own_not_someone_called() -> None:
    assert names_called("Eeyore, I, Tobble, will find your tail for you.") == ["Eeyore"]
    assert names_called("It is I, Marten. You surely know my knock.") == ["Marten"]  # calls Marten


def test_went_is_a_speech_verb_only_as_went_on() -> None:
    # `"…?" he went down on his knee`: he went somewhere, he did not say it
    assert tag_after(" he went down on his knee beside her.", False) is None
    assert tag_after(" he went on.", False) == Who("he", "speech-verb", 0.95)
    # `he went back, and Nanny said,`: the one who speaks is the subject of the speech verb
    assert tag_before("So he went back, and Nell said,") == Who("Nell", "speech-verb", 0.9)
    assert tag_before("Then he went on,") == Who("he", "speech-verb", 0.9)


def test_a_calling_used_as_a_name_in_a_tag() -> None:
    # `said nanny`: a household calling, bare, in lower case, is the name of the one who speaks
    assert tag_after(" said nanny. She folded the sheet.", True) == Who("Nanny", "speech-verb", 0.9)
    assert tag_after(" nanny said.", True) == Who("Nanny", "speech-verb", 0.9)
    assert tag_after(" said the nurse.", True) == Who("the nurse", "speech-verb", 0.95, after_verb=True)
    assert tag_after(" said nothing.", True) is None


@pytest.mark.parametrize(
    ("narration", "phrase"),
    [
        # a lead-in ending in a dash, or its verb followed by `thus`
        ("The music stopped; and soon afterwards Mr. Crane, drawing near Nell, said to her--", "Mr. Crane"),
        ("After clearing his throat, however, he proceeded thus--", "he"),
        # a name after any word, right before the verb that ends the sentence
        ("When they had driven over the hill and around a corner Walter said:", "Walter"),
        ("And for a long time Tobble only said", "Tobble"),
        # the subject of the last clause, not a name before it with a closing phrase
        ("As soon as he had eaten Tom whispered to Ann, and Ann said", "Ann"),
        # a relative clause about the one who speaks
        ("They were met in the hall by the butler, who said,", "the butler"),
    ],
)
def test_lead_ins_that_end_in_a_dash_a_late_name_or_who_said(narration: str, phrase: str) -> None:
    who = tag_before(narration)
    assert who is not None and who.phrase == phrase


def test_a_relative_clause_about_a_thing_is_no_tag() -> None:
    assert tag_before("They turned to the old house by the gate, who said,") is None


def test_a_participle_of_speech_after_by_is_the_subjects_tag() -> None:
    # `Mary eagerly interrupted her by exclaiming--`: Mary's; not `better than by saying` (a comparison)
    assert tag_before("when Mary eagerly interrupted her by exclaiming--") == Who("Mary", "speech-verb", 0.85)
    assert tag_before("but he never ended the subject better than by saying--") is None


@pytest.mark.parametrize(
    ("narration", "phrase"),
    [
        # the name with its title, though a word that is no name opens the sentence
        ("To which Mrs. Crane replied:", "Mrs. Crane"),
        ("As Mrs. Hale observed,", "Mrs. Hale"),
        # the subject of the clause that ends on the speech verb, not of one before it
        ("I asked her if she were feeling ill, and she answered frankly:", "she"),
        # the clause of the first verb ends at its comma: `so eagerly that` opens the next one's
        ("Martha asked, so eagerly that Tom said, in a rather tired tone,", "Tom"),
        # a he or she whose verb is no speech verb gives way to a name whose verb is, later on
        ("Martha began in a loud voice, but she stopped, for Tom cried out,", "Tom"),
        # `but` opens a clause; `laid` is a verb after its subject
        ("It was too much; but Mr. Crane, much offended, laid aside his book, and said,", "Mr. Crane"),
        # an adverb with `most`; a title and name split by a line
        ("The others laughed, but Mrs. Hale, who loved a joke, answered most readily,", "Mrs. Hale"),
        ("Two minutes after she came in, Captain\nReyes said--", "Captain\nReyes"),
    ],
)
def test_lead_ins_whose_subject_is_a_titled_name_or_a_later_clause(narration: str, phrase: str) -> None:
    who = tag_before(narration)
    assert who is not None and who.phrase == phrase


def test_and_with_a_phrase_set_off_before_the_speech_verb() -> None:
    # `and in a manner graver than usual, said,`: the `and` clause has no subject of its own
    narration = "Tea was over.--Mr. Crane got up, and in a manner graver than usual, said,"
    assert tag_before(narration) == Who("Mr. Crane", "speech-verb", 0.85)
    assert tag_before("Tom rose, and with a bow to Ann, said:") == Who("Tom", "speech-verb", 0.85)


def test_a_line_called_someones_amendment_or_all_they_could_say() -> None:
    assert tag_after(" was Mr.\nCrane's quick amendment; and so it ended.", False) == Who(
        "Mr.\nCrane", "speech-verb", 0.85
    )
    assert tag_after(" was all that Nell, with many embraces, could articulate at first.", False) == Who(
        "Nell", "speech-verb", 0.85
    )
    assert tag_after(" was the best of it.", False) is None


def test_a_lead_in_naming_whose_reply_follows() -> None:
    assert tag_before("I cannot go, was Mary's excuse; and Nell's reply was,") == Who("Nell", "speech-verb", 0.85)
    assert tag_before("His answer was:") == Who("he", "speech-verb", 0.85)
    assert tag_before("The day was,") is None


def test_the_one_who_could_not_help_saying_it_speaks_not_the_subject_before() -> None:
    narration = "But he smiled so broadly at the memory, that Nora could not help\nsaying,"
    who = tag_before(narration)
    assert who is not None and who.phrase == "Nora"
    who = tag_before("He grinned at the fence, and she could not forbear exclaiming,")
    assert who is not None and who.phrase == "she"
    assert tag_before("He smiled so broadly that Nora could not help laughing.") is None  # no speech


def test_a_word_set_off_before_the_subject_of_a_tag_is_not_the_speaker() -> None:
    assert tag_before("Upstairs, Miku said, ") == Who("Miku", "speech-verb", 0.9)
    assert tag_before("Outside, the old man said, ").phrase == "the old man"


def test_a_voice_known_by_its_owner_introduces_the_line() -> None:
    """`The telephone rang downstairs. He went down. It was Luka's voice.` / `"Darling, …"`: Luka's."""
    assert introducer("The telephone rang downstairs. He went down. It was Luka's voice.") == [
        Who("Luka", "introduced", 0.6)
    ]
    assert introducer("Then Kaito's voice came from the hall.") == [Who("Kaito", "introduced", 0.6)]
    assert introducer("He went down. It was his telephone.") == []


def test_the_one_by_whom_someone_is_addressed_speaks() -> None:
    who = tag_before("Nora turned away, and he was musing on it with some pleasure, when thus accosted by Mrs. Dale,")
    assert who is not None and who.phrase == "Mrs. Dale"
    who = tag_before("He had sat down by the fire, when he was interrupted by the porter:")
    assert who is not None and who.phrase == "the porter"
    assert tag_before("He had been greeted by Mrs. Dale.") is None  # a sentence that ends: no lead-in


def test_speech_as_the_aim_of_the_subject_is_its_tag() -> None:
    narration = "When the soup was gone, and the bread too, Mr. Hale made use of the first pause, to say to her,"
    who = tag_before(narration)
    assert who is not None and who.phrase == "Mr. Hale"
    who = tag_before("At the door it was too much for her not to say:")
    assert who is not None and who.phrase == "she"
    assert tag_before("She had come to say good-bye.") is None


def test_the_one_heard_saying_it_with_a_word_between() -> None:
    narration = "She felt her arm drawn within his, and heard him thus saying, in a low voice,"
    assert introducer(narration) == [Who("he", "introduced", 0.6)]
    assert introducer("and heard Nora softly calling from the stairs,") == [Who("Nora", "introduced", 0.6)]


def test_a_sentence_run_on_by_a_dash_ends_before_the_tag() -> None:
    narration = "Ann felt the rudeness of it, but answered him very calmly.--Mrs. Dale then observed,"
    assert tag_before(narration) == Who("Mrs. Dale", "speech-verb", 0.9)


def test_a_title_in_a_tag_joins_only_the_name_it_stands_before() -> None:
    from audiobook.attribution.cues import _ALL_THAT, _LISTENER, _REPLY_WAS

    assert _LISTENER.findall("and then he answered Queen. Odile said nothing") == ["Queen"]
    assert _LISTENER.findall("and then he answered Mr. Tallow") == ["Mr. Tallow"]
    assert _LISTENER.findall("she turned to Lady\n\nMorwen") == ["Lady"]
    assert _REPLY_WAS.search("and the Queen. Odile's reply was,") is not None
    assert _REPLY_WAS.search("and the Queen. Odile's reply was,").group(1) == "Odile"  # type: ignore[union-attr]
    assert _ALL_THAT.search("was all that Queen. Odile could say") is None  # two sentences
    found = _ALL_THAT.search("was all that Lady Odile could say")
    assert found is not None and found.group("who") == "Lady Odile"
