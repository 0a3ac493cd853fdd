"""Map free-form model replies to answers: yes/no, multiple-choice options and open words.

Every parser takes whatever the model wrote (also "", None or NaN read back from a
table) and never raises; a reply it cannot read gives None (or False for open
answers), which the metrics count as wrong and, for yes/no and options, also count
separately as unparsed, as the papers do.

Yes/no (:func:`parse_yes_no`). Order of evidence, strongest first: a leading answer
word ("Yes, ...", "Certainly not", "Absolutely.", "No doubt, ..."), an explicit
answer word later on ("Based on the audio, yes."), then a statement about the sound
being absent or present ("There is no siren" -> no, "I can hear a siren" -> yes).
Anything hedged ("I'm not sure"), mixed ("Yes and no") or unrelated gives None.

Multiple choice: :func:`shuffle_options` orders the options with a per-item seed,
:func:`format_options` letters them for the prompt and :func:`parse_option` reads
the chosen option back by letter or by option text (its docstring has the rules).

Open questions (:func:`parse_open`): the gold word, normalised, found as a whole word
in a short reply.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
import unicodedata
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

YesNo = Literal["yes", "no"]


def _whole_words(*alternatives: str) -> re.Pattern[str]:
    """Any of the ``alternatives`` (regexes), matched as whole words."""
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


_MARKUP = re.compile(r"[*_`#>\"“”]+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "´": "'"})
_ANSWER_PREFIX = re.compile(
    r"^(?:(?:final\s+)?answer|a|assistant|response|output)\s*[:\-]\s*"
    r"|^(?:the|my)\s+(?:final\s+)?answer\s+is\s*:?\s*"
)

_MIXED = _whole_words(r"yes\s*(?:and|or|/)\s*no", r"no\s*(?:and|or|/)\s*yes")

_LEADING_NO = re.compile(
    r"^(?:(?:certainly|absolutely|definitely|surely|of course)\s+not"
    r"|no(?!\s+(?:doubt|question)\b)|nope|nah|negative|never|not at all|not really|false|incorrect)\b"
)
_LEADING_YES = re.compile(
    r"^(?:yes|yeah|yep|yup|yea|absolutely|certainly|definitely|indeed|of course"
    r"|sure|correct|affirmative|true|no doubt|no question|without (?:a )?doubt|undoubtedly)\b"
)

_HEDGE = _whole_words(
    r"not sure|unsure|uncertain|not certain|unclear|maybe|perhaps|possibly|might",
    r"(?:can't|cannot|can not|unable to|hard to|difficult to|impossible to|not possible to)"
    r"\s+(?:be (?:certain|sure)|tell|determine|say|answer|confirm)",
    r"(?:don't|do not) know",
    r"as an ai|language model",
    r"(?:can't|cannot|can not|unable to|not able to)"
    r"\s+(?:listen to|process|access|play|analy[sz]e|hear)"
    r"\s+(?:the |this |that |any )?(?:audio|sound file|recording|file)",
)

# "no" only counts as an answer word when it stands alone ("the answer is no."),
# not as a determiner ("there is no dog"), which the absence check handles.
_EXPLICIT_YES = re.compile(r"\byes\b")
_EXPLICIT_NO = re.compile(r"\bno\b(?=\s*(?:[.,!;:)]|$))")

# Idioms whose negation word does not negate the sound's presence.
_NEGATION_IDIOMS = _whole_words("no doubt", "without (?:a )?doubt", "not only")
_NEGATION = re.compile(
    r"\b(?:no|not|never|none|nothing|neither|nor|without|cannot|unable|fail(?:s|ed)? to"
    r"|dont|cant|doesnt|isnt|arent|wasnt|didnt|couldnt|havent)\b|n't\b"
)
_PRESENCE_TERM = _whole_words(
    r"hear|heard|hearing|audible|detect\w*|notic\w*|present|presence|contain\w*|includ\w*",
    r"sounds?|noises?|there|identif\w*|perceiv\w*|think so|believe so",
)
_ABSENCE = _whole_words("absent", "inaudible")
_AFFIRMATION = _whole_words(
    "i (?:can |could )?(?:hear|detect|notice|identify|perceive)",
    "i (?:heard|detected|noticed|identified)",
    "can be heard|(?:is|are) (?:audible|present|heard)",
    r"contains?|includes?|features?|there (?:is|are|was|were)|there's",
    "i (?:think|believe) so",
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


# ---------------------------------------------------------------------------
# Multiple choice: shuffling, formatting and parsing option answers.
# ---------------------------------------------------------------------------

OPTION_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def shuffle_options(choices: Sequence[str], answer: str | int, seed: int, item_id: object) -> tuple[list[str], str]:
    """The choices in a fixed random order and the correct option's letter ("a", "b", ...).

    The order depends only on (seed, item_id), through a hash rather than a shared
    generator, so an item is shuffled the same whatever else is in the run or in what
    order the items come. ``answer`` is the correct choice's text or its index into
    ``choices``. An answer that is not among the choices is a data error and raises
    ValueError (as do more than 26 choices) rather than yielding a wrong letter.
    """
    options = [str(choice) for choice in choices]
    _check_option_count(options)
    correct = _answer_index(options, answer)
    digest = hashlib.sha256(f"{seed}\x00{item_id}".encode("utf-8", "surrogatepass")).digest()
    order = list(range(len(options)))
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(order)
    return [options[i] for i in order], OPTION_LETTERS[order.index(correct)]


def format_options(choices: Sequence[str]) -> str:
    """ "(a) dog\\n(b) cat\\n..." for the prompt; raises ValueError beyond 26 choices."""
    options = [" ".join(str(choice).split()) for choice in choices]
    _check_option_count(options)
    return "\n".join(f"({letter}) {option}" for letter, option in zip(OPTION_LETTERS, options))


def _check_option_count(options: Sequence[str]) -> None:
    if len(options) > len(OPTION_LETTERS):
        raise ValueError(f"at most {len(OPTION_LETTERS)} options can be lettered, got {len(options)}")


def _answer_index(options: Sequence[str], answer: str | int) -> int:
    if isinstance(answer, (int, np.integer)) and not isinstance(answer, bool):
        if 0 <= answer < len(options):
            return int(answer)
        raise ValueError(f"answer index {answer} is out of range for {len(options)} choices")
    text = str(answer)
    if text in options:
        return options.index(text)
    loose = [i for i, option in enumerate(options) if _loose(option) == _loose(text)]
    if len({_loose(options[i]) for i in loose}) == 1:
        return loose[0]
    raise ValueError(f"answer {text!r} is not one of the choices {options}")


def _loose(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def parse_option(answer: str, choices: Sequence[str]) -> int | None:
    """The index into ``choices`` of the option the reply picks, or None. Never raises.

    Letters come first; a reply that names an option by letter is read by letter even
    if its text mentions other options. In order, the first rule that finds letters decides:

    1. The whole reply is a letter: "b", "B.", "(b)", "b)", "[B]", "Option B", "Answer: (c)".
    2. A letter after an answer cue: "answer is (c)", "Answer: B", "correct option is b",
       "I would choose B", "I'd go with (d)"; then after a weaker cue: "option c",
       "choice (b)", "it's B", "that is (a)". A letter before "is correct" ("B is the
       right answer") counts as an answer cue. Two letters offered together after
       that ("A or B", "(a) and (c)") make the reply ambiguous.
    3. A letter marker opening the reply: "(b) cat", "b) cat", "B. cat", "B: cat", "B - cat".
    4. A letter in brackets anywhere: "I think (b) fits best."
    5. A standalone letter before punctuation or the end: "I'd say B." (not "a", "i" or "I",
       which are words; "A" only in upper case).

    Only letters of existing options count (a..d for four choices), and a letter right
    after "not", "n't", "except", "rather than" or "instead of" is skipped. Where one rule
    finds two different letters the reply is ambiguous and gives None.

    A bare letter followed by words ("A dog is barking", "The answer is a dog") counts
    as an option letter only when those words begin with that very option's text (and
    not with a longer other option): with choices (a) "dog" (b) "cat" "A dog is barking"
    is option a either way, with (a) "cat" (b) "dog" it is the article and the text
    match gives option b.

    Without a letter the reply is matched against the option texts, normalised as in
    :func:`parse_open` (case, punctuation, articles, number words): an option matches
    where its words appear as whole words in the reply. A mention nested in a longer
    option's mention counts as the longer option ("dog barking" beats "dog"); a mention
    negated within its clause ("not a dog", "I can't hear a dog") does not count. If the
    reply says "the answer is ...", the clause after the cue is tried first. One option
    left is the answer; none, or two different ones ("a dog or a cat"), give None.
    Plural forms ("dogs" for "dog") are only tried when no option matches exactly.
    Last, a reply that is itself part of exactly one option's text ("cat" for
    "cat meowing") picks that option.
    """
    try:
        options = ["" if _missing(choice) else str(choice) for choice in choices]
    except TypeError:
        return None
    if not isinstance(answer, str) or not options:
        return None
    options = options[: len(OPTION_LETTERS)]
    option_words = [_words(option)[0] for option in options]
    letter = _letter_answer(_letter_text(answer), option_words)
    if letter is not _NO_LETTER:
        return letter
    return _text_answer(answer, options, option_words)


# Characters dropped before looking for letters: emphasis, code and quote marks.
_LETTER_MARKUP = re.compile(r"[*_`#\"“”«»]+")
_LETTER_TOKEN = r"(?:\(\s*([a-z])\s*\)|\[\s*([a-z])\s*\]|(?<![\w'])([a-z])\)|(?<![\w'])([a-z])(?![\w'(]))"
_WHOLE_LETTER = re.compile(
    r"^(?:(?:the\s+)?(?:(?:final|correct|right|best)\s+)?(?:answer|option|choice|letter)\s*(?:is)?\s*[:=\-–—]?\s*)?"
    r"[(\[]?\s*([a-z])\s*[)\]]?\s*[.!:]?$",
    re.IGNORECASE,
)
_ANSWER_CUE = re.compile(
    r"(?:\banswer(?:\s+(?:is|would be|should be|will be|must be))?"
    r"|\b(?:correct|right|best)\s+(?:option|choice|letter)(?:\s+(?:is|would be|should be|will be|must be))?"
    r"|\b(?:choose|chose|pick|picked|select|selected|go with|going with|opt for)"
    r")\s*[:=\-–—]?\s*(?:(?:option|choice|letter)\s*[:=\-–—]?\s*)?" + _LETTER_TOKEN,
    re.IGNORECASE,
)
_OPTION_CUE = re.compile(
    r"(?:\b(?:option|choice|letter)s?(?:\s+(?:is|would be|should be|will be|must be))?"
    r"|\b(?:it|that|this)(?:'s|\s+is|\s+would be|\s+must be|\s+should be)"
    r")\s*[:=\-–—]?\s*" + _LETTER_TOKEN,
    re.IGNORECASE,
)
# "B is correct", "(b) is the right answer".
_LETTER_IS_CORRECT = re.compile(
    _LETTER_TOKEN + r"\s+(?:is|seems|would be|must be)\s+(?:the\s+)?(?:correct|right|best|answer|most likely)\b",
    re.IGNORECASE,
)
# "A or B", "(a) and (c)", "b/c": two letters offered together.
_LETTER_ALTERNATIVES = re.compile(
    r"(?<![\w'])[(\[]?([a-z])[)\]]?\s*(?:or|and|/|&)\s*[(\[]?([a-z])[)\]]?(?![\w'])", re.IGNORECASE
)
_LEADING_LETTER = re.compile(
    r"^(?:\(\s*([a-z])\s*\)|\[\s*([a-z])\s*\]|([a-z])\)|([a-z])\s*[.:,\-–—](?=\s|$)|([a-z])(?=\s))",
    re.IGNORECASE,
)
_BRACKETED_LETTER = re.compile(r"\(\s*([a-z])\s*\)|\[\s*([a-z])\s*\]", re.IGNORECASE)
# Case-sensitive: "A." is an option, "a." is not; "e.g." and "U.S." are not letters.
_STANDALONE_LETTER = re.compile(r"(?<![\w'.\-])([A-Za-z])(?![\w'])(?=\s*(?:[.,;:!?)](?![A-Za-z])|$))")
_NOT_STANDALONE = frozenset("aiI")
_NEGATED_LETTER = re.compile(r"(?:\bnot|n't|\bexcept|\brather than|\binstead of)\s*$", re.IGNORECASE)
_AFTER_BARE_LETTER = re.compile(r"\s*(?:[.,;:!?)\]\-–—]|$)")
_NO_LETTER = object()


def _letter_text(answer: str) -> str:
    text = unicodedata.normalize("NFKC", answer).translate(_APOSTROPHES)
    text = _LETTER_MARKUP.sub(" ", text)
    return " ".join(text.split())


def _letter_answer(text: str, option_words: list[list[str]]) -> int | None | object:
    """An option index, None for conflicting letters, or _NO_LETTER when no letter is given."""
    count = len(option_words)
    whole = _WHOLE_LETTER.match(text)
    if whole:
        index = _letter_index(whole.group(1), count)
        if index is not None:
            return index
    cue_stages = ((_ANSWER_CUE, False), (_LETTER_IS_CORRECT, True)), ((_OPTION_CUE, False),)
    for stage in cue_stages:
        found = {
            _cued_letter(match, text, option_words, bare_ok)
            for cue, bare_ok in stage
            for match in itertools.islice(cue.finditer(text), _MAX_LETTER_MATCHES)
        } - {None}
        if found:
            return found.pop() if len(found) == 1 else None
    for match in _LETTER_ALTERNATIVES.finditer(text):
        offered = {_letter_index(letter, count) for letter in match.groups()} - {None}
        if len(offered) > 1:
            return None
    leading = _LEADING_LETTER.match(text)
    if leading:
        bare = leading.group(5)
        if bare is None:
            index = _letter_index(next(g for g in leading.groups() if g), count)
        else:
            index = _bare_letter(bare, text[leading.end() :], option_words)
        if index is not None:
            return index
    for pattern, keep in ((_BRACKETED_LETTER, None), (_STANDALONE_LETTER, _NOT_STANDALONE)):
        found = set()
        for match in pattern.finditer(text):
            letter = next(g for g in match.groups() if g)
            if (keep is not None and letter in keep) or _NEGATED_LETTER.search(
                text[max(0, match.start() - 20) : match.start()]
            ):
                continue
            found.add(_letter_index(letter, count))
        found.discard(None)
        if found:
            return found.pop() if len(found) == 1 else None
    return _NO_LETTER


def _cued_letter(match: re.Match[str], text: str, option_words: list[list[str]], bare_ok: bool) -> int | None:
    start = match.start()
    if _NEGATED_LETTER.search(text[max(0, start - 20) : start]):
        return None
    bracketed = match.group(1) or match.group(2) or match.group(3)
    if bracketed:
        return _letter_index(bracketed, len(option_words))
    if bare_ok:
        return _letter_index(match.group(4), len(option_words))
    return _bare_letter(match.group(4), text[match.end() :], option_words)


def _bare_letter(letter: str, rest: str, option_words: list[list[str]]) -> int | None:
    """A letter with no bracket: an option when punctuation or that option's text follows."""
    index = _letter_index(letter, len(option_words))
    if index is None:
        return None
    if _AFTER_BARE_LETTER.match(rest):
        return index
    # "A dog is barking": the letter is option a only if its text follows.
    # Enough of the rest to hold the longest option, with articles and punctuation between.
    reach = min(_PREFIX_CHARS, 40 + 2 * max(sum(len(word) + 5 for word in words) for words in option_words))
    following = _words(rest[:reach])[0]
    prefixes = [i for i, words in enumerate(option_words) if words and following[: len(words)] == words]
    if not prefixes:
        return None
    longest = max(len(option_words[i]) for i in prefixes)
    return index if len(option_words[index]) == longest and index in prefixes else None


