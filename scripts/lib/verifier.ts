/**
 * Build- and test-time check that a generated Solidity verifier (`contracts/verifiers/<Name>Verifier.sol`) is
 * the one the manifest records. The prover no longer reads the verifiers when it loads artifacts (a wallet has
 * no `contracts/`), so this is where a stale verifier is caught: `test/circuits/artifacts.test.ts` and
 * `npm run inspect:circuits`.
 */
import { readFileSync, statSync } from "node:fs";
import type { Manifest } from "../../prover/artifacts.ts";
import { StaleArtifactsError } from "../../prover/errors.ts";
import { REPO_ROOT, artifactPaths } from "../../prover/node/fileSource.ts";
import { fileHash } from "./circuits.ts";

/** Options of {@link checkVerifier}. */
export interface VerifierCheckOptions {
  /** Directory holding `build/circuits/` and `contracts/verifiers/`; default the repository root. */
  root?: string;
  /** The manifest to compare with; default `<root>/build/circuits/manifest.json`. */
  manifest?: Manifest;
}

/**
 * Check circuit `name`'s Solidity verifier against the manifest's `sha256.verifier`.
 *
 * @param name - circuit name
 * @param options - see {@link VerifierCheckOptions}
 * @returns the verifier's absolute path
 * @throws StaleArtifactsError naming the verifier (missing, unreadable or a sha256 mismatch), or the manifest
 */
export function checkVerifier(name: string, options: VerifierCheckOptions = {}): string {
  const paths = artifactPaths(name, options.root ?? REPO_ROOT);
  let manifest = options.manifest;
  if (manifest === undefined) {
    try {
      manifest = JSON.parse(readFileSync(paths.manifestPath, "utf8")) as Manifest;
    } catch (err) {
      throw new StaleArtifactsError(paths.manifestPath, describe(err));
    }
  }
  const expected = manifest.circuits?.[name]?.sha256?.verifier?.toLowerCase().replace(/^0x/, "");
  if (expected === undefined) throw new StaleArtifactsError(paths.manifestPath, `no sha256.verifier for "${name}"`);
  let actual: string;
  try {
    if (!statSync(paths.verifierPath).isFile()) throw new Error("not a file");
    actual = fileHash(paths.verifierPath);
  } catch (err) {
    throw new StaleArtifactsError(paths.verifierPath, describe(err));
  }
  if (actual !== expected) {
    throw new StaleArtifactsError(
      paths.verifierPath,
      `sha256 ${actual} does not match the manifest's ${expected} (circuits.${name}.sha256.verifier)`,
    );
  }
  return paths.verifierPath;
}

function describe(err: unknown): string {
  if ((err as NodeJS.ErrnoException | undefined)?.code === "ENOENT") return "missing";
  if (err instanceof SyntaxError) return `unreadable JSON (${err.message})`;
  return `unreadable (${err instanceof Error ? err.message : String(err)})`;
}
