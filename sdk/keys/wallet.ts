/**
 * The driver's wallet file: the Semaphore identity secret and the wallet's own records (note openings, sessions:
 * opaque JSON here), encrypted under a passphrase. Format, version 1 (docs/keys.md):
 *
 * ```json
 * { "version": 1,
 *   "kdf": { "name": "scrypt", "N": 131072, "r": 8, "p": 1, "salt": "<32 bytes hex>", "check": "<32 bytes hex>" },
 *   "cipher": { "name": "xchacha20-poly1305", "nonce": "<24 bytes hex>" },
 *   "ciphertext": "<hex: the JSON plaintext, then the 16-byte tag>" }
 * ```
 *
 * scrypt derives 64 bytes: the first 32 are the XChaCha20-Poly1305 key, the last 32 hash to `check`, which tells a
 * wrong passphrase ({@link WrongPassphraseError}) from a damaged ciphertext ({@link KeyFileIntegrityError}). The whole
 * header (every field but `ciphertext`, in a fixed order) is the AEAD's associated data, so no header field can be
 * changed without the file failing to open. Nothing is returned unless everything checks.
 */
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { equalBytes } from "@noble/ciphers/utils.js";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { InvalidInputError } from "../core/errors.ts";
import { DriverIdentity } from "../core/identity.ts";
import { KeyFileFormatError, KeyFileIntegrityError, WrongPassphraseError } from "./errors.ts";
import { SCRYPT_DEFAULT, checkScryptCost, normalisePassphrase, scryptCostProblem, type ScryptCost } from "./scrypt.ts";

/** The wallet file version this SDK writes and reads. */
export const WALLET_VERSION = 1;
const KDF = "scrypt";
const CIPHER = "xchacha20-poly1305";
const SALT_BYTES = 32;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
/** Domain of the passphrase check: `check = sha256(domain || derived[32..64])`. */
const CHECK_DOMAIN = utf8ToBytes("zkcharge.wallet.passphrase-check.v1");

/** A JSON value (what the wallet keeps for its owner, opaque to this module). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a wallet file holds. */
export interface WalletContents {
  /** The Semaphore identity, as {@link DriverIdentity.export} writes it. */
  identitySecret: string;
  /** The wallet's records (note openings, sessions...): any JSON, kept as given. */
  data: JsonValue;
}

/** Options of {@link encryptWallet}. */
export interface EncryptWalletOptions {
  /** scrypt cost (default {@link SCRYPT_DEFAULT}; {@link SCRYPT_TEST_ONLY} for tests). */
  scrypt?: ScryptCost;
}

/** Options of {@link decryptWallet}. */
export interface DecryptOptions {
  /** What the text is, for messages (default `wallet file`); e.g. `wallet file driver.json`. */
  source?: string;
}

interface Header {
  version: number;
  kdf: ScryptCost & { name: string; salt: Uint8Array; check: Uint8Array };
  cipher: { name: string; nonce: Uint8Array };
}

/** The associated data: the header's fields in a fixed order (independent of the file's key order or hex case). */
function associatedData(h: Header): Uint8Array {
  const { kdf, cipher } = h;
  return utf8ToBytes(
    JSON.stringify([
      h.version,
      [kdf.name, kdf.N, kdf.r, kdf.p, bytesToHex(kdf.salt), bytesToHex(kdf.check)],
      [cipher.name, bytesToHex(cipher.nonce)],
    ]),
  );
}

/** The 32-byte AEAD key and the passphrase check, from scrypt(passphrase, salt). */
async function deriveKey(passphrase: string, kdf: ScryptCost & { salt: Uint8Array }) {
  const derived = await scryptAsync(normalisePassphrase(passphrase), kdf.salt, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    dkLen: 64,
    maxmem: 2 ** 31 + 2 ** 20,
  });
  const key = derived.slice(0, 32);
  const check = sha256(new Uint8Array([...CHECK_DOMAIN, ...derived.subarray(32)]));
  derived.fill(0);
  return { key, check };
}

/** JSON text of `value`, refusing what JSON cannot hold faithfully (bigints, undefined, NaN, cycles). */
function jsonText(value: JsonValue, where: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "bigint" || typeof v === "function" || typeof v === "symbol")
        throw new Error(`a ${typeof v} is not JSON (write bigints as strings)`);
      if (typeof v === "number" && !Number.isFinite(v)) throw new Error(`${v} is not JSON`);
      return v;
    });
  } catch (error) {
    throw new InvalidInputError(`${where}: ${(error as Error).message}`);
  }
  if (text === undefined) throw new InvalidInputError(`${where}: not a JSON value`);
  return text;
}

