/**
 * Where each circuit's sources and artifacts live, and how their identity is hashed.
 * Shared by the build, the --inspect check, the prover and the stale-artifact test, so the
 * layout and the hash rule are written once.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
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

/** The circuit's own source files: its library file and everything it includes under circuits/, sorted. */
function includedSources(file: string, root: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const source = readFileSync(file, "utf8");
  for (const [, target] of source.matchAll(/^\s*include\s+"([^"]+)"/gm)) {
    if (target!.startsWith("circomlib/")) continue; // pinned by the circomlib version below
    includedSources(join(dirname(file), target!), root, seen);
  }
  return [...seen].sort();
}

/**
 * sha256 over everything that determines the circuit: the generated main, every zkcharge .circom
 * file it includes (transitively) and the circomlib version. Any edit to them makes the committed
 * artifacts stale; editing another circuit does not.
 */
export function sourceHash(name: string, root = REPO_ROOT): string {
  const spec = circuitSpecs(root)[name];
  if (!spec) throw new Error(`unknown circuit "${name}" (not in circuits/circuits.json)`);
  const hash = createHash("sha256");
  hash.update(mainSource(name, spec));
  for (const file of includedSources(join(root, "circuits", `${spec.file}.circom`), root)) {
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
