"""Words of address that show whom a line is said to, and words that show who says it: `"Yes,
sir."` is said to a man, `"Mummy!"` to a woman; `"My husband is out."` is a woman's line."""

from __future__ import annotations

import re

from .names import Gender

_TO_MEN = (
    "sir", "monsieur", "my lord", "your lordship", "papa", "pa", "father", "uncle", "grandpapa", "my boy",
    "my dear boy", "my lad", "my dear fellow", "old fellow", "old man", "my good man", "young man", "my son",
    "mister", "brother", "daddy", "dad", "dada", "gentlemen",
)
_TO_WOMEN = (
    "ma'am", "ma’am", "madam", "madame", "mademoiselle", "my lady", "your ladyship", "mamma", "mama", "ma",
    "mother", "aunt", "auntie", "grandmamma", "my girl", "my dear girl", "my good woman", "young lady",
    "my daughter", "miss", "sister", "mummy", "mumsy", "mummie", "mum", "mommy", "mom", "mammy", "ladies",
)


def _vocative(words: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The words said to someone, on their own between punctuation: `"Yes, sir."`, `"Mamma!"`;
    not `Sir Walter`, `Miss Bates`, `his father said`. Two patterns: one matched at the start of
    a line, one searched for after a mark (opening with the mark, the scanner jumps from one mark
    to the next: one pattern opening with `^|` was tried at every character)."""
    alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    said = rf"(?:(?:my\s+)?(?:dear|good|poor|dearest)\s+)?(?:{alternation})(?=\s*(?:[,.!?;:—–\"”’-]|$))"
    return re.compile(said, re.IGNORECASE), re.compile(rf"[,!?;—–\-\"“‘]\s*{said}", re.IGNORECASE)


_MEN, _WOMEN = _vocative(_TO_MEN), _vocative(_TO_WOMEN)


def _calls(vocative: tuple[re.Pattern[str], re.Pattern[str]], said: str) -> bool:
    at_start, after_mark = vocative
    return at_start.match(said) is not None or after_mark.search(said) is not None


def listener_gender(said: str) -> Gender | None:
    """Whom a line calls a man or a woman, if it calls them only one of the two."""
    men, women = _calls(_MEN, said), _calls(_WOMEN, said)
    return "male" if men and not women else "female" if women and not men else None


_OWN_SPOUSE = re.compile(r"\bmy\s+(?:dear\s+|poor\s+|late\s+|own\s+)?(husband|wife)\b", re.IGNORECASE)


def speaker_gender(said: str) -> Gender | None:
    """Whom a line shows its speaker to be: `my husband` a woman's words, `my wife` a man's."""
    spouses = {m.group(1).lower() for m in _OWN_SPOUSE.finditer(said)}
    return "female" if spouses == {"husband"} else "male" if spouses == {"wife"} else None


_TOLD = re.compile(
    r"\b(?:said|says|asked|asks|told|tells|answered|replied|cried|whispered|called|added|murmured|returned|"
    r"went on|continued|remarked|exclaimed|inquired|enquired|shouted|urged|begged|pleaded)\s+(?:to\s+)?"
    r"(him|her)(?=\s*(?:[,.;:!?—–\"“”-]|$)|\s+(?:again|once|gently|softly|quietly|sharply|coldly|then|now)\b)",
    re.IGNORECASE,
)


_HIM_OR_HER = re.compile(r"him|her", re.IGNORECASE)  # every match of _TOLD holds one


def told_gender(tag: str) -> Gender | None:
    """Whom a speech tag says the line is said to: `she asked him.` a man, `he said to her,` a woman
    (not `he told her mother`: a her before a noun is someone's)."""
    head = tag[:80]
    if not _HIM_OR_HER.search(head):
        return None  # (most tags: no him or her for the pattern to end on, and it is not tried)
    m = _TOLD.search(head)
    if m is None:
        return None
    return "male" if m.group(1).lower() == "him" else "female"
