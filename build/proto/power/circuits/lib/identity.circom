pragma circom 2.2.3;

include "circomlib/circuits/babyjub.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/poseidon.circom";
include "./constants.circom";

// IdentityCommitment: proves knowledge of a Semaphore v4 identity secret scalar `secret`
// with secret < l (Baby Jubjub subgroup order) and outputs its commitment
// idc = Poseidon(Ax, Ay), (Ax, Ay) = secret * Base8.
// Why s < l: BabyPbk accepts any 253-bit scalar, and s and s + k*l give the same public key,
// so without the bound one identity would have several secrets, hence several nullifiers per note.
// Caller must enforce: nothing (the output is private; callers bind it into notes).
template IdentityCommitment() {
    signal input secret;
    signal output commitment;

    // Range-check first: LessThan(251) is only sound on inputs below 2^251 (l < 2^251).
    _ <== Num2Bits(251)(secret);
    component belowOrder = LessThan(251);
    belowOrder.in[0] <== secret;
    belowOrder.in[1] <== BABYJUB_L();
    belowOrder.out === 1;

    component publicKey = BabyPbk();
    publicKey.in <== secret;
    commitment <== Poseidon(2)([publicKey.Ax, publicKey.Ay]);
}
