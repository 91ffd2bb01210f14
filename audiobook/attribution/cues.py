"""Cues to who speaks a quote: speech tags on either side (`said Kaito`, `Haku said`, `"…," the
saloon-keeper demanded`), action beats (`Haku sighed.`), lines that introduce a quote (`He heard
her speak.`), and names called inside quotes (`"Haku, wait!"`). Each cue is a phrase, resolved to
a character by `referents.Resolver`."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..segment import Segment
from .characters import STOP_WORDS, SUBJECT_VERB, TITLES, Cast
from .context import Rule
from .gender import GENDERED_NOUNS
from .names import CALLING_NAMES, NAME_SCAN, TITLE_GAP
from .patterns import before_capital, word_starts, word_trie
from .referents import LOOSE_NOMINAL, NOMINAL, PERSON_NOUNS

SPEECH_VERBS = frozenset(
    """said says say asked asks replied replies answered answers cried cries called calls
    shouted shouts whispered whispers muttered mutters murmured murmurs exclaimed exclaims
    added adds continued continues began begins hissed hisses snapped snaps sighed sighs
    groaned groans gushed gushes argued argues interjected interjects explained explains
    suggested suggests noted notes urged urges lied lies croaked croaks rasped rasps
    repeated repeats yelled yells screamed screams laughed laughs sobbed sobs growled growls
    stammered stammers stuttered stutters mumbled mumbles insisted insists demanded demands
    wondered wonders told tells agreed agrees admitted admits breathed breathes pleaded
    pleads responded responds retorted retorts remarked remarks offered offers
    whined whines sang sings returned resumed observed inquired enquired cried faltered
    protested declared announced ventured persisted pursued interrupted exclaimed
    thought thinks went goes roared bellowed chuckled giggled grinned smiled sneered
    recalled reminded warned promised assured commanded ordered instructed begged
    confessed conceded concluded corrected echoed gasped grumbled howled joked moaned
    mused panted prompted proposed quoted reasoned recited rejoined reported retorted
    scoffed screeched shrieked sniffed snorted spluttered sputtered squeaked squealed
    teased thundered trilled wailed wept whimpered hollered lamented acknowledged
    explained queried questioned interposed volunteered ejaculated vociferated remonstrated expostulated
    assented hazarded opined averred asserted affirmed stated maintained contended objected cautioned
    counselled advised entreated implored besought appealed drawled lisped blurted stormed raged fumed
    bawled barked grunted purred cooed intoned chanted hinted taunted mocked jeered chided scolded rebuked
    reproved admonished exhorted commented proceeded finished piped""".split()
)
KIN_VOCATIVE = re.compile(
    r"(?:^[\"“'‘]?|[,!?;]\s+|\b(?:[Oo]h|[Dd]ear|[Mm]y)\s+)([Uu]ncle|[Aa]unt|[Cc]ousin|[Ss]ister|[Bb]rother)(?=\s*[,!?.…;—-])"
)
PARENT_VOCATIVE = re.compile(  # `"I cannot agree with you, papa"`; not `"My father!"`, nor `"Father Brown,"`
    r"(?:^[\"“'‘]?|[,!?;]\s+|\b(?:[Oo]h|[Dd]ear)\s+)([Pp]apa|[Mm]amma|[Mm]ama|[Mm]other|[Ff]ather)(?=\s*[,!?.…;—-])"
)
NAME_ASKED = re.compile(
    r"\b(?:your|yer|thy)\s+name\b|\bwhat\s+(?:is\s+|was\s+)?(?:the\s+)?name\b|\bwho are (?:you|ye)\b", re.I
)


def asks_name(quote: str) -> bool:
    """`NAME_ASKED.search(quote)`, tried only on the few quotes holding a `name` or a `who are`."""
    lower = quote.lower()
    return ("name" in lower or "who are " in lower) and NAME_ASKED.search(quote) is not None


_NOT_AN_END = r"(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bMme\.)"  # `Mrs. Crane`: no sentence ends
SENTENCES = re.compile(rf"(?<=[.!?…]){_NOT_AN_END}['’\"”)]*\s+")


@dataclass(frozen=True)
class Who:
    """A speaker as a tag or beat names it, before resolution."""

    phrase: str  # a name, a description ("the old man"), or a pronoun ("she", "I")
    rule: Rule
    confidence: float
    after_verb: bool = False  # `said Small`: the phrase follows the speech verb, so it is someone's name


# The readings of a phrase or a run of narration below are pure functions of their text, asked
# again of the same text by several rules of one quote or paragraph (the tag after a quote is the
# tag before the next; the listeners of a tag read it too): the recent answers are kept.
_RECENT = 1024

# a title and the gap after it, if the name has one (`Mr. `, `Lady `)
_TITLED = "(?:(?:" + "|".join(TITLES) + ")" + TITLE_GAP + ")?"
NAME_PHRASE = re.compile(
    rf"{_TITLED}(?:Ma?c)?[A-Z][a-z]+(?:['’][A-Z][a-z]+)?(?:-(?:[a-z]+|[A-Z][a-z]+)){{0,3}}(?:\s+(?:Ma?c)?[A-Z][a-z]+){{0,5}}"
)


_VERB_TRIE = word_trie(SPEECH_VERBS)
# `said Kaito`: where the name after a speech verb starts (group 1), tried at the verbs that stand
# before a capital (`_VERB_BEFORE_CAPITAL`, found reading backwards)
_AFTER_VERB = re.compile(rf"\b(?:{_VERB_TRIE})\s+({NAME_PHRASE.pattern})")
_VERB_BEFORE_CAPITAL = before_capital(SPEECH_VERBS)
# `Haku said`: NAME_PHRASE and the verb after it, written to open with the name's first capital (of
# its title, its `Mac` or itself), the same alternatives tried in the same order after it: the
# scanner jumps from one capital to the next, where `(?=[A-Z])` has it try every character
_HEAD = rf"{_TITLED}(?:Ma?c)?[A-Z][a-z]+"
if not NAME_PHRASE.pattern.startswith(_HEAD):
    raise ValueError("NAME_PHRASE no longer opens with _HEAD: write _BEFORE_VERB anew")
# (each title as the rest of it, then a look-behind for its capital: a branch opening with a letter
# is passed over at once where the text has another)
_BEFORE_VERB = re.compile(
    "[A-Z](?:(?:" + "|".join(f"{t[1:]}(?<={t})" for t in TITLES) + ")"
    rf"{TITLE_GAP}(?:Ma?c)?[A-Z][a-z]+|(?<=M)a?c[A-Z][a-z]+|[a-z]+)"
    rf"{NAME_PHRASE.pattern[len(_HEAD):]}\s+(?:\w+ly\s+)?(?:{_VERB_TRIE})\b"
)


def tag_positions(text: str, narration: list[tuple[int, int]]) -> set[int]:
    """Where the subject of a speech tag starts (`said Kaito`, `Haku said`), in the narration spans.

    What one pattern of both kinds would find, one match after another (`finditer`), each kind
    found by a pattern the scanner runs fast: the next `said Kaito` among the verbs before a
    capital, the next `Haku said` from capital to capital; whichever starts first is the match,
    and the search goes on after it."""
    verbs = word_starts(text, _VERB_BEFORE_CAPITAL)
    found = set()
    for start, end in narration:
        k, after = _after_verb(text, verbs, bisect_left(verbs, start), start, end)
        before = _BEFORE_VERB.search(text, start, end)
        while after or before:
            if after and (before is None or after.start() < before.start()):
                found.add(after.start(1))
                pos = after.end()
            else:
                assert before is not None
                found.add(before.start())
                pos = before.end()
            if after and after.start() < pos:
                k, after = _after_verb(text, verbs, k + 1, pos, end)
            if before and before.start() < pos:
                before = _BEFORE_VERB.search(text, pos, end)
    return found


def _after_verb(text: str, verbs: list[int], k: int, pos: int, end: int) -> tuple[int, re.Match[str] | None]:
    """The first `said Kaito` from `pos` up to `end`, tried at `verbs[k:]`: its index there and the match."""
    while k < len(verbs) and verbs[k] < end:
        if verbs[k] >= pos and (m := _AFTER_VERB.match(text, verbs[k], end)):
            return k, m
        k += 1
    return k, None


# Capitalised words that never name the subject of a speech tag, even right after its verb.
_NOT_SUBJECTS = frozenset(
    """I It They We You The A An This That These Those His Her Its Their Our Your My And But Or So If Then
    When While As At In On Of For To From By With Yes No Not Nothing Everything Someone Anyone Everyone
    Nobody Somebody Anybody Everybody Something Anything""".split()
)
_NAME_AFTER = re.compile(r"\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\b(?!['’]s)")  # `the poet Syme`, not `the boy Tom's`
_OWNER = re.compile(rf"['’]s\s+(?:{PERSON_NOUNS})\b")  # `the child's nurse`
# `Dan's girl`, `Mr. Bumble's good lady`, `Oliver's benefactress`: a person known by whose they are
_OWNED_NOUNS = word_trie(  # (not `Mary's voice`: the owner's own, who speaks)
    [n for n in (*PERSON_NOUNS.split("|"), *GENDERED_NOUNS["female"], *GENDERED_NOUNS["male"]) if n != "voice"]
)
_NAME_OWNS = re.compile(rf"['’]s\s+(?:[a-z]+\s+)?(?:{_OWNED_NOUNS})\b(?![-'’])")
_PRONOUN = re.compile(r"(?:I|he|she|He|She)\b")
_THE_NAME = re.compile(r"[Tt]he\s+(?=[A-Z])")
_SUBJECT_AND_VERB = re.compile(rf"\b(I|he|she|{NAME_PHRASE.pattern})\s+(?:\w+ly\s+)?(\w+)")
_LISTENER = re.compile(
    r"\b(?:to|asked|told|answered|addressed)\s+(" + _TITLED + r"[A-Z][a-z]+)"
)


@lru_cache(maxsize=_RECENT)
def speaker_phrase(phrase: str) -> str | None:
    """The speaker named at the start of a phrase: a name, a pronoun or a description."""
    m = NOMINAL.match(phrase)
    if m:
        named = _NAME_AFTER.match(phrase, m.end())
        if named and named.group(1) not in STOP_WORDS:
            return named.group(1)  # `replied the poet Syme`: the name
        owner = _OWNER.match(phrase[m.end() :])
        # `the child's nurse`: the nurse; `the girl's lip`: the girl
        return m.group(0) + owner.group(0) if owner else m.group(0)
    m = _PRONOUN.match(phrase)
    if m:
        return m.group(0)
    the = _THE_NAME.match(phrase)  # `said the Caterpillar`, `the King said`: a name with "the"
    m = NAME_PHRASE.match(phrase, the.end() if the else 0)
    if m is None:
        return None
    words = m.group(0).split()
    end = m.end()
    owned = None if the else _NAME_OWNS.match(phrase, end)
    if owned:  # `said Dan's girl`, `asked Mr. Bumble's good lady`: the one owned speaks, not the owner
        end = owned.end()
    if words[0].rstrip(".") in TITLES and len(words) > 1:
        return phrase[:end]  # `Miss Betsey`, `Mrs. Hall`: after a title any capitalised word is a name
    if words[0] not in STOP_WORDS or (the and (words[-1] not in STOP_WORDS or words[0].rstrip(".") in TITLES)):
        return phrase[:end]
    return None


def is_speech_verb(word: str) -> bool:
    return word.lower().strip(",.;:!?") in SPEECH_VERBS


_GOING_ON = frozenset(("went", "goes"))  # speech verbs only as `went on`


def _speaks_at(words: Sequence[str], k: int) -> bool:
    """Whether `words[k]` is a speech verb where it stands: `went`/`goes` only before `on` (`he went
    on`, not `he went down on his knee`, `he went back, and Nanny said`)."""
    word = words[k].lower().strip(",.;:!?")
    if word in _GOING_ON:
        return k + 1 < len(words) and words[k + 1].lower().strip(",.;:!?") == "on"
    return word in SPEECH_VERBS


_TAG_WORDS = 6


@lru_cache(maxsize=_RECENT)
def tag_after(narr: str, quote_open_ended: bool) -> Who | None:
    """`"…," Kaito said` / `"…," said Kaito` / `"…" she asked` at the start of the run after a quote."""
    narr = narr.lstrip(" ,—–-\n")
    heard = _heard_saying(narr)
    if heard:
        return heard[1]  # `Mary heard her say`: not Mary
    quote_open_ended = quote_open_ended or narr[:1].islower()  # `"Gratuity?" hinted Tuppence.`
    # the first six words and the rest in one: the readings below look at the first six at most,
    # and only ask whether there are more than two (splitting a long paragraph after a quote into
    # all its words cost more than reading the tag)
    words = narr.split(maxsplit=_TAG_WORDS)
    if not words:
        return None
    if len(words) > 2 and words[0].lower().endswith("ly") and is_speech_verb(words[1]):
        narr, words = narr[len(words[0]) :].lstrip(), words[1:]  # `"Back!" suddenly cried Sikes`
    if is_speech_verb(words[0]) and len(words) > 1:  # said Kaito / said the old man / says he
        rest = narr[len(words[0]) :].lstrip()
        who = speaker_phrase(rest)
        name = NAME_PHRASE.match(rest)
        if not who and name and name.group(0).split()[0] not in _NOT_SUBJECTS:
            who = name.group(0)  # `said Pooh`: right after the verb even a word like an interjection is a name
        loose = LOOSE_NOMINAL.match(rest)
        if (
            not who
            and loose
            and re.match(r"\s*(?:[,.;!?—–-]|$|\s(?:as|with|in|at|to|from|who|and|[a-z]+ly)\b)", rest[loose.end() :])
        ):
            who = loose.group(0)  # `said the saloon-keeper.` / `said the porter carelessly`: a tag's description speaks
        if who:
            return Who(who, "speech-verb", 0.95, after_verb=True)
        calling = _CALLING_AFTER.match(rest)
        if calling:  # `said nanny.`: a calling used as a name, the cast's if it holds it (never a new one)
            return Who(calling.group(1).capitalize(), "speech-verb", 0.9)
    calling = _CALLING_BEFORE.match(narr)
    if calling and is_speech_verb(calling.group(2)):
        return Who(calling.group(1).capitalize(), "speech-verb", 0.9)  # `"…," nanny said`
    if words[0].lower() in ("the", "a", "an", "another") and not speaker_phrase(narr):
        for n in range(2, min(5, len(words))):  # `the saloon-keeper demanded`, `the old ferry-keeper said`
            if is_speech_verb(words[n]) and all(re.fullmatch(r"[a-z][a-z-]*[a-z]", w) for w in words[1:n]):
                return Who(" ".join(words[:n]), "speech-verb", 0.9)
    owned = re.match(r"[A-Z][a-z]+['’]s(?:\s+[a-z][a-z-]+){1,3}(?=\s+(\w+))", narr)
    if owned and is_speech_verb(owned.group(1)):
        return Who(owned.group(0), "speech-verb", 0.9)  # `"…," Strether's new acquaintance pursued`
    who = speaker_phrase(narr)
    if who:
        next_words = [w.strip(",.!?;:").lower() for w in narr[len(who) :].split(maxsplit=3)[:3]]
        if next_words and (
            _speaks_at(next_words, 0)
            or (len(next_words) > 1 and next_words[0].endswith("ly") and next_words[1] in SPEECH_VERBS)
        ):
            return Who(who, "speech-verb", 0.95)
        clause = re.split(r"[,;.!?]", narr[len(who) :], maxsplit=1)[0].split()
        if NOMINAL.match(who) and any(is_speech_verb(w) for w in clause[1:5]):
            return Who(who, "speech-verb", 0.9)  # `a boy wearing glasses interjected`
        if quote_open_ended and next_words and re.fullmatch(r"[a-z]+ed", next_words[0]):
            return Who(who, "speech-tag", 0.85)  # `"…," Big Medicine stated`: any verb after a comma
    if narr[:1].islower():  # the quote is part of a sentence: `"Hi!" was the first thing she said to me.`
        clause = _CLAUSE_END.split(narr, maxsplit=1)[0]
        if re.search(r"\bmy\s+(?:\w+\s+)?(?:reply|answer|response|retort|words)\b", clause):
            return Who("I", "speech-verb", 0.85)
        own = _WAS_HIS_REPLY.search(clause) or _ALL_THAT.search(clause)
        if own:  # `"…," was her consoling reflection` / `came his answer` / `was Mr Shepherd's rejoinder`
            who = {"his": "he", "her": "she"}.get(own.group(1), own.group(1))
            return Who(who, "speech-verb", 0.85)
        m = _SUBJECT_AND_VERB.search(clause)
        verb = [m.group(2), *clause[m.end(2) :].split()[:1]] if m else []
        if m and _speaks_at(verb, 0) and (m.group(1) in ("I", "he", "she") or speaker_phrase(m.group(1))):
            return Who(m.group(1), "speech-verb", 0.85)
    if (
        quote_open_ended
        and re.fullmatch(r"[a-z]+ed", words[0])
        and len(words) > 1
        and words[1][:1].isupper()
        or (quote_open_ended and re.fullmatch(r"[a-z]+ed", words[0]) and len(words) > 1 and words[1] in ("he", "she"))
    ):
        who = speaker_phrase(narr[len(words[0]) :].lstrip())
        if who:
            return Who(who, "speech-tag", 0.85, after_verb=True)  # `"…," fleered Happy Jack`
    return None


_CALLINGS = "|".join(sorted(CALLING_NAMES))
_CALLING_AFTER = re.compile(rf"({_CALLINGS})(?=\s*(?:[,.;:!?—–-]|$))")  # `said nanny.`
_CALLING_BEFORE = re.compile(rf"({_CALLINGS})\s+(?:\w+ly\s+)?(\w+)")  # `nanny said`
_CLAUSE_END = re.compile(r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)[.;!?]")  # not `Mr. Hale`
_WAS_HIS_REPLY = re.compile(
    r"\b(?:was|were|came|being)\s+(?:[a-z]+ly\s+|therefore\s+|then\s+)?"
    r"(his|her|" + _TITLED + r"[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?(?=['’]s\s))(?:['’]s)?\s+"
    r"(?:[a-z]+\s+){0,2}(?:reply|answer|response|retort|rejoinder|words|reflection|remark|observation|comment|"
    r"exclamation|greeting|inquiry|enquiry|question|language|amendment|injunction|declaration|entreaty|assurance|"
    r"apology|explanation|protest|cry|speech|salutation|advice|suggestion|objection|proposal|request|reproach|"
    r"reproof|rebuke|command|farewell|conclusion|verdict|reasoning|argument|account)\b"
)
_REPLY_NOUNS = _WAS_HIS_REPLY.pattern.split("(?:reply|", 1)[1].split(")\\b", 1)[0]
# `and Elizabeth's reply was, "…"`: a lead-in naming whose the line is
_REPLY_WAS = re.compile(
    r"\b(his|her|" + _TITLED + r"[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)['’]?s?\s+(?:[a-z]+\s+)?"
    rf"(?:reply|{_REPLY_NOUNS})\s+(?:was|were)\s*[,:—–-]*\s*$"
)
# `"…" was all that Harriet, with many tender embraces, could articulate`
_ALL_THAT = re.compile(
    r"\bwas\s+all\s+(?:that\s+)?(?P<who>he|she|" + _TITLED + r"[A-Z][a-z]+)\b[^.;!?]{0,60}?"
    r"\b(?:could|would|did|was\s+able\s+to)\s+(?:\w+ly\s+)?(?:say|utter|articulate|answer|reply|manage|speak)\b"
)
_OPEN_END = re.compile(r"[,—–-]\W*$")


@lru_cache(maxsize=_RECENT)
def open_ended(quote: str) -> bool:
    """A quote ending in a comma (or a dash) continues into its speech tag."""
    return bool(_OPEN_END.search(quote.rstrip()))


def listeners(narr: str) -> list[str]:
    """Names a speech tag addresses: `said he to Temple`, `he asked Katharine`; or who hears the
    quote said: `Mary heard her say`."""
    heard = _heard_saying(narr)
    if heard and heard[0][:1].isupper() and heard[0] not in ("He", "She", "I"):
        return [heard[0]]
    m = _LISTENER.search(narr[:80])
    return [m.group(1)] if m else []


_HEARER = re.compile(
    r"(I|[Hh]e|[Ss]he|[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)\s+(?:had\s+)?(?:heard|overheard|could\s+hear)\s+"
)
_HEARD_VERBS = frozenset(
    "say tell ask cry call whisper mutter murmur add exclaim speak answer reply shout sing grumble remark".split()
)


@lru_cache(maxsize=_RECENT)
def _heard_saying(narr: str) -> tuple[str, Who] | None:
    """`"…," Mary heard her say.` / `"…," I heard one small urchin grumbling`: the hearer, and the
    one heard, who speaks the quote."""
    narr = narr.lstrip(" ,—–-\n")
    m = _HEARER.match(narr)
    if not m or m.group(1) in _NOT_SUBJECTS - {"I"}:
        return None
    rest = narr[m.end() :]
    obj = re.match(r"(him|her)\b", rest)
    who = ({"him": "he", "her": "she"}[obj.group(1)] if obj else None) or speaker_phrase(rest)
    if not who:
        return None
    after = rest[obj.end() if obj else len(who) :].split()
    verb = after[0].strip(",.;:!?").lower() if after else ""
    if verb in _HEARD_VERBS or (verb.endswith("ing") and {verb[:-3], verb[:-3] + "e"} & _HEARD_VERBS):
        return m.group(1), Who(who, "speech-verb", 0.9)
    return None


# What may follow a speech verb in its tag: `called out`, `said slowly to Tom`, `began in a low voice`
_PARTICLE = (
    r"(?:\s+(?:out|in|up|back|on|forth|aloud|again|thus|(?:most\s+|very\s+|rather\s+|quite\s+)?\w+ly|to\s+\w+"
    r"|(?:in|with)\s+(?:a|an|the|his|her|my|their)\s+(?:[a-z]+\s+)?[a-z]+))"
)
# `my father, after showing a great concern at it, said to her, with a sigh,`: a subject opening a
# clause (or the sentence), or a pronoun after any word, then the speech verb that ends the sentence
_LATE_WHO = rf"(?P<who>\b(?:I|he|she|(?:[Tt]he\s+)?{NAME_PHRASE.pattern}|(?:the|my|his|her)\s+(?:[a-z]+\s+)?[a-z]+))"
_LATE_VERB = (
    r"(?:,[^,]{1,60},)?\s+(?:(?:\w+ly|soon|then|now|again|also|only|still|at once|at last)\s+){0,3}(?P<verb>[a-z]+)"
    rf"(?P<rest>{_PARTICLE}{{0,4}})(?P<end>(?:,\s*[^,\s][^,]{{0,30}})?[,:;—–-]*|\.)\s*$"
)
_CLAUSE_OPENERS = (  # what may stand before a subject opening a clause (each ending in the space before it)
    r"(?<=,\s)|(?<=\band\s)|(?<=\bthen\s)|(?<=\bthat\s)|(?<=\bhear\s)|(?<=\bheard\s)"
    r"|(?<=\bwhen\s)|(?<=\bwhile\s)|(?<=\bas\s)|(?<=\buntil\s)|(?<=\btill\s)|(?<=\bbefore\s)|(?<=\bafter\s)"
)
# One pattern at the start of the sentence, one after a space: `(?:(?:^|OPENERS)WHO|(?<=\s)PRONOUN)VERB`
# written to open with the space (its look-behinds checked after it), so that the scanner jumps from
# one space to the next (tried at every character, the look-behinds cost a third of reading a tag
# before a quote). The groups are the same; a match starts one character earlier, at the space.
_LATE_TAG_OPENING = re.compile(_LATE_WHO + _LATE_VERB)
# (the pronoun after any word: `With a stronger voice she soon added,`)
_LATE_TAG = re.compile(rf"\s(?:(?:{_CLAUSE_OPENERS}){_LATE_WHO}|(?P<pronoun>I|he|she)){_LATE_VERB}")


def _late_tag(sentence: str) -> re.Match[str] | None:
    """The subject and verb of a tag ending the sentence, where a clause opens (see `_LATE_TAG`)."""
    return _LATE_TAG_OPENING.match(sentence) or _LATE_TAG.search(sentence)


# `and around a corner Matthew said:` / `and soon afterwards Mr. Darcy, drawing near Elizabeth, said to
# her--`: a name after any word, right before the speech verb that ends the sentence (tried after
# `_LATE_TAG`, whose subjects open a clause, and without its closing phrase: `Tom whispered to Ann, and
# Ann said` is Ann's)
_LATE_NAME = re.compile(  # (the capital a name opens with looked ahead at before its titles are tried)
    rf"(?<=[a-z,;]\s)(?=[A-Z])(?P<who>{NAME_PHRASE.pattern})(?:,[^,]{{1,60}},)?\s+"
    r"(?:(?:\w+ly|soon|then|now|again|also|only|still|at once|at last)\s+){0,3}(?P<verb>[a-z]+)"
    rf"{_PARTICLE}{{0,4}}(?P<end>[,:;—–-]*)\s*$"
)
# `met by the butler, who said,`: the one the relative clause is about speaks
_WHO_SAID = re.compile(
    rf"(?P<who>\b(?:[Tt]he|[Aa]n?)\s+(?:[a-z-]+\s+){{0,2}}[a-z-]+|{NAME_PHRASE.pattern}),\s+who\s+(?:\w+ly\s+)?"
    rf"(?P<verb>[a-z]+){_PARTICLE}{{0,4}}\s*[,:;—–-]*\s*$"
)
# Speech verbs that are gestures too: ending a sentence before a quote they are a beat, not its tag.
_GESTURES = frozenset(
    "smiled laughed grinned sighed chuckled giggled sneered sniffed snorted gasped groaned moaned wept sobbed".split()
)
# Speech verbs in the infinitive, as after `heard the Rabbit` or `began to`.
_BASE_SPEECH_VERBS = frozenset("say ask cry call reply answer whisper exclaim add shout murmur mutter speak".split())


_LAST_SENTENCE = re.compile(
    rf"(?:^|[.!?;]{_NOT_AN_END}['’\"”)]*\s+)((?:[^.!?;]|(?<=\b(?:Mr|Ms|Dr|St))\.|(?<=\bMrs)\.)*[.!?]?['’\"”)]*)$"
)
_SENTENCE_END_AT = re.compile(rf"[.!?;]{_NOT_AN_END}['’\"”)]*\s+")  # how a match of _LAST_SENTENCE after ^ opens


def _last_sentence(narr: str) -> re.Match[str] | None:
    """`_LAST_SENTENCE.search(narr)`, tried only from the last sentence end: searched from the
    start, it runs to the end of the text from every sentence end (quadratic in a long paragraph).
    No match can start before that end, for its sentence holds no [.!?;] but the `Mr.` kind,
    which never ends a sentence. (A text ending in a newline, where `$` matches before it too, is
    searched whole.)"""
    k = 0 if narr[-1:].isspace() else len(narr)
    while k > 0:
        k = max(narr.rfind(c, 0, k) for c in ".!?;")
        if k >= 0 and _SENTENCE_END_AT.match(narr, k):
            return _LAST_SENTENCE.search(narr, k)
    return _LAST_SENTENCE.search(narr)


_WHAT_WAS_SAID = re.compile(
    r"(?:nothing|no|so|it|this|that|him|her|them|me|us|something|little|much|what|how|whether|about|of)\b"
)


def _speech_follows(rest: list[str]) -> bool:
    """Whether the words after a speech verb lead into the quote (`she said, with a sigh,`), not a
    sentence that ends on what was said or done (`He said nothing.`, `She told him the story.`)."""
    if not rest or not re.search(r"[.!?]['’\"”)]*$", rest[-1]):
        return True  # `Kaito said,` / `Then aloud he said abruptly:`
    return not _WHAT_WAS_SAID.match(rest[0].lower())


# (a lead-in may end in a dash: `said to her--`, `he proceeded thus--`, `by exclaiming--`)
# (`(?:\b(?:and|then)|(?<!\bthan\s)\bby|,)` opening it, the boundaries checked after the first letter
# and the `than` after `by`: the scanner jumps from one a, t, b or comma to the next)
_AND_THEN_VERB = re.compile(
    r"(?:a(?<!\w.)nd|t(?<!\w.)hen|b(?<!\w.)y(?<!\bthan\sby)|,)"
    rf"\s+(?:\w+ly\s+)?(\w++){_PARTICLE}{{0,4}}\s*[,:;—–-]*\s*$"
)
_LAST_VERB = re.compile(rf"(\w++){_PARTICLE}{{0,4}}\s*[,:;—–-]*\s*$")
# (the verb possessive: what may follow it opens with no word character, so the match never ends inside a word)
_PARTICIPLE_TAGS = frozenset(
    "saying crying asking adding exclaiming replying whispering calling shouting answering".split()
)


_WORD_RUN = re.compile(r"\w+")
# The verbs that let the end of a sentence before a quote be its tag (its last verb, lower-cased, or
# `_LATE_TAG`'s): a sentence holding none of them as a word is no tag, and is not read further.
_TAIL_VERBS = SPEECH_VERBS | _PARTICIPLE_TAGS | _BASE_SPEECH_VERBS
_TAIL_RUNS = 25  # "and"/"then", an adverb, the verb and four particles of up to four words: at most 19 runs


def _tail_start(sentence: str) -> int:
    """Where a match of `_LAST_VERB` or `_AND_THEN_VERB` can start at the earliest: they run to the
    end of the sentence over at most 19 runs of word characters, so none starts before the last
    `_TAIL_RUNS` (searched from the start, they were tried from every letter of a long sentence,
    each with its particles: a third of the time of reading speech tags)."""
    for k, run in enumerate(_WORD_RUN.finditer(sentence[::-1])):  # the runs from the end
        if k == _TAIL_RUNS:
            return len(sentence) - run.start()  # the end of the run before the last _TAIL_RUNS
    return 0


def _last_verb(sentence: str, tail: int) -> re.Match[str] | None:
    """`_LAST_VERB.search(sentence, tail)`, tried only where a word starts: a match starting inside
    a word starts at its first letter too, so the first word that matches holds the leftmost match
    (searched, the pattern was tried from every letter of each word, each time with its particles)."""
    for word in _WORD_RUN.finditer(sentence, tail):
        found = _LAST_VERB.match(sentence, word.start())
        if found:
            return found
    return None


# `Mr. Knightley got up, and in a manner graver than usual, said,`: an `and` clause opening with a
# phrase set off by the comma before its verb, not with a subject of its own
_AND_AN_ASIDE = re.compile(r"\band\s+(?:in|with|after|at|for|without|on|upon)\s+[^,]{1,60}$")
_MAIN_CLAUSE_START = re.compile(r"(?:^|(?<=,\s)|(?<=\band\s)|(?<=\bbut\s)|(?<=\bthen\s)|(?<=--)|(?<=—))(?=\S)")
_CLAUSE_START = re.compile(
    r"(?:^|(?<=,\s)|(?<=\band\s)|(?<=\bbut\s)|(?<=\bthen\s)|(?<=\bwhile\s)|(?<=\bwhen\s))(?=\S)"
)


_TAG_OPENER = re.compile(r"^(?:Then|And|But|So|At last|Finally|Presently|Now|Again)\b,?\s*")
_DASHED_END = re.compile(r"[.!?]['’\"”)]*(?:--|—)(?=[A-Z])")  # a sentence's end run on by a dash into the next
# `so heartily, that Emma could not help saying,`: the one who could not help it speaks, not the subject before
_HELP_SAYING = re.compile(
    rf"\b(?P<who>I|he|she|{NAME_PHRASE.pattern})\s+(?:could|can|cannot|couldn['’]t|can['’]t)\s+(?:not\s+)?"
    rf"(?:help|forbear|refrain\s+from)\s+(?P<verb>[a-z]+){_PARTICLE}{{0,4}}\s*[,:;—–-]*\s*$"
)

# `he was thinking of her, when thus accosted by Miss Bingley,`: the one by whom someone is addressed speaks
_ADDRESSED_BY = re.compile(
    r"\b(?:accosted|addressed|interrupted|greeted|hailed|questioned|answered)\s+(?:[a-z]+\s+)?by\s+"
    rf"(?P<who>(?:[Tt]he\s+)?{NAME_PHRASE.pattern}|(?:his|her|the)\s+[a-z]+)\s*[,:;—–-]+\s*$"
)
# `…, to say to her,` / `for him not to say`: speech as the aim of the sentence's subject (or of him or her)
_TO_SAY = re.compile(
    r"(?:\bfor\s+(?P<pronoun>him|her)\s+(?:not\s+)?|\b)to\s+(?:say|add|ask|reply|answer|observe|remark|exclaim|whisper|cry)"
    r"(?:\s+to\s+(?:him|her|them|me|us))?(?:\s+\w+ly)?\s*[,:;—–-]+\s*$"
)


def _last_subject(sentence: str, end: int, starts: re.Pattern[str]) -> str | None:
    """The last speaker phrase opening a clause (where `starts` matches) before `end` that a verb
    follows: `Katharine, with flushed cheeks, raised her head and said:` is Katharine's."""
    found = None
    for m in starts.finditer(sentence, 0, end):
        who = speaker_phrase(sentence[m.start() :])
        if who and SUBJECT_VERB.match(re.sub(r"^,[^,]{1,40},", "", sentence[m.start() + len(who) :])):
            found = who
    return found


