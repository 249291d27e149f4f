/**
 * The scrypt cost of the key stores (both the driver's wallet and the ethers account keystores), checked once here:
 * what a new file is written with, and the bound on what a file may ask for when it is opened (a file naming
 * N = 2^40 must fail at once, not exhaust the machine).
 */
import { InvalidInputError } from "../core/errors.ts";

/** scrypt's cost parameters (RFC 7914): `N` CPU and memory cost (a power of two), `r` block size, `p` parallelism. */
export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/**
 * The default for every new key file: N = 2^17, r = 8, p = 1, i.e. 128 MiB of memory and about a second of CPU per
 * unlock on a laptop (the ethers / geth "standard" cost, above OWASP's N = 2^17 minimum for scrypt).
 */
export const SCRYPT_DEFAULT: ScryptCost = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

/** A cheap cost for tests only (N = 2^10: about a millisecond, no protection against guessing). */
export const SCRYPT_TEST_ONLY: ScryptCost = Object.freeze({ N: 2 ** 10, r: 8, p: 1 });

/** The largest cost a file may ask for: N up to 2^20 (1 GiB at r = 8), r up to 32, p up to 16, memory up to 2 GiB. */
const MAX_LOG_N = 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEMORY = 2 ** 31;

/** Bytes of memory scrypt needs for `cost` (128 * N * r, plus 128 * r * p). */
export function scryptMemory(cost: ScryptCost): number {
  return 128 * cost.r * (cost.N + cost.p);
}

/**
 * Why `cost` is not acceptable, or undefined when it is: N a power of two in 2^1..2^20, r in 1..32, p in 1..16, at
 * most 2 GiB of memory.
 */
export function scryptCostProblem(cost: { N: unknown; r: unknown; p: unknown }): string | undefined {
  const { N, r, p } = cost;
  const whole = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x);
  if (!whole(N) || N < 2 || (N & (N - 1)) !== 0 || N > 2 ** MAX_LOG_N)
    return `scrypt N must be a power of two from 2 to 2^${MAX_LOG_N}, got ${JSON.stringify(N)}`;
  if (!whole(r) || r < 1 || r > MAX_R) return `scrypt r must be a whole number 1..${MAX_R}, got ${JSON.stringify(r)}`;
  if (!whole(p) || p < 1 || p > MAX_P) return `scrypt p must be a whole number 1..${MAX_P}, got ${JSON.stringify(p)}`;
  if (scryptMemory({ N, r, p }) > MAX_MEMORY) return `scrypt N * r needs more than 2 GiB of memory (N ${N}, r ${r})`;
  return undefined;
}

/** @throws InvalidInputError if `cost` is not acceptable for a new file */
export function checkScryptCost(cost: ScryptCost): ScryptCost {
  const problem = scryptCostProblem(cost);
  if (problem) throw new InvalidInputError(problem);
  return { N: cost.N, r: cost.r, p: cost.p };
}

/** The passphrase as scrypt takes it: NFKC-normalised (as ethers does), so the same words typed anywhere open the file. */
export function normalisePassphrase(passphrase: string): string {
  if (typeof passphrase !== "string" || passphrase.length === 0)
    throw new InvalidInputError("the passphrase is empty: a key file needs one");
  return passphrase.normalize("NFKC");
}
