/**
 * A browser wallet can bundle the SDK and the prover's Web Worker: esbuild bundles `sdk/index.ts` and
 * `prover/web/worker.ts` for `platform: "browser"` (nothing marked external), and the test fails on any Node
 * built-in either pulls in, naming the chain of imports that leads to it.
 *
 * A dependency's own browser mapping of a built-in (its package.json `"browser"` field, or an npm polyfill of the
 * same name) is what a bundler would use and is fine; only a built-in that esbuild cannot resolve for the browser
 * counts.
 */
import { expect } from "chai";
import * as esbuild from "esbuild";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A Node built-in some module imports, and the import chain from the entry point to that module. */
interface BuiltinImport {
  builtin: string;
  chain: string[];
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
/** Marks the guard's own resolve calls, so that they are not guarded again. */
const guardMarker = Symbol("node-builtin-guard");

/** Bundle `entry` for the browser; return its outputs, inputs and every Node built-in it would need. */
async function bundleForBrowser(
  entry: string,
): Promise<{ bytes: number; inputs: string[]; builtins: BuiltinImport[] }> {
  const found: Array<{ builtin: string; importer: string }> = [];
  const guard: esbuild.Plugin = {
    name: "node-builtin-guard",
    setup(build) {
      build.onResolve({ filter: /^[a-z_:/]+$/ }, async (args) => {
        if (!BUILTINS.has(args.path) || args.pluginData === guardMarker) return undefined;
        // Ask esbuild how it resolves this for the browser (a package's "browser" mapping, a polyfill package).
        const res = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: guardMarker,
        });
        if (res.errors.length === 0) return res;
        found.push({ builtin: args.path, importer: path.relative(repo, args.importer) });
        // Stub it, so that the build goes on and every offender is reported at once.
        return { path: args.path, namespace: "node-builtin" };
      });
      // A CommonJS stub: any named import of it binds (to undefined) instead of failing the build.
      build.onLoad({ filter: /.*/, namespace: "node-builtin" }, () => ({
        contents: "module.exports = {};",
        loader: "js",
      }));
    },
  };
  const result = await esbuild.build({
    absWorkingDir: repo,
    entryPoints: [entry],
    bundle: true,
    platform: "browser", // the "browser" export condition, no "node": snarkjs and ffjavascript pick their browser builds
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
    plugins: [guard],
  });
  const graph = result.metafile.inputs;
  return {
    bytes: result.outputFiles.reduce((n, f) => n + f.contents.length, 0),
    inputs: Object.keys(graph),
    builtins: found.map(({ builtin, importer }) => ({ builtin, chain: importChain(graph, entry, importer) })),
  };
}

/** The shortest import chain from `entry` to `target` in esbuild's metafile (breadth-first). */
function importChain(graph: esbuild.Metafile["inputs"], entry: string, target: string): string[] {
  const previous = new Map<string, string | undefined>([[entry, undefined]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (file === target) break;
    for (const imp of graph[file]?.imports ?? []) {
      if (!previous.has(imp.path)) {
        previous.set(imp.path, file);
        queue.push(imp.path);
      }
    }
  }
  if (!previous.has(target)) return [entry, "…", target];
  const chain: string[] = [];
  for (let f: string | undefined = target; f !== undefined; f = previous.get(f)) chain.unshift(f);
  return chain;
}

/** One line per built-in: `node:fs <- importer <- ... <- entry`. */
function formatBuiltins(found: BuiltinImport[]): string {
  return found.map((f) => `  ${f.builtin} <- ${[...f.chain].reverse().join(" <- ")}`).join("\n");
}

describe("browser bundle (esbuild, platform browser)", function () {
  this.timeout(120_000);

  it("bundles the SDK entry without any Node built-in", async function () {
    const { builtins, inputs, bytes } = await bundleForBrowser("sdk/index.ts");
    expect(
      builtins,
      `sdk/index.ts pulls Node built-ins into a browser bundle:\n${formatBuiltins(builtins)}\n`,
    ).to.deep.equal([]);
    expect(bytes).to.be.greaterThan(0);
    // The prover's browser defaults, not its Node ones (package.json "imports": #prover-platform).
    expect(inputs).to.include("prover/web/platform.ts");
    expect(inputs.filter((f) => f.startsWith("prover/node/"))).to.deep.equal([]);
  });

  it("bundles the prover's Web Worker, with snarkjs' browser build, without any Node built-in", async function () {
    const { builtins, inputs } = await bundleForBrowser("prover/web/worker.ts");
    expect(
      builtins,
      `prover/web/worker.ts pulls Node built-ins into a browser bundle:\n${formatBuiltins(builtins)}\n`,
    ).to.deep.equal([]);
    expect(inputs).to.include("node_modules/snarkjs/build/browser.esm.js");
    expect(inputs).to.include("prover/runner.ts");
  });

  it("reports a Node built-in with the chain of imports that pulls it in", async function () {
    // The Node entry of the prover is Node-only by design: the guard must see through it.
    const { builtins } = await bundleForBrowser("prover/node/index.ts");
    const fs = builtins.find((b) => b.builtin === "node:fs");
    expect(fs, formatBuiltins(builtins)).to.not.equal(undefined);
    expect(fs!.chain[0]).to.equal("prover/node/index.ts");
    expect(fs!.chain.at(-1)).to.equal("prover/node/fileSource.ts");
  });
});