@lru_cache(maxsize=_RECENT)
def tag_before(narr: str) -> Who | None:
    """`Kaito said, "…"` / `Then aloud he said abruptly: "…"` in the run just before the quote."""
    m = _last_sentence(narr.strip())
    sentence = m.group(1) if m else narr
    if "--" in sentence or "—" in sentence:  # `answered them very composedly.--Lady Catherine then observed,`
        ends = [m.end() for m in _DASHED_END.finditer(sentence)]
        sentence = sentence[ends[-1] :] if ends else sentence
    helpless = _HELP_SAYING.search(sentence) if "help" in sentence or "forbear" in sentence else None
    if helpless and helpless.group("verb") in _PARTICIPLE_TAGS:
        return Who(helpless.group("who"), "speech-verb", 0.85)
    agent = _ADDRESSED_BY.search(sentence) if " by " in sentence else None
    if agent and speaker_phrase(agent.group("who")) == agent.group("who"):  # `when thus accosted by Miss Bingley,`
        return Who(agent.group("who"), "speech-verb", 0.8)
    sentence = _TAG_OPENER.sub("", sentence)
    words = sentence.split()
    for k, word in enumerate(words[:6]):
        if k > 0 and _speaks_at(words, k) and _speech_follows(words[k + 1 :]) and not _spoken_later(words, k):
            if k > 1 and words[k - 1] in ("I", "he", "she"):
                return Who(words[k - 1], "speech-verb", 0.9)  # `Ironic, she thought`: the pronoun is the subject
            who = speaker_phrase(" ".join(words[:k]))
            if who and len(who.split()) >= k - 1 and not (k > 1 and words[0] == who + ","):
                # (not `Upstairs, Winnie said,`: a word set off by a comma before the subject)
                return Who(who, "speech-verb", 0.9)
            for j in range(1, k):  # `To which Mrs. Inglethorp replied:`: the name with its title
                who = speaker_phrase(" ".join(words[j:k]))
                if who and len(who.split()) == k - j:
                    return Who(who, "speech-verb", 0.9)
        if is_speech_verb(word) and k == 0 and len(words) > 1:  # "said he: …" after an interruption
            who = speaker_phrase(" ".join(words[1:]))
            if who:
                return Who(who, "speech-verb", 0.9, after_verb=True)
    if _TAIL_VERBS.isdisjoint(w.lower() for w in _WORD_RUN.findall(sentence)):
        return None  # no verb of speech in it: neither of the readings below can find a tag
    # `The old lady felt Tom's shirt, and said:` - the sentence's subject, its last verb a speech verb
    # `while the Dodo solemnly presented the thimble, saying` - its subject, its verb a participle of speech
    tail = _tail_start(sentence)
    last_verb = _last_verb(sentence, tail)  # matches wherever the `and … said` search below does
    and_then = _AND_THEN_VERB.search(sentence, tail)
    participle = bool(last_verb and last_verb.group(1) in _PARTICIPLE_TAGS)
    said = bool(
        last_verb
        and and_then
        and is_speech_verb(last_verb.group(1))
        and (not and_then.group(0).startswith(",") or _AND_AN_ASIDE.search(sentence, 0, and_then.start()))
    )
    if and_then and last_verb and (participle or said):
        # the last subject before the verb: `Jack Lawton cracked his fingers and Father Arnall … said:`
        found = _last_subject(sentence, last_verb.start(), _CLAUSE_START if participle else _MAIN_CLAUSE_START)
        if found:
            return Who(found, "speech-verb", 0.85)
    to_say = _TO_SAY.search(sentence, tail) if "to " in sentence else None
    if to_say:  # `he made use of the first pause, to say to her,` / `it was impossible for him not to say,`
        pronoun = to_say.group("pronoun")
        subject = {"him": "he", "her": "she"}.get(pronoun or "")
        found = subject or _last_subject(sentence, to_say.start(), _CLAUSE_START)
        if found:
            return Who(found, "speech-verb", 0.8)
    reply = _REPLY_WAS.search(sentence) if " was" in sentence or " were" in sentence else None
    if reply:  # `and Elizabeth's reply was,`
        return Who({"his": "he", "her": "she"}.get(reply.group(1).lower(), reply.group(1)), "speech-verb", 0.85)
    if " who " in sentence:  # `they were met by the butler, who said,`
        relative = _WHO_SAID.search(sentence)
        if relative and is_speech_verb(relative.group("verb")):
            who = speaker_phrase(relative.group("who"))  # a person: not `the old woman at the gate, who`
            if who:
                return Who(who, "speech-verb", 0.8)
    # `my father, after showing a great concern at it, said to her, with a sigh,` / `to hear the Rabbit say to itself,`
    # (a name after any word, when a subject opening a clause gives no one: `the room, Captain Wentworth said--`)
    for read in (_late_tag, _LATE_NAME.search):  # (the second searched only when the first gives no one)
        late = read(sentence)
        if late is None:
            continue
        if late.groupdict().get("pronoun"):
            if is_speech_verb(late.group("verb")):
                return Who(late.group("pronoun"), "speech-verb", 0.8)
            continue  # `but she stopped, for the Rabbit cried out,`: a name may still say it later
        verb = late.group("verb")
        if late.group("end") == "." and verb in _GESTURES:
            return None  # `and he smiled.`: a beat before the quote, not its tag
        if is_speech_verb(verb) or verb in _BASE_SPEECH_VERBS:
            phrase = late.group("who")
            who = speaker_phrase(phrase)
            if not who and LOOSE_NOMINAL.fullmatch(phrase) and late.group("end") != ".":
                who = phrase  # `the old gander say to itself`: in a speech tag, anyone
            if not who and NAME_PHRASE.fullmatch(phrase) and phrase.split()[0] not in _NOT_SUBJECTS:
                who = phrase  # `and Pooh said`: right before the verb even a word like an interjection is a name
            if who:
                return Who(who, "speech-verb", 0.8)
    return None