/** The wallet file's text of `contents` under `key` (derived for `kdf`), with a fresh nonce. */
function seal(contents: WalletContents, key: Uint8Array, kdf: Header["kdf"]): string {
  DriverIdentity.fromSecret(contents.identitySecret); // refuse to store what would not open as an identity
  const plaintext = utf8ToBytes(
    jsonText({ identitySecret: contents.identitySecret, data: contents.data ?? null }, "wallet data"),
  );
  const header: Header = { version: WALLET_VERSION, kdf, cipher: { name: CIPHER, nonce: randomBytes(NONCE_BYTES) } };
  const ciphertext = xchacha20poly1305(key, header.cipher.nonce, associatedData(header)).encrypt(plaintext);
  plaintext.fill(0);
  const file = {
    version: header.version,
    kdf: { name: KDF, N: kdf.N, r: kdf.r, p: kdf.p, salt: bytesToHex(kdf.salt), check: bytesToHex(kdf.check) },
    cipher: { name: CIPHER, nonce: bytesToHex(header.cipher.nonce) },
    ciphertext: bytesToHex(ciphertext),
  };
  return JSON.stringify(file, null, 2) + "\n";
}

/**
 * Encrypts `contents` under `passphrase` into a wallet file's text (JSON, ending in a newline).
 * @throws InvalidInputError if the identity secret is not a Semaphore export, `data` is not JSON, the passphrase is
 *   empty or the scrypt cost out of bounds
 */
export async function encryptWallet(
  contents: WalletContents,
  passphrase: string,
  options: EncryptWalletOptions = {},
): Promise<string> {
  const wallet = await UnlockedWallet.create(contents, passphrase, options);
  try {
    return wallet.seal(contents);
  } finally {
    wallet.lock();
  }
}

