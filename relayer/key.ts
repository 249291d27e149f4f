/**
 * The relayer's account: an encrypted ethers JSON keystore (scrypt + AES-128-CTR, the Web3 Secret Storage format)
 * unlocked with a passphrase from the environment. Kept to this one function so a shared key-store module can
 * replace it.
 */
import { readFileSync } from "node:fs";
import { Wallet, type HDNodeWallet } from "ethers";

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
export async function loadRelayerKey(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Wallet | HDNodeWallet> {
  const passphrase = env[PASSPHRASE_ENV];
  if (passphrase === undefined || passphrase === "") {
    throw new KeyLoadError(`set ${PASSPHRASE_ENV} to the passphrase of the keystore ${file}`);
  }
  let json: string;
  try {
    json = readFileSync(file, "utf8");
  } catch (error) {
    throw new KeyLoadError(`cannot read the keystore ${file}: ${(error as Error).message}`);
  }
  try {
    JSON.parse(json);
  } catch {
    throw new KeyLoadError(`the keystore ${file} is not JSON (truncated or not a keystore)`);
  }
  try {
    return await Wallet.fromEncryptedJson(json, passphrase);
  } catch (error) {
    const message = (error as Error).message;
    if (/incorrect password/i.test(message)) {
      throw new KeyLoadError(`wrong passphrase for the keystore ${file} (from ${PASSPHRASE_ENV})`);
    }
    throw new KeyLoadError(`the keystore ${file} cannot be decrypted: ${message}`);
  }
}