def _spoken_later(words: Sequence[str], k: int) -> bool:
    """Whether a speech verb after `words[k]` has a subject of its own, a pronoun or a name: `I asked
    her if she were ill, and she answered frankly:` is hers, not mine, and `Alice replied, so eagerly
    that the Gryphon said,` the Gryphon's."""
    return any(
        _speaks_at(words, j)
        and (words[j - 1] in ("I", "he", "she") or words[j - 1][:1].isupper())
        and any(w == "and" or w[-1] in ",;" for w in words[k : j - 1])  # another clause
        for j in range(k + 2, len(words))
    )


_BEAT_OPENER = re.compile(
    r"^(?:Then|And|But|So|Now|Here|Still|Suddenly|At last|At length|Finally|Presently|Again|Maybe|Perhaps|Of course|"
    r"Meanwhile|Just then|By and by|(?:Shortly|Soon|Immediately|Directly) after(?:wards)?|"
    r"(?:A|One) (?:moment|minute|little) (?:later|after)|After a (?:pause|moment|minute|while|little)|"
    # when or where: `That evening as usual she telephoned`, `At breakfast she said`, `In the hall he met`
    r"(?:That|This|Next|The next|The following|Each|Every|Later that|Early that|Late that) "
    r"(?:morning|afternoon|evening|night|day|week)|"
    r"(?:In|At|On|During|After|Before|Over) (?:the |his |her |their )?[a-z]+)\b(?: as usual)?,?\s*"
)


