/**
 * The signature algorithms OCMF names (OCMF 1.2, Table 22) and the key and signature encodings meters use.
 *
 * Curve arithmetic is `@noble/curves`; this file only supplies the two curves noble does not ship (secp192k1 and
 * secp192r1, parameters from SEC 2) and binds every curve to the hash OCMF prescribes, which is SHA-256 for all seven
 * algorithms, including the 384-bit curves (noble's own `p384` / `brainpoolP384r1` default to SHA-384, so they are
 * rebuilt here over SHA-256). Browser-safe: no Node built-ins.
 */
import { ecdsa, weierstrass, type ECDSA } from "@noble/curves/abstract/weierstrass.js";
import { brainpoolP256r1, brainpoolP384r1 } from "@noble/curves/misc.js";
import { p256, p384 } from "@noble/curves/nist.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";

/** The OCMF signature algorithm identifiers (SA), OCMF 1.2 Table 22. */
export const OCMF_ALGORITHMS = [
  "ECDSA-secp192k1-SHA256",
  "ECDSA-secp256k1-SHA256",
  "ECDSA-secp192r1-SHA256",
  "ECDSA-secp256r1-SHA256",
  "ECDSA-brainpool256r1-SHA256",
  "ECDSA-secp384r1-SHA256",
  "ECDSA-brainpool384r1-SHA256",
] as const;

/** One of {@link OCMF_ALGORITHMS}. */
export type OcmfAlgorithm = (typeof OCMF_ALGORITHMS)[number];

/** The algorithm in effect when a record's signature section omits SA (OCMF 1.2 Table 22: default since 0.4). */
export const OCMF_DEFAULT_ALGORITHM: OcmfAlgorithm = "ECDSA-secp256r1-SHA256";

/** Curve names as OCMF spells them (Table 23 without the "ECDSA-" prefix). */
export type OcmfCurve =
  "secp192k1" | "secp256k1" | "secp192r1" | "secp256r1" | "brainpool256r1" | "secp384r1" | "brainpool384r1";

// SEC 2: Recommended Elliptic Curve Domain Parameters, version 2.0 (Certicom, 2010), section 2.2.1.
const secp192k1Point = weierstrass({
  p: 0xfffffffffffffffffffffffffffffffffffffffeffffee37n,
  n: 0xfffffffffffffffffffffffe26f2fc170f69466a74defd8dn,
  h: 1n,
  a: 0n,
  b: 3n,
  Gx: 0xdb4ff10ec057e9ae26b07d0280b7f4341da5d1b1eae06c7dn,
  Gy: 0x9b2f2f6d9c5628a7844163d015be86344082aa88d95e2f9dn,
});

// SEC 2 version 2.0, section 2.2.2 (identical to NIST P-192, FIPS 186-4 D.1.2.1, and ANSI X9.62 prime192v1).
const secp192r1Point = weierstrass({
  p: 0xfffffffffffffffffffffffffffffffeffffffffffffffffn,
  n: 0xffffffffffffffffffffffff99def836146bc9b1b4d22831n,
  h: 1n,
  a: 0xfffffffffffffffffffffffffffffffefffffffffffffffcn,
  b: 0x64210519e59c80e70fa7e9ab72243049feb8deecc146b9b1n,
  Gx: 0x188da80eb03090f67cbf20eb43a18800f4ff0afd82ff1012n,
  Gy: 0x07192b95ffc8da78631011ed6b24cdd573f977a11e794811n,
});

interface CurveInfo {
  /** ECDSA over the curve with SHA-256 as message hash (the hash is applied by noble: `prehash: true`). */
  readonly ecdsa: ECDSA;
  /** Scalar (and coordinate) size in bytes. */
  readonly size: number;
  /** The namedCurve OID of the curve in a SubjectPublicKeyInfo (RFC 5480, SEC 2 A.2, RFC 5639 4.1). */
  readonly oid: string;
}

// lowS: false on every instance: OCMF meters (like OpenSSL) produce both halves of s, and ECDSA accepts both.
const CURVES: Record<OcmfCurve, CurveInfo> = {
  secp192k1: { ecdsa: ecdsa(secp192k1Point, sha256, { lowS: false }), size: 24, oid: "1.3.132.0.31" },
  secp256k1: { ecdsa: ecdsa(secp256k1.Point, sha256, { lowS: false }), size: 32, oid: "1.3.132.0.10" },
  secp192r1: { ecdsa: ecdsa(secp192r1Point, sha256, { lowS: false }), size: 24, oid: "1.2.840.10045.3.1.1" },
  secp256r1: { ecdsa: ecdsa(p256.Point, sha256, { lowS: false }), size: 32, oid: "1.2.840.10045.3.1.7" },
  brainpool256r1: {
    ecdsa: ecdsa(brainpoolP256r1.Point, sha256, { lowS: false }),
    size: 32,
    oid: "1.3.36.3.3.2.8.1.1.7",
  },
  secp384r1: { ecdsa: ecdsa(p384.Point, sha256, { lowS: false }), size: 48, oid: "1.3.132.0.34" },
  brainpool384r1: {
    ecdsa: ecdsa(brainpoolP384r1.Point, sha256, { lowS: false }),
    size: 48,
    oid: "1.3.36.3.3.2.8.1.1.11",
  },
};

