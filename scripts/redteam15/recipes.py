import random, sys
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
from hanzo.model.novelty import words
from hanzo.model import rewrites as RW

def span_pieces(T, k, rng):
    sp = words(T)[1]
    ps = [T[sp[i][0]:sp[i + k - 1][1]] for i in range(0, len(sp) - k + 1, k)]
    rng.shuffle(ps)
    return ps

def lines(ps, per=3):
    return "\n".join(" ".join(ps[i:i + per]) for i in range(0, len(ps), per)) + "\n"

def pieces_randword(T, rng, k=3):
    """T cut into k-word pieces (folded words), shuffled, each followed by a random real word."""
    PW = RW._public_words()
    return lines([p + " " + rng.choice(PW) for p in span_pieces(T, k, rng)])

def screened(T, tsid, index, recipe, rng, tries=300):
    """Re-draw until no 4-word bag or similar window of T survives (T not among the text's sources):
    anyone who knows T can check this offline with their own NoveltyIndex holding T."""
    for t in range(tries):
        B = recipe(T, rng)
        nv = index.novelty(B)
        if tsid not in nv.sources:
            return B, t, nv
    return None, tries, nv

def repaired_mix(T, U, rng, k=3, rounds=200):
    """T's k-word pieces alternated with U's, then repaired offline: wherever a 4-word bag across a
    junction is one of T's bags (a common word next to a piece that T had next to it), the T piece is
    swapped with another at random; the author knows T, so this needs nothing of the oracle."""
    import numpy as np
    from hanzo.model.novelty import bag_hashes
    tbags = set(bag_hashes(words(T)[0]).tolist())
    tp, up = span_pieces(T, k, rng), span_pieces(U, k, rng)
    def build():
        ps = []
        for i in range(max(len(tp), len(up))):
            if i < len(tp): ps.append(tp[i])
            if i < len(up): ps.append(up[i])
        return lines(ps)
    for _ in range(rounds):
        B = build()
        ws = words(B)[0]
        hs = bag_hashes(ws).tolist()
        bad = [i for i, h in enumerate(hs) if h in tbags]
        if not bad:
            return B
        for i in bad[:5]:
            a, b = rng.randrange(len(tp)), rng.randrange(len(tp))
            tp[a], tp[b] = tp[b], tp[a]
            a, b = rng.randrange(len(up)), rng.randrange(len(up))
            up[a], up[b] = up[b], up[a]
    return B
