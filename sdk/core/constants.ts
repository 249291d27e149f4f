/**
 * Protocol constants, written once for the TypeScript side. `docs/protocol.md` explains each;
 * `test/vectors/vectors.test.ts` checks that the circom and Solidity copies carry the same values.
 */

/** BN254 scalar field modulus: every circuit signal and public input lives below it. */
export const FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Order of Baby Jubjub's prime subgroup: identity secrets must be below it. */
export const BABYJUB_SUBGROUP_ORDER = 2736030358979909402780800718157159386076813972158567259200215660948447373041n;

/** A domain tag: the UTF-8 bytes of `name` as a big-endian integer. */
function tag(name: string): bigint {
  const hex = Array.from(new TextEncoder().encode(name), (b) => b.toString(16).padStart(2, "0")).join("");
  return BigInt("0x" + hex);
}

/** Domain tags: no hash of one kind can be read as another. */
export const TAGS = {
  precommitment: tag("zkcharge.precommitment"),
  note: tag("zkcharge.note"),
  nullifier: tag("zkcharge.nullifier"),
  session: tag("zkcharge.session"),
  meter: tag("zkcharge.meter"),
  tariff: tag("zkcharge.tariff"),
  chainStart: tag("zkcharge.chain.start"),
  chainStep: tag("zkcharge.chain.step"),
  chainFinal: tag("zkcharge.chain.final"),
  chainLive: tag("zkcharge.chain.live"),
} as const;

/** Chain points a session can hold (the meter ends the session before it runs out). */
export const N_POINTS = 16;
/** Time-of-day energy price bands per tariff. */
export const N_BANDS = 4;
/** Maximum depth of the note tree (LeanIMT): 2^24 leaves. */
export const NOTE_TREE_DEPTH = 24;
/** Maximum depth of a CPO's meter tree (LeanIMT): 2^16 meters. */
export const METER_TREE_DEPTH = 16;
/** A root stays spendable while fewer than this many leaves were inserted after it. */
export const ROOT_HISTORY_LEAVES = 256;

/** Seconds in a day: bands are times of day in [0, 86400). */
export const SECONDS_PER_DAY = 86_400;
/** The one divisor of the bill: 3600 s/h times 1000 Wh/kWh. */
export const BILL_DIVISOR = 3_600_000n;

/** Bit widths of range-checked values (circuit `Num2Bits`, SDK validation and contract checks). */
export const BITS = {
  time: 40,
  energy: 40,
  interval: 32,
  ratedPower: 24,
  value: 64,
  energyPrice: 32,
  timePrice: 32,
  flatFee: 40,
  maxPrice: 40,
  timeOfDay: 17,
  /** A step size minus one (OCPI step_size, 1 <= step <= 2^32). */
  stepSize: 32,
  /** A duration limit's seconds and each of its prices (OCPI min_duration / max_duration). */
  durationLimit: 32,
} as const;

/** Token decimals of the settlement currency (EURC-like). */
export const TOKEN_DECIMALS = 6;
