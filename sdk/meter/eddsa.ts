/**
 * EdDSA-Poseidon on Baby Jubjub, in one place: circomlib's scheme (what the circuits' `EdDSAPoseidonVerifier`
 * checks), with the key and nonce derivation of `@zk-kit/eddsa-poseidon` 1.x (BLAKE-512, pruned, `s >> 3`) and its
 * Poseidon-5 challenge, so keys and signatures are the package's bit for bit (test/sdk/eddsa.test.ts checks it).
 *
 * The curve arithmetic is `@noble/curves`' Baby Jubjub (extended coordinates, a precomputed window table for
 * Base8 and for each meter key seen) and the hash `@noble/hashes`' BLAKE-512: about 1.3 ms a signature and 1.2 ms
 * a check here, against 70 ms each for the package, whose affine additions invert a field element each. A station
 * checks every reading of every session and a driver every reading of its own, so this is what lets one station
 * follow 50 sessions at a reading a second (docs/decisions.md). Only signing is secret-dependent: it uses noble's
 * constant-time multiplication; checks use the faster variable-time one.
 *
 * Stricter than the package, as strict as the circuit: coordinates and messages must be canonical (below the field
 * modulus; `S` below the subgroup order, as in the package), and a key of small order (8A = identity) is refused,
 * as circomlib's verifier refuses it. The package reduces a value at or above the modulus and accepts any key on
 * the curve, so it takes signatures no circuit would.
 */
import { babyjubjub } from "@noble/curves/misc.js";
import { blake512 } from "@noble/hashes/blake1.js";
import { poseidon5 } from "poseidon-lite/poseidon5";
import { BABYJUB_SUBGROUP_ORDER, FIELD_MODULUS } from "../core/constants.ts";
import { InvalidInputError } from "../core/errors.ts";

type CurvePoint = InstanceType<typeof babyjubjub.Point>;

/** circomlib's Base8 = 8 * the curve's generator: the base of every key and signature. */
const BASE8 = babyjubjub.Point.fromAffine({
  x: 5299619240641551281634865583518297030282874472190772894086521144482721001553n,
  y: 16950150798460657717958625567821834550301663161624707787222815936182638968203n,
}).precompute(8);

const l = BABYJUB_SUBGROUP_ORDER;
const { a: A_COEFF, d: D_COEFF } = babyjubjub.Point.CURVE();

/** `8 * key` with a window table, per meter key seen (bounded: a station sees its meters, a wallet a few). */
const keyTables = new Map<string, CurvePoint>();
const MAX_KEY_TABLES = 256;

/** Little-endian bytes as an integer. */
function fromLE(bytes: Uint8Array): bigint {
  let x = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(bytes[i]!);
  return x;
}

/** `x` as 32 little-endian bytes. */
function toLE32(x: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
}

/** The key's BLAKE-512 hash, its pruned scalar `s` (RFC 8032 pruning; the public key is `(s >> 3) * Base8`). */
function expandKey(privateKey: Uint8Array): { hash: Uint8Array; s: bigint } {
  if (!(privateKey instanceof Uint8Array)) throw new InvalidInputError("an EdDSA private key must be bytes");
  const hash = blake512(privateKey);
  const pruned = hash.slice(0, 32);
  pruned[0]! &= 0xf8;
  pruned[31]! &= 0x7f;
  pruned[31]! |= 0x40;
  return { hash, s: fromLE(pruned) };
}

function affine(p: CurvePoint): [bigint, bigint] {
  const { x, y } = p.toAffine();
  return [x, y];
}

/** `(x, y)` as a curve point if both are canonical and on the curve (the identity included), else null. */
function onCurve(p: readonly [bigint, bigint]): CurvePoint | null {
  const [x, y] = p;
  if (typeof x !== "bigint" || typeof y !== "bigint") return null;
  if (x < 0n || x >= FIELD_MODULUS || y < 0n || y >= FIELD_MODULUS) return null;
  const x2 = (x * x) % FIELD_MODULUS;
  const y2 = (y * y) % FIELD_MODULUS;
  if ((A_COEFF * x2 + y2) % FIELD_MODULUS !== (1n + ((D_COEFF * x2) % FIELD_MODULUS) * y2) % FIELD_MODULUS) return null;
  return babyjubjub.Point.fromAffine({ x, y });
}

/** `8 * key`, in the prime-order subgroup, with its window table (cached). */
function eightTimes(key: CurvePoint, coordinates: readonly [bigint, bigint]): CurvePoint {
  const id = `${coordinates[0]}:${coordinates[1]}`;
  let table = keyTables.get(id);
  if (!table) {
    table = key.double().double().double().precompute(6);
    if (keyTables.size >= MAX_KEY_TABLES) keyTables.delete(keyTables.keys().next().value!);
    keyTables.set(id, table);
  }
  return table;
}

/** A private key's signing function and public key, the key expanded once (the key stays in the closure). */
export interface EddsaSigner {
  /** `(Ax, Ay) = (s >> 3) * Base8`. */
  readonly publicKey: [bigint, bigint];
  /**
   * Signs field element `message`: `R8 = r * Base8` with `r = BLAKE-512(hash[32..64] || message) mod l`, and
   * `S = r + Poseidon(R8, A, message) * s mod l`.
   * @throws InvalidInputError if `message` is not a field element
   */
  sign(message: bigint): { R8: [bigint, bigint]; S: bigint };
}

/** The signer of an EdDSA-Poseidon private key (any bytes). */
export function eddsaSigner(privateKey: Uint8Array): EddsaSigner {
  const { hash, s } = expandKey(privateKey);
  const publicKey = affine(BASE8.multiply((s >> 3n) % l));
  const [Ax, Ay] = publicKey;
  const prefix = hash.slice(32, 64);
  return {
    publicKey,
    sign(message) {
      if (typeof message !== "bigint" || message < 0n || message >= FIELD_MODULUS) {
        throw new InvalidInputError("an EdDSA-Poseidon message must be a field element");
      }
      const nonce = new Uint8Array(64);
      nonce.set(prefix);
      nonce.set(toLE32(message), 32);
      const r = fromLE(blake512(nonce)) % l;
      const R8 = affine(BASE8.multiply(r));
      const challenge = poseidon5([R8[0], R8[1], Ax, Ay, message]);
      return { R8, S: (r + challenge * s) % l };
    },
  };
}

/**
 * True if `signature` is the holder of `publicKey`'s signature of `message`: `S * Base8 = R8 + 8 * H * A`, both
 * points on the curve, the key not of small order, every value canonical. Never throws.
 */
export function verifySignature(
  message: bigint,
  signature: { R8: readonly [bigint, bigint]; S: bigint },
  publicKey: readonly [bigint, bigint],
): boolean {
  try {
    const { R8, S } = signature;
    if (typeof message !== "bigint" || message < 0n || message >= FIELD_MODULUS) return false;
    if (typeof S !== "bigint" || S < 0n || S >= l) return false;
    const R = onCurve(R8);
    const A = onCurve(publicKey);
    if (!R || !A) return false;
    const A8 = eightTimes(A, publicKey);
    if (A8.is0()) return false; // a small-order key: the circuit's verifier refuses it (8A.x = 0), so do we
    const challenge = poseidon5([R8[0], R8[1], publicKey[0], publicKey[1], message]);
    // 8A has order dividing l, so H * 8A = (H mod l) * 8A: the package's (8H) * A exactly.
    const right = R.add(A8.multiplyUnsafe(challenge % l));
    return BASE8.multiplyUnsafe(S).equals(right);
  } catch {
    return false;
  }
}
