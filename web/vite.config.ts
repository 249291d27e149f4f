/**
 * Vite configuration of the web app (docs/web.md). Preact through the automatic JSX runtime (Vite 8 transforms
 * with oxc; no Preact plugin needed). The prover's Web Worker is bundled as an ES module worker, so snarkjs (and
 * its own curve workers) load inside it. The site is static: where the chain and the deployment are is read at
 * run time from `zkcharge.json` beside `index.html`, so one build serves any chain.
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig, type Plugin } from "vite";

const CIRCUITS = join(import.meta.dirname, "..", "build", "circuits");

/**
 * Copies the circuit artifacts the manifest names (wasm, zkey, verification key; no .sym) into `dist/circuits/`,
 * so the static site proves with nothing else to host. The app pins them by the manifest it was built with.
 */
function circuitArtifacts(): Plugin {
  return {
    name: "zkcharge-circuit-artifacts",
    apply: "build",
    writeBundle(options) {
      const out = join(options.dir!, "circuits");
      const manifest = JSON.parse(readFileSync(join(CIRCUITS, "manifest.json"), "utf8")) as {
        circuits: Record<string, unknown>;
      };
      copyFileSync(join(CIRCUITS, "manifest.json"), join((mkdirSync(out, { recursive: true }), out), "manifest.json"));
      for (const name of Object.keys(manifest.circuits)) {
        mkdirSync(join(out, name), { recursive: true });
        for (const file of [`${name}.wasm`, `${name}.zkey`, "verification_key.json"]) {
          copyFileSync(join(CIRCUITS, name, file), join(out, name, file));
        }
      }
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  base: "./",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  plugins: [circuitArtifacts()],
  worker: { format: "es" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // ethers and snarkjs are large; the wallet loads them anyway, so one warning per build is noise.
    chunkSizeWarningLimit: 2000,
  },
});
