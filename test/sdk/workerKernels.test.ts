/**
 * The task workers' native kernels (sdk/node/workerKernels.ts) compute exactly what the SDK's reference code
 * computes: the WebAssembly pair hash is `merkleNode` (poseidon-lite) on edge values of the field, node:crypto's
 * HKDF and ChaCha20-Poly1305 are @noble's, and a forged tag is refused by both.
 */
import { expect } from "chai";
import { FIELD_MODULUS } from "../../sdk/core/constants.ts";
import { NOBLE_PRIMITIVES } from "../../sdk/core/encryption.ts";
import { randomFieldElement } from "../../sdk/core/field.ts";
import { merkleNode } from "../../sdk/core/hash.ts";
import { merkleNodeHasher, symmetricPrimitives } from "../../sdk/node/workerKernels.ts";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { Worker } from "node:worker_threads";
import { defaultWorkerExecArgv } from "../../prover/node/pool.ts";

const r = FIELD_MODULUS;
const EDGES = [
  0n,
  1n,
  2n,
  2n ** 64n - 1n,
  2n ** 64n,
  2n ** 128n - 1n,
  2n ** 128n,
  2n ** 192n,
  2n ** 253n,
  r - 2n,
  r - 1n,
];

describe("task-worker kernels", function () {
  this.timeout(60_000);

  it("hashes a pair as merkleNode does, on every edge value of the field and random ones", async () => {
    const hash = await merkleNodeHasher();
    for (const a of EDGES) for (const b of EDGES) expect(hash(a, b), `H(${a}, ${b})`).to.equal(merkleNode(a, b));
    for (let i = 0; i < 50; i++) {
      const [a, b] = [randomFieldElement(), randomFieldElement()];
      expect(hash(a, b)).to.equal(merkleNode(a, b));
    }
    // Order matters, and one engine serves every call: a chain of hashes stays equal.
    let [x, y] = [1n, 2n];
    for (let i = 0; i < 20; i++) [x, y] = [hash(x, y), merkleNode(y, x)];
    let [u, v] = [1n, 2n];
    for (let i = 0; i < 20; i++) [u, v] = [merkleNode(u, v), merkleNode(v, u)];
    expect([x, y]).to.deep.equal([u, v]);
    expect(await merkleNodeHasher()).to.equal(hash);
  });

  it("leaves a bn128 engine cached by snarkjs in place when it first loads (in a fresh thread)", async () => {
    // circomlibjs' ffjavascript clears globalThis.curve_bn128 when it is first evaluated; this thread has loaded it
    // already, so the first load is watched in a new worker thread.
    const kernels = new URL("../../sdk/node/workerKernels.ts", import.meta.url).href;
    const code = `
      const { parentPort } = require("node:worker_threads");
      const marker = { engine: "marker" };
      globalThis.curve_bn128 = marker;
      import(${JSON.stringify(kernels)})
        .then((k) => k.merkleNodeHasher())
        .then((hash) => parentPort.postMessage({ kept: globalThis.curve_bn128 === marker, h: hash(1n, 2n).toString() }))
        .catch((e) => parentPort.postMessage({ error: String(e) }));`;
    const worker = new Worker(code, { eval: true, execArgv: defaultWorkerExecArgv() });
    try {
      const reply = await new Promise<{ kept?: boolean; h?: string; error?: string }>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      expect(reply.error).to.equal(undefined);
      expect(reply.kept, "globalThis.curve_bn128 after loading the kernels").to.equal(true);
      expect(reply.h).to.equal(merkleNode(1n, 2n).toString());
    } finally {
      await worker.terminate();
    }
  });

  it("derives keys as @noble's HKDF-SHA256 does", () => {
    for (const length of [1, 32, 44, 64]) {
      const [ikm, salt, info] = [32, 64, 27].map((n) => crypto.getRandomValues(new Uint8Array(n)));
      expect(symmetricPrimitives.hkdfSha256(ikm!, salt!, info!, length)).to.deep.equal(
        NOBLE_PRIMITIVES.hkdfSha256(ikm!, salt!, info!, length),
      );
    }
  });

  it("opens what @noble's ChaCha20-Poly1305 sealed, and refuses a forged tag or a truncated ciphertext", () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    for (const size of [0, 1, 40, 64, 100]) {
      const plain = crypto.getRandomValues(new Uint8Array(size));
      const sealed = chacha20poly1305(key, nonce).encrypt(plain);
      expect(symmetricPrimitives.chacha20Poly1305Open(key, nonce, sealed)).to.deep.equal(plain);
      for (const at of [0, sealed.length - 1]) {
        const forged = sealed.slice();
        forged[at]! ^= 1;
        expect(() => symmetricPrimitives.chacha20Poly1305Open(key, nonce, forged), `byte ${at} of ${size}`).to.throw();
        expect(() => NOBLE_PRIMITIVES.chacha20Poly1305Open(key, nonce, forged)).to.throw();
      }
    }
    expect(() => symmetricPrimitives.chacha20Poly1305Open(key, nonce, new Uint8Array(15))).to.throw(
      /shorter than its tag/,
    );
    const wrongKey = crypto.getRandomValues(new Uint8Array(32));
    expect(() =>
      symmetricPrimitives.chacha20Poly1305Open(
        wrongKey,
        nonce,
        chacha20poly1305(key, nonce).encrypt(new Uint8Array(40)),
      ),
    ).to.throw();
  });
});
