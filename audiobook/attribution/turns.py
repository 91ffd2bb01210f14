"""Turn-taking: untagged paragraphs in a run of dialogue alternate between two speakers (A-B-A)."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Set as AbstractSet

from .address_words import listener_gender, told_gender
from .context import Context, Decision, Rule
from .names import Gender

REACH = 3000  # characters back in which the people of a conversation are looked for


def runs(ctx: Context) -> tuple[list[list[int]], dict[int, int]]:
    """Runs of consecutive paragraphs with quotes, one entry per speaker change; and each paragraph
    that carries on a quotation of the one before -> the paragraph whose turn it extends. (They
    depend on the segments alone: found once a context, for the passes that ask; not to be changed.)"""
    if ctx.turn_runs is None:
        ctx.turn_runs = _runs(ctx)
    return ctx.turn_runs


def _runs(ctx: Context) -> tuple[list[list[int]], dict[int, int]]:
    found: list[list[int]] = []
    turn_of: dict[int, int] = {}
    last = None
    scenes = scene_starts(ctx)
    for p in ctx.by_paragraph:
        quotes = ctx.quotes(p)
        if not quotes:
            continue
        if last is not None and last == p - 1 and ctx.segs[quotes[0]].continues:
            turn_of[p] = turn_of.get(last, last)
        elif found and last == p - 1 and p not in scenes:
            found[-1].append(p)
        else:
            found.append([p])
        last = p
    return found, turn_of


def scene_starts(ctx: Context) -> set[int]:
    """The paragraphs that open a new scene (after a divider such as `* * *`, or a wide gap before
    narration): a conversation does not run on across one. A quote right after a wide gap with no
    divider carries on the conversation (a page break left in the text)."""
    found: set[int] = set()
    for chapter in ctx.chapters:
        story = chapter.segmentation.story
        paragraphs = story.paragraphs
        dividers = [start for start, _ in story.dividers]
        for k in range(1, len(paragraphs)):
            if paragraphs[k].section == paragraphs[k - 1].section:
                continue
            p = chapter.first_paragraph + k
            members = ctx.by_paragraph.get(p, [])
            opens_with_quote = bool(members) and ctx.is_quote(members[0])
            divided = bisect_left(dividers, paragraphs[k - 1].end) < bisect_left(dividers, paragraphs[k].start)
            if divided or not opens_with_quote:
                found.add(p)
    return found


def turn_taking(ctx: Context) -> None:
    """Untagged paragraphs in a run of dialogue paragraphs alternate between two speakers.

    Anchors are the paragraphs a tag or beat decided; a name addressed in one paragraph
    answers in the next (or spoke the one before). From each anchor, speakers alternate
    backwards and forwards; nobody speaks a line that addresses them by name. A run with no
    anchor at all alternates between the two characters most recently mentioned before it."""
    segs, by_paragraph, decided = ctx.segs, ctx.by_paragraph, ctx.decided
    narrator = ctx.narrator
    all_runs, turn_of = runs(ctx)
    scene = _Scene(ctx)

    def speaker(p: int) -> str | None:
        for i in by_paragraph[p]:
            if i in decided:
                return decided[i].speaker
        return None

    def settle(p: int, who: str, rule: Rule, conf: float) -> None:
        for i in by_paragraph[p]:
            if segs[i].kind == "dialogue" and i not in decided:
                decided[i] = Decision(who, rule, conf)

    for run in all_runs:
        for p in _outvoted(run, {p: _anchor(ctx, p) for p in run}):
            for i in by_paragraph[p]:
                if segs[i].kind == "dialogue" and i in decided and decided[i].confidence < _WEAK:
                    del decided[i]  # a guess that contradicts the run's surest tag: let the turns decide
        known = {p: speaker(p) for p in run}
        addressed = {p: set(ctx.vocatives.get(p, [])) for p in run}
        not_speaker = {p: addressed[p] | ctx.named.get(p, set()) for p in run}  # nobody calls themselves by name
        sure = {k: a[0] for k, a in ((k, _anchor(ctx, p)) for k, p in enumerate(run)) if a and a[1] >= _SURE}
        for k, p in enumerate(run):  # "…, Haku?" -> Haku answers next (or spoke just before)
            # the one called last answers: `"…to Darcy, Caroline," cried her brother, "…Do not you, Darcy?"`
            for name in reversed(dict.fromkeys(ctx.vocatives.get(p, []))):
                if ctx.cast.listed and name not in ctx.cast.listed:
                    continue  # `"…, Squire"`: no one the user lists as talking answers to it
                for j in (k + 1, k - 1):
                    if _off_turn(sure, j, name):
                        continue  # `"…, Miss Bennet?"` while the tags say whose turn it is: someone else's
                    if 0 <= j < len(run) and not known[run[j]] and name not in addressed[run[j]] and known[p] != name:
                        known[run[j]] = name
                        settle(run[j], name, "vocative", 0.55)
                        break
        for p, who in _between(run, known, not_speaker).items():
            known[p] = who
            settle(p, who, "turn-taking", 0.6)
        if not any(known.values()) and len(run) > 1:
            start = segs[by_paragraph[run[0]][0]].start
            recent: list[str] = []
            for m in ctx.cast.mentioned_before(start):
                if start - m.start > REACH:
                    break
                if m.character not in recent and m.character != narrator:
                    recent.append(m.character)
            if narrator:
                recent.insert(1 if recent else 0, narrator)
            if len(recent) >= 2:
                a = next((c for c in recent[:2] if c not in not_speaker[run[0]]), recent[0])
                known[run[0]] = a
                settle(run[0], a, "turn-taking", 0.35)
        for k, p in enumerate(run):
            if known[p]:
                continue
            guess = None
            for distance in range(1, 9):
                for j in (k - distance, k + distance):
                    if not 0 <= j < len(run) or not known[run[j]]:
                        continue
                    anchor = known[run[j]]
                    partner = _partner(ctx, scene, run, j, known)
                    guess = anchor if distance % 2 == 0 else partner
                    if guess in not_speaker[p]:
                        other = partner if guess == anchor else anchor
                        beside = {known[run[n]] for n in (k - 1, k + 1) if 0 <= n < len(run)}
                        if other in beside or other in addressed[p]:  # swapping would repeat a neighbour's turn
                            third = _third(run, k, known, not_speaker[p] | beside | {guess})
                            if third is None and guess not in addressed[p]:
                                third = guess  # `"No; you'll call me just plain Marilla."`: one may name oneself
                            other = third or other
                        guess = other
                    if guess:
                        conf = max(0.3, 0.6 - 0.05 * distance)
                        break
                if guess:
                    break
            if guess:
                known[p] = guess
                settle(p, guess, "turn-taking", conf)
    for p, head in turn_of.items():
        speaker_of_turn = speaker(head)
        for i in by_paragraph[p]:
            if (
                segs[i].kind == "dialogue"
                and speaker_of_turn
                and (i not in decided or decided[i].rule == "turn-taking")
            ):
                decided[i] = Decision(speaker_of_turn, "continued-quote", 0.8)


def _off_turn(sure: dict[int, str], j: int, name: str) -> bool:
    """Whether the nearest sure tag in the run says turn `j` is not `name`'s: two turns from it is
    the tagged speaker again, one turn off someone else."""
    if not sure:
        return False
    k = min(sure, key=lambda k: (abs(k - j), k))
    distance = abs(k - j)
    if distance > 4:
        return False
    return (sure[k] == name) != (distance % 2 == 0)


def _third(run: list[int], k: int, known: dict[int, str | None], skip: AbstractSet[str | None]) -> str | None:
    """Another voice of the conversation, nearest turn `k` first: `"She was," said John.` /
    `"Ah! One more question, Mr. Wells."` is neither John's (he just spoke) nor Mr. Wells's (called)."""
    for distance in range(2, len(run)):
        for n in (k - distance, k + distance):
            if 0 <= n < len(run) and known[run[n]] and known[run[n]] not in skip:
                return known[run[n]]
    return None


def _between(
    run: list[int], known: dict[int, str | None], not_speaker: dict[int, set[str]]
) -> dict[int, str]:
    """Untagged paragraphs between the turns of two speakers who alternate across them (`A ? ? B`):
    B, A, … in turn, so that the one after the gap is not the partner that speaks first but the one
    whose turn it is (unless a line of theirs calls the other by name)."""
    found: dict[int, str] = {}
    k = 0
    while k < len(run):
        if known[run[k]]:
            k += 1
            continue
        lo = k
        while k < len(run) and not known[run[k]]:
            k += 1
        if lo == 0 or k == len(run):
            continue
        before, after = known[run[lo - 1]], known[run[k]]
        gap = run[lo:k]
        if before and after and before != after and len(gap) % 2 == 0:
            turns = [after if n % 2 == 0 else before for n in range(len(gap))]
            if not any(who in not_speaker[p] for p, who in zip(gap, turns, strict=True)):
                found.update(zip(gap, turns, strict=True))
    return found


_WEAK = 0.65  # an anchor below this (a lead-in that introduced the quote) gives way to a tag that contradicts it
_SURE = 0.9  # a speech tag naming the speaker


def _anchor(ctx: Context, p: int) -> tuple[str, float] | None:
    """The speaker decided first in paragraph `p`, and how sure that is."""
    for i in ctx.by_paragraph[p]:
        if i in ctx.decided:
            return ctx.decided[i].speaker, ctx.decided[i].confidence
    return None


def _outvoted(run: list[int], anchors: dict[int, tuple[str, float] | None]) -> list[int]:
    """The opening guess of a run (from the narration before it) when the run's surest tag
    contradicts it, among at most three speakers: two turns from the tagged speaker is the tagged
    speaker again, one turn off is someone else. (Later in a run a guess comes from narration
    between the turns, which may well break the alternation.)"""
    sure = [(k, a) for k, a in ((k, anchors[p]) for k, p in enumerate(run)) if a and a[1] >= _SURE]
    opening = anchors[run[0]]
    if not sure or not opening or opening[1] >= _WEAK:
        return []
    k0, (who, _) = sure[0]  # the nearest: further on, the talk may have turned to others
    people = {a[0] for p in run[: k0 + 1] if (a := anchors[p])}  # (up to it: a third may join later)
    if len(people) > 3:
        return []
    return [run[0]] if (opening[0] == who) != (k0 % 2 == 0) else []


def _partner(ctx: Context, scene: _Scene, run: list[int], j: int, known: dict[int, str | None]) -> str | None:
    """Who answers the speaker of run[j]: the neighbour who spoke, the one addressed, a first-person
    narrator, another voice of the conversation, or the last named (of the people the user lists,
    when they list them)."""
    anchor = known[run[j]]
    narrator = ctx.narrator
    for n in (j - 1, j + 1):
        if 0 <= n < len(run) and known[run[n]] and known[run[n]] != anchor:
            return known[run[n]]
    for name in ctx.vocatives.get(run[j], []):
        if name != anchor and (not ctx.cast.listed or name in ctx.cast.listed):
            return name
    beside = _named_beside(ctx, run[j], anchor)
    if beside is not None:
        return beside
    if narrator and anchor != narrator and _narrator_in_view(ctx, run, known):
        return narrator  # in a first-person story the narrator is in most conversations
    for distance in range(2, 7):  # the other voice of this conversation, a few turns away
        for n in (j - distance, j + distance):
            if 0 <= n < len(run) and known[run[n]] and known[run[n]] != anchor:
                return known[run[n]]
    start = ctx.segs[ctx.by_paragraph[run[j]][-1]].end  # `"She's my partner." I said, my words directed to Kaito.`
    talked_about = set().union(*(ctx.named.get(run[n], set()) for n in (j - 1, j, j + 1) if 0 <= n < len(run)))
    skip = talked_about | {anchor, narrator}
    people = [(c, active) for c, active in scene.present(start) if c not in skip]
    told = _told(ctx, run[j])
    if told is not None:  # `"Yes, sir."` / `"…," she asked him`: a man answers
        fitting = [(c, active) for c, active in people if ctx.resolver.voice_gender(c) == told]
        people = fitting or people
    if ctx.cast.listed:  # the user listed the book's people: one of them, not someone only named
        people = [(c, active) for c, active in people if c in ctx.cast.listed] or people
    return next((c for c, active in people if active), people[0][0] if people else None)


def _named_beside(ctx: Context, p: int, anchor: str | None) -> str | None:
    """The one other person the narration of the speaker's own paragraph names: `Tony danced with
    Babs. She said, "…"` is said to Tony, who answers."""
    members = ctx.by_paragraph[p]
    others = {
        m.character for m in ctx.cast.mentioned_after(ctx.segs[members[0]].start, ctx.segs[members[-1]].end)
        if m.start != m.end and m.character != anchor and m.character != ctx.narrator
    }
    return others.pop() if len(others) == 1 else None


def _told(ctx: Context, p: int) -> Gender | None:
    """Whom the lines of paragraph `p` are said to, a man or a woman, by their words of address
    (`"Yes, sir."`) or by their tag (`she asked him`)."""
    members = ctx.by_paragraph[p]
    heard = listener_gender(" ".join(ctx.said(i) for i in members if ctx.is_quote(i)))
    tags = {told_gender(ctx.said(i)) for i in members if not ctx.is_quote(i)} - {None}
    if heard is not None:
        return heard if not tags or tags == {heard} else None
    return tags.pop() if len(tags) == 1 else None


_FIRST_PERSON = re.compile(r"\b(?:I|me|my|we|us|our)\b")


def _narrator_in_view(ctx: Context, run: list[int], known: dict[int, str | None]) -> bool:
    """Whether the first-person narrator takes part in a conversation: they speak in it or just
    before it, or the narration around it says I, me, we. A narrator who only tells what others
    said (a witness questioned at an inquest, a story told to a child) is no one's partner."""
    narrator = ctx.narrator
    if any(known[p] == narrator for p in run):
        return True
    start = ctx.segs[ctx.by_paragraph[run[0]][0]].start
    for m in ctx.cast.mentioned_before(start)[:6]:
        if m.start == m.end and start - m.start < REACH and m.character == narrator:
            return True  # the narrator spoke a line just before
    around = [run[0] - 1, *run]  # the paragraph that leads into the conversation, and its own
    narration = (ctx.said(i) for p in around for i in ctx.by_paragraph.get(p, []) if not ctx.is_quote(i))
    return any(_FIRST_PERSON.search(text) for text in narration)


class _Scene:
    """Who is about before a point in the text, most recent first: the people the narration
    names or speaks of as he or she, and the speakers of the quotes before - not names said inside
    a quote (`"Ben says…"`: Ben is talked about, not there). Each is `active` if they speak or act
    there (a speaker, a he or she), or are described as a person (`a stranger`), or a speech tag
    names them anywhere in the book, or the user lists them: people who talk, not a room or a
    horse that only has a name."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.starts = ctx.starts()
        self.talkers = {d.speaker for d in ctx.decided.values() if d.rule == "speech-verb" and d.confidence >= _SURE}
        self.talkers |= ctx.cast.listed  # the user's cast: the book's people, by their word

    def present(self, pos: int) -> list[tuple[str, bool]]:
        found: dict[str, bool] = {}
        text = self.ctx.text
        for m in self.ctx.cast.mentioned_before(pos):
            if pos - m.start > REACH:
                break
            if m.start != m.end and self._quoted(m.start):
                continue
            active = (
                m.start == m.end
                or m.character in self.talkers
                or m.character in self.ctx.resolver.nominal_gender  # `a stranger`: a person by what they are
                or text[m.start : m.end].lower() in ("he", "she")
            )
            found[m.character] = found.get(m.character, False) or active
        return list(found.items())

    def _quoted(self, pos: int) -> bool:
        k = bisect_right(self.starts, pos) - 1
        return k >= 0 and self.ctx.segs[k].kind == "dialogue" and pos < self.ctx.segs[k].end
