"""How a greedy user disguises text they did not write: the rewrites the farming benchmark, the
tests and the demo try against the oracle's novelty gate. Each takes the text and a seeded
random generator, and keeps the words (the value a farmer hopes to be paid for)."""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Callable


def punctuation(text: str, rng: random.Random) -> str:
    """Punctuation swapped, apostrophes dropped, case changed."""
    table = str.maketrans({",": ";", ".": "!", ";": ",", "!": ".", "'": None, "?": "."})
    return text.translate(table).swapcase()


def swap_first_words(text: str, rng: random.Random) -> str:
    """The first two words of each line swapped."""
    out = []
    for line in text.splitlines():
        w = line.split()
        if len(w) >= 2:
            w[0], w[1] = w[1], w[0]
        out.append(" ".join(w))
    return "\n".join(out) + "\n"


def reverse_lines(text: str, rng: random.Random) -> str:
    return "\n".join(reversed(text.splitlines())) + "\n"


def shuffle_lines(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    rng.shuffle(lines)
    return "\n".join(lines) + "\n"


def rewrap(text: str, rng: random.Random) -> str:
    """Line breaks moved: five words a line."""
    w = text.split()
    return "\n".join(" ".join(w[i:i + 5]) for i in range(0, len(w), 5)) + "\n"


def sparse_edits(text: str, rng: random.Random, every: int = 40) -> str:
    """One random letter changed about every `every` characters."""
    chars = list(text)
    i = rng.randrange(every)
    while i < len(chars):
        if chars[i].isalpha():
            chars[i] = rng.choice("abcdefghijklmnopqrstuvwxyz")
        i += rng.randint(every // 2, every + every // 2)
    return "".join(chars)


def dense_edits(text: str, rng: random.Random) -> str:
    """One random letter changed about every 15 characters (past the issue's list)."""
    return sparse_edits(text, rng, every=15)


def _every_kth_word(text: str, k: int, change: Callable[[str, random.Random], str | None],
                    rng: random.Random) -> str:
    out, count = [], 0
    for line in text.splitlines():
        words = []
        for w in line.split():
            count += 1
            if count % k == 0:
                w = change(w, rng)
            if w is not None:
                words.append(w)
        out.append(" ".join(words))
    return "\n".join(out) + "\n"


def _one_letter(w: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(w) if c.isalpha()]
    if not letters:
        return w
    i = rng.choice(letters)
    return w[:i] + rng.choice("bcdfglmnprst") + w[i + 1:]


def letter_every_third_word(text: str, rng: random.Random) -> str:
    """One letter changed in every third word: every four-word bag holds an edited word."""
    return _every_kth_word(text, 3, _one_letter, rng)


def letter_every_fourth_word(text: str, rng: random.Random) -> str:
    return _every_kth_word(text, 4, _one_letter, rng)


def drop_every_fourth_word(text: str, rng: random.Random) -> str:
    return _every_kth_word(text, 4, lambda w, r: None, rng)


# the rest of the family the red-team's "letter in every 3rd word" belongs to: damage dense enough
# that every window of the copy differs from the original, at the price of the text's worth
def letter_every_second_word(text: str, rng: random.Random) -> str:
    return _every_kth_word(text, 2, _one_letter, rng)


def letter_every_word(text: str, rng: random.Random) -> str:
    return _every_kth_word(text, 1, _one_letter, rng)


def drop_every_third_word(text: str, rng: random.Random) -> str:
    return _every_kth_word(text, 3, lambda w, r: None, rng)


_SWAPS = ("thee", "thou", "thy", "lord", "good", "love", "sir", "well", "make", "come", "know", "king",
          "heart", "speak", "night", "father", "honour", "gentle", "noble", "sweet")


def replace_every_third_word(text: str, rng: random.Random) -> str:
    """Every third word replaced by a common word of the plays (a real word, so no misspelling to find)."""
    return _every_kth_word(text, 3, lambda w, r: r.choice(_SWAPS), rng)


@lru_cache(maxsize=1)
def _public_words() -> tuple[str, ...]:
    from .corpus import LOCAL
    from .novelty import words

    return tuple(sorted({w for t in LOCAL.public_texts().values() for w in words(t)[0]}))


def random_word_every_third(text: str, rng: random.Random) -> str:
    """Every third word replaced by a random word of the plays: real, and rare enough to count."""
    return _every_kth_word(text, 3, lambda w, r: r.choice(_public_words()), rng)


def shuffled_random_word_every_third(text: str, rng: random.Random) -> str:
    """The lines shuffled, then every third word replaced by a random word of the plays: no bag, no
    12-word set and few runs of meaning words survive."""
    return random_word_every_third(shuffle_lines(text, rng), rng)


def shuffle_words_in_lines(text: str, rng: random.Random) -> str:
    out = []
    for line in text.splitlines():
        w = line.split()
        rng.shuffle(w)
        out.append(" ".join(w))
    return "\n".join(out) + "\n"


def all_at_once(text: str, rng: random.Random) -> str:
    return sparse_edits(shuffle_lines(swap_first_words(punctuation(text, rng), rng), rng), rng)


def fragment_salad(text: str, rng: random.Random, k: int = 2) -> str:
    """The text cut into k-word pieces laid out in random order, three to a line (red team, this
    round): from a long source no bag, no 12-word set and no region of meaning words survives, and
    every word is real. Pass a long source and cut the result to the length wanted."""
    ws = text.split()
    pieces = [" ".join(ws[i:i + k]) for i in range(0, len(ws) - k + 1, k)]
    rng.shuffle(pieces)
    return "\n".join(" ".join(pieces[i:i + 3]) for i in range(0, len(pieces), 3)) + "\n"


def pieces_with_a_random_word(text: str, rng: random.Random, k: int = 3, *, reversed_inside: bool = False,
                              keep: int | None = None) -> str:
    """A sybil's re-sale of a paid text (red team 15): cut into k-word pieces (the gate's own words, so a
    contraction never hides a 4-word bag inside a piece), shuffled, a random real word of the plays after
    each, three pieces a line. No 4-word bag of the source survives, no 12-word set is similar, and the
    random words thin its meaning words below 5 in 12 per region; every 3-word run inside a piece does
    (the novelty index's pieces channel). `reversed_inside`: each piece's words in reverse order (no
    3-word run of the source left in order); `keep`: only that many pieces."""
    from .novelty import words

    spans = words(text)[1]
    ps = [text[spans[i][0]:spans[i + k - 1][1]] for i in range(0, len(spans) - k + 1, k)]
    if reversed_inside:
        ps = [" ".join(reversed(words(p)[0])) for p in ps]
    rng.shuffle(ps)
    ps = [p + " " + rng.choice(_public_words()) for p in ps[:keep]]
    return "\n".join(" ".join(ps[i:i + 3]) for i in range(0, len(ps), 3)) + "\n"


def word_salad(n_chars: int, rng: random.Random) -> str:
    """Random real words of the plays, five to nine a line: junk that no gate before training sees."""
    ws, lines, size = _public_words(), [], 0
    while size < n_chars:
        lines.append(" ".join(rng.choice(ws) for _ in range(rng.randint(5, 9))))
        size += len(lines[-1]) + 1
    return "\n".join(lines)[:n_chars]


def interleave(text: str, other: str) -> str:
    """Two texts interleaved line by line."""
    a, b = text.splitlines(), other.splitlines()
    out = [x for pair in zip(a, b) for x in pair]
    return "\n".join(out) + "\n"


REWRITES: dict[str, Callable[[str, random.Random], str]] = {
    "punctuation and case": punctuation,
    "first two words swapped": swap_first_words,
    "lines reversed": reverse_lines,
    "lines shuffled": shuffle_lines,
    "rewrapped": rewrap,
    "an edit every ~40 chars": sparse_edits,
    "an edit every ~15 chars": dense_edits,
    "all of the above": all_at_once,
    # found by the red-team pass on the first version of novelty
    "words shuffled within lines": shuffle_words_in_lines,
    "a letter in every 3rd word": letter_every_third_word,
    "a letter in every 4th word": letter_every_fourth_word,
    "every 4th word dropped": drop_every_fourth_word,
    # the family of the best farm of the previous round, tried on purpose
    "a letter in every 2nd word": letter_every_second_word,
    "a letter in every word": letter_every_word,
    "every 3rd word dropped": drop_every_third_word,
    "every 3rd word replaced by a common word": replace_every_third_word,
    "every 3rd word replaced by a random word": random_word_every_third,
    "lines shuffled, every 3rd word a random word": shuffled_random_word_every_third,
}
