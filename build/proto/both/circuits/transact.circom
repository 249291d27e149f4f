pragma circom 2.2.3;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "./lib/constants.circom";
include "./lib/identity.circom";
include "./lib/leanimt.circom";
include "./lib/note.circom";

// Transact(NOTE_DEPTH, N_INS, N_OUTS): join / split / withdraw / transfer / top up notes.
//
// Public (in this order): noteRoot, noteTreeSize, inputNullifier[N_INS], outputCommitment[N_OUTS],
//   publicAmount, extDataHash.
// Proves:
//  1. every input note is owned by one identity secret s < l; an input of value 0 is a dummy that
//     skips the tree check; each real input sits at its leafIndex in (noteRoot, noteTreeSize);
//     inputNullifier[j] = H(C_j, leafIndex_j, s), pairwise distinct;
//  2. outputCommitment[k] = H(TAG_NOTE, outPrecommitment[k], outValue[k]), outValue[k] < 2^64;
//  3. sum(in) + publicAmount = sum(out) in the field;
//  4. extDataHash is bound to the proof.
// Caller (Pool) must enforce: root/size recent, nullifiers unused, publicAmount = (extAmount - fee)
// mod r with |extAmount| < 2^64 and fee < 2^64 (so the field equation has no wrap-around), the
// token movements, and extDataHash = hash of the submitted ext data.
template Transact(NOTE_DEPTH, N_INS, N_OUTS) {
    // ---- public ----
    signal input noteRoot;
    signal input noteTreeSize;
    signal input inputNullifier[N_INS];
    signal input outputCommitment[N_OUTS];
    signal input publicAmount;
    signal input extDataHash;

    // ---- private ----
    signal input secret;
    signal input inValue[N_INS];
    signal input inBlinding[N_INS];
    signal input inLeafIndex[N_INS];
    signal input inSiblings[N_INS][NOTE_DEPTH];
    signal input outPrecommitment[N_OUTS];
    signal input outValue[N_OUTS];

    signal idc <== IdentityCommitment()(secret);

    component inNote[N_INS];
    component rootCheck[N_INS];
    signal inRoot[N_INS];
    signal inNullifier[N_INS];
    var sumIns = 0;
    for (var j = 0; j < N_INS; j++) {
        inNote[j] = NoteCommitment();
        inNote[j].idc <== idc;
        inNote[j].blinding <== inBlinding[j];
        inNote[j].value <== inValue[j];
        _ <== inNote[j].precommitment;
        inNullifier[j] <== NoteNullifier()(inNote[j].commitment, inLeafIndex[j], secret);
        inputNullifier[j] === inNullifier[j];

        inRoot[j] <== LeanIMTRoot(NOTE_DEPTH)(inNote[j].commitment, inLeafIndex[j], noteTreeSize, inSiblings[j]);
        // A real (non-zero) note must be in the tree; a zero-value dummy need not be.
        rootCheck[j] = ForceEqualIfEnabled();
        rootCheck[j].enabled <== inValue[j];
        rootCheck[j].in <== [noteRoot, inRoot[j]];
        sumIns += inValue[j];
    }

    // No note spent twice in one proof.
    component sameNullifier[N_INS * N_INS];
    for (var j = 0; j < N_INS; j++) {
        for (var k = j + 1; k < N_INS; k++) {
            sameNullifier[j * N_INS + k] = IsEqual();
            sameNullifier[j * N_INS + k].in <== [inputNullifier[j], inputNullifier[k]];
            sameNullifier[j * N_INS + k].out === 0;
        }
    }

    signal outCommitment[N_OUTS];
    var sumOuts = 0;
    for (var k = 0; k < N_OUTS; k++) {
        outCommitment[k] <== OutputNote()(outPrecommitment[k], outValue[k]);
        outputCommitment[k] === outCommitment[k];
        sumOuts += outValue[k];
    }

    sumIns + publicAmount === sumOuts;

    signal extDataSquare <== extDataHash * extDataHash;
}
