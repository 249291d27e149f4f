// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PoseidonT3} from "poseidon-solidity/PoseidonT3.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title NoteTree
/// @notice An append-only LeanIMT (the same tree and roots as `@zk-kit/lean-imt`): a node without a right sibling
/// is carried up unhashed, nodes are `PoseidonT3(left, right)`, the depth grows with the size.
/// @dev Differences from `InternalLeanIMT` (zk-kit), for gas, with identical roots:
/// - no leaf => index map (notes are never updated or removed; a duplicate commitment is harmless because the
///   nullifier binds the leaf index), which saves a fresh 22.1k SSTORE per insert;
/// - the depth is derived from the size instead of stored;
/// - a side node is stored only when its subtree becomes complete (the first zero bit of the index), plus the
///   root at `sideNodes[depth]`: 2 SSTOREs per insert instead of one per zero bit. A side node at level `l` is
///   read only when bit `l` of a later index is 1, i.e. when its subtree is complete, and that value was written
///   by the insert that completed it.
library NoteTree {
    struct Data {
        /// Number of leaves.
        uint256 size;
        /// sideNodes[l] = last complete left node at level l; sideNodes[depth] = root. Levels 0..NOTE_TREE_DEPTH.
        uint256[25] sideNodes;
    }

    /// @notice Appends `leaf`; the caller checks the capacity (size < 2^NOTE_TREE_DEPTH) and that leaf < r.
    /// @param self The tree.
    /// @param leaf The note commitment to append.
    /// @return index The leaf index.
    /// @return newRoot The new root.
    function insert(Data storage self, uint256 leaf) internal returns (uint256 index, uint256 newRoot) {
        index = self.size;
        uint256 depth = _depth(index + 1);
        uint256 node = leaf;
        uint256 level;
        // Trailing one bits: the node is a right child of a complete left subtree.
        while ((index >> level) & 1 == 1) {
            node = PoseidonT3.hash([self.sideNodes[level], node]);
            unchecked {
                ++level;
            }
        }
        // First zero bit (or the top): this node's subtree is now complete.
        self.sideNodes[level] = node;
        if (level < depth) {
            unchecked {
                ++level;
            }
            for (; level < depth; ) {
                if ((index >> level) & 1 == 1) {
                    node = PoseidonT3.hash([self.sideNodes[level], node]);
                }
                unchecked {
                    ++level;
                }
            }
            self.sideNodes[depth] = node;
        }
        self.size = index + 1;
        newRoot = node;
    }

    /// @notice The current root (0 for an empty tree).
    /// @param self The tree.
    /// @return The root.
    function root(Data storage self) internal view returns (uint256) {
        uint256 size = self.size;
        if (size == 0) return 0;
        return self.sideNodes[_depth(size)];
    }

    /// @dev Depth of a LeanIMT with `size` >= 1 leaves: the smallest d with 2^d >= size.
    function _depth(uint256 size) private pure returns (uint256) {
        return size == 1 ? 0 : Math.log2(size - 1) + 1;
    }
}
