/**
 * The relayer's account: an encrypted ethers JSON keystore (scrypt + AES-128-CTR, the Web3 Secret Storage format)
 * unlocked with a passphrase from the environment, opened by the SDK's key store (`loadAccount`, docs/keys.md).
 */
import type { Wallet } from "ethers";
import { WrongPassphraseError, ZkchargeError, loadAccount } from "../sdk/index.ts";

/** The environment variable that holds the keystore's passphrase. */
export const PASSPHRASE_ENV = "ZKCHARGE_RELAYER_PASSPHRASE";

/** The relayer's key could not be loaded; the message names the file and the cause. */
export class KeyLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyLoadError";
  }
}

/**
 * Decrypts the keystore at `file` with the passphrase in `env[PASSPHRASE_ENV]`.
 * @throws KeyLoadError when the variable is unset, the file is unreadable or not a keystore, or the passphrase is wrong
 */
export async function loadRelayerKey(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Wallet> {
  const passphrase = env[PASSPHRASE_ENV];
  if (passphrase === undefined || passphrase === "") {
    throw new KeyLoadError(`set ${PASSPHRASE_ENV} to the passphrase of the keystore ${file}`);
  }
  try {
    return await loadAccount(file, passphrase);
  } catch (error) {
    if (error instanceof WrongPassphraseError) {
      throw new KeyLoadError(`wrong passphrase for the keystore ${file} (from ${PASSPHRASE_ENV})`);
    }
    if (error instanceof ZkchargeError) throw new KeyLoadError(error.message);
    throw error;
  }
}
