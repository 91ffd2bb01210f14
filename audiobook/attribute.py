"""Attribute stage: give every dialogue run a speaker, and say which rule decided it.

A sieve, most confident rule first:

1. `continued-quote`: a quotation running on from the previous paragraph.
2. `speech-verb`: a speech tag next to the quote, either order (`said Kaito`, `Haku said`,
   `she asked`, `said the old man`, `I said`); pronouns go to the last character of that
   gender mentioned (or speaking) before the quote; a definite description never introduced as
   someone new ("the doctor", "the mother") is the named character it stands for (`_Resolver.epithet`).
3. `same-paragraph`: another quote of the same paragraph was tagged.
4. `action-beat`: the subject of a sentence around the quote in its paragraph (`Haku sighed.`).
5. `turn-taking`: in a run of dialogue paragraphs speakers alternate (A-B-A), counted from the
   nearest attributed paragraph either side.
6. `vocative`: the one addressed by name in the previous line answers.
7. `last-mentioned` / `first-person`: the last character named, or a first-person narrator.

Also: `self-introduction` (`"I'm Miku!"`), `introduced` (`I heard a voice singing.` before a
song), and from `unnamed.py` voices recognised later and `memory` (remembered voices).

Cast discovery lives in `characters.py`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .characters import NAME_RE, SUBJECT_VERB, STOP_WORDS, TITLES, Cast, Gender, Mention, find_cast, gender_of_noun
from .segment import Kind, Segment, Segmentation
from .turns import turn_taking
from .unnamed import identify_descriptions, identify_voices, memories, self_introduced, voice_gender

NARRATOR = "narrator"  # the name of a first-person narrator whose name the text never reveals

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
_SUBJECT_PRONOUNS: dict[str, Gender | None] = {"he": "male", "she": "female", "i": None}
_PERSON_NOUNS = (
    "man|woman|girl|boy|lady|gentleman|child|kid|teacher|voice|stranger|student|teenager|member|guard|"
    "doctor|nurse|officer|waiter|waitress|clerk|driver|captain|parson|priest|vicar|servant|maid|landlord|"
    "landlady|soldier|sailor|fellow|youth|lad|lass|stranger|visitor|host|hostess|housekeeper|porter|"
    "footman|coachman|butler|cook|gardener|farmer|merchant|judge|lawyer|colonel|major|sergeant|king|"
    "queen|prince|princess|knight|squire|monk|nun|creature|dwarf|giant|child|baby|infant|person|"
    "mother|father|sister|brother|aunt|uncle|wife|husband|grandmother|grandfather|friend|companion|"
    "stranger|newcomer|conductor|policeman|constable|inspector|detective|professor|master|mistress|"
    "son|daughter|step-son|stepson|step-daughter|nephew|niece|cousin|guest|partner|comrade|neighbour|neighbor|"
    "surgeon|physician|clergyman|minister|preacher|rector|curate|bishop|chaplain|abbot|friar|hermit|governess|"
    "postman|shopkeeper|storekeeper|innkeeper|barkeeper|bartender|shepherd|hunter|fisherman|woodman|miner|"
    "blacksmith|carpenter|tailor|baker|butcher|barber|peasant|villager|traveller|traveler|passenger|pilgrim|"
    "beggar|tramp|thief|robber|prisoner|convict|jailer|warden|sheriff|marshal|deputy|ranger|cowboy|rider|"
    "horseman|scout|chief|mate|boatswain|pilot|skipper|admiral|general|lieutenant|corporal|trooper|secretary|"
    "agent|banker|manager|proprietor|tenant|undertaker|auctioneer|attorney|magistrate|coroner|governor|mayor|"
    "duke|duchess|count|countess|baron|earl|lord|widow|bride|bridegroom|lover|maiden|damsel|matron|urchin|"
    "youngster|schoolboy|schoolgirl|pupil|scholar|schoolmaster|schoolmistress|tutor|witch|wizard|fairy|ghost|"
    "chap|boatman|ferryman|messenger|page|herald|jester|pedlar|peddler|hawker|vendor|customer|salesman|"
    "apprentice|labourer|laborer|workman|watchman|gatekeeper|doorkeeper|sentry|sentinel|keeper|jailor"
)
_NOMINAL = re.compile(
    rf"\b(?P<det>[Tt]he|[Aa]n?|[Oo]ne|[Aa]nother|[Tt]his|[Tt]hat|[Mm]y|[Hh]is|[Hh]er|[Tt]heir|[Oo]ur)\s+"
    rf"(?P<adj>(?:[a-z][a-z-]+,?\s+){{0,2}})(?P<noun>{_PERSON_NOUNS})s?\b"
)
# In a speech tag any description is someone: `"…?" the saloon-keeper demanded.`
_LOOSE_NOMINAL = re.compile(r"(?P<det>[Tt]he|[Aa]n?|[Aa]nother|[A-Z][a-z]+['’]s)\s+(?P<adj>(?:[a-z][a-z-]+(?:['’]s)?\s+){0,2})(?P<noun>[a-z][a-z-]*[a-z])")
_NOUN_TITLES = {
    "doctor": ("Dr", "Doctor"), "captain": ("Captain",), "colonel": ("Colonel",), "major": ("Major",),
    "sergeant": ("Sergeant",), "professor": ("Professor",), "judge": ("Judge",), "parson": ("Parson",),
    "king": ("King",), "queen": ("Queen",), "prince": ("Prince",), "princess": ("Princess",),
    "inspector": ("Inspector",), "aunt": ("Aunt",), "uncle": ("Uncle",),
}
_NOT_EPITHETS = frozenset("voice stranger visitor newcomer person creature guest member".split())
# `said the man`: a speech tag calls a named character by rank or kinship ("said the mother"), but
# "the man" there is nearly always someone the story has not named.
_STRANGERS = frozenset("man gentleman fellow".split())
_EPITHET_REACH = 1500
_UNKNOWN_OVER = 5
_POSSESSIVE = 0.3
_LEAD_IN = 600  # characters: "just before" a quote  # a he/she goes to someone of unsure gender who is far more present than anyone sure
_PRONOUN_REACH = 3000  # characters back (about a page) in which a he/she is still looked for
_POSSESSIVE_KIN = re.compile(r"^(?P<det>his|her|their)\s+(?:[\w-]+\s+)?(?P<noun>[\w-]+)$")
_UNGENDERED_KIN = frozenset("cousin friend companion partner guest visitor host comrade".split())
_PARENT_TITLES = {"mother": ("Mrs", "Lady", "Madame", "Mme"), "father": ("Mr", "Sir", "Lord", "Monsieur")}
_SPOUSE_TITLE = {"wife": ("Mr", "Mrs"), "lady": ("Mr", "Mrs"), "husband": ("Mrs", "Mr")}
_KIN_VOCATIVE = re.compile(r"(?:^[\"“'‘]?|[,!?;]\s+|\b(?:[Oo]h|[Dd]ear|[Mm]y)\s+)([Uu]ncle|[Aa]unt|[Cc]ousin|[Ss]ister|[Bb]rother)(?=\s*[,!?.…;—-])")
_NAME_ASKED = re.compile(r"\b(?:your|yer|thy)\s+name\b|\bwhat\s+(?:is\s+|was\s+)?(?:the\s+)?name\b|\bwho are (?:you|ye)\b", re.I)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_SENTENCES = re.compile(r"(?<=[.!?…])['’\"”)]*\s+")
@dataclass(frozen=True)
class Character:
    name: str
    aliases: tuple[str, ...] = ()
    gender: Gender | None = None
    lines: int = 0


@dataclass(frozen=True)
class Line:
    """A segment with who speaks it. Narration has speaker None (the narrator voice)."""

    start: int
    end: int
    kind: Kind
    paragraph: int
    speaker: str | None = None
    rule: str | None = None
    confidence: float = 0.0


@dataclass(frozen=True)
class Script:
    segmentation: Segmentation
    lines: tuple[Line, ...]
    characters: tuple[Character, ...]
    narrator: str | None  # the first-person narrator's name, NARRATOR if never revealed, None if third person

    @property
    def story(self):
        return self.segmentation.story


@dataclass(frozen=True)
class _Who:
    """A speaker as a tag or beat names it, before resolution."""

    phrase: str  # a name, a description ("the old man"), or a pronoun ("she", "I")
    rule: str
    confidence: float


class _Resolver:
    """Turns phrases into characters: names through the cast, pronouns through recent mentions."""

    def __init__(self, text: str, cast: Cast, narrator: str | None) -> None:
        self.text = text
        self.cast = cast
        self.narrator = narrator
        self.nominal_heads: dict[str, str] = {}  # head noun -> latest unnamed character with it
        self.nominal_gender: dict[str, Gender | None] = {}
        self.one_off: set[str] = set()  # unnamed speakers introduced as "one man", "a girl"
        self.voices: set[str] = set()  # "a familiar voice": someone not yet recognised

    def nominal(self, phrase: str, pos: int, new: bool | None = None, speaker: bool = True) -> str | None:
        bare = phrase.rstrip(",.;:!?")
        m = _NOMINAL.fullmatch(bare) or _LOOSE_NOMINAL.fullmatch(bare)
        if not m:
            return None
        det = m.group("det").lower()
        noun = m.group("noun")
        if det.endswith(("'s", "’s")):  # `Strether's new acquaintance`: someone known by whose they are
            name = " ".join(phrase.rstrip(",.;:!?").split())
            self.nominal_heads[name] = name
            self.nominal_gender.setdefault(name, gender_of_noun(name))
            return name
        if det in ("his", "her", "their"):
            return None  # "his wife": a pronoun in disguise, handled by the caller
        if noun == "voice" and det not in ("a", "an", "another", "one", "the"):
            return None  # "his voice", "my voice": the owner speaks; handled by the caller
        if det == "my" and self.narrator is None:
            return None
        name = det + phrase[m.start("det") + len(det) : m.end()].rstrip(",")
        name = " ".join(name.split())
        head = noun if det != "my" else name
        if det in ("the", "my") and head not in self.nominal_heads and new is None:
            named = self.epithet(noun, pos, det == "the" and noun not in _STRANGERS)
            if named:
                return named
        starts_new = det in ("a", "an", "one", "another") if new is None else new
        if not starts_new and head in self.nominal_heads:
            name = self.nominal_heads[head]
        elif det == "the" and head in self.nominal_heads:
            name = self.nominal_heads[head]
        self.nominal_heads[head] = name
        if starts_new and det != "my" and speaker and noun != "voice":
            self.one_off.add(name)  # a voice is someone to be recognised, not a passer-by
        if noun == "voice":
            self.voices.add(name)
        self.nominal_gender.setdefault(name, gender_of_noun(name))
        return name

    def epithet(self, noun: str, pos: int, generic: bool, exclude: set[str] = frozenset()) -> str | None:
        """`the young man`, `my mother`, `the doctor` never introduced as someone new ("a doctor"):
        a named character the story calls so - one with the noun's title (`Dr. Archie`), else the
        most salient named character of the noun's gender in the last few paragraphs."""
        titles = _NOUN_TITLES.get(noun)
        recent = [m for m in self.cast.mentioned_before(pos) if pos - m.start < _EPITHET_REACH]
        named = [m.character for m in recent if m.character not in self.nominal_gender and m.character not in exclude]
        if titles:
            return next((c for c in named if c.split()[0].rstrip(".") in titles), None)
        if noun in _NOT_EPITHETS or not generic:
            return None
        gender = gender_of_noun(noun)
        scores: Counter[str] = Counter()
        for k, c in enumerate(named):
            if c != self.narrator and gender and self.cast.gender(c) == gender:
                scores[c] += 0.8**k
        return scores.most_common(1)[0][0] if scores else None

    def titled(self, description: str, pos: int) -> str | None:
        """`the parson` first, `Parson Tringham` named later: the one character the story calls by
        the description's title soon after it (`_EPITHET_REACH` * 2)."""
        m = _NOMINAL.match(description)
        titles = _NOUN_TITLES.get(m.group("noun")) if m and m.group("det").lower() == "the" else None
        if not titles:
            return None
        named = {x.character for x in self.cast.mentioned_after(pos, pos + 2 * _EPITHET_REACH)}
        named |= {x.character for x in self.cast.mentioned_before(pos)}
        hits = [c for c in named if self._titled(c, titles)]
        return hits[0] if len(hits) == 1 else None

    def kin(self, word: str) -> str | None:
        """The one character the story gives a kinship title: "uncle" -> Uncle John (John Linden)."""
        title = word.capitalize()
        names = [c for c in dict.fromkeys(self.cast.forms.values()) if self._titled(c, (title,))]
        return names[0] if len(names) == 1 else None

    def _titled(self, name: str, titles: tuple[str, ...]) -> bool:
        return any(f.split()[0].rstrip(".") in titles for f in (name, *self.cast.aliases.get(name, ())))

    def gender(self, name: str) -> Gender | None:
        if name in self.nominal_gender:
            return self.nominal_gender[name]
        return self.cast.gender(name)

    def pronoun(self, gender: Gender | None, pos: int, exclude: set[str]) -> str | None:
        """The most salient character of `gender` before `pos`: recent mentions count most, and
        a subject (`Haku sighed`) or a speaker more than an object; one-off unnamed speakers
        ("one man") count little."""
        scores: Counter[str] = Counter()
        unknown: Counter[str] = Counter()  # characters whose gender the text never settles
        for k, m in enumerate(self.cast.mentioned_before(pos)):
            if m.character in exclude or m.character == self.narrator:
                continue
            if m.character in self.one_off and pos - m.start > 400:
                continue  # "one man" said something once; a later "he" is someone else
            if pos - m.start > _PRONOUN_REACH:
                break  # `Lord Palmerston opened the mine` pages ago: not the "he" of this line
            g = self.gender(m.character)
            if g is not None and g != gender:
                continue
            weight = 0.8**k
            if m.character in self.nominal_gender and m.start != m.end:
                weight *= 0.5  # "A large man stood behind the counter": a description, not a name
            if self.text.startswith(("'s ", "’s "), m.end):
                weight *= _POSSESSIVE  # `thrusting a hand into Stephen's pocket, he said`: Stephen is not he
            if m.start == m.end:
                weight *= 1.5  # the speaker of a quote
            elif SUBJECT_VERB.match(self.text, m.end):
                weight *= 1.5
            if m.start != m.end and not _PARAGRAPH_BREAK.search(self.text, m.end, pos):
                weight *= 3  # named in the quote's own paragraph: `Miku smiled. "…," she said.`
            if m.character in self.one_off:
                weight *= 0.5  # "another boy" said one thing; a named character nearby is likelier
            (scores if g == gender else unknown)[m.character] += weight
        if scores:
            best, score = scores.most_common(1)[0]
            if unknown and best in self.one_off and unknown.most_common(1)[0][1] * 0.5 > score:
                return unknown.most_common(1)[0][0]  # `Kaito looked at the group… "…?" he asked`
            if unknown and unknown.most_common(1)[0][1] > _UNKNOWN_OVER * score:
                return unknown.most_common(1)[0][0]  # the one in the scene, though the text never said "she"
            return best
        if unknown:
            return unknown.most_common(1)[0][0]
        return self._cataphora(gender, pos, exclude)

    def _cataphora(self, gender: Gender | None, pos: int, exclude: set[str]) -> str | None:
        """Nobody before: `"Hi!" was the first thing she said to me.` / `"I'm Miku!"` - the first
        character of that gender named soon after (in narration or introducing themselves)."""
        for m in self.cast.mentioned_after(pos, pos + 1500):
            if m.character in exclude or m.character == self.narrator:
                continue
            if self.gender(m.character) in (gender, None):
                return m.character
        return None

    def possessive(self, det: str, noun: str, phrase: str, pos: int, exclude: set[str]) -> str | None:
        """`his wife`: Mrs. Bennet when "his" is Mr. Bennet; else the salient character of the noun's
        gender other than the owner; else an unnamed character called by the phrase ("her visitor")."""
        owner_gender = _SUBJECT_PRONOUNS.get({"his": "he", "her": "she"}.get(det, ""), None)
        owner = None
        if det != "their":  # `"…," replied Kitty. / "…," cried her mother`: her is the one who just spoke
            last = next((m for m in self.cast.mentioned_before(pos)[:6] if m.start == m.end), None)
            if last and pos - last.start < _LEAD_IN and self.gender(last.character) in (owner_gender, None) and last.character != self.narrator:
                owner = last.character
            else:
                owner = self.pronoun(owner_gender, pos, set())
        titles = _SPOUSE_TITLE.get(noun)
        if owner and titles:
            m = re.match(rf"{titles[0]}\.?\s+(?:[A-Z][a-z]+\s+)*([A-Z][a-z]+)$", owner)
            spouse = self.cast.resolve(f"{titles[1]} {m.group(1)}") if m else None
            if spouse:
                return spouse
        introduced = [
            self.cast.resolve(m.group(1).strip())
            for m in re.finditer(rf"\b(?:his|her|their|my)\s+{re.escape(noun)},?\s+((?:[A-Z][a-z]+\s?)+)", self.text[max(0, pos - 4 * _EPITHET_REACH) : pos])
        ]
        introduced = [c for c in introduced if c and c != owner and c not in exclude]
        if introduced:
            return introduced[-1]  # `her cousin Curtis` earlier: "said her cousin" is Curtis
        if phrase in self.nominal_gender:
            return phrase
        gender = gender_of_noun(noun)
        if noun in _PARENT_TITLES:  # `said her mother`: the married woman of the scene, else someone unnamed
            recent = [m.character for m in self.cast.mentioned_before(pos) if pos - m.start < 2 * _EPITHET_REACH]
            parent = next((c for c in recent if c != owner and c not in exclude and self._titled(c, _PARENT_TITLES[noun])), None)
            if parent:
                return parent
        if gender and noun not in ("husband", "wife"):  # a spouse not found by title is someone unnamed
            who = self.pronoun(gender, pos, exclude | ({owner} if owner else set()))
            if who and (noun not in _PARENT_TITLES or self.gender(who) == gender):
                return who
        if gender is None and noun in _UNGENDERED_KIN:
            others = exclude | {owner, self.narrator}
            return next((m.character for m in self.cast.mentioned_before(pos)[:12] if m.character not in others), None)  # not her
        if gender is None:
            return None
        self.nominal_gender[phrase] = gender
        return phrase

    def resolve(self, phrase: str, pos: int, exclude: set[str] = frozenset()) -> str | None:
        lw = phrase.lower()
        if lw == "i":
            return self.narrator
        if lw in ("he", "she"):
            return self.pronoun(_SUBJECT_PRONOUNS[lw], pos, exclude)
        kin = _POSSESSIVE_KIN.match(lw)
        if kin:
            return self.possessive(kin.group("det"), kin.group("noun"), " ".join(lw.split()), pos, exclude)
        name = self.cast.resolve(phrase)
        if name:
            return name
        return self.nominal(phrase, pos)


