/**
 * The prover's portable parts on the multiplier fixture: artifact sources other than files (memory, a URL over a
 * real local HTTP server), a pinned manifest, the lazily read `.sym`, the bytes a backend receives, and the Web
 * Worker backend with the browser worker script (run in a worker thread behind a shim of the worker scope).
 */
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Worker as NodeWorker } from "node:worker_threads";
import {
  InputError,
  ProverPool,
  StaleArtifactsError,
  WebWorkerBackend,
  WitnessError,
  calculateWitness,
  circuitFiles,
  defaultWorkerExecArgv,
  fileSource,
  generateProof,
  loadArtifacts,
  memorySource,
  normalizeInput,
  sha256File,
  sha256Hex,
  urlSource,
  verifyProof,
  type ArtifactSource,
  type CircuitInput,
  type Manifest,
  type ProverBackend,
  type WorkerTask,
} from "../../prover/node/index.ts";
import { platform as webPlatform } from "../../prover/web/platform.ts";
import { buildFixture, type Fixture } from "./fixtures/build-fixture.ts";
import { rejectsWith } from "../fixtures/expect.ts";

describe("prover portability (multiplier fixture)", function () {
  let fx: Fixture;
  let dir: string; // the fixture's build/circuits
  let pool: ProverPool;
  const good: CircuitInput = { a: 3, b: [4n, "5"], k: "0x07" }; // out = 3*4*5 + 7 = 67
  const files = circuitFiles("multiplier");

  /** The fixture's files as a memorySource's content (without the .sym unless asked). */
  function fixtureFiles(withSym = false): Record<string, Uint8Array> {
    const rels = ["manifest.json", files.wasm, files.zkey, files.vkey, ...(withSym ? [files.sym] : [])];
    return Object.fromEntries(rels.map((rel) => [rel, new Uint8Array(readFileSync(path.join(dir, rel)))]));
  }

  function fixtureManifest(): Manifest {
    return JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")) as Manifest;
  }

  before(async function () {
    this.timeout(180_000);
    fx = await buildFixture();
    dir = path.join(fx.root, "build", "circuits");
    pool = new ProverPool({ size: 1, onLog: () => {} });
  });

  after(async function () {
    await pool?.close();
  });

  describe("sources", function () {
    it("proves and verifies from in-memory bytes", async function () {
      const source = memorySource(fixtureFiles(), "wallet");
      const art = await loadArtifacts("multiplier", { source });
      expect(art.zkeyPath).to.equal("wallet:multiplier/multiplier.zkey");
      expect(await calculateWitness("multiplier", good, { source })).to.deep.equal([1n, 67n, 7n, 3n, 4n, 5n, 12n]);
      const res = await generateProof("multiplier", good, { source, backend: pool });
      expect(res.publicSignals).to.deep.equal([67n, 7n]);
      expect(await verifyProof("multiplier", res.proof, res.publicSignals, { source, backend: pool })).to.equal(true);
    });

    it("refuses tampered bytes naming the file", async function () {
      const content = fixtureFiles();
      content[files.zkey] = Uint8Array.from([...content[files.zkey]!, 0]);
      const err = await rejectsWith(
        loadArtifacts("multiplier", { source: memorySource(content) }),
        StaleArtifactsError,
      );
      expect(err.file).to.equal("memory:multiplier/multiplier.zkey");
      expect(err.message)
        .to.contain("sha256")
        .and.contain("circuits.multiplier.sha256.zkey")
        .and.contain("npm run build:circuits");
    });

    it("pins the files to a manifest the caller passes, not to the source's own", async function () {
      const content = fixtureFiles();
      delete content["manifest.json"];
      const manifest = fixtureManifest();
      const art = await loadArtifacts("multiplier", { source: memorySource(content), manifest });
      expect(art.manifestPath).to.equal("(pinned manifest)");
      expect(art.manifest).to.equal(manifest);

      // A source serving a consistent manifest and zkey of its own is still refused against the pinned one.
      const swapped = fixtureFiles();
      swapped[files.zkey] = Uint8Array.from([...swapped[files.zkey]!, 0]);
      const forged = fixtureManifest();
      forged.circuits.multiplier!.sha256.zkey = await sha256Hex(swapped[files.zkey]!);
      swapped["manifest.json"] = new TextEncoder().encode(JSON.stringify(forged));
      await loadArtifacts("multiplier", { source: memorySource(swapped) }); // consistent with itself
      const err = await rejectsWith(
        loadArtifacts("multiplier", { source: memorySource(swapped), manifest: fixtureManifest() }),
        StaleArtifactsError,
      );
      expect(err.file).to.equal("memory:multiplier/multiplier.zkey");

      const missing = await rejectsWith(
        loadArtifacts("nosuch", { source: memorySource(content), manifest }),
        StaleArtifactsError,
      );
      expect(missing.file).to.equal("(pinned manifest)");
      expect(missing.message).to.contain('no entry for circuit "nosuch"');
    });

    describe("over HTTP", function () {
      let server: Server;
      let base: string;

      before(async function () {
        server = createServer((req, res) => {
          const url = new URL(req.url!, "http://localhost");
          if (url.pathname.startsWith("/broken/")) {
            res.writeHead(500, "Internal Server Error").end();
            return;
          }
          try {
            const body = readFileSync(path.join(dir, ...url.pathname.replace(/^\/circuits\//, "").split("/")));
            res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
          } catch {
            res.writeHead(404).end();
          }
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      });

      after(async function () {
        await new Promise((resolve) => server.close(resolve));
      });

      it("loads, proves and names files by URL", async function () {
        const source = urlSource(`${base}/circuits`); // the trailing slash is added
        const art = await loadArtifacts("multiplier", { source });
        expect(art.wasmPath).to.equal(`${base}/circuits/multiplier/multiplier.wasm`);
        expect(art.zkey).to.deep.equal(new Uint8Array(readFileSync(path.join(dir, files.zkey))));
        const res = await generateProof("multiplier", good, { source, backend: pool });
        expect(res.publicSignals).to.deep.equal([67n, 7n]);
      });

      it("reports a 404 as missing and other HTTP errors as unreadable, naming the URL", async function () {
        const missing = await rejectsWith(
          loadArtifacts("multiplier", { source: urlSource(`${base}/nothing/`) }),
          StaleArtifactsError,
        );
        expect(missing.file).to.equal(`${base}/nothing/manifest.json`);
        expect(missing.reason).to.equal("missing");
        const broken = await rejectsWith(
          loadArtifacts("multiplier", { source: urlSource(`${base}/broken/`) }),
          StaleArtifactsError,
        );
        expect(broken.file).to.equal(`${base}/broken/manifest.json`);
        expect(broken.reason).to.equal("unreadable (HTTP 500 Internal Server Error)");
      });
    });

    it("hashes with WebCrypto and, without it, with @noble/hashes alike", async function () {
      const zkey = readFileSync(path.join(dir, files.zkey));
      const expected = await sha256File(path.join(dir, files.zkey));
      expect(await sha256Hex(new Uint8Array(zkey))).to.equal(expected);
      // WebCrypto refuses SharedArrayBuffer views; those take the @noble/hashes path.
      const shared = new Uint8Array(new SharedArrayBuffer(zkey.length));
      shared.set(zkey);
      expect(await sha256Hex(shared)).to.equal(expected);
    });

    it("has no default source and no root option outside Node", function () {
      expect(() => webPlatform.defaultSource()).to.throw(/no default artifact source outside Node.*urlSource/);
      expect(() => webPlatform.rootSource("/tmp")).to.throw(/only in Node/);
    });
  });

  describe(".sym", function () {
    /** A file source that counts reads per file. */
    function countingSource(): { source: ArtifactSource; reads: Map<string, number> } {
      const inner = fileSource(dir);
      const reads = new Map<string, number>();
      return {
        reads,
        source: {
          description: inner.description,
          locate: (rel) => inner.locate(rel),
          read: (rel) => (reads.set(rel, (reads.get(rel) ?? 0) + 1), inner.read(rel)),
        },
      };
    }

    it("is read only to name missing signals, once, in the worker path and the calculateWitness path", async function () {
      const { source, reads } = countingSource();
      await generateProof("multiplier", good, { source, backend: pool });
      await calculateWitness("multiplier", good, { source });
      expect(reads.get(files.sym), "not read while all goes well").to.equal(undefined);

      const err = await rejectsWith(
        generateProof("multiplier", { a: 3, b: [4, 5] }, { source, backend: pool }),
        InputError,
      );
      expect(err.problems).to.deep.equal([{ signal: "k", problem: "is missing" }]);
      const err2 = await rejectsWith(calculateWitness("multiplier", { b: [4, 5] }, { source }), InputError);
      expect(err2.problems.map((p) => p.signal).sort()).to.deep.equal(["a", "k"]);
      expect(reads.get(files.sym)).to.equal(1);
    });

    it("is optional: without it a missing signal is still reported, counted", async function () {
      const source = memorySource(fixtureFiles());
      const err = await rejectsWith(
        generateProof("multiplier", { a: 3, b: [4, 5] }, { source, backend: pool }),
        InputError,
      );
      expect(err.message).to.contain("covering 1 of the circuit's 4 input values are missing");
      expect(err.problems[0]!.missingValues).to.equal(1);
      const named = await rejectsWith(
        generateProof("multiplier", { a: 3, b: [4, 5] }, { source: memorySource(fixtureFiles(true)), backend: pool }),
        InputError,
      );
      expect(named.problems).to.deep.equal([{ signal: "k", problem: "is missing" }]);
    });
  });

  describe("backends", function () {
    it("hand a backend checked bytes, never paths", async function () {
      const tasks: WorkerTask[] = [];
      const recording: ProverBackend = {
        run: <T>(task: WorkerTask) => (tasks.push(task), pool.run<T>(task)),
        close: () => Promise.resolve(),
      };
      const res = await generateProof("multiplier", good, { root: fx.root, backend: recording });
      expect(
        await verifyProof("multiplier", res.proof, res.publicSignals, { root: fx.root, backend: recording }),
      ).to.equal(true);
      const prove = tasks[0]!;
      if (prove.op !== "prove") expect.fail(`first task is ${prove.op}`);
      expect(prove.wasm).to.deep.equal(new Uint8Array(readFileSync(path.join(dir, files.wasm))));
      expect(prove.zkey).to.deep.equal(new Uint8Array(readFileSync(path.join(dir, files.zkey))));
      expect(prove.wasmKey).to.equal(fixtureManifest().circuits.multiplier!.sha256.wasm);
      expect(tasks.map((t) => t.op)).to.deep.equal(["prove", "verify"]);
    });

    it("runs the browser worker script behind WebWorkerBackend, sending each wasm once, rebuilding errors, and closes it", async function () {
      this.timeout(30_000);
      const shim = new URL("./fixtures/web-worker-shim.ts", import.meta.url);
      const posted: unknown[] = [];
      const web = new WebWorkerBackend({ createWorker: () => webWorkerOverThread(shim, posted), onLog: () => {} });
      const art = await loadArtifacts("multiplier", { root: fx.root });
      const task = (input: CircuitInput): WorkerTask => ({
        op: "witness",
        circuit: "multiplier",
        wasm: art.wasm,
        wasmKey: art.circuit.sha256.wasm,
        input: normalizeInput("multiplier", input),
      });
      expect(await web.run(task(good))).to.deep.equal([1n, 67n, 7n, 3n, 4n, 5n, 12n]);
      const err = await rejectsWith(web.run(task({ ...good, a: 1000 })), WitnessError);
      expect(err.template).to.equal("RangeGuard");
      expect(err.stack).to.contain("rethrown from prover worker");
      expect(await web.run(task({ ...good, a: 2 }))).to.deep.include.members([1n, 2n]);
      expect(web.workers).to.equal(1);
      // The worker keeps the compiled wasm by sha256: only the first task carried the bytes.
      const sent = posted.map((m) => (m as { task?: { wasm?: Uint8Array } }).task?.wasm !== undefined);
      expect(sent).to.deep.equal([true, false, false]);
      const t0 = performance.now();
      await web.close(10_000);
      expect(performance.now() - t0, "closed on the worker's answer, not the grace timeout").to.be.below(5_000);
      expect(web.workers).to.equal(0);
      await rejectsWith(web.run(task(good)), Error);
    });
  });
});

/**
 * A Web Worker as far as WebWorkerBackend uses one (`postMessage`, `onmessage`, `onerror`, `terminate`), made of
 * a Node worker thread running `shim`; `posted` collects what the backend sends it.
 */
function webWorkerOverThread(shim: URL, posted: unknown[]): Worker {
  const thread = new NodeWorker(shim, { execArgv: defaultWorkerExecArgv() });
  const web = {
    onmessage: null as ((e: { data: unknown }) => void) | null,
    onerror: null as ((e: { message: string; preventDefault(): void }) => void) | null,
    onmessageerror: null,
    postMessage: (message: unknown) => (posted.push(message), thread.postMessage(message)),
    terminate: () => void thread.terminate(),
  };
  thread.on("message", (data: unknown) => web.onmessage?.({ data }));
  thread.on("error", (err) => web.onerror?.({ message: err.message, preventDefault() {} }));
  return web as unknown as Worker;
}