def beats(narr_before: str, narr_after: str) -> list[Who]:
    """Subjects of the sentences around a quote, nearest first: `Haku sighed.` / `He shook his head.`"""
    found = []
    before = [s for s in SENTENCES.split(narr_before.strip()) if s]
    after = [s for s in SENTENCES.split(narr_after.strip(), maxsplit=2) if s]  # (the first two are read)
    for k, sentence in enumerate(before[::-1][:2] + after[:2]):
        sentence = sentence.lstrip("(—–-, ")
        if k == 0 and before:  # `She was coming to him, but he stretched out his arm.` / "…": his
            last = _last_clause_subject(sentence)
            if last:
                found.append(Who(last, "action-beat", 0.7))
        sentence = _BEAT_OPENER.sub("", sentence)
        who = _subject(sentence)
        if who and (not found or found[-1].phrase != who):
            found.append(Who(who, "action-beat", 0.7))
    return found


def _subject(sentence: str) -> str | None:
    """The speaker phrase that opens `sentence`, if a verb follows it."""
    who = speaker_phrase(sentence)
    if not who:
        return None
    rest = re.sub(r"^,[^,]{1,40},", "", sentence[len(who) :])  # `Miss Bates, passing the window, saw`
    pronoun_verb = who in ("I", "He", "She", "he", "she") and re.match(
        r"\s+(?!and\b|or\b|too\b|as\b)[a-z]+(?:\s|[,.;!?]|$)", rest
    )
    return who if SUBJECT_VERB.match(rest) or re.match(r"['’]s\s", rest) or pronoun_verb else None