_NAME_PHRASE = re.compile(
    rf"(?:(?:{'|'.join(TITLES)})\.?\s+)?(?:Ma?c)?[A-Z][a-z]+(?:['’][A-Z][a-z]+)?(?:-[a-z]+)?(?:\s+(?:Ma?c)?[A-Z][a-z]+)*"
)


def _speaker_phrase(phrase: str) -> str | None:
    """The speaker named at the start of a phrase: a name, a pronoun or a description."""
    m = _NOMINAL.match(phrase)
    if m:
        owner = re.match(rf"['’]s\s+(?:{_PERSON_NOUNS})\b", phrase[m.end() :])
        return m.group(0) + owner.group(0) if owner else m.group(0)  # `the child's nurse`: the nurse; `the girl's lip`: the girl
    m = re.match(r"(?:I|he|she|He|She)\b", phrase)
    if m:
        return m.group(0)
    m = _NAME_PHRASE.match(phrase)
    words = m.group(0).split() if m else []
    if words and words[0].rstrip(".") in TITLES and len(words) > 1:
        words = words[1:]  # `Miss Betsey`: the title is no stop word here
    if words and words[0] not in STOP_WORDS:
        return m.group(0)
    return None


def _is_speech_verb(word: str) -> bool:
    return word.lower().strip(",.;:!?") in SPEECH_VERBS


