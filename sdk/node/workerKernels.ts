/**
 * Node-only adapter behind `#worker-kernels` (see sdk/core/offThread.ts): the two inner loops of a cold wallet
 * sync, in native code, for the task workers of `#task-pool`:
 *
 * - {@link merkleNodeHasher}: the note tree's pair hash `H_2` by circomlibjs's WebAssembly Poseidon (iden3's
 *   implementation of the circuit's Poseidon; about 44 µs a node on this 2-core machine, poseidon-lite's BigInt
 *   code 160-240 µs);
 * - {@link symmetricPrimitives}: HKDF-SHA256 and ChaCha20-Poly1305 by node:crypto (OpenSSL): about 12 µs for one
 *   HKDF and one open of a note, @noble's 25 µs.
 *
 * Both compute exactly what the SDK's pure-JavaScript code computes (test/sdk/workerKernels.test.ts compares them
 * on edge values); that code stays the reference, and runs everywhere else (browsers: `workerKernels.browser.ts`).
 */
import { createDecipheriv, hkdfSync } from "node:crypto";
import { importAsParentThread } from "../../prover/node/ffjavascriptImport.ts";

/** Same shape as sdk/core/encryption.ts's `SymmetricPrimitives` (this layer imports nothing of the SDK). */
export const symmetricPrimitives = {
  hkdfSha256: (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array =>
    new Uint8Array(hkdfSync("sha256", ikm, salt, info, length)),
  chacha20Poly1305Open: (key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array => {
    if (sealed.length < 16) throw new Error("ChaCha20-Poly1305: ciphertext shorter than its tag");
    const decipher = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const opened = decipher.update(sealed.subarray(0, sealed.length - 16));
    decipher.final(); // throws when the tag does not verify: nothing opened is returned then
    return new Uint8Array(opened.buffer, opened.byteOffset, opened.length);
  },
};

type PairHash = (left: bigint, right: bigint) => bigint;

let hasher: Promise<PairHash> | undefined;

/**
 * The pair hash `H_2(left, right)` (circomlib's Poseidon with 2 inputs) on a WebAssembly engine built once per
 * thread. Inputs must be canonical field elements (`< r`): others are not refused but reduced, so the tree's
 * `restoreLevels` checks the leaves (the outputs always are).
 */
export function merkleNodeHasher(): Promise<PairHash> {
  return (hasher ??= buildHasher());
}

async function buildHasher(): Promise<PairHash> {
  // circomlibjs's own copy of ffjavascript sets `globalThis.curve_bn128 = null` when it loads: the cache of the
  // snarkjs engine, were one built in this thread. Keep it, so loading this module never costs a prover its engine.
  const g = globalThis as { curve_bn128?: unknown };
  const cached = g.curve_bn128;
  const { buildPoseidon } = await importAsParentThread(() => import("circomlibjs"));
  g.curve_bn128 = cached;
  const engine = await buildPoseidon();
  const tm = engine.F.tm;
  const wasm = tm.instance.exports;
  // Initial state (zero), two inputs and the output, 8-byte aligned for 64-bit word access (alloc aligns to 4).
  const base = tm.alloc(128 + 8);
  const pState = base + ((8 - (base % 8)) % 8);
  const pIn = pState + 32;
  const pOut = pIn + 64;
  let words = new BigUint64Array(tm.memory.buffer);
  const MASK = (1n << 64n) - 1n;
  const put = (at: number, x: bigint) => {
    if (words.buffer !== tm.memory.buffer) words = new BigUint64Array(tm.memory.buffer); // memory grew
    const i = at / 8;
    words[i] = x & MASK;
    words[i + 1] = (x >> 64n) & MASK;
    words[i + 2] = (x >> 128n) & MASK;
    words[i + 3] = x >> 192n;
  };
  const get = (at: number) => {
    const i = at / 8;
    return words[i]! | (words[i + 1]! << 64n) | (words[i + 2]! << 128n) | (words[i + 3]! << 192n);
  };
  put(pState, 0n);
  return (left, right) => {
    put(pIn, left);
    put(pIn + 32, right);
    wasm.frm_toMontgomery(pIn, pIn);
    wasm.frm_toMontgomery(pIn + 32, pIn + 32);
    wasm.poseidon(pState, pIn, 2, pOut, 1);
    wasm.frm_fromMontgomery(pOut, pOut);
    return get(pOut);
  };
}
