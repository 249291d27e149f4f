/**
 * sdk/meter/eddsa.ts against @zk-kit/eddsa-poseidon: the same public keys and signatures, bit for bit, on keys of
 * any length and messages at the field's edges; the same verdict on good signatures and on every kind of bad one
 * (another message, key, R8 or S; points off the curve; S at or above the subgroup order; the identity); and the
 * refusals the circuit makes and the package does not: non-canonical values and keys of small order.
 */
import { expect } from "chai";
import { BABYJUB_SUBGROUP_ORDER, FIELD_MODULUS } from "../../sdk/core/constants.ts";
import { InvalidInputError } from "../../sdk/core/errors.ts";
import { eddsaSigner, verifySignature } from "../../sdk/meter/eddsa.ts";
import { eddsa } from "./helpers.ts";

const derivePublicKey = (key: Uint8Array) => eddsaSigner(key).publicKey;
const signMessage = (key: Uint8Array, message: bigint) => eddsaSigner(key).sign(message);

/** Deterministic pseudo-random bytes (xorshift), so a failure can be replayed. */
function bytes(seed: number, n: number): Uint8Array {
  let x = (seed * 2654435761 + 1) | 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
const field = (seed: number) => BigInt(`0x${Buffer.from(bytes(seed, 32)).toString("hex")}`) % FIELD_MODULUS;
type Sig = { R8: [bigint, bigint]; S: bigint };

describe("EdDSA-Poseidon (sdk/meter/eddsa.ts) against @zk-kit/eddsa-poseidon", function () {
  this.timeout(120_000);
  const edges = [0n, 1n, (1n << 64n) - 1n, 1n << 64n, (1n << 253n) - 1n, BABYJUB_SUBGROUP_ORDER, FIELD_MODULUS - 1n];
  const cases = Array.from({ length: 16 }, (_, i) => ({
    key: bytes(i + 1, [32, 1, 17, 64, 100][i % 5]!),
    message: edges[i] ?? field(100 + i),
  }));

  it("derives the same public keys and makes the same signatures", () => {
    for (const { key, message } of cases) {
      const A = derivePublicKey(key);
      expect(A).to.deep.equal(eddsa.derivePublicKey(key).map(BigInt));
      const ours = signMessage(key, message);
      const theirs = eddsa.signMessage(key, message);
      expect(ours.R8).to.deep.equal(theirs.R8.map(BigInt));
      expect(ours.S).to.equal(BigInt(theirs.S));
      expect(verifySignature(message, ours, A)).to.equal(true);
      expect(eddsa.verifySignature(message, ours, A)).to.equal(true);
    }
  });

  it("gives the package's verdict on good and bad signatures", () => {
    const { key, message } = cases[9]!;
    const A = derivePublicKey(key);
    const other = derivePublicKey(cases[10]!.key);
    const sig = signMessage(key, message);
    const otherSig = signMessage(cases[10]!.key, message);
    const variants: [string, bigint, Sig, [bigint, bigint], boolean][] = [
      ["good", message, sig, A, true],
      ["another message", message + 1n, sig, A, false],
      ["another key", message, sig, other, false],
      ["another R8 (on the curve)", message, { R8: otherSig.R8, S: sig.S }, A, false],
      ["S + 1", message, { R8: sig.R8, S: sig.S + 1n }, A, false],
      ["S = 0", message, { R8: sig.R8, S: 0n }, A, false],
      ["S + l (the same point, not below l)", message, { R8: sig.R8, S: sig.S + BABYJUB_SUBGROUP_ORDER }, A, false],
      ["R8 off the curve", message, { R8: [sig.R8[0], sig.R8[1] + 1n], S: sig.S }, A, false],
      ["key off the curve", message, sig, [A[0] + 1n, A[1]], false],
      ["the identity as key", message, sig, [0n, 1n], false],
      ["the identity as R8", message, { R8: [0n, 1n], S: sig.S }, A, false],
    ];
    for (const [name, m, s, k, valid] of variants) {
      expect(verifySignature(m, s, k), name).to.equal(valid);
      expect(eddsa.verifySignature(m, s, k), `the package on ${name}`).to.equal(valid);
    }
  });

  it("refuses a small-order key as the circuit does (the package accepts any signature under it)", () => {
    // With the identity as key, 8HA is the identity, so S = 0 with R8 = (0, 1) holds for any message in the
    // package. circomlib's EdDSAPoseidonVerifier refuses a key with 8A.x = 0; so does sdk/meter/eddsa.ts.
    const forged: Sig = { R8: [0n, 1n], S: 0n };
    expect(eddsa.verifySignature(5n, forged, [0n, 1n])).to.equal(true);
    expect(verifySignature(5n, forged, [0n, 1n])).to.equal(false);
    // (0, -1) has order 2: 8A is the identity again.
    expect(verifySignature(5n, forged, [0n, FIELD_MODULUS - 1n])).to.equal(false);
  });

  it("refuses non-canonical values the package reduces, and a message outside the field to sign", () => {
    const { key, message } = cases[11]!;
    const A = derivePublicKey(key);
    const sig = signMessage(key, message);
    expect(eddsa.verifySignature(message + FIELD_MODULUS, sig, A), "the package reduces the message").to.equal(true);
    expect(verifySignature(message + FIELD_MODULUS, sig, A)).to.equal(false);
    expect(verifySignature(message, { R8: [sig.R8[0] + FIELD_MODULUS, sig.R8[1]], S: sig.S }, A)).to.equal(false);
    expect(verifySignature(message, sig, [A[0], A[1] + FIELD_MODULUS])).to.equal(false);
    expect(verifySignature(-1n, sig, A)).to.equal(false);
    expect(verifySignature(message, { R8: sig.R8, S: -1n }, A)).to.equal(false);
    expect(() => signMessage(key, FIELD_MODULUS)).to.throw(InvalidInputError, /field element/);
    expect(() => signMessage(key, -1n)).to.throw(InvalidInputError, /field element/);
  });
});
