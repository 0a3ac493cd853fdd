"""Map free-form model replies to yes/no probing answers.

Order of evidence, strongest first: a leading answer word ("Yes, ...",
"Certainly not"), an explicit answer word later on ("Based on the audio,
yes."), then a statement about the sound being absent or present. Anything
hedged, mixed or unrelated gives None, which the metrics count as wrong (as
the papers do for replies they cannot parse).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

YesNo = Literal["yes", "no"]

_MARKUP = re.compile(r"[*_`#>\"“”]+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "´": "'"})
_ANSWER_PREFIX = re.compile(
    r"^(?:(?:final\s+)?answer|a|assistant|response|output)\s*[:\-]\s*"
    r"|^(?:the|my)\s+(?:final\s+)?answer\s+is\s*:?\s*"
)

_MIXED = re.compile(r"\b(?:yes\s*(?:and|or|/)\s*no|no\s*(?:and|or|/)\s*yes)\b")

_LEADING_NO = re.compile(
    r"^(?:(?:certainly|absolutely|definitely|surely|of course)\s+not"
    r"|no|nope|nah|negative|never|not at all|not really|false|incorrect)\b"
)
_LEADING_YES = re.compile(
    r"^(?:yes|yeah|yep|yup|yea|absolutely|certainly|definitely|indeed|of course"
    r"|sure|correct|affirmative|true)\b"
)

_HEDGE = re.compile(
    r"\b(?:not sure|unsure|uncertain|not certain|unclear|maybe|perhaps|possibly|might"
    r"|(?:can't|cannot|can not|unable to|hard to|difficult to|impossible to|not possible to)"
    r"\s+(?:be (?:certain|sure)|tell|determine|say|answer|confirm)"
    r"|(?:don't|do not) know"
    r"|as an ai|language model"
    r"|(?:can't|cannot|can not|unable to|not able to)"
    r"\s+(?:listen to|process|access|play|analy[sz]e|hear)"
    r"\s+(?:the |this |that |any )?(?:audio|sound file|recording|file))\b"
)

# "no" only counts as an answer word when it stands alone ("the answer is no."),
# not as a determiner ("there is no dog"), which the absence check handles.
_EXPLICIT_YES = re.compile(r"\byes\b")
_EXPLICIT_NO = re.compile(r"\bno\b(?=\s*(?:[.,!;:)]|$))")

# Idioms whose negation word does not negate the sound's presence.
_NEGATION_IDIOMS = re.compile(r"\b(?:no doubt|without (?:a )?doubt|not only)\b")
_NEGATION = re.compile(
    r"\b(?:no|not|never|none|nothing|neither|nor|without|cannot|unable|fail(?:s|ed)? to"
    r"|dont|cant|doesnt|isnt|arent|wasnt|didnt|couldnt|havent)\b|n't\b"
)
_PRESENCE_TERM = re.compile(
    r"\b(?:hear|heard|hearing|audible|detect\w*|notic\w*|present|presence|contain\w*|includ\w*"
    r"|sounds?|noises?|there|identif\w*|perceiv\w*|think so|believe so)\b"
)
_ABSENCE = re.compile(r"\b(?:absent|inaudible)\b")
_AFFIRMATION = re.compile(
    r"\b(?:i (?:can |could )?(?:hear|detect|notice|identify|perceive)"
    r"|i (?:heard|detected|noticed|identified)"
    r"|can be heard|(?:is|are) (?:audible|present|heard)"
    r"|contains?|includes?|features?|there (?:is|are|was|were)|there's"
    r"|i (?:think|believe) so)\b"
)


def parse_yes_no(answer: str) -> YesNo | None:
    """The reply's yes/no answer, or None when it gives none or both. Never raises."""
    # Generations read back from CSV can be NaN rather than a string.
    if not isinstance(answer, str):
        return None
    text = _normalise(answer)
    if not text or _MIXED.search(text):
        return None
    leading = _leading_answer(text)
    if leading is not None:
        return leading
    if _HEDGE.search(text):
        return None
    return _explicit_answer_word(text) or _presence_statement(text)


def _normalise(answer: str) -> str:
    text = unicodedata.normalize("NFKC", answer).translate(_APOSTROPHES).casefold()
    text = _MARKUP.sub(" ", text)
    text = " ".join(text.split()).lstrip(" .,:;!?-–—'([")
    return _ANSWER_PREFIX.sub("", text, count=1)


def _leading_answer(text: str) -> YesNo | None:
    # "no" is tested first so "certainly not" is not read as "certainly".
    if _LEADING_NO.match(text):
        return "no"
    if _LEADING_YES.match(text):
        return "yes"
    return None


def _explicit_answer_word(text: str) -> YesNo | None:
    says_yes = bool(_EXPLICIT_YES.search(text))
    says_no = bool(_EXPLICIT_NO.search(text))
    if says_yes == says_no:
        return None
    return "yes" if says_yes else "no"


def _presence_statement(text: str) -> YesNo | None:
    # Negation wins over affirmation: probed models that miss the asked sound
    # typically go on to describe what they do hear ("No dog can be heard;
    # there is a man speaking").
    text = _NEGATION_IDIOMS.sub(" ", text)
    if _ABSENCE.search(text) or (_NEGATION.search(text) and _PRESENCE_TERM.search(text)):
        return "no"
    if _AFFIRMATION.search(text):
        return "yes"
    return None
