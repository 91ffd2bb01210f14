"""The gender of the voice of speakers the sieve finds itself (issue #18): names only a speech tag
makes speakers, descriptions of no gender of their own, pet names the baby-name counts leave
out, and a first-person narrator named by the others. Stories written for these tests."""

from __future__ import annotations

from pathlib import Path

from audiobook.attribution import NARRATOR, Character, attribute
from audiobook.attribution.gender import gender_of_noun
from audiobook.attribution.names import given_name_gender, prior_gender
from audiobook.load import parse_story
from audiobook.segment import segment


def _speakers(text: str) -> dict[str, Character]:
    return {c.name: c for c in attribute(segment(parse_story(Path("story.txt"), text, "utf-8"))).characters}


def test_a_name_always_said_with_the_gets_the_pronoun_of_its_tags() -> None:
    # "the Tinker" is never a name cast discovery keeps (always after "the"); a tag makes it a speaker
    text = (
        "The road ran down to the ford. The Tinker sat on the bank with his pack beside him.\n\n"
        '"Pots to mend?" said the Tinker, rubbing his hands.\n\n'
        '"None today," said Mara. She walked on.\n\n'
        '"Knives, then?" called the Tinker, lifting his pack.\n'
    )
    found = _speakers(text)
    assert found["Tinker"].lines == 2
    assert found["Tinker"].gender == "male"
    assert found["Mara"].gender == "female"


def test_a_description_of_no_gender_takes_the_pronoun_of_its_own_tags() -> None:
    text = (
        "Rain beat on the inn windows all evening.\n\n"
        '"Is there a room?" asked the stranger, shaking the water from her cloak.\n\n'
        '"One," said the landlord.\n\n'
        '"I will take it," said the stranger, and she set down her bag.\n'
    )
    found = _speakers(text)
    assert found["the stranger"].lines == 2
    assert found["the stranger"].gender == "female"
    assert found["the landlord"].gender == "male"


def test_a_description_without_any_evidence_stays_unknown() -> None:
    text = 'The bell rang twice.\n\n"Who is there?" asked the stranger.\n\n"Only the wind," said the porter.\n'
    found = _speakers(text)
    assert found["the stranger"].gender is None  # nothing says: a voice that fits either


def test_a_speaker_who_says_what_they_are() -> None:
    text = (
        "Something moved in the empty chair.\n\n"
        '"Do not be afraid," said the Shadow. "I am only a tired old woman."\n\n'
        '"Where are you?" cried Tom.\n\n'
        '"Here," said the Shadow.\n'
    )
    assert _speakers(text)["Shadow"].gender == "female"


def test_gendered_nouns_in_descriptions() -> None:
    assert gender_of_noun("a man's voice") == "male"  # the owner of a voice
    assert gender_of_noun("the man's wife") == "female"  # the one owned, not the owner
    assert gender_of_noun("the Invisible Man") == "male"
    assert gender_of_noun("the Frog-Footman") == "male"
    assert gender_of_noun("an old washerwoman") == "female"
    assert gender_of_noun("the ambassadress") == "female"
    assert gender_of_noun("a lady or gentleman") is None  # either
    assert gender_of_noun("the human") is None
    assert gender_of_noun("the stranger") is None


def test_a_pet_name_the_name_counts_leave_out_has_the_sex_of_its_full_names() -> None:
    assert given_name_gender("Jem") is None and prior_gender("Jem") == "male"  # James
    assert given_name_gender("Babs") is None and prior_gender("Babs") == "female"  # Barbara
    assert prior_gender("Robert") == "male" and prior_gender("Kitty") == "female"
    assert prior_gender("Tony") == "male"  # in the counts themselves: they decide
    assert prior_gender("Grzegorzewski") is None
    text = '"Rain again," said Jem.\n\n"It always rains here," said Jem.\n'
    assert _speakers(text)["Jem"].gender == "male"


def test_a_narrator_named_by_the_others_is_not_also_a_nameless_speaker() -> None:
    # The narrator's lines before the others name him are mentions of "narrator"; once named, a
    # conversation without tags must not bring that name back as a second person.
    text = (
        "I reached the farm at dusk.\n\n"
        '"Well, Daniel, you came," said Aunt Ruth.\n\n'
        '"I said I would," I replied.\n\n'
        '"Daniel! Sit down, Daniel," said Uncle Ned.\n\n'
        '"Thank you," I said.\n\n'
        "We ate in silence for a while.\n\n"
        '"The harvest was poor."\n\n'
        '"I heard."\n\n'
        '"We may sell the top field."\n\n'
        '"Must you?"\n'
    )
    script = attribute(segment(parse_story(Path("story.txt"), text, "utf-8")))
    assert script.narrator == "Daniel"
    speakers = {line.speaker for line in script.lines if line.kind == "dialogue"}
    assert NARRATOR not in speakers
    assert "Daniel" in speakers


