// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

interface IMarket {
    function buy(uint256 id, uint256 amount, uint256 maxCost, uint256 deadline) external returns (uint256);
    function sell(uint256 id, uint256 amount, uint256 minProceeds, uint256 deadline) external returns (uint256);
}

interface IForks {
    function mint(uint256 baseModelId, bytes32 adapterHash, uint256 maxFee) external returns (uint256);
}

/// @notice Test attacker: buys credits and, when they arrive (onERC1155Received), tries to sell
///         them back inside the buy, before the buy's accounting is final.
contract ReentrantCreditBuyer is IERC1155Receiver {
    IMarket public immutable market;
    bool public reenter;

    constructor(IMarket market_, IERC20 hanzo) {
        market = market_;
        hanzo.approve(address(market_), type(uint256).max);
    }

    function attack(uint256 id, uint256 amount, bool reenter_) external {
        reenter = reenter_;
        market.buy(id, amount, type(uint256).max, type(uint256).max);
    }

    function onERC1155Received(address, address, uint256 id, uint256 amount, bytes calldata)
        external
        returns (bytes4)
    {
        if (reenter) market.sell(id, amount, 0, type(uint256).max);
        return this.onERC1155Received.selector;
    }

    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        return this.onERC1155BatchReceived.selector;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC1155Receiver).interfaceId || interfaceId == type(IERC165).interfaceId;
    }
}

/// @notice Test attacker: mints a fork and, when it arrives (onERC721Received), mints again,
///         to see whether the second mint inside the first is free or breaks the fork count.
contract ReentrantForkMinter is IERC721Receiver {
    IForks public immutable forks;
    uint256 public depth;
    uint256[] public received;

    constructor(IForks forks_, IERC20 hanzo) {
        forks = forks_;
        hanzo.approve(address(forks_), type(uint256).max);
    }

    function attack(uint256 baseModelId) external {
        forks.mint(baseModelId, bytes32(uint256(1)), type(uint256).max);
    }

    function onERC721Received(address, address, uint256 tokenId, bytes calldata) external returns (bytes4) {
        received.push(tokenId);
        if (depth++ == 0) forks.mint(1, bytes32(uint256(2)), type(uint256).max);
        return this.onERC721Received.selector;
    }

    function receivedCount() external view returns (uint256) {
        return received.length;
    }
}