_PREFIX_CHARS = 2000
# Cue matches read per cue; a reply with more is rambling, and only its start is read.
_MAX_LETTER_MATCHES = 100


def _letter_index(letter: str, count: int) -> int | None:
    index = OPTION_LETTERS.find(letter.lower())
    return index if 0 <= index < count else None


def _text_answer(answer: str, options: list[str], option_words: list[list[str]]) -> int | None:
    words, clauses = _words(answer)
    for segment in (*_answer_segments(words, clauses), (0, len(words))):
        for plural in (False, True):
            picked = _matching_option(words, clauses, segment, option_words, plural)
            if picked is not _NO_LETTER:
                return picked  # type: ignore[return-value]
    return _shortened_option(words, option_words)


def _shortened_option(words: list[str], option_words: list[list[str]]) -> int | None:
    """The one option whose text contains the whole reply ("cat" for "cat meowing")."""
    if not words:
        return None
    for plural in (False, True):
        inside = {
            " ".join(target): index
            for index, target in reversed(list(enumerate(option_words)))
            if any(
                _same_words(target[start : start + len(words)], words, plural)
                for start in range(len(target) - len(words) + 1)
            )
        }
        if inside:
            return next(iter(inside.values())) if len(inside) == 1 else None
    return None


def _answer_segments(words: list[str], clauses: list[int]) -> list[tuple[int, int]]:
    """The clause after each of the last few "answer (is)" in the reply, last first."""
    segments = []
    for i in range(len(words) - 1, -1, -1):
        if len(segments) == _ANSWER_SEGMENTS:
            break
        if words[i] != "answer":
            continue
        start = i + 1
        while start < len(words) and clauses[start] == clauses[i] and words[start] in _ANSWER_FILLER:
            start += 1
        end = start
        while end < len(words) and clauses[end] == clauses[i] and end - start < _ANSWER_SEGMENT_WORDS:
            end += 1
        if end > start:
            segments.append((start, end))
    return segments