def _tag_after(narr: str, quote_open_ended: bool) -> _Who | None:
    """`"…," Kaito said` / `"…," said Kaito` / `"…" she asked` at the start of the run after a quote."""
    narr = narr.lstrip(" ,—–-\n")
    quote_open_ended = quote_open_ended or narr[:1].islower()  # `"Gratuity?" hinted Tuppence.`
    words = narr.split()
    if not words:
        return None
    if _is_speech_verb(words[0]) and len(words) > 1:  # said Kaito / said the old man / says he
        rest = narr[len(words[0]) :].lstrip()
        who = _speaker_phrase(rest)
        loose = _LOOSE_NOMINAL.match(rest)
        if not who and loose and re.match(r"\s*(?:[,.;!?—–-]|$|\s(?:as|with|in|at|to|from|who|and)\b)", rest[loose.end() :]):
            who = loose.group(0)  # `said the saloon-keeper.`: anyone a speech tag describes speaks
        if who:
            return _Who(who, "speech-verb", 0.95)
    if words[0].lower() in ("the", "a", "an", "another") and not _speaker_phrase(narr):
        for n in range(2, min(5, len(words))):  # `the saloon-keeper demanded`, `the old ferry-keeper said`
            if _is_speech_verb(words[n]) and all(re.fullmatch(r"[a-z][a-z-]*[a-z]", w) for w in words[1:n]):
                return _Who(" ".join(words[:n]), "speech-verb", 0.9)
    owned = re.match(r"[A-Z][a-z]+['’]s(?:\s+[a-z][a-z-]+){1,3}(?=\s+(\w+))", narr)
    if owned and _is_speech_verb(owned.group(1)):
        return _Who(owned.group(0), "speech-verb", 0.9)  # `"…," Strether's new acquaintance pursued`
    who = _speaker_phrase(narr)
    if who:
        rest = [w.strip(",.!?;:").lower() for w in narr[len(who) :].split()[:3]]
        if rest and (rest[0] in SPEECH_VERBS or (len(rest) > 1 and rest[0].endswith("ly") and rest[1] in SPEECH_VERBS)):
            return _Who(who, "speech-verb", 0.95)
        clause = re.split(r"[,;.!?]", narr[len(who) :], maxsplit=1)[0].split()
        if _NOMINAL.match(who) and any(_is_speech_verb(w) for w in clause[1:5]):
            return _Who(who, "speech-verb", 0.9)  # `a boy wearing glasses interjected`
        if quote_open_ended and rest and re.fullmatch(r"[a-z]+ed", rest[0]):
            return _Who(who, "speech-tag", 0.85)  # `"…," Big Medicine stated`: any verb after a comma
    if narr[:1].islower():  # the quote is part of a sentence: `"Hi!" was the first thing she said to me.`
        clause = re.split(r"[.;!?]", narr, maxsplit=1)[0]
        if re.search(r"\bmy\s+(?:\w+\s+)?(?:reply|answer|response|retort|words)\b", clause):
            return _Who("I", "speech-verb", 0.85)
        m = re.search(rf"\b(I|he|she|{_NAME_PHRASE.pattern})\s+(?:\w+ly\s+)?(\w+)", clause)
        if m and _is_speech_verb(m.group(2)) and (m.group(1) in ("I", "he", "she") or _speaker_phrase(m.group(1))):
            return _Who(m.group(1), "speech-verb", 0.85)
    if quote_open_ended and re.fullmatch(r"[a-z]+ed", words[0]) and len(words) > 1 and words[1][:1].isupper() or (
        quote_open_ended and re.fullmatch(r"[a-z]+ed", words[0]) and len(words) > 1 and words[1] in ("he", "she")
    ):
        who = _speaker_phrase(narr[len(words[0]) :].lstrip())
        if who:
            return _Who(who, "speech-tag", 0.85)  # `"…," fleered Happy Jack`
    return None


