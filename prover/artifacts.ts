/**
 * Locating and checking the circuit artifacts written by `scripts/build-circuits.ts`:
 *
 * ```
 * build/circuits/manifest.json
 * build/circuits/<name>/<name>.wasm | <name>.zkey | verification_key.json   (and <name>.sym, optional)
 * contracts/verifiers/<Name>Verifier.sol
 * ```
 *
 * Every file the prover relies on is hashed and compared with the manifest, so a circuit edited without a rebuild
 * (or a half-finished build) fails loudly with {@link StaleArtifactsError} instead of producing proofs the deployed
 * verifier rejects.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { VerificationKey } from "snarkjs";
import { StaleArtifactsError } from "./errors.ts";

/** The repository root (the parent of `prover/`). */
export const REPO_ROOT: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** sha256 (hex) of each build output of one circuit, as recorded in the manifest. */
export interface ManifestHashes {
  sources: string;
  r1cs: string;
  wasm: string;
  zkey: string;
  vkey: string;
  verifier: string;
}

/** One circuit's entry in `build/circuits/manifest.json`. */
export interface ManifestCircuit {
  /** circom template of the main component, e.g. `Pay`. */
  template: string;
  /** Template parameters of the main component. */
  params: unknown[];
  /**
   * Public signal names in circuit order (outputs first, then public inputs). An array signal is one name
   * covering several values, so this can be shorter than the verification key's `nPublic`.
   */
  publicSignals: string[];
  /** Number of constraints. */
  constraints: number;
  /** sha256 of each build output. */
  sha256: ManifestHashes;
}

/** `build/circuits/manifest.json`. */
export interface Manifest {
  version: number;
  /** True for development keys whose toxic waste is known. */
  insecure: boolean;
  ptau: { name: string; sha256: string };
  beacon: string;
  circom: string;
  snarkjs: string;
  circuits: Record<string, ManifestCircuit>;
}

/** Checked artifacts of one circuit. All paths are absolute. */
export interface CircuitArtifacts {
  /** Circuit name, e.g. `pay`. */
  name: string;
  /** Artifacts root (the directory holding `build/` and `contracts/`). */
  root: string;
  wasmPath: string;
  zkeyPath: string;
  vkeyPath: string;
  verifierPath: string;
  /** `<name>.sym` if the build kept it (only used to name missing input signals); not hash-checked. */
  symPath: string;
  manifestPath: string;
  manifest: Manifest;
  /** This circuit's manifest entry. */
  circuit: ManifestCircuit;
  /** Parsed `verification_key.json`. */
  vkey: VerificationKey;
}

/** Options of {@link loadArtifacts}. */
export interface ArtifactOptions {
  /** Directory holding `build/circuits/` and `contracts/verifiers/`; defaults to the repository root. */
  root?: string;
}

/** Absolute paths of one circuit's artifacts under `root` (no checks). */
export function artifactPaths(
  name: string,
  root: string = REPO_ROOT,
): Pick<CircuitArtifacts, "wasmPath" | "zkeyPath" | "vkeyPath" | "verifierPath" | "symPath" | "manifestPath"> {
  const dir = path.join(root, "build", "circuits", name);
  const contractName = name.charAt(0).toUpperCase() + name.slice(1);
  return {
    wasmPath: path.join(dir, `${name}.wasm`),
    zkeyPath: path.join(dir, `${name}.zkey`),
    vkeyPath: path.join(dir, "verification_key.json"),
    verifierPath: path.join(root, "contracts", "verifiers", `${contractName}Verifier.sol`),
    symPath: path.join(dir, `${name}.sym`),
    manifestPath: path.join(root, "build", "circuits", "manifest.json"),
  };
}

const cache = new Map<string, Promise<CircuitArtifacts>>();

/**
 * Resolve one circuit's artifacts, check wasm, zkey, verification key and Solidity verifier against the
 * manifest's sha256, and return their paths with the parsed manifest and verification key. The result is cached
 * per process (per root and name); call {@link clearArtifactsCache} after rebuilding in-process.
 *
 * @param name - circuit name (`pay`, `transact`, ...)
 * @param options - `root` to point at another artifacts tree (tests)
 * @throws StaleArtifactsError naming the file, if the manifest, the circuit's entry or a file is missing, or a
 *   file's sha256 differs from the manifest
 */
export function loadArtifacts(name: string, options: ArtifactOptions = {}): Promise<CircuitArtifacts> {
  const root = path.resolve(options.root ?? REPO_ROOT);
  const key = `${root}\0${name}`;
  let p = cache.get(key);
  if (p === undefined) {
    p = doLoad(name, root);
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

/** Forget every cached {@link loadArtifacts} result (e.g. after rebuilding circuits in the same process). */
export function clearArtifactsCache(): void {
  cache.clear();
}

/**
 * sha256 of a file, lowercase hex.
 *
 * @param file - path of the file
 */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(file)
      .on("error", reject)
      .on("data", (d) => h.update(d))
      .on("end", () => resolve(h.digest("hex")));
  });
}

async function doLoad(name: string, root: string): Promise<CircuitArtifacts> {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`invalid circuit name ${JSON.stringify(name)}`);
  const paths = artifactPaths(name, root);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(paths.manifestPath, "utf8")) as Manifest;
  } catch (err) {
    throw new StaleArtifactsError(paths.manifestPath, describeReadError(err));
  }
  const circuit = manifest.circuits?.[name];
  if (circuit === undefined || typeof circuit.sha256 !== "object" || circuit.sha256 === null) {
    throw new StaleArtifactsError(paths.manifestPath, `no entry for circuit "${name}"`);
  }
  const checks: Array<[keyof ManifestHashes, string]> = [
    ["wasm", paths.wasmPath],
    ["zkey", paths.zkeyPath],
    ["vkey", paths.vkeyPath],
    ["verifier", paths.verifierPath],
  ];
  await Promise.all(
    checks.map(async ([kind, file]) => {
      const expected = normalizeHex(circuit.sha256[kind]);
      if (expected === undefined) throw new StaleArtifactsError(paths.manifestPath, `no sha256.${kind} for "${name}"`);
      let actual: string;
      try {
        if (!(await stat(file)).isFile()) throw new Error("not a file");
        actual = await sha256File(file);
      } catch (err) {
        throw new StaleArtifactsError(file, describeReadError(err));
      }
      if (actual !== expected) {
        throw new StaleArtifactsError(
          file,
          `sha256 ${actual} does not match the manifest's ${expected} (circuits.${name}.sha256.${kind})`,
        );
      }
    }),
  );
  const vkey = JSON.parse(await readFile(paths.vkeyPath, "utf8")) as VerificationKey;
  return { name, root, ...paths, manifest, circuit, vkey };
}

function normalizeHex(h: unknown): string | undefined {
  if (typeof h !== "string") return undefined;
  return h.toLowerCase().replace(/^0x/, "");
}

function describeReadError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return "missing";
  if (err instanceof SyntaxError) return `unreadable JSON (${err.message})`;
  return `unreadable (${err instanceof Error ? err.message : String(err)})`;
}
