"""A character's gender, by weight of evidence.

Evidence, surest first (the weights are votes):

- a gendered title on any of its names (`Miss Elizabeth`, `Sir William`, `Mrs. Bennet`): 5 a time;
- a gendered noun beside a name (`her brother, Luki`, `Lydia, her youngest sister,`): 3;
- the pronoun that goes on about a name as the subject of its sentence: `himself`/`herself` 2,
  `he`/`she`/`his`/`her` 1 (on whole novels about 97% of the first are right, 75-92% of the others);
  `its`/`itself` (`the Caterpillar took the hookah out of its mouth`) count for neither: a
  creature the story calls "it" more often than "he" or "she" keeps no gender;
- how the others address a first-person narrator (`sir`, `my dear fellow`, `ma'am`), in `narrator.py`.

The text decides when one side has more than twice the other's votes. Only when
it does not - no evidence, or evidence that contradicts itself - does the first-name prior
decide (`names.given_name_gender`: Robert is a man, Kitty a woman).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from .names import NAME_WORDS, SUBJECT_VERB, Gender, Vote, opens_sentence
from .patterns import matches_at, word_trie

if TYPE_CHECKING:
    from .characters import Cast, Mention

TITLE_VOTE = 5
NOUN_VOTE = 3
_PRONOUN_VOTE = {"she": 1, "he": 1, "her": 1, "his": 1, "herself": 2, "himself": 2, "its": 1, "itself": 2}
_PRONOUN_GENDER: dict[str, Vote] = {"she": "female", "her": "female", "herself": "female",
                                    "he": "male", "his": "male", "himself": "male", "its": "neuter", "itself": "neuter"}

GENDERED_NOUNS: dict[Gender, tuple[str, ...]] = {
    "female": ("girl", "woman", "lady", "mother", "sister", "daughter", "aunt", "queen", "princess",
               "wife", "niece", "grandmother", "widow", "maid", "girlfriend", "cousin Miss", "governess", "duchess",
               "countess", "bride", "witch", "schoolgirl", "schoolmistress", "matron", "maiden", "damsel", "nun",
               "landlady", "hostess", "waitress", "lass", "actress", "mistress", "baroness", "ambassadress",
               "laundress", "seamstress", "stewardess", "heiress", "goddess", "poetess", "authoress", "shepherdess",
               "sorceress", "murderess", "adventuress", "proprietress", "patroness", "postmistress", "housewife",
               "grandmamma", "mamma", "stepmother", "godmother", "fiancée", "spinster", "benefactress"),
    "male": ("boy", "man", "gentleman", "father", "brother", "son", "uncle", "king", "prince", "husband",
             "nephew", "grandfather", "lad", "boyfriend", "duke", "earl", "lord", "baron", "bridegroom", "schoolboy",
             "schoolmaster", "monk", "friar", "abbot", "landlord", "waiter", "fellow", "chap", "clergyman",
             "fisherman", "horseman", "workman", "watchman", "salesman", "policeman", "boatman", "ferryman",
             "postman", "cowboy", "host", "master", "parson", "priest", "vicar", "rector", "curate", "bishop",
             "chaplain", "grandpapa", "papa", "stepfather", "godfather", "bachelor", "widower", "emperor",
             "benefactor"),
}
_QUOTE_MARK = re.compile(r"[\"“”]")
_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]?")
# the words of a lower-cased window: runs of a-z, and any other character but a space alone
# (`_NEXT_WORD`); a pronoun is such a word (`_PRONOUN_WORD`, tried at an h, i or s only)
_NEXT_WORD = re.compile(r"\s*([a-z]+|[^\sa-z])")
_PRONOUN_WORD = re.compile(rf"(?:{word_trie(_PRONOUN_GENDER, '(?<![a-z].)')})(?![a-z])")
_HE_SHE = re.compile(r"(?:he|she)\b", re.IGNORECASE)
_HIM_HER = re.compile(r"\b(?:him|her)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# with the quotes taken out, `"…," Albert reported, "…"` / `She collected the cards` would read as
# one sentence: a paragraph ends one too
# (`(?<=[.!?])\s+|\s*\n\s*\n\s*`, written to open with the whitespace it starts with, so that the
# scanner jumps from one space to the next: each branch takes the whole run of spaces as before)
_SENTENCE_OR_PARAGRAPH_END = re.compile(r"\s(?:(?<=[.!?]\s)\s*|(?<=\n)\s*\n\s*|\s*\n\s*\n\s*)")
_NOT_NOUNS = frozenset("and or but as to that than with in on at for from by if when so then".split())
# `Edward, she perceived, was rolling the lawn`: a clause set off by commas right after a name,
# whose subject is a pronoun, is someone else's aside (the name's own would be "himself")
_ASIDE = re.compile(r"\s*,\s*(?:he|she)\s+(?:[a-z]+ly\s+)?[a-z]+\s*,")
# `((?:(?:Mrs?|Miss|Ms|Dr)\.?\s+)?(?:[A-Z][a-z]+\s?){1,NAME_WORDS})`, written to open with its capital
# (the title's M or D, or the name's): a pattern opening with it is tried only at capitals (5x faster)
_NAME = (
    rf"([A-Z](?:(?<=M)(?:rs?|iss|s)\.?\s+[A-Z]|(?<=D)r\.?\s+[A-Z])?[a-z]+\s?(?:[A-Z][a-z]+\s?){{0,{NAME_WORDS - 1}}})"
)


def decide(votes: Counter[Vote] | None, prior: Gender | None) -> Gender | None:
    """The gender the evidence gives: the text's when clear, else the first-name prior's; none
    for a creature called "it" more than "he" or "she"."""
    female, male, neuter = (votes["female"], votes["male"], votes["neuter"]) if votes else (0, 0, 0)
    if neuter >= 2 and neuter > max(female, male):
        return None
    high, low = max(female, male), min(female, male)
    if high > 2 * low:
        return "female" if female > male else "male"
    return prior


_PHRASE_WORDS = re.compile(r"[^\W\d_]+(?:['’]s\b)?")
_OWNED = ("'s", "’s")
_NOT_MEN = frozenset("human inhuman superhuman talisman shaman german roman norman ottoman caiman cayman".split())


def gender_of_noun(phrase: str) -> Gender | None:
    """The gender a description gives: `the old woman`, `the Invisible Man`, `the Frog-Footman`,
    `a washerwoman`; of a possessive the thing owned (`the man's wife`), unless it is a voice
    (`a man's voice`)."""
    words = _PHRASE_WORDS.findall(phrase.lower())
    owner = max((k for k, w in enumerate(words) if w.endswith(_OWNED)), default=None)
    if owner is not None:
        owned = words[owner + 1 :]
        words = owned if owned and owned[-1] != "voice" else [words[owner][:-2]]
    found: set[Gender] = {g for g, nouns in GENDERED_NOUNS.items() if any(w in nouns for w in words)}
    if not found:
        women: set[Gender] = {"female" for w in words if w.endswith("woman")}
        men: set[Gender] = {
            "male" for w in words if w.endswith("man") and not w.endswith("woman") and w not in _NOT_MEN
        }
        found = women | men
    return found.pop() if len(found) == 1 else None  # not `a lady or gentleman`


def vote(
    text: str, narration: list[tuple[int, int]], cast: Cast, tag_positions: set[int], before_capitals: list[int]
) -> None:
    """Pronoun and noun votes for every character named in the narration. `before_capitals` are
    where the words of `NOUNS_BEFORE_NAMES` (and maybe others) stand before a capital, in order
    (`patterns.word_starts`)."""
    _vote_pronouns(text, cast, tag_positions)
    _vote_nouns(text, narration, cast, before_capitals)


def _next_other(mentions: Sequence[Mention], end: int) -> list[int]:
    """For each mention, where the next mention of someone else starts (`end` if none)."""
    out: list[int] = []
    nearest, who, other = end, None, end  # the next mention, whose, and the next of someone else after it
    for m in reversed(mentions):
        out.append(other if m.character == who else nearest)
        if m.character != who:
            other = nearest
        nearest, who = m.start, m.character
    return out[::-1]


def _continues(raw: str, parts: list[str]) -> bool:
    """Whether the next sentence's opening he/she goes on about the name: not past a quote, nor
    after another him/her (`Emma waited for him. He heard…`: the same him)."""
    if not _HE_SHE.match(parts[1]) or _HIM_HER.search(parts[0]):
        return False
    return not _QUOTE_MARK.search(" ".join(_SENTENCE_END.split(raw, 2)[:2]))


def _vote_pronouns(text: str, cast: Cast, tag_positions: set[int]) -> None:
    """A name votes with the first he/she/his/himself/herself after it in its sentence (or the next
    sentence, if that one opens with a pronoun and goes on about it), before anyone else is named;
    quoted words are skipped. The name must be a subject: of a verb, of a sentence, or of a
    speech tag (`said Ellery, shaking her umbrella`)."""
    for m, gender, weight in pronoun_votes(text, cast.mentions, tag_positions):
        cast.vote(m.character, gender, weight)


def pronoun_votes(
    text: str, mentions: Sequence[Mention], tag_positions: AbstractSet[int], voters: AbstractSet[Mention] | None = None
) -> Iterator[tuple[Mention, Vote, int]]:
    """The pronoun vote of each mention (of `voters` only, if given; the other mentions only bound
    the windows): see `_vote_pronouns`."""
    backwards = text[::-1]
    for m, until in zip(mentions, _next_other(mentions, len(text)), strict=True):
        if voters is not None and m not in voters:
            continue
        raw = text[m.end : min(m.end + 240, until)]  # `When Walter came in, Martha … her sewing`: Martha's
        if _ASIDE.match(raw):
            continue
        subject = SUBJECT_VERB.match(raw) or m.start in tag_positions  # `cried Randolph, in his little voice`
        if not subject and not opens_sentence(text, backwards, m.start):
            continue  # `walked back to Kaito with her head bowed`: "her" is the subject's, not Kaito's
        parts = _SENTENCE_OR_PARAGRAPH_END.split(_QUOTED.sub(" ", raw), 2)  # (its first two sentences are read)
        window = parts[0]
        if subject and len(parts) > 1 and _continues(raw, parts):
            window += " " + parts[1]
        lowered = window.lower()
        for found in _PRONOUN_WORD.finditer(lowered):  # the first pronoun among its words
            w = found.group()
            if w == "her" and not ((nxt := _NEXT_WORD.match(lowered, found.end())) and _owned(nxt.group(1))):
                continue  # `back at her.`: not `from her desk`
            yield m, _PRONOUN_GENDER[w], _PRONOUN_VOTE[w]
            break


def _owned(word: str) -> bool:
    """Whether the word after a `her` is what she owns (`her desk`), not `her.` or `her and`."""
    return word.isalpha() and word not in _NOT_NOUNS


def _noun_patterns(nouns: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """`Lydia, her youngest sister,` (after) and what follows the name in it (tail): `after` opens
    with a name, which the scanner tries at every capital; its tail opens with a comma, which it
    finds at once, so only a span holding a tail is scanned."""
    described = rf",\s+(?:his|her|their|my|our|the|a|an)\s+(?:[a-z]+\s+){{0,2}}(?:{word_trie(nouns)})\b[,;.)]"
    return re.compile(rf"{_NAME}{described}"), re.compile(described)


_NOUN_PATTERNS = {gender: _noun_patterns(nouns) for gender, nouns in GENDERED_NOUNS.items()}  # built once
# `her brother, Luki`, `his sister Jane` (before), of both genders in one pattern: the narration is
# scanned once for both. (No match of one overlaps one of the other: a noun is a word in lower case,
# and what follows it a name.)
_NOUN_BEFORE_NAME = re.compile(
    r"\b(?:" + "|".join(rf"(?P<{gender}>{word_trie(nouns)})" for gender, nouns in GENDERED_NOUNS.items())
    + rf"),?\s+{_NAME}"
)
# the nouns of `_NOUN_BEFORE_NAME`, and what stands between one and the name, for `patterns.before_capital`
NOUNS_BEFORE_NAMES = ([noun for nouns in GENDERED_NOUNS.values() for noun in nouns], r"\s+,?")


def _vote_nouns(text: str, narration: list[tuple[int, int]], cast: Cast, before_capitals: list[int]) -> None:
    """`her brother, Luki` / `his sister Jane` / `Lydia, her youngest sister,` / `Kitty, the second girl`."""
    named_after: dict[Gender, dict[int, list[str]]] = {gender: {} for gender in GENDERED_NOUNS}  # span -> names
    for k, (start, end) in enumerate(narration):
        for m in matches_at(_NOUN_BEFORE_NAME, text, before_capitals, start, end):
            gender: Gender = "female" if m.group("female") else "male"
            named_after[gender].setdefault(k, []).append(m.group(len(GENDERED_NOUNS) + 1))
    for gender, (after, tail) in _NOUN_PATTERNS.items():  # the votes in the order of one gender at a time
        for k, (start, end) in enumerate(narration):
            names = named_after[gender].get(k, [])
            if tail.search(text, start, end):
                names = names + [m.group(1) for m in after.finditer(text, start, end)]
            for written in names:
                name = cast.resolve(written.strip())
                if name:
                    cast.vote(name, gender, NOUN_VOTE)