_MAIN_CLAUSE = re.compile(r"(?:,\s+(?:but|and|yet|so)|;\s+(?:but|and|yet|so)?|\s+and(?=\s+(?:he|she)\s))\s*(?=\S)")


def _last_clause_subject(sentence: str) -> str | None:
    """The he or she that is the subject of the last main clause of a sentence, after `, but` /
    `; and` …, if it has one (a name there is as often someone else acted on as the speaker)."""
    for m in reversed(list(_MAIN_CLAUSE.finditer(sentence))):
        clause = sentence[m.end() :]
        who = _subject(clause)
        if who and _PASSIVE.match(clause, len(who)):
            continue  # `but he was hurried off by Miss Bates`: acted on, not acting
        if who:
            return who if who.lower() in ("he", "she") else None
    return None


_PASSIVE = re.compile(r"\s+(?:was|were|had\s+been|is|being)\s+(?:\w+ly\s+)?[a-z]+(?:ed|en|wn)\b[^,;.]*\bby\b")


_VOICING = re.compile(
    r"\s+(?:\w+\s+)?(?:(?:began|started|continued|kept|went on)\s+(?:to\s+)?"
    r"(?:sing|singing|speak|speaking|talk|talking)|"
    r"sang|sings|singing|spoke|speaks)\b"
)
_VOICED = re.compile(r"s(?:ing|peak|ang|poke)|talk")  # every match of _VOICING holds one
_WHILE = re.compile(r"\b(?:[Aa]s|[Ww]hile|[Ww]hen|[Aa]fter|[Bb]efore|[Uu]ntil|[Oo]nce)\s+$")


