// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {HanzoToken} from "./HanzoToken.sol";
import {ModelNFT} from "./ModelNFT.sol";

/// @title TrainingRewards: pays quality-scored training operations from the Training Rewards pool
/// @notice A training operation (one user's update of one model fork) is attested by the quality
///         oracle with an EIP-712 signature over the op, this contract's address and the chain id.
///         Its reward is rewardPerInteraction * interactions * multiplier (multiplier 1..10).
///         burnMode FromReward: 10% of the reward is burned and the rest split 70:30 between the
///         user and the fork's current owner. burnMode OnTop: the user gets 70% and the owner 30% of
///         the reward, and a further 10% is burned from the pool. A low-quality op pays nobody:
///         its whole reward is burned. One TrainingRecorded event per op is the training ledger.
/// @dev Replay: an adapter is paid once per fork. The key consumed is (modelId, adapterHash), not
///      the signer's or the user's nonce: whoever owns the fork, whichever user the oracle signs
///      for, under any nonce and whether the op is paid or burned as low quality, a second op for
///      the same adapter on the same fork is refused. The fork's own record of its adapter
///      (ModelNFT) cannot be the key: its owner may reset it to zero or set an old adapter back
///      (updateAdapter), and another user's training never writes it; neither may make paid work
///      new again. A single replay reverts with OpReplayed; in a batch a consumed key is skipped
///      with OpSkipped, so front-running one op of a relayer's batch does not void the rest. The
///      op's nonce is the oracle's session number, signed and emitted in TrainingRecorded so that
///      an off-chain record finds its op; it is not a replay key. The deadline bounds how long a
///      signature is usable. One signature cannot carry unbounded work: interactions are capped
///      per op and per fork per day (a day is block.timestamp / 1 days), whatever the oracle
///      signs.
///      The daily cap is two budgets per fork, each of maxInteractionsPerForkDay: one for the ops
///      of the fork's owner (the owner at the op), one shared by every other user's ops, paid or
///      low quality. Nobody's ops but the owner's own touch the owner's budget, so no one can
///      make the owner's honest op wait by training (or spamming junk on) its fork; a fork is
///      still paid for at most 2 x maxInteractionsPerForkDay interactions a day. (Per-user
///      budgets on a fork would need a bound on their sum to keep the fork's day bounded, and
///      any shared bound can be filled by others: one budget for the owner is the simplest rule
///      that bounds the fork and cannot be used against its owner.) Other users of one fork do
///      share a budget: junk can still fill it for them, not for the owner. An op over its budget
///      reverts ForkDailyCapReached alone; in a batch it is skipped with OpDeferred and its
///      adapter is not consumed, so it can be paid another day.
///      Pacing (issue 16, finding 6): the pool pays out at most poolPaceBps of itself a day. A
///      day's budget is poolPaceBps x the pool's balance at the day's first op; an op takes what it
///      costs the pool (user + owner + burn; a low-quality op's whole burn) from it, in full, while
///      the budget lasts; an op the rest of the budget cannot cover is deferred (DailyBudgetSpent
///      alone, OpDeferred in a batch), its adapter not consumed, so it is paid in full on a later
///      day. What leaves the pool in a day never exceeds the budget. Deferring, not scaling: a
///      scaled op would consume its adapter and the cut part of its reward would never be paid;
///      the day's total is min(demand, budget) either way, which is the simulator's rule
///      (hanzo.sim.world). Junk draws on the budget too: the simulator measured that a pool whose
///      junk burns outside the pace is drained by it, and pays honest users less than 1% of
///      nominal from year 7 instead of 13/6/3/1% in years 7-10.
///      The pace is governance's (DEFAULT_ADMIN_ROLE: the timelock after the handover), within
///      [MIN_POOL_PACE_BPS, MAX_POOL_PACE_BPS]; a change applies from the next day's budget.
///      Invariant: every wei leaving the pool is in exactly one TrainingRecorded event's
///      userPayout, ownerPayout or burned, and each (modelId, adapterHash) is in at most one
///      TrainingRecorded event.
contract TrainingRewards is AccessControl, EIP712 {
    using SafeERC20 for IERC20;

    /// @notice Role whose signatures attest training ops (the quality oracle): one key at a time,
    ///         set at construction and passed on only by itself (rotateOracle); governance
    ///         (DEFAULT_ADMIN_ROLE, the role's admin) may revoke it, never grant it.
    /// @dev Why (issue 16, finding 7): governance is bought for the price of the quorum. Were
    ///      ORACLE_ROLE granted by governance, a captured governance would make itself an oracle
    ///      and sign ops paying itself from the pool, as fast as the pace allows (0.2% of the pool
    ///      a day: about half of it in a year). So nobody grants the role (grantRole refuses it):
    ///      - the oracle replaces its own key (rotateOracle: the successor gets the role and the
    ///        caller loses it in one call), so there is never more than one oracle key. Plain
    ///        self-administration (ORACLE_ROLE as its own admin) would let a leaked key grant
    ///        itself any number of keys faster than a proposal (about ten days) can revoke them;
    ///      - governance keeps the emergency stop: revokeRole(ORACLE_ROLE, oracle) through a
    ///        proposal ends a leaked key's signatures. If the operator still holds the key it
    ///        rotates at once instead, without governance;
    ///      - what is given up: after a revoke (or a lost key, or a renounce) no oracle can ever be
    ///        appointed again, so rewards stop for good and the pool stays in this contract. That
    ///        is the price of the rule: a captured governance can stop rewards (grief) but never
    ///        take them; an appointment by governance, even delayed, is a path to the pool.
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");

    /// @notice EIP-712 type of a training operation.
    bytes32 public constant TRAINING_OP_TYPEHASH = keccak256(
        "TrainingOp(address user,uint256 modelId,bytes32 adapterHash,uint256 multiplier,uint256 interactions,bool lowQuality,uint256 nonce,uint256 deadline)"
    );

    uint256 private constant BPS = 10_000;
    uint256 private constant MAX_MULTIPLIER = 10;
    /// @notice Hard bounds on the pool's daily pace: 0.01% to 100% of the pool a day.
    uint256 public constant MIN_POOL_PACE_BPS = 1;
    uint256 public constant MAX_POOL_PACE_BPS = 10_000;

    /// @notice Where the burn comes from (tokenomics D2).
    enum BurnMode {
        FromReward,
        OnTop
    }

    /// @notice One quality-scored training operation, as signed by the oracle.
    struct TrainingOp {
        address user;
        uint256 modelId;
        bytes32 adapterHash;
        uint256 multiplier;
        uint256 interactions;
        bool lowQuality;
        /// The oracle's session number, emitted in TrainingRecorded; not a replay key.
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice HANZO.
    HanzoToken public immutable token;
    /// @notice The model forks, created by this contract's constructor (so ModelNFT knows its one
    ///         recorder without an address being predicted); the reward's owner share goes to a
    ///         fork's current owner.
    ModelNFT public immutable models;
    /// @notice Reward per interaction at multiplier 1 (0.01 HANZO by default).
    uint256 public immutable rewardPerInteraction;
    /// @notice Burned share in basis points (1000 = 10%).
    uint256 public immutable burnBps;
    /// @notice User's share in basis points (7000 = 70%); the owner gets the rest.
    uint256 public immutable userShareBps;
    /// @notice Where the burn comes from.
    BurnMode public immutable burnMode;
    /// @notice Most interactions one op may carry.
    uint256 public immutable maxInteractionsPerOp;
    /// @notice Most interactions paid per fork per day to its owner's ops, and again (a budget of
    ///         their own) to all other users' ops together.
    uint256 public immutable maxInteractionsPerForkDay;

    /// @dev Per fork: (day << 192) | (owner's interactions that day << 96) | others' that day.
    ///      One slot, rewritten in place; a new day starts both budgets from zero.
    mapping(uint256 modelId => uint256) private _forkDay;

    /// @dev The pool's day: its budget left today and the pace, one slot.
    struct PoolDay {
        uint128 left;
        uint64 day;
        uint16 paceBps;
    }

    PoolDay private _poolDay;

    /// @dev Adapters paid (or burned) per fork: the replay key. A fresh slot per op: a random
    ///      adapter hash shares no storage word with another, so no bitmap packing applies.
    mapping(uint256 modelId => mapping(bytes32 adapterHash => bool)) private _adapterPaid;

    /// @notice The training ledger: one event per paid (or burned) op.
    event TrainingRecorded(
        address indexed user,
        uint256 indexed modelId,
        address indexed owner,
        bytes32 adapterHash,
        uint256 nonce,
        uint256 multiplier,
        uint256 interactions,
        bool lowQuality,
        uint256 userPayout,
        uint256 ownerPayout,
        uint256 burned
    );

    /// @notice A batch skipped an op whose adapter this fork already paid (in an earlier
    ///         transaction, or earlier in the same batch).
    event OpSkipped(uint256 indexed modelId, bytes32 adapterHash);

    /// @notice A batch skipped an op that cannot be paid today; its adapter is not consumed, so the
    ///         op (signed again if its deadline passes) is paid another day. `reason` is the selector
    ///         of the error the op alone reverts with (ForkDailyCapReached or DailyBudgetSpent).
    event OpDeferred(uint256 indexed modelId, bytes32 adapterHash, bytes4 reason);

    /// @notice Governance set the pool's daily pace (from the next day's budget).
    event PoolPaceSet(uint256 oldPaceBps, uint256 newPaceBps);

    /// @notice The pool's budget today cannot pay the op in full; `left` is what is left of it.
    error DailyBudgetSpent(uint256 cost, uint256 left);
    /// @notice A pace outside [MIN_POOL_PACE_BPS, MAX_POOL_PACE_BPS].
    error PoolPaceOutOfBounds(uint256 paceBps);
    /// @notice The op carries more interactions than one op may.
    error TooManyInteractions(uint256 interactions, uint256 max);
    /// @notice The op's daily budget on the fork (its owner's, or all other users') would be passed;
    ///         `remaining` is what is left of that budget today.
    error ForkDailyCapReached(uint256 modelId, uint256 interactions, uint256 remaining);
    /// @notice The op's deadline has passed.
    error OpExpired(uint256 deadline, uint256 nowTimestamp);
    /// @notice The multiplier is outside 1..10.
    error InvalidMultiplier(uint256 multiplier);
    /// @notice The op has no interactions.
    error ZeroInteractions();
    /// @notice The signature does not come from an oracle.
    error InvalidSigner(address recovered);
    /// @notice This fork already paid (or burned) an op for this adapter.
    error OpReplayed(uint256 modelId, bytes32 adapterHash);
    /// @notice The op names no adapter (a zero hash means "no adapter", and cannot be a replay key).
    error ZeroAdapter();
    /// @notice The pool cannot cover the op.
    error PoolExhausted(uint256 needed, uint256 available);
    /// @notice Batch arrays differ in length.
    error LengthMismatch();
    /// @notice A constructor argument is zero or out of range.
    error InvalidConfig();
    /// @notice ORACLE_ROLE is never granted: it is set at construction and passed on by rotateOracle.
    error OracleGrantedOnlyByRotation();
    /// @notice The oracle given is the zero address.
    error ZeroOracle();

    /// @notice The oracle `previous` handed its role to `next`.
    event OracleRotated(address indexed previous, address indexed next);

    /// @param token_ HANZO (the pool is this contract's balance).
    /// @param admin DEFAULT_ADMIN_ROLE holder (sets the pace, may revoke the oracle, never grant it),
    ///        here and on the ModelNFT created here.
    /// @param oracle_ The first (and only) ORACLE_ROLE holder; it alone passes the role on.
    /// @param forks The ModelNFT's settings; this contract creates it and is its `rewards`.
    /// @param rewardPerInteraction_ Wei per interaction at multiplier 1.
    /// @param burnBps_ Burned share, basis points.
    /// @param userShareBps_ User's share, basis points.
    /// @param burnMode_ FromReward or OnTop.
    /// @param maxInteractionsPerOp_ Most interactions in one op.
    /// @param maxInteractionsPerForkDay_ Most interactions paid per fork per day (owner's ops; again others').
    /// @param poolPaceBps_ Most of the pool ops may take in a day, basis points.
    constructor(
        HanzoToken token_,
        address admin,
        address oracle_,
        ModelNFT.Config memory forks,
        uint256 rewardPerInteraction_,
        uint256 burnBps_,
        uint256 userShareBps_,
        BurnMode burnMode_,
        uint256 maxInteractionsPerOp_,
        uint256 maxInteractionsPerForkDay_,
        uint256 poolPaceBps_
    ) EIP712("HanzoTrainingRewards", "1") {
        if (
            address(token_) == address(0) || admin == address(0)
                || rewardPerInteraction_ == 0 || burnBps_ > BPS || userShareBps_ > BPS || maxInteractionsPerOp_ == 0
                || maxInteractionsPerForkDay_ < maxInteractionsPerOp_ || maxInteractionsPerForkDay_ > type(uint96).max
        ) revert InvalidConfig();
        if (poolPaceBps_ < MIN_POOL_PACE_BPS || poolPaceBps_ > MAX_POOL_PACE_BPS) revert InvalidConfig();
        _poolDay.paceBps = uint16(poolPaceBps_);
        maxInteractionsPerOp = maxInteractionsPerOp_;
        maxInteractionsPerForkDay = maxInteractionsPerForkDay_;
        token = token_;
        models = new ModelNFT(token_, admin, forks);
        rewardPerInteraction = rewardPerInteraction_;
        burnBps = burnBps_;
        userShareBps = userShareBps_;
        burnMode = burnMode_;
        if (oracle_ == address(0)) revert ZeroOracle();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ORACLE_ROLE, oracle_);
    }

    /// @notice Grant `role` to `account`; refuses ORACLE_ROLE to everyone (see ORACLE_ROLE).
    function grantRole(bytes32 role, address account) public override {
        if (role == ORACLE_ROLE) revert OracleGrantedOnlyByRotation();
        super.grantRole(role, account);
    }

    /// @notice The oracle hands its role to `next` and loses it, in one call. Only ORACLE_ROLE.
    function rotateOracle(address next) external onlyRole(ORACLE_ROLE) {
        if (next == address(0)) revert ZeroOracle();
        _revokeRole(ORACLE_ROLE, msg.sender);
        _grantRole(ORACLE_ROLE, next);
        emit OracleRotated(msg.sender, next);
    }

    /// @notice Pay one signed training op. Reverts with a specific error on an expired,
    ///         replayed (its fork already paid its adapter), adapter-less, badly signed or
    ///         out-of-range op, an unknown model, an empty pool, an op over its daily budget on
    ///         the fork (ForkDailyCapReached) or over what is left of the pool's day (DailyBudgetSpent).
    /// @return userPayout Paid to op.user.
    /// @return ownerPayout Paid to the fork's owner.
    /// @return burned Burned from the pool.
    function rewardTraining(TrainingOp calldata op, bytes calldata signature)
        external
        returns (uint256 userPayout, uint256 ownerPayout, uint256 burned)
    {
        address owner = address(0);
        uint256 available = token.balanceOf(address(this));
        (, owner, userPayout, ownerPayout, burned) = _record(op, signature, false, available);
        uint256 needed = userPayout + ownerPayout + burned;
        if (needed > available) revert PoolExhausted(needed, available);
        _pay(op.user, owner, userPayout, ownerPayout);
        if (burned != 0) token.burn(burned);
    }

    /// @notice Pay many signed ops in one transaction. An op whose (modelId, adapterHash) was
    ///         already paid is skipped (OpSkipped), so a front-run op does not void the batch, and
    ///         a batch naming one adapter of a fork twice pays it once; an op over its daily budget
    ///         on its fork is skipped (OpDeferred) with its adapter unconsumed; any other invalid op
    ///         reverts the whole batch with that op's error. The burn is made once for the batch.
    /// @return totalPaid Sum paid to users and owners.
    /// @return totalBurned Sum burned.
    function rewardTrainingBatch(TrainingOp[] calldata ops, bytes[] calldata signatures)
        external
        returns (uint256 totalPaid, uint256 totalBurned)
    {
        if (ops.length != signatures.length) revert LengthMismatch();
        uint256 available = token.balanceOf(address(this));
        for (uint256 i; i < ops.length; ++i) {
            (bool fresh, address owner, uint256 userPayout, uint256 ownerPayout, uint256 burned) =
                _record(ops[i], signatures[i], true, available);
            if (!fresh) continue;
            totalPaid += userPayout + ownerPayout;
            totalBurned += burned;
            if (totalPaid + totalBurned > available) revert PoolExhausted(totalPaid + totalBurned, available);
            _pay(ops[i].user, owner, userPayout, ownerPayout);
        }
        if (totalBurned != 0) token.burn(totalBurned);
    }

    /// @notice Set the pool's daily pace (basis points of the pool a day), within the hard bounds;
    ///         it applies from the next day's budget. Governance only (the timelock).
    function setPoolPace(uint256 paceBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (paceBps < MIN_POOL_PACE_BPS || paceBps > MAX_POOL_PACE_BPS) revert PoolPaceOutOfBounds(paceBps);
        emit PoolPaceSet(_poolDay.paceBps, paceBps);
        _poolDay.paceBps = uint16(paceBps);
    }

    /// @notice The pool's daily pace, basis points.
    function poolPaceBps() external view returns (uint256) {
        return _poolDay.paceBps;
    }

    /// @notice What ops may still take from the pool today (before the day's first op:
    ///         the budget that op will set, pace x the pool's balance).
    function budgetLeftToday() external view returns (uint256) {
        PoolDay memory d = _poolDay;
        if (d.day == block.timestamp / 1 days) return d.left;
        return (token.balanceOf(address(this)) * d.paceBps) / BPS;
    }

    /// @notice Whether fork `modelId` has paid (or burned) an op for `adapterHash`: such an op
    ///         is never paid again, whoever signs for it.
    function adapterPaid(uint256 modelId, bytes32 adapterHash) external view returns (bool) {
        return _adapterPaid[modelId][adapterHash];
    }

    /// @notice Payouts of an op as this contract computes them: (user, owner, burned).
    function payouts(uint256 multiplier, uint256 interactions, bool lowQuality)
        public
        view
        returns (uint256 userPayout, uint256 ownerPayout, uint256 burned)
    {
        uint256 reward = rewardPerInteraction * interactions * multiplier;
        if (lowQuality) return (0, 0, reward);
        burned = (reward * burnBps) / BPS;
        uint256 distributed = burnMode == BurnMode.FromReward ? reward - burned : reward;
        userPayout = (distributed * userShareBps) / BPS;
        ownerPayout = distributed - userPayout;
    }

    /// @notice The EIP-712 digest the oracle signs for `op`.
    function hashOp(TrainingOp calldata op) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(TRAINING_OP_TYPEHASH, op)));
    }

    /// @notice This contract's EIP-712 domain separator.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice Interactions `user`'s ops on fork `modelId` may still be paid for today: what is left
    ///         of the owner's budget if `user` owns the fork, else of the budget all other users share.
    function remainingToday(uint256 modelId, address user) external view returns (uint256) {
        bool own = models.ownerOf(modelId) == user;
        return maxInteractionsPerForkDay - _usedOn(_forkDay[modelId], block.timestamp / 1 days, own);
    }

    /// @dev Validates, consumes the (fork, adapter) key, counts the op in its budget on the fork,
    ///      records the adapter and emits the ledger event. In a batch (`inBatch`) `fresh` is false,
    ///      and nothing changed but an OpSkipped (consumed key) or OpDeferred (over its budget; the
    ///      key is left unconsumed) event; alone, either reverts.
    function _record(TrainingOp calldata op, bytes calldata signature, bool inBatch, uint256 pool)
        private
        returns (bool fresh, address owner, uint256 userPayout, uint256 ownerPayout, uint256 burned)
    {
        if (block.timestamp > op.deadline) revert OpExpired(op.deadline, block.timestamp);
        if (op.multiplier == 0 || op.multiplier > MAX_MULTIPLIER) revert InvalidMultiplier(op.multiplier);
        if (op.interactions == 0) revert ZeroInteractions();
        if (op.interactions > maxInteractionsPerOp) revert TooManyInteractions(op.interactions, maxInteractionsPerOp);
        if (op.adapterHash == bytes32(0)) revert ZeroAdapter();
        // The signature before the key: an unsigned op must not emit OpSkipped for someone's key.
        _checkSigner(op, signature);
        (userPayout, ownerPayout, burned) = payouts(op.multiplier, op.interactions, op.lowQuality);
        if (!_admit(op, inBatch, pool, userPayout + ownerPayout + burned)) return (false, address(0), 0, 0, 0);
        fresh = true;

        // A low-quality update is not recorded as the fork's adapter; the call still checks
        // that the model exists and returns its owner.
        owner = models.recordTraining(op.modelId, op.lowQuality ? bytes32(0) : op.adapterHash, op.user);
        _emitRecorded(op, owner, userPayout, ownerPayout, burned);
    }

    function _emitRecorded(TrainingOp calldata op, address owner, uint256 userPayout, uint256 ownerPayout, uint256 burned)
        private
    {
        emit TrainingRecorded(
            op.user,
            op.modelId,
            owner,
            op.adapterHash,
            op.nonce,
            op.multiplier,
            op.interactions,
            op.lowQuality,
            userPayout,
            ownerPayout,
            burned
        );
    }

    function _checkSigner(TrainingOp calldata op, bytes calldata signature) private view {
        address signer = ECDSA.recover(hashOp(op), signature);
        if (!hasRole(ORACLE_ROLE, signer)) revert InvalidSigner(signer);
    }

    /// @dev Consume the op's (fork, adapter) key and count it in its fork's budget and the pool's
    ///      day, or change nothing: false after OpSkipped (a consumed key) or OpDeferred
    ///      (over a budget) in a batch; alone, OpReplayed, ForkDailyCapReached or DailyBudgetSpent.
    function _admit(TrainingOp calldata op, bool inBatch, uint256 pool, uint256 cost) private returns (bool) {
        mapping(bytes32 => bool) storage paid = _adapterPaid[op.modelId];
        if (paid[op.adapterHash]) {
            if (!inBatch) revert OpReplayed(op.modelId, op.adapterHash);
            emit OpSkipped(op.modelId, op.adapterHash);
            return false;
        }
        (bool fits, uint256 forkDay) = _count(op, inBatch);
        if (!fits) return false;
        if (!_spend(op, cost, pool, inBatch)) return false;
        _forkDay[op.modelId] = forkDay;
        paid[op.adapterHash] = true;
        return true;
    }

    /// @dev The fork's packed day with the op's interactions added to its budget: the owner's if
    ///      op.user owns the fork, else the one other users share (written by the caller once the
    ///      op is paid). Over the budget: false and OpDeferred in a batch, else ForkDailyCapReached.
    function _count(TrainingOp calldata op, bool inBatch) private returns (bool, uint256) {
        address owner = address(0);
        // an unknown fork counts as no one's; ModelNFT.recordTraining then reverts UnknownModel
        try models.ownerOf(op.modelId) returns (address o) {
            owner = o;
        } catch {}
        bool own = op.user == owner;
        uint256 today = block.timestamp / 1 days;
        uint256 packed = _forkDay[op.modelId];
        uint256 ownerUsed = _usedOn(packed, today, true);
        uint256 othersUsed = _usedOn(packed, today, false);
        uint256 used = own ? ownerUsed : othersUsed;
        uint256 remaining = maxInteractionsPerForkDay - used;
        if (op.interactions > remaining) {
            if (!inBatch) revert ForkDailyCapReached(op.modelId, op.interactions, remaining);
            emit OpDeferred(op.modelId, op.adapterHash, ForkDailyCapReached.selector);
            return (false, 0);
        }
        if (own) ownerUsed += op.interactions;
        else othersUsed += op.interactions;
        return (true, (today << 192) | (ownerUsed << 96) | othersUsed);
    }

    /// @dev Take the op's `cost` from the pool's budget today (set at the day's first op:
    ///      pace x `pool`, the balance before it). Not enough left: false and OpDeferred in a
    ///      batch (nothing written), else DailyBudgetSpent.
    function _spend(TrainingOp calldata op, uint256 cost, uint256 pool, bool inBatch) private returns (bool) {
        PoolDay memory d = _poolDay;
        uint256 today = block.timestamp / 1 days;
        uint256 left = d.day == today ? d.left : (pool * d.paceBps) / BPS;
        if (cost > left) {
            if (!inBatch) revert DailyBudgetSpent(cost, left);
            emit OpDeferred(op.modelId, op.adapterHash, DailyBudgetSpent.selector);
            return false;
        }
        _poolDay = PoolDay(uint128(left - cost), uint64(today), d.paceBps);
        return true;
    }

    /// @dev Interactions a fork's packed slot records for `day`, in the owner's budget (`own`) or
    ///      the others': 0 on a new day.
    function _usedOn(uint256 packed, uint256 day, bool own) private pure returns (uint256) {
        if (packed >> 192 != day) return 0;
        return own ? uint96(packed >> 96) : uint96(packed);
    }

    function _pay(address user, address owner, uint256 userPayout, uint256 ownerPayout) private {
        if (user == owner) {
            if (userPayout + ownerPayout != 0) IERC20(token).safeTransfer(user, userPayout + ownerPayout);
        } else {
            if (userPayout != 0) IERC20(token).safeTransfer(user, userPayout);
            if (ownerPayout != 0) IERC20(token).safeTransfer(owner, ownerPayout);
        }
    }
}