_TAG_BEFORE = re.compile(
    r"(?:^|[.!?;]\s+|,\s+(?:and|but|then)\s+|\band\s+|\bthen\s+)"
    r"(?P<who>[^.!?;]{1,40}?)\s+(?:\w+ly\s+)?(?P<verb>[a-z]+)\b[^.!?\"“”]{0,60}[,:]?\s*$"
)


def _open_ended(quote: str) -> bool:
    """A quote ending in a comma (or a dash) continues into its speech tag."""
    return bool(re.search(r"[,—–-]\W*$", quote.rstrip()))


def _listeners(narr: str) -> list[str]:
    """Names a speech tag addresses: `said he to Temple`, `he asked Katharine`."""
    m = re.search(r"\b(?:to|asked|told|answered|addressed)\s+((?:(?:" + "|".join(TITLES) + r")\.?\s+)?[A-Z][a-z]+)", narr[:80])
    return [m.group(1)] if m else []


_LATE_TAG = re.compile(
    rf"(?:^|(?<=,\s)|(?<=\band\s)|(?<=\bthen\s)|(?<=\bthat\s)|(?<=\bhear\s)|(?<=\bheard\s))"
    rf"(?P<who>\b(?:I|he|she|{_NAME_PHRASE.pattern}|(?:the|my|his|her)\s+(?:[a-z]+\s+)?[a-z]+))"
    r"(?:,[^,]{1,60},)?\s+(?:\w+ly\s+)?(?P<verb>[a-z]+)(?:\s+to\s+\w+)?(?:,\s*[^,\s][^,]{0,30})?[,:—–-]*\s*$"
)


