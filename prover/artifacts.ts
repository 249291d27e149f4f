/**
 * Loading and checking the circuit artifacts written by `scripts/build-circuits.ts`, from an
 * {@link ArtifactSource} (files in Node, a URL or in-memory bytes anywhere; see `sources.ts`):
 *
 * ```
 * manifest.json
 * <name>/<name>.wasm | <name>.zkey | verification_key.json   (and <name>.sym, optional)
 * ```
 *
 * The wasm, zkey and verification key are read once and each compared with the sha256 the manifest records (the
 * manifest is read from the source too, unless the caller pins one), so a circuit edited without a rebuild, a
 * half-finished build or a tampered download fails loudly with {@link StaleArtifactsError} instead of producing
 * proofs the deployed verifier rejects. The checked bytes are what the prover then uses: nothing is read again.
 *
 * The Solidity verifiers are not the prover's concern at run time (a wallet has no `contracts/`): that they match
 * the manifest is checked by the build and its tests (`scripts/lib/verifier.ts`).
 */
import type { VerificationKey } from "snarkjs";
import { platform } from "#prover-platform";
import { StaleArtifactsError } from "./errors.ts";
import { MANIFEST_FILE, circuitFiles, sha256Hex, type ArtifactSource } from "./sources.ts";

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

/**
 * Checked artifacts of one circuit. The `*Path` fields say where each file is in its source (an absolute path
 * for a file source, a URL for a URL source, `memory:<path>` in memory); they are for messages and tooling, the
 * bytes themselves are here.
 */
export interface CircuitArtifacts {
  /** Circuit name, e.g. `pay`. */
  name: string;
  /** Where the files came from. */
  source: ArtifactSource;
  /** The witness wasm, checked against the manifest. */
  wasm: Uint8Array;
  /** The proving key, checked against the manifest. */
  zkey: Uint8Array;
  /** Parsed `verification_key.json`, checked against the manifest. */
  vkey: VerificationKey;
  wasmPath: string;
  zkeyPath: string;
  vkeyPath: string;
  /** Where `<name>.sym` would be; optional, not pinned, only used to name missing input signals. */
  symPath: string;
  /** Where the manifest is; `(pinned manifest)` if the caller passed one. */
  manifestPath: string;
  manifest: Manifest;
  /** This circuit's manifest entry. */
  circuit: ManifestCircuit;
  /**
   * The `.sym` file, read from the source on first call (only needed to name missing signals in an error);
   * `undefined` if the source has none or it cannot be read.
   */
  readSym(): Promise<Uint8Array | undefined>;
}

/** Options of {@link loadArtifacts}: where the artifacts come from. */
export interface ArtifactOptions {
  /**
   * Source of the artifacts. Default in Node: the repository's `build/circuits/`; in a browser there is no
   * default (pass e.g. `urlSource(...)`).
   */
  source?: ArtifactSource;
  /**
   * A manifest to pin the files to, instead of the source's `manifest.json` (e.g. one shipped inside a wallet
   * app, so a compromised artifact server cannot swap keys and manifest together).
   */
  manifest?: Manifest;
  /**
   * Node-only shorthand for a file source: a directory holding `build/circuits/` (tests point it at a fixture
   * tree). Ignored when `source` is given.
   */
  root?: string;
}

/** Cache: source -> pinned manifest (or NO_PIN) -> circuit name -> artifacts. */
let cache = new WeakMap<ArtifactSource, WeakMap<object, Map<string, Promise<CircuitArtifacts>>>>();
const NO_PIN = {};

/**
 * The artifact source `options` select: `source`, else (Node) a file source for `root`, else the default.
 *
 * @param options - see {@link ArtifactOptions}
 * @throws Error outside Node if neither `source` is given (no default), or if `root` is used
 */
export function resolveSource(options: ArtifactOptions = {}): ArtifactSource {
  if (options.source !== undefined) return options.source;
  return options.root !== undefined ? platform.rootSource(options.root) : platform.defaultSource();
}

