// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {HanzoToken} from "./HanzoToken.sol";

/// @title ModelNFT: one token per user's model fork
/// @notice Each fork names its base model and the content hash of its LoRA adapter. Minting
///         costs `baseMintFee * (100 + performance) / 100` of the base model's performance
///         score; feeBurnBps of it (half by default) is burned and the rest goes to the treasury.
///         HANZO staked on a fork raises its boost,
///         a concave function of the stake:
///         boostBps = 10_000 + min(maxExtraBoostBps, sqrt(stake * 1e8 / boostRefStake)),
///         i.e. 1x plus sqrt(stake / boostRefStake), capped (2x at boostRefStake by default).
/// @dev Invariant: the HANZO held by this contract equals the sum of all stakes.
contract ModelNFT is ERC721, AccessControl {
    using SafeERC20 for HanzoToken;

    /// @notice Role that registers base models and their performance scores.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    uint256 private constant BPS = 10_000;

    /// @notice A fork: its base model and the content hash of its adapter.
    struct Fork {
        uint64 baseModelId;
        bytes32 adapterHash;
    }

    /// @notice Minting and boost settings, fixed at deployment.
    struct Config {
        /// Receives the unburned share of each mint fee.
        address treasury;
        /// Fee at performance 0, wei.
        uint256 baseMintFee;
        /// Burned share of each mint fee, basis points.
        uint256 feeBurnBps;
        /// Bound on performance scores.
        uint256 maxPerformance;
        /// Stake giving +100% boost before the cap, wei.
        uint256 boostRefStake;
        /// Cap on the extra boost, basis points.
        uint256 maxExtraBoostBps;
    }

    /// @notice A registered base model.
    struct BaseModel {
        bool registered;
        uint32 performance;
    }

    /// @notice The HANZO token (fees and stakes).
    HanzoToken public immutable token;
    /// @notice The rewards path (TrainingRewards), which records trained adapters: the contract
    ///         that created this one. TrainingRewards creates its ModelNFT in its constructor, so
    ///         the pair is wired in one transaction and no one predicts an address (a prediction
    ///         from the deployer's nonce breaks when another transaction interleaves). Immutable
    ///         rather than a role: the check is on every reward's gas-bound path, and a cold
    ///         role lookup costs 2,100 gas there.
    address public immutable rewards;
    /// @notice Fee at performance 0, in wei (10 HANZO by default).
    uint256 public immutable baseMintFee;
    /// @notice Share of each mint fee burned, in basis points (5000 = half).
    uint256 public immutable feeBurnBps;
    /// @notice Highest performance score a base model may be registered with.
    uint256 public immutable maxPerformance;
    /// @notice Stake that gives sqrt(1) = +100% boost before the cap.
    uint256 public immutable boostRefStake;
    /// @notice Cap on the extra boost, in basis points.
    uint256 public immutable maxExtraBoostBps;

    /// @notice Receives the unburned half of mint fees: HanzoTreasury, fixed at construction, so
    ///         the fees leave it only at the treasury's rate limit. (A setter let a captured
    ///         governance send half of every later mint fee to itself: issue 16, finding 7.)
    address public immutable treasury;
    /// @notice Number of forks minted; token ids are 1..totalForks.
    uint256 public totalForks;

    mapping(uint256 tokenId => Fork) private _forks;
    mapping(uint256 baseModelId => BaseModel) public baseModels;
    /// @notice Total HANZO staked on a fork.
    mapping(uint256 tokenId => uint256) public totalStake;
    /// @notice HANZO staked on a fork by one staker.
    mapping(uint256 tokenId => mapping(address staker => uint256)) public stakeOf;

    /// @notice A base model was registered or its performance changed.
    event BaseModelRegistered(uint256 indexed baseModelId, uint256 performance);
    /// @notice A fork was minted; `burned` of `fee` was burned, the rest went to the treasury.
    event ForkMinted(
        uint256 indexed tokenId, address indexed owner, uint256 indexed baseModelId, bytes32 adapterHash, uint256 fee, uint256 burned
    );
    /// @notice A fork's adapter hash changed.
    event AdapterUpdated(uint256 indexed tokenId, bytes32 adapterHash, address indexed by);
    /// @notice HANZO was staked on a fork.
    event Staked(uint256 indexed tokenId, address indexed staker, uint256 amount, uint256 totalStake);
    /// @notice HANZO was unstaked from a fork.
    event Unstaked(uint256 indexed tokenId, address indexed staker, uint256 amount, uint256 totalStake);

    /// @notice The base model is not registered.
    error UnknownBaseModel(uint256 baseModelId);
    /// @notice No fork with this id exists.
    error UnknownModel(uint256 tokenId);
    /// @notice Only the fork's owner may do this.
    error NotForkOwner(uint256 tokenId, address caller);
    /// @notice The performance score is above maxPerformance.
    error PerformanceOutOfRange(uint256 performance, uint256 maxPerformance);
    /// @notice Unstaking more than was staked.
    error InsufficientStake(uint256 requested, uint256 staked);
    /// @notice Only the rewards contract may record training.
    error NotRewards(address caller);
    /// @notice The mint fee is above the caller's limit.
    error FeeAboveMax(uint256 fee, uint256 maxFee);
    /// @notice A zero amount or zero address where one is not allowed.
    error ZeroValue();

    /// @notice The creator becomes `rewards`, the only caller of recordTraining.
    /// @param token_ HANZO.
    /// @param admin DEFAULT_ADMIN_ROLE holder (the timelock after deployment).
    /// @param config Treasury, mint fee, fee burn, performance bound and boost settings.
    constructor(HanzoToken token_, address admin, Config memory config) ERC721("Hanzo Model Fork", "HFORK") {
        if (
            address(token_) == address(0) || admin == address(0) || config.treasury == address(0)
                || config.boostRefStake == 0 || config.feeBurnBps > BPS
        ) {
            revert ZeroValue();
        }
        token = token_;
        rewards = msg.sender;
        treasury = config.treasury;
        baseMintFee = config.baseMintFee;
        feeBurnBps = config.feeBurnBps;
        maxPerformance = config.maxPerformance;
        boostRefStake = config.boostRefStake;
        maxExtraBoostBps = config.maxExtraBoostBps;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- base models

    /// @notice Register a base model or update its performance score. Only REGISTRAR_ROLE.
    function registerBaseModel(uint256 baseModelId, uint256 performance) external onlyRole(REGISTRAR_ROLE) {
        if (performance > maxPerformance) revert PerformanceOutOfRange(performance, maxPerformance);
        // forks store it in 64 bits: refuse an id that would not fit
        if (baseModelId > type(uint64).max) revert SafeCast.SafeCastOverflowedUintDowncast(64, baseModelId);
        baseModels[baseModelId] = BaseModel(true, SafeCast.toUint32(performance));
        emit BaseModelRegistered(baseModelId, performance);
    }

    /// @notice Fee to mint a fork of `baseModelId`: baseMintFee * (100 + performance) / 100.
    function mintFee(uint256 baseModelId) public view returns (uint256) {
        BaseModel memory base = baseModels[baseModelId];
        if (!base.registered) revert UnknownBaseModel(baseModelId);
        return (baseMintFee * (100 + base.performance)) / 100;
    }

    // ---------------------------------------------------------------- forks

    /// @notice Mint a fork of `baseModelId` to the caller, paying the mint fee (the caller must
    ///         have approved this contract for it). feeBurnBps of the fee (rounded down) is
    ///         burned, the rest goes to the treasury. Reverts if the fee is above `maxFee` (the
    ///         registrar may raise a base model's performance, and so its fee, at any time).
    /// @return tokenId The new fork's id.
    function mint(uint256 baseModelId, bytes32 adapterHash, uint256 maxFee) external returns (uint256 tokenId) {
        uint256 fee = mintFee(baseModelId);
        if (fee > maxFee) revert FeeAboveMax(fee, maxFee);
        uint256 burned = (fee * feeBurnBps) / BPS;
        tokenId = ++totalForks;
        _forks[tokenId] = Fork(SafeCast.toUint64(baseModelId), adapterHash);
        if (burned != 0) token.burnFrom(msg.sender, burned);
        if (fee != burned) token.safeTransferFrom(msg.sender, treasury, fee - burned);
        _safeMint(msg.sender, tokenId);
        emit ForkMinted(tokenId, msg.sender, baseModelId, adapterHash, fee, burned);
    }

    /// @notice A fork's base model and adapter hash.
    function fork(uint256 tokenId) external view returns (uint256 baseModelId, bytes32 adapterHash) {
        if (_ownerOf(tokenId) == address(0)) revert UnknownModel(tokenId);
        Fork memory f = _forks[tokenId];
        return (f.baseModelId, f.adapterHash);
    }

    /// @notice Set a fork's adapter hash. Only the fork's owner.
    function updateAdapter(uint256 tokenId, bytes32 adapterHash) external {
        address owner = _ownerOf(tokenId);
        if (owner == address(0)) revert UnknownModel(tokenId);
        if (owner != msg.sender) revert NotForkOwner(tokenId, msg.sender);
        _forks[tokenId].adapterHash = adapterHash;
        emit AdapterUpdated(tokenId, adapterHash, msg.sender);
    }

    /// @notice Rewards path: check that the fork exists, record the adapter `user` trained when
    ///         `user` owns the fork (zero hash: record nothing), and return the fork's owner. Only
    ///         the rewards contract, whose TrainingRecorded event is the record of this change.
    ///         Another user's training of the fork is paid (the owner's share is for that) but
    ///         does not replace the owner's adapter. Replay is refused before this call, by
    ///         TrainingRewards' key per (fork, adapter), which an owner cannot reset. Recording the
    ///         adapter the fork already has changes nothing and does not revert: the op is the
    ///         oracle's judgement of that adapter, paid once by that key, and a revert let an owner
    ///         who set its fork's adapter to its own op's hash void a relayer's whole batch (red
    ///         team, round 16).
    function recordTraining(uint256 tokenId, bytes32 adapterHash, address user) external returns (address owner) {
        if (msg.sender != rewards) revert NotRewards(msg.sender);
        owner = _ownerOf(tokenId);
        if (owner == address(0)) revert UnknownModel(tokenId);
        if (adapterHash == bytes32(0) || user != owner) return owner;
        Fork storage f = _forks[tokenId];
        // No AdapterUpdated here: the caller's TrainingRecorded event carries the model id and
        // the hash, and the rewards path is gas-bound (benchmarks/gas.py). Writing the same value
        // again costs little (a warm, unchanged slot) and changes nothing.
        f.adapterHash = adapterHash;
    }

    // ---------------------------------------------------------------- stake for boost

    /// @notice Stake `amount` HANZO on fork `tokenId` (caller must have approved it).
    function stake(uint256 tokenId, uint256 amount) external {
        if (amount == 0) revert ZeroValue();
        if (_ownerOf(tokenId) == address(0)) revert UnknownModel(tokenId);
        stakeOf[tokenId][msg.sender] += amount;
        uint256 total = totalStake[tokenId] + amount;
        totalStake[tokenId] = total;
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit Staked(tokenId, msg.sender, amount, total);
    }

    /// @notice Withdraw `amount` of the caller's stake on fork `tokenId`.
    function unstake(uint256 tokenId, uint256 amount) external {
        if (amount == 0) revert ZeroValue();
        uint256 staked = stakeOf[tokenId][msg.sender];
        if (amount > staked) revert InsufficientStake(amount, staked);
        stakeOf[tokenId][msg.sender] = staked - amount;
        uint256 total = totalStake[tokenId] - amount;
        totalStake[tokenId] = total;
        token.safeTransfer(msg.sender, amount);
        emit Unstaked(tokenId, msg.sender, amount, total);
    }

    /// @notice Boost of a fork in basis points (10_000 = 1x), concave in its total stake.
    function boostBps(uint256 tokenId) external view returns (uint256) {
        uint256 extra = Math.sqrt((totalStake[tokenId] * 1e8) / boostRefStake);
        return BPS + (extra < maxExtraBoostBps ? extra : maxExtraBoostBps);
    }

    /// @inheritdoc ERC721
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
