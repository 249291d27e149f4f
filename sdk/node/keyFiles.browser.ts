/**
 * Browser and bundler build of `#key-files` (see sdk/node/keyFiles.ts): a page has no files, no environment and no
 * terminal, so key files are read and written by the app (e.g. IndexedDB) with the SDK's encrypt / decrypt functions
 * and a passphrase the app asks for.
 */

/** See sdk/node/keyFiles.ts. */
export interface AtomicWriteHooks {
  beforeRename?: (tempPath: string) => void;
}

/** See sdk/node/keyFiles.ts. */
export interface AtomicWriteOptions extends AtomicWriteHooks {
  exclusive?: boolean;
}

const NODE_ONLY =
  "key files are read and written only in Node; in a browser, keep the text of encryptWallet / encryptAccount " +
  "yourself and pass it to decryptWallet / decryptAccount";

export function writeFileAtomic(path: string, _data: string, _options?: AtomicWriteOptions): void {
  throw new Error(`${NODE_ONLY} (write ${path})`);
}

export function readTextFile(path: string): string {
  throw new Error(`${NODE_ONLY} (read ${path})`);
}

export function environment(_name: string): string | undefined {
  return undefined;
}

export function canPrompt(): boolean {
  return false;
}

export function promptHidden(_questions: readonly string[]): Promise<string[] | undefined> {
  return Promise.resolve(undefined);
}
