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
 *   (--root <dir>: build the tree at <dir> instead of this repository; the tests build fixture trees with it)
 *
 * Development: the ptau is `--ptau`, else the shared development ptau beside the repository
 * (../shared/ptau/dev-pot16.ptau, which the committed artifacts come from), else a development ptau
 * generated here once and cached in build/ptau/ (see lib/ptau.ts; a clone without ../shared gets valid
 * artifacts, which differ from the committed ones because their ptau does). Phase 2 is a single
 * deterministic beacon over the `snarkjs zkey new` output, so the same sources and ptau always give
 * byte-identical zkeys. Production: the contributions are made beforehand with `snarkjs zkey new` +
 * `snarkjs zkey contribute` by independent parties; this script refuses a development ptau, checks each
 * contribution with `snarkjs zkey verify` against the r1cs and the ceremony ptau, applies the final
 * public beacon, verifies again, and marks the manifest secure.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as snarkjs from "snarkjs";
import { compileCircuit, type CompileResult } from "./lib/circom.ts";
import type { Manifest } from "../prover/artifacts.ts";
import { REPO_ROOT, artifactPaths } from "../prover/node/fileSource.ts";
import { CIRCOM_VERSION, circuitSpecs, fileHash, sourceHash } from "./lib/circuits.ts";
import {
  devPtauPower,
  estimatedSeconds,
  findDevPtau,
  generateDevPtau,
  isDevPtau,
  readPtauInfo,
  requiredPower,
} from "./lib/ptau.ts";

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
    root: { type: "string" },
  },
});

/** The ptau to build from: the one given, else a development one found or generated (with progress). */
async function choosePtau(root: string, power: number): Promise<string> {
  if (args.ptau) {
    if (!existsSync(args.ptau)) throw new Error(`powers of tau not found: ${args.ptau}`);
    const given = readPtauInfo(args.ptau).power;
    if (given < power) throw new Error(`${args.ptau} holds 2^${given} powers; these circuits need 2^${power}`);
    return args.ptau;
  }
  const found = findDevPtau(root, power);
  if (found) return found;
  const size = devPtauPower(power);
  const seconds = estimatedSeconds(size);
  console.log(
    `no --ptau given and no development powers of tau here (../shared/ptau/dev-pot16.ptau or build/ptau/): ` +
      `generating an insecure development ptau of 2^${size} into build/ptau/, once ` +
      `(about ${seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`} on 2 cores)`,
  );
  const started = Date.now();
  const made = await generateDevPtau(root, power);
  console.log(`${relative(root, made)} made in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return made;
}

async function main() {
  const root = resolve(args.root ?? REPO_ROOT);
  if (args.production) {
    if (!args.ptau || !args.contributions || !args.beacon)
      throw new Error("--production needs --ptau <ceremony .ptau>, --contributions <dir> and --beacon <hex>");
  }
  const beacon = args.production ? args.beacon! : DEV_BEACON;
  if (!/^[0-9a-fA-F]{64}$/.test(beacon)) throw new Error("--beacon must be 32 bytes of hex");
  if (args.production && existsSync(args.ptau!) && isDevPtau(args.ptau!)) {
    throw new Error(`--production refuses the insecure development powers of tau ${args.ptau}`);
  }

  const specs = circuitSpecs(root);
  const names = args.only ? args.only.split(",") : Object.keys(specs);
  for (const name of names) if (!specs[name]) throw new Error(`unknown circuit "${name}"`);
  if (args.production) {
    for (const name of names) {
      const contribution = join(args.contributions!, `${name}.zkey`);
      if (!existsSync(contribution)) throw new Error(`[${name}] no phase-2 contribution at ${contribution}`);
    }
  }

  const compiled: Record<string, CompileResult> = {};
  for (const name of names) {
    const spec = specs[name]!;
    const tmp = join(root, "build", "tmp", name);
    rmSync(tmp, { recursive: true, force: true });
    console.log(`[${name}] compiling ${spec.template}(${spec.params.join(", ")}) with circom ${CIRCOM_VERSION} --O2`);
    const result = compileCircuit(name, tmp, { root });
    console.log(`[${name}] ${result.constraints} constraints, ${result.publicInputs} public inputs`);
    if (result.constraints + result.publicInputs >= 1 << 15) {
      console.warn(`[${name}] warning: constraints + public inputs >= 2^15: proving domain doubles`);
    }
    compiled[name] = result;
  }
  const power = Math.max(
    ...names.map((name) => requiredPower(compiled[name]!.constraints, compiled[name]!.publicInputs)),
  );
  const ptau = await choosePtau(root, power);
  const ptauHash = fileHash(ptau);

  const { manifestPath } = artifactPaths(names[0]!, root);
  const previous: Manifest | undefined = existsSync(manifestPath)
    ? JSON.parse(readFileSync(manifestPath, "utf8"))
    : undefined;
  const snarkjsVersion = JSON.parse(
    readFileSync(join(REPO_ROOT, "node_modules", "snarkjs", "package.json"), "utf8"),
  ).version;
  const manifest: Manifest = {
    version: 1,
    insecure: !args.production,
    ptau: { name: basename(ptau), sha256: ptauHash },
    beacon,
    circom: CIRCOM_VERSION,
    snarkjs: snarkjsVersion,
    circuits: args.only && previous ? previous.circuits : {},
  };
  if (previous && args.only && (previous.ptau.sha256 !== ptauHash || previous.insecure !== manifest.insecure)) {
    throw new Error("--only would mix artifacts from different setups: rebuild all circuits");
  }

  for (const name of names) {
    const spec = specs[name]!;
    const { r1cs, wasm, constraints } = compiled[name]!;
    const paths = artifactPaths(name, root);
    const tmp = join(root, "build", "tmp", name);
    const started = Date.now();
    mkdirSync(dirname(paths.zkeyPath), { recursive: true });
    const initial = join(tmp, `${name}_0000.zkey`);
    await snarkjs.zKey.newZKey(r1cs, ptau, initial);
    let last = initial;
    if (args.production) {
      last = join(args.contributions!, `${name}.zkey`);
      if (!(await snarkjs.zKey.verifyFromR1cs(r1cs, ptau, last))) {
        throw new Error(`[${name}] zkey verify failed for the contribution ${last}`);
      }
    }
    const final = join(tmp, `${name}_final.zkey`);
    await snarkjs.zKey.beacon(last, final, "zkcharge final beacon", beacon, BEACON_ITERATIONS_EXP);
    if (!(await snarkjs.zKey.verifyFromR1cs(r1cs, ptau, final))) {
      throw new Error(`[${name}] zkey verify failed after the beacon`);
    }
    copyFileSync(final, paths.zkeyPath);
    copyFileSync(wasm, paths.wasmPath);

    const vkey = await snarkjs.zKey.exportVerificationKey(paths.zkeyPath);
    writeFileSync(paths.vkeyPath, JSON.stringify(vkey, null, 2) + "\n");
    const template = readFileSync(
      join(REPO_ROOT, "node_modules", "snarkjs", "templates", "verifier_groth16.sol.ejs"),
      "utf8",
    );
    const solidity: string = await snarkjs.zKey.exportSolidityVerifier(paths.zkeyPath, { groth16: template });
    mkdirSync(dirname(paths.verifierPath), { recursive: true });
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
      constraints,
      sha256: {
        sources: sourceHash(name, root),
        r1cs: fileHash(r1cs),
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
