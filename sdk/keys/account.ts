/**
 * Account key stores: the Ethereum accounts of the CPO admin, the deployer and the relayer, each in an ethers JSON
 * keystore (Web3 Secret Storage version 3: scrypt, AES-128-CTR, a keccak MAC), the format geth, Foundry (`cast wallet`)
 * and MetaMask import and export. This module adds what ethers leaves to the caller: a bound on the cost a file may
 * ask for, and errors that tell a wrong passphrase from a file that is not a keystore.
 *
 * Version 3's MAC covers the ciphertext only, with a key from the passphrase: a damaged ciphertext therefore reads as
 * a wrong passphrase (the message says so); a damaged header (IV, salt, cost) too.
 */
import { Wallet, decryptKeystoreJson, encryptKeystoreJson, getAddress, isHexString } from "ethers";
import { InvalidInputError } from "../core/errors.ts";
import { KeyFileFormatError, WrongPassphraseError } from "./errors.ts";
import { SCRYPT_DEFAULT, checkScryptCost, normalisePassphrase, scryptCostProblem, type ScryptCost } from "./scrypt.ts";
import type { DecryptOptions } from "./wallet.ts";

/** Options of {@link encryptAccount}. */
export interface EncryptAccountOptions {
  /** scrypt cost (default {@link SCRYPT_DEFAULT}; {@link SCRYPT_TEST_ONLY} for tests). */
  scrypt?: ScryptCost;
}

/** The largest PBKDF2 iteration count a (foreign, pbkdf2) keystore may ask for. */
const MAX_PBKDF2_ROUNDS = 10_000_000;

/** The account of a private key (0x + 64 hex digits) or of a wallet. */
function walletOf(account: string | Wallet): Wallet {
  if (account instanceof Wallet) return account;
  const key = typeof account === "string" && !account.startsWith("0x") ? `0x${account}` : account;
  if (!isHexString(key, 32)) throw new InvalidInputError("a private key is 32 bytes: 0x and 64 hex digits");
  try {
    return new Wallet(key);
  } catch {
    throw new InvalidInputError("the private key is not a valid secp256k1 key (zero or above the curve order)");
  }
}

/**
 * Encrypts an account (its private key, or a {@link Wallet}) under `passphrase` into an ethers JSON keystore's text.
 * @throws InvalidInputError if the key is malformed, the passphrase empty or the scrypt cost out of bounds
 */
export async function encryptAccount(
  account: string | Wallet,
  passphrase: string,
  options: EncryptAccountOptions = {},
): Promise<string> {
  const wallet = walletOf(account);
  const scrypt = checkScryptCost(options.scrypt ?? SCRYPT_DEFAULT);
  const text = await encryptKeystoreJson(
    { address: wallet.address, privateKey: wallet.privateKey },
    normalisePassphrase(passphrase),
    { scrypt },
  );
  return JSON.stringify(JSON.parse(text), null, 2) + "\n";
}

/** The parsed keystore, its structure and cost checked before any key derivation. */
function parseKeystore(text: string, source: string): Record<string, unknown> {
  const fail = (why: string): never => {
    throw new KeyFileFormatError(`${source}: ${why}`);
  };
  if (typeof text !== "string" || text.trim() === "") fail("empty (not a keystore)");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    fail(`not JSON, truncated or damaged (${(error as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("not a JSON object (not a keystore)");
  const file = raw as Record<string, unknown>;
  if (!("version" in file)) fail("version is missing (not a JSON keystore)");
  if (Number(file.version) !== 3)
    fail(`unsupported keystore version ${JSON.stringify(file.version)} (expected 3, Web3 Secret Storage)`);
  const crypto = (file.crypto ?? file.Crypto) as Record<string, unknown> | undefined;
  if (typeof crypto !== "object" || crypto === null) fail("crypto is missing");
  for (const k of ["cipher", "ciphertext", "cipherparams", "kdf", "kdfparams", "mac"])
    if (!(k in crypto!)) fail(`crypto.${k} is missing`);
  if (crypto!.cipher !== "aes-128-ctr") fail(`crypto.cipher: unsupported ${JSON.stringify(crypto!.cipher)}`);
  const params = crypto!.kdfparams as Record<string, unknown>;
  if (typeof params !== "object" || params === null) fail("crypto.kdfparams is not an object");
  if (crypto!.kdf === "scrypt") {
    const problem = scryptCostProblem({ N: params.n, r: params.r, p: params.p });
    if (problem) fail(`crypto.kdfparams: ${problem}`);
  } else if (crypto!.kdf === "pbkdf2") {
    const c = params.c;
    if (typeof c !== "number" || !Number.isSafeInteger(c) || c < 1 || c > MAX_PBKDF2_ROUNDS)
      fail(`crypto.kdfparams.c must be 1..${MAX_PBKDF2_ROUNDS}, got ${JSON.stringify(c)}`);
  } else {
    fail(`crypto.kdf: unsupported key derivation ${JSON.stringify(crypto!.kdf)} (expected scrypt or pbkdf2)`);
  }
  for (const [k, v] of [
    ["crypto.ciphertext", crypto!.ciphertext],
    ["crypto.mac", crypto!.mac],
    ["crypto.kdfparams.salt", params.salt],
    ["crypto.cipherparams.iv", (crypto!.cipherparams as { iv?: unknown } | null)?.iv],
  ] as const) {
    if (typeof v !== "string" || !/^(0x)?([0-9a-fA-F]{2})+$/.test(v)) fail(`${k} must be a hex string of whole bytes`);
  }
  if ((crypto!.ciphertext as string).replace(/^0x/, "").length / 2 !== 32)
    fail("crypto.ciphertext must be 32 bytes (a private key): truncated or damaged");
  if (file.address !== undefined) {
    try {
      getAddress(`0x${String(file.address).replace(/^0x/i, "")}`);
    } catch {
      fail(`address ${JSON.stringify(file.address)} is not an Ethereum address`);
    }
  }
  return file;
}

/**
 * The address an account keystore's text claims (its `address` field), without the passphrase; undefined when it has
 * none. {@link decryptAccount} checks the claim.
 * @throws KeyFileFormatError if the text is not a keystore
 */
export function keystoreAddress(text: string, options: DecryptOptions = {}): string | undefined {
  const file = parseKeystore(text, options.source ?? "keystore");
  return file.address === undefined ? undefined : getAddress(`0x${String(file.address).replace(/^0x/i, "")}`);
}

/**
 * Opens an ethers JSON keystore's text with `passphrase`: the account as an (unconnected) ethers {@link Wallet}.
 * @throws KeyFileFormatError if the text is not a version-3 keystore (truncated, malformed, an address that does not
 *   match the key)
 * @throws WrongPassphraseError if the passphrase is wrong (or the ciphertext or header was altered)
 */
export async function decryptAccount(text: string, passphrase: string, options: DecryptOptions = {}): Promise<Wallet> {
  const source = options.source ?? "keystore";
  parseKeystore(text, source);
  let privateKey: string;
  try {
    ({ privateKey } = await decryptKeystoreJson(text, normalisePassphrase(passphrase)));
  } catch (error) {
    const e = error as { code?: string; argument?: string; shortMessage?: string; message?: string };
    if (e.code === "INVALID_ARGUMENT" && e.argument === "password")
      throw new WrongPassphraseError(source, "the file was altered or damaged: its MAC fails");
    if (error instanceof InvalidInputError) throw error;
    throw new KeyFileFormatError(`${source}: ${e.shortMessage ?? e.message ?? String(error)}`);
  }
  return new Wallet(privateKey);
}
