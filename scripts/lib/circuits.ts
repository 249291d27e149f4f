/**
 * Which circuits exist (circuits/circuits.json) and how a circuit's sources are hashed. Shared by
 * the build and the --inspect check; where artifacts live is prover/node/fileSource.ts's to say.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { REPO_ROOT } from "../../prover/node/fileSource.ts";

export { REPO_ROOT };

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
  // The toolchain's circomlib, also when `root` is a fixture tree without node_modules.
  const circomlib = JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", "circomlib", "package.json"), "utf8"));
  hash.update(`circomlib@${circomlib.version}`);
  return hash.digest("hex");
}

/** sha256 of a file, hex. */
export function fileHash(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}
