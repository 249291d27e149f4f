/**
 * The driver's identity: a Semaphore v4 identity (Baby Jubjub secret scalar `s`, public key, commitment `idc`)
 * plus an x25519 key pair, derived from `s`, that others use to encrypt note openings to the driver.
 */
import { Identity } from "@semaphore-protocol/identity";
import { x25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { BABYJUB_SUBGROUP_ORDER } from "./constants.ts";
import { InvalidInputError } from "./errors.ts";
import { bigintToBytes } from "./field.ts";
import { identityCommitment } from "./hash.ts";

/** Domain string of the x25519 secret-key derivation: `sha256(domain || s as 32 big-endian bytes)`. */
const ENCRYPTION_KEY_DOMAIN = new TextEncoder().encode("zkcharge.encryption-key.x25519.v1");

/** An x25519 key pair (32-byte keys). */
export interface EncryptionKeyPair {
  /** 32-byte x25519 secret key. */
  secretKey: Uint8Array;
  /** 32-byte x25519 public key. */
  publicKey: Uint8Array;
}

/** A driver's identity. Create with {@link DriverIdentity.random} or {@link DriverIdentity.fromSecret}. */
export class DriverIdentity {
  readonly #identity: Identity;
  readonly #encryption: EncryptionKeyPair;

  private constructor(identity: Identity) {
    const s = identity.secretScalar;
    if (s <= 0n || s >= BABYJUB_SUBGROUP_ORDER) {
      throw new InvalidInputError("identity secret scalar is outside 1..l-1 (circuits reject s >= l)");
    }
    const [Ax, Ay] = identity.publicKey;
    if (identityCommitment(Ax, Ay) !== identity.commitment) {
      throw new InvalidInputError("Semaphore identity commitment differs from H_2(Ax, Ay)");
    }
    this.#identity = identity;
    const secretKey = sha256(new Uint8Array([...ENCRYPTION_KEY_DOMAIN, ...bigintToBytes(s, 32)]));
    this.#encryption = { secretKey, publicKey: x25519.getPublicKey(secretKey) };
  }

  /** A fresh identity from the platform CSPRNG. */
  static random(): DriverIdentity {
    return new DriverIdentity(new Identity());
  }

  /**
   * Restores an identity from the string returned by {@link DriverIdentity.export} (Semaphore's base64 private key).
   * @throws InvalidInputError if the string is not base64 of a non-empty key
   */
  static fromSecret(exported: string): DriverIdentity {
    if (typeof exported !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(exported) || exported.length % 4 !== 0) {
      throw new InvalidInputError("identity secret must be the base64 string returned by DriverIdentity.export()");
    }
    return new DriverIdentity(Identity.import(exported));
  }

  /** The private key as a base64 string (keep it secret: it controls every note of this identity). */
  export(): string {
    return this.#identity.export();
  }

  /** Baby Jubjub secret scalar `s` (`0 < s < l`), the circuit's private identity input. */
  get secretScalar(): bigint {
    return this.#identity.secretScalar;
  }

  /** Public key `(Ax, Ay) = s * Base8`. */
  get publicKey(): [bigint, bigint] {
    const [x, y] = this.#identity.publicKey;
    return [x, y];
  }

  /** Identity commitment `idc = H_2(Ax, Ay)`; never published, it goes into precommitments. */
  get commitment(): bigint {
    return this.#identity.commitment;
  }

  /** The x25519 key pair note openings are encrypted to (deterministic from `s`). */
  get encryptionKeyPair(): EncryptionKeyPair {
    return { secretKey: this.#encryption.secretKey.slice(), publicKey: this.#encryption.publicKey.slice() };
  }

  /** The x25519 public key to share with whoever sends notes to this driver. */
  get encryptionPublicKey(): Uint8Array {
    return this.#encryption.publicKey.slice();
  }
}