def _tag_before(narr: str) -> _Who | None:
    """`Kaito said, "…"` / `Then aloud he said abruptly: "…"` in the run just before the quote."""
    m = re.search(r"(?:^|[.!?;]\s+)([^.!?;]*)$", narr.strip())
    sentence = m.group(1) if m else narr
    sentence = re.sub(r"^(?:Then|And|But|So|At last|Finally|Presently|Now|Again)\b,?\s*", "", sentence)
    words = sentence.split()
    for k, word in enumerate(words[:6]):
        if _is_speech_verb(word) and k > 0:
            who = _speaker_phrase(" ".join(words[:k]))
            if who and len(who.split()) >= k - 1:
                return _Who(who, "speech-verb", 0.9)
            who = _speaker_phrase(" ".join(words[k - 1 : k]))
            if who:
                return _Who(who, "speech-verb", 0.9)
        if _is_speech_verb(word) and k == 0 and len(words) > 1:  # "said he: …" after an interruption
            who = _speaker_phrase(" ".join(words[1:]))
            if who:
                return _Who(who, "speech-verb", 0.9)
    # `The old lady felt Tom's shirt, and said:` - the sentence's subject, its last verb a speech verb
    if re.search(r"\b(?:and|then)\s+(?:\w+ly\s+)?(\w+)(?:\s+\w+ly)?(?:\s+to\s+\w+)?\s*[,:]?\s*$", sentence) and _is_speech_verb(
        re.search(r"(\w+)(?:\s+\w+ly)?(?:\s+to\s+\w+)?\s*[,:]?\s*$", sentence).group(1)
    ):
        found = None  # the last subject before the verb: `Jack Lawton cracked his fingers and Father Arnall … said:`
        for m in re.finditer(r"(?:^|(?<=,\s)|(?<=\band\s)|(?<=\bthen\s))(?=\S)", sentence):
            who = _speaker_phrase(sentence[m.start() :])
            if who and SUBJECT_VERB.match(sentence, m.start() + len(who)):
                found = who
        if found:
            return _Who(found, "speech-verb", 0.85)
    # `my father, after showing a great concern at it, said to her, with a sigh,` / `to hear the Rabbit say to itself,`
    late = _LATE_TAG.search(sentence)
    if late and _is_speech_verb(late.group("verb")):
        who = _speaker_phrase(late.group("who"))
        if not who and _LOOSE_NOMINAL.fullmatch(late.group("who")):
            who = late.group("who")  # `the old gander say to itself`: in a speech tag, anyone
        if who:
            return _Who(who, "speech-verb", 0.8)
    return None


def _beats(narr_before: str, narr_after: str) -> list[_Who]:
    """Subjects of the sentences around a quote, nearest first: `Haku sighed.` / `He shook his head.`"""
    found = []
    before = [s for s in _SENTENCES.split(narr_before.strip()) if s]
    after = [s for s in _SENTENCES.split(narr_after.strip()) if s]
    for sentence in before[::-1][:2] + after[:2]:
        sentence = sentence.lstrip("(—–-, ")
        sentence = re.sub(r"^(?:Then|And|But|So|Now|Here|Still|Suddenly|At last|Finally|Presently|Again)\b,?\s*", "", sentence)
        who = _speaker_phrase(sentence)
        if not who:
            continue
        rest = sentence[len(who) :]
        pronoun_verb = who in ("I", "He", "She", "he", "she") and re.match(r"\s+(?!and\b|or\b|too\b|as\b)[a-z]+(?:\s|[,.;!?]|$)", rest)
        if SUBJECT_VERB.match(rest) or re.match(r"['’]s\s", rest) or pronoun_verb:
            found.append(_Who(who, "action-beat", 0.7))
    return found


_VOICING = re.compile(
    r"\s+(?:\w+\s+)?(?:(?:began|started|continued|kept|went on)\s+(?:to\s+)?(?:sing|singing|speak|speaking|talk|talking)|"
    r"sang|sings|singing)\b"
)


def _trailing_narration(text: str, segs: list[Segment], members: list[int]) -> str:
    """The narration after a paragraph's last quote."""
    tail = []
    for i in reversed(members):
        if segs[i].kind == "dialogue":
            break
        tail.append(text[segs[i].start : segs[i].end])
    return " ".join(reversed(tail)) if tail and len(tail) < len(members) else ""


