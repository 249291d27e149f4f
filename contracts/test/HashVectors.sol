// SPDX-License-Identifier: MIT
// A test double or vector harness, deployed only on dev and test chains: no NatSpec required.
// solhint-disable use-natspec
pragma solidity ^0.8.28;

import {InternalLeanIMT, LeanIMTData} from "@zk-kit/lean-imt.sol/InternalLeanIMT.sol";
import {PoseidonT3} from "poseidon-solidity/PoseidonT3.sol";
import {PoseidonT4} from "poseidon-solidity/PoseidonT4.sol";
import {PoseidonT5} from "poseidon-solidity/PoseidonT5.sol";
import {PoseidonT6} from "poseidon-solidity/PoseidonT6.sol";
import {Constants} from "../libraries/Constants.sol";
import {NoteTree} from "../libraries/NoteTree.sol";

/// @title HashVectors
/// @notice TEST ONLY (test/vectors.test.ts): the protocol hashes exactly as the contracts compute them, and the
/// Solidity constants, so the test can compare them with the SDK and the circuits.
/// @dev Linked libraries: PoseidonT3..PoseidonT6. Tree functions write storage: call them with `staticCall`.
contract HashVectors {
    using InternalLeanIMT for LeanIMTData;
    using NoteTree for NoteTree.Data;

    /// @notice A tree library's stored root differs from the root its insert returned.
    error HashVectors__RootMismatch();
    /// @notice `constantOf` was asked for a constant Constants.sol does not define.
    error HashVectors__UnknownConstant(string name);

    mapping(uint256 => LeanIMTData) internal _imts;
    mapping(uint256 => NoteTree.Data) internal _noteTrees;
    uint256 internal _nonce;

    /// @notice Note commitment `PoseidonT4([TAG_NOTE, P, v])`, as Pool.deposit computes it.
    function noteCommitment(uint256 precommitment, uint256 value) external pure returns (uint256) {
        return PoseidonT4.hash([Constants.TAG_NOTE, precommitment, value]);
    }

    /// @notice Meter leaf `PoseidonT6([TAG_METER, ax, ay, cpoId, ratedPowerW])`, as Registry.addMeter computes it.
    function meterLeaf(uint256 ax, uint256 ay, uint256 cpoId, uint256 ratedPowerW) external pure returns (uint256) {
        return PoseidonT6.hash([Constants.TAG_METER, ax, ay, cpoId, ratedPowerW]);
    }

    /// @notice Merkle node `PoseidonT3([left, right])`.
    function merkleNode(uint256 left, uint256 right) external pure returns (uint256) {
        return PoseidonT3.hash([left, right]);
    }

    /// @notice PoseidonT5 over four inputs (H4: the chain step, final and live hashes, computed in the circuits).
    function poseidon4(uint256[4] calldata x) external pure returns (uint256) {
        return PoseidonT5.hash(x);
    }

    /// @notice Roots of zk-kit's InternalLeanIMT (the registry's meter trees) after each insert of `leaves`.
    function leanImtRoots(uint256[] calldata leaves) external returns (uint256[] memory roots) {
        LeanIMTData storage tree = _imts[++_nonce];
        roots = new uint256[](leaves.length);
        for (uint256 i = 0; i < leaves.length; ++i) {
            roots[i] = tree._insert(leaves[i]);
        }
        if (leaves.length > 0 && tree._root() != roots[leaves.length - 1]) revert HashVectors__RootMismatch();
    }

    /// @notice Roots of the pool's NoteTree library after each insert of `leaves` (returned and read back).
    function noteTreeRoots(uint256[] calldata leaves) external returns (uint256[] memory roots, uint256[] memory indices) {
        NoteTree.Data storage tree = _noteTrees[++_nonce];
        roots = new uint256[](leaves.length);
        indices = new uint256[](leaves.length);
        for (uint256 i = 0; i < leaves.length; ++i) {
            (uint256 index, uint256 root) = tree.insert(leaves[i]);
            if (tree.root() != root) revert HashVectors__RootMismatch();
            roots[i] = root;
            indices[i] = index;
        }
    }

    /// @notice Root of an empty NoteTree.
    function emptyNoteTreeRoot() external returns (uint256) {
        return _noteTrees[++_nonce].root();
    }

    /// @notice The Solidity protocol constants, by name (reverts on an unknown name).
    function constantOf(string calldata name) external pure returns (uint256) {
        bytes32 h = keccak256(bytes(name));
        if (h == keccak256("FIELD_MODULUS")) return Constants.FIELD_MODULUS;
        if (h == keccak256("TAG_NOTE")) return Constants.TAG_NOTE;
        if (h == keccak256("TAG_METER")) return Constants.TAG_METER;
        if (h == keccak256("TAG_TARIFF")) return Constants.TAG_TARIFF;
        if (h == keccak256("NOTE_TREE_DEPTH")) return Constants.NOTE_TREE_DEPTH;
        if (h == keccak256("METER_TREE_DEPTH")) return Constants.METER_TREE_DEPTH;
        if (h == keccak256("ROOT_HISTORY_LEAVES")) return Constants.ROOT_HISTORY_LEAVES;
        if (h == keccak256("SECONDS_PER_DAY")) return Constants.SECONDS_PER_DAY;
        if (h == keccak256("MAX_VALUE")) return Constants.MAX_VALUE;
        if (h == keccak256("MAX_RATED_POWER_W")) return Constants.MAX_RATED_POWER_W;
        if (h == keccak256("MAX_ENERGY_PRICE")) return Constants.MAX_ENERGY_PRICE;
        if (h == keccak256("MAX_TIME_PRICE")) return Constants.MAX_TIME_PRICE;
        if (h == keccak256("MAX_FLAT_FEE")) return Constants.MAX_FLAT_FEE;
        if (h == keccak256("MAX_PRICE_CAP")) return Constants.MAX_PRICE_CAP;
        if (h == keccak256("MAX_TIME")) return Constants.MAX_TIME;
        if (h == keccak256("MAX_STEP_SIZE")) return Constants.MAX_STEP_SIZE;
        if (h == keccak256("MAX_DURATION_LIMIT_VALUE")) return Constants.MAX_DURATION_LIMIT_VALUE;
        if (h == keccak256("MAX_NOTE_TREE_SIZE")) return Constants.MAX_NOTE_TREE_SIZE;
        if (h == keccak256("MAX_METER_TREE_SIZE")) return Constants.MAX_METER_TREE_SIZE;
        revert HashVectors__UnknownConstant(name);
    }
}