def trailing_narration(text: str, segs: Sequence[Segment], members: list[int]) -> str:
    """The narration after a paragraph's last quote."""
    tail = []
    for i in reversed(members):
        if segs[i].kind == "dialogue":
            break
        tail.append(text[segs[i].start : segs[i].end])
    return " ".join(reversed(tail)) if tail and len(tail) < len(members) else ""


_HEARD = re.compile(
    rf"\bheard\s+(?P<who>her|him|{NAME_PHRASE.pattern})(?:['’]s\s+voice|(?:\s+(?:thus|then|now|[a-z]+ly))?"
    r"\s+(?:speak|say|call|cry|whisper|sing|laugh)\w*)\b"
    r"|(?:^|\s)(?P<owner>(?:[Aa]n?|[Tt]he)\s+(?:[a-z]+\s+)?[a-z]+)['’]s\s+voice\b"
    # `It was Brenda's voice.` (on the telephone) / `Kaito's voice came from the hall.`
    rf"|\b(?:[Ii]t|[Tt]his|[Tt]hat)\s+was\s+(?P<its>{NAME_PHRASE.pattern})['’]s\s+voice\b"
    rf"|(?:^|\s)(?:(?:Then|And|But|Now|Presently)\s+)?(?P<came>{NAME_PHRASE.pattern})['’]s\s+voice\s+"
    r"(?:came|rang|sounded|answered)\b"
)


