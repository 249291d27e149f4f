/**
 * The driver's wallet at rest in this browser: the SDK's wallet file text (scrypt + XChaCha20-Poly1305,
 * sdk/keys/wallet.ts, docs/keys.md), one per chain and pool, in localStorage. Only ciphertext is stored; the
 * passphrase is never kept, and the derived key lives in memory (an `UnlockedWallet`) while the wallet is unlocked,
 * so the session history can be sealed again after each change without paying for scrypt each time.
 */
import {
  DriverIdentity,
  SCRYPT_DEFAULT,
  UnlockedWallet,
  type JsonValue,
  type NoteScan,
  type NoteScanStore,
} from "../../sdk/index.ts";

/** Where the wallet of (chainId, pool) is kept. */
export function walletKey(chainId: bigint, pool: string): string {
  return `zkcharge.wallet.${chainId}.${pool.toLowerCase()}`;
}

/** The stored wallet file text, or null. */
export function storedWallet(key: string): string | null {
  return localStorage.getItem(key);
}

/** An unlocked wallet and where it is stored. */
export interface OpenWallet {
  key: string;
  unlocked: UnlockedWallet;
  identity: DriverIdentity;
}

/** Encrypts `identity` under `passphrase` and stores it (replacing nothing: the caller checks first). */
export async function saveNewWallet(
  key: string,
  identity: DriverIdentity,
  passphrase: string,
): Promise<{ text: string; wallet: OpenWallet }> {
  const unlocked = await UnlockedWallet.create({ identitySecret: identity.export(), data: {} }, passphrase, {
    scrypt: SCRYPT_DEFAULT,
  });
  const text = unlocked.seal(unlocked.contents);
  localStorage.setItem(key, text);
  return { text, wallet: { key, unlocked, identity } };
}

/** Opens the stored wallet text; the SDK's errors (wrong passphrase, damaged file) pass through unchanged. */
export async function openWallet(key: string, text: string, passphrase: string): Promise<OpenWallet> {
  const unlocked = await UnlockedWallet.open(text, passphrase, { source: "the wallet stored in this browser" });
  return { key, unlocked, identity: DriverIdentity.fromSecret(unlocked.contents.identitySecret) };
}

/** Seals `data` (the wallet's own records, e.g. its sessions) into the stored wallet; returns the new file text. */
export function saveWalletData(wallet: OpenWallet, data: JsonValue): string {
  const text = wallet.unlocked.seal({ ...wallet.unlocked.contents, data });
  localStorage.setItem(wallet.key, text);
  return text;
}

/** A wallet's own data as an object of records (sessions, scan), `{}` for a wallet that never saved any. */
export function dataRecords(data: JsonValue): { [key: string]: JsonValue } {
  return data !== null && typeof data === "object" && !Array.isArray(data) ? data : {};
}

/**
 * What the wallet's trial decryption found (sdk/actors/noteScan.ts), kept in the encrypted wallet beside its
 * sessions: note openings are secrets, so never in IndexedDB with the public sync cache. After a reload the wallet
 * decrypts only leaves it has not seen. `onSealed` gets each new wallet text.
 */
export function noteScanStore(wallet: OpenWallet, onSealed: (text: string) => void): NoteScanStore {
  return {
    load: async () => dataRecords(wallet.unlocked.contents.data).scan,
    save: async (scan: NoteScan) => {
      const records = dataRecords(wallet.unlocked.contents.data);
      onSealed(saveWalletData(wallet, { ...records, scan: scan as unknown as JsonValue }));
    },
  };
}
