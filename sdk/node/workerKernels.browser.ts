/**
 * Browser and bundler build of `#worker-kernels` (see sdk/node/workerKernels.ts): the SDK's own pure-JavaScript
 * pair hash and symmetric primitives (a browser has no task workers: sdk/node/taskPool.browser.ts).
 */

/** `undefined`: the caller keeps its default, @noble's primitives. */
export const symmetricPrimitives = undefined;

/** `undefined`: the caller keeps its default pair hash, poseidon-lite's. */
export async function merkleNodeHasher(): Promise<undefined> {
  return undefined;
}
