pragma circom 2.2.3;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/poseidon.circom";
include "./constants.circom";

// NoteCommitment: recomputes a note from its opening.
//   precommitment = H(TAG_PRECOMMIT, idc, blinding), commitment = H(TAG_NOTE, precommitment, value)
// and range-checks value < 2^64.
// Caller must enforce: that the commitment is in the note tree (spend) or is published as an
// output (create); that idc comes from a proven identity when the note is spent.
template NoteCommitment() {
    signal input idc;
    signal input blinding;
    signal input value;
    signal output precommitment;
    signal output commitment;

    _ <== Num2Bits(BITS_VALUE())(value);

    precommitment <== Poseidon(3)([TAG_PRECOMMIT(), idc, blinding]);
    commitment <== Poseidon(3)([TAG_NOTE(), precommitment, value]);
}

// OutputNote: a note created for any precommitment (the receiver's, or the sender's own),
// commitment = H(TAG_NOTE, precommitment, value), value < 2^64.
// Caller must enforce: the value balance that funds it.
template OutputNote() {
    signal input precommitment;
    signal input value;
    signal output commitment;

    _ <== Num2Bits(BITS_VALUE())(value);
    commitment <== Poseidon(3)([TAG_NOTE(), precommitment, value]);
}

// NoteNullifier: nullifier = H(TAG_NULLIFIER, commitment, leafIndex, secret).
// One note, one nullifier: leafIndex must be the bits of the Merkle path that proved the
// commitment (LeanIMTRoot binds them) and secret must be below l (IdentityCommitment).
template NoteNullifier() {
    signal input commitment;
    signal input leafIndex;
    signal input secret;
    signal output nullifier;

    nullifier <== Poseidon(4)([TAG_NULLIFIER(), commitment, leafIndex, secret]);
}
