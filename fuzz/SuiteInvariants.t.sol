// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {HanzoToken} from "../contracts/HanzoToken.sol";
import {StakedHanzo} from "../contracts/StakedHanzo.sol";
import {ModelNFT} from "../contracts/ModelNFT.sol";
import {TrainingRewards} from "../contracts/TrainingRewards.sol";
import {EmissionSchedule} from "../contracts/EmissionSchedule.sol";
import {HamiltonianMarketMaker} from "../contracts/HamiltonianMarketMaker.sol";
import {HanzoGovernor} from "../contracts/HanzoGovernor.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {vm, bound} from "./Vm.sol";

/// @notice The deployed suite's actors: stakers who stake, unstake and withdraw, users whose
///         signed training ops are paid (greedy ones ask for more than the caps), anyone releasing
///         emission, time passing. The suite is the one `deploy_suite` deployed on anvil (forge
///         runs forked from it: scripts/fuzz.py), so the roles and handover are the real ones.
contract SuiteHandler {
    HanzoToken public immutable token;
    StakedHanzo public immutable staked;
    ModelNFT public immutable models;
    TrainingRewards public immutable rewards;
    EmissionSchedule public immutable emission;
    HanzoGovernor public immutable governor;
    uint256 public immutable oracleKey;
    address[3] public actors;
    uint256[3] public forks;

    /// @notice HANZO that left the rewards pool (paid or burned), as the ops reported it.
    uint256 public paidFromPool;
    /// @notice Training ops paid, and greedy ops (over a cap) that were refused.
    uint256 public opsPaid;
    uint256 public greedyRefused;
    /// @notice A greedy op that was paid: must stay 0.
    uint256 public greedyPaid;
    uint256 private _nonce;
    /// @notice Ops paid (or burned) per (fork, adapter), as the handler saw them succeed.
    mapping(uint256 fork => mapping(bytes32 adapter => uint256)) public timesPaid;
    /// @notice A (fork, adapter) paid a second time (another nonce, user, owner, a reset of the
    ///         fork's adapter, low quality, or twice in one batch): must stay 0.
    uint256 public adapterPaidTwice;
    /// @notice Replays of a paid adapter that were refused (the fuzzer reached the check).
    uint256 public replaysRefused;
    /// @dev Every (fork, adapter) paid so far, for the replays.
    uint256[] private _paidForks;
    bytes32[] private _paidAdapters;
    /// @notice Proposals made and votes cast by the actors.
    uint256[] public proposals;
    uint256 public votesCast;
    /// @notice Owner ops tried after other users' ops on the owner's fork, and those refused for
    ///         anything but the owner's own budget or the pool's day (which all paid work shares):
    ///         the last must stay 0.
    uint256 public ownerOpsAfterOthers;
    uint256 public ownerOpsPaidAfterOthers;
    uint256 public ownerOpsRefusedByOthers;
    /// @dev Interactions each owner's own ops may have used on its fork, per day: every owner op the
    ///      handler saw succeed (an upper bound, so a refusal within what is left is never the owner's).
    mapping(uint256 fork => mapping(uint256 day => uint256)) private _ownerUsed;

    constructor(
        HanzoToken token_,
        StakedHanzo staked_,
        ModelNFT models_,
        TrainingRewards rewards_,
        EmissionSchedule emission_,
        HanzoGovernor governor_,
        uint256 oracleKey_,
        address[3] memory actors_,
        uint256[3] memory forks_
    ) {
        governor = governor_;
        token = token_;
        staked = staked_;
        models = models_;
        rewards = rewards_;
        emission = emission_;
        oracleKey = oracleKey_;
        actors = actors_;
        forks = forks_;
    }

    function stake(uint256 who, uint256 amount) external {
        address a = actors[who % 3];
        uint256 held = token.balanceOf(a);
        if (held == 0) return;
        uint256 n = bound(amount, 1, held);
        vm.prank(a);
        staked.stake(n);
    }

    function requestUnstake(uint256 who, uint256 share) external {
        address a = actors[who % 3];
        uint256 free = staked.balanceOf(a) - staked.locked(a);
        uint256 n = (free * bound(share, 1, 10_000)) / 10_000;
        if (n == 0) return;
        vm.prank(a);
        staked.requestUnstake(n);
    }

    function withdraw(uint256 who, uint256 wait) external {
        address a = actors[who % 3];
        vm.warp(block.timestamp + bound(wait, 0, 20 days));
        (uint128 amount, uint64 readyAt) = staked.withdrawals(a);
        if (amount == 0 || block.timestamp < readyAt) return;
        vm.prank(a);
        staked.withdraw();
    }

    /// @notice A voter proposes a harmless parameter change (its deposit is locked from its stake).
    function propose(uint256 who, uint256 salt) external {
        address a = actors[who % 3];
        address[] memory targets = new address[](1);
        uint256[] memory values = new uint256[](1);
        bytes[] memory calldatas = new bytes[](1);
        targets[0] = address(rewards);
        calldatas[0] = abi.encodeCall(TrainingRewards.setPoolPace, (rewards.poolPaceBps()));
        vm.prank(a);
        try governor.proposeTyped(targets, values, calldatas, string(abi.encode(salt, _nonce++)), HanzoGovernor.ProposalType.Parameter) returns (uint256 id) {
            proposals.push(id);
        } catch {}
    }

    /// @notice A voter votes on one of the proposals, after the voting delay if need be.
    function vote(uint256 who, uint256 which, uint8 support, bool wait) external {
        if (proposals.length == 0) return;
        uint256 id = proposals[which % proposals.length];
        if (wait) vm.warp(block.timestamp + governor.votingDelay() + 1);
        vm.prank(actors[who % 3]);
        try governor.castVote(id, support % 3) {
            votesCast += 1;
        } catch {}
    }

    /// @notice Anyone settles a finished proposal's deposit (returned, or burned if Defeated).
    function settle(uint256 which) external {
        if (proposals.length == 0) return;
        try governor.settleDeposit(proposals[which % proposals.length]) {} catch {}
    }

    function releaseEmission(uint256 wait) external {
        vm.warp(block.timestamp + bound(wait, 1 hours, 400 days));
        emission.release();
    }

    function _op(uint256 who, uint256 interactions, uint256 multiplier, bool lowQuality)
        private
        returns (TrainingRewards.TrainingOp memory op, bytes memory sig)
    {
        uint256 i = who % 3;
        return _signed(actors[i], forks[i], keccak256(abi.encode(_nonce)), interactions, multiplier, lowQuality);
    }

    /// @dev An oracle-signed op for any user, fork and adapter, on the next nonce.
    function _signed(address user, uint256 fork, bytes32 adapter, uint256 interactions, uint256 multiplier,
                     bool lowQuality) private returns (TrainingRewards.TrainingOp memory op, bytes memory sig) {
        op = TrainingRewards.TrainingOp(
            user, fork, adapter, multiplier, interactions, lowQuality, _nonce++, block.timestamp + 1 hours
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(oracleKey, rewards.hashOp(op));
        sig = abi.encodePacked(r, s, v);
    }

    /// @dev Count `times` payments of (fork, adapter); a second one breaks the invariant.
    function _paid(uint256 fork, bytes32 adapter, uint256 times) private {
        if (times == 0) return;
        uint256 before = timesPaid[fork][adapter];
        if (before == 0) {
            _paidForks.push(fork);
            _paidAdapters.push(adapter);
        }
        timesPaid[fork][adapter] = before + times;
        if (before + times > 1) adapterPaidTwice += before + times - 1;
    }

    function train(uint256 who, uint256 interactions, uint256 multiplier, bool lowQuality) external {
        uint256 n = bound(interactions, 1, rewards.maxInteractionsPerOp());
        (TrainingRewards.TrainingOp memory op, bytes memory sig) = _op(who, n, bound(multiplier, 1, 10), lowQuality);
        try rewards.rewardTraining(op, sig) returns (uint256 user, uint256 owner, uint256 burned) {
            paidFromPool += user + owner + burned;
            opsPaid += 1;
            _paid(op.modelId, op.adapterHash, 1);
            _ownerUsed[op.modelId][block.timestamp / 1 days] += n; // _op: an actor on its own fork
        } catch {}
    }

    /// @notice Other users (junk included) act on a fork they do not own, then its owner sends an
    ///         honest op within what its own ops have left today: it must be paid (or deferred by
    ///         the pool's day, which all paid work shares), never refused because of the others.
    function othersThenOwner(uint256 victim, uint256 who, uint256 count, uint256 interactions, bool junk) external {
        uint256 i = victim % 3;
        address other = actors[(i + 1 + who % 2) % 3];
        // early in a new day, so that the pool's day (which paid ops elsewhere spend) is not what refuses
        vm.warp((block.timestamp / 1 days + 1) * 1 days + 60);
        // enough ops, big enough, to fill a fork's day often: up to twice its budget
        uint256 perOp = rewards.maxInteractionsPerOp();
        uint256 n = bound(count, 1, 2 * rewards.maxInteractionsPerForkDay() / perOp);
        uint256 k = bound(interactions, perOp / 2 + 1, perOp);
        for (uint256 j; j < n; ++j) {
            (TrainingRewards.TrainingOp memory op, bytes memory sig) =
                _signed(other, forks[i], keccak256(abi.encode("other", _nonce)), k, 1, junk);
            try rewards.rewardTraining(op, sig) returns (uint256 user, uint256 owner, uint256 burned) {
                paidFromPool += user + owner + burned;
                opsPaid += 1;
                _paid(op.modelId, op.adapterHash, 1);
            } catch {}
        }
        uint256 today = block.timestamp / 1 days;
        uint256 left = rewards.maxInteractionsPerForkDay() - _ownerUsed[forks[i]][today];
        if (left == 0) return; // its own budget is spent
        // as much as one op may carry, within what the owner's own ops have left today
        (TrainingRewards.TrainingOp memory mine, bytes memory mySig) = _signed(
            actors[i], forks[i], keccak256(abi.encode("owner", _nonce)), perOp < left ? perOp : left, 1, false
        );
        ownerOpsAfterOthers += 1;
        try rewards.rewardTraining(mine, mySig) returns (uint256 user, uint256 owner, uint256 burned) {
            paidFromPool += user + owner + burned;
            ownerOpsPaidAfterOthers += 1;
            _paid(mine.modelId, mine.adapterHash, 1);
            _ownerUsed[forks[i]][today] += mine.interactions;
        } catch (bytes memory reason) {
            bytes4 selector;
            if (reason.length >= 4) {
                assembly {
                    selector := and(mload(add(reason, 32)), shl(224, 0xffffffff))
                }
            }
            if (selector != TrainingRewards.DailyBudgetSpent.selector && selector != TrainingRewards.PoolExhausted.selector) {
                ownerOpsRefusedByOthers += 1;
            }
        }
    }

    /// @notice A greedy user replays an adapter some fork already paid: on the same fork, under a
    ///         new nonce, as any actor (the owner or not), paid or low quality, alone or twice in
    ///         one batch. Whatever it gets paid is counted against the invariant.
    function replayPaidAdapter(uint256 which, uint256 who, bool lowQuality, bool inBatch) external {
        if (_paidForks.length == 0) return;
        uint256 k = which % _paidForks.length;
        (uint256 fork, bytes32 adapter) = (_paidForks[k], _paidAdapters[k]);
        (TrainingRewards.TrainingOp memory op, bytes memory sig) =
            _signed(actors[who % 3], fork, adapter, 1, 10, lowQuality);
        if (!inBatch) {
            try rewards.rewardTraining(op, sig) returns (uint256 user, uint256 owner, uint256 burned) {
                paidFromPool += user + owner + burned;
                _paid(fork, adapter, 1);
            } catch {
                replaysRefused += 1;
            }
            return;
        }
        TrainingRewards.TrainingOp[] memory ops = new TrainingRewards.TrainingOp[](2);
        bytes[] memory sigs = new bytes[](2);
        (ops[0], sigs[0]) = (op, sig);
        (ops[1], sigs[1]) = _signed(actors[(who % 3 + 1) % 3], fork, adapter, 1, 1, !lowQuality);
        try rewards.rewardTrainingBatch(ops, sigs) returns (uint256 paid, uint256 burned) {
            paidFromPool += paid + burned;
            // any wei at all is a second payment of a paid adapter
            if (paid + burned != 0) _paid(fork, adapter, 1);
            else replaysRefused += 1;
        } catch {}
    }

    /// @notice A batch names one fresh adapter of a fork twice (two users, two nonces): it may
    ///         pay one op's worth, never two.
    function trainTwiceInOneBatch(uint256 who, uint256 other, bool lowQuality) external {
        uint256 i = who % 3;
        bytes32 adapter = keccak256(abi.encode("twice", _nonce));
        TrainingRewards.TrainingOp[] memory ops = new TrainingRewards.TrainingOp[](2);
        bytes[] memory sigs = new bytes[](2);
        (ops[0], sigs[0]) = _signed(actors[i], forks[i], adapter, 1, 5, lowQuality);
        (ops[1], sigs[1]) = _signed(actors[other % 3], forks[i], adapter, 1, 5, lowQuality);
        (uint256 u, uint256 o, uint256 b) = rewards.payouts(5, 1, lowQuality);
        try rewards.rewardTrainingBatch(ops, sigs) returns (uint256 paid, uint256 burned) {
            paidFromPool += paid + burned;
            opsPaid += 1;
            _paid(forks[i], adapter, (paid + burned) / (u + o + b));
            if (paid + burned != 0) _ownerUsed[forks[i]][block.timestamp / 1 days] += 1; // at most the owner's one
        } catch {}
    }

    /// @notice A fork's owner resets its adapter to zero, or sets back one it was paid for: the
    ///         reset that once made a paid adapter new again.
    function resetAdapter(uint256 who, uint256 which, bool toZero) external {
        uint256 i = who % 3;
        bytes32 adapter;
        if (!toZero && _paidForks.length != 0) adapter = _paidAdapters[which % _paidAdapters.length];
        vm.prank(actors[i]);
        models.updateAdapter(forks[i], adapter);
    }

    /// @notice A greedy user: one signed op over the per-op cap, or a replay of a paid one.
    function trainGreedy(uint256 who, uint256 extra) external {
        uint256 n = rewards.maxInteractionsPerOp() + bound(extra, 1, 1e6);
        (TrainingRewards.TrainingOp memory op, bytes memory sig) = _op(who, n, 10, false);
        try rewards.rewardTraining(op, sig) {
            greedyPaid += 1;
        } catch {
            greedyRefused += 1;
        }
        (op, sig) = _op(who, 1, 1, false);
        try rewards.rewardTraining(op, sig) returns (uint256 user, uint256 owner, uint256 burned) {
            paidFromPool += user + owner + burned;
            opsPaid += 1;
            _ownerUsed[op.modelId][block.timestamp / 1 days] += 1;
            try rewards.rewardTraining(op, sig) {
                greedyPaid += 1; // the same op twice
            } catch {
                greedyRefused += 1;
            }
        } catch {}
    }
}

/// @notice Outsiders try to take power in the deployed suite: the fuzz's actors, and the deployer
///         once it has handed over. Each call grants the caller a role on a contract (the timelock
///         included), or queues "grant me the token's admin" on the timelock. And a captured
///         governance (the timelock itself, as a passed proposal runs) tries to give an outsider
///         the roles that would pay it more than the treasury's rate limit: a minter, an oracle, a
///         depositor of StakedHanzo (directly or relayed through the Governor, which holds it).
///         On the real deployment every attempt reverts; a deployment where an outsider kept or was
///         given power (the audit's adversarial deployments), or a contract whose governance can
///         grant those roles, lets one through.
contract PowerHandler {
    HanzoToken public immutable token;
    ModelNFT public immutable models;
    TimelockController public immutable timelock;
    HanzoGovernor public immutable governor;
    /// @notice What a captured governance tried that succeeded: must stay 0.
    uint256 public governanceTook;
    address[] public outsiders;
    address[6] public controlled;
    bytes32[10] public roles;
    /// @notice Attempts that succeeded: must stay 0.
    uint256 public seized;
    /// @notice Attempts made (the fuzzer reached the handler).
    uint256 public attempts;
    /// @dev Ids of the operations outsiders tried to queue.
    bytes32[] private _scheduled;

    constructor(HanzoToken token_, ModelNFT models_, TimelockController timelock_, HanzoGovernor governor_,
                address[6] memory controlled_, address[] memory outsiders_) {
        governor = governor_;
        token = token_;
        models = models_;
        timelock = timelock_;
        controlled = controlled_;
        outsiders = outsiders_;
        roles = [
            bytes32(0), // DEFAULT_ADMIN_ROLE
            keccak256("MINTER_ROLE"),
            keccak256("DEPOSIT_ROLE"),
            keccak256("REGISTRAR_ROLE"),
            keccak256("ORACLE_ROLE"),
            keccak256("GOVERNANCE_ROLE"),
            keccak256("PROVIDER_ROLE"),
            keccak256("PROPOSER_ROLE"),
            keccak256("CANCELLER_ROLE"),
            keccak256("EXECUTOR_ROLE")
        ];
    }

    function outsiderCount() external view returns (uint256) {
        return outsiders.length;
    }

    function scheduled() external view returns (bytes32[] memory) {
        return _scheduled;
    }

    function grantRole(uint256 who, uint256 where, uint256 role) external {
        address a = outsiders[who % outsiders.length];
        attempts += 1;
        vm.prank(a);
        try IAccessControl(controlled[where % controlled.length]).grantRole(roles[role % roles.length], a) {
            seized += 1;
        } catch {}
    }

    function queueGrantAdmin(uint256 who, uint256 salt) external {
        address a = outsiders[who % outsiders.length];
        bytes memory call = abi.encodeCall(IAccessControl.grantRole, (bytes32(0), a));
        _scheduled.push(timelock.hashOperation(address(token), 0, call, bytes32(0), bytes32(salt)));
        attempts += 1;
        uint256 delay = timelock.getMinDelay();
        vm.prank(a);
        try timelock.schedule(address(token), 0, call, bytes32(0), bytes32(salt), delay) {
            seized += 1;
        } catch {}
    }

    /// @notice A captured governance (the timelock, as a passed proposal calls) grants an outsider
    ///         MINTER_ROLE on the token, ORACLE_ROLE on the rewards or DEPOSIT_ROLE on StakedHanzo,
    ///         or relays "lock an outsider's stake" through the Governor.
    function governanceGrants(uint256 who, uint256 which) external {
        address a = outsiders[who % outsiders.length];
        attempts += 1;
        uint256 w = which % 4;
        vm.prank(address(timelock));
        if (w == 0) {
            try token.grantRole(keccak256("MINTER_ROLE"), a) { governanceTook += 1; } catch {}
        } else if (w == 1) {
            try IAccessControl(controlled[3]).grantRole(keccak256("ORACLE_ROLE"), a) { governanceTook += 1; } catch {}
        } else if (w == 2) {
            try IAccessControl(controlled[1]).grantRole(keccak256("DEPOSIT_ROLE"), a) { governanceTook += 1; } catch {}
        } else {
            bytes memory call = abi.encodeCall(StakedHanzo.lock, (a, 0));
            try governor.relay(controlled[1], 0, call) { governanceTook += 1; } catch {}
        }
    }
}

/// @notice Invariants of the deployed suite: the cap and where every minted wei went, the rewards
///         pool's accounting, staking's books, votes, and that the deployer holds nothing.
/// @dev The short profile (`make test`) runs 16 sequences of 64 calls per invariant here: at 32 the nine
///      campaigns, forked from anvil, took over half a minute on 2 cores. `make fuzz` (long) runs 512.
/// forge-config: default.invariant.runs = 16
contract SuiteInvariants {
    HanzoToken public token;
    StakedHanzo public staked;
    ModelNFT public models;
    TrainingRewards public rewards;
    EmissionSchedule public emission;
    HamiltonianMarketMaker public hmm;
    address public deployer;
    address public timelock;
    /// @notice TestUSD, the stablecoin HanzoPool prices HANZO in.
    IERC20 public usd;
    SuiteHandler public handler;
    PowerHandler public power;
    address public treasuryAtStart;
    uint256 public genesisMinted;
    uint256 public poolAtStart;
    uint256 public trainingReleasedAtStart;
    uint256 public stakedBalanceAtStart;
    uint256 public stakeSupplyAtStart;

    function setUp() public {
        token = HanzoToken(vm.envAddress("HANZO_TOKEN"));
        staked = StakedHanzo(vm.envAddress("HANZO_STAKED"));
        models = ModelNFT(vm.envAddress("HANZO_MODELS"));
        rewards = TrainingRewards(vm.envAddress("HANZO_REWARDS"));
        emission = EmissionSchedule(vm.envAddress("HANZO_EMISSION"));
        hmm = HamiltonianMarketMaker(vm.envAddress("HANZO_HMM"));
        deployer = vm.envAddress("HANZO_DEPLOYER");
        timelock = vm.envAddress("HANZO_TIMELOCK");
        usd = IERC20(vm.envAddress("HANZO_USD"));
        uint256 oracleKey = vm.envUint("HANZO_ORACLE_KEY");
        address sale = vm.envAddress("HANZO_SALE");
        address registrar = vm.envAddress("HANZO_REGISTRAR");

        vm.prank(registrar);
        models.registerBaseModel(1, 0);
        address[3] memory actors = [address(0xA11CE), address(0xB0B), address(0xCA401)];
        uint256[3] memory forks;
        uint256 fee = models.mintFee(1);
        for (uint256 i; i < 3; ++i) {
            vm.prank(sale);
            token.transfer(actors[i], 1_000_000e18);
            vm.prank(actors[i]);
            token.approve(address(models), fee);
            vm.prank(actors[i]);
            forks[i] = models.mint(1, bytes32(i + 1), fee);
        }
        handler = new SuiteHandler(
            token, staked, models, rewards, emission, HanzoGovernor(payable(vm.envAddress("HANZO_GOVERNOR"))), oracleKey,
            actors, forks
        );
        for (uint256 i; i < 3; ++i) {
            vm.prank(actors[i]);
            token.approve(address(staked), type(uint256).max);
        }
        address[] memory outsiders = new address[](4);
        for (uint256 i; i < 3; ++i) {
            outsiders[i] = actors[i];
        }
        outsiders[3] = deployer;
        treasuryAtStart = models.treasury();
        power = new PowerHandler(
            token, models, TimelockController(payable(timelock)), HanzoGovernor(payable(vm.envAddress("HANZO_GOVERNOR"))),
            [address(token), address(staked), address(models), address(rewards), address(hmm), timelock], outsiders
        );
        // a day of emission, so that training ops find a funded pool from the first call
        vm.warp(block.timestamp + 1 days);
        emission.release();
        genesisMinted = token.totalMinted() - emission.released();
        poolAtStart = token.balanceOf(address(rewards));
        trainingReleasedAtStart = emission.releasedToTraining();
        stakedBalanceAtStart = token.balanceOf(address(staked));
        stakeSupplyAtStart = staked.totalSupply();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](2);
        targets[0] = address(handler);
        targets[1] = address(power);
    }

    /// @notice Minted never passes the cap, and every wei minted is genesis or released emission.
    function invariant_cap_and_every_minted_wei_accounted() public view {
        require(token.totalMinted() <= token.cap(), "minted past the cap");
        require(token.totalSupply() <= token.totalMinted(), "supply above minted");
        require(token.totalMinted() == genesisMinted + emission.released(), "minted outside genesis and emission");
    }

    /// @notice The rewards pool holds what emission sent it less what ops paid or burned.
    function invariant_rewards_pool_accounting() public view {
        uint256 inflow = emission.releasedToTraining() - trainingReleasedAtStart;
        require(
            token.balanceOf(address(rewards)) == poolAtStart + inflow - handler.paidFromPool(), "rewards pool books differ"
        );
    }

    /// @notice No greedy op (over the cap, or replayed) was ever paid.
    function invariant_no_greedy_op_paid() public view {
        require(handler.greedyPaid() == 0, "a greedy op was paid");
    }

    /// @notice An adapter is paid once per fork: no (fork, adapter) the handler saw paid was paid
    ///         again, under another nonce or user, after a reset, as low quality or in one batch.
    function invariant_no_adapter_paid_twice() public view {
        require(handler.adapterPaidTwice() == 0, "an adapter was paid twice on one fork");
    }

    /// @notice An owner's honest op is never refused because of others' ops: after other users'
    ///         ops (paid or junk) on its fork, the owner's op within its own budget is paid (or
    ///         deferred by the pool's day, not the fork's cap).
    function invariant_owner_never_refused_for_others_ops() public view {
        require(handler.ownerOpsRefusedByOthers() == 0, "an owner's honest op was refused because of others' ops");
    }

    /// @notice Staking's HANZO covers every sHANZO and every pending withdrawal, to the wei.
    function invariant_staking_books() public view {
        uint256 pending;
        for (uint256 i; i < 3; ++i) {
            (uint128 amount,) = staked.withdrawals(handler.actors(i));
            pending += amount;
        }
        require(
            token.balanceOf(address(staked)) - stakedBalanceAtStart
                == staked.totalSupply() - stakeSupplyAtStart + pending,
            "staking books differ"
        );
    }

    /// @notice Votes are the stake: each actor's votes equal its sHANZO, and no proposal deposit
    ///         locks more than the stake behind it.
    function invariant_votes_are_stake() public view {
        for (uint256 i; i < 3; ++i) {
            address a = handler.actors(i);
            require(staked.getVotes(a) == staked.balanceOf(a), "votes differ from stake");
            require(staked.locked(a) <= staked.balanceOf(a), "deposit locked beyond stake");
        }
    }

    /// @notice The deployer holds no role anywhere, no HANZO, no TestUSD; the timelock is every admin but the
    ///         token's and StakedHanzo's, which nobody holds (their minters and depositor are fixed).
    function invariant_deployer_holds_nothing() public view {
        address[5] memory controlled = [address(token), address(staked), address(models), address(rewards), address(hmm)];
        bytes32[7] memory roles = [
            bytes32(0), // DEFAULT_ADMIN_ROLE
            keccak256("MINTER_ROLE"),
            keccak256("DEPOSIT_ROLE"),
            keccak256("REGISTRAR_ROLE"),
            keccak256("ORACLE_ROLE"),
            keccak256("GOVERNANCE_ROLE"),
            keccak256("PROVIDER_ROLE")
        ];
        for (uint256 c; c < controlled.length; ++c) {
            for (uint256 r; r < roles.length; ++r) {
                require(!IAccessControl(controlled[c]).hasRole(roles[r], deployer), "the deployer holds a role");
            }
            bool adminless = controlled[c] == address(token) || controlled[c] == address(staked);
            require(IAccessControl(controlled[c]).hasRole(bytes32(0), timelock) != adminless,
                    "the timelock is not admin (or admin of the token or StakedHanzo)");
        }
        require(token.balanceOf(deployer) == 0, "the deployer holds HANZO");
        require(usd.balanceOf(deployer) == 0, "the deployer holds TestUSD");
    }

    /// @notice No one else holds power: every outsider's attempt failed, no outsider holds any role
    ///         on any contract (the timelock's proposer, canceller and admin included), no operation
    ///         an outsider tried to queue exists, the ModelNFT treasury is the deployed one, and a
    ///         captured governance gave no outsider a minter, oracle or depositor role.
    function invariant_no_one_else_holds_power() public view {
        require(power.seized() == 0, "an outsider took power");
        require(power.governanceTook() == 0, "a captured governance made a minter, an oracle or a depositor");
        for (uint256 o; o < power.outsiderCount(); ++o) {
            address a = power.outsiders(o);
            for (uint256 c; c < 6; ++c) {
                for (uint256 r; r < 10; ++r) {
                    require(!IAccessControl(power.controlled(c)).hasRole(power.roles(r), a), "an outsider holds a role");
                }
            }
        }
        bytes32[] memory ids = power.scheduled();
        for (uint256 i; i < ids.length; ++i) {
            require(!TimelockController(payable(timelock)).isOperation(ids[i]), "an outsider queued an operation");
        }
        require(models.treasury() == treasuryAtStart, "the ModelNFT treasury moved");
    }
}
