/**
 * Where each circuit's sources and artifacts live, and how their identity is hashed.
 * Shared by the build, the --inspect check, the prover and the stale-artifact test, so the
 * layout and the hash rule are written once.
 */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (this file is scripts/lib/circuits.ts). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** One entry of circuits/circuits.json: which template a proof instantiates, and its public inputs. */
export interface CircuitSpec {
  /** Library file under circuits/ (without .circom) that defines the template. */
  file: string;
  template: string;
  params: number[];
  /** Public input names, in the order the template declares them (= public-signal order). */
  pubs: string[];
}

/** The circom compiler version `circom2` wraps; pinned here and checked by the build. */
export const CIRCOM_VERSION = "2.2.3";

/** Reads circuits/circuits.json. */
export function circuitSpecs(root = REPO_ROOT): Record<string, CircuitSpec> {
  return JSON.parse(readFileSync(join(root, "circuits", "circuits.json"), "utf8"));
}

/** Artifact paths of circuit `name` below `root`. */
export function artifactPaths(name: string, root = REPO_ROOT) {
  const dir = join(root, "build", "circuits", name);
  const contractName = name[0]!.toUpperCase() + name.slice(1) + "Verifier";
  return {
    dir,
    wasm: join(dir, `${name}.wasm`),
    zkey: join(dir, `${name}.zkey`),
    vkey: join(dir, "verification_key.json"),
    verifier: join(root, "contracts", "verifiers", `${contractName}.sol`),
    verifierContract: contractName,
    manifest: join(root, "build", "circuits", "manifest.json"),
  };
}

/** The generated entry point: circom needs a `main`, circuits.json is where it is declared. */
export function mainSource(name: string, spec: CircuitSpec): string {
  return [
    `pragma circom ${CIRCOM_VERSION};`,
    `// Generated from circuits/circuits.json ("${name}"); do not edit.`,
    `include "../../circuits/${spec.file}.circom";`,
    `component main {public [${spec.pubs.join(", ")}]} = ${spec.template}(${spec.params.join(", ")});`,
    "",
  ].join("\n");
}

function circomFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return circomFiles(path);
      return entry.endsWith(".circom") ? [path] : [];
    })
    .sort();
}

/**
 * sha256 over everything that determines the circuit: the generated main, every .circom file
 * under circuits/ and the circomlib version. Any edit makes the committed artifacts stale.
 */
export function sourceHash(name: string, root = REPO_ROOT): string {
  const spec = circuitSpecs(root)[name];
  if (!spec) throw new Error(`unknown circuit "${name}" (not in circuits/circuits.json)`);
  const hash = createHash("sha256");
  hash.update(mainSource(name, spec));
  for (const file of circomFiles(join(root, "circuits"))) {
    hash.update(relative(root, file) + "\0");
    hash.update(readFileSync(file));
  }
  const circomlib = JSON.parse(readFileSync(join(root, "node_modules", "circomlib", "package.json"), "utf8"));
  hash.update(`circomlib@${circomlib.version}`);
  return hash.digest("hex");
}

/** sha256 of a file, hex. */
export function fileHash(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** The manifest written by scripts/build-circuits.ts. */
export interface Manifest {
  version: 1;
  /** true for development keys (public toxic waste): never deploy them with value. */
  insecure: boolean;
  ptau: { name: string; sha256: string };
  beacon: string;
  circom: string;
  snarkjs: string;
  circuits: Record<
    string,
    {
      template: string;
      params: number[];
      publicSignals: string[];
      constraints: number;
      sha256: { sources: string; r1cs: string; wasm: string; zkey: string; vkey: string; verifier: string };
    }
  >;
}

/** Reads build/circuits/manifest.json. */
export function readManifest(root = REPO_ROOT): Manifest {
  return JSON.parse(readFileSync(artifactPaths("pay", root).manifest, "utf8"));
}