def introducer(narr: str) -> list[Who]:
    """Whoever the last sentences before a quote hear speaking or singing: `I heard a voice singing
    to the song.` / `I kept strumming, and Miku continued singing.` (the last one named)."""
    sentences = [s for s in SENTENCES.split(narr.strip()) if s][-2:]
    for sentence in sentences[::-1]:
        heard = _HEARD.search(sentence)
        if heard:  # `He heard her speak.` / `He heard Henrietta Watkin's voice.` / `A man's voice beside her`
            who = heard.group("who") or heard.group("owner") or heard.group("its") or heard.group("came")
            return [Who({"her": "she", "him": "he"}.get(who, who), "introduced", 0.6)]
        found = None
        if not _VOICED.search(sentence):
            continue  # no word of singing or speaking: `_VOICING` matches nowhere in it
        for m in re.finditer(r"(?:^|(?<=[\s,;(—–-]))(?=\S)", sentence):
            who = speaker_phrase(sentence[m.start() :])
            if who and who != "I" and _VOICING.match(sentence, m.start() + len(who)):
                if not _WHILE.search(sentence, 0, m.start()):  # `As the young woman spoke, he rose`: she is done
                    found = who
        if found:
            return [Who(found, "introduced", 0.6)]
    return []


# A name called: at the start of the quote, or after , ! ? ; or Oh, O, Dear, My. The start is one
# pattern and the rest another, each of these opening with a letter or a mark of its own (the
# word boundary checked after it), so that the scanner jumps from one such character to the next:
# `(?:^["“'‘]?\s*|[,!?;]\s+|\b(?:Oh|O|Dear|dear|My|my),?\s+)NAME` tried everywhere took twice as long.
# (a name opens with a capital, looked ahead at first: after most commas a word in lower case fails
# there, not after its titles are tried one by one; the repeats possessive: no backtracking)
_CALLED_NAME = rf"(?=[A-Z])({NAME_PHRASE.pattern})(?=\s*+(?:[,!?.…;—-]|[\"”'’]?\s*+$))"
_CALLED_FIRST = re.compile(rf"^[\"“'‘]?\s*{_CALLED_NAME}")
_CALLED = re.compile(
    r"(?:,\s+|!\s+|\?\s+|;\s+|O(?<!\w.)h?,?\s+|D(?<!\w.)ear,?\s+|d(?<!\w.)ear,?\s+|M(?<!\w.)y,?\s+|m(?<!\w.)y,?\s+)"
    + _CALLED_NAME
)


