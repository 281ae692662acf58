"""Resolve a follow-up utterance against the conversation so far; pure, no Redis.

The model parses each utterance alone, so "same dates for Bob" comes back with a person
and no dates, and often with no usable intent. This module decides whether the utterance
refers back and, if so, fills in what it leaves out. The rules, in order:

1. **Nothing to refer to.** Without a previous turn, the parse is returned as is.
2. **Follow-up detection.** Words are those of :func:`~nlp_service.text.words.split_words`;
   words inside the turn's own entity spans never count as cues (a vendor called "Same Day
   Ltd" is not a cue). An utterance is a follow-up when all of these hold:

   - it has at most ``FOLLOW_UP_MAX_WORDS`` (12) words: a long sentence is a new request
     even if it says "also";
   - it brings something, at least one entity of its own, or asks to repeat ("same",
     "again", "likewise"): "thanks, you too" must not replay the last request;
   - it refers back: a strong cue ("same", "also", "too", "again", "likewise", "as well",
     "what about", "how about", "and for"), or a weak cue ("that", "those") in an utterance of
     at most ``WEAK_CUE_MAX_WORDS`` (6) words, since "the invoice that Bob sent" is not a
     follow-up, or it is a *fragment*: at most ``FRAGMENT_MAX_WORDS`` (5) words whose
     words outside entities are all function words ("for Bob", "next week then?").
3. **Intent inheritance.** For a follow-up, when the previous turn was in scope and the new
   parse is out of scope, below ``min_confidence`` (0.5), or the utterance is a fragment,
   the previous turn's intent is used: ``intent`` and ``confidence`` are the previous turn's
   (the inherited intent is exactly as sure as the turn it came from; the model's score for
   a fragment measures nothing), ``out_of_scope`` becomes ``False``, and the model's own
   prediction is kept at the front of ``alternatives`` so nothing it said is lost.
   A confident, in-scope parse of a follow-up keeps its own intent ("do the same for
   INV-2201" may well be a different request on the same entities).
4. **Entity carry-over.** For a follow-up, every entity type in context that the new turn
   does not mention goes to ``carried_entities`` (sorted by type); their offsets point into
   the earlier turn's text. A turn that is not a follow-up carries nothing.
5. **Context update.** After a follow-up, the turn's own entities replace those of the same
   type and the rest stay (so "and for Carol too" after "same dates for Bob" still has the
   dates). A turn that is not a follow-up starts a new thread: the context becomes exactly
   its own entities, so a follow-up to it never picks up entities of an older request. Per
   type the last entity of the turn wins ("for Bob and Carol" leaves Carol in context).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nlp_service.context.conversation import Turn
from nlp_service.inference.result import IntentScore, ParseResult
from nlp_service.text.entity import Entity
from nlp_service.text.words import Word, split_words

LOW_CONFIDENCE = 0.5
FOLLOW_UP_MAX_WORDS = 12
WEAK_CUE_MAX_WORDS = 6
FRAGMENT_MAX_WORDS = 5

STRONG_CUES: frozenset[tuple[str, ...]] = frozenset(
    {
        ("same",),
        ("also",),
        ("too",),
        ("again",),
        ("likewise",),
        ("as", "well"),
        ("what", "about"),
        ("how", "about"),
        ("and", "for"),
    }
)
WEAK_CUES: frozenset[tuple[str, ...]] = frozenset({("that",), ("those",)})
REPEAT_CUES: frozenset[str] = frozenset({"same", "again", "likewise"})
# Words that can surround entities in a fragment without making it a request of its own.
FUNCTION_WORDS: frozenset[str] = frozenset(
    {
        "a", "about", "also", "an", "and", "as", "at", "but", "by", "do", "for", "from", "her",
        "him", "how", "in", "instead", "it", "just", "likewise", "me", "now", "of", "ok", "okay",
        "on", "one", "only", "or", "please", "same", "so", "that", "the", "them", "then", "these",
        "this", "those", "to", "too", "us", "well", "what", "with",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Resolution:
    """The resolved parse plus what the store must record.

    ``context`` is the entity context after this turn, one entity per type; the store
    replaces the stored context with it.
    """

    result: ParseResult
    follow_up: bool
    intent_inherited: bool
    context: dict[str, Entity]


def _is_word(word: Word) -> bool:
    """Punctuation is split into words of its own; it counts neither as a word nor as a cue."""
    return any(ch.isalnum() for ch in word.text)


def _plain_tokens(text: str, entities: Sequence[Entity]) -> tuple[int, list[str | None]]:
    """Word count, and the words in order, lower-cased, with ``None`` for entity words."""
    words = [w for w in split_words(text) if _is_word(w)]
    tokens: list[str | None] = []
    for word in words:
        inside = any(word.start < e.end and e.start < word.end for e in entities)
        tokens.append(None if inside else word.text.lower())
    return len(words), tokens


def _has_cue(tokens: Sequence[str | None], cues: frozenset[tuple[str, ...]]) -> bool:
    for size in {len(cue) for cue in cues}:
        for i in range(len(tokens) - size + 1):
            gram = tokens[i : i + size]
            if None not in gram and tuple(gram) in cues:
                return True
    return False


def is_fragment(text: str, entities: Sequence[Entity]) -> bool:
    """A few words around entities and nothing else: "for Bob", "next week then?"."""
    count, tokens = _plain_tokens(text, entities)
    if not entities or count > FRAGMENT_MAX_WORDS:
        return False
    return all(t is None or t in FUNCTION_WORDS for t in tokens)


def is_follow_up(text: str, entities: Sequence[Entity]) -> bool:
    """Whether ``text`` (with its own ``entities``) refers back to the conversation (rule 2)."""
    count, tokens = _plain_tokens(text, entities)
    if count == 0 or count > FOLLOW_UP_MAX_WORDS:
        return False
    if not entities and not any(t in REPEAT_CUES for t in tokens):
        return False
    if _has_cue(tokens, STRONG_CUES):
        return True
    if count <= WEAK_CUE_MAX_WORDS and _has_cue(tokens, WEAK_CUES):
        return True
    return is_fragment(text, entities)


def _inherit_intent(result: ParseResult, previous: Turn) -> ParseResult:
    alternatives = list(result.alternatives)
    if all(a.intent != result.intent for a in alternatives):
        alternatives.insert(0, IntentScore(result.intent, result.confidence))
    return dataclasses.replace(
        result,
        intent=previous.intent,
        confidence=previous.confidence,
        out_of_scope=False,
        alternatives=alternatives,
    )


def resolve(
    text: str,
    result: ParseResult,
    previous: Turn | None,
    context: Mapping[str, Entity],
    *,
    min_confidence: float = LOW_CONFIDENCE,
) -> Resolution:
    """Apply the module's rules to the parse of ``text``; ``result`` itself is not modified.

    ``previous`` is the last recorded turn (``None`` for the first turn) and ``context`` the
    entities in context before this turn, by type.
    """
    own = {e.type: e for e in result.entities}  # last of a type wins
    follow_up = previous is not None and is_follow_up(text, result.entities)
    if not follow_up:
        return Resolution(
            result=dataclasses.replace(result, carried_entities=[]),
            follow_up=False,
            intent_inherited=False,
            context=own,
        )
    assert previous is not None  # for the type checker: follow_up implies it
    inherit = not previous.out_of_scope and (
        result.out_of_scope or result.confidence < min_confidence or is_fragment(text, result.entities)
    )
    resolved = _inherit_intent(result, previous) if inherit else result
    carried = [context[t] for t in sorted(context) if t not in own]
    return Resolution(
        result=dataclasses.replace(resolved, carried_entities=carried),
        follow_up=True,
        intent_inherited=inherit,
        context={**context, **own},
    )