/** A plain JSON object, or a format error naming `where`. */
function object(value: unknown, where: string, fail: (why: string) => never): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(`${where} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** Exactly these keys, or a format error naming the first missing or unknown one. */
function keys(o: Record<string, unknown>, expected: readonly string[], where: string, fail: (why: string) => never) {
  for (const k of expected) if (!(k in o)) fail(`${where}${k} is missing`);
  for (const k of Object.keys(o)) if (!expected.includes(k)) fail(`${where}${k}: unknown field`);
}

/** Hex of exactly `bytes` bytes (any length when undefined), or a format error. */
function hexField(value: unknown, where: string, bytes: number | undefined, fail: (why: string) => never): Uint8Array {
  if (typeof value !== "string" || !/^([0-9a-fA-F]{2})*$/.test(value))
    fail(`${where} must be a hex string of whole bytes`);
  const out = hexToBytes(value.toLowerCase());
  if (bytes !== undefined && out.length !== bytes) fail(`${where} must be ${bytes} bytes, got ${out.length}`);
  return out;
}

/** The header and ciphertext of a wallet file's text, every field checked. */
function parseWalletFile(text: string, source: string): { header: Header; ciphertext: Uint8Array } {
  const fail = (why: string): never => {
    throw new KeyFileFormatError(`${source}: ${why}`);
  };
  if (typeof text !== "string" || text.trim() === "") fail("empty (not a wallet file)");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    fail(`not JSON, truncated or damaged (${(error as Error).message})`);
  }
  const file = object(raw, "the file", fail);
  if (!("version" in file)) fail("version is missing (not a zkcharge wallet file)");
  if (file.version !== WALLET_VERSION)
    fail(`unsupported wallet file version ${JSON.stringify(file.version)} (this SDK reads version ${WALLET_VERSION})`);
  keys(file, ["version", "kdf", "cipher", "ciphertext"], "", fail);
  const kdf = object(file.kdf, "kdf", fail);
  keys(kdf, ["name", "N", "r", "p", "salt", "check"], "kdf.", fail);
  if (kdf.name !== KDF) fail(`kdf.name: unsupported key derivation ${JSON.stringify(kdf.name)} (expected "${KDF}")`);
  const problem = scryptCostProblem({ N: kdf.N, r: kdf.r, p: kdf.p });
  if (problem) fail(`kdf: ${problem}`);
  const cipher = object(file.cipher, "cipher", fail);
  keys(cipher, ["name", "nonce"], "cipher.", fail);
  if (cipher.name !== CIPHER)
    fail(`cipher.name: unsupported cipher ${JSON.stringify(cipher.name)} (expected "${CIPHER}")`);
  const ciphertext = hexField(file.ciphertext, "ciphertext", undefined, fail);
  if (ciphertext.length < TAG_BYTES)
    fail(`ciphertext is ${ciphertext.length} bytes, shorter than its ${TAG_BYTES}-byte tag (truncated)`);
  return {
    header: {
      version: WALLET_VERSION,
      kdf: {
        name: KDF,
        N: kdf.N as number,
        r: kdf.r as number,
        p: kdf.p as number,
        salt: hexField(kdf.salt, "kdf.salt", SALT_BYTES, fail),
        check: hexField(kdf.check, "kdf.check", 32, fail),
      },
      cipher: { name: CIPHER, nonce: hexField(cipher.nonce, "cipher.nonce", NONCE_BYTES, fail) },
    },
    ciphertext,
  };
}

/**
 * Opens a wallet file's text with `passphrase`: everything, or an error and nothing.
 * @throws KeyFileFormatError if the text is not a version-1 wallet file (truncated, malformed, unknown version)
 * @throws WrongPassphraseError if the passphrase is wrong
 * @throws KeyFileIntegrityError if the passphrase is right but the ciphertext or header was altered
 */
export async function decryptWallet(
  text: string,
  passphrase: string,
  options: DecryptOptions = {},
): Promise<WalletContents> {
  const wallet = await UnlockedWallet.open(text, passphrase, options);
  wallet.lock();
  return wallet.contents;
}

/** The contents of an authenticated plaintext, or a format error naming `source`. */
function parseContents(plaintext: Uint8Array, source: string): WalletContents {
  // Authenticated: what follows can only fail for a file written by something else with the right key.
  const fail = (why: string): never => {
    throw new KeyFileFormatError(`${source}: the decrypted contents ${why}`);
  };
  let contents: unknown;
  try {
    contents = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plaintext));
  } catch {
    fail("are not JSON");
  } finally {
    plaintext.fill(0);
  }
  const o = object(contents, "object", fail);
  keys(o, ["identitySecret", "data"], "field ", fail);
  if (typeof o.identitySecret !== "string") fail("identitySecret is not a string");
  try {
    DriverIdentity.fromSecret(o.identitySecret as string);
  } catch (error) {
    fail(`identitySecret is not a Semaphore identity (${(error as Error).message})`);
  }
  return { identitySecret: o.identitySecret as string, data: o.data as JsonValue };
}

/**
 * A wallet opened with its passphrase, its key held in memory until {@link lock}: {@link seal} writes new
 * contents under the same salt and key with a fresh nonce, so a wallet rewritten after every live reading pays
 * for scrypt once per process, not once per write. (Reusing the key is safe: XChaCha20's 24-byte random nonces
 * do not repeat in practice.)
 */
export class UnlockedWallet {
  /** The contents as last opened or sealed. */
  contents: WalletContents;
  #key: Uint8Array | undefined;
  readonly #kdf: Header["kdf"];

  private constructor(contents: WalletContents, key: Uint8Array, kdf: Header["kdf"]) {
    this.contents = contents;
    this.#key = key;
    this.#kdf = kdf;
  }

  /** The scrypt cost of this wallet's key. */
  get scrypt(): ScryptCost {
    return { N: this.#kdf.N, r: this.#kdf.r, p: this.#kdf.p };
  }

  /**
   * A new wallet of `contents` under `passphrase` (a fresh salt; nothing written: {@link seal} gives the text).
   * @throws InvalidInputError if the identity secret is not a Semaphore export, the passphrase is empty or the
   *   scrypt cost out of bounds
   */
  static async create(
    contents: WalletContents,
    passphrase: string,
    options: EncryptWalletOptions = {},
  ): Promise<UnlockedWallet> {
    DriverIdentity.fromSecret(contents.identitySecret);
    const cost = checkScryptCost(options.scrypt ?? SCRYPT_DEFAULT);
    const salt = randomBytes(SALT_BYTES);
    const { key, check } = await deriveKey(passphrase, { ...cost, salt });
    return new UnlockedWallet(contents, key, { name: KDF, ...cost, salt, check });
  }

  /**
   * Opens a wallet file's text with `passphrase`.
   * @throws KeyFileFormatError if the text is not a version-1 wallet file (truncated, malformed, unknown version)
   * @throws WrongPassphraseError if the passphrase is wrong
   * @throws KeyFileIntegrityError if the passphrase is right but the ciphertext or header was altered
   */
  static async open(text: string, passphrase: string, options: DecryptOptions = {}): Promise<UnlockedWallet> {
    const source = options.source ?? "wallet file";
    const { header, ciphertext } = parseWalletFile(text, source);
    const { key, check } = await deriveKey(passphrase, header.kdf);
    if (!equalBytes(check, header.kdf.check)) {
      key.fill(0);
      throw new WrongPassphraseError(source);
    }
    let plaintext: Uint8Array;
    try {
      plaintext = xchacha20poly1305(key, header.cipher.nonce, associatedData(header)).decrypt(ciphertext);
    } catch {
      key.fill(0);
      throw new KeyFileIntegrityError(source);
    }
    try {
      return new UnlockedWallet(parseContents(plaintext, source), key, header.kdf);
    } catch (error) {
      key.fill(0);
      throw error;
    }
  }

  /**
   * The wallet file's text of `contents` (which become {@link contents}), under this wallet's key.
   * @throws InvalidInputError if the identity secret is not a Semaphore export or `data` is not JSON
   * @throws Error if the wallet was locked
   */
  seal(contents: WalletContents): string {
    if (!this.#key) throw new Error("the wallet is locked: open it again with its passphrase");
    const text = seal(contents, this.#key, this.#kdf);
    this.contents = contents;
    return text;
  }

  /** Forgets the key (zeroed). */
  lock(): void {
    this.#key?.fill(0);
    this.#key = undefined;
  }
}