# How many "answer is" clauses are tried, and how many of their words.
_ANSWER_SEGMENTS = 3
_ANSWER_SEGMENT_WORDS = 30
_ANSWER_FILLER = frozenset({"is", "would", "should", "will", "must", "be", "correct", "final", "probably", "likely"})


def _matching_option(
    words: list[str], clauses: list[int], segment: tuple[int, int], option_words: list[list[str]], plural: bool
) -> int | None | object:
    """The one option mentioned in words[segment], None if several, _NO_LETTER if none."""
    lo, hi = segment
    spans = []  # (start, end, option index)
    for index, target in enumerate(option_words):
        if not target:
            continue
        for start in range(lo, hi - len(target) + 1):
            if _same_words(words[start : start + len(target)], target, plural):
                spans.append((start, start + len(target), index))
    # A mention nested in a longer mention of another option belongs to the longer one.
    by_start: dict[int, list[tuple[int, int]]] = {}
    for start, end, index in spans:
        by_start.setdefault(start, []).append((end, index))
    longest = max((len(target) for target in option_words), default=0)
    kept = [
        (s, e, i)
        for s, e, i in spans
        if not any(
            e <= e2 and (e2 - s2) > (e - s) and i2 != i
            for s2 in range(max(lo, e - longest), s + 1)
            for e2, i2 in by_start.get(s2, ())
        )
    ]
    kept = [(s, e, i) for s, e, i in kept if not _negated(words, clauses, s)]
    if not kept:
        return _NO_LETTER
    picked = {" ".join(option_words[i]): i for _, _, i in sorted(kept, key=lambda span: -span[2])}
    return next(iter(picked.values())) if len(picked) == 1 else None


