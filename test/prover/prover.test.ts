import { expect } from "chai";
import { execFile } from "node:child_process";
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  appendFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as snarkjs from "snarkjs";
import {
  BN254_R,
  InputError,
  ProverPool,
  StaleArtifactsError,
  WitnessError,
  artifactPaths,
  calculateWitness,
  formatCalldata,
  generateProof,
  loadArtifacts,
  sha256File,
  shutdownProver,
  verifyProof,
  type CircuitInput,
  type Manifest,
} from "../../prover/node/index.ts";
import { checkVerifier } from "../../scripts/lib/verifier.ts";
import { buildFixture, type Fixture } from "./fixtures/build-fixture.ts";
import { rejectsWith } from "../fixtures/expect.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");

describe("prover (multiplier fixture)", function () {
  let fx: Fixture;
  let root: string;
  let pool: ProverPool;
  const scratch: string[] = [];
  const good: CircuitInput = { a: 3, b: [4n, "5"], k: "0x07" }; // out = 3*4*5 + 7 = 67

  /** A copy of the fixture's artifacts tree that a test may tamper with. */
  function copyRoot(): string {
    const dir = mkdtempSync(path.join(tmpdir(), "zkcharge-prover-copy-"));
    scratch.push(dir);
    cpSync(root, dir, { recursive: true });
    return dir;
  }

  before(async function () {
    this.timeout(180_000);
    fx = await buildFixture();
    root = fx.root;
    pool = new ProverPool({ size: 2, onLog: () => {} });
  });

  after(async function () {
    await pool?.close();
    await shutdownProver();
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
    if (fx !== undefined) rmSync(fx.tmp, { recursive: true, force: true });
  });

  describe("artifacts", function () {
    it("resolves the layout and checks it against the manifest", async function () {
      const art = await loadArtifacts("multiplier", { root });
      expect(art.wasmPath).to.equal(path.join(root, "build/circuits/multiplier/multiplier.wasm"));
      expect(artifactPaths("multiplier", root).verifierPath).to.equal(
        path.join(root, "contracts/verifiers/MultiplierVerifier.sol"),
      );
      expect(art.wasm).to.deep.equal(new Uint8Array(readFileSync(art.wasmPath)), "the checked bytes");
      expect(art.vkey.nPublic).to.equal(2);
      expect(art.circuit.publicSignals).to.deep.equal(["out", "k"]);
      expect(await loadArtifacts("multiplier", { root })).to.equal(art, "cached per process");
    });

    it("defaults to the repository root", function () {
      expect(artifactPaths("pay").zkeyPath).to.equal(path.join(repo, "build/circuits/pay/pay.zkey"));
      expect(artifactPaths("transact").verifierPath).to.equal(
        path.join(repo, "contracts/verifiers/TransactVerifier.sol"),
      );
    });

    for (const kind of ["wasm", "zkey", "vkey", "verifier"] as const) {
      it(`throws StaleArtifactsError naming a tampered ${kind}`, async function () {
        const copy = copyRoot();
        const file = artifactPaths("multiplier", copy)[`${kind === "vkey" ? "vkey" : kind}Path`];
        appendFileSync(file, kind === "vkey" ? " " : "\n// tampered\n");
        // The verifier is the build's and its tests' to check (a wallet has no contracts/), not the prover's.
        const check =
          kind === "verifier"
            ? Promise.resolve().then(() => checkVerifier("multiplier", { root: copy }))
            : loadArtifacts("multiplier", { root: copy });
        const err = await rejectsWith(check, StaleArtifactsError);
        expect(err.file).to.equal(file);
        expect(err.message).to.contain(file).and.contain("npm run build:circuits").and.contain("sha256");
        if (kind === "verifier") expect((await loadArtifacts("multiplier", { root: copy })).vkey.nPublic).to.equal(2);
      });
    }

    it("throws StaleArtifactsError for a missing file, a missing manifest and an unknown circuit", async function () {
      const copy = copyRoot();
      const paths = artifactPaths("multiplier", copy);
      unlinkSync(paths.verifierPath);
      const missing = await rejectsWith(
        Promise.resolve().then(() => checkVerifier("multiplier", { root: copy })),
        StaleArtifactsError,
      );
      expect(missing.file).to.equal(paths.verifierPath);
      expect(missing.message).to.contain("missing").and.contain("npm run build:circuits");
      unlinkSync(paths.wasmPath);
      const missingWasm = await rejectsWith(loadArtifacts("multiplier", { root: copy }), StaleArtifactsError);
      expect(missingWasm.file).to.equal(paths.wasmPath);
      expect(missingWasm.message).to.contain("missing").and.contain("npm run build:circuits");

      const unknown = await rejectsWith(loadArtifacts("nosuch", { root }), StaleArtifactsError);
      expect(unknown.message).to.contain('no entry for circuit "nosuch"');

      unlinkSync(paths.manifestPath);
      const noManifest = await rejectsWith(loadArtifacts("transact", { root: copy }), StaleArtifactsError);
      expect(noManifest.file).to.equal(paths.manifestPath);
    });

    it("generateProof refuses stale artifacts before proving", async function () {
      const copy = copyRoot();
      appendFileSync(artifactPaths("multiplier", copy).zkeyPath, "x");
      await rejectsWith(generateProof("multiplier", good, { root: copy, backend: pool }), StaleArtifactsError);
    });
  });

  describe("calculateWitness", function () {
    it("computes the full witness", async function () {
      const w = await calculateWitness("multiplier", good, { root });
      // [one, out, k, a, b[0], b[1], ab0]
      expect(w).to.deep.equal([1n, 67n, 7n, 3n, 4n, 5n, 12n]);
    });

    it("matches snarkjs wtns calculate", async function () {
      const art = await loadArtifacts("multiplier", { root });
      const wtnsFile: { type: "mem"; data?: Uint8Array } = { type: "mem" };
      await snarkjs.wtns.calculate({ a: 3, b: [4, 5], k: 7 }, art.wasmPath, wtnsFile);
      const data = wtnsFile.data!;
      // .wtns: 12-byte file header, section 1 (12-byte header + n8 + prime + nWitness), section 2 header, values.
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const n8 = view.getUint32(24, true);
      const nWitness = view.getUint32(28 + n8, true);
      const start = 28 + n8 + 4 + 12;
      const theirs: bigint[] = [];
      for (let i = 0; i < nWitness; i++) {
        let v = 0n;
        for (let j = n8 - 1; j >= 0; j--) v = (v << 8n) | BigInt(data[start + i * n8 + j]!);
        theirs.push(v);
      }
      expect(await calculateWitness("multiplier", good, { root })).to.deep.equal(theirs);
    });

    it("translates a failing assert into WitnessError naming the circuit, template and line", async function () {
      const err = await rejectsWith(calculateWitness("multiplier", { ...good, a: 1000 }, { root }), WitnessError);
      expect(err.circuit).to.equal("multiplier");
      expect(err.template).to.equal("RangeGuard");
      expect(err.line).to.equal(7);
      expect(err.message).to.match(/^multiplier: witness generation failed: assert failed in template RangeGuard/);
      expect(err.message).to.contain("line 7");
      expect(err.originalMessage).to.contain("Assert Failed").and.contain("Error in template RangeGuard_0 line: 7");
    });

    it("rejects values outside [0, r) naming the signal, before any wasm runs", async function () {
      let err = await rejectsWith(calculateWitness("multiplier", { ...good, a: BN254_R }, { root }), InputError);
      expect(err.problems).to.have.length(1);
      expect(err.problems[0]!.signal).to.equal("a");
      expect(err.message).to.contain("field modulus");

      err = await rejectsWith(calculateWitness("multiplier", { ...good, b: [4, -1] }, { root }), InputError);
      expect(err.problems[0]!.signal).to.equal("b[1]");
      expect(err.message).to.contain("negative");

      err = await rejectsWith(
        calculateWitness("multiplier", { a: 1.5, b: ["12x", 2 ** 60], k: (BN254_R + 7n).toString() }, { root }),
        InputError,
      );
      expect(err.problems.map((p) => p.signal)).to.deep.equal(["a", "b[0]", "b[1]", "k"]);

      // r - 1 is a valid field element (a public input may take it).
      const w = await calculateWitness("multiplier", { ...good, k: BN254_R - 1n }, { root });
      expect(w[2]).to.equal(BN254_R - 1n);
      expect(w[1]).to.equal(59n); // 3*4*5 + (r - 1) = 59 mod r
    });

    it("names missing, extra and wrongly sized signals", async function () {
      let err = await rejectsWith(calculateWitness("multiplier", { a: 3, b: [4, 5] }, { root }), InputError);
      expect(err.problems).to.deep.equal([{ signal: "k", problem: "is missing" }]);

      err = await rejectsWith(calculateWitness("multiplier", { ...good, out: 67, z: 1 }, { root }), InputError);
      expect(err.problems.map((p) => p.signal)).to.deep.equal(["out", "z"]);
      expect(err.message).to.contain("extra signal");

      err = await rejectsWith(calculateWitness("multiplier", { ...good, b: [4, 5, 6] }, { root }), InputError);
      expect(err.problems[0]!.signal).to.equal("b");
      expect(err.problems[0]!.problem).to.contain("expects 2");
    });

    it("still reports missing values without a .sym file", async function () {
      const copy = copyRoot();
      unlinkSync(artifactPaths("multiplier", copy).symPath);
      const err = await rejectsWith(calculateWitness("multiplier", { a: 3, b: [4, 5] }, { root: copy }), InputError);
      expect(err.message).to.contain("covering 1 of the circuit's 4 input values are missing");
    });
  });

  describe("generateProof / verifyProof (worker pool)", function () {
    it("proves in a worker, verifies, and formats calldata like snarkjs", async function () {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      const res = await generateProof("multiplier", good, { root, backend: pool });
      clearInterval(timer);
      expect(ticks, "main thread kept running while proving").to.be.greaterThan(0);
      expect(res.publicSignals).to.deep.equal([67n, 7n]);
      expect(res.witnessMs).to.be.a("number").and.at.least(0);
      expect(res.proveMs).to.be.a("number").and.greaterThan(0);
      expect(await verifyProof("multiplier", res.proof, res.publicSignals, { root, backend: pool })).to.equal(true);
      expect(await verifyProof("multiplier", res.proof, [68n, 7n], { root, backend: pool })).to.equal(false);
      expect(await verifyProof("multiplier", res.proof, ["67", "7"], { root, backend: pool })).to.equal(true);

      const [a, b, c, pub] = JSON.parse(
        `[${await snarkjs.groth16.exportSolidityCallData(res.proof, res.publicSignals.map(String))}]`,
      ) as [string[], string[][], string[], string[]];
      const big = (x: string): bigint => BigInt(x);
      expect(res.calldata).to.deep.equal({
        a: a.map(big),
        b: b.map((row) => row.map(big)),
        c: c.map(big),
      });
      expect(pub.map(big)).to.deep.equal(res.publicSignals);
      expect(formatCalldata(res.proof)).to.deep.equal(res.calldata);
    });

    it("rejects a wrong number of public signals", async function () {
      const res = await generateProof("multiplier", good, { root, backend: pool });
      await rejectsWith(verifyProof("multiplier", res.proof, [67n], { root, backend: pool }), InputError);
    });

    it("runs proofs concurrently on a pool of two workers", async function () {
      const inputs = [1, 2, 3, 4].map((a) => ({ a, b: [2, 3], k: 1 }));
      const proofs = await Promise.all(inputs.map((i) => generateProof("multiplier", i, { root, backend: pool })));
      expect(proofs.map((p) => p.publicSignals[0])).to.deep.equal([7n, 13n, 19n, 25n]);
      expect(pool.workers).to.be.at.most(2);
      const ok = await Promise.all(
        proofs.map((p) => verifyProof("multiplier", p.proof, p.publicSignals, { root, backend: pool })),
      );
      expect(ok).to.deep.equal([true, true, true, true]);
    });

    it("propagates a failing assert from the worker as WitnessError", async function () {
      const err = await rejectsWith(
        generateProof("multiplier", { ...good, a: 5000 }, { root, backend: pool }),
        WitnessError,
      );
      expect(err.template).to.equal("RangeGuard");
      expect(err.line).to.equal(7);
      expect(err.stack).to.contain("rethrown from prover worker");
    });

    it("rejects out-of-field and misnamed inputs with InputError", async function () {
      const e1 = await rejectsWith(
        generateProof("multiplier", { ...good, k: -1n }, { root, backend: pool }),
        InputError,
      );
      expect(e1.problems[0]!.signal).to.equal("k");
      const e2 = await rejectsWith(
        generateProof("multiplier", { a: 1, b: [1, 1], kk: 1 }, { root, backend: pool }),
        InputError,
      );
      expect(e2.problems).to.deep.equal([
        { signal: "kk", problem: "is not an input signal of the circuit (extra signal)" },
        { signal: "k", problem: "is missing" },
      ]);
    });

    it("propagates a snarkjs error from the worker with its message", async function () {
      const copy = copyRoot();
      const paths = artifactPaths("multiplier", copy);
      truncateSync(paths.zkeyPath, 200); // corrupt, but re-recorded in the manifest: snarkjs itself fails
      const manifest = JSON.parse(readFileSync(paths.manifestPath, "utf8")) as Manifest;
      manifest.circuits.multiplier!.sha256.zkey = await sha256File(paths.zkeyPath);
      writeFileSync(paths.manifestPath, JSON.stringify(manifest));
      try {
        await generateProof("multiplier", good, { root: copy, backend: pool });
        expect.fail("expected an error");
      } catch (err) {
        expect(err).to.be.instanceOf(Error);
        expect((err as Error).message).to.match(/^multiplier: snarkjs groth16.prove failed \(.*multiplier\.zkey\): ./);
        expect((err as Error).stack).to.contain("rethrown from prover worker");
      }
      // The pool still works afterwards.
      expect((await generateProof("multiplier", good, { root, backend: pool })).publicSignals[0]).to.equal(67n);
    });

    it("uses the default pool and shuts it down", async function () {
      const res = await generateProof("multiplier", good, { root });
      expect(await verifyProof("multiplier", res.proof, res.publicSignals, { root })).to.equal(true);
      await shutdownProver();
      // A later call starts a fresh default pool.
      expect((await generateProof("multiplier", good, { root })).publicSignals).to.deep.equal([67n, 7n]);
      await shutdownProver();
    });

    it("closes a pool cleanly and refuses work afterwards", async function () {
      const p = new ProverPool({ size: 1 });
      await p.warmup();
      expect(p.workers).to.equal(1);
      const res = await generateProof("multiplier", good, { root, backend: p });
      expect(res.setupMs, "warm worker: no set-up in the first proof").to.equal(0);
      await p.close();
      expect(p.workers).to.equal(0);
      await rejectsWith(generateProof("multiplier", good, { root, backend: p }), Error);
    });

    it("works from a plain `tsx` script, which then exits without an explicit shutdown", async function () {
      this.timeout(60_000);
      const tsx = path.join(repo, "node_modules/tsx/dist/cli.mjs");
      const script = path.join(here, "fixtures/prove-script.ts");
      const { stdout } = await promisify(execFile)(process.execPath, [tsx, script, root], {
        cwd: tmpdir(), // not the repo: worker loading must not depend on the working directory
        timeout: 50_000,
      });
      const out = JSON.parse(stdout.trim().split("\n").pop()!) as { ok: boolean; publicSignals: string[] };
      expect(out).to.deep.include({ ok: true, publicSignals: ["25", "1"] });
    });
  });
});
