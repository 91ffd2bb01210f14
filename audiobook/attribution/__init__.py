"""The attribution stage: who speaks each line of a segmented story.

`attribute` turns a `Segmentation` into a `Script` (every dialogue run with a speaker and the
rule that chose it); `script_json` writes a script in the format the scorer reads. The modules:
`characters` (cast discovery), `cues` (speech tags, beats, names called), `referents` (who a
phrase means), `turns` (turn-taking), `unnamed` (speakers named late, voices, memories),
`attribute` (the sieve that runs them in order).
"""

from .attribute import attribute, attribute_book, attribute_chapters
from .context import Decision, Rule
from .cues import SPEECH_VERBS
from .script import NARRATOR, Character, Line, Script, book_characters, format_script
from .script_json import book_json, files_json, script_json

__all__ = [
    "NARRATOR", "SPEECH_VERBS", "Character", "Decision", "Line", "Rule", "Script", "attribute", "attribute_book",
    "attribute_chapters",
    "book_characters", "book_json", "files_json", "format_script", "script_json",
]
