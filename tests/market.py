"""A market maker on chain beside its integer model, and helpers to drive both at once
(the `market_factory` fixture lives in tests/conftest.py).

The chain side is a HanzoToken (the deployer may mint, for funding traders) and a
HamiltonianMarketMaker whose admin is the deployer, with the default tiers and parameters of
hanzo.econ.params: the same construction as deploy_suite, without the governance handover.
Three providers: an honest one that only serves, the third trader (the dealer), who also trades,
and the accomplice, a provider that colludes with the dealer: nobody may redeem to itself
(SelfRedemption), so the dealer's wash redemptions and fee-free exits of the earlier attacks are
served by the accomplice, who hands the HANZO back off-chain.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import ape

from hanzo.econ.fixedpoint import WAD, mul_div_up
from hanzo.econ.hmm import HMMError, HMMParams, HMMState
from hanzo.econ.params import CONGESTION_CHARGE_ON, DEFAULT, WEI

FUNDING = 10**12 * WEI
FAR = 2**64  # a deadline that never passes
NO_BOUND = -(2**255)  # a redemption's minNet that accepts any congestion charge
TREASURY = "0x000000000000000000000000000000000000bEEF"  # where the market maker's surplus goes


@dataclass
class Market:
    """The contract and the model, with the accounts that trade on both."""

    token: object
    hmm: object
    model: HMMState
    traders: list
    provider: object
    chain: object
    deployer: object
    accomplice: object  # a second provider colluding with the dealer (serves its wash redemptions)

    @property
    def dealer(self):
        """The trader who is also a provider."""
        return self.traders[2]

    def name(self, account) -> str:
        return str(getattr(account, "address", account))

    def now(self) -> int:
        return self.chain.pending_timestamp

    def apply(self, op: str, account, *args):
        """Run `op` on the model and the contract; both must succeed alike or fail alike.
        Returns the model's result, or the HMMError both raised."""
        model_error = model_result = None
        before = self.model.copy()
        try:
            model_result = getattr(self, f"_model_{op}")(account, *args)
        except HMMError as exc:
            model_error = exc
            self.model = before
        try:
            receipt = getattr(self, f"_chain_{op}")(account, *args)
        except ape.exceptions.ContractLogicError as exc:
            if model_error is None:
                raise AssertionError(f"{op}{args}: the contract reverted ({exc}) but the model returned {model_result}")
            name = self.error_name(exc)
            assert name == model_error.name or model_error.name.startswith(name), (name, model_error.name)
            return model_error
        if model_error is not None:
            raise AssertionError(f"{op}{args}: the model raised {model_error} but the contract succeeded")
        return model_result, receipt

    def error_name(self, exc) -> str:
        """The custom error's name, the market maker's or, where HANZO's transferFrom reverted inside it, the
        token's (ERC20InsufficientAllowance, ERC20InsufficientBalance)."""
        name = error_name(exc, self.hmm)
        return error_name(exc, self.token) if name == "ContractLogicError" else name

    # model side
    def _model_buy(self, a, tier, amount, max_cost=2**255):
        return self.model.buy(self.name(a), tier, amount, max_cost, FAR, self.now())

    def _model_buy_batch(self, a, moves, max_cost=2**255):
        return self.model.buy_batch(self.name(a), moves, max_cost, FAR, self.now())

    def _model_redeem_batch(self, a, moves, provider=None, min_refund=None, deadline=FAR):
        return self.model.redeem_batch(self.name(a), moves, self.name(provider or self.provider),
                                       min_refund=min_refund, deadline=deadline, now=self.now())

    def _model_sell(self, a, tier, amount, min_proceeds=0):
        return self.model.sell(self.name(a), tier, amount, min_proceeds, FAR, self.now())

    def _model_redeem(self, a, tier, amount, provider=None, min_refund=None, deadline=FAR):
        return self.model.redeem(self.name(a), tier, amount, self.name(provider or self.provider),
                                 min_refund=min_refund, deadline=deadline, now=self.now())

    def _model_redeem_at_ask(self, a, tier, amount, provider, max_ask, min_refund=None, deadline=FAR):
        return self.model.redeem_at_ask(self.name(a), tier, amount, self.name(provider), max_ask,
                                        min_refund=min_refund, deadline=deadline, now=self.now())

    def _model_give(self, a, tier, amount, to):
        return self.model.transfer(self.name(a), self.name(to), tier, amount)

    def _model_give_batch(self, a, moves, to):
        return self.model.transfer_batch(self.name(a), self.name(to), moves)

    def _model_withdraw(self, a, to, amount):
        return self.model.withdraw_surplus(self.name(to), amount)

    def _model_offer(self, a, tier, credits, min_pay=0):
        return self.model.offer_capacity(self.name(a), tier, credits, min_pay, self.now())

    def _model_poke(self, a):
        return self.model.poke(self.now())

    # chain side
    def _chain_buy(self, a, tier, amount, max_cost=2**255):
        return self.hmm.buy(tier, amount, max_cost, FAR, sender=a)

    def _chain_buy_batch(self, a, moves, max_cost=2**255):
        return self.hmm.buyBatch([t for t, _ in moves], [n for _, n in moves], max_cost, FAR, sender=a)

    def _chain_redeem_batch(self, a, moves, provider=None, min_refund=None, deadline=FAR):
        return self.hmm.redeemBatch([t for t, _ in moves], [n for _, n in moves], provider or self.provider,
                                    NO_BOUND if min_refund is None else min_refund, deadline, sender=a)

    def _chain_sell(self, a, tier, amount, min_proceeds=0):
        return self.hmm.sell(tier, amount, min_proceeds, FAR, sender=a)

    def _chain_redeem(self, a, tier, amount, provider=None, min_refund=None, deadline=FAR):
        return self.hmm.redeem(tier, amount, provider or self.provider, NO_BOUND if min_refund is None else min_refund,
                               deadline, sender=a)

    def _chain_redeem_at_ask(self, a, tier, amount, provider, max_ask, min_refund=None, deadline=FAR):
        return self.hmm.redeemAtAsk(tier, amount, provider, max_ask, NO_BOUND if min_refund is None else min_refund,
                                    deadline, sender=a)

    def _chain_give(self, a, tier, amount, to):
        return self.hmm.safeTransferFrom(a, to, tier, amount, b"", sender=a)

    def _chain_give_batch(self, a, moves, to):
        return self.hmm.safeBatchTransferFrom(a, to, [t for t, _ in moves], [n for _, n in moves], b"", sender=a)

    def _chain_withdraw(self, a, to, amount):
        assert str(to) == str(self.hmm.treasury())  # the surplus goes to the treasury only
        return self.hmm.withdrawSurplus(amount, sender=a)

    def _chain_offer(self, a, tier, credits, min_pay=0):
        return self.hmm.offerCapacity(tier, credits, min_pay, sender=a)

    def _chain_poke(self, a):
        return self.hmm.poke(sender=a)

    def set_sell_fee(self, sell_fee: int) -> None:
        """Governance (the deployer holds GOVERNANCE_ROLE in the fixture; in deployment, the timelock)
        changes the exit fee on both sides."""
        p = dataclasses.replace(self.model.params, sell_fee=sell_fee)
        self.hmm.setParams(p.as_tuple(), sender=self.deployer)
        self.model.set_params(p)

    def raise_price(self, buyer, provider, epochs: int = 3) -> None:
        """`buyer` buys 2 L of tier 0 and spends an eighth of L a day at `provider`'s offer (utilization 1) for
        `epochs` epochs, each closed by a poke: the reference price rises every epoch."""
        depth = self.model.tiers[0].depth
        self.apply("buy", buyer, 0, 2 * depth)
        for _ in range(epochs):
            self.apply("offer", provider, 0, depth // 8)
            self.apply("redeem", buyer, 0, depth // 8, provider)
            self.advance_epoch()
            self.apply("poke", buyer)

    def advance_epoch(self) -> None:
        """Move the clock to the end of the epoch on both sides (the model reads chain time)."""
        self.chain.pending_timestamp = max(self.chain.pending_timestamp, self.hmm.epochStart() + self.model.params.epoch_length)

    def close_epoch(self, account) -> None:
        """advance_epoch, then `account` pokes on both sides."""
        self.advance_epoch()
        self.apply("poke", account)

    def position_parts(self, tid: int = 0) -> tuple[int, int, int]:
        """(pricing position, its fresh part: this epoch's purchases still held (position - carried), supply)."""
        t = self.hmm.tier(tid)
        return t.position, t.position - t.carried, t.supply

    def assert_same(self) -> None:
        """Balances, prices, reserve and every tier's state agree exactly."""
        m = self.model
        assert self.hmm.reserve() == m.reserve
        assert self.token.balanceOf(self.hmm) == m.funds
        assert self.hmm.epoch() == m.epoch
        assert self.hmm.surplus() == m.surplus()
        assert self.hmm.exitFee() == m.exit_fee() and self.hmm.epochExitFee() == m.epoch_exit_fee
        assert m.reserve == sum(m.basis.values())  # the reserve is what holders are owed, nothing else
        for tid, t in enumerate(m.tiers):
            c = self.hmm.tier(tid)
            assert (c.supply, c.refPrice, c.logPrice, c.momentum, c.capacity, c.redeemed) == (
                t.supply, t.ref_price, t.log_price, t.momentum, t.capacity, t.redeemed), tid
            assert (c.position, c.servedAbove, c.carried) == (t.position, t.served_above, t.carried), tid
            assert t.carried <= t.position <= t.supply, tid
            assert self.hmm.price(tid) == m.price(tid)
            assert self.hmm.offered(m.epoch, tid) == m.offered.get((m.epoch, tid), 0)
        for (epoch, tid, who), (min_pay, counted, *rest) in m.asks.items():
            if epoch == m.epoch:  # the standing asks (older ones are never read again)
                served = m.served.get((epoch, tid, who), 0)
                assert tuple(self.hmm.asks(epoch, tid, who)) == (min_pay, True, counted, served, *rest), (tid, who)
                assert self.hmm.providerCapacity(epoch, tid, who) == m.provider_capacity[(epoch, tid, who)]
        for a in self.traders + [self.provider, self.accomplice]:
            assert self.token.balanceOf(a) == m.hanzo.get(self.name(a), 0)
            for tid in range(len(m.tiers)):
                assert self.hmm.balanceOf(a, tid) == m.credits.get((self.name(a), tid), 0)
                assert self.hmm.costBasis(a, tid) == m.basis.get((self.name(a), tid), 0)
                assert self.hmm.freshCredits(a, tid) == m.fresh_credits(self.name(a), tid)
        for tid, t in enumerate(m.tiers):  # the holders' fresh credits are the tier's
            assert sum(m.fresh_credits(who, i) for who, i in m.fresh if i == tid) == t.position - t.carried, tid


def fee_on(value: int, fee: int) -> int:
    """The fee (WAD) on `value`, rounded up as the contract rounds every fee."""
    return mul_div_up(value, fee, WAD)



def quote_redeem(m, holder, tid, amount):
    """quoteRedeem on the contract, checked against the model's quote_redeem: (the provider's pay, the
    holder's refund, the exit fee) of redeeming now (rule 3h)."""
    quoted = tuple(m.hmm.quoteRedeem(holder, tid, amount))
    assert quoted == m.model.quote_redeem(m.name(holder), tid, amount), (quoted, tid, amount)
    return quoted


def quote_redemptions(m, holder, moves, provider):
    """The summed (pay, refund, exit fee) of redeeming `moves` one after another (a batch's elements),
    each quoted on the state the earlier ones leave (the first also on the contract); nothing moves."""
    s, name, total = m.model.copy(), m.name(holder), [0, 0, 0]
    for i, (tid, n) in enumerate(moves):
        q = quote_redeem(m, holder, tid, n) if i == 0 else s.quote_redeem(name, tid, n)
        assert s.redeem_split(name, tid, n, m.name(provider)) == q[:2]
        total = [a + b for a, b in zip(total, q)]
    return total

KAPPA = CONGESTION_CHARGE_ON  # the congestion charge governance may switch on: 1 / elasticity (docs/congestion.md)


def charge_on(m: "Market", kappa: int = KAPPA) -> None:
    """Governance switches the congestion charge on (off by default), on the contract and the model alike."""
    params = dataclasses.replace(m.model.params, congestion_charge=kappa)
    m.hmm.setParams(params.as_tuple(), sender=m.deployer)
    m.model.set_params(params)


def charged_model(names="ABCDHPUX", kappa: int = KAPPA) -> HMMState:
    """fresh_model with the congestion charge switched on."""
    s = fresh_model(names)
    s.set_params(dataclasses.replace(s.params, congestion_charge=kappa))
    return s


def fresh_model(names="ABCDHPUX") -> HMMState:
    """The exact model alone, for the red teams' wide searches: P an honest provider, D the dealer (a
    trader who is also a provider), X its accomplice; every name funded without limit."""
    s = HMMState.from_tokenomics(DEFAULT)
    s.providers |= {"P", "D", "X"}
    for a in names:
        s.hanzo[a] = 10**40
    return s


def build_market_factory(project, accounts, chain):
    deployer, provider, accomplice = accounts[0], accounts[9], accounts[4]
    traders = [accounts[i] for i in (5, 6, 7)]
    params = DEFAULT
    token = project.HanzoToken.deploy(deployer, 10**15 * WEI, sender=deployer)
    token.grantRole(token.MINTER_ROLE(), deployer, sender=deployer)
    hmm = project.HamiltonianMarketMaker.deploy(token, deployer, TREASURY, HMMParams.from_tokenomics(params).as_tuple(),
                                                sender=deployer)
    for _, base in params.inference_tiers:
        hmm.addTier(base, params.hmm_depth, sender=deployer)
    for p in (provider, traders[2], accomplice):
        hmm.grantRole(hmm.PROVIDER_ROLE(), p, sender=deployer)
    model = HMMState.from_tokenomics(params, now=hmm.epochStart())
    model.address = str(hmm.address)
    model.providers.update({str(provider.address), str(traders[2].address), str(accomplice.address)})
    for t in traders:
        token.mint(t, FUNDING, sender=deployer)
        token.approve(hmm, 2**256 - 1, sender=t)
        model.hanzo[str(t.address)] = FUNDING
    for p in (provider, accomplice):  # unfunded, but approved: a transfer's sender pays its exit fee
        token.approve(hmm, 2**256 - 1, sender=p)
    template = model.copy()
    # Restoring a snapshot consumes it, so each restore takes the next one at once.
    snapshot = {"id": chain.snapshot()}

    def make() -> Market:
        chain.restore(snapshot["id"])
        snapshot["id"] = chain.snapshot()
        return Market(token, hmm, template.copy(), traders, provider, chain, deployer, accomplice)

    return make


def error_name(exc, contract) -> str:
    """The custom error's name. Ape usually decodes it into its own class; where it hands back the
    raw revert data instead, match the 4-byte selector against the contract's ABI."""
    name = type(exc).__name__
    raw = exc.revert_message
    if name != "ContractLogicError" or not isinstance(raw, str) or not raw.startswith(("b'", 'b"', "0x")):
        return name
    from hanzo.chain.tx import abi_of, error_selectors, revert_name

    found = revert_name(ValueError(raw), error_selectors(abi_of(contract)))
    return found if found.isidentifier() else name
