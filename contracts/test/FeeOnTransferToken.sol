// SPDX-License-Identifier: MIT
// A test double or vector harness, deployed only on dev and test chains: no NatSpec required.
// solhint-disable use-natspec
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FeeOnTransferToken
/// @notice Test token that burns 1% of every transfer while `feeOn`: the pool must refuse it.
contract FeeOnTransferToken is ERC20 {
    bool public feeOn = true;

    constructor() ERC20("fee token", "FEE") {}

    /// @notice Switches the 1% fee on or off.
    function setFeeOn(bool on) external {
        feeOn = on;
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (feeOn && from != address(0) && to != address(0)) {
            uint256 burnt = value / 100;
            super._update(from, address(0), burnt);
            value -= burnt;
        }
        super._update(from, to, value);
    }
}