# ---------------------------------------------------------------------------
# Open (free-text) answers and the word normalisation shared with option texts.
# ---------------------------------------------------------------------------

# A reply longer than this (in words, articles left out) is not searched for the gold
# word: a long description that happens to name the answer among other sounds is not a
# one-word answer. Replies equal to the gold answer always count.
OPEN_MAX_WORDS = 15

_ARTICLES = frozenset({"a", "an", "the"})
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "once": 1, "twice": 2, "thrice": 3,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_CLAUSE_BREAKS = frozenset(".,;!?")
_CLAUSE_WORDS = frozenset({"but", "however", "although", "though", "whereas"})
_TOKEN = re.compile(r"[^\W_]+|[.,;!?]")
_NEGATORS = frozenset(
    {"not", "no", "never", "nor", "neither", "without", "cannot", "cant", "dont", "doesnt", "didnt", "isnt",
     "arent", "wasnt", "werent", "couldnt", "wont", "hardly", "instead", "except", "nothing", "none"}
)  # fmt: skip
_NEGATION_WINDOW = 3


def parse_open(answer: str, gold: str, aliases: Sequence[str] | None = None) -> bool:
    """Whether a free-text reply gives the one-word (or short) gold answer. Never raises.

    Reply, gold answer and aliases are normalised alike: Unicode NFKC, case folded,
    apostrophes dropped ("don't" -> "dont"), punctuation removed, the articles a/an/the
    left out, number words written as digits ("two" -> "2", "twenty-one" -> "21",
    "twice" -> "2"). The reply is correct when it equals the gold answer or an alias,
    or when it has at most OPEN_MAX_WORDS words and contains the gold words as whole
    words ("dog" in "a dog barking", not in "hotdog"), with a trailing "s"/"es" ignored
    ("birds" for "bird"), and not negated within their clause ("not a dog"). A missing
    or empty reply or gold answer is wrong.
    """
    if not isinstance(answer, str) or _missing(gold):
        return False
    references = [gold, *_alias_list(aliases)]
    words, clauses = _words(answer)
    for reference in references:
        if _missing(reference):
            continue
        target = _words(str(reference))[0]
        if not target:
            continue
        if _same_words(words, target, plural=True):
            return True
        if len(words) > OPEN_MAX_WORDS:
            continue
        for start in range(len(words) - len(target) + 1):
            if _same_words(words[start : start + len(target)], target, plural=True) and not _negated(
                words, clauses, start
            ):
                return True
    return False


