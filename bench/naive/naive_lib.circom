pragma circom 2.2.3;

include "circomlib/circuits/eddsaposeidon.circom";

// NaiveSession(N): the "one signature per reading" design the hash chain replaces. The meter signs every
// reading separately: msg[i] is the per-reading message (e.g. H(sessionId, i, t_i, e_i)) and (R8[i], S[i]) its
// EdDSA-Poseidon signature under the meter key (Ax, Ay). Each verifier is wired exactly like pay's
// MeterSignature (circuits/lib/session_bill.circom: enabled = 1).
//
// Benchmark only (bench/bench.ts compiles it for its constraint count; it is never proved): it counts the
// signatures alone, not the message hashes nor the interval / tariff logic, so a full naive pay circuit is at
// least pay - 1 EdDSA + N EdDSA constraints.
template NaiveSession(N) {
    signal input Ax;
    signal input Ay;
    signal input msg[N];
    signal input R8x[N];
    signal input R8y[N];
    signal input S[N];

    component verifier[N];
    for (var i = 0; i < N; i++) {
        verifier[i] = EdDSAPoseidonVerifier();
        verifier[i].enabled <== 1;
        verifier[i].Ax <== Ax;
        verifier[i].Ay <== Ay;
        verifier[i].R8x <== R8x[i];
        verifier[i].R8y <== R8y[i];
        verifier[i].S <== S[i];
        verifier[i].M <== msg[i];
    }
}
