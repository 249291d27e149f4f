/**
 * Builds every circuit of circuits/circuits.json into proving artifacts, deterministically:
 * wasm, zkey, verification key, Solidity verifier and build/circuits/manifest.json with the
 * sha256 of sources, r1cs, wasm, zkey, vkey and verifier.
 *
 *   npm run build:circuits                          development keys (insecure, public toxic waste)
 *       [-- --ptau path/to/pot.ptau] [--only pay]
 *   npm run build:circuits -- --production --ptau <public ceremony .ptau> \
 *       --contributions <dir with <name>.zkey, the last phase-2 contribution of each circuit> \
 *       --beacon <hex of a public random beacon>
 *
 * Development: phase 2 is a single deterministic beacon over the `snarkjs zkey new` output, so the
 * same sources and ptau always give byte-identical zkeys. Production: the contributions are made
 * beforehand with `snarkjs zkey new` + `snarkjs zkey contribute` by independent parties; this
 * script checks each with `snarkjs zkey verify` against the r1cs and the ceremony ptau, applies
 * the final public beacon, verifies again, and marks the manifest secure.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import * as snarkjs from "snarkjs";
import { compileCircuit } from "./lib/circom.ts";
import type { Manifest } from "../prover/artifacts.ts";
import { REPO_ROOT, artifactPaths } from "../prover/node/fileSource.ts";
import { CIRCOM_VERSION, circuitSpecs, fileHash, sourceHash } from "./lib/circuits.ts";

/** Development powers of tau (2^16, insecure), shipped beside the repo in ../shared/ptau. */
const DEV_PTAU = {
  path: join(REPO_ROOT, "..", "shared", "ptau", "dev-pot16.ptau"),
  sha256: "236b5b3503bb84d60f3274c6bc1896c3be78cce012f0baf4d7562f67c8c91437",
};
/** The fixed phase-2 beacon of development keys: public on purpose, so anyone can rebuild them. */
const DEV_BEACON = "7a6b6368617267652d6465762d696e7365637572652d6265616b6f6e2d763100";
const BEACON_ITERATIONS_EXP = 10;

const { values: args } = parseArgs({
  options: {
    ptau: { type: "string" },
    only: { type: "string" },
    production: { type: "boolean", default: false },
    contributions: { type: "string" },
    beacon: { type: "string" },
  },
});

async function main() {
  const ptau = args.ptau ?? DEV_PTAU.path;
  if (!existsSync(ptau)) throw new Error(`powers of tau not found: ${ptau} (pass --ptau <file>)`);
  const ptauHash = fileHash(ptau);
  if (args.production) {
    if (!args.contributions || !args.beacon)
      throw new Error("--production needs --contributions <dir> and --beacon <hex>");
    if (ptauHash === DEV_PTAU.sha256) throw new Error("--production refuses the insecure development ptau");
  }
  const beacon = args.production ? args.beacon! : DEV_BEACON;
  if (!/^[0-9a-fA-F]{64}$/.test(beacon)) throw new Error("--beacon must be 32 bytes of hex");

  const specs = circuitSpecs();
  const names = args.only ? args.only.split(",") : Object.keys(specs);
  const { manifestPath } = artifactPaths("pay");
  const previous: Manifest | undefined = existsSync(manifestPath)
    ? JSON.parse(readFileSync(manifestPath, "utf8"))
    : undefined;
  const snarkjsVersion = JSON.parse(
    readFileSync(join(REPO_ROOT, "node_modules", "snarkjs", "package.json"), "utf8"),
  ).version;
  const manifest: Manifest = {
    version: 1,
    insecure: !args.production,
    ptau: { name: ptau.split("/").pop()!, sha256: ptauHash },
    beacon,
    circom: CIRCOM_VERSION,
    snarkjs: snarkjsVersion,
    circuits: args.only && previous ? previous.circuits : {},
  };
  if (previous && args.only && (previous.ptau.sha256 !== ptauHash || previous.insecure !== manifest.insecure)) {
    throw new Error("--only would mix artifacts from different setups: rebuild all circuits");
  }

  for (const name of names) {
    const spec = specs[name];
    if (!spec) throw new Error(`unknown circuit "${name}"`);
    const paths = artifactPaths(name);
    const tmp = join(REPO_ROOT, "build", "tmp", name);
    rmSync(tmp, { recursive: true, force: true });
    const started = Date.now();
    console.log(`[${name}] compiling ${spec.template}(${spec.params.join(", ")}) with circom ${CIRCOM_VERSION} --O2`);
    const compiled = compileCircuit(name, tmp);
    console.log(`[${name}] ${compiled.constraints} constraints, ${compiled.publicInputs} public inputs`);
    if (compiled.constraints + compiled.publicInputs >= 1 << 15) {
      console.warn(`[${name}] warning: constraints + public inputs >= 2^15: proving domain doubles`);
    }

    mkdirSync(dirname(paths.zkeyPath), { recursive: true });
    const initial = join(tmp, `${name}_0000.zkey`);
    await snarkjs.zKey.newZKey(compiled.r1cs, ptau, initial);
    let last = initial;
    if (args.production) {
      last = join(args.contributions!, `${name}.zkey`);
      if (!(await snarkjs.zKey.verifyFromR1cs(compiled.r1cs, ptau, last))) {
        throw new Error(`[${name}] zkey verify failed for the contribution ${last}`);
      }
    }
    const final = join(tmp, `${name}_final.zkey`);
    await snarkjs.zKey.beacon(last, final, "zkcharge final beacon", beacon, BEACON_ITERATIONS_EXP);
    if (!(await snarkjs.zKey.verifyFromR1cs(compiled.r1cs, ptau, final))) {
      throw new Error(`[${name}] zkey verify failed after the beacon`);
    }
    copyFileSync(final, paths.zkeyPath);
    copyFileSync(compiled.wasm, paths.wasmPath);

    const vkey = await snarkjs.zKey.exportVerificationKey(paths.zkeyPath);
    writeFileSync(paths.vkeyPath, JSON.stringify(vkey, null, 2) + "\n");
    const template = readFileSync(
      join(REPO_ROOT, "node_modules", "snarkjs", "templates", "verifier_groth16.sol.ejs"),
      "utf8",
    );
    const solidity: string = await snarkjs.zKey.exportSolidityVerifier(paths.zkeyPath, { groth16: template });
    mkdirSync(join(REPO_ROOT, "contracts", "verifiers"), { recursive: true });
    writeFileSync(
      paths.verifierPath,
      `// Generated by scripts/build-circuits.ts from build/circuits/${name}/${name}.zkey` +
        (manifest.insecure ? " (INSECURE development keys)" : "") +
        `; do not edit.\n` +
        solidity.replace(/contract Groth16Verifier/, `contract ${basename(paths.verifierPath, ".sol")}`),
    );

    manifest.circuits[name] = {
      template: spec.template,
      params: spec.params,
      publicSignals: spec.pubs,
      constraints: compiled.constraints,
      sha256: {
        sources: sourceHash(name),
        r1cs: fileHash(compiled.r1cs),
        wasm: fileHash(paths.wasmPath),
        zkey: fileHash(paths.zkeyPath),
        vkey: fileHash(paths.vkeyPath),
        verifier: fileHash(paths.verifierPath),
      },
    };
    console.log(`[${name}] done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
  console.log(`manifest: ${manifestPath}${manifest.insecure ? " (insecure development keys)" : ""}`);
}

main()
  .then(() => process.exit(0))
  .catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
