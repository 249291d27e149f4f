/**
 * Every protocol hash of docs/protocol.md, written once. Other modules call these functions and never
 * assemble Poseidon inputs themselves.
 */
import {
  poseidon1,
  poseidon2,
  poseidon3,
  poseidon4,
  poseidon5,
  poseidon6,
  poseidon7,
  poseidon8,
  poseidon9,
  poseidon10,
  poseidon11,
  poseidon12,
  poseidon13,
  poseidon14,
  poseidon15,
  poseidon16,
} from "poseidon-lite";
import { sha256 } from "@noble/hashes/sha2.js";
import { AbiCoder, getBytes, hexlify, isAddress, keccak256 } from "ethers";
import { BABYJUB_SUBGROUP_ORDER, BITS, FIELD_MODULUS, TAGS } from "./constants.ts";
import { InvalidInputError } from "./errors.ts";
import { assertBits, assertFieldElement } from "./field.ts";

const POSEIDON = [
  poseidon1,
  poseidon2,
  poseidon3,
  poseidon4,
  poseidon5,
  poseidon6,
  poseidon7,
  poseidon8,
  poseidon9,
  poseidon10,
  poseidon11,
  poseidon12,
  poseidon13,
  poseidon14,
  poseidon15,
  poseidon16,
] as const;

/**
 * circomlib Poseidon with `inputs.length` inputs (1..16), i.e. `H_k` of docs/protocol.md.
 * @throws InvalidInputError if the width is outside 1..16 or an input is not a canonical field element
 */
export function poseidon(inputs: readonly bigint[]): bigint {
  if (inputs.length < 1 || inputs.length > POSEIDON.length) {
    throw new InvalidInputError(`Poseidon takes 1..16 inputs, got ${inputs.length}`);
  }
  inputs.forEach((x, i) => assertFieldElement(x, `Poseidon input ${i}`));
  return POSEIDON[inputs.length - 1]!([...inputs]);
}

/** Merkle node `H_2(left, right)`: the only untagged hash (both trees are LeanIMTs over it). */
export function merkleNode(left: bigint, right: bigint): bigint {
  return poseidon([left, right]);
}

/** Semaphore v4 identity commitment `idc = H_2(Ax, Ay)` of the public key `s * Base8`. */
export function identityCommitment(Ax: bigint, Ay: bigint): bigint {
  return poseidon([Ax, Ay]);
}

/** Precommitment `P = H_3(TAG_PRECOMMIT, idc, blinding)`: what a depositor sends. */
export function precommitment(idc: bigint, blinding: bigint): bigint {
  return poseidon([TAGS.precommitment, idc, blinding]);
}

/** Note commitment `C = H_3(TAG_NOTE, P, value)` (computed by the contract on deposit). `value < 2^64`. */
export function noteCommitment(P: bigint, value: bigint): bigint {
  assertBits(value, BITS.value, "note value");
  return poseidon([TAGS.note, P, value]);
}

/** Nullifier `nf = H_4(TAG_NULLIFIER, C, leafIndex, s)` of the note `C` at `leafIndex`, owned by secret `s`. */
export function nullifier(C: bigint, leafIndex: bigint, secretScalar: bigint): bigint {
  if (secretScalar < 0n || secretScalar >= BABYJUB_SUBGROUP_ORDER) {
    throw new InvalidInputError("identity secret scalar must be below the Baby Jubjub subgroup order l");
  }
  return poseidon([TAGS.nullifier, C, leafIndex, secretScalar]);
}

/** Session id `H_3(TAG_SESSION, stationNonce, driverNonce)`; both nonces fresh 128-bit random values. */
export function sessionId(stationNonce: bigint, driverNonce: bigint): bigint {
  assertBits(stationNonce, 128, "station nonce");
  assertBits(driverNonce, 128, "driver nonce");
  return poseidon([TAGS.session, stationNonce, driverNonce]);
}

