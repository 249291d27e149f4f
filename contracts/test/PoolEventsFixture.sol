// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title PoolEventsFixture
/// @notice Test-only stand-in for the pool's event stream: emits the pool's `NoteAdded` events in batches and answers
/// `noteRoot`, `noteTreeSize` and `isKnownRoot` with what the setup computed off-chain (the SDK's NoteTree), so a
/// wallet sync can be pointed at it as if it were the pool (bench/sync.ts: a 100,000-note chain in seconds).
/// @dev No checks: anyone may emit anything. Never deploy outside a dev chain.
contract PoolEventsFixture {
    /// @notice The pool's event, same signature (and so the same topic0).
    /// @param index The leaf index.
    /// @param commitment The note commitment.
    /// @param encryptedOpening The encrypted opening.
    event NoteAdded(uint256 indexed index, uint256 commitment, bytes encryptedOpening);

    /// @notice The pool's event, same signature.
    /// @param nullifier The nullifier.
    event NullifierSpent(uint256 indexed nullifier);

    /// @notice `emitNotes` got arrays of different lengths.
    error PoolEventsFixture__LengthMismatch();

    uint256 internal _root;
    uint256 internal _size;

    /// @notice Emits `NoteAdded(start + i, commitments[i], openings[i])` for every i.
    /// @param start The index of the first leaf.
    /// @param commitments The note commitments.
    /// @param openings The encrypted openings (same length as `commitments`).
    function emitNotes(uint256 start, uint256[] calldata commitments, bytes[] calldata openings) external {
        if (commitments.length != openings.length) revert PoolEventsFixture__LengthMismatch();
        for (uint256 i = 0; i < commitments.length; ++i) {
            emit NoteAdded(start + i, commitments[i], openings[i]);
        }
    }

    /// @notice Emits `NullifierSpent` for every nullifier.
    /// @param nullifiers The nullifiers.
    function emitSpent(uint256[] calldata nullifiers) external {
        for (uint256 i = 0; i < nullifiers.length; ++i) {
            emit NullifierSpent(nullifiers[i]);
        }
    }

    /// @notice Sets what `noteRoot`, `noteTreeSize` and `isKnownRoot` answer.
    /// @param root The root of the emitted leaves.
    /// @param size The number of emitted leaves.
    function setRoot(uint256 root, uint256 size) external {
        _root = root;
        _size = size;
    }

    /// @notice The root the setup set.
    /// @return The root.
    function noteRoot() external view returns (uint256) {
        return _root;
    }

    /// @notice The size the setup set.
    /// @return The size.
    function noteTreeSize() external view returns (uint256) {
        return _size;
    }

    /// @notice True iff (root, size) is what the setup set.
    /// @param root The root.
    /// @param size The size.
    /// @return Whether it matches.
    function isKnownRoot(uint256 root, uint256 size) external view returns (bool) {
        return size != 0 && root == _root && size == _size;
    }
}
