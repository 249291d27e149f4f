pragma circom 2.2.3;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/poseidon.circom";

// LeanIMTRoot(MAX_DEPTH): the root of a Lean incremental Merkle tree (zk-kit LeanIMT,
// node = Poseidon(left, right), a node without right sibling is carried up unhashed)
// holding `leaf` at `leafIndex`, for a tree of `treeSize` leaves.
//
// The path bits ARE leafIndex (Num2Bits(MAX_DEPTH)), leafIndex < treeSize, and whether level i
// hashes is fixed by (leafIndex, treeSize): with bit b_i = 0 a right sibling exists iff
// prefix_i + 2^i < treeSize, prefix_i = leafIndex with its low i bits cleared. So for a given
// (root, treeSize) a leaf has exactly one provable index: no `idx + 2^depth`, no second shape.
// Siblings of levels that do not hash are ignored.
//
// Caller must enforce: treeSize is the size the tree had at `root` (public input checked by the
// contract) whenever the index matters (nullifiers); treeSize <= 2^MAX_DEPTH.
template LeanIMTRoot(MAX_DEPTH) {
    signal input leaf;
    signal input leafIndex;
    signal input treeSize;
    signal input siblings[MAX_DEPTH];
    signal output root;

    component indexBits = Num2Bits(MAX_DEPTH);
    indexBits.in <== leafIndex;
    _ <== Num2Bits(MAX_DEPTH + 1)(treeSize);
    component inTree = LessThan(MAX_DEPTH + 1);
    inTree.in <== [leafIndex, treeSize];
    inTree.out === 1;

    // prefix[i] = sum_{j >= i} b_j * 2^j
    signal prefix[MAX_DEPTH + 1];
    prefix[MAX_DEPTH] <== 0;
    for (var i = MAX_DEPTH - 1; i >= 0; i--) {
        prefix[i] <== prefix[i + 1] + indexBits.out[i] * (1 << i);
    }

    signal nodes[MAX_DEPTH + 1];
    signal left[MAX_DEPTH];
    signal right[MAX_DEPTH];
    signal hashes[MAX_DEPTH];
    signal hashed[MAX_DEPTH];
    component hasRight[MAX_DEPTH];
    nodes[0] <== leaf;
    for (var i = 0; i < MAX_DEPTH; i++) {
        var bit = indexBits.out[i];
        // Both inputs are below 2^(MAX_DEPTH+1): prefix[i] + 2^i <= 2^(MAX_DEPTH+1) - 1.
        hasRight[i] = LessThan(MAX_DEPTH + 1);
        hasRight[i].in <== [prefix[i] + (1 << i), treeSize];

        left[i] <== nodes[i] + bit * (siblings[i] - nodes[i]);
        right[i] <== siblings[i] + bit * (nodes[i] - siblings[i]);
        hashes[i] <== Poseidon(2)([left[i], right[i]]);

        // Hash when this node is a right child, or a left child with a right sibling.
        hashed[i] <== bit + hasRight[i].out - bit * hasRight[i].out;
        nodes[i + 1] <== nodes[i] + hashed[i] * (hashes[i] - nodes[i]);
    }
    root <== nodes[MAX_DEPTH];
}