/** Meter leaf `H_5(TAG_METER, Ax, Ay, cpoId, ratedPowerW)` for the meter's EdDSA public key `(Ax, Ay)`. */
export function meterLeaf(Ax: bigint, Ay: bigint, cpoId: bigint, ratedPowerW: bigint): bigint {
  assertBits(ratedPowerW, BITS.ratedPower, "ratedPowerW");
  return poseidon([TAGS.meter, Ax, Ay, cpoId, ratedPowerW]);
}

/**
 * OCPI `min_duration` / `max_duration` as the session-bill circuit prices it: one instant, `seconds` after the
 * session's first chain point (the meter takes a chain point there), from which each dimension the limit sets is
 * billed at that one price instead of its time-of-day band price (OCPI: "When the duration of a Charging Session is
 * longer than the defined value, this TariffElement is or becomes active"). A dimension it leaves unset keeps its
 * band prices. Each price `< 2^32`, in the units of the tariff's band prices.
 */
export interface DurationLimit {
  /** Seconds after the session's first chain point, `1 <= seconds < 2^32` (inclusive: an interval that starts there is after it). */
  seconds: bigint;
  /** Energy price per kWh from the limit on; absent: the band energy prices continue. */
  energyPrice?: bigint;
  /** Charging-time price per hour from the limit on; absent: the band time prices continue. */
  timePricePerHour?: bigint;
  /** Parking-time price per hour from the limit on (a blocking fee); absent: the band parking prices continue. */
  parkingPricePerHour?: bigint;
}

/**
 * A duration limit as five integers, the one layout the registry's `Tariff.durationLimit`, the circuits'
 * `durationLimit[5]` input and the tariff hash share: `[seconds, energyPrice, timePricePerHour, parkingPricePerHour,
 * sets]`, where bit 0 / 1 / 2 of `sets` says the limit sets the energy / time / parking price (an unset price is 0).
 * No limit is all zeros.
 */
export function durationLimitWords(
  limit: DurationLimit | undefined,
): readonly [bigint, bigint, bigint, bigint, bigint] {
  if (!limit) return [0n, 0n, 0n, 0n, 0n];
  const sets =
    (limit.energyPrice !== undefined ? 1n : 0n) |
    (limit.timePricePerHour !== undefined ? 2n : 0n) |
    (limit.parkingPricePerHour !== undefined ? 4n : 0n);
  return [limit.seconds, limit.energyPrice ?? 0n, limit.timePricePerHour ?? 0n, limit.parkingPricePerHour ?? 0n, sets];
}

/** The limit from its five integers ({@link durationLimitWords}), `undefined` when there is none. */
export function durationLimitFromWords(words: readonly bigint[]): DurationLimit | undefined {
  const [seconds, energyPrice, timePricePerHour, parkingPricePerHour, sets] = words as readonly bigint[];
  if (!seconds) return undefined;
  return {
    seconds,
    ...(sets! & 1n ? { energyPrice: energyPrice! } : {}),
    ...(sets! & 2n ? { timePricePerHour: timePricePerHour! } : {}),
    ...(sets! & 4n ? { parkingPricePerHour: parkingPricePerHour! } : {}),
  };
}

/** The tariff fields the tariff hash covers (sdk/tariff's `Tariff` has exactly these). */
export interface TariffHashFields {
  cpoId: bigint;
  flatFee: bigint;
  energyPrice: readonly [bigint, bigint, bigint, bigint];
  bandStart: readonly [bigint, bigint, bigint, bigint];
  timePricePerHour: readonly [bigint, bigint, bigint, bigint];
  parkingPricePerHour: readonly [bigint, bigint, bigint, bigint];
  minPrice: bigint;
  maxPrice: bigint;
  tzOffset: bigint;
  validFrom: bigint;
  validTo: bigint;
  stepSize: readonly [bigint, bigint, bigint];
  durationLimit?: DurationLimit;
}

