/**
 * BN254 scalar-field helpers: range checks, uniform random elements, fixed-width byte encoding.
 */
import { FIELD_MODULUS } from "./constants.ts";
import { InvalidInputError } from "./errors.ts";

/** True when `x` is a canonical field element: `0 <= x < r`. */
export function isFieldElement(x: bigint): boolean {
  return x >= 0n && x < FIELD_MODULUS;
}

/**
 * Throws {@link InvalidInputError} unless `x` is a canonical field element.
 * @param x the value to check
 * @param what name of the value, used in the error message
 */
export function assertFieldElement(x: bigint, what: string): void {
  if (typeof x !== "bigint") throw new InvalidInputError(`${what} must be a bigint, got ${typeof x}`);
  if (!isFieldElement(x)) throw new InvalidInputError(`${what} = ${x} is not a field element (must be 0 <= x < r)`);
}

/**
 * Throws {@link InvalidInputError} unless `0 <= x < 2^bits`.
 * @param x the value to check
 * @param bits bit width the value must fit in
 * @param what name of the value, used in the error message
 */
export function assertBits(x: bigint, bits: number, what: string): void {
  if (typeof x !== "bigint") throw new InvalidInputError(`${what} must be a bigint, got ${typeof x}`);
  if (x < 0n) throw new InvalidInputError(`${what} = ${x} is negative`);
  if (x >> BigInt(bits) !== 0n)
    throw new InvalidInputError(`${what} = ${x} does not fit in ${bits} bits (max 2^${bits}-1)`);
}

/** Uniformly random integer in `[0, 2^bits)` from the platform CSPRNG. */
export function randomBits(bits: number): bigint {
  const bytes = new Uint8Array(Math.ceil(bits / 8));
  crypto.getRandomValues(bytes);
  return bytesToBigint(bytes) & ((1n << BigInt(bits)) - 1n);
}

/** Uniformly random field element in `[0, r)` (rejection sampling over 254-bit draws, no modular bias). */
export function randomFieldElement(): bigint {
  for (;;) {
    const x = randomBits(254);
    if (x < FIELD_MODULUS) return x;
  }
}

/** Big-endian bytes to an unsigned integer. */
export function bytesToBigint(bytes: Uint8Array): bigint {
  let x = 0n;
  for (const b of bytes) x = (x << 8n) | BigInt(b);
  return x;
}

/**
 * Unsigned integer to exactly `length` big-endian bytes.
 * @throws InvalidInputError if `x` is negative or does not fit
 */
export function bigintToBytes(x: bigint, length: number): Uint8Array {
  if (x < 0n || x >> BigInt(8 * length) !== 0n) {
    throw new InvalidInputError(`${x} does not fit in ${length} bytes`);
  }
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}
