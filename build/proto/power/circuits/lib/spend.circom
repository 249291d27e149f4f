pragma circom 2.2.3;

include "./identity.circom";
include "./leanimt.circom";
include "./note.circom";

// NoteSpend(DEPTH): spends one note.
// Proves the spender knows an identity secret s < l, that the note (value, blinding) of its
// identity commitment sits at leafIndex in the note tree (noteRoot, noteTreeSize), and outputs
// nullifier = H(TAG_NULLIFIER, C, leafIndex, s) and idc (for the notes the spend creates).
// value < 2^64 is range-checked by NoteCommitment.
// Caller must enforce: (noteRoot, noteTreeSize) is a recent root of the pool with that size, and
// the nullifier is unused (contract); the value balance of what the spend creates.
template NoteSpend(DEPTH) {
    signal input noteRoot;
    signal input noteTreeSize;
    signal input secret;
    signal input value;
    signal input blinding;
    signal input leafIndex;
    signal input siblings[DEPTH];
    signal output idc;
    signal output nullifier;

    idc <== IdentityCommitment()(secret);
    component note = NoteCommitment();
    note.idc <== idc;
    note.blinding <== blinding;
    note.value <== value;
    _ <== note.precommitment;
    signal root <== LeanIMTRoot(DEPTH)(note.commitment, leafIndex, noteTreeSize, siblings);
    noteRoot === root;
    nullifier <== NoteNullifier()(note.commitment, leafIndex, secret);
}
