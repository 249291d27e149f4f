pragma circom 2.2.3;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/poseidon.circom";
include "./lib/constants.circom";
include "./lib/note.circom";
include "./lib/session_bill.circom";
include "./lib/spend.circom";

// Pay(NOTE_DEPTH, METER_DEPTH, N): spend one note to pay a finished charging session.
//
// Public (in this order): noteRoot, noteTreeSize, nullifier, changeCommitment, meterRoot, cpoId,
//   tariffHash, sessionId, amount, fee, extDataHash.
// Proves:
//  1. the spender knows an identity secret s < l, and a note (value, blinding) owned by it
//     sits at leafIndex in the note tree (noteRoot, noteTreeSize); nullifier = H(C, leafIndex, s);
//  2. the session bill (SessionBill) of the meter-signed chain, closed by the meter's signature over
//     the session-end record H(TAG_FINAL, H_n, n, ocmfDigest), equals `amount` (ocmfDigest, private:
//     the digest of the OCMF records a gateway signed the chain from, 0 for a meter's own chain);
//  3. change = value - amount - fee with all three < 2^64, and the change note goes back to the
//     same identity: changeCommitment = H(TAG_NOTE, H(TAG_PRECOMMIT, idc, changeBlinding), change);
//  4. extDataHash is bound to the proof.
// Caller (Pool) must enforce: noteRoot was the root at noteTreeSize and is recent; nullifier and
// (cpoId, sessionId) unused; meterRoot current for cpoId; tariffHash published by cpoId;
// extDataHash = hash of the submitted ext data; fee < 2^64 is paid to the relayer.
template Pay(NOTE_DEPTH, METER_DEPTH, N) {
    // ---- public ----
    signal input noteRoot;
    signal input noteTreeSize;
    signal input nullifier;
    signal input changeCommitment;
    signal input meterRoot;
    signal input cpoId;
    signal input tariffHash;
    signal input sessionId;
    signal input amount;
    signal input fee;
    signal input extDataHash;

    // ---- private: the note spent ----
    signal input secret;
    signal input value;
    signal input blinding;
    signal input leafIndex;
    signal input noteSiblings[NOTE_DEPTH];
    signal input changeBlinding;

    // ---- private: tariff ----
    signal input flatFee;
    signal input energyPrice[4];
    signal input bandStart[3];
    signal input timePricePerHour[4];
    signal input parkingPricePerHour[4];
    signal input minPrice;
    signal input maxPrice;
    signal input tzOffset;
    signal input validFrom;
    signal input validTo;
    signal input stepSize[3];
    signal input durationLimit[5];

    // ---- private: meter and its signed readings ----
    signal input meterAx;
    signal input meterAy;
    signal input ratedPowerW;
    signal input meterIndex;
    signal input meterTreeSize;
    signal input meterSiblings[METER_DEPTH];
    signal input n;
    signal input t[N];
    signal input e[N];
    signal input durationLimitPoint[N - 1];
    signal input ocmfDigest;
    signal input sigR8x;
    signal input sigR8y;
    signal input sigS;

    // 1. Note ownership, membership and nullifier.
    component spend = NoteSpend(NOTE_DEPTH);
    spend.noteRoot <== noteRoot;
    spend.noteTreeSize <== noteTreeSize;
    spend.secret <== secret;
    spend.value <== value;
    spend.blinding <== blinding;
    spend.leafIndex <== leafIndex;
    spend.siblings <== noteSiblings;
    nullifier === spend.nullifier;

    // 2. The session bill, closed by the session-end record.
    component bill = SessionBill(N, METER_DEPTH, 0);
    bill.sessionId <== sessionId;
    bill.cpoId <== cpoId;
    bill.meterRoot <== meterRoot;
    bill.tariffHash <== tariffHash;
    bill.flatFee <== flatFee;
    bill.energyPrice <== energyPrice;
    bill.bandStart <== bandStart;
    bill.timePricePerHour <== timePricePerHour;
    bill.parkingPricePerHour <== parkingPricePerHour;
    bill.minPrice <== minPrice;
    bill.maxPrice <== maxPrice;
    bill.tzOffset <== tzOffset;
    bill.validFrom <== validFrom;
    bill.validTo <== validTo;
    bill.stepSize <== stepSize;
    bill.durationLimit <== durationLimit;
    bill.durationLimitPoint <== durationLimitPoint;
    bill.meterAx <== meterAx;
    bill.meterAy <== meterAy;
    bill.ratedPowerW <== ratedPowerW;
    bill.meterIndex <== meterIndex;
    bill.meterTreeSize <== meterTreeSize;
    bill.meterSiblings <== meterSiblings;
    bill.n <== n;
    bill.t <== t;
    bill.e <== e;
    bill.tailEnabled <== 0; // pay settles finished sessions only
    bill.tTail <== 0;
    bill.eTail <== 0;
    amount === bill.amount;

    signal finalRecord <== SessionEndRecord()(bill.head, n, ocmfDigest);
    MeterSignature()(meterAx, meterAy, sigR8x, sigR8y, sigS, finalRecord);

    // 3. Balance: the fee comes out of this note, never from anyone else's.
    _ <== Num2Bits(BITS_VALUE())(fee);
    signal change <== value - amount - fee;
    _ <== Num2Bits(BITS_VALUE())(change);
    component changeNote = NoteCommitment();
    changeNote.idc <== spend.idc;
    changeNote.blinding <== changeBlinding;
    changeNote.value <== change;
    _ <== changeNote.precommitment;
    changeCommitment === changeNote.commitment;

    // 4. Bind the ext data (recipient, relayer, ciphertexts, chain, pool) to this proof.
    signal extDataSquare <== extDataHash * extDataHash;
}