/**
 * Load one circuit's artifacts: read the manifest (unless pinned), then the wasm, zkey and verification key,
 * check each against the manifest's sha256, and return their bytes with the parsed manifest and verification key.
 * The result is cached per source, pinned manifest and name; call {@link clearArtifactsCache} after rebuilding
 * in-process.
 *
 * @param name - circuit name (`pay`, `transact`, ...)
 * @param options - where the artifacts come from, see {@link ArtifactOptions}
 * @throws StaleArtifactsError naming the file, if the manifest, the circuit's entry or a file is missing or
 *   unreadable, or a file's sha256 differs from the manifest
 */
export function loadArtifacts(name: string, options: ArtifactOptions = {}): Promise<CircuitArtifacts> {
  const source = resolveSource(options);
  const pin: object = options.manifest ?? NO_PIN;
  let bySource = cache.get(source);
  if (bySource === undefined) cache.set(source, (bySource = new WeakMap()));
  let byName = bySource.get(pin);
  if (byName === undefined) bySource.set(pin, (byName = new Map()));
  let p = byName.get(name);
  if (p === undefined) {
    const entries = byName;
    p = doLoad(name, source, options.manifest);
    p.catch(() => entries.delete(name));
    entries.set(name, p);
  }
  return p;
}

/** Forget every cached {@link loadArtifacts} result (e.g. after rebuilding circuits in the same process). */
export function clearArtifactsCache(): void {
  cache = new WeakMap();
}

async function doLoad(name: string, source: ArtifactSource, pinned: Manifest | undefined): Promise<CircuitArtifacts> {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`invalid circuit name ${JSON.stringify(name)}`);
  const files = circuitFiles(name);
  const manifestPath = pinned !== undefined ? "(pinned manifest)" : source.locate(MANIFEST_FILE);
  const manifest = pinned ?? (parseJson(await readFile(source, MANIFEST_FILE), manifestPath) as Manifest);
  const circuit = manifest.circuits?.[name];
  if (circuit === undefined || typeof circuit.sha256 !== "object" || circuit.sha256 === null) {
    throw new StaleArtifactsError(manifestPath, `no entry for circuit "${name}"`);
  }
  const pinnedRead = async (kind: "wasm" | "zkey" | "vkey"): Promise<Uint8Array> => {
    const expected = normalizeHex(circuit.sha256[kind]);
    if (expected === undefined) throw new StaleArtifactsError(manifestPath, `no sha256.${kind} for "${name}"`);
    const bytes = await readFile(source, files[kind]);
    const actual = await sha256Hex(bytes);
    if (actual !== expected) {
      throw new StaleArtifactsError(
        source.locate(files[kind]),
        `sha256 ${actual} does not match the manifest's ${expected} (circuits.${name}.sha256.${kind})`,
      );
    }
    return bytes;
  };
  const [wasm, zkey, vkeyBytes] = await Promise.all([pinnedRead("wasm"), pinnedRead("zkey"), pinnedRead("vkey")]);
  const vkeyPath = source.locate(files.vkey);
  const vkey = parseJson(vkeyBytes, vkeyPath) as VerificationKey;
  let sym: Promise<Uint8Array | undefined> | undefined;
  return {
    name,
    source,
    wasm,
    zkey,
    vkey,
    wasmPath: source.locate(files.wasm),
    zkeyPath: source.locate(files.zkey),
    vkeyPath,
    symPath: source.locate(files.sym),
    manifestPath,
    manifest,
    circuit,
    // The .sym only improves an error message, so failing to read it is not an error.
    readSym: () => (sym ??= source.read(files.sym).catch(() => undefined)),
  };
}

/** Read a required file, turning "missing" and read failures into a StaleArtifactsError naming it. */
async function readFile(source: ArtifactSource, relPath: string): Promise<Uint8Array> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await source.read(relPath);
  } catch (err) {
    throw new StaleArtifactsError(
      source.locate(relPath),
      `unreadable (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (bytes === undefined) throw new StaleArtifactsError(source.locate(relPath), "missing");
  return bytes;
}

function parseJson(bytes: Uint8Array, location: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new StaleArtifactsError(location, `unreadable JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

function normalizeHex(h: unknown): string | undefined {
  if (typeof h !== "string") return undefined;
  return h.toLowerCase().replace(/^0x/, "");
}