def test_a_speaker_known_only_by_name_takes_the_pronoun_of_its_speech_tags() -> None:
    # no he/she ever follows the name in the narration; the tags the sieve gave him say "he"
    text = (
        '"Sit down," said Holmes.\n\n'
        '"You have been abroad, I perceive," he said.\n\n'
        '"Never mind how I know," he answered, smiling.\n'
    )
    assert _speakers(text)["Holmes"].gender == "male"


def test_a_creature_the_story_calls_it_keeps_no_gender() -> None:
    # one stray "she" (the girl it speaks to) against its own "its": neither a man nor a woman
    text = (
        "The Beetle sat on the leaf and folded its wings. It looked at Maud for a long time.\n\n"
        '"Who are you?" said the Beetle, as if she had asked it first.\n\n'
        '"I hardly know," said Maud. She sighed.\n\n'
        "The Beetle rubbed its feelers together.\n\n"
        '"Explain yourself," said the Beetle.\n'
    )
    found = _speakers(text)
    assert found["Beetle"].gender is None
    assert found["Maud"].gender == "female"


def test_a_coordinated_description_is_not_one_person() -> None:
    # "an old lady or gentleman" is either of two; "the gentleman" later is a man of his own
    text = (
        "The shop sold umbrellas to any old lady or gentleman who came in out of the rain.\n\n"
        "The door opened and a gentleman came in, shaking his hat.\n\n"
        '"An umbrella, please," said the gentleman.\n'
    )
    found = _speakers(text)
    assert "a lady or gentleman" not in found and "an old lady or gentleman" not in found
    assert any(c.gender == "male" for name, c in found.items() if "gentleman" in name)


def test_a_rank_on_a_family_name_never_joins_a_woman_of_that_family() -> None:
    from audiobook.attribution.aliases import _Person

    sister = _Person(keys=["Fanny Harville"], given={"Fanny"}, family={"Harville"})
    assert not sister.takes("Captain", None)  # Captain Harville is her brother
    captain = _Person(keys=["Captain Harville"], family={"Harville"})
    captain.add("Captain Harville", "Captain", 3)
    assert not captain.takes("Miss", "female")
    assert captain.takes("Mr", "male")


def _turns(text: str) -> list[str | None]:
    script = attribute(segment(parse_story(Path("story.txt"), text, "utf-8")))
    return [line.speaker for line in script.lines if line.kind == "dialogue"]


def test_sir_between_a_man_and_a_woman_is_said_by_the_woman() -> None:
    # no tags: the turns would alternate from the last named (Mr. Grey); "sir" says the other way round
    text = (
        "Ellen came in with the tea. Mr. Grey stood by the window.\n\n"
        "The clock struck four.\n\n"
        '"Will that be all?"\n\n'
        '"Yes, thank you."\n\n'
        '"Very good, sir."\n'
    )
    assert _turns(text) == ["Ellen", "Mr. Grey", "Ellen"]


def test_maam_between_a_man_and_a_woman_is_said_by_the_man() -> None:
    text = (
        "Tom brought the horses round. Mrs. Hale waited on the step.\n\n"
        "The morning was cold.\n\n"
        '"Are they ready?"\n\n'
        '"Ready, ma\'am."\n\n'
        '"Then we go."\n'
    )
    assert _turns(text) == ["Mrs. Hale", "Tom", "Mrs. Hale"]


def test_my_husband_between_a_man_and_a_woman_is_said_by_the_woman() -> None:
    from audiobook.attribution.addressed import speaker_gender

    assert speaker_gender('"My husband is out."') == "female"
    assert speaker_gender('"My poor wife!"') == "male"
    assert speaker_gender('"Your husband is out."') is None  # the listener's, not the speaker's
    assert speaker_gender('"My wife and my husband"') is None  # both: no word on either
    # no tags: the turns would alternate from the last named (Mr. Grey); "my husband" says the other way round
    text = (
        "Ellen came in with the tea. Mr. Grey stood by the window.\n\n"
        "The clock struck four.\n\n"
        '"Is anyone at home?"\n\n'
        '"Only me."\n\n'
        '"My husband will be back at six."\n'
    )
    assert _turns(text) == ["Ellen", "Mr. Grey", "Ellen"]


