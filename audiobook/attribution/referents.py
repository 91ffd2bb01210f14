"""Who a phrase in a speech tag or a beat refers to: a name through the cast, a pronoun through
the characters mentioned (or speaking) just before, a description ("the doctor", "her mother",
"the child's nurse") through the named character it stands for or as someone unnamed."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from functools import lru_cache
from operator import itemgetter

from .characters import SUBJECT_VERB, TITLES, Cast, Gender, family_of, form_key, gender_of_noun
from .names import TITLE_GAP
from .patterns import STARTED_WORD, word_trie

_SUBJECT_PRONOUNS: dict[str, Gender | None] = {"he": "male", "she": "female", "i": None}
PERSON_NOUNS = (
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
    "agent|banker|manager|proprietor|tenant|undertaker|auctioneer|attorney|solicitor|magistrate|coroner|governor|mayor|"
    "duke|duchess|count|countess|baron|earl|lord|widow|bride|bridegroom|lover|maiden|damsel|matron|urchin|"
    "youngster|schoolboy|schoolgirl|pupil|scholar|schoolmaster|schoolmistress|tutor|witch|wizard|fairy|ghost|"
    "chap|boatman|ferryman|messenger|page|herald|jester|pedlar|peddler|hawker|vendor|customer|salesman|"
    "apprentice|labourer|laborer|workman|watchman|gatekeeper|doorkeeper|sentry|sentinel|keeper|jailor|"
    "seaman|mariner|sea-dog|buccaneer|pirate|painter|artist|guide|musician|singer|poet"
)
# `an old lady or gentleman`, `the boy and girl`: two people, or either of two; not a description of one.
# A description's words before its noun are no article or possessive either: `By the time her father
# had arranged himself` holds `her father`, not someone called "the time her father"
_NOT_AND = r"(?!(?:or|and|nor|the|a|an|his|her|their|my|our|its|your|this|that|these|those)\s)"
_NOUN_TRIE = word_trie(PERSON_NOUNS.split("|"))
# (possessive: a word or a run of spaces given back would leave a letter or a space where the
# pattern goes on with a comma, a space or a letter; no match is lost, and none is retried)
NOMINAL = re.compile(
    rf"\b(?P<det>[Tt]he|[Aa]n?|[Oo]ne|[Aa]nother|[Tt]his|[Tt]hat|[Mm]y|[Hh]is|[Hh]er|[Tt]heir|[Oo]ur)\s++"
    rf"(?P<adj>(?:{_NOT_AND}[a-z][a-z-]++,?\s++){{0,2}})(?P<noun>{_NOUN_TRIE})s?\b"
)
# Every match of NOMINAL holds one: its noun, after a space. A run of text without any holds no
# description. (The space is matched, not looked behind at: the scanner jumps from space to space.
# A noun starting at `pos` is found searching from `pos - 1`.)
PERSON_NOUN = re.compile(rf"\s(?:{_NOUN_TRIE})s?\b")
# In a speech tag any description is someone: `"…?" the saloon-keeper demanded.`
LOOSE_NOMINAL = re.compile(
    r"(?P<det>[Tt]he|[Aa]n?|[Aa]nother|(?:(?:Mrs|Mr|Miss|Ms|Dr)\.?\s+)?[A-Z][a-z]+['’]s)\s+"
    rf"(?P<adj>(?:{_NOT_AND}[a-z][a-z-]+(?:['’]s)?\s+){{0,2}})(?P<noun>(?![a-z-]*ly\b)[a-z][a-z-]*[a-z])"
)
# A subject is followed by its verb, maybe after what it wears or holds and an adverb: `and the
# brown old seaman with the sabre cut first took up his lodging`, `A small boy in a red cap came`.
SUBJECT_AFTER = re.compile(
    r"(?P<worn>\s+(?:with|in)\s+(?:the|a|an|his|her)\s+(?:[a-z-]+\s+){0,2}?[a-z-]+)?"
    r"(?:\s+(?:first|then|now|still|also|never|often|always|soon|just|once))?" + SUBJECT_VERB.pattern
)
_NOUN_TITLES = {
    "doctor": ("Dr", "Doctor"), "captain": ("Captain",), "colonel": ("Colonel",), "major": ("Major",),
    "sergeant": ("Sergeant",), "professor": ("Professor",), "judge": ("Judge",), "parson": ("Parson",),
    "king": ("King",), "queen": ("Queen",), "prince": ("Prince",), "princess": ("Princess",),
    "inspector": ("Inspector",), "aunt": ("Aunt",), "uncle": ("Uncle",),
}
_CALLINGS = (
    "parson clergyman vicar rector curate priest minister chaplain preacher",
    "doctor surgeon physician",
    "policeman constable",
    "sailor seaman mariner",
    "painter artist",
    "soldier trooper",
    "child infant kid youngster boy lad urchin",  # `the child` after `a small boy`
    "child infant kid youngster girl lass",
)
_APPOSED_NAME = (
    r"(?:(?:Mr|Mrs|Ms|Miss|Dr|Sir|Lady|Lord|Captain|Colonel|Major|Sergeant|Parson|Father|Madame)" + TITLE_GAP + ")?"
    r"[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?"
)
# `Mr. Losberne, a surgeon in the neighbourhood,` / `the artist himself, Basil Hallward,`
_SET_BESIDE = re.compile(
    rf"(?P<name>{_APPOSED_NAME}),\s+(?:a|an|the)\s+(?:[a-z-]+\s+){{0,2}}?(?P<noun>{_NOUN_TRIE})\b(?!['’-])"
    rf"|\b[Tt]he\s+(?:[a-z-]+\s+){{0,2}}?(?P<noun2>{_NOUN_TRIE})(?:\s+(?:himself|herself))?,\s+"
    rf"(?P<name2>{_APPOSED_NAME})(?=\s*[,.;]|\s+(?:who|whose)\b)"
)
# Every match of _SET_BESIDE holds one of these: a comma opening the apposition (`, a surgeon`) or
# the name after it (`, Basil Hallward`). The whole text is searched only around them (`_set_beside`).
_APPOSITION_COMMA = re.compile(r",\s+(?:(?:a|an|the)\s|[A-Z][a-z])")
# A match holds at most five words before its comma (`The old grey man himself,`), with nothing
# but letters, dots and hyphens in each, and at most five after it; looked for backwards from
# the comma in the reversed text, and forwards from it.
_WORDS_BEFORE = re.compile(r"[A-Za-z.-]+(?:\s+[A-Za-z.-]+){0,7}")
_WORDS_AFTER = re.compile(r"\s+(?:[A-Za-z.-]+\s*){0,8}")
# `\b(?:[Aa]n?|[Aa]nother)\s+…`, the boundary checked after the first letter: the scanner jumps
# from one a or A to the next instead of trying the pattern at every character
_INTRODUCED = re.compile(
    rf"[Aa]{STARTED_WORD}(?:n?|nother)\s+(?:[a-z-]+\s+){{0,2}}?(?P<noun>{_NOUN_TRIE})\b(?!['’-])"
)
_CALLING_REACH = 3000  # characters: `the clergyman` is the parson of the last page or so, not of another chapter
_SAME_CALLING: dict[str, list[str]] = {}
for _group in _CALLINGS:
    for _noun in _group.split():
        _SAME_CALLING.setdefault(_noun, []).extend(o for o in _group.split() if o != _noun)
_NOT_EPITHETS = frozenset("voice stranger visitor newcomer person creature guest member".split())
# `said the man`: a speech tag calls a named character by rank or kinship ("said the mother"), but
# "the man" there is nearly always someone the story has not named.
_STRANGERS = frozenset("man gentleman fellow".split())
_EPITHET_REACH = 1500  # characters back in which a named character is still "the doctor" of the text
_OTHER_PRONOUN: dict[Gender | None, tuple[str, ...]] = {"male": ("she",), "female": ("he",)}
_RECENCY = 0.7  # each mention back weighs this much less as the antecedent of a he/she
_PRONOUN_REACH = 3000  # characters back (about a page) in which a he/she is still looked for
_UNKNOWN_OVER = 5  # a he/she goes to someone of unsure gender who is five times as present as anyone sure
_POSSESSIVE = 0.3  # the weight of a possessive mention ("Stephen's pocket") as the antecedent of he/she
_LEAD_IN = 600  # characters: how near before a quote "the one who just spoke" must be
_POSSESSIVE_KIN = re.compile(r"^(?P<det>his|her|their)\s+(?:[\w-]+\s+)?(?P<noun>[\w-]+)$")
_UNGENDERED_KIN = frozenset("cousin friend companion partner guest visitor host comrade".split())
_SAME_SEX_KIN = frozenset(("friend",))  # of the owner's sex, more often than not (a companion less so)
_PARENT_TITLES = {"mother": ("Mrs", "Lady", "Madame", "Mme"), "father": ("Mr", "Sir", "Lord", "Monsieur")}
_SPOUSE_TITLE = {"wife": ("Mr", "Mrs"), "lady": ("Mr", "Mrs"), "husband": ("Mrs", "Mr")}
_THE = re.compile(r"^[Tt]he\s+(?=[A-Z])")  # `the Caterpillar`: a name with an article
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_LOWER = re.compile(r"[a-z]+")
_NOT_SPACE = re.compile(r"\S")
_HE_SHE_AT = re.compile(r"(?:He|She)\b")
_QUOTE_MARKS = re.compile(r"[\"“”]")
_SUBJECT_START = re.compile(
    r"(?:^|[.!?…;]['’\"”)]*\s+)"
    r"(?:(?:Then|And|But|So|Now|Here|Still|Suddenly|At last|Finally|Presently|Again|Maybe|Perhaps|As|When|While)"
    r",?\s+)?$"
)
# `The old grey donkey, Tobble, stood…`: a name in apposition to the subject opening its sentence
_APPOSED = re.compile(
    r"(?:^\s*|[.!?…;]['’\"”)]*\s+)(?:The|A|An|His|Her|Their|Our|My)\s+[^,.!?;:\"“”\n]{1,40},\s+$"
)
# `Marilla’s lips twitched`: the owner of a face, a voice, a gesture is the one in view
_OWN_FEATURE = re.compile(
    r"['’]s\s+(?:[a-z]+\s+)?(?:face|lips|mouth|eyes|eye|brows?|forehead|cheeks?|voice|tone|hands?|head|heart|"
    r"manner|expression|look|glance|gaze|smile|features|countenance|temper|anger|patience)\b"
)


# Words before a description's noun that tell nobody apart: degree (`a very old man`), the
# narrator's judgement (`the poor gentleman`), a pointer back (`the same man`, `the latter`).
_NOT_MODIFIERS = frozenset(
    """very rather most particularly quite so too poor good worthy honest excellent dear unfortunate unhappy
    wretched miserable same latter former said aforesaid afore-mentioned above-mentioned last first""".split()
)
# Words that set a description apart from the one before: `another gentleman`, `the second man`.
_DISTINCT = frozenset("other second third fourth fifth new".split())


# What tells one person from another at sight: age, size, build, colouring, a mark, a calling
# (`the old gentleman`, `the fat gentleman`, `the medical gentleman`), a compound (`the red-faced
# gentleman`) or a noun (`the office keeper`, not `the book-stall keeper`). Not a judgement (`the
# poor man`), a mood or a passing state (`the vivacious infant`, `the astonished man`, `the
# prostrate man`), which may be anyone's. Words for the same look are one.
_APPEARANCE = frozenset(
    """old young elderly aged little small tiny wee tall short fat stout portly thin lean slim big large burly
    bald grey gray white black brown red fair dark pale sallow ruddy swarthy bearded lame blind deaf handsome
    ugly pretty plain beautiful elder younger eldest youngest medical military naval legal""".split()
)
_SAME_LOOK = {
    "little": "small", "tiny": "small", "wee": "small", "elderly": "old", "aged": "old", "big": "large",
    "stout": "fat", "portly": "fat", "gray": "grey", "lean": "thin", "slim": "thin",
}
_STATES = frozenset(
    """prostrate indignant angry furious faithful anxious impatient eager nervous sullen thoughtful silent
    sleepy drowsy weary tired sick ill drunk sober breathless trembling grateful strange new kind""".split()
)
# `the vivacious infant`, `the astonished man`, `the dying man`, `the angry woman`, `the hopeful youth`
_MOOD = re.compile(r"[a-z]+(?:ed|ing|ous|ful|ive|ic|ish|less|able|ible|ent|ant|y)")


def _modifiers(adjectives: str) -> frozenset[str]:
    """The words of a description before its noun that tell one person from another at sight
    (`the red-faced gentleman`: red-faced; `the little boy`: small), lower-cased."""
    return frozenset(
        _SAME_LOOK.get(w, w)
        for w in adjectives.replace(",", " ").lower().split()
        if w in _APPEARANCE
        or ("-" in w and w not in _NOT_MODIFIERS)
        or not (w in _NOT_MODIFIERS or w in _STATES or w in _DISTINCT or _MOOD.fullmatch(w))
    )


def _set_beside(text: str) -> Iterator[re.Match[str]]:
    """`_SET_BESIDE.finditer(text)`, searched only around each comma that may open an apposition:
    from the fifth word before it to the fifth after it (the pattern tried at every character of
    the book cost a tenth of the whole attribution). A match around one comma ends before the next
    one's words start, so the matches come in the same order as finditer's, none overlapping."""
    backwards = text[::-1]
    done = 0  # where the last match ended: finditer goes on from there
    for comma in _APPOSITION_COMMA.finditer(text):
        at = comma.start()
        if at < done:
            continue
        before = _WORDS_BEFORE.match(backwards, len(text) - at)
        after = _WORDS_AFTER.match(text, at + 1)
        start = at - (before.end() - before.start()) if before else at
        end = after.end() + 1 if after else at + 1  # and the character after the words, for a look-ahead
        m = _SET_BESIDE.search(text, max(start, done), end)
        if m:
            yield m
            done = m.end()


def _top(scores: dict[str, float]) -> tuple[str, float]:
    """The highest score and whose it is; of equal scores, the first counted (as Counter.most_common)."""
    name = max(scores, key=scores.__getitem__)
    return name, scores[name]


class Resolver:
    """Turns phrases into characters: names through the cast, pronouns through recent mentions."""

    def __init__(self, text: str, cast: Cast, narrator: str | None) -> None:
        self.text = text
        self.cast = cast
        self.narrator = narrator
        self.nominal_heads: dict[str, str] = {}  # head noun -> latest unnamed character with it
        self._apposed: dict[str, list[tuple[int, str]]] | None = None  # noun -> (where, who) set beside it
        self._introduced: dict[str, list[int]] | None = None  # noun -> where `a <noun>` introduces someone
        self._head_at: dict[str, int] = {}  # head noun -> where a description with it was last met
        self._described: dict[str, list[str]] = {}  # head noun -> unnamed characters with it, latest last
        self.nominal_mods: dict[str, tuple[frozenset[str], bool]] = {}  # description -> (modifiers, set apart)
        self.nominal_gender: dict[str, Gender | None] = {}
        self.one_off: set[str] = set()  # unnamed speakers introduced as "one man", "a girl"
        self.voices: set[str] = set()  # "a familiar voice": someone not yet recognised
        self.calls: list[tuple[int, tuple[str, ...]]] = []  # (where a paragraph's quotes start, whom they call)
        self._breaks: list[int] | None = None  # where each paragraph after the first starts
        self._lower_words: dict[str, bool] = {}  # word -> whether the story writes it in lower case
        self._presence: Counter[str] | None = None  # mentions per character, over the whole story
        self._subjects: dict[int, bool] = {}  # position -> whether a verb follows it (`Haku sighed`)

    def nominal(self, phrase: str, pos: int, new: bool | None = None, speaker: bool = True) -> str | None:
        bare = phrase.rstrip(",.;:!?")
        m = NOMINAL.fullmatch(bare) or LOOSE_NOMINAL.fullmatch(bare)
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
        plural = m.end() > m.end("noun")  # `the other boys`: never the boy of a later `said the boy`
        head = (noun + "s" if plural else noun) if det != "my" else name
        if det in ("the", "this", "that") and not new and not plural:
            head = self.known_head(noun, pos) or noun  # `the clergyman` after `the parson`: the parson
        mods = _modifiers(m.group("adj"))
        if det == "the" and new is None and not plural and not mods:
            named = self.apposed(noun, pos)  # `said the doctor`, after `Mr. Losberne, a surgeon`
            if named:
                return named
        if det in ("the", "my") and head not in self.nominal_heads and new is None:
            named = self.epithet(noun, pos, det == "the" and noun not in _STRANGERS)
            if named:
                return named
        if det in ("the", "my") and speaker and new is None and self.cast.listed and noun != "voice":
            # not a description the story already gave someone unnamed (`a thin girl` … `said the
            # girl`): that one speaks, and `identify_descriptions` may name them later
            named = self.listed_epithet(noun, pos) if head not in self.nominal_heads else None
            if named:
                return named  # the user listed the book's people: `said the old lady` is one of them
        starts_new = det in ("a", "an", "one", "another") if new is None else new
        distinct = det == "another" or not _DISTINCT.isdisjoint(m.group("adj").lower().split())
        if head in self.nominal_heads and (not starts_new or det == "the") and not distinct:
            name = self._same_description(head, mods) or name
        self.nominal_heads[head] = name
        self._head_at[head] = pos
        if name not in self.nominal_mods:
            self.nominal_mods[name] = (mods, distinct)
            self._described.setdefault(head, []).append(name)
        else:  # the latest with the head last: `the gentleman` alone is the one described last
            self._described[head].remove(name)
            self._described[head].append(name)
        if starts_new and det != "my" and speaker and noun != "voice":
            self.one_off.add(name)  # a voice is someone to be recognised, not a passer-by
        if noun == "voice":
            self.voices.add(name)
        self.nominal_gender.setdefault(name, gender_of_noun(name))
        return name

    def _same_description(self, head: str, mods: frozenset[str]) -> str | None:
        """The unnamed character a definite description with this head noun stands for: the
        latest one so described when it has no modifiers of its own (`the gentleman`); else the
        latest whose modifiers it shares, or one described without any that was never set apart
        (`a gentleman` … `the old gentleman`). `another gentleman`, `the red-faced gentleman`
        never absorb `the old gentleman`: each is someone of their own."""
        described = self._described.get(head, [])
        if not mods:
            return described[-1] if described else None
        for name in reversed(described):  # `the old gentleman` again, not `the second old gentleman`
            their, distinct = self.nominal_mods[name]
            if their == mods and not distinct:
                return name
        for name in reversed(described):
            their, distinct = self.nominal_mods[name]
            if their & mods or (not their and not distinct):
                return name
        return None

    def apposed(self, noun: str, pos: int) -> str | None:
        """`Mr. Crane, a surgeon from the next village,` … `said the doctor`: the named character
        the narration last set beside a description with the noun (or another word for the same
        calling) before `pos`, of the noun's gender - unless someone new was introduced by it
        since (`a policeman off duty`)."""
        if self._apposed is None:
            self._apposed = {}
            for m in _set_beside(self.text):
                name = self.cast.resolve(m.group("name") or m.group("name2"))
                if name and name != self.narrator:
                    self._apposed.setdefault(m.group("noun") or m.group("noun2"), []).append((m.end(), name))
        words = (noun, *_SAME_CALLING.get(noun, ()))
        if not any(word in self._apposed for word in words):
            return None  # (most nouns: nobody was ever set beside them)
        gender = gender_of_noun(noun)
        found = []  # for each word, the last set beside it before `pos` (each list is in text order)
        for word in words:
            apposed = self._apposed.get(word, [])
            k = bisect_left(apposed, pos, key=itemgetter(0))
            while k > 0 and not (gender is None or self.voice_gender(apposed[k - 1][1]) in (gender, None)):
                k -= 1
            if k > 0:
                found.append(apposed[k - 1])
        if not found:
            return None
        at, name = max(found)
        if self._introduced is None:  # (scanned for when first asked: every "a" of the book is tried)
            self._introduced = {}
            for m in _INTRODUCED.finditer(self.text):
                self._introduced.setdefault(m.group("noun"), []).append(m.start())
        for word in words:
            introduced = self._introduced.get(word, [])
            k = bisect_right(introduced, at)
            if k < len(introduced) and introduced[k] < pos:
                return None  # `a policeman off duty` since: someone else of that calling
        return name

    def known_head(self, noun: str, pos: int) -> str | None:
        """The head noun of the unnamed characters a definite description with `noun` may stand
        for: the noun itself, else another word for the same calling used in the last pages (`the
        clergyman` after `the parson`, `the surgeon` after `a doctor`)."""
        if noun in self.nominal_heads:
            return noun
        return next(
            (
                other
                for other in _SAME_CALLING.get(noun, ())
                if other in self.nominal_heads and pos - self._head_at[other] < _CALLING_REACH
            ),
            None,
        )

    def epithet(self, noun: str, pos: int, generic: bool, exclude: AbstractSet[str] = frozenset()) -> str | None:
        """`the young man`, `my mother`, `the doctor` never introduced as someone new ("a doctor"):
        a named character the story calls so - one with the noun's title (`Dr. Archie`), else the
        most salient named character of the noun's gender in the last few paragraphs."""
        titles = _NOUN_TITLES.get(noun)
        recent = [m for m in self.cast.mentioned_before(pos) if pos - m.start < _EPITHET_REACH]
        named = [m.character for m in recent if m.character not in self.nominal_gender and m.character not in exclude]
        if titles:
            return next((c for c in named if self._titled(c, titles)), None)  # `Sergeant Bibot` called Bibot
        if noun in _NOT_EPITHETS or not generic:
            return None
        gender = gender_of_noun(noun)
        scores: dict[str, float] = defaultdict(float)
        for k, c in enumerate(named):
            if c != self.narrator and gender and self.cast.text_gender(c) == gender:
                scores[c] += 0.8**k
        return _top(scores)[0] if scores else None

    def listed_epithet(self, noun: str, pos: int, exclude: AbstractSet[str] = frozenset()) -> str | None:
        """`said the old lady`, `said my companion` in a book whose people the user lists: the
        listed character with the noun's title, else the one of the noun's gender named most
        recently (in the last few paragraphs), never the narrator."""
        titles = _NOUN_TITLES.get(noun)
        gender = gender_of_noun(noun)
        scores: dict[str, float] = defaultdict(float)
        for k, m in enumerate(self.cast.mentioned_before(pos)):
            if pos - m.start > _EPITHET_REACH:
                break
            c = m.character
            if c not in self.cast.listed or c == self.narrator or c in exclude:
                continue
            if titles and self._titled(c, titles):
                return c
            if not titles and (gender is None or self.cast.text_gender(c) == gender):
                scores[c] += 0.8**k
        return _top(scores)[0] if scores else None

    def titled(self, description: str, pos: int) -> str | None:
        """`the parson` first, `Parson Tringham` named later: the one character the story calls by
        the description's title soon after it (`_EPITHET_REACH` * 2)."""
        m = NOMINAL.match(description)
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

    def parent(self, word: str, pos: int) -> str | None:
        """`"…, papa."` / `"Oh, mamma!"`: the one called so is the character with a father's (Mr.,
        Sir) or mother's title (Mrs., Lady) whose family name a child of the scene bears (`Emma
        Woodhouse` -> Mr. Woodhouse); else the one so titled the last pages name or hear most."""
        titles = _PARENT_TITLES["mother" if word.lower() in ("mamma", "mama", "mother") else "father"]
        scores: Counter[str] = Counter()
        present: set[str] = set()
        for m in self.cast.mentioned_before(pos):
            if pos - m.start > 2 * _EPITHET_REACH:
                break
            present.add(m.character)
            if m.character != self.narrator and self._titled(m.character, titles):
                scores[m.character] += 2 if m.start == m.end else 1  # a line of theirs counts double
        families = {family for name in present for family in self._families(name)}
        parents = [
            name for name in dict.fromkeys(self.cast.forms.values())
            if name != self.narrator and self._titled(name, titles) and name.split()[-1] in families
        ]
        if len(parents) == 1:
            return parents[0]
        return scores.most_common(1)[0][0] if scores else None

    def _families(self, name: str) -> frozenset[str]:
        """The family names `name` bears as a child: after a given name, a Miss or a Master."""
        return _family_names((name, *self.cast.aliases.get(name, ())))

    def _titled(self, name: str, titles: tuple[str, ...]) -> bool:
        return not _first_words((name, *self.cast.aliases.get(name, ()))).isdisjoint(titles)

    def gender(self, name: str) -> Gender | None:
        """The gender the story gives someone (`Cast.text_gender`), for resolving he, she, "the girl"."""
        if name in self.nominal_gender:
            return self.nominal_gender[name]
        return self.cast.text_gender(name)

    def voice_gender(self, name: str) -> Gender | None:
        """The gender of the voice someone gets: the story's word, else the first-name prior."""
        if name in self.nominal_gender:
            return self.nominal_gender[name]
        return self.cast.gender(name)

    def _subject_at(self, pos: int) -> bool:
        """Whether a verb follows `pos` (`SUBJECT_VERB`): asked of each mention by every he/she after it."""
        if pos not in self._subjects:
            self._subjects[pos] = SUBJECT_AFTER.match(self.text, pos) is not None
        return self._subjects[pos]

    def _paragraph_start(self, pos: int) -> int:
        """Where the paragraph holding `pos` starts (after the last blank line at or before `pos`)."""
        if self._breaks is None:
            self._breaks = [m.end() for m in PARAGRAPH_BREAK.finditer(self.text)]
        k = bisect_right(self._breaks, pos)
        return self._breaks[k - 1] if k else 0

    def topic(self, gender: Gender | None, pos: int, exclude: AbstractSet[str]) -> str | None:
        """`John Linden seemed absorbed in thought.` / `"…," he said`: the subject of the latest
        sentence about someone of the pronoun's gender in the narration just before a quote - the
        quote's own paragraph up to it, or the paragraph before when the quote opens its own. In
        the quote's own paragraph the speaker of an earlier quote counts too (`"…," said Eeyore.
        "…," he said`)."""
        start = self._paragraph_start(pos)
        end = pos
        own = _NOT_SPACE.search(self.text, start, pos) is not None  # (no slice of a long paragraph)
        if not own:
            end = start
            start = self._paragraph_start(end - 1)
            if _QUOTE_MARKS.search(self.text, start, end):
                return None  # the paragraph before is someone's speech: only narration tells who is in view
        for m in reversed(self.cast.mentioned_after(start, end)):  # the latest that is a topic
            if m.character in exclude or m.character == self.narrator or self.gender(m.character) != gender:
                continue
            if m.start == m.end:
                if own:
                    return m.character  # the speaker of an earlier quote of the paragraph
                continue
            if m.start != start and not _SUBJECT_START.search(self.text[max(start, m.start - 40) : m.start]):
                if self.text.startswith(",", m.end) and SUBJECT_VERB.match(self.text, m.end + 1) and (
                    _APPOSED.search(self.text[max(start, m.start - 60) : m.start])
                ):
                    return m.character  # `The Old Grey Donkey, Eeyore, stood by himself`
                continue
            if self._subject_at(m.end) or _OWN_FEATURE.match(self.text, m.end):
                return m.character  # `Marilla’s lips twitched.` too: the owner is the topic
        return None

    def answerer(self, gender: Gender | None, pos: int, exclude: AbstractSet[str]) -> str | None:
        """`"Feel pretty sick, Tilda?" he asked.` / `She looked at him. "I thought you were here,"
        she said`: a he/she opening a paragraph of narration is the one person of that gender the
        paragraph before called by name - the one addressed answers."""
        start = self._paragraph_start(pos)
        opens = not _NOT_SPACE.search(self.text, start, pos) and _HE_SHE_AT.match(self.text, pos)
        if start == 0 or not self.calls or not opens:
            return None  # only a he/she opening its paragraph: `She looked at him.`
        before = self._paragraph_start(start - 1)
        k = bisect_right(self.calls, (start, ())) - 1
        if k < 0 or self.calls[k][0] < before:
            return None
        called = [
            name
            for name in self.calls[k][1]
            if name not in exclude and name != self.narrator
            and (self.gender(name) or self.voice_gender(name)) == gender
        ]
        return called[0] if len(called) == 1 else None

    def pronoun(self, gender: Gender | None, pos: int, exclude: AbstractSet[str]) -> str | None:
        """The most salient character of `gender` before `pos`: recent mentions count most, and
        a subject (`Haku sighed`) or a speaker more than an object; one-off unnamed speakers
        ("one man") count little."""
        scores: dict[str, float] = defaultdict(float)
        unknown: dict[str, float] = defaultdict(float)  # characters whose gender the text never settles
        paragraph_start = self._paragraph_start(pos)
        text, narrator, one_off, nominal_gender = self.text, self.narrator, self.one_off, self.nominal_gender
        genders: dict[str, Gender | None] = {}  # each one's gender, asked once: the mentions name the same few
        for k, m in enumerate(self.cast.mentioned_before(pos)):  # (names bound once: this runs for every he/she)
            who, start, end = m.character, m.start, m.end
            if who in exclude or who == narrator:
                continue
            if who in one_off and pos - start > 400:
                continue  # "one man" said something once; a later "he" is someone else
            if pos - start > _PRONOUN_REACH:
                break  # `Lord Palmerston opened the mine` pages ago: not the "he" of this line
            if who in genders:
                g = genders[who]
            else:
                g = genders[who] = self.gender(who)
            if g is not None and g != gender:
                continue
            if g is None and gender and self.voice_gender(who) not in (None, gender):
                continue  # a he is never one whose voice is a woman's (`Edward` by his name alone is a man)
            if g is None and text[start:end].lower() in _OTHER_PRONOUN.get(gender, ()):
                continue  # `She placed the hat…`: someone of unsure gender who was a she is not a he
            weight = _RECENCY**k
            if who in nominal_gender and start != end:
                weight *= 0.5  # "A large man stood behind the counter": a description, not a name
            if text.startswith(("'s ", "’s "), end):
                weight *= _POSSESSIVE  # `thrusting a hand into Stephen's pocket, he said`: Stephen is not he
            if start == end:
                weight *= 1.5  # the speaker of a quote
            elif self._subject_at(end):
                weight *= 1.5
            if start != end and paragraph_start <= start:
                weight *= 3  # named in the quote's own paragraph: `Miku smiled. "…," she said.`
            if who in one_off:
                weight *= 0.5  # "another boy" said one thing; a named character nearby is likelier
            (scores if g == gender else unknown)[who] += weight
        if scores:
            best, score = _top(scores)
            if unknown and best in self.one_off and _top(unknown)[1] * 0.5 > score:
                return _top(unknown)[0]  # `Kaito looked at the group… "…?" he asked`
            if unknown and _top(unknown)[1] > _UNKNOWN_OVER * score:
                return _top(unknown)[0]  # the one in the scene, though the text never said "she"
            return best
        if unknown:
            return _top(unknown)[0]
        return self._cataphora(gender, pos, exclude)

    def _cataphora(self, gender: Gender | None, pos: int, exclude: AbstractSet[str]) -> str | None:
        """Nobody before: `"Hi!" was the first thing she said to me.` / `"I'm Miku!"` - the first
        character of that gender named soon after (in narration or introducing themselves)."""
        for m in self.cast.mentioned_after(pos, pos + 1500):
            if m.character in exclude or m.character == self.narrator:
                continue
            if self.gender(m.character) in (gender, None):
                return m.character
        return None

    def possessive(self, det: str, noun: str, phrase: str, pos: int, exclude: AbstractSet[str]) -> str | None:
        """`his wife`: Mrs. Bennet when "his" is Mr. Bennet; else the salient character of the noun's
        gender other than the owner; else an unnamed character called by the phrase ("her visitor")."""
        owner_gender = _SUBJECT_PRONOUNS.get({"his": "he", "her": "she"}.get(det, ""), None)
        owner = None
        if det != "their":  # `"…," replied Kitty. / "…," cried her mother`: her is the one who just spoke
            last = next((m for m in self.cast.mentioned_before(pos)[:6] if m.start == m.end), None)
            if (
                last
                and pos - last.start < _LEAD_IN
                and self.gender(last.character) in (owner_gender, None)
                and last.character != self.narrator
            ):
                owner = last.character
            else:
                owner = self.pronoun(owner_gender, pos, set())
        titles = _SPOUSE_TITLE.get(noun)
        if owner and titles:
            m = re.match(rf"{titles[0]}\.?\s+(?:[A-Z][a-z]+\s+){{0,5}}([A-Z][a-z]+)$", owner)
            spouse = self.cast.resolve(f"{titles[1]} {m.group(1)}") if m else None
            if spouse:
                return spouse
        window = self.text[max(0, pos - 4 * _EPITHET_REACH) : pos]
        introduced = [
            self.cast.resolve(m.group(1).strip())
            for m in re.finditer(  # (`\b(?:his|…)`, the boundary checked after the first letter)
                rf"(?:h(?<!\w.)is|h(?<!\w.)er|t(?<!\w.)heir|m(?<!\w.)y)\s+{re.escape(noun)},?\s+((?:[A-Z][a-z]+\s?){{1,6}})",
                window,
            )
        ] if noun in window else []  # (most windows: the noun is not in it, nor anyone introduced by it)
        gender = gender_of_noun(noun)
        introduced = [
            c for c in introduced if c and c != owner and c not in exclude and self.voice_gender(c) in (gender, None)
        ]
        if introduced:
            return introduced[-1]  # `her cousin Curtis` earlier: "said her cousin" is Curtis
        if phrase in self.nominal_gender:
            return phrase
        if noun in _PARENT_TITLES:  # `said her mother`: the married woman of the scene, else someone unnamed
            recent = [m.character for m in self.cast.mentioned_before(pos) if pos - m.start < 2 * _EPITHET_REACH]
            parent = next(
                (c for c in recent if c != owner and c not in exclude and self._titled(c, _PARENT_TITLES[noun])), None
            )
            if parent:
                return parent
        if gender and noun not in ("husband", "wife"):  # a spouse not found by title is someone unnamed
            who = self.pronoun(gender, pos, exclude | ({owner} if owner else set()))
            if who and (noun not in _PARENT_TITLES or self.gender(who) == gender):
                return who
        if gender is None and noun in _UNGENDERED_KIN:
            others = exclude | {owner, self.narrator}
            recent = [m.character for m in self.cast.mentioned_before(pos)[:12] if m.character not in others]
            if noun in _SAME_SEX_KIN and owner_gender:  # `asked his friend`: most often a man's friend is a man
                alike = next((c for c in recent if self.voice_gender(c) == owner_gender), None)
                if alike:
                    return alike
            return recent[0] if recent else None  # not her
        if gender is None:
            return None
        self.nominal_gender[phrase] = gender
        return phrase

    def resolve(self, phrase: str, pos: int, exclude: AbstractSet[str] = frozenset()) -> str | None:
        lw = phrase.lower()
        if lw == "i":
            return self.narrator
        if lw in ("he", "she"):
            gender = _SUBJECT_PRONOUNS[lw]
            return (
                self.topic(gender, pos, exclude)
                or self.answerer(gender, pos, exclude)
                or self.pronoun(gender, pos, exclude)
            )
        if lw in ("the latter", "the former"):
            return self._of_two(lw == "the latter", pos, exclude)
        kin = _POSSESSIVE_KIN.match(lw)
        if kin:
            return self.possessive(kin.group("det"), kin.group("noun"), " ".join(lw.split()), pos, exclude)
        name = self.cast.resolve(phrase) or self.cast.resolve(_THE.sub("", phrase))
        if name:
            return self.holder(phrase, pos, exclude) or self._role_or_apposed(phrase, name, pos)
        return self.nominal(phrase, pos)

    def holder(self, phrase: str, pos: int, exclude: AbstractSet[str] = frozenset()) -> str | None:
        """`said John` where two listed characters go by John (`Cast.shared`): the one of them
        mentioned or speaking last before `pos`, in the last page or so, else the one whose family
        is (`Charles` beside Mary Musgrove); None for a name of one."""
        shared = self.cast.shared.get(form_key(phrase)) if self.cast.shared else None
        if not shared:
            return None
        for m in self.cast.mentioned_before(pos):
            if pos - m.start > _PRONOUN_REACH:
                break
            if m.character in shared and m.character not in exclude:
                return m.character
        families = {family_of(c): c for c in shared if c not in exclude}  # none in view: the family in view
        for m in self.cast.mentioned_before(pos):
            if pos - m.start > _PRONOUN_REACH:
                break
            family = family_of(m.character)
            if family and family in families:
                return families[family]
        return None

    def _role_or_apposed(self, phrase: str, name: str, pos: int) -> str:
        """`said the doctor` where the user lists a character called "The Doctor": the named
        character the narration set beside that description (`the doctor, Mr. Losberne`) when
        it did so more recently than anyone else was introduced by it (see `apposed`); the
        listed role otherwise."""
        m = NOMINAL.fullmatch(" ".join(phrase.split()))
        if not m or m.group("det").lower() != "the" or m.group("adj"):
            return name
        if form_key(name).lower() != form_key(phrase).lower():
            return name  # the user gave the description to a named character (an alias): theirs
        apposed = self.apposed(m.group("noun"), pos)
        return apposed if apposed and apposed != name else name

    def _of_two(self, latter: bool, pos: int, exclude: AbstractSet[str]) -> str | None:
        """`said the latter` / `the former`: of the last two characters named, the second or the first."""
        two: list[str] = []
        for m in self.cast.mentioned_before(pos)[:12]:
            if m.character not in two and m.character != self.narrator:
                two.append(m.character)
                if len(two) == 2:
                    break
        if len(two) < 2:
            return None
        who = two[0] if latter else two[1]
        return None if who in exclude else who

    def named(self, phrase: str, pos: int, after_verb: bool) -> str | None:
        """The subject of a speech tag that the cast does not resolve. A name two characters share
        (`Anne` for Anne Shirley and Allan Anne) is the one of them named in the last page, and of
        those the one the story names most; a
        title alone (`said the Doctor`) is the character with that title; a name the cast never
        found (`said the Caterpillar`, `said Mrs. Bennet` beside Miss Elizabeth Bennet) is a new
        speaker, for a speech tag is the surest sign that someone is a person."""
        written = " ".join(_THE.sub("", phrase).split())
        words = written.replace(".", " ").split()
        if not words or not words[0][:1].isupper():
            return None
        title = words[0] if words[0] in TITLES else None
        rest = words[1:] if title else words
        article = written != phrase.strip()  # `the Invisible Man`: every word after "the" is the name's
        while not title and not article and len(rest) > 1 and self._lowered(rest[0].lower()):
            rest = rest[1:]  # `Presently Tony said`: an adverb opening the sentence
            written = " ".join(rest)
        candidates = self._sharing(title, rest)
        if title is None and len(rest) == 1 and len(candidates) > 1:
            men = {c for c in candidates if self.cast.resolve(f"Mr {rest[0]}") == c}
            if len(men) == 1 and all(self.cast.gender(c) == "female" for c in candidates - men):
                return men.pop()  # `said Hall` beside Mr. and Mrs. Hall: a family name alone is the man's
        if candidates:
            recent = {m.character for m in self.cast.mentioned_before(pos) if pos - m.start < _PRONOUN_REACH}
            presence = self._mentions()
            return max(sorted(candidates), key=lambda c: (c in recent, presence[c]))
        if not (after_verb or title or article or not any(self._lowered(w.lower()) for w in rest)):
            return None  # `Later he said`: a word the story writes in lower case, not a name
        if form_key(written) in self.cast.excluded:
            return None  # the user says it is nobody
        self.cast.add_character(written)
        if title and TITLES[title]:
            self.cast.vote(written, TITLES[title], 5)  # type: ignore[arg-type]
        return written

    def _sharing(self, title: str | None, words: list[str]) -> set[str]:
        """Characters with a name form holding all `words`, and with `title` or no other title
        of a person (a Mrs. is not the Miss of the same family)."""
        found: dict[str, bool] = {}  # character -> whether a form of theirs has the title
        other_titles: set[str] = set()
        wanted = set(words)
        for form, name in self.cast.forms.items():
            form_title, parts = _form_words(form)
            if form_title and form_title != title and TITLES[form_title]:
                other_titles.add(name)
            if wanted <= parts and (words or form_title == title):
                found[name] = found.get(name, False) or (form_title == title)
        if title is None:
            return set(found)
        gender = TITLES[title]
        return {
            c
            for c, titled in found.items()
            if titled or (c not in other_titles and self.cast.gender(c) in (gender, None))
        }

    def _lowered(self, word: str) -> bool:
        """Whether the story writes `word` in lower case, as a word of its own (one of the words of
        `\b[a-z]+\b`): found by its letters, one word at a time, rather than listing every word."""
        if word not in self._lower_words:
            self._lower_words[word] = bool(_LOWER.fullmatch(word)) and bool(
                re.search(rf"{word}(?<!\w{word})(?!\w)", self.text)  # \b…\b, checked after the letters
            )
        return self._lower_words[word]

    def forget_presence(self) -> None:
        """The mentions were renamed: count them again when next asked."""
        self._presence = None

    def _mentions(self) -> Counter[str]:
        if self._presence is None:
            self._presence = Counter(m.character for m in self.cast.mentions)
        return self._presence


