"""What a name looks like: titles, words that are never names, place words, and two tables of
general knowledge about given names - their sex (the first-name prior) and their short forms.

- `data/given_names.tsv`: given names by sex, from the US Social Security Administration's
  baby-name counts (public domain), built by `scripts/given_names.py`.
- Short forms and pet names (Lizzy, Eliza -> Elizabeth) from the `nicknames` package (a
  hand-curated table of English given names and their nicknames, Apache-2.0).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Literal

from .patterns import word_trie

Gender = Literal["female", "male"]
Vote = Literal["female", "male", "neuter"]  # evidence: `its`/`itself` say a creature, neither

TITLES: dict[str, Gender | None] = {
    "Mr": "male", "Mister": "male", "Sir": "male", "Lord": "male", "Uncle": "male", "Father": "male",
    "Monsieur": "male", "Herr": "male", "Signor": "male", "Señor": "male", "Don": "male", "King": "male",
    "Prince": "male", "Brother": "male", "Master": "male", "Count": "male", "Duke": "male", "Baron": "male",
    "Mrs": "female", "Miss": "female", "Ms": "female", "Lady": "female", "Aunt": "female", "Mother": "female",
    "Madame": "female", "Mme": "female", "Mlle": "female", "Mademoiselle": "female", "Frau": "female",
    "Queen": "female", "Princess": "female", "Sister": "female", "Dame": "female", "Mistress": "female",
    "Countess": "female", "Duchess": "female", "Baroness": "female",
    "Dr": None, "Doctor": None, "Professor": None, "Captain": None, "Colonel": None, "Major": None,
    "General": None, "Lieutenant": None, "Sergeant": None, "Judge": None, "Parson": None, "Mx": None,
    "Inspector": None, "Admiral": None,
}
# Titles that go with a given name (`Sir William`, `Lady Catherine`, `Miss Elizabeth`, `Uncle
# John`) as well as a family name; the others take a family name only (`Mr. Darcy`, `Colonel
# Fitzwilliam`: a colonel called by his family name, not Mr. Fitzwilliam Darcy).
GIVEN_TITLES = frozenset(
    "Sir Lord Lady Dame Miss Master Mistress Uncle Aunt Father Mother Brother Sister King Queen Prince Princess "
    "Don Mademoiselle Mlle Madame Mme".split()
)
# One title in several languages: `Monsieur Pontellier` is `Mr. Pontellier`.
TITLE_CLASS = {
    "Mister": "Mr", "Monsieur": "Mr", "Herr": "Mr", "Signor": "Mr", "Señor": "Mr", "Doctor": "Dr",
    "Madame": "Mrs", "Mme": "Mrs", "Frau": "Mrs", "Mademoiselle": "Miss", "Mlle": "Miss",
}
# A married woman and an unmarried one are two people: `Mrs. Bennet` is never `Miss Bennet`.
MARRIED = frozenset("Mrs Madame Mme Frau".split())
UNMARRIED = frozenset("Miss Mademoiselle Mlle".split())
HONORIFIC_SUFFIX = re.compile(r"-(?:san|chan|kun|sama|sensei|senpai|dono|nee|nii)\b")
TITLE_RE = "|".join(sorted(TITLES, key=len, reverse=True))
# Letters of Latin-1 and Latin Extended-A too: `Adèle`, `Zoë`, `Łukasz`
UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽ"
LOWER = "a-zß-öø-ÿāăąćĉċčďđēĕėęěĝğġģĥħĩīĭįıĵķĺļľŀłńņňŋōŏőœŕŗřśŝşšţťŧũūŭůűųŵŷźżž"
_CAP = rf"(?:Ma?c)?[{UPPER}][{LOWER}]+(?:['’][{UPPER}][{LOWER}]+)?(?:-(?:san|chan|kun|sama|sensei|senpai|dono))?"
# Words of one name may be split by a line wrap (`Lord Henry\nWotton`), never by a blank line.
# `Catherine de Bourgh`, `Cornelius van Buren`: a lower-case particle inside a name
PARTICLES = frozenset("de van von du der den del della di da ter ten le la".split())
_PARTICLE = "|".join(sorted(PARTICLES))
# A name has at most NAME_WORDS words: an unbounded run would be retried from every word of a
# long run of capitalised words (quadratic time).
NAME_WORDS = 6
_MORE_CAPS = rf"(?:(?:[ \t]+(?:(?:{_PARTICLE})[ \t]+)?|[ \t]*\n[ \t]*(?!\n)){_CAP}){{0,{NAME_WORDS - 1}}}"
# (?=[A-Z]) first: a name starts with a capital
# A title and the name after it: a full stop only after a title written short (`Mr. Darcy`; `the
# Queen. Alice` is two names), and never a blank line between them (`the Queen.\n\nFirst came`).
ABBREVIATED_TITLES = ("Mr", "Mrs", "Ms", "Mx", "Dr", "Mme", "Mlle")
_AFTER_ABBREVIATION = "|".join(rf"(?<={t}\.)" for t in ABBREVIATED_TITLES)
TITLE_GAP = rf"(?:\.(?:{_AFTER_ABBREVIATION}))?(?:[ \t]+|[ \t]*\n[ \t]*(?!\n))"
NAME_RE = re.compile(rf"(?=[{UPPER}])(?:\b({TITLE_RE}){TITLE_GAP})?\b({_CAP}{_MORE_CAPS})\b")
# NAME_RE written to open with the capital it starts with, so that the scanner jumps from one capital
# to the next (a look-ahead first has it try every character): the same alternatives in the same
# order after it, each checked against that capital by a look-behind (`\b` before it is `(?<!\w.)`
# after it). Group 1 is the title without its capital (None without a title), group 2 the name
# after a title (None without a title: the name is the whole match).
_CAP_AFTER_FIRST = _CAP.removeprefix(f"(?:Ma?c)?[{UPPER}]")
_TITLE_AFTER_CAPITAL = "|".join(f"{t[1:]}(?<={t})" for t in TITLE_RE.split("|"))
NAME_SCAN = re.compile(
    rf"[{UPPER}](?<!\w.)(?:({_TITLE_AFTER_CAPITAL}){TITLE_GAP}\b({_CAP}{_MORE_CAPS})"
    rf"|(?:(?<=M)a?c[{UPPER}]{_CAP_AFTER_FIRST}|{_CAP_AFTER_FIRST}){_MORE_CAPS})\b"
)

SENTENCE_START = re.compile(r"(?:^|[.!?…:;]['’\"”)]*\s+|[\"“‘(—–]\s*|\n\s*\n\s*)$")
# SENTENCE_START's branches reversed: matched at the position, in the text read backwards (`opens_sentence`)
_SENTENCE_START_BACKWARDS = re.compile(r"\s+['’\"”)]*[.!?…:;]|\s*[\"“‘(—–]|\s*\n\s*\n")


def opens_sentence(text: str, backwards: str, pos: int) -> bool:
    """Whether a sentence opens at `pos`, by the six characters before it: what
    `SENTENCE_START.search(text, max(0, pos - 6), pos)` says, matched once where those characters
    start in the text read backwards (`backwards` is `text[::-1]`) instead of searched for from each."""
    if pos <= 6:
        return SENTENCE_START.search(text, 0, pos) is not None  # (`^`: the very start)
    back = len(text) - pos
    return _SENTENCE_START_BACKWARDS.match(backwards, back, back + 6) is not None
# A verb right after a name: the name is someone doing something.
_SUBJECT_VERBS = """was had did could would made took gave looked shook stood sat came went ran held
    put got let saw felt knew thought turned spoke began drew threw said says told kept
    left rose fell broke wore bit hid caught heard laughed smiled nodded sighed grinned frowned shrugged
    paused stopped asked cried replied answered whispered shouted is has does can will walks looks turns
    sees knows thinks takes gives comes goes says sang sings fought bought brought found led lay
    met paid sent slept spent stuck struck swung taught understood won wrote ate drank sank swam
    climbed rode strode drove flew grew blew bent bore burst chose clung crept fled flung forgot
    froze hung leapt lit meant rang shot shut slid sought sprang stole swept swore tore thrust
    woke wept wrung laid""".split()
SUBJECT_VERB = re.compile(rf"\s+(?:\w+ly\s+)?(?:[a-z]+ed|{word_trie(_SUBJECT_VERBS)})\b")
# The last word of a place's name: `Lucas Lodge`, `Netherfield Park`, `Baker Street`.
PLACE_NOUNS = frozenset(
    """Street Road Lane Square Hall House Court Park Hotel Inn Church River Mount Island Castle Abbey Bay
    Avenue Place Station Hill Lodge Manor Farm Cottage Gardens Garden Terrace Row Rectory Vicarage Parsonage
    Grange Priory Towers Tower Heights Gables College School Hospital Lake Valley Forest Wood Woods Common
    Green Club Theatre Museum Library Chapel Cathedral Palace Market Cross Gate Bridge Mill Mills Fields Field
    Crescent Close Walk Buildings Hotel Arms Tavern Downs Moor Heath Point Harbour Harbor Port Springs Falls
    Creek Brook Pond Mountains Mountain Hills Islands Shire Town City County Villa Cliff Cliffs Beach Coast
    Yard Quay Wharf Docks Dock Barracks Prison Gaol Asylum Institute Academy University Hospital Workhouse
    Office Bank Exchange Company Society Church Chapel Minster Temple Hall Halls Road Roads Alley""".split()
)
# Capitalised words that are not names even when the story never writes them in lower case.
STOP_WORDS = frozenset(
    """I I'm I'd I'll I've The A An And But Or So If Then When While As At In On Of For To From By
    With Without Within Into Over Under After Before Because Though Although However Still Yet Nor
    He She It They We You His Her Its Their Our Your My Me Him Them Us This That These Those Thou Thee
    There Here What Which Who Whom Whose Why How Where Yes No Not Oh Ah Um Uh Hey Hi Hello Well O
    Okay OK Thanks Thank Please Sorry Goodbye Good Just Even Only Every Each All Some Any None Nothing
    Everything Someone Anyone Everyone Nobody Maybe Perhaps Suddenly Slowly Soon Now Never Always Again
    Once Both Like God Heaven Lord Christ Jesus Sunday Monday Tuesday Wednesday Thursday Friday Saturday
    January February March April May June July August September October November December Christmas
    English Japanese Japan America American British French German Chinese Korean England London Paris
    Europe TV CD PS Chapter Part Scene Book Volume Author Note Notes Disclaimer Edited Prologue Epilogue
    Let Don't Can't Won't Isn't It's That's There's What's Wait Look Listen Remember Come Go Get Do Did
    Dear Mamma Mama Papa Mommy Mom Daddy Dad Mum Ma Pa Sir Madam Ma'am Miss Mister Street Road Lane
    Square Hall House Court Park Hotel Inn Church River Mount Island Castle Abbey Bay North South East
    West Rue Avenue Place Station Hill Mr Mrs Ms Dr St Esq Jr Sr Mx Such Somebody Anybody Everybody
    Something Anything Ours Yours Hullo Hallo Being One Two Three Four Five Six Seven Eight Nine Ten
    Ow Ugh Ooh Aha Alas Bah Pshaw Hush Hum Hem Hm Hmm Eh Ay Aye Nay Yea Yah Whew Oho Hurrah Hurray
    Presently Indeed Certainly Surely Really Quite Very Besides Meanwhile Nevertheless Moreover Instead
    Afterwards Later Today Tomorrow Yesterday Tonight""".split()
)
# Household callings that serve as a name: `Nanny said`, `ask nanny`, `said cook`. Written in lower
# case too, such a word is still someone's name when the story uses it bare, with no article or
# possessive (`the nurse`, `her nanny` are common nouns).
CALLING_NAMES = frozenset("nanny nannie nanna nurse nursie cook governess".split())
# Stop words that are also family names after a title: `Mrs. Hall`, `Mr. House`, `Miss Church`.
SURNAME_WORDS = frozenset(
    "Hall House Court Park Church Street Lane Hill Castle Bay West North South East Rivers Well Good Young Long "
    "Little Mount Place Inn Hope May June April Christmas English French Green Wood Woods Brook Field Fields "
    "Cross Gates Bridge Mills Common Moor Heath Bank Temple Lodge".split()
)


@cache
def _given_names() -> dict[str, int]:
    table = resources.files("audiobook.attribution").joinpath("data/given_names.tsv").read_text(encoding="utf-8")
    out: dict[str, int] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            name, girls = line.split("\t")
            out[name] = int(girls)
    return out


def given_name_gender(word: str) -> Gender | None:
    """The sex most babies called `word` were registered with, when at least 3 in 4 of them were."""
    girls = _given_names().get(word.lower())
    if girls is None:
        return None
    return "female" if girls >= 75 else "male" if girls <= 25 else None


def prior_gender(word: str) -> Gender | None:
    """The first-name prior of a character's given name: `given_name_gender`, or for a pet name
    the SSA counts leave out, the sex of the names it is short for when they all agree (Babs ->
    Barbara, Jem -> James; not Tony -> Anthony or Antonia)."""
    if word.lower() in _given_names():
        return given_name_gender(word)
    fulls = {given_name_gender(full) for full in full_forms(word)} - {None}
    return fulls.pop() if len(fulls) == 1 else None


def is_given_name(word: str) -> bool:
    return word.lower() in _given_names()


@cache
def _canonicals() -> dict[str, frozenset[str]]:
    from nicknames import NickNamer

    return {short: frozenset(full) for short, full in NickNamer().canonical_lookup.items()}


def full_forms(short: str) -> frozenset[str]:
    """The given names (lower case) that `short` is a known nickname of: `lizzy` -> {`elizabeth`}."""
    return _canonicals().get(short.lower(), frozenset())


def short_form_of(short: str, full: str) -> bool:
    """Whether `short` is a short form or pet name of the given name `full`: a known nickname
    (Lizzy, Eliza, Bess -> Elizabeth), or the full name's first syllables (Fred -> Frederick)."""
    s, f = short.lower(), full.lower()
    if len(s) >= len(f) or len(s) < 3:
        return False  # a short form is shorter: Thomas is not a pet name of Tom
    if f in _canonicals().get(s, ()):
        return True
    return len(s) >= 4 and len(f) > len(s) + 1 and f.startswith(s)
