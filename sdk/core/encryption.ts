/**
 * Encryption of note openings to a recipient's x25519 public key (ECIES):
 * fresh ephemeral x25519 key, `HKDF-SHA256(shared, salt = ephPub || recipientPub)` -> key (32) || nonce (12),
 * ChaCha20-Poly1305. Wire format: `ephemeralPub (32) || ciphertext || tag (16)`.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { InvalidInputError } from "./errors.ts";
import { Note, NOTE_OPENING_BYTES } from "./note.ts";

const INFO = new TextEncoder().encode("zkcharge.note-encryption.v1");
const KEY_BYTES = 32;
const TAG_BYTES = 16;

/** Length of an encrypted note opening: 32 + 40 + 16 = 88 bytes. */
export const ENCRYPTED_NOTE_BYTES = KEY_BYTES + NOTE_OPENING_BYTES + TAG_BYTES;

/**
 * The format's two symmetric primitives. {@link NOBLE_PRIMITIVES} everywhere; a Node task worker opens many
 * ciphertexts with node:crypto's (sdk/node/workerKernels.ts: the same functions, natively; 12 µs against 25 µs for
 * one HKDF and one open, measured here; X25519 still dominates a trial decryption).
 */
export interface SymmetricPrimitives {
  /** HKDF-SHA256 (RFC 5869) of `length` bytes. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** ChaCha20-Poly1305 (RFC 8439) decryption of `ciphertext || tag`; throws when the tag does not verify. */
  chacha20Poly1305Open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array;
}

/** {@link SymmetricPrimitives} of @noble/hashes and @noble/ciphers (pure JavaScript, any platform). */
export const NOBLE_PRIMITIVES: SymmetricPrimitives = {
  hkdfSha256: (ikm, salt, info, length) => hkdf(sha256, ikm, salt, info, length),
  chacha20Poly1305Open: (key, nonce, sealed) => chacha20poly1305(key, nonce).decrypt(sealed),
};

function deriveKeyNonce(
  shared: Uint8Array,
  ephPub: Uint8Array,
  recipientPub: Uint8Array,
  primitives: SymmetricPrimitives = NOBLE_PRIMITIVES,
) {
  const okm = primitives.hkdfSha256(shared, new Uint8Array([...ephPub, ...recipientPub]), INFO, 44);
  return { key: okm.subarray(0, 32), nonce: okm.subarray(32, 44) };
}

/**
 * Encrypts `plaintext` to `recipientPublicKey`.
 * @throws InvalidInputError if the public key is not 32 bytes or is a low-order point
 */
export function encrypt(plaintext: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  if (recipientPublicKey.length !== KEY_BYTES) {
    throw new InvalidInputError(`recipient x25519 public key must be 32 bytes, got ${recipientPublicKey.length}`);
  }
  const eph = x25519.utils.randomSecretKey();
  const ephPub = x25519.getPublicKey(eph);
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(eph, recipientPublicKey);
  } catch {
    throw new InvalidInputError("recipient x25519 public key is invalid (low-order point)");
  }
  const { key, nonce } = deriveKeyNonce(shared, ephPub, recipientPublicKey);
  const sealed = chacha20poly1305(key, nonce).encrypt(plaintext);
  const out = new Uint8Array(KEY_BYTES + sealed.length);
  out.set(ephPub, 0);
  out.set(sealed, KEY_BYTES);
  return out;
}

/** Opens `ephPub || sealed` with the ECDH secret `shared` (the step after the key agreement); null if it fails. */
function open(
  shared: Uint8Array,
  ciphertext: Uint8Array,
  recipientPub: Uint8Array,
  primitives: SymmetricPrimitives = NOBLE_PRIMITIVES,
): Uint8Array | null {
  try {
    const ephPub = ciphertext.subarray(0, KEY_BYTES);
    const { key, nonce } = deriveKeyNonce(shared, ephPub, recipientPub, primitives);
    return primitives.chacha20Poly1305Open(key, nonce, ciphertext.subarray(KEY_BYTES));
  } catch {
    return null;
  }
}

/**
 * Decrypts a ciphertext from {@link encrypt} with the recipient's secret key.
 * Returns `null` for anything that is not addressed to this key (wrong key, tampered, malformed): never throws,
 * so a wallet can try every on-chain ciphertext.
 */
export function decrypt(ciphertext: Uint8Array, recipientSecretKey: Uint8Array): Uint8Array | null {
  try {
    if (ciphertext.length < KEY_BYTES + TAG_BYTES) return null;
    const shared = x25519.getSharedSecret(recipientSecretKey, ciphertext.subarray(0, KEY_BYTES));
    return open(shared, ciphertext, x25519.getPublicKey(recipientSecretKey));
  } catch {
    return null;
  }
}

