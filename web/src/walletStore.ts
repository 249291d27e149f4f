/**
 * The driver's wallet at rest in this browser: the SDK's wallet file text (scrypt + XChaCha20-Poly1305,
 * sdk/keys/wallet.ts, docs/keys.md), one per chain and pool, in localStorage. Only ciphertext is stored; the
 * passphrase and the decrypted identity live in memory while the wallet is unlocked.
 */
import { DriverIdentity, SCRYPT_DEFAULT, decryptWallet, encryptWallet, type WalletContents } from "../../sdk/index.ts";

/** Where the wallet of (chainId, pool) is kept. */
export function walletKey(chainId: bigint, pool: string): string {
  return `zkcharge.wallet.${chainId}.${pool.toLowerCase()}`;
}

/** The stored wallet file text, or null. */
export function storedWallet(key: string): string | null {
  return localStorage.getItem(key);
}

/** Encrypts `identity` under `passphrase` and stores it (replacing nothing: the caller checks first). */
export async function saveNewWallet(key: string, identity: DriverIdentity, passphrase: string): Promise<string> {
  const contents: WalletContents = { identitySecret: identity.export(), data: {} };
  const text = await encryptWallet(contents, passphrase, { scrypt: SCRYPT_DEFAULT });
  localStorage.setItem(key, text);
  return text;
}

/** Opens the stored wallet text; the SDK's errors (wrong passphrase, damaged file) pass through unchanged. */
export async function openWallet(text: string, passphrase: string): Promise<DriverIdentity> {
  const contents = await decryptWallet(text, passphrase, { source: "the wallet stored in this browser" });
  return DriverIdentity.fromSecret(contents.identitySecret);
}
