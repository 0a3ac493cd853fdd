"""The rule checkers Speech-IFEval scores its closed-ended and creative-writing replies with.

Speech-IFEval reuses Google IFEval's instruction ids and checks a reply "strictly": every
instruction of an item must hold on the reply as given, and a blank reply follows nothing.
Each checker below follows IFEval's ``check_following`` for its id; two simplifications:
the case checkers do not run IFEval's language detection (the instructions ask for English and
the replies are English), and sentences are counted by terminal punctuation rather than
IFEval's abbreviation-aware splitter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Checker = Callable[[str, Mapping[str, Any]], bool]

_STAR_BULLET = re.compile(r"^\s*\*[^\*].*$", re.MULTILINE)
_DASH_BULLET = re.compile(r"^\s*-.*$", re.MULTILINE)
_TITLE = re.compile(r"<<[^\n]+>>")
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s+|$)")


def _is_json(reply: str) -> bool:
    # IFEval accepts the reply wrapped in markdown code fences.
    text = reply.strip()
    for fence in ("```json", "```Json", "```JSON", "```"):
        text = text.removeprefix(fence)
    text = text.removesuffix("```").strip()
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _has_title(reply: str) -> bool:
    return any(title.lstrip("<").rstrip(">").strip() for title in _TITLE.findall(reply))


def _compare(count: int, relation: str, target: int) -> bool:
    if relation == "less than":
        return count < target
    if relation == "at least":
        return count >= target
    raise ValueError(f"relation must be 'less than' or 'at least', got {relation!r}")


def _paragraphs_match(reply: str, expected: int) -> bool:
    # IFEval's paragraphs are separated by the markdown divider ***; an empty one inside fails.
    paragraphs = re.split(r"\s?\*\*\*\s?", reply)
    inner_empty = any(not part.strip() for index, part in enumerate(paragraphs) if 0 < index < len(paragraphs) - 1)
    counted = sum(1 for part in paragraphs if part.strip())
    return not inner_empty and counted == expected


def _sentences(reply: str) -> int:
    return len([part for part in _SENTENCE_END.split(reply.strip()) if part.strip()])


RULES: dict[str, Checker] = {
    "change_case:english_capital": lambda reply, kwargs: reply.isupper(),
    "change_case:english_lowercase": lambda reply, kwargs: reply.islower(),
    "detectable_format:json_format": lambda reply, kwargs: _is_json(reply),
    "detectable_format:title": lambda reply, kwargs: _has_title(reply),
    "detectable_format:number_bullet_lists": lambda reply, kwargs: (
        len(_STAR_BULLET.findall(reply)) + len(_DASH_BULLET.findall(reply)) == int(kwargs["num_bullets"])
    ),
    "startend:quotation": lambda reply, kwargs: (
        len(reply.strip()) > 1 and reply.strip()[0] == '"' and reply.strip()[-1] == '"'
    ),
    "startend:end_checker": lambda reply, kwargs: (
        reply.strip().strip('"').lower().endswith(str(kwargs["end_phrase"]).strip().lower())
    ),
    "combination:repeat_prompt": lambda reply, kwargs: (
        reply.strip().lower().startswith(str(kwargs["prompt_to_repeat"]).strip().lower())
    ),
    "length_constraints:number_words": lambda reply, kwargs: _compare(
        len(_WORD.findall(reply)), kwargs["relation"], int(kwargs["num_words"])
    ),
    "length_constraints:number_sentences": lambda reply, kwargs: _compare(
        _sentences(reply), kwargs["relation"], int(kwargs["num_sentences"])
    ),
    "length_constraints:number_paragraphs": lambda reply, kwargs: _paragraphs_match(
        reply, int(kwargs["num_paragraphs"])
    ),
    "keywords:existence": lambda reply, kwargs: all(
        re.search(re.escape(str(word)), reply, flags=re.IGNORECASE) for word in kwargs["keywords"]
    ),
    "keywords:forbidden_words": lambda reply, kwargs: (
        not any(
            re.search(r"\b" + re.escape(str(word)) + r"\b", reply, flags=re.IGNORECASE)
            for word in kwargs["forbidden_words"]
        )
    ),
}
# The keyword arguments each rule reads; a released item must give them.
RULE_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "detectable_format:number_bullet_lists": ("num_bullets",),
    "startend:end_checker": ("end_phrase",),
    "combination:repeat_prompt": ("prompt_to_repeat",),
    "length_constraints:number_words": ("num_words", "relation"),
    "length_constraints:number_sentences": ("num_sentences", "relation"),
    "length_constraints:number_paragraphs": ("num_paragraphs",),
    "keywords:existence": ("keywords",),
    "keywords:forbidden_words": ("forbidden_words",),
}


def rule_problem(instruction_id: str, kwargs: Mapping[str, Any]) -> str | None:
    """Why an (instruction id, kwargs) pair cannot be checked, or None when it can."""
    if instruction_id not in RULES:
        return f"unknown instruction id {instruction_id!r}; known: {sorted(RULES)}"
    missing = [name for name in RULE_ARGUMENTS.get(instruction_id, ()) if kwargs.get(name) is None]
    return f"{instruction_id!r} needs kwargs {missing}" if missing else None


def follows_rules(reply: object, instruction_ids: Sequence[str], kwargs: Sequence[Mapping[str, Any]]) -> bool:
    """True iff ``reply`` is a non-blank string that follows every instruction (IFEval's strict,
    prompt-level check)."""
    if not isinstance(reply, str) or not reply.strip():
        return False
    return all(RULES[rule](reply, arguments) for rule, arguments in zip(instruction_ids, kwargs, strict=True))
