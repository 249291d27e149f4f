/**
 * Runs the pinned circom compiler (the `circom2` npm package: circom 2.2.3 as WASM) on a circuit
 * declared in circuits/circuits.json. Used by the artifact build and by the --inspect check.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { CIRCOM_VERSION, REPO_ROOT, circuitSpecs, mainSource } from "./circuits.ts";

export interface CompileResult {
  r1cs: string;
  wasm: string;
  sym: string;
  /** `--inspect` warnings, one string each, ANSI colours stripped. */
  warnings: string[];
  constraints: number;
  publicInputs: number;
}

const CIRCOM2 = join(REPO_ROOT, "node_modules", ".bin", "circom2");

/**
 * Compiles circuit `name` with --O2 into `outDir` (relative paths: circom2's WASI sandbox sees only the cwd).
 * `root` is the tree holding `circuits/` (default the repository; tests build fixture trees elsewhere).
 */
export function compileCircuit(
  name: string,
  outDir: string,
  opts: { inspect?: boolean; root?: string } = {},
): CompileResult {
  const root = opts.root ?? REPO_ROOT;
  const spec = circuitSpecs(root)[name];
  if (!spec) throw new Error(`unknown circuit "${name}" (not in circuits/circuits.json)`);
  const version = spawnSync(CIRCOM2, ["--version"], { cwd: root, encoding: "utf8" }).stdout.trim();
  if (!version.endsWith(CIRCOM_VERSION)) {
    throw new Error(`circom2 reports "${version}", expected ${CIRCOM_VERSION}: reinstall with npm ci`);
  }
  mkdirSync(outDir, { recursive: true });
  const mainPath = join(root, "build", "tmp", `${name}.circom`);
  mkdirSync(join(root, "build", "tmp"), { recursive: true });
  writeFileSync(mainPath, mainSource(name, spec));
  const args = [
    relative(root, mainPath),
    "--r1cs",
    "--wasm",
    "--sym",
    "--O2",
    ...(opts.inspect ? ["--inspect"] : []),
    ...(existsSync(join(root, "node_modules")) ? ["-l", "node_modules"] : []),
    "-o",
    relative(root, outDir),
  ];
  const run = spawnSync(CIRCOM2, args, { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
  // eslint-disable-next-line no-control-regex -- strips the ANSI colour codes circom prints
  const output = (run.stdout + run.stderr).replace(/\x1b\[[0-9;]*m/g, "");
  if (run.status !== 0 || !output.includes("Everything went okay")) {
    throw new Error(`circom failed on ${name}:\n${output}`);
  }
  const warnings = output.split("\n").filter((line) => line.startsWith("warning["));
  const count = (label: string) => Number(output.match(new RegExp(`^${label}: (\\d+)`, "m"))?.[1] ?? NaN);
  return {
    r1cs: join(outDir, `${name}.r1cs`),
    wasm: join(outDir, `${name}_js`, `${name}.wasm`),
    sym: join(outDir, `${name}.sym`),
    warnings,
    constraints: count("non-linear constraints") + count("linear constraints"),
    publicInputs: count("public inputs") + count("public outputs"),
  };
}
