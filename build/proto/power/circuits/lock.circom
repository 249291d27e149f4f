pragma circom 2.2.3;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/poseidon.circom";
include "./lib/constants.circom";
include "./lib/note.circom";
include "./lib/session_id.circom";
include "./lib/spend.circom";

// Lock(NOTE_DEPTH): spend one note into an escrow for a charging session (a pre-authorisation).
//
// Public (in this order): noteRoot, noteTreeSize, nullifier, changeCommitment, refundPrecommitment,
//   cap, fee, cpoId, sessionId, settleDeadline, claimDeadline, extDataHash.
// Proves:
//  1. NoteSpend: the spender owns a note in the tree; nullifier (= the escrow id) is its nullifier;
//  2. change = value - cap - fee, all < 2^64, returns to the same identity as changeCommitment;
//  3. refundPrecommitment = H(TAG_PRECOMMIT, idc, refundBlinding): whatever the escrow gives back
//     goes to the same identity, which nobody else learns;
//  4. sessionId = H(TAG_SESSION, stationNonce, driverNonce) for nonces the prover knows: only the session's
//     driver (or its station, which would only squat itself) can lock it. The pool takes one escrow per
//     session, so without this a stranger who saw a session id (in the mempool) could lock it first with
//     a tiny cap and block the driver's lock. A copy of the driver's own proof, even re-randomised, only
//     performs the driver's lock: extDataHash binds its relayer and encrypted outputs;
//  5. cpoId, both deadlines and extDataHash are bound to the proof.
// Caller (Pool) must enforce: root/size recent, nullifier unused, session unpaid and without an escrow
// (one escrow per (cpoId, sessionId), ever), CPO registered, the minimum settle and claim windows, fee paid
// to the relayer, extDataHash = hash of the ext data.
template Lock(NOTE_DEPTH) {
    // ---- public ----
    signal input noteRoot;
    signal input noteTreeSize;
    signal input nullifier;
    signal input changeCommitment;
    signal input refundPrecommitment;
    signal input cap;
    signal input fee;
    signal input cpoId;
    signal input sessionId;
    signal input settleDeadline;
    signal input claimDeadline;
    signal input extDataHash;

    // ---- private ----
    signal input secret;
    signal input value;
    signal input blinding;
    signal input leafIndex;
    signal input noteSiblings[NOTE_DEPTH];
    signal input changeBlinding;
    signal input refundBlinding;
    signal input stationNonce;
    signal input driverNonce;

    // 1. Spend the note.
    component spend = NoteSpend(NOTE_DEPTH);
    spend.noteRoot <== noteRoot;
    spend.noteTreeSize <== noteTreeSize;
    spend.secret <== secret;
    spend.value <== value;
    spend.blinding <== blinding;
    spend.leafIndex <== leafIndex;
    spend.siblings <== noteSiblings;
    nullifier === spend.nullifier;

    // 2. Balance: cap and fee come out of this note.
    _ <== Num2Bits(BITS_VALUE())(cap);
    _ <== Num2Bits(BITS_VALUE())(fee);
    signal change <== value - cap - fee;
    component changeNote = NoteCommitment();
    changeNote.idc <== spend.idc;
    changeNote.blinding <== changeBlinding;
    changeNote.value <== change; // range-checked < 2^64 inside
    _ <== changeNote.precommitment;
    changeCommitment === changeNote.commitment;

    // 3. The refund goes back to the spender's identity.
    signal refundTo <== Poseidon(3)([TAG_PRECOMMIT(), spend.idc, refundBlinding]);
    refundPrecommitment === refundTo;

    // 4. The prover knows the session's nonces.
    signal session <== SessionId()(stationNonce, driverNonce);
    sessionId === session;

    // 5. Bind the escrow terms and the ext data (squares keep them in the constraint system).
    signal cpoIdSquare <== cpoId * cpoId;
    signal settleSquare <== settleDeadline * settleDeadline;
    signal claimSquare <== claimDeadline * claimDeadline;
    signal extDataSquare <== extDataHash * extDataHash;
}