_HEARD = re.compile(
    rf"\bheard\s+(?P<who>her|him|{_NAME_PHRASE.pattern})(?:['’]s\s+voice|\s+(?:speak|say|call|cry|whisper|sing|laugh)\w*)\b"
    r"|(?:^|\s)(?P<owner>(?:[Aa]n?|[Tt]he)\s+(?:[a-z]+\s+)?[a-z]+)['’]s\s+voice\b"
)


def _introducer(narr: str) -> list[_Who]:
    """Whoever the last sentences before a quote hear speaking or singing: `I heard a voice singing
    to the song.` / `I kept strumming, and Miku continued singing.` (the last one named)."""
    sentences = [s for s in _SENTENCES.split(narr.strip()) if s][-2:]
    for sentence in sentences[::-1]:
        heard = _HEARD.search(sentence)
        if heard:  # `He heard her speak.` / `He heard Henrietta Watkin's voice.` / `A man's voice beside her`
            who = heard.group("who") or heard.group("owner")
            return [_Who({"her": "she", "him": "he"}.get(who, who), "introduced", 0.6)]
        found = None
        for m in re.finditer(r"(?:^|(?<=[\s,;(—–-]))(?=\S)", sentence):
            who = _speaker_phrase(sentence[m.start() :])
            if who and who != "I" and _VOICING.match(sentence, m.start() + len(who)):
                found = who
        if found:
            return [_Who(found, "introduced", 0.6)]
    return []


def _vocatives(quote: str) -> list[str]:
    """Names addressed inside a quote: `"Haku, wait!"` / `"…, Kaito."` / `"Oh, Mr. Fortescue,"`."""
    found = []
    for m in re.finditer(
        r"(?:^[\"“'‘]?\s*|[,!?;]\s+|\b(?:Oh|O|Dear|dear|My|my),?\s+)"
        rf"({_NAME_PHRASE.pattern})(?=\s*[,!?.…;—-]|\s*[\"”'’]?\s*$)",
        quote.strip(),
    ):
        if m.start() == 0 and re.match(r"\s*[.…]?\s*[\"”'’]?\s*$", quote.strip()[m.end() :]):
            continue  # `"Bingley."`: a name given in answer, not someone called
        found.append(m.group(1))
    return found


def _named_in(quote: str, cast: Cast) -> set[str]:
    """Characters a quote names: `"Poor Miss Taylor!"` is not said by Miss Taylor."""
    found = set()
    for m in NAME_RE.finditer(quote):
        name = cast.resolve(m.group(0))
        if name:
            found.add(name)
    return found


def _first_person(text: str, narration: list[tuple[int, int]]) -> bool:
    words: Counter[str] = Counter()
    for start, end in narration:
        words.update(w.lower() for w in re.findall(r"[A-Za-z]+", text[start:end]))
    first = words["i"] + words["me"] + words["my"]
    third = sum(words[w] for w in ("he", "she", "his", "her", "him"))
    if first > 0.5 * third and first >= 3:
        return True
    # a frame narrator who says little about themselves but speaks: `"…?" I inquired.`
    tags = sum(1 for start, end in narration if re.match(rf"\W*(?:I\s+(?:\w+ly\s+)?(?:{_VERBS})\b|(?:{_VERBS})\s+I\b)", text[start:end]))
    return tags >= 2


_VERBS = "|".join(sorted(SPEECH_VERBS))
_TAG_SCAN = re.compile(
    rf"(?:\b(?:{'|'.join(sorted(SPEECH_VERBS))})\s+(?P<a>{_NAME_PHRASE.pattern}))|"
    rf"(?P<b>{_NAME_PHRASE.pattern})\s+(?:\w+ly\s+)?(?:{'|'.join(sorted(SPEECH_VERBS))})\b"
)


