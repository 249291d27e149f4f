/**
 * Where circuit artifacts come from: an {@link ArtifactSource} reads files by a path relative to the artifacts
 * directory (the layout `scripts/build-circuits.ts` writes under `build/circuits/`):
 *
 * ```
 * manifest.json
 * <name>/<name>.wasm | <name>.zkey | verification_key.json   (and <name>.sym, optional)
 * ```
 *
 * Sources only move bytes; whether the bytes are the right ones is `artifacts.ts`'s job (every file is pinned by
 * its sha256 in the manifest), so a source may be anything that can fetch bytes: a URL (this file), in-memory
 * bytes (this file) or the local file system (`node/fileSource.ts`, Node only). Everything here runs in browsers,
 * Web Workers and Node alike.
 */
import { sha256 } from "@noble/hashes/sha2.js";

/** A read-only tree of circuit artifacts. */
export interface ArtifactSource {
  /** Where the artifacts come from, for messages: a directory, a base URL, `memory`. */
  readonly description: string;
  /**
   * Read one file.
   *
   * @param relPath - path relative to the artifacts directory, `/`-separated (e.g. `pay/pay.wasm`)
   * @returns the file's bytes, or `undefined` if the file does not exist (any other failure rejects)
   */
  read(relPath: string): Promise<Uint8Array | undefined>;
  /**
   * Where `relPath` lives, for error messages and {@link StaleArtifactsError.file}: an absolute path, a URL, or
   * `memory:<relPath>`.
   */
  locate(relPath: string): string;
}

/** Path of the manifest inside an {@link ArtifactSource}. */
export const MANIFEST_FILE = "manifest.json";

/** Paths of one circuit's files inside an {@link ArtifactSource}. */
export interface CircuitFiles {
  wasm: string;
  zkey: string;
  vkey: string;
  /** Optional: only used to name missing input signals. Not pinned by the manifest. */
  sym: string;
}

/**
 * The paths of circuit `name`'s files inside an {@link ArtifactSource}.
 *
 * @param name - circuit name (`pay`, `transact`, ...)
 */
export function circuitFiles(name: string): CircuitFiles {
  return {
    wasm: `${name}/${name}.wasm`,
    zkey: `${name}/${name}.zkey`,
    vkey: `${name}/verification_key.json`,
    sym: `${name}/${name}.sym`,
  };
}

/** Options of {@link urlSource}. */
export interface UrlSourceOptions {
  /** `fetch` to use (default: the global one); e.g. one that adds authentication or reads a cache. */
  fetch?: typeof fetch;
  /**
   * Request options for every file. The files are pinned by sha256, so an aggressive HTTP cache
   * (`cache: "force-cache"`) is safe: a stale copy is refused, not used.
   */
  init?: RequestInit;
}

/**
 * Artifacts served over HTTP(S) (or any URL `fetch` understands), e.g. a wallet's copy of `build/circuits/`.
 *
 * @param base - URL of the artifacts directory (the one holding `manifest.json`); a missing trailing `/` is added
 * @param options - see {@link UrlSourceOptions}
 * @returns a source answering `undefined` for HTTP 404 and rejecting on any other non-2xx status
 */
export function urlSource(base: string | URL, options: UrlSourceOptions = {}): ArtifactSource {
  const href = typeof base === "string" ? base : base.href;
  const dir = new URL(href.endsWith("/") ? href : `${href}/`);
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  return {
    description: dir.href,
    locate: (relPath) => new URL(relPath, dir).href,
    async read(relPath) {
      const res = await doFetch(new URL(relPath, dir), options.init);
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

/**
 * Artifacts held in memory (bundled into an app, read from IndexedDB, built by a test).
 *
 * @param files - relative path (as in {@link circuitFiles}, plus `manifest.json`) to content; strings are UTF-8
 * @param description - name for messages (default `memory`)
 */
export function memorySource(
  files: Readonly<Record<string, Uint8Array | string>>,
  description = "memory",
): ArtifactSource {
  const entries = new Map<string, Uint8Array>();
  for (const [rel, content] of Object.entries(files)) {
    entries.set(rel, typeof content === "string" ? new TextEncoder().encode(content) : content);
  }
  return {
    description,
    locate: (relPath) => `${description}:${relPath}`,
    read: (relPath) => Promise.resolve(entries.get(relPath)),
  };
}

/**
 * sha256 of `bytes`, lowercase hex: WebCrypto where it exists (Node, browsers in secure contexts, workers), else
 * @noble/hashes (a page served over plain http has no `crypto.subtle`).
 *
 * @param bytes - the data to hash
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  // WebCrypto takes only ArrayBuffer-backed views; bytes from fetch, fs and structured clone always are.
  const digest =
    subtle !== undefined && bytes.buffer instanceof ArrayBuffer
      ? new Uint8Array(await subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>))
      : sha256(bytes);
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}
