pragma circom 2.2.3;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/poseidon.circom";
include "./lib/constants.circom";
include "./lib/session_bill.circom";

// Close(METER_DEPTH, N): settle an escrow from the meter's signed readings (settle and claim are
// this one circuit). No secret: the CPO can close without the driver.
//
// Public (in this order): refundPrecommitment, cap, cpoId, sessionId, meterRoot, tariffHash, mode,
//   amount, refundCommitment, extDataHash. The first four are the escrow's, read from storage.
// Proves:
//  1. the session bill (SessionBill) of the meter-signed chain; mode 0: closed by the meter's
//     session-end record H(TAG_FINAL, H_n, n, ocmfDigest) (ocmfDigest private, 0 without OCMF records); mode 1: by a live tail H(TAG_LIVE, H_n, t, e), whose
//     reading adds one more interval to the bill;
//  2. amount = min(bill, cap), and the rest returns to the escrow's owner as
//     refundCommitment = H(TAG_NOTE, refundPrecommitment, cap - amount);
//  3. extDataHash is bound to the proof.
// Caller (Pool) must enforce: the escrow is open and its public values are the ones passed; mode 1
// only from the CPO after the settle deadline, both modes before the claim deadline; meterRoot
// current and tariffHash published for cpoId; the session unpaid.
template Close(METER_DEPTH, N) {
    // ---- public ----
    signal input refundPrecommitment;
    signal input cap;
    signal input cpoId;
    signal input sessionId;
    signal input meterRoot;
    signal input tariffHash;
    signal input mode;
    signal input amount;
    signal input refundCommitment;
    signal input extDataHash;

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

    // ---- private: meter, signed readings, optional live tail ----
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
    signal input tTail;
    signal input eTail;
    signal input ocmfDigest;
    signal input sigR8x;
    signal input sigR8y;
    signal input sigS;

    mode * (mode - 1) === 0;

    // 1. The bill, with the tail interval when mode = 1.
    component bill = SessionBill(N, METER_DEPTH, 1);
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
    bill.tailEnabled <== mode;
    bill.tTail <== tTail;
    bill.eTail <== eTail;

    signal finalRecord <== SessionEndRecord()(bill.head, n, ocmfDigest);
    signal liveTail <== Poseidon(4)([TAG_LIVE(), bill.head, tTail, eTail]);
    signal signed <== finalRecord + mode * (liveTail - finalRecord);
    MeterSignature()(meterAx, meterAy, sigR8x, sigR8y, sigS, signed);

    // 2. amount = min(bill, cap); both are below 2^64 (the bill is range-checked in SessionBill).
    _ <== Num2Bits(BITS_VALUE())(cap);
    signal overCap <== LessThan(BITS_VALUE())([cap, bill.amount]);
    signal charged <== bill.amount + overCap * (cap - bill.amount);
    amount === charged;
    signal refund <== cap - amount;
    signal refundNote <== Poseidon(3)([TAG_NOTE(), refundPrecommitment, refund]);
    refundCommitment === refundNote;

    // 3. Bind the ext data.
    signal extDataSquare <== extDataHash * extDataHash;
}