/** PKCS#8 DER prefix of a raw X25519 private key (RFC 8410), for WebCrypto's importKey. */
const X25519_PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);

/**
 * X25519 key agreement with one secret key for many public keys: WebCrypto where the platform has X25519 (Node 22,
 * current browsers; about 15x faster than the pure-JS curve), else, and for any key WebCrypto refuses, noble's.
 */
async function sharedSecrets(secretKey: Uint8Array, publicKeys: readonly Uint8Array[]): Promise<(Uint8Array | null)[]> {
  const noble = (pub: Uint8Array) => {
    try {
      return x25519.getSharedSecret(secretKey, pub);
    } catch {
      return null;
    }
  };
  const subtle = globalThis.crypto?.subtle;
  let key: CryptoKey | undefined;
  try {
    key = await subtle?.importKey(
      "pkcs8",
      new Uint8Array([...X25519_PKCS8_PREFIX, ...secretKey]),
      { name: "X25519" },
      false,
      ["deriveBits"],
    );
  } catch {
    key = undefined;
  }
  if (!subtle || !key) return publicKeys.map(noble);
  const one = async (pub: Uint8Array) => {
    try {
      const p = await subtle.importKey("raw", new Uint8Array(pub), { name: "X25519" }, false, []);
      return new Uint8Array(await subtle.deriveBits({ name: "X25519", public: p }, key, 256));
    } catch {
      return noble(pub);
    }
  };
  const out: (Uint8Array | null)[] = [];
  const CHUNK = 512; // bounded number of operations in flight
  for (let i = 0; i < publicKeys.length; i += CHUNK) {
    out.push(...(await Promise.all(publicKeys.slice(i, i + CHUNK).map(one))));
  }
  return out;
}

/** Encrypts a note's opening (blinding || value) to the owner's x25519 public key; 88 bytes. */
export function encryptNote(note: Note, recipientPublicKey: Uint8Array): Uint8Array {
  return encrypt(note.encodeOpening(), recipientPublicKey);
}

/**
 * Decrypts a note opening and rebuilds the note for `idc` (the recipient's identity commitment).
 * Returns `null` if the ciphertext is not for this key or does not hold a valid opening.
 */
export function decryptNote(ciphertext: Uint8Array, recipientSecretKey: Uint8Array, idc: bigint): Note | null {
  return noteFromOpening(decrypt(ciphertext, recipientSecretKey), idc);
}

/**
 * The note an opening from {@link decrypt} holds for `idc`; `null` if there is no opening or it is not a valid one
 * (the last step of {@link decryptNote}, for callers that decrypt elsewhere, e.g. on a worker thread).
 */
export function noteFromOpening(opening: Uint8Array | null, idc: bigint): Note | null {
  if (opening === null) return null;
  try {
    return Note.decodeOpening(opening, idc);
  } catch {
    return null;
  }
}

/**
 * {@link decrypt} for many ciphertexts to one key: the same result for each, computed faster (the key pair is
 * derived once, the key agreement batched; see {@link sharedSecrets}).
 * @param primitives the symmetric primitives to open with (default {@link NOBLE_PRIMITIVES})
 */
export async function decryptMany(
  ciphertexts: readonly Uint8Array[],
  recipientSecretKey: Uint8Array,
  primitives: SymmetricPrimitives = NOBLE_PRIMITIVES,
): Promise<(Uint8Array | null)[]> {
  const recipientPub = x25519.getPublicKey(recipientSecretKey);
  const wellFormed = ciphertexts.map((c) => c.length >= KEY_BYTES + TAG_BYTES);
  const shared = await sharedSecrets(
    recipientSecretKey,
    ciphertexts.filter((_, i) => wellFormed[i]).map((c) => c.subarray(0, KEY_BYTES)),
  );
  let k = 0;
  return ciphertexts.map((c, i) => {
    if (!wellFormed[i]) return null;
    const secret = shared[k++];
    return secret ? open(secret, c, recipientPub, primitives) : null;
  });
}

/**
 * {@link decryptNote} for many ciphertexts to one key (a wallet's trial decryption of new leaves): the same result
 * for each, computed faster ({@link decryptMany}). sdk/core/offThread.ts runs it on worker threads where there are.
 */
export async function decryptNotes(
  ciphertexts: readonly Uint8Array[],
  recipientSecretKey: Uint8Array,
  idc: bigint,
): Promise<(Note | null)[]> {
  return (await decryptMany(ciphertexts, recipientSecretKey)).map((opening) => noteFromOpening(opening, idc));
}