def _alias_list(aliases: object) -> list:
    """Aliases as a list: None, one string, or any iterable (list, array, Series)."""
    if aliases is None or isinstance(aliases, str):
        return [] if aliases is None else [aliases]
    try:
        return list(aliases)  # type: ignore[call-overload]
    except TypeError:
        return [aliases]


def _words(text: str) -> tuple[list[str], list[int]]:
    """Normalised words and, for each, the number of the clause it stands in."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).casefold().replace("'", "")
    words: list[str] = []
    clauses: list[int] = []
    clause = 0
    tens_before = False  # the previous word was a tens word, so "twenty one" -> "21"
    for token in _TOKEN.findall(text):
        if token in _CLAUSE_BREAKS or token in _CLAUSE_WORDS:
            clause += 1
            tens_before = False
            continue
        if token in _ARTICLES:
            continue
        if tens_before and token in _UNITS and 0 < _UNITS[token] < 10:
            words[-1] = str(int(words[-1]) + _UNITS[token])
            tens_before = False
            continue
        tens_before = token in _TENS
        if token in _UNITS:
            token = str(_UNITS[token])
        elif token in _TENS:
            token = str(_TENS[token])
        words.append(token)
        clauses.append(clause)
    return words, clauses


def _same_words(words: Sequence[str], target: Sequence[str], plural: bool) -> bool:
    if len(words) != len(target):
        return False
    if not plural:
        return list(words) == list(target)
    return all(_same_word(word, wanted) for word, wanted in zip(words, target))


def _same_word(word: str, wanted: str) -> bool:
    if word == wanted:
        return True
    if min(len(word), len(wanted)) < 3:
        return False
    return word in (wanted + "s", wanted + "es") or wanted in (word + "s", word + "es")


def _negated(words: Sequence[str], clauses: Sequence[int], start: int) -> bool:
    """Whether a negation word stands at most _NEGATION_WINDOW words before, in the same clause."""
    for i in range(start - 1, max(-1, start - 1 - _NEGATION_WINDOW), -1):
        if clauses[i] != clauses[start]:
            return False
        if words[i] in _NEGATORS:
            return True
    return False


def _missing(value: object) -> bool:
    """None, or NaN/NA as pandas gives for missing cells."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array is not a missing value
        return False
