// SPDX-License-Identifier: MIT
// A test double or vector harness, deployed only on dev and test chains: no NatSpec required.
// solhint-disable use-natspec
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken
/// @notice A 6-decimals ERC-20 (like EURC or USDC) for local chains and tests. Anyone can mint.
contract TestToken is ERC20 {
    constructor() ERC20("zkcharge test euro", "tEUR") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` base units to `to`. Test networks only.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