def test_sir_decides_nothing_unless_a_man_and_a_woman_talk() -> None:
    from audiobook.attribution.addressed import listener_gender

    assert listener_gender('"Very good, sir."') == "male"
    assert listener_gender('"Yes, ma\'am," and "Mamma!"') == "female"
    assert listener_gender('"Sir Walter is here."') is None  # a title, not an address
    assert listener_gender('"Yes, sir; no, madam."') is None  # both: no word on either
    text = (
        "The clerk looked up. Mr. Grey stood by the window.\n\n"
        "The clock struck four.\n\n"
        '"Will that be all?"\n\n'
        '"Yes, thank you."\n\n'
        '"Very good, sir."\n'
    )
    assert _turns(text) == ["Mr. Grey", "the clerk", "Mr. Grey"]  # the alternation stands


def test_nursery_words_and_a_dear_before_them_call_a_man_or_a_woman() -> None:
    from audiobook.attribution.addressed import listener_gender

    assert listener_gender('"Poor mumsy."') == "female"
    assert listener_gender('"Mummy, look!"') == "female"
    assert listener_gender('"Can I come too, daddy?"') == "male"
    assert listener_gender('"Yes, my dear sir, I am sure."') == "male"
    assert listener_gender('"Good night, dear madam."') == "female"
    assert listener_gender('"Is mummy coming?"') is None  # spoken of, not to
    assert listener_gender('"Dear me!"') is None


def test_a_lead_in_the_turns_contradict_gives_way_with_them() -> None:
    # the lead-in names the son last, but she is the one who talks first: "mumsy" says the turns
    # go the other way round, from the very first line
    text = (
        "Mrs. Hale came home at noon and sat down in the hall. Her son was dressed by then.\n\n"
        '"What did you do last night?"\n\n'
        '"I went to a dance at the club."\n\n'
        '"Was it good?"\n\n'
        '"Poor mumsy, you always want to know."\n'
    )
    assert _turns(text)[1::2] == ["her son", "her son"]
    assert _turns(text)[0::2] == ["Mrs. Hale", "Mrs. Hale"]


def test_calling_one_of_the_two_by_name_counts_for_the_turns() -> None:
    # the man tells what the boy said to him ("sir"), but he calls Ellen by name: his line stays his
    text = (
        "Ellen came in with the tea. Mr. Grey stood by the window.\n\n"
        "The clock struck four.\n\n"
        '"Will that be all?"\n\n'
        '"Yes, thank you."\n\n'
        '"The boy at the gate said \'Yes, sir,\' and ran off before I could ask him, Ellen."\n'
    )
    assert _turns(text) == ["Mr. Grey", "Ellen", "Mr. Grey"]


def test_she_never_resolves_to_a_man_known_only_by_his_given_name() -> None:
    # neither name has a he or she of its own; Edward is the nearer subject, but "she" is Clara
    text = (
        "Clara opened the gate for Edward. Edward walked through and looked up at the house.\n\n"
        '"It is late," she said.\n'
    )
    assert _turns(text) == ["Clara"]


def test_a_family_name_alone_in_a_tag_is_the_man_of_the_family() -> None:
    # by the old convention "Hall" is Mr. Hall, though Mrs. Hall is named more and more lately
    text = (
        "Mrs. Hall kept the inn, and Mr. Hall drove the cart. Mrs. Hall was busy in the kitchen.\n\n"
        '"Is the stranger up yet?" said Hall.\n\n'
        '"Not yet," said Mrs. Hall.\n'
    )
    assert _turns(text) == ["Mr. Hall", "Mrs. Hall"]


def test_a_lead_in_ending_in_a_comma_is_the_tag_of_the_line_after_it() -> None:
    # the paragraph before ends "…, saying," and the line is a paragraph of its own: the one saying
    # it speaks, not the subject of the sentence before (Mr. Hale)
    text = (
        "Mr. Hale stood at the gate. As they walked up the path, Mrs. Reed turned to her sister, saying,\n\n"
        '"The garden is lovely this year."\n'
    )
    assert _turns(text) == ["Mrs. Reed"]


def test_a_lead_in_ending_in_a_dash_is_the_tag_of_the_line_after_it() -> None:
    # `…, added--` closes the paragraph: the one who added speaks, not the subject named before (Mr. Hale)
    text = (
        "Mr. Hale answered for the horses, and named a price; and Mrs. Reed, after the little pause which"
        " followed, added--\n\n"
        '"The grey one is lame."\n'
    )
    assert _turns(text) == ["Mrs. Reed"]
    assert _turns(text.replace("added--", "added—")) == ["Mrs. Reed"]
