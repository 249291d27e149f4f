/**
 * Proving in this browser: the SDK's Web Worker backend (snarkjs runs off the page's thread) and the circuit
 * artifacts downloaded once, kept in Cache Storage, and pinned by the manifest built into the app (so a server that
 * swaps the files cannot also swap the hashes they are checked against). The SDK checks every file's sha256 before
 * use; a file that does not match is dropped from the cache and reported, never used.
 */
import {
  StaleArtifactsError,
  WebWorkerBackend,
  urlSource,
  type ArtifactSource,
  type Manifest,
  type ProverOptions,
} from "../../sdk/index.ts";
import pinned from "../../build/circuits/manifest.json" with { type: "json" };

/** Name of the Cache Storage cache holding the artifacts (bump the suffix to drop every old copy). */
export const ARTIFACT_CACHE = "zkcharge-circuits-v1";

/** The manifest the app was built with. */
export const PINNED_MANIFEST = pinned as Manifest;

/** A proving file was wrong or could not be fetched: nothing was proved, and the cached copies were dropped. */
export class ArtifactMismatchError extends Error {
  /**
   * @param file - the file's URL
   * @param reason - the SDK's reason (`sha256 ... does not match ...`, `missing`, `unreadable (...)`)
   */
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(
      reason.startsWith("sha256")
        ? `The proving file ${file} is not the one this app was built with (its sha256 differs from the pinned ` +
            "manifest), so it was not used and nothing was proved. The cached copies were removed: try again to " +
            "download them afresh, and tell the site's operator if this repeats."
        : `The proving file ${file} could not be loaded (${reason}), so nothing was proved. Check the connection ` +
            "and try again.",
    );
  }
}

/** `fetch` through Cache Storage: a cached response if there is one, else the network (and the answer kept). */
async function cachedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  if (typeof caches === "undefined") return fetch(input, init); // no Cache Storage (plain http on a LAN name)
  const cache = await caches.open(ARTIFACT_CACHE);
  const request = new Request(input, init);
  const hit = await cache.match(request);
  if (hit) return hit;
  const res = await fetch(request);
  if (res.ok) await cache.put(request, res.clone());
  return res;
}

/** Drops every cached artifact (after a mismatch; the next proof downloads them again). */
export async function clearArtifactCache(): Promise<void> {
  if (typeof caches !== "undefined") await caches.delete(ARTIFACT_CACHE);
}

/** The wallet's prover: one Web Worker, artifacts from `base` through the cache, pinned. */
export function browserProver(base: string): ProverOptions & { source: ArtifactSource; backend: WebWorkerBackend } {
  const url = new URL(base, document.baseURI);
  return {
    source: urlSource(url, { fetch: cachedFetch }),
    manifest: PINNED_MANIFEST,
    backend: new WebWorkerBackend({ size: 1 }),
  };
}

/**
 * Runs `prove`; a stale artifact becomes an {@link ArtifactMismatchError} after the cache is cleared.
 * @param prove - the SDK call that proves
 */
export async function withArtifactCheck<T>(prove: () => Promise<T>): Promise<T> {
  try {
    return await prove();
  } catch (err) {
    if (err instanceof StaleArtifactsError) {
      await clearArtifactCache();
      throw new ArtifactMismatchError(err.file, err.reason);
    }
    throw err;
  }
}
