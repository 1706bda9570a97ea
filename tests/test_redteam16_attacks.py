"""Review 16b (redteam16): the last review's attacks, each a test of the property that should
hold. A test marked xfail(strict=True) fails today: it is a finding (see its reason); the
others are attacks that held."""

from __future__ import annotations


import ape
import pytest

from hanzo.chain.audit import audit_deployment
from hanzo.chain.deploy import Roles, deploy_suite, hand_over
from hanzo.econ.params import WEI
from hanzo.econ.reference import training_payout

from .market import fee_on

FOR = 1
TREASURY = 3
EXECUTED = 7


# ---------------------------------------------------------------------------------------------
# Governance: the exit window only bounds the *earliest* execution


@pytest.fixture(scope="module")
def stakers(suite, whale, users):
    token, staked = suite.token, suite.staked
    for user, amount in zip(users[:2], (6_000_000, 5_000_000)):
        token.transfer(user, amount * WEI, sender=whale)
        token.approve(staked, amount * WEI, sender=user)
        staked.stake(amount * WEI, sender=user)
    return users[:2]


def test_voters_who_passed_a_proposal_cannot_withdraw_and_then_execute_it(suite, stakers, params, chain):
    gov, staked, token = suite.governor, suite.staked, suite.token
    recipient = stakers[0]
    targets = [suite.treasury.address]
    calldatas = [suite.treasury.release.encode_input(recipient.address, 100_000 * WEI)]
    values = [0]
    description = "Treasury: vote, leave, then run"
    pid = gov.proposeTyped(targets, values, calldatas, description, TREASURY,
                           sender=stakers[0]).decode_logs(gov.ProposalCreated)[0].proposalId
    snapshot, deadline = gov.proposalSnapshot(pid), gov.proposalDeadline(pid)
    chain.pending_timestamp = snapshot + 1
    for voter in stakers:  # both unstake everything they can right after the snapshot, then vote
        staked.requestUnstake(staked.balanceOf(voter) - staked.locked(voter), sender=voter)
        gov.castVote(pid, FOR, sender=voter)
    chain.pending_timestamp = deadline + 1
    chain.mine()
    gov.settleDeposit(pid, sender=stakers[1])  # Succeeded: the proposer's deposit comes back
    staked.requestUnstake(staked.balanceOf(stakers[0]), sender=stakers[0])
    chain.pending_timestamp = chain.blocks.head.timestamp + params.unstake_cooldown + 1
    for voter in stakers:
        staked.withdraw(sender=voter)
        assert staked.balanceOf(voter) == 0 and staked.getVotes(voter) == 0  # gone, with all its HANZO
    desc_hash = chain.provider.web3.keccak(text=description)
    executed = True
    try:
        gov.queue(targets, values, calldatas, desc_hash, sender=stakers[1])
        chain.pending_timestamp = chain.blocks.head.timestamp + params.timelock_delay + 1
        before = token.balanceOf(recipient)
        gov.execute(targets, values, calldatas, desc_hash, sender=stakers[1])
        assert token.balanceOf(recipient) - before == 100_000 * WEI
    except ape.exceptions.ContractLogicError:
        executed = False
    # the property: a proposal does not execute after the voters that passed it have left
    assert not executed and gov.state(pid) != EXECUTED


# ---------------------------------------------------------------------------------------------
# TrainingRewards: one op can still void a relayer's batch


@pytest.fixture(scope="module")
def funded_pool(released, params):
    released(params.year_seconds)


def _batch(suite, ops, sender):
    return suite.rewards.rewardTrainingBatch([o.as_tuple() for o, _ in ops], [s for _, s in ops], sender=sender)


