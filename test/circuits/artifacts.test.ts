/**
 * The committed proving artifacts belong to the committed sources: a circuit edited without
 * `npm run build:circuits` fails here (and in `npm run inspect:circuits`, which also compares the r1cs), and so
 * does a Solidity verifier that is not the one the manifest records (the prover itself never reads verifiers).
 * And the public-signal order is written the same in circuits.json, the manifest and the prover.
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { loadArtifacts } from "../../prover/artifacts.ts";
import { artifactPaths } from "../../prover/node/fileSource.ts";
import {
  CLOSE_PUBLIC_SIGNALS,
  LOCK_PUBLIC_SIGNALS,
  PAY_PUBLIC_SIGNALS,
  TRANSACT_PUBLIC_SIGNALS,
} from "../../sdk/proofs/publicSignals.ts";
import { circuitSpecs, sourceHash } from "../../scripts/lib/circuits.ts";
import { checkVerifier } from "../../scripts/lib/verifier.ts";

const PROVER_ORDER: Record<string, readonly string[]> = {
  pay: PAY_PUBLIC_SIGNALS,
  transact: TRANSACT_PUBLIC_SIGNALS,
  lock: LOCK_PUBLIC_SIGNALS,
  close: CLOSE_PUBLIC_SIGNALS,
};

describe("circuit artifacts", () => {
  const specs = circuitSpecs();

  it("covers every circuit of circuits.json in the prover's signal tables", () => {
    expect(Object.keys(PROVER_ORDER).sort()).to.deep.equal(Object.keys(specs).sort());
  });

  for (const [name, spec] of Object.entries(specs)) {
    describe(name, () => {
      it("was built from the current sources (else run npm run build:circuits)", async () => {
        const artifacts = await loadArtifacts(name); // wasm, zkey, vkey hashes
        checkVerifier(name); // the Solidity verifier's hash
        expect(artifacts.circuit.sha256.sources, `${name} sources changed since the build`).to.equal(sourceHash(name));
        expect(artifacts.circuit.template).to.equal(spec.template);
        expect(artifacts.circuit.params).to.deep.equal(spec.params);
      });

      it("keeps one public-signal order in circuits.json, the manifest, the prover and the verification key", async () => {
        const artifacts = await loadArtifacts(name);
        expect(artifacts.circuit.publicSignals).to.deep.equal(spec.pubs);
        // The prover flattens array signals (name[i]); their base names follow circuits.json's order.
        const flattened = PROVER_ORDER[name]!;
        const bases = flattened.map((s) => s.replace(/\[\d+\]$/, "")).filter((s, i, all) => all.indexOf(s) === i);
        expect(bases).to.deep.equal(spec.pubs);
        expect(artifacts.vkey.nPublic).to.equal(flattened.length);
        // Development keys say so in the generated verifier too.
        const verifier = readFileSync(artifactPaths(name).verifierPath, "utf8");
        expect(verifier.includes("INSECURE development keys")).to.equal(artifacts.manifest.insecure);
      });
    });
  }
});
