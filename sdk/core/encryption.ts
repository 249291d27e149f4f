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

function deriveKeyNonce(shared: Uint8Array, ephPub: Uint8Array, recipientPub: Uint8Array) {
  const okm = hkdf(sha256, shared, new Uint8Array([...ephPub, ...recipientPub]), INFO, 44);
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

/**
 * Decrypts a ciphertext from {@link encrypt} with the recipient's secret key.
 * Returns `null` for anything that is not addressed to this key (wrong key, tampered, malformed): never throws,
 * so a wallet can try every on-chain ciphertext.
 */
export function decrypt(ciphertext: Uint8Array, recipientSecretKey: Uint8Array): Uint8Array | null {
  try {
    if (ciphertext.length < KEY_BYTES + TAG_BYTES) return null;
    const ephPub = ciphertext.subarray(0, KEY_BYTES);
    const shared = x25519.getSharedSecret(recipientSecretKey, ephPub);
    const { key, nonce } = deriveKeyNonce(shared, ephPub, x25519.getPublicKey(recipientSecretKey));
    return chacha20poly1305(key, nonce).decrypt(ciphertext.subarray(KEY_BYTES));
  } catch {
    return null;
  }
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
  const opening = decrypt(ciphertext, recipientSecretKey);
  if (opening === null) return null;
  try {
    return Note.decodeOpening(opening, idc);
  } catch {
    return null;
  }
}
