// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Constants
/// @notice Protocol constants for the contracts. The same values live in sdk/constants.ts and
/// circuits/lib/constants.circom; test/vectors.test.ts checks that all three agree.
library Constants {
    /// @dev BN254 scalar field: every public input must be below it.
    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    uint256 internal constant TAG_NOTE = 0x7a6b6368617267652e6e6f7465; // "zkcharge.note"
    uint256 internal constant TAG_METER = 0x7a6b6368617267652e6d65746572; // "zkcharge.meter"
    uint256 internal constant TAG_TARIFF = 0x7a6b6368617267652e746172696666; // "zkcharge.tariff"

    uint256 internal constant NOTE_TREE_DEPTH = 24;
    uint256 internal constant METER_TREE_DEPTH = 16;
    uint256 internal constant ROOT_HISTORY_LEAVES = 256;

    uint256 internal constant SECONDS_PER_DAY = 86400;
    uint256 internal constant MAX_VALUE = (1 << 64) - 1;
    uint256 internal constant MAX_RATED_POWER_W = (1 << 24) - 1;
    uint256 internal constant MAX_ENERGY_PRICE = (1 << 32) - 1;
    uint256 internal constant MAX_TIME_PRICE = (1 << 32) - 1;
    uint256 internal constant MAX_FLAT_FEE = (1 << 40) - 1;
    uint256 internal constant MAX_PRICE_CAP = (1 << 40) - 1;
    uint256 internal constant MAX_TIME = (1 << 40) - 1;
    /// OCPI step_size bound: 1 <= step <= 2^32 (Wh for energy, seconds for time and parking time).
    uint256 internal constant MAX_STEP_SIZE = 1 << 32;
    /// OCPI min_duration / max_duration bound: a duration limit's seconds and each of its prices are < 2^32.
    uint256 internal constant MAX_DURATION_LIMIT_VALUE = (1 << 32) - 1;

    /// @dev Leaves a tree of depth d can hold: 2^NOTE_TREE_DEPTH notes, 2^METER_TREE_DEPTH meters per CPO.
    uint256 internal constant MAX_NOTE_TREE_SIZE = 1 << NOTE_TREE_DEPTH;
    uint256 internal constant MAX_METER_TREE_SIZE = 1 << METER_TREE_DEPTH;
}
