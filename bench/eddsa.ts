/**
 * EdDSA-Poseidon per signature and per check: sdk/meter/eddsa.ts (noble's Baby Jubjub) against the reference
 * package it replaced on the hot path, `@zk-kit/eddsa-poseidon` (docs/decisions.md), on the same keys and
 * messages, interleaved so that both see the same load. A meter key is used for many readings, as in a session:
 * the first check of a key builds its window table, which the figures include once per key.
 *
 * `benchEddsa()` is what bench/bench.ts calls; `tsx bench/eddsa.ts [rounds]` runs it alone.
 */
import { createRequire } from "node:module";
import type * as EddsaPoseidon from "@zk-kit/eddsa-poseidon";
import { eddsaSigner, verifySignature } from "../sdk/meter/eddsa.ts";
import { sample, type Sample } from "./stats.ts";

// The package's ESM build cannot be loaded by Node's ESM loader; its CommonJS build can.
const reference = createRequire(import.meta.url)("@zk-kit/eddsa-poseidon") as typeof EddsaPoseidon;

/** Milliseconds per operation, medians over rounds. */
export interface EddsaBench {
  rounds: number;
  ours: { signMs: Sample; checkMs: Sample };
  reference: { signMs: Sample; checkMs: Sample };
}

/** Times `f` once, in ms. */
function time(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

/** `rounds` (1..200) signatures and checks by each implementation, one key per 10 rounds. */
export function benchEddsa(rounds = 40): EddsaBench {
  rounds = Math.min(200, Math.max(1, rounds));
  const t = { ourSign: [] as number[], ourCheck: [] as number[], refSign: [] as number[], refCheck: [] as number[] };
  let key = crypto.getRandomValues(new Uint8Array(32));
  let signer = eddsaSigner(key);
  for (let i = 0; i < rounds; i++) {
    if (i % 10 === 0) {
      key = crypto.getRandomValues(new Uint8Array(32));
      signer = eddsaSigner(key);
    }
    const message = BigInt(i) * 1_000_003n + 7n;
    let ours!: ReturnType<typeof signer.sign>;
    let theirs!: ReturnType<typeof reference.signMessage>;
    t.ourSign.push(time(() => (ours = signer.sign(message))));
    t.refSign.push(time(() => (theirs = reference.signMessage(key, message))));
    if (ours.S !== theirs.S) throw new Error("bench/eddsa: the two implementations signed differently");
    let valid = false;
    t.ourCheck.push(time(() => (valid = verifySignature(message, ours, signer.publicKey))));
    if (!valid) throw new Error("bench/eddsa: a good signature did not verify");
    t.refCheck.push(time(() => (valid = reference.verifySignature(message, theirs, signer.publicKey))));
    if (!valid) throw new Error("bench/eddsa: the package refused a good signature");
  }
  return {
    rounds,
    ours: { signMs: sample(t.ourSign), checkMs: sample(t.ourCheck) },
    reference: { signMs: sample(t.refSign), checkMs: sample(t.refCheck) },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(benchEddsa(Number(process.argv[2] ?? 40)), null, 2));
}
