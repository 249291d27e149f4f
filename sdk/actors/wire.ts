/**
 * Wire primitives shared by zkcharge's HTTP APIs (the relayer's, relayerApi.ts; the station's, stationApi.ts):
 * every integer travels as a decimal string (bigints do not survive `JSON.stringify`), proofs as snarkjs writes
 * them, the pool's ext data with 0x-hex bytes. Each schema parses to the SDK's own types.
 */
import { isAddress } from "ethers";
import { z } from "zod";
import type { Groth16Proof } from "../../prover/index.ts";

const MAX_UINT = 78; // digits of 2^256
export const uint = z
  .string()
  .regex(/^(0|[1-9][0-9]*)$/, "must be a non-negative decimal integer string")
  .max(MAX_UINT)
  .transform((s) => BigInt(s))
  .refine((v) => v < 1n << 256n, "must fit uint256");
export const int = z
  .string()
  .regex(/^-?(0|[1-9][0-9]*)$/, "must be a decimal integer string")
  .max(MAX_UINT + 1)
  .transform((s) => BigInt(s))
  .refine((v) => v < 1n << 255n && v >= -(1n << 255n), "must fit int256");
export const address = z.string().refine((a) => isAddress(a), "must be a 0x address");
export const hexBytes = z
  .string()
  .max(16_384)
  .regex(/^0x([0-9a-fA-F]{2})*$/, "must be 0x-hex bytes");
/** `{name: decimal string}` for each of `names`. */
export function signals<N extends string>(names: readonly N[]) {
  return z.object(Object.fromEntries(names.map((n) => [n, uint])) as Record<N, typeof uint>).strict();
}

export const groth16 = z
  .object({
    pi_a: z.tuple([uint, uint, uint]),
    pi_b: z.tuple([z.tuple([uint, uint]), z.tuple([uint, uint]), z.tuple([uint, uint])]),
    pi_c: z.tuple([uint, uint, uint]),
    protocol: z.literal("groth16"),
    curve: z.literal("bn128"),
  })
  .transform((p): Groth16Proof => ({
    pi_a: [String(p.pi_a[0]), String(p.pi_a[1]), String(p.pi_a[2])],
    pi_b: p.pi_b.map(([x, y]) => [String(x), String(y)]) as Groth16Proof["pi_b"],
    pi_c: [String(p.pi_c[0]), String(p.pi_c[1]), String(p.pi_c[2])],
    protocol: "groth16",
    curve: p.curve,
  }));

export const extData = z
  .object({
    recipient: address,
    relayer: address,
    extAmount: int,
    encryptedOutput1: hexBytes,
    encryptedOutput2: hexBytes,
  })
  .strict();

/** Every API's error answer: a machine code and a message for people. */
export const apiErrorSchema = z.object({ error: z.string(), message: z.string() });

/** Replaces every bigint in `value` by its decimal string (the wire form of every schema above). */
export function toWire(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  }
  return value;
}

/** The first problem zod found, as `path: message`. */
export function describeZodIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid request";
  const path = issue.path.length > 0 ? issue.path.join(".") : "body";
  return `${path}: ${issue.message}`;
}
