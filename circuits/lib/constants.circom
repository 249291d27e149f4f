pragma circom 2.2.3;

// Protocol constants for the circuits. The same values live in sdk/core/constants.ts and
// contracts/libraries/Constants.sol; test/vectors/vectors.test.ts checks all three agree.
// A tag is the UTF-8 name read as a big-endian integer (docs/protocol.md).

function TAG_PRECOMMIT() { return 0x7a6b6368617267652e707265636f6d6d69746d656e74; } // "zkcharge.precommitment"
function TAG_NOTE() { return 0x7a6b6368617267652e6e6f7465; }                        // "zkcharge.note"
function TAG_NULLIFIER() { return 0x7a6b6368617267652e6e756c6c6966696572; }         // "zkcharge.nullifier"
function TAG_METER() { return 0x7a6b6368617267652e6d65746572; }                     // "zkcharge.meter"
function TAG_TARIFF() { return 0x7a6b6368617267652e746172696666; }                  // "zkcharge.tariff"
function TAG_CHAIN_START() { return 0x7a6b6368617267652e636861696e2e7374617274; }   // "zkcharge.chain.start"
function TAG_CHAIN_STEP() { return 0x7a6b6368617267652e636861696e2e73746570; }      // "zkcharge.chain.step"
function TAG_FINAL() { return 0x7a6b6368617267652e636861696e2e66696e616c; }         // "zkcharge.chain.final"
function TAG_LIVE() { return 0x7a6b6368617267652e636861696e2e6c697665; }            // "zkcharge.chain.live"

// Baby Jubjub prime subgroup order: identity secrets must be below it.
function BABYJUB_L() { return 2736030358979909402780800718157159386076813972158567259200215660948447373041; }

function SECONDS_PER_DAY() { return 86400; }
function BILL_DIVISOR() { return 3600000; }

// Bit widths (docs/protocol.md).
function BITS_TIME() { return 40; }
function BITS_ENERGY() { return 40; }
function BITS_INTERVAL() { return 32; }
function BITS_RATED_POWER() { return 24; }
function BITS_VALUE() { return 64; }
function BITS_ENERGY_PRICE() { return 32; }
function BITS_TIME_PRICE() { return 32; }
function BITS_FLAT_FEE() { return 40; }
function BITS_MAX_PRICE() { return 40; }
function BITS_TIME_OF_DAY() { return 17; }
// A step size minus one (OCPI step_size: 1 <= step <= 2^32).
function BITS_STEP_SIZE() { return 32; }
// A duration limit's seconds and each of its three prices (OCPI min_duration / max_duration).
function BITS_DURATION_LIMIT() { return 32; }