def _apposed_to_i(quote: str, start: int, end: int) -> bool:
    """`"I, Tobble, will find it"`: a name between commas after an I opening a clause is the
    speaker's own; not `"It is I, McMurdo."`, which calls McMurdo."""
    before = quote[:start].rstrip()
    if not before.endswith("I") or not quote.startswith(",", end):
        return False
    rest = before[:-1].rstrip()
    return not rest or rest[-1] in ",.!?;:—–-\"“‘("


def _only_closing(rest: str) -> bool:
    """Nothing but a full stop or an ellipsis and a closing quotation mark: `."`, `…’`, ``."""
    rest = rest.strip()
    if rest[:1] in (".", "…"):
        rest = rest[1:].lstrip()
    return rest in ("", '"', "”", "'", "’")


def names_called(quote: str) -> list[str]:
    """Names addressed inside a quote: `"Haku, wait!"` / `"…, Kaito."` / `"Oh, Mr. Fortescue,"`."""
    found = []
    quote = quote.strip()
    first = _CALLED_FIRST.match(quote)
    for m in [first, *_CALLED.finditer(quote, first.end())] if first else _CALLED.finditer(quote):
        if m.start() == 0 and _only_closing(quote[m.end() :]):
            continue  # `"Bingley."`: a name given in answer, not someone called
        if _apposed_to_i(quote, m.start(), m.end()):
            continue  # `"I, Tobble, will find it"`: the speaker's own name, in apposition
        found.append(m.group(1))
    return found


def named_in(quote: str, cast: Cast) -> set[str]:
    """Characters a quote names: `"Poor Miss Taylor!"` is not said by Miss Taylor; nor `"…women like
    Ann Grey."` by Ann, when the cast knows her as Ann (a first name and a family name, no title)."""
    found = set()
    for m in NAME_SCAN.finditer(quote):  # (NAME_RE's matches; group 1 is set with a title only)
        name = cast.resolve(m.group(0))
        if name is None and not m.group(1) and " " in m.group(0):
            name = cast.resolve(m.group(0).split()[0])
        if name:
            found.add(name)
    return found