def attribute(seg: Segmentation) -> Script:
    """Give every dialogue segment a speaker and say which rule decided it."""
    text = seg.story.text
    segs = list(seg.segments)
    narration = [(s.start, s.end) for s in segs if s.kind == "narration"]
    tag_positions = set()
    for start, end in narration:
        for m in _TAG_SCAN.finditer(text, start, end):
            tag_positions.add(m.start("a") if m.group("a") else m.start("b"))
    cast = find_cast(text, narration, tag_positions)
    first_person = _first_person(text, narration)
    narrator_name = _narrator_name(seg, cast) if first_person else None
    resolver = _Resolver(text, cast, narrator_name or NARRATOR if first_person else None)

    by_paragraph: dict[int, list[int]] = {}
    for i, s in enumerate(segs):
        by_paragraph.setdefault(s.paragraph, []).append(i)

    decided: dict[int, tuple[str, str, float]] = {}  # segment index -> speaker, rule, confidence
    paragraph_speaker: dict[int, tuple[str, str, float]] = {}
    vocatives: dict[int, list[str]] = {}  # paragraph -> characters addressed in it
    named: dict[int, set[str]] = {}  # paragraph -> characters its quotes talk about
    last_quote: int | None = None

    introduced_as: dict[int, str] = {}  # `"I'm Miku!"`: a quote whose speaker says who they are
    asking: set[int] = set()  # paragraphs asking for a name: `"Tell us your name!"` / `"Pip, sir."`
    answered: dict[int, str] = {}  # paragraph -> the name it gives in answer
    for i, s in enumerate(segs):
        if s.kind == "dialogue":
            quote = text[s.start : s.end]
            who = self_introduced(quote, cast)
            if s.paragraph - 1 in asking and not who:
                m = NAME_RE.match(quote.lstrip("\"“‘' "))
                if m and m.group(0) not in STOP_WORDS and not cast.resolve(m.group(0)):
                    cast.forms[m.group(0)] = m.group(0)  # `"Nell."`: a name said only in answer
                who = cast.resolve(m.group(0)) if m and m.group(0) not in STOP_WORDS else None
                if who:
                    answered[s.paragraph] = who
            if who and who != resolver.narrator:
                introduced_as[i] = who
                cast.add_mention(Mention(s.start, s.start, who))
            if _NAME_ASKED.search(quote):
                asking.add(s.paragraph)

    narration_only: dict[int, str] = {}
    for p, members in by_paragraph.items():
        quotes = [i for i in members if segs[i].kind == "dialogue"]
        for i in members:  # `A large man … stood behind a counter.`: a description as a candidate
            if segs[i].kind == "narration":
                _describe(text, segs[i], resolver, cast)
        if not quotes:
            narration_only[p] = " ".join(text[segs[i].start : segs[i].end] for i in members)
            continue
        addressed = []
        for i in quotes:
            for v in _vocatives(text[segs[i].start : segs[i].end]):
                name = cast.resolve(v)
                if name and introduced_as.get(i) != name:
                    addressed.append(name)
            for kin in _KIN_VOCATIVE.findall(text[segs[i].start : segs[i].end]):
                name = resolver.kin(kin)
                if name and name not in addressed:
                    addressed.append(name)  # `"Surely, uncle, …"`: the one the story calls Uncle John
        vocatives[p] = addressed
        named[p] = {n for i in quotes for n in _named_in(text[segs[i].start : segs[i].end], cast)} - set(addressed)
        exclude = set(addressed)
        tags: dict[int, tuple[str, str, float]] = {}
        for i in quotes:
            s = segs[i]
            if s.continues and last_quote is not None and last_quote in decided:
                tags[i] = (decided[last_quote][0], "continued-quote", 0.9)
                continue
            nxt = segs[i + 1] if i + 1 < len(segs) and segs[i + 1].paragraph == p else None
            prv = segs[i - 1] if i > 0 and segs[i - 1].paragraph == p else None
            if nxt is not None and nxt.kind == "narration":
                exclude |= {n for n in map(cast.resolve, _listeners(text[nxt.start : nxt.end])) if n}
                if re.match(r"\W*(?:she|he)\s+(?:replied|answered|returned|retorted|responded|rejoined)\b", text[nxt.start : nxt.end]) and (
                    last_quote is not None and last_quote in decided and segs[last_quote].paragraph == p - 1
                ):
                    exclude.add(decided[last_quote][0])  # `"…," she replied`: not the one who just spoke
            if prv is not None and prv.kind == "narration" and i - 2 in tags and segs[i - 2].paragraph == p and (
                re.search(r"[,:—–-]\s*$", text[prv.start : prv.end]) and _open_ended(text[segs[i - 2].start : segs[i - 2].end])
            ):
                tags[i] = tags[i - 2]  # `"Hi," she said, "how are you?"`: the tag between serves both halves
                continue
            for who in (
                _tag_after(text[nxt.start : nxt.end], _open_ended(text[s.start : s.end])) if nxt is not None and nxt.kind == "narration" else None,
                _tag_before(text[prv.start : prv.end]) if prv is not None and prv.kind == "narration" else None,
            ):
                if who is None:
                    continue
                if i in introduced_as and who.phrase.lower() in ("he", "she"):
                    break  # `"I am Captain Reyes," he said`: the name outweighs a guessed he
                name = resolver.resolve(who.phrase, s.start, exclude)
                if name:
                    tags[i] = (name, who.rule, who.confidence)
                    if name in resolver.voices and resolver.nominal_gender.get(name) is None:  # `… his voice gave him away`
                        after = by_paragraph[p] + by_paragraph.get(p + 1, [])
                        narr = " ".join(text[segs[j].start : segs[j].end] for j in after if j > i and segs[j].kind == "narration")
                        resolver.nominal_gender[name] = voice_gender(narr)
                    break
            if i not in tags and i in introduced_as:
                tags[i] = (introduced_as[i], "self-introduction", 0.8)
        if not tags:
            narr_before = " ".join(text[segs[j].start : segs[j].end] for j in members if j < quotes[0] and segs[j].kind == "narration")
            narr_after = " ".join(text[segs[j].start : segs[j].end] for j in members if j > quotes[0] and segs[j].kind == "narration")
            for who in _beats(narr_before, narr_after):
                name = resolver.resolve(who.phrase, segs[quotes[0]].start, exclude)
                if name:
                    paragraph_speaker[p] = (name, who.rule, who.confidence)
                    break
        else:
            first = tags[min(tags)]
            paragraph_speaker[p] = (first[0], "same-paragraph", 0.85)
        trailing = _trailing_narration(text, segs, by_paragraph.get(p - 1, []))
        if p not in paragraph_speaker and not tags and len(members) == len(quotes) and trailing and p - 1 not in narration_only:
            for who in _introducer(trailing)[:1]:  # `…," Haku replied. … she began singing.` then the song
                name = resolver.resolve(who.phrase, segs[quotes[0]].start, exclude)
                if name:
                    paragraph_speaker[p] = (name, "introduced", 0.6)
        if p not in paragraph_speaker and not tags and len(members) == len(quotes) and p - 1 in narration_only:
            # `Luka stepped forward and spoke.` then the quote in a paragraph of its own
            tag = _tag_before(narration_only[p - 1]) if narration_only[p - 1].rstrip().endswith(":") else None
            if tag and tag.phrase.lower() in ("he", "she"):
                tag = None  # `He said:` after a paragraph about others: the beat rules weigh that better
            for who in ([tag] if tag else _introducer(narration_only[p - 1]) or _beats(narration_only[p - 1], ""))[:1]:
                name = resolver.resolve(who.phrase, segs[quotes[0]].start, exclude)
                if name:
                    paragraph_speaker[p] = (name, "introduced", 0.6)
        for i in quotes:
            if i in tags:
                decided[i] = tags[i]
            elif p in paragraph_speaker:
                decided[i] = paragraph_speaker[p]
            if i in decided:
                speaker = decided[i][0]
                cast.add_mention(Mention(segs[i].start, segs[i].start, speaker))
            last_quote = i

    if first_person and narrator_name == NARRATOR:
        narrator_name = _addressed_narrator(text, segs, decided, cast) or NARRATOR
        if narrator_name != NARRATOR:
            resolver.narrator = narrator_name
            for i, (who, rule, conf) in list(decided.items()):
                if who == NARRATOR:
                    decided[i] = (narrator_name, rule, conf)
    if first_person:
        memories(text, segs, by_paragraph, decided, cast, narrator_name or NARRATOR, lambda narr: bool(_beats(narr, "")))
    turn_taking(segs, by_paragraph, decided, vocatives, named, resolver, narrator_name or NARRATOR if first_person else None)
    descriptions = {
        who for who, _, _ in decided.values() if who in resolver.nominal_gender and who not in resolver.voices and not who.endswith("s")
    }
    for description, name in identify_descriptions(
        text, segs, by_paragraph, decided, descriptions, resolver.gender, vocatives, answered, cast, resolver.titled
    ).items():
        cast.aliases[name] = tuple(sorted({*cast.aliases.get(name, ()), description}))
    identify_voices(text, segs, by_paragraph, decided, resolver.voices, resolver.gender, vocatives, cast, narrator_name)

    lines: list[Line] = []
    for i, s in enumerate(segs):
        if s.kind == "narration":
            lines.append(Line(s.start, s.end, s.kind, s.paragraph))
            continue
        speaker, rule, conf = decided.get(i, (None, "unknown", 0.0))
        if speaker is None:
            earlier = [m.character for m in cast.mentioned_before(s.start) if m.character != narrator_name]
            if first_person:
                speaker, rule, conf = narrator_name or NARRATOR, "first-person", 0.3
            elif earlier:
                speaker, rule, conf = earlier[0], "last-mentioned", 0.3
        lines.append(Line(s.start, s.end, "dialogue", s.paragraph, speaker, rule, conf))
    return Script(seg, tuple(lines), _characters(cast, resolver, lines), narrator_name if first_person else None)