/**
 * Tariff hash `H_5(TAG_TARIFF, H_5(cpoId, flatFee, minPrice, maxPrice, steps), H_5(energyPrice[0..3], tzOffset),
 * H_5(timePricePerHour[0..3], H_5(parkingPricePerHour[0..3], limit)), H_5(bandStart[1..3], validFrom, validTo))`,
 * with `steps = stepSize[0] + stepSize[1] * 2^33 + stepSize[2] * 2^66` (each step 1..2^32) and
 * `limit = w[0] + w[1] * 2^32 + w[2] * 2^64 + w[3] * 2^96 + w[4] * 2^128` over the duration limit's words `w`
 * ({@link durationLimitWords}: four values below 2^32 and a 3-bit mask), so both packings are injective.
 * `bandStart[0]` (always 0) is not hashed. Call `validateTariff` first: this only hashes.
 */
export function tariffHash(tariff: TariffHashFields): bigint {
  const [energyStep, timeStep, parkingStep] = tariff.stepSize;
  const steps = energyStep + (timeStep << 33n) + (parkingStep << 66n);
  const [w0, w1, w2, w3, w4] = durationLimitWords(tariff.durationLimit);
  const limit = w0 + (w1 << 32n) + (w2 << 64n) + (w3 << 96n) + (w4 << 128n);
  const a = poseidon([tariff.cpoId, tariff.flatFee, tariff.minPrice, tariff.maxPrice, steps]);
  const b = poseidon([...tariff.energyPrice, tariff.tzOffset]);
  const c = poseidon([...tariff.timePricePerHour, poseidon([...tariff.parkingPricePerHour, limit])]);
  const d = poseidon([tariff.bandStart[1], tariff.bandStart[2], tariff.bandStart[3], tariff.validFrom, tariff.validTo]);
  return poseidon([TAGS.tariff, a, b, c, d]);
}

/** Chain start `H_0 = H_5(TAG_CHAIN_START, sessionId, cpoId, meterLeaf, tariffHash)`. */
export function chainStart(sessionId: bigint, cpoId: bigint, meterLeaf: bigint, tariffHash: bigint): bigint {
  return poseidon([TAGS.chainStart, sessionId, cpoId, meterLeaf, tariffHash]);
}

/** Chain step `H_i = H_4(TAG_CHAIN_STEP, H_{i-1}, t_i, e_i)` for chain point `(t_i, e_i)`. */
export function chainStep(prev: bigint, t: bigint, e: bigint): bigint {
  return poseidon([TAGS.chainStep, prev, t, e]);
}

/**
 * Session end record `final = H_4(TAG_FINAL, H_n, n, ocmfDigest)`: what the meter signs when the session ends.
 * `ocmfDigest` is {@link ocmfDigest} of the OCMF records a gateway signed the chain from, 0 for a meter's own chain.
 */
export function chainFinal(Hn: bigint, n: bigint, ocmfDigestValue: bigint): bigint {
  return poseidon([TAGS.chainFinal, Hn, n, ocmfDigestValue]);
}

/** Live tail `H_4(TAG_LIVE, H_k, t, e)`: a signed reading after chain point `k` that never extends the chain. */
export function liveTail(Hk: bigint, t: bigint, e: bigint): bigint {
  return poseidon([TAGS.chainLive, Hk, t, e]);
}

/** The external data a transaction binds through `extDataHash`. Byte fields are `Uint8Array` or 0x-hex. */
export interface ExtData {
  /** EVM chain id. */
  chainId: bigint;
  /** Pool contract address. */
  pool: string;
  /** Address that receives the withdrawn / paid tokens. */
  recipient: string;
  /** Address of the relayer that submits the transaction (zero address if none). */
  relayer: string;
  /** Signed token amount entering (> 0) or leaving (< 0) the pool. */
  extAmount: bigint;
  /** Encrypted opening of the first output note. */
  encryptedOutput1: Uint8Array | string;
  /** Encrypted opening of the second output note. */
  encryptedOutput2: Uint8Array | string;
}

