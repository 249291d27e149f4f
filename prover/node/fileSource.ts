/**
 * Node-only: circuit artifacts on the local file system, and the repository's layout of them.
 *
 * ```
 * build/circuits/manifest.json
 * build/circuits/<name>/<name>.wasm | <name>.zkey | verification_key.json   (and <name>.sym, optional)
 * contracts/verifiers/<Name>Verifier.sol                                     (build and tests only)
 * ```
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MANIFEST_FILE, circuitFiles, type ArtifactSource } from "../sources.ts";

/** The repository root (the parent of `prover/`). */
export const REPO_ROOT: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The artifacts directory under a root: `<root>/build/circuits`. */
export function artifactsDir(root: string = REPO_ROOT): string {
  return path.join(path.resolve(root), "build", "circuits");
}

/**
 * Artifacts in a local directory (the one holding `manifest.json`).
 *
 * @param dir - the artifacts directory; default the repository's `build/circuits/`
 * @returns a source whose locations are absolute paths, answering `undefined` for a file that does not exist
 */
export function fileSource(dir: string = artifactsDir()): ArtifactSource {
  const base = path.resolve(dir);
  const locate = (relPath: string): string => path.join(base, ...relPath.split("/"));
  return {
    description: base,
    locate,
    async read(relPath) {
      try {
        const buf = await readFile(locate(relPath));
        // A plain Uint8Array over the same memory: Buffer's extra methods mean nothing outside Node.
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return undefined;
        if (code === "EISDIR") throw new Error("not a file", { cause: err });
        throw err;
      }
    },
  };
}

/** Absolute paths of one circuit's files in the repository layout. */
export interface ArtifactPaths {
  wasmPath: string;
  zkeyPath: string;
  vkeyPath: string;
  /** `<name>.sym`, if the build kept it. */
  symPath: string;
  manifestPath: string;
  /** The generated Solidity verifier (`contracts/verifiers/<Name>Verifier.sol`); checked by build and tests. */
  verifierPath: string;
}

/**
 * Absolute paths of one circuit's artifacts under `root` (no checks): where the build writes them.
 *
 * @param name - circuit name
 * @param root - directory holding `build/circuits/` and `contracts/verifiers/`; default the repository root
 */
export function artifactPaths(name: string, root: string = REPO_ROOT): ArtifactPaths {
  const source = fileSource(artifactsDir(root));
  const files = circuitFiles(name);
  const contractName = name.charAt(0).toUpperCase() + name.slice(1);
  return {
    wasmPath: source.locate(files.wasm),
    zkeyPath: source.locate(files.zkey),
    vkeyPath: source.locate(files.vkey),
    symPath: source.locate(files.sym),
    manifestPath: source.locate(MANIFEST_FILE),
    verifierPath: path.join(path.resolve(root), "contracts", "verifiers", `${contractName}Verifier.sol`),
  };
}

/**
 * sha256 of a file, lowercase hex (streamed: zkeys are tens of megabytes).
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
