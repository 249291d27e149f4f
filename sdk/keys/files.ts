/**
 * Key files on disk (Node): an account keystore or a driver wallet read, decrypted and returned in one call, or
 * encrypted and written atomically (temp file, fsync, rename, fsync of the directory; mode 0600), never over an
 * existing key file unless told to. In a browser these throw: keep the text of the encrypt functions yourself.
 */
import type { Wallet } from "ethers";
import { readTextFile, writeFileAtomic, type AtomicWriteHooks } from "#key-files";
import { decryptAccount, encryptAccount, keystoreAddress, type EncryptAccountOptions } from "./account.ts";
import { KeyFileAccessError } from "./errors.ts";
import { decryptWallet, encryptWallet, type EncryptWalletOptions, type WalletContents } from "./wallet.ts";

export { writeFileAtomic, type AtomicWriteHooks } from "#key-files";

/** How a key file is written. */
export interface WriteKeyFileOptions {
  /** Replace an existing file (default: refuse). The old key is lost unless it is backed up elsewhere. */
  force?: boolean;
  /** Test hooks of the atomic write. */
  hooks?: AtomicWriteHooks;
}

/**
 * The text of the key file at `path`.
 * @throws KeyFileAccessError (`KEY_FILE_MISSING`, `KEY_FILE_IO`) naming the path and the cause
 */
export function readKeyFile(path: string, what = "key file"): string {
  try {
    return readTextFile(path);
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e.code === "ENOENT") throw new KeyFileAccessError("KEY_FILE_MISSING", `${what} ${path} does not exist`);
    throw new KeyFileAccessError("KEY_FILE_IO", `cannot read ${what} ${path}: ${e.code ?? e.message}`);
  }
}

/**
 * Writes `text` to `path` atomically (mode 0600); refuses an existing file unless `force`.
 * @throws KeyFileAccessError (`KEY_FILE_EXISTS`, `KEY_FILE_IO`); the existing file is then untouched
 */
export function writeKeyFile(path: string, text: string, what = "key file", options: WriteKeyFileOptions = {}): void {
  try {
    writeFileAtomic(path, text, { exclusive: !options.force, ...options.hooks });
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e.code === "EEXIST")
      throw new KeyFileAccessError(
        "KEY_FILE_EXISTS",
        `${what} ${path} already exists: refusing to overwrite a key (pass --force / { force: true } to replace it; ` +
          "the old key is then lost unless backed up)",
      );
    if (e.code) throw new KeyFileAccessError("KEY_FILE_IO", `cannot write ${what} ${path}: ${e.code} (${e.message})`);
    throw error;
  }
}

/**
 * The account in the ethers JSON keystore at `path`, opened with `passphrase` (an unconnected {@link Wallet}:
 * `.connect(provider)` it). What a relayer or an operator's service calls at start-up.
 * @throws KeyFileAccessError, KeyFileFormatError, WrongPassphraseError
 */
export async function loadAccount(path: string, passphrase: string): Promise<Wallet> {
  return decryptAccount(readKeyFile(path, "keystore"), passphrase, { source: `keystore ${path}` });
}

/**
 * Encrypts `account` (a private key or a {@link Wallet}) under `passphrase` into a new keystore at `path`.
 * @returns the account's address
 */
export async function saveAccount(
  path: string,
  account: string | Wallet,
  passphrase: string,
  options: WriteKeyFileOptions & EncryptAccountOptions = {},
): Promise<string> {
  const text = await encryptAccount(account, passphrase, options);
  writeKeyFile(path, text, "keystore", options);
  return keystoreAddress(text)!;
}

/**
 * The driver's wallet file at `path`, opened with `passphrase`.
 * @throws KeyFileAccessError, KeyFileFormatError, WrongPassphraseError, KeyFileIntegrityError
 */
export async function loadWallet(path: string, passphrase: string): Promise<WalletContents> {
  return decryptWallet(readKeyFile(path, "wallet file"), passphrase, { source: `wallet file ${path}` });
}

/** Encrypts `contents` under `passphrase` into the wallet file at `path` (atomically; a new file unless `force`). */
export async function saveWallet(
  path: string,
  contents: WalletContents,
  passphrase: string,
  options: WriteKeyFileOptions & EncryptWalletOptions = {},
): Promise<void> {
  writeKeyFile(path, await encryptWallet(contents, passphrase, options), "wallet file", options);
}