/** Ext data as the pool contract takes it: {@link ExtData} without the chain id and pool it is bound to. */
export type PoolExtData = Omit<ExtData, "chainId" | "pool" | "encryptedOutput1" | "encryptedOutput2"> & {
  /** Encrypted opening of the first output note, 0x-hex. */
  encryptedOutput1: string;
  /** Encrypted opening of the second output note, 0x-hex. */
  encryptedOutput2: string;
};

/**
 * `uint256(keccak256(abi.encode(uint256 chainId, address pool, address recipient, address relayer,
 * int256 extAmount, bytes encryptedOutput1, bytes encryptedOutput2))) mod r`.
 * @throws InvalidInputError on a malformed address, a negative chain id or an extAmount outside int256
 */
export function extDataHash(ext: ExtData): bigint {
  for (const k of ["pool", "recipient", "relayer"] as const) {
    if (!isAddress(ext[k])) throw new InvalidInputError(`extData.${k} = ${ext[k]} is not an address`);
  }
  if (ext.chainId < 0n) throw new InvalidInputError(`extData.chainId = ${ext.chainId} is negative`);
  if (ext.extAmount >= 1n << 255n || ext.extAmount < -(1n << 255n)) {
    throw new InvalidInputError(`extData.extAmount = ${ext.extAmount} does not fit int256`);
  }
  const bytes = (b: Uint8Array | string, what: string): string => {
    try {
      return hexlify(getBytes(b));
    } catch {
      throw new InvalidInputError(`extData.${what} is neither bytes nor 0x-hex`);
    }
  };
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["uint256", "address", "address", "address", "int256", "bytes", "bytes"],
    [
      ext.chainId,
      ext.pool,
      ext.recipient,
      ext.relayer,
      ext.extAmount,
      bytes(ext.encryptedOutput1, "encryptedOutput1"),
      bytes(ext.encryptedOutput2, "encryptedOutput2"),
    ],
  );
  return BigInt(keccak256(encoded)) % FIELD_MODULUS;
}

/** Domain separator of {@link ocmfDigest}: the ASCII bytes the hashed message starts with. */
export const OCMF_DIGEST_DOMAIN = "zkcharge.ocmf.v1";

/** `n` as 4 bytes, big-endian. */
function uint32be(n: number): Uint8Array {
  return new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/**
 * OCMF digest: one field element committing to the exact signed bytes of OCMF records, in order.
 * `uint256(SHA-256("zkcharge.ocmf.v1" || u32be(count) || for each record: u32be(len) || payload)) mod r`,
 * where `payload` is the record's payload section as written (the UTF-8 bytes its signature covers) and `len` its
 * length in bytes. The count and length prefixes make the encoding injective (no two lists share a message).
 * SHA-256 because the circuit carries the digest as one signed value and never recomputes it, while anyone
 * holding the records recomputes it with standard tools; docs/ocmf.md, "Gateway".
 * @throws InvalidInputError if there is no record or one is 2^32 bytes or longer
 */
export function ocmfDigest(payloads: readonly Uint8Array[]): bigint {
  if (payloads.length === 0) throw new InvalidInputError("an OCMF digest needs at least one record");
  const domain = new TextEncoder().encode(OCMF_DIGEST_DOMAIN);
  const parts: Uint8Array[] = [domain, uint32be(payloads.length)];
  for (const [i, p] of payloads.entries()) {
    if (p.length >= 2 ** 32) throw new InvalidInputError(`OCMF record ${i}: payload of ${p.length} bytes is too long`);
    parts.push(uint32be(p.length), p);
  }
  const message = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    message.set(p, at);
    at += p.length;
  }
  return BigInt(hexlify(sha256(message))) % FIELD_MODULUS;
}
