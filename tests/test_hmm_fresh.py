"""The pricing position's fresh part (red team 22's third Low, closed): the credits bought in the current epoch
are the position less Tier.carried (what the closes left of earlier purchases), each holder's share of them is
freshCredits, and transfers move it pro rata with the credits. An exit takes its own fresh credits off the position
whole and, for its older credits, at most the carried part: never what others bought this epoch. Each test runs
the contract beside the exact model (tests/market.py's assert_same also checks carried <= position <= supply and
that the holders' fresh credits sum to position - carried), and each tries the rule the way a greedy holder would.

Default parameters (tests/market.py): depth L = 1e9 credits, tier 0 at 0.001 HANZO, positionDecay 0.9."""

from __future__ import annotations

import random

from hanzo.econ.params import WEI

L = 10**9



def test_old_credits_exit_the_carried_position_only_whatever_the_path(m):
    """Tried: B holds 1 L bought two epochs ago (0.01 L of it left on the curve after two closes); A buys 0.8 L
    today. B then leaves by every exit in turn from the same state: a sale, a redemption, a redeemBatch naming the
    tier twice, a transfer to its accomplice that then sells, a batch transfer naming the tier twice then a
    redemption by the receiver. Result: every path takes exactly the carried 0.01 L, A's 0.8 L stays on the
    curve (before: min(amount, p) took all 0.81 L, and B's next purchase cost 0.44x of its quote)."""
    a, b, c = m.traders
    m.apply("buy", b, 0, L)
    m.close_epoch(a)
    m.close_epoch(a)
    m.apply("buy", a, 0, 8 * L // 10)
    m.apply("offer", m.provider, 0, 2 * L)
    p0, fresh0, _ = m.position_parts()
    assert (p0, fresh0) == (810_000_000, 800_000_000)
    paths = {
        "sell": [("sell", b, 0, L)],
        "redeem": [("redeem", b, 0, L, m.provider)],
        "redeem batch, id twice": [("redeem_batch", b, [(0, L // 4), (0, 3 * L // 4)], m.provider)],
        "give, then the receiver sells": [("give", b, 0, L, c), ("sell", c, 0, L)],
        "batch give, id twice, then redeem": [("give_batch", b, [(0, L // 3), (0, L - L // 3)], c),
                                              ("redeem", c, 0, L, m.provider)],
    }
    got = {}
    for name, ops in paths.items():
        snapshot, model = m.chain.snapshot(), m.model.copy()
        for op, who, *args in ops:
            result = m.apply(op, who, *args)
            assert not isinstance(result, Exception), (name, result)
        m.assert_same()
        got[name] = m.position_parts()[:2]
        m.chain.restore(snapshot)
        m.model = model
    print(got)
    assert set(got.values()) == {(800_000_000, 800_000_000)}


def test_a_holder_of_fresh_and_old_credits_takes_its_fresh_share_pro_rata_and_a_transfer_moves_it(m):
    """Tried: A holds 1 L from yesterday and buys 1 L today (fresh 1 L of 2 L held), while B buys 0.5 L today. A
    gives C 1 L (half its credits: 0.5 L of fresh move with them), then sells 0.5 L of the rest (0.25 L fresh, and
    0.25 L of old credits that may take only the carried part). Result, on both sides: A's and C's fresh credits
    0.25 L and 0.5 L, the tier's 1.25 L (B's 0.5 L untouched), and the position falls by A's fresh share and by the
    carried 0.1 L at most, never into B's purchase; C's whole exit then takes its 0.5 L fresh and 0.5 L old from
    what is carried (none left): the position ends at the 0.75 L A and B still hold fresh."""
    a, b, c = m.traders
    m.apply("buy", a, 0, L)
    m.close_epoch(b)  # A's 1 L: 0.1 L carried
    m.apply("buy", a, 0, L)
    m.apply("buy", b, 0, L // 2)
    assert m.position_parts()[:2] == (1_600_000_000, 1_500_000_000)
    m.apply("give", a, 0, L, c)
    assert (m.hmm.freshCredits(a, 0), m.hmm.freshCredits(c, 0)) == (L // 2, L // 2)
    m.apply("sell", a, 0, L // 2)
    m.assert_same()
    assert (m.hmm.freshCredits(a, 0), m.hmm.freshCredits(c, 0), m.hmm.freshCredits(b, 0)) == (L // 4, L // 2, L // 2)
    # A's 0.25 L fresh whole, its 0.25 L old only 0.1 L (all that was carried)
    assert m.position_parts()[:2] == (1_600_000_000 - L // 4 - L // 10, 1_250_000_000)
    m.apply("sell", c, 0, L)
    m.assert_same()
    assert m.position_parts()[:2] == (750_000_000, 750_000_000)
    assert m.hmm.freshCredits(c, 0) == 0


def test_an_old_stockpile_leaves_no_honest_round_trip_on_the_curve(m):
    """Tried (the rule a position-aware exit invites): the dealer holds 10 L bought three epochs ago (0.01 L left on
    the curve) and keeps them while the honest user buys and redeems 0.8 L five times a day for two days. Had exits
    taken a share pro rata over the supply, each honest round trip would leave most of its purchase on the curve
    (0.8 L x 10/10.8 = 0.74 L a trip: 3.7 L a day, e^3.7 = 40x the premium). Result: every round trip takes its own
    fresh credits off whole, the position is back at the carried part after each, and the honest user pays the
    same for its tenth trip as for its first (but for the rounding of V at its end points)."""
    user, d = m.traders[0], m.dealer
    m.apply("buy", d, 0, 10 * L)
    for _ in range(2):
        m.close_epoch(user)
    costs = []
    for _ in range(2):
        m.close_epoch(user)
        carried = m.hmm.tier(0).position
        m.apply("offer", m.provider, 0, 5 * L)
        for _ in range(5):
            costs.append(m.model.quote_buy(0, 8 * L // 10)[0])
            m.apply("buy", user, 0, 8 * L // 10)
            m.apply("redeem", user, 0, 8 * L // 10, m.provider)
            assert m.position_parts()[:2] == (carried, 0)
    m.assert_same()
    print(f"round trips cost {costs[0] / WEI:,.2f} .. {costs[-1] / WEI:,.2f} HANZO")
    assert max(costs[:5]) - min(costs[:5]) <= 1 and max(costs[5:]) - min(costs[5:]) <= 1
    m.apply("sell", d, 0, 10 * L)
    assert m.position_parts() == (0, 0, 0)


def test_a_stale_fresh_record_counts_nothing_after_the_close(m):
    """Tried: a holder buys, the epoch closes, and it exits and buys again: a fresh record from an earlier epoch
    must never let credits take a later epoch's purchases off the curve. Result: after the poke its freshCredits
    read 0 (the tier's too), its exit takes only the carried part, and its new purchase is fresh again."""
    a, b = m.traders[:2]
    m.apply("buy", a, 0, L)
    m.close_epoch(b)
    assert (m.hmm.freshCredits(a, 0), m.position_parts()[1]) == (0, 0)
    m.apply("buy", b, 0, L // 2)
    m.apply("sell", a, 0, L // 2)
    assert m.position_parts()[:2] == (L // 2, L // 2)  # the carried 0.1 L taken, B's half stays
    m.apply("buy", a, 0, L // 4)
    assert m.hmm.freshCredits(a, 0) == L // 4
    m.assert_same()


def test_model_random_exits_and_transfers_never_take_others_fresh_purchases_off_the_curve(m):
    """Tried (contract beside the model, 120 random steps): three holders buying, selling, redeeming (batches naming
    the tier twice), giving (single and batch, the id twice, zero amounts), across pokes and positionDecay 0, 0.5 and
    1. Checked after each step on the model, and with assert_same every tenth: the position never falls below the
    fresh credits that holders other than the one acting still hold (an exit takes only its own), the holders'
    fresh credits sum to the tier's, and none holds more fresh credits than credits."""
    import dataclasses

    from hanzo.econ.fixedpoint import WAD

    rng = random.Random(2211)
    holders = list(m.traders)
    names = [m.name(h) for h in holders]
    for step in range(120):
        who = rng.choice(holders)
        name = m.name(who)
        held = m.model.credits.get((name, 0), 0)
        others_fresh = sum(m.model.fresh_credits(n, 0) for n in names if n != name)
        op = rng.random()
        if op < 0.3 or not held:
            m.apply("buy", who, 0, rng.choice([1, L // 10, rng.randint(1, L)]))
        elif op < 0.45:
            m.apply("sell", who, 0, rng.choice([1, held, rng.randint(1, held)]))
        elif op < 0.6:
            n = rng.choice([1, held, rng.randint(1, held)])
            m.apply("offer", m.provider, 0, n)
            k = rng.randint(0, n)
            m.apply("redeem_batch", who, [(0, k), (0, n - k)], m.provider)
        elif op < 0.8:
            to = rng.choice([h for h in holders if h != who])
            if rng.random() < 0.5:
                m.apply("give", who, 0, rng.choice([1, held, rng.randint(0, held)]), to)
            else:
                k = rng.randint(0, held)
                m.apply("give_batch", who, [(0, k), (0, rng.randint(0, held - k))], to)
                # the receiver's fresh credits are others' to the sender: the check below is for exits
                others_fresh = sum(m.model.fresh_credits(n, 0) for n in names if n != name)
        elif op < 0.88:
            decay = rng.choice([0, WAD // 2, WAD])
            p = dataclasses.replace(m.model.params, position_decay=decay)
            m.hmm.setParams(p.as_tuple(), sender=m.deployer)
            m.model.set_params(p)
        else:
            m.close_epoch(who)
            others_fresh = 0
        t = m.model.tiers[0]
        assert t.position >= others_fresh, step
        assert sum(m.model.fresh_credits(n, 0) for n in names) == t.position - t.carried
        assert t.carried <= t.position <= t.supply
        assert all(m.model.fresh_credits(n, 0) <= m.model.credits.get((n, 0), 0) for n in names)
        if step % 10 == 9:
            m.assert_same()
    m.assert_same()
