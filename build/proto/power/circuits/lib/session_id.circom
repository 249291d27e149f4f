pragma circom 2.2.3;

include "circomlib/circuits/poseidon.circom";

// TAG_SESSION ("zkcharge.session") lives here, beside its only circuit use, instead of in constants.circom:
// every circuit includes constants.circom, so a new entry there would make all four circuits' artifacts stale
// for a function only lock calls. Same value as TAGS.session in sdk/core/constants.ts (the lock tests prove
// the SDK's session ids, so a mismatch fails them).
function TAG_SESSION() { return 0x7a6b6368617267652e73657373696f6e; } // "zkcharge.session"

// SessionId: sessionId = H(TAG_SESSION, stationNonce, driverNonce), the session id of sdk/core/hash.ts.
// Proving it shows knowledge of the nonces, which only the session's station and driver hold.
// The nonces are not range-checked (the SDK draws them below 2^128): what matters is knowing a preimage,
// and a wider range gives nobody a preimage of someone else's session id.
// Caller must enforce: nothing (the output is compared with the public sessionId).
template SessionId() {
    signal input stationNonce;
    signal input driverNonce;
    signal output sessionId;

    sessionId <== Poseidon(3)([TAG_SESSION(), stationNonce, driverNonce]);
}