@lru_cache(maxsize=1 << 14)  # (every form of the cast is read again for each tag that names no one it knows)
def _form_words(form: str) -> tuple[str | None, frozenset[str]]:
    """A name form's title (None without one), and the words of its name, each hyphenated one with
    its parts too (`Winnie-the-Pooh`: Pooh)."""
    words = form.split()
    title = words[0] if len(words) > 1 and words[0] in TITLES else None
    return title, frozenset(w for f in (words[1:] if title else words) for w in (f, *f.split("-")))


# What a character's forms (its name and aliases) say of it, asked again and again of the same few
# characters by every `his wife`, `"…, papa"` and `"…, uncle"`: kept for each set of forms.
@lru_cache(maxsize=1 << 14)
def _first_words(forms: tuple[str, ...]) -> frozenset[str]:
    """The first word of each form, without its dot: the titles a character goes by (`Mr.` -> Mr)."""
    return frozenset(f.split()[0].rstrip(".") for f in forms)


@lru_cache(maxsize=1 << 14)
def _family_names(forms: tuple[str, ...]) -> frozenset[str]:
    """The family names of the forms that are a given name and a family name (or a Miss or a
    Master and one), not a Mr., Mrs., Sir, Lady or Dr. and one: the families a child bears."""
    found = set()
    for form in forms:
        words = form.replace(".", "").split()
        if len(words) > 1 and words[0] not in ("Mr", "Mrs", "Sir", "Lady", "Dr"):
            found.add(words[-1])
    return frozenset(found)
