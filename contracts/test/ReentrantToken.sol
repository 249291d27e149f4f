// SPDX-License-Identifier: MIT
// A test double or vector harness, deployed only on dev and test chains: no NatSpec required.
// solhint-disable use-natspec
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken
/// @notice Test token that, once armed, calls `hookTarget` with `hookData` (once) from inside every transfer (before moving the
/// tokens) and bubbles up its revert: shows the pool's reentrancy guard.
contract ReentrantToken is ERC20 {
    address public hookTarget;
    bytes public hookData;

    constructor() ERC20("reentrant token", "RE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the hook; an empty `data` disarms it.
    function arm(address target_, bytes calldata data_) external {
        hookTarget = target_;
        hookData = data_;
    }

    function _update(address from, address to, uint256 value) internal override {
        bytes memory d = hookData;
        if (d.length != 0 && from != address(0)) {
            delete hookData;
            // The reentrancy under test is an arbitrary call back into the pool.
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, bytes memory ret) = hookTarget.call(d);
            if (!ok) {
                assembly {
                    revert(add(ret, 32), mload(ret))
                }
            }
        }
        super._update(from, to, value);
    }
}
