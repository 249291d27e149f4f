pragma circom 2.2.3;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/poseidon.circom";
include "./constants.circom";

// SessionChain(N): the meter's hash chain over the session's chain points.
//   H_0 = H(TAG_CHAIN_START, sessionId, cpoId, meterLeaf, tariffHash)
//   H_i = H(TAG_CHAIN_STEP, H_{i-1}, t_i, e_i), i = 1..n;  head = H_n
// with 1 <= n <= N. Points after n must be zero, and `active[i]` = (i < n) masks every later term.
// Caller must enforce: a meter signature over a message built from `head` and n (final or tail).
// N must be a power of two.
template SessionChain(N) {
    signal input sessionId;
    signal input cpoId;
    signal input meterLeaf;
    signal input tariffHash;
    signal input n;
    signal input t[N];
    signal input e[N];
    signal output head;
    signal output active[N];

    // 1 <= n <= N: n - 1 fits log2(N) bits.
    var logN = 0;
    while ((1 << logN) < N) { logN++; }
    assert((1 << logN) == N);
    _ <== Num2Bits(logN)(n - 1);

    signal chain[N + 1];
    chain[0] <== Poseidon(5)([TAG_CHAIN_START(), sessionId, cpoId, meterLeaf, tariffHash]);
    for (var i = 0; i < N; i++) {
        chain[i + 1] <== Poseidon(4)([TAG_CHAIN_STEP(), chain[i], t[i], e[i]]);
    }

    // isLast[i] = (n == i + 1); exactly one is set since 1 <= n <= N.
    signal isLast[N];
    for (var i = 0; i < N; i++) {
        isLast[i] <== IsEqual()([n, i + 1]);
    }
    // active[i] = sum_{j >= i} isLast[j] = (i < n)
    active[N - 1] <== isLast[N - 1];
    for (var i = N - 2; i >= 0; i--) {
        active[i] <== active[i + 1] + isLast[i];
    }

    signal picked[N];
    for (var i = 0; i < N; i++) {
        picked[i] <== isLast[i] * chain[i + 1] + (i > 0 ? picked[i - 1] : 0);
    }
    head <== picked[N - 1];

    // Padding is zero: a reading after n can neither change the chain head nor the bill.
    for (var i = 0; i < N; i++) {
        (1 - active[i]) * t[i] === 0;
        (1 - active[i]) * e[i] === 0;
    }
}

// SessionEndRecord: the message a meter signs when a session ends,
//   H(TAG_FINAL, head, n, ocmfDigest)
// where ocmfDigest commits to the OCMF records a station's gateway signed the chain from (0 for a meter's
// own chain; sdk/core/hash.ts `ocmfDigest`), so the legally relevant records and the billed chain cannot diverge.
// Caller must enforce: a meter signature over `record`; head and n from SessionChain.
template SessionEndRecord() {
    signal input head;
    signal input n;
    signal input ocmfDigest;
    signal output record;

    record <== Poseidon(4)([TAG_FINAL(), head, n, ocmfDigest]);
}
