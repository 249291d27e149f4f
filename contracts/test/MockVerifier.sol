// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPayVerifier} from "../interfaces/IPayVerifier.sol";
import {ITransactVerifier} from "../interfaces/ITransactVerifier.sol";

/// @title MockVerifier
/// @notice TEST ONLY: stands in for both Groth16 verifiers so the pool's effects can be tested without circuits.
/// Accepts a proof iff `result` is true and, when `expected` is set, the public signals equal it exactly
/// (which pins the order in which the pool packs them).
contract MockVerifier is IPayVerifier, ITransactVerifier {
    bool public result = true;
    uint256[] internal _expected;

    function setResult(bool result_) external {
        result = result_;
    }

    /// @notice Sets the public signals the next proofs must carry; an empty array accepts any.
    function setExpected(uint256[] calldata expected) external {
        _expected = expected;
    }

    function verifyProof(
        uint256[2] calldata,
        uint256[2][2] calldata,
        uint256[2] calldata,
        uint256[11] calldata s
    ) external view returns (bool) {
        uint256[] memory signals = new uint256[](11);
        for (uint256 i; i < 11; ++i) signals[i] = s[i];
        return _accept(signals);
    }

    function verifyProof(
        uint256[2] calldata,
        uint256[2][2] calldata,
        uint256[2] calldata,
        uint256[8] calldata s
    ) external view returns (bool) {
        uint256[] memory signals = new uint256[](8);
        for (uint256 i; i < 8; ++i) signals[i] = s[i];
        return _accept(signals);
    }

    function _accept(uint256[] memory signals) private view returns (bool) {
        if (!result) return false;
        uint256 n = _expected.length;
        if (n == 0) return true;
        if (n != signals.length) return false;
        for (uint256 i; i < n; ++i) {
            if (_expected[i] != signals[i]) return false;
        }
        return true;
    }
}