def test_a_fork_owner_cannot_void_a_relayers_batch_by_setting_its_adapter_first(
        suite, users, fork_of, sign_op, funded_pool, params):
    honest = [fork_of(users[i]) for i in (0, 1, 2)]
    attacker = users[3]
    their_fork = fork_of(attacker)
    ops = [sign_op(users[i % 3], honest[i % 3], interactions=50) for i in range(9)]
    bad = sign_op(attacker, their_fork, interactions=1)
    ops.insert(4, bad)
    # the front-run: the attacker's fork now records the adapter its op names
    suite.models.updateAdapter(their_fork, bad[0].adapterHash, sender=attacker)
    before = suite.token.balanceOf(users[0])
    _batch(suite, ops, users[4])  # the property: the front-run voids nothing
    # the property (security.md): front-running one op does not void the rest of the batch;
    # users[0] trains its own fork three times (ops 0, 3, 6) and gets both shares of each
    p = training_payout(params, 1, 50)
    assert suite.token.balanceOf(users[0]) - before == 3 * (p.user + p.owner)


def test_a_fork_handed_to_a_trainer_cannot_void_the_batch_holding_its_op(
        suite, users, fork_of, sign_op, funded_pool, params):
    attacker, victim, bystander = users[3], users[0], users[1]
    attackers_fork = fork_of(attacker)
    bystanders_fork = fork_of(bystander)
    victims_op = sign_op(victim, attackers_fork, interactions=10)  # the victim trains the attacker's fork
    ops = [sign_op(bystander, bystanders_fork, interactions=10), victims_op]
    suite.models.updateAdapter(attackers_fork, victims_op[0].adapterHash, sender=attacker)
    suite.models.transferFrom(attacker, victim, attackers_fork, sender=attacker)
    before = suite.token.balanceOf(bystander)
    _batch(suite, ops, users[4])  # the property: the front-run voids nothing
    p = training_payout(params, 1, 10)
    assert suite.token.balanceOf(bystander) - before == p.user + p.owner  # the bystander's own op is paid


def test_an_op_whose_adapter_the_fork_already_records_is_paid_once_and_voids_nothing(suite, users, fork_of, sign_op,
                                                                                    funded_pool):
    """The mechanism of the two findings above, closed: recording the adapter a fork already has
    changes nothing, so the batch pays every op, and the (fork, adapter) key still pays it once."""
    owner = users[2]
    model = fork_of(owner)
    honest = sign_op(users[0], fork_of(users[0]), interactions=5)
    bad = sign_op(owner, model)
    suite.models.updateAdapter(model, bad[0].adapterHash, sender=owner)
    _batch(suite, [honest, bad], users[4])
    assert suite.rewards.adapterPaid(model, bad[0].adapterHash)
    assert suite.rewards.adapterPaid(honest[0].modelId, honest[0].adapterHash)
    with ape.reverts(suite.rewards.OpReplayed):
        suite.rewards.rewardTraining(bad[0].as_tuple(), bad[1], sender=users[4])


# ---------------------------------------------------------------------------------------------
# Deployment: what the deployer can still do before the handover that the audit does not see


@pytest.fixture()
def wired(project, accounts, params):
    roles = Roles(accounts[0], accounts[1], accounts[2].address, accounts[3].address, accounts[4].address)
    return deploy_suite(params, roles, proj=project, handover=False)


def test_market_maker_parameters_set_by_the_deployer_before_handover_are_flagged(wired, params):
    hmm, d = wired.hmm, wired.roles.deployer
    p = list(hmm.params())
    p[5] = 10**17  # buyFee 10%
    p[6] = 5 * 10**17  # sellFee 50%
    p[7] = 365 * 86_400  # epochLength: a year
    hmm.setParams(tuple(p), sender=d)
    hand_over(wired.contracts, d)
    assert tuple(hmm.params())[5:8] == (10**17, 5 * 10**17, 365 * 86_400)
    assert audit_deployment(wired) != []