/** The curve an OCMF algorithm identifier names. */
export function curveOf(algorithm: OcmfAlgorithm): OcmfCurve {
  return algorithm.split("-")[1] as OcmfCurve;
}

/** Whether `sa` is one of the identifiers OCMF defines (exact spelling, case-sensitive). */
export function isOcmfAlgorithm(sa: string): sa is OcmfAlgorithm {
  return (OCMF_ALGORITHMS as readonly string[]).includes(sa);
}

/** Thrown by the decoders below; `reason` says which encoding rule broke. */
export class OcmfEncodingError extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Byte encodings

/** Hex (either case, even length) to bytes. */
export function hexToBytes(hex: string, what: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new OcmfEncodingError(`${what} is not hex`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Standard base64 (RFC 4648 section 4, padding required) to bytes. */
export function base64ToBytes(text: string, what: string): Uint8Array {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text))
    throw new OcmfEncodingError(`${what} is not base64`);
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Bytes to lower-case hex. */
export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------------------------------------------------------------------
// DER (only what SubjectPublicKeyInfo and ECDSA-Sig-Value need; X.690 section 10 distinguished encoding)

interface Tlv {
  tag: number;
  value: Uint8Array;
  /** Offset just past this element. */
  end: number;
}

function readTlv(bytes: Uint8Array, at: number, what: string): Tlv {
  if (at + 2 > bytes.length) throw new OcmfEncodingError(`${what}: truncated DER`);
  const tag = bytes[at];
  let len = bytes[at + 1];
  let pos = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    // DER: long form only for lengths >= 128, with no leading zero byte; never the indefinite form.
    if (n === 0 || n > 2 || pos + n > bytes.length) throw new OcmfEncodingError(`${what}: bad DER length`);
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | bytes[pos + i];
    if (len < 0x80 || bytes[pos] === 0) throw new OcmfEncodingError(`${what}: non-minimal DER length`);
    pos += n;
  }
  if (pos + len > bytes.length) throw new OcmfEncodingError(`${what}: truncated DER`);
  return { tag, value: bytes.subarray(pos, pos + len), end: pos + len };
}

function decodeOid(value: Uint8Array): string {
  const parts: number[] = [];
  let acc = 0;
  for (const b of value) {
    acc = acc * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) parts.push(acc < 80 ? Math.floor(acc / 40) : 2, acc < 80 ? acc % 40 : acc - 80);
      else parts.push(acc);
      acc = 0;
    }
  }
  return parts.join(".");
}

const EC_PUBLIC_KEY_OID = "1.2.840.10045.2.1"; // id-ecPublicKey, RFC 5480 section 2.1.1

/** A public key as the registry holds it, decoded: the SEC 1 point and, from an SPKI, the curve it names. */
export interface DecodedPublicKey {
  readonly point: Uint8Array;
  /** The curve named in the SubjectPublicKeyInfo; undefined for a raw point (the record's SA decides). */
  readonly curve?: OcmfCurve;
}

/**
 * Decodes a public key in one of the encodings meters and registries publish:
 * - DER SubjectPublicKeyInfo (RFC 5480, namedCurve only), as hex or base64 (OCPP 2.0.1 `publicKey` is base64);
 * - a raw SEC 1 point as hex: `04‖x‖y`, compressed `02/03‖x`, or bare `x‖y` (the prefix added).
 */
export function decodePublicKey(key: string | Uint8Array): DecodedPublicKey {
  let bytes: Uint8Array;
  if (typeof key !== "string") bytes = key;
  else {
    const text = key.trim().replace(/^0x/i, "");
    bytes =
      /^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0
        ? hexToBytes(text, "public key")
        : base64ToBytes(text, "public key");
  }
  if (bytes[0] !== 0x30) return { point: bytes };
  const spki = readTlv(bytes, 0, "public key");
  if (spki.end !== bytes.length) throw new OcmfEncodingError("public key: trailing bytes after SubjectPublicKeyInfo");
  const alg = readTlv(spki.value, 0, "public key algorithm");
  const bits = readTlv(spki.value, alg.end, "public key bits");
  if (alg.tag !== 0x30 || bits.tag !== 0x03 || bits.end !== spki.value.length)
    throw new OcmfEncodingError("public key: not a SubjectPublicKeyInfo");
  const algOid = readTlv(alg.value, 0, "public key algorithm");
  if (algOid.tag !== 0x06 || decodeOid(algOid.value) !== EC_PUBLIC_KEY_OID)
    throw new OcmfEncodingError("public key: not an EC key (id-ecPublicKey)");
  const curveOid = readTlv(alg.value, algOid.end, "public key curve");
  if (curveOid.tag !== 0x06)
    throw new OcmfEncodingError("public key: explicit curve parameters are not accepted, only a named curve");
  const oid = decodeOid(curveOid.value);
  const curve = (Object.keys(CURVES) as OcmfCurve[]).find((c) => CURVES[c].oid === oid);
  if (!curve) throw new OcmfEncodingError(`public key: curve OID ${oid} is none of OCMF's curves`);
  if (bits.value[0] !== 0) throw new OcmfEncodingError("public key: BIT STRING with unused bits");
  return { point: bits.value.subarray(1), curve };
}

