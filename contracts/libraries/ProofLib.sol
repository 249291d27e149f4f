// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPool} from "../interfaces/IPool.sol";
import {Constants} from "./Constants.sol";

/// @title ProofLib
/// @notice The public-signal order of each circuit, written once: struct -> the verifier's `uint256[k]`.
/// @dev Must match `circuits/circuits.json` (and `prover/publicSignals.ts`). Pay has 11 signals, transact 8,
/// lock 12, close 10.
library ProofLib {
    uint256 internal constant PAY_SIGNALS = 11;
    uint256 internal constant TRANSACT_SIGNALS = 8;
    uint256 internal constant LOCK_SIGNALS = 12;
    uint256 internal constant CLOSE_SIGNALS = 10;

    /// @notice Packs the pay public signals in circuit order.
    /// @param p The pay call's public inputs.
    /// @return s The public signals for the verifier.
    function signals(IPool.PayPublic calldata p) internal pure returns (uint256[PAY_SIGNALS] memory s) {
        s[0] = p.noteRoot;
        s[1] = p.noteTreeSize;
        s[2] = p.nullifier;
        s[3] = p.changeCommitment;
        s[4] = p.meterRoot;
        s[5] = p.cpoId;
        s[6] = p.tariffHash;
        s[7] = p.sessionId;
        s[8] = p.amount;
        s[9] = p.fee;
        s[10] = p.extDataHash;
    }

    /// @notice Packs the transact public signals in circuit order.
    /// @param p The transact call's public inputs.
    /// @return s The public signals for the verifier.
    function signals(IPool.TransactPublic calldata p) internal pure returns (uint256[TRANSACT_SIGNALS] memory s) {
        s[0] = p.noteRoot;
        s[1] = p.noteTreeSize;
        s[2] = p.inputNullifiers[0];
        s[3] = p.inputNullifiers[1];
        s[4] = p.outputCommitments[0];
        s[5] = p.outputCommitments[1];
        s[6] = p.publicAmount;
        s[7] = p.extDataHash;
    }

    /// @notice Packs the lock public signals in circuit order.
    /// @param p The lock call's public inputs.
    /// @return s The public signals for the verifier.
    function signals(IPool.LockPublic calldata p) internal pure returns (uint256[LOCK_SIGNALS] memory s) {
        s[0] = p.noteRoot;
        s[1] = p.noteTreeSize;
        s[2] = p.nullifier;
        s[3] = p.changeCommitment;
        s[4] = p.refundPrecommitment;
        s[5] = p.cap;
        s[6] = p.fee;
        s[7] = p.cpoId;
        s[8] = p.sessionId;
        s[9] = p.settleDeadline;
        s[10] = p.claimDeadline;
        s[11] = p.extDataHash;
    }

    /// @notice Packs the close public signals in circuit order: the escrow's refundPrecommitment, cap, cpoId and
    /// sessionId (from storage, never from the caller), then the caller's mode, meterRoot, ...
    /// @param p The close call's public inputs.
    /// @param e The escrow being closed, from storage.
    /// @return s The public signals for the verifier.
    function signals(
        IPool.ClosePublic calldata p,
        IPool.Escrow memory e
    ) internal pure returns (uint256[CLOSE_SIGNALS] memory s) {
        s[0] = e.refundPrecommitment;
        s[1] = e.cap;
        s[2] = e.cpoId;
        s[3] = e.sessionId;
        s[4] = p.meterRoot;
        s[5] = p.tariffHash;
        s[6] = p.mode;
        s[7] = p.amount;
        s[8] = p.refundCommitment;
        s[9] = p.extDataHash;
    }

    /// @notice Whether every signal is a canonical field element (below r).
    /// @param s The public signals.
    function inField(uint256[PAY_SIGNALS] memory s) internal pure returns (bool) {
        for (uint256 i; i < PAY_SIGNALS; ++i) {
            if (s[i] >= Constants.FIELD_MODULUS) return false;
        }
        return true;
    }

    /// @notice Whether every signal is a canonical field element (below r).
    /// @param s The public signals.
    function inField(uint256[TRANSACT_SIGNALS] memory s) internal pure returns (bool) {
        for (uint256 i; i < TRANSACT_SIGNALS; ++i) {
            if (s[i] >= Constants.FIELD_MODULUS) return false;
        }
        return true;
    }

    /// @notice Whether every signal is a canonical field element (below r).
    /// @param s The public signals.
    function inField(uint256[LOCK_SIGNALS] memory s) internal pure returns (bool) {
        for (uint256 i; i < LOCK_SIGNALS; ++i) {
            if (s[i] >= Constants.FIELD_MODULUS) return false;
        }
        return true;
    }

    /// @notice Whether every signal is a canonical field element (below r).
    /// @param s The public signals.
    function inField(uint256[CLOSE_SIGNALS] memory s) internal pure returns (bool) {
        for (uint256 i; i < CLOSE_SIGNALS; ++i) {
            if (s[i] >= Constants.FIELD_MODULUS) return false;
        }
        return true;
    }
}