@pytest.mark.parametrize("uncounted", [False, True], ids=["ask_0", "ask_the_price_does_not_cover"])
def test_a_provider_offer_made_by_the_deployer_before_handover_is_flagged(wired, params, whale, users, uncounted):
    """Its neighbour since offers carry asks: an offer at an ask the price does not cover is not in the
    tier's counted capacity: the audit reads every offer (`offered`), not the count, and flags both.
    What the hidden offer does: at ask 0 a holder's redemption pays the deployer (rule 3h: the credits'
    reference part less the exit fee; the holder gets the curve's premium back). Before rule 3h, credits
    bought up the curve paid the provider their whole share less the fee, above the reference price, so
    they covered an ask one wei above what counts and the deployer was paid there too; now the
    provider's pay is at most P_ref less the fee a credit (countedAsk, to the rounding), so in the
    deployment's epoch that ask is refused (BelowAsk), by what a sale's proceeds would have covered."""
    hmm, d = wired.hmm, wired.roles.deployer
    provider = hmm.PROVIDER_ROLE()
    hmm.grantRole(provider, d.address, sender=d)
    for tier in range(hmm.tierCount()):
        hmm.offerCapacity(tier, params.hmm_depth * 40, hmm.countedAsk(tier) + 1 if uncounted else 0, sender=d)
    hmm.renounceRole(provider, d.address, sender=d)
    hand_over(wired.contracts, d)
    assert uncounted == (hmm.tier(0).capacity == 0)
    problems = audit_deployment(wired)
    holder = users[0]
    n = params.hmm_depth // 2 if uncounted else 1_000
    cost = hmm.quoteBuy(0, n)[0]
    wired.token.transfer(holder, cost, sender=whale)
    wired.token.approve(hmm.address, cost, sender=holder)
    hmm.buy(0, n, cost, 2**255, sender=holder)
    at_ref = n * hmm.tier(0).refPrice
    payout, refund, _ = hmm.quoteRedeem(holder.address, 0, n)
    proceeds = hmm.quoteSell(holder.address, 0, n)[0]
    assert payout == at_ref - fee_on(at_ref, hmm.exitFee()) and payout + refund == proceeds and refund > 0
    before = wired.token.balanceOf(d), wired.token.balanceOf(holder)
    if uncounted:
        minimum = n * (hmm.countedAsk(0) + 1)
        assert proceeds >= minimum > payout  # the rule before 3h paid the provider `proceeds`: the ask was covered
        with ape.reverts(hmm.BelowAsk, provider=d.address, payout=payout, minimum=minimum):
            hmm.redeem(0, n, d.address, 0, 2**64, sender=holder)
        assert (wired.token.balanceOf(d), wired.token.balanceOf(holder)) == before
    else:
        hmm.redeem(0, n, d.address, 0, 2**64, sender=holder)
        assert (wired.token.balanceOf(d) - before[0], wired.token.balanceOf(holder) - before[1]) == (payout, refund)
        assert payout > 0
    assert not hmm.hasRole(provider, d.address)
    offers = [p for p in problems if "credits of capacity offered" in p]
    assert len(offers) == hmm.tierCount() and f"tier 0 has {40 * params.hmm_depth} credits" in offers[0]


def test_a_deployer_that_buys_the_pools_hanzo_with_the_float_for_a_second_key_is_flagged(project, accounts, params,
                                                                                          chain):
    from hanzo.chain.deploy import Deployment
    from hanzo.chain.plan import ApeSteps, wire_suite

    roles = Roles(accounts[0], accounts[1], accounts[2].address, accounts[3].address, accounts[4].address)
    second_key = accounts[9]
    held_back = 10 * params.pool_seed_usd

    class Skimming(ApeSteps):
        usd = None

        def send(self, contract, method, *args):
            if method == "transfer" and args[0] == roles.sale_and_liquidity and args[1] == params.test_usd_float:
                Skimming.usd = contract
                args = (args[0], args[1] - held_back)
            super().send(contract, method, *args)
            if method == "seed":
                d = roles.deployer
                Skimming.usd.approve(contract.address, held_back, sender=d)
                contract.swapExactIn(Skimming.usd.address, held_back, 0, second_key.address, 2**64, sender=d)

    first_block = chain.blocks.head.number + 1
    steps = Skimming(roles.deployer, project)
    c, allocations = wire_suite(params, roles, steps)
    hand_over(c, roles.deployer)
    s = Deployment(network="local", chain_id=chain.chain_id, block=first_block, params=params, contracts=c,
                   roles=roles, genesis_allocations=allocations)
    took = c["HanzoToken"].balanceOf(second_key)
    assert took > 45_000_000 * WEI  # of the pool's 50M
    assert audit_deployment(s) != []