def _describe(text: str, seg: Segment, resolver: _Resolver, cast: Cast) -> None:
    """Descriptions opening a sentence of narration (`A large man … stood`, `The man nodded`) are
    mentions of an unnamed character, candidates for a later he/she."""
    for m in re.finditer(
        r"(?:^|(?<=[.!?…]\s)|(?<=[.!?…][\"”’']\s))(?=(?:A|An|The|One|Another)\s)|(?<=[\s,;(])(?=(?:a|an|the|one|another)\s)",
        text[seg.start : seg.end],
    ):
        at = seg.start + m.start()
        nominal = _NOMINAL.match(text, at, seg.end)
        if not nominal or nominal.group("noun") == "voice":
            continue
        if text[at].islower() and not SUBJECT_VERB.match(text, nominal.end(), seg.end):
            continue  # mid-sentence, only a subject: `Concerning that ride, the man spoke`
        det = nominal.group("det").lower()
        if det == "the" and nominal.group("noun") not in resolver.nominal_heads:  # `The doctor shut the door.`
            named = resolver.epithet(nominal.group("noun"), at, True)
            if named:
                cast.add_mention(Mention(at, nominal.end(), named))
                continue
        name = resolver.nominal(nominal.group(0), at, new=det in ("a", "an", "one", "another"), speaker=False)
        if name:
            cast.add_mention(Mention(at, nominal.end(), name))


def _narrator_name(seg: Segmentation, cast: Cast) -> str:
    """A first-person narrator's name, when the story is signed (`Love,` / `Megurine Luka`)."""
    story = seg.story
    paras = [story.paragraph_text(i).strip() for i in range(len(story.paragraphs))]
    for i in range(1, len(paras)):
        words = paras[i].split()
        farewell = re.match(r"(?:love|goodbye|yours|sincerely|regards|farewell|best wishes|cheers|with love|your)\b", paras[i - 1], re.I)
        if farewell and paras[i - 1].endswith(",") and len(paras[i - 1].split()) <= 5 and 0 < len(words) <= 3:
            if all(w[:1].isupper() and w.isalpha() for w in words):
                full = " ".join(words)  # a signature; "Megurine Luka" is the story's "Luka"
                return cast.resolve(full) or next((n for n in map(cast.resolve, words[::-1]) if n), full)
    return NARRATOR


def _addressed_narrator(text: str, segs: list[Segment], decided: dict, cast: Cast) -> str | None:
    """A first-person narrator's name from how others address them: `"You're Hatsune Miku," she said to me`,
    or a name called out in the line the narrator answers (`"Jane!"` / `"Yes," I said`)."""
    votes: Counter[str] = Counter()
    for i, s in enumerate(segs):
        if s.kind != "dialogue" or decided.get(i, (None,))[0] == NARRATOR:
            continue
        quote = text[s.start : s.end]
        tag = text[segs[i + 1].start : segs[i + 1].end] if i + 1 < len(segs) and segs[i + 1].kind == "narration" else ""
        if re.search(r"\bto me\b", tag[:60]):
            for m in re.finditer(r"\byou(?:'re|’re| are)\s+((?:[A-Z][a-z]+\s?){1,2})", quote):
                votes[cast.resolve(m.group(1).strip()) or m.group(1).strip()] += 2
        reply = next((j for j in range(i + 1, min(len(segs), i + 4)) if segs[j].kind == "dialogue"), None)
        if reply is not None and decided.get(reply, (None,))[0] == NARRATOR and segs[reply].paragraph == s.paragraph + 1:
            for v in _vocatives(quote):
                name = cast.resolve(v)
                if name:
                    votes[name] += 1
    if votes:
        name, n = votes.most_common(1)[0]
        if n >= 2:
            return name
    return None


def _characters(cast: Cast, resolver: _Resolver, lines: list[Line]) -> tuple[Character, ...]:
    """Every speaker, with aliases, gender and line count, most lines first."""
    counts = Counter(line.speaker for line in lines if line.kind == "dialogue" and line.speaker)
    chars = []
    for name, n in counts.most_common():
        chars.append(Character(name, cast.aliases.get(name, ()), resolver.gender(name), n))
    return tuple(chars)


def format_script(script: Script) -> str:
    """The story as a readable script: a heading per section, then `speaker: text` per run."""
    story = script.story
    out: list[str] = []
    section = None
    for line in script.lines:
        para = story.paragraphs[line.paragraph]
        if para.section != section:
            section = para.section
            out.append(f"## {story.sections[section].title}")
        who = "narration" if line.kind == "narration" else (line.speaker or "?")
        text = " ".join(story.text[line.start : line.end].split())
        out.append(f"{who}: {text}")
    return "\n".join(out) + "\n"
