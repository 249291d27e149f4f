pragma circom 2.2.3;

// The naive comparison circuit of `npm run bench`: N = 16 per-reading EdDSA signatures (see naive_lib.circom).
// Public inputs as in pay's view of the meter: the key and the messages are private there too, so none here.
include "./naive_lib.circom";

component main = NaiveSession(16);