/** The key's point in SEC 1 form for `curve`, a bare `x‖y` given its `04` prefix. */
function sec1Point(point: Uint8Array, curve: OcmfCurve): Uint8Array {
  const size = CURVES[curve].size;
  if (point.length === 2 * size) return Uint8Array.of(0x04, ...point);
  return point;
}

/** Strict DER ECDSA-Sig-Value (RFC 5480 / X9.62: SEQUENCE { r INTEGER, s INTEGER }) to fixed-width r‖s. */
function derSignatureToCompact(sig: Uint8Array, size: number, lenient: boolean): Uint8Array {
  const seq = readTlv(sig, 0, "signature");
  if (seq.tag !== 0x30 || seq.end !== sig.length) throw new OcmfEncodingError("signature: not one DER SEQUENCE");
  const r = readTlv(seq.value, 0, "signature r");
  const s = readTlv(seq.value, r.end, "signature s");
  if (s.end !== seq.value.length) throw new OcmfEncodingError("signature: trailing bytes in SEQUENCE");
  const out = new Uint8Array(2 * size);
  [r, s].forEach((int, i) => {
    if (int.tag !== 0x02 || int.value.length === 0) throw new OcmfEncodingError("signature: r and s must be INTEGERs");
    if (int.value[0] & 0x80) throw new OcmfEncodingError("signature: negative INTEGER");
    let v = int.value;
    if (v.length > 1 && v[0] === 0) {
      // A leading zero is allowed only before a byte with the high bit set (X.690 8.3.2); lenient mode strips extras.
      if (!(v[1] & 0x80) && !lenient) throw new OcmfEncodingError("signature: non-minimal INTEGER");
      while (v.length > 1 && v[0] === 0) v = v.subarray(1);
    }
    if (v.length > size) throw new OcmfEncodingError("signature: INTEGER wider than the curve order");
    out.set(v, i * size + size - v.length);
  });
  return out;
}

/** Options for {@link verifyEcdsa}. */
export interface SignatureOptions {
  /**
   * Accept what some meters emit besides strict DER: a bare fixed-width r‖s, and DER integers padded with extra
   * leading zeros. Off by default: the spec says DER (SM `application/x-der`).
   */
  readonly lenientSignature?: boolean;
}

/**
 * Verifies an OCMF signature: ECDSA over SHA-256 of `message` (the payload bytes as written).
 * @returns true or false for a well-formed signature and key
 * @throws OcmfEncodingError when the key or signature is malformed or the key's curve is not the algorithm's
 */
export function verifyEcdsa(
  algorithm: OcmfAlgorithm,
  signature: Uint8Array,
  message: Uint8Array,
  key: DecodedPublicKey,
  options: SignatureOptions = {},
): boolean {
  const curve = curveOf(algorithm);
  if (key.curve && key.curve !== curve)
    throw new OcmfEncodingError(`public key is on ${key.curve} but SA names ${algorithm}`);
  const info = CURVES[curve];
  const lenient = options.lenientSignature ?? false;
  const compact =
    lenient && signature.length === 2 * info.size && signature[0] !== 0x30
      ? signature
      : derSignatureToCompact(signature, info.size, lenient);
  const point = sec1Point(key.point, curve);
  try {
    info.ecdsa.Point.fromBytes(point).assertValidity();
  } catch {
    throw new OcmfEncodingError(`public key is not a point on ${curve}`);
  }
  try {
    return info.ecdsa.verify(compact, message, point, { prehash: true, lowS: false, format: "compact" });
  } catch {
    return false; // r or s out of range: a signature that does not verify
  }
}

/**
 * Signs like an OCMF meter (for tests and simulators): DER ECDSA over SHA-256 of `message`.
 * @param secretKey the meter's private scalar, big-endian, curve size
 */
export function signEcdsa(algorithm: OcmfAlgorithm, message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return CURVES[curveOf(algorithm)].ecdsa.sign(message, secretKey, { prehash: true, lowS: false, format: "der" });
}

/** A fresh key pair on the algorithm's curve: secret scalar and uncompressed SEC 1 public point. */
export function ocmfKeygen(algorithm: OcmfAlgorithm): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const e = CURVES[curveOf(algorithm)].ecdsa;
  const secretKey = e.utils.randomSecretKey();
  return { secretKey, publicKey: e.getPublicKey(secretKey, false) };
}
