/**
 * `npm run build:circuits` as a user runs it, on a one-constraint fixture tree (`--root`), as real processes:
 *
 * - from a clone without ../shared it generates a development powers of tau (announced, cached in build/ptau/),
 *   builds artifacts a proof verifies against, and rebuilds them byte for byte;
 * - the production path: a ceremony ptau and two phase-2 contributions made with the snarkjs CLI as the README
 *   describes, then `--production` verifies them, applies the beacon and marks the manifest secure; the result
 *   passes an independent `snarkjs zkey verify`;
 * - production refuses a development ptau (generated here, at another power, or the shared one), a contribution
 *   that is not over the ceremony ptau, a missing contribution and missing arguments, naming the cause.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateProof, shutdownProver, verifyProof, type Manifest } from "../../prover/node/index.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const TSX = path.join(REPO, "node_modules", ".bin", "tsx");
const SNARKJS = path.join(REPO, "node_modules", "snarkjs", "build", "cli.cjs");
const SHARED_PTAU = path.join(REPO, "..", "shared", "ptau", "dev-pot16.ptau");
const BEACON = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

interface Run {
  status: number | null;
  out: string;
}

function buildCircuits(root: string, ...args: string[]): Run {
  const run = spawnSync(TSX, [path.join(REPO, "scripts", "build-circuits.ts"), "--root", root, ...args], {
    cwd: root,
    encoding: "utf8",
  });
  return { status: run.status, out: run.stdout + run.stderr };
}

function snarkjs(cwd: string, ...args: string[]): string {
  const run = spawnSync(process.execPath, [SNARKJS, ...args], { cwd, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`snarkjs ${args.join(" ")} failed:\n${run.stdout}${run.stderr}`);
  return run.stdout;
}

const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const manifestOf = (root: string): Manifest =>
  JSON.parse(readFileSync(path.join(root, "build", "circuits", "manifest.json"), "utf8"));

/** A tree with one circuit, `product`: out = x * y, y public. */
function fixtureTree(dir: string): string {
  mkdirSync(path.join(dir, "circuits"), { recursive: true });
  writeFileSync(
    path.join(dir, "circuits", "circuits.json"),
    JSON.stringify({ product: { file: "product", template: "Product", params: [], pubs: ["y"] } }),
  );
  writeFileSync(
    path.join(dir, "circuits", "product.circom"),
    "pragma circom 2.2.3;\n// Fixture for test/setup: out = x * y.\n" +
      "template Product() {\n  signal input x;\n  signal input y;\n  signal output out;\n  out <== x * y;\n}\n",
  );
  return dir;
}

async function provesAndVerifies(root: string): Promise<boolean> {
  const { proof, publicSignals } = await generateProof("product", { x: 6, y: 7 }, { root });
  expect(publicSignals).to.deep.equal([42n, 7n]);
  return verifyProof("product", proof, publicSignals, { root });
}

describe("setup: npm run build:circuits", function () {
  let scratch: string;
  let devRoot: string;
  let devPtau: string;

  before(function () {
    scratch = mkdtempSync(path.join(tmpdir(), "zkcharge-build-"));
    devRoot = fixtureTree(path.join(scratch, "clone"));
    devPtau = path.join(devRoot, "build", "ptau", "dev-pot8.ptau");
  });

  after(async function () {
    await shutdownProver();
    rmSync(scratch, { recursive: true, force: true });
  });

  describe("development keys from a clone without ../shared", function () {
    let firstZkey: string;

    it("generates a development ptau with a message and its time, and builds artifacts that prove", async function () {
      expect(existsSync(path.join(devRoot, "..", "shared"))).to.equal(false);
      const run = buildCircuits(devRoot);
      expect(run.status, run.out).to.equal(0);
      expect(run.out).to.match(
        /generating an insecure development ptau of 2\^8 into build\/ptau\/, once \(about \d+ s/,
      );
      expect(run.out).to.match(/build\/ptau\/dev-pot8\.ptau made in [\d.]+ s/);
      const manifest = manifestOf(devRoot);
      expect(manifest.insecure).to.equal(true);
      expect(manifest.ptau).to.deep.equal({ name: "dev-pot8.ptau", sha256: sha(devPtau) });
      expect(readFileSync(path.join(devRoot, "contracts", "verifiers", "ProductVerifier.sol"), "utf8")).to.contain(
        "INSECURE development keys",
      );
      firstZkey = manifest.circuits.product!.sha256.zkey;
      expect(await provesAndVerifies(devRoot)).to.equal(true);
    });

    it("reuses the cached ptau and rebuilds the same bytes", function () {
      const run = buildCircuits(devRoot);
      expect(run.status, run.out).to.equal(0);
      expect(run.out).not.to.contain("generating");
      expect(manifestOf(devRoot).circuits.product!.sha256.zkey).to.equal(firstZkey);
    });
  });

  describe("production trusted setup", function () {
    let prodRoot: string;
    let ceremony: string;
    let contributions: string;

    before(function () {
      prodRoot = fixtureTree(path.join(scratch, "production"));
      const work = path.join(scratch, "ceremony");
      mkdirSync(work);
      // Phase 1 stands in for a public ceremony: one contribution with secret entropy.
      snarkjs(work, "powersoftau", "new", "bn128", "8", "pot_0.ptau");
      snarkjs(work, "powersoftau", "contribute", "pot_0.ptau", "pot_1.ptau", `-e=${Math.random()}`);
      snarkjs(work, "powersoftau", "prepare", "phase2", "pot_1.ptau", "ceremony.ptau");
      ceremony = path.join(work, "ceremony.ptau");
      // The r1cs comes from a development build of the same sources (README, production steps).
      cpSync(path.join(devRoot, "build", "tmp", "product", "product.r1cs"), path.join(work, "product.r1cs"));
      snarkjs(work, "zkey", "new", "product.r1cs", "ceremony.ptau", "product_0000.zkey");
      snarkjs(work, "zkey", "contribute", "product_0000.zkey", "product_0001.zkey", "-n=alice", `-e=${Math.random()}`);
      contributions = path.join(work, "contributions");
      mkdirSync(contributions);
      snarkjs(
        work,
        "zkey",
        "contribute",
        "product_0001.zkey",
        path.join(contributions, "product.zkey"),
        "-n=bob",
        `-e=${Math.random()}`,
      );
    });

    it("verifies the contributions, applies the beacon and marks the manifest secure", async function () {
      const run = buildCircuits(
        prodRoot,
        "--production",
        "--ptau",
        ceremony,
        "--contributions",
        contributions,
        "--beacon",
        BEACON,
      );
      expect(run.status, run.out).to.equal(0);
      const manifest = manifestOf(prodRoot);
      expect(manifest.insecure).to.equal(false);
      expect(manifest.beacon).to.equal(BEACON);
      expect(manifest.ptau.sha256).to.equal(sha(ceremony));
      expect(readFileSync(path.join(prodRoot, "contracts", "verifiers", "ProductVerifier.sol"), "utf8")).not.to.contain(
        "INSECURE",
      );
      const zkey = path.join(prodRoot, "build", "circuits", "product", "product.zkey");
      const verified = snarkjs(
        scratch,
        "zkey",
        "verify",
        path.join(prodRoot, "build", "tmp", "product", "product.r1cs"),
        ceremony,
        zkey,
      );
      expect(verified).to.contain("ZKey Ok!");
      expect(verified).to.match(/contribution #\d+ alice/i);
      expect(verified).to.match(/contribution #\d+ bob/i);
      expect(await provesAndVerifies(prodRoot)).to.equal(true);
    });

    const production = (root: string, ptau: string, dir: string, beacon = BEACON) =>
      buildCircuits(root, "--production", "--ptau", ptau, "--contributions", dir, "--beacon", beacon);

    it("refuses the development ptau generated here", function () {
      const run = production(fixtureTree(path.join(scratch, "refuse-dev")), devPtau, contributions);
      expect(run.status).to.equal(1);
      expect(run.out).to.contain(`--production refuses the insecure development powers of tau ${devPtau}`);
    });

    it("refuses a development ptau of another power (tau is the same at every power)", function () {
      const root = fixtureTree(path.join(scratch, "refuse-dev9"));
      const script = path.join(scratch, "make-dev-pot9.mts");
      const ptauModule = path.join(REPO, "scripts", "lib", "ptau.ts");
      writeFileSync(
        script,
        `import { generateDevPtau } from ${JSON.stringify(ptauModule)};\n` +
          `await generateDevPtau(${JSON.stringify(root)}, 9);\nprocess.exit(0);\n`,
      );
      const make = spawnSync(TSX, [script], { encoding: "utf8" });
      expect(make.status, make.stderr).to.equal(0);
      const run = production(root, path.join(root, "build", "ptau", "dev-pot9.ptau"), contributions);
      expect(run.status).to.equal(1);
      expect(run.out).to.contain("--production refuses the insecure development powers of tau");
    });

    it("refuses the shared development ptau", function () {
      if (!existsSync(SHARED_PTAU)) {
        console.log("      (skipped: ../shared/ptau/dev-pot16.ptau is not beside this clone)");
        this.skip();
      }
      const run = production(fixtureTree(path.join(scratch, "refuse-shared")), SHARED_PTAU, contributions);
      expect(run.status).to.equal(1);
      expect(run.out).to.contain("--production refuses the insecure development powers of tau");
    });

    it("refuses a contribution that is not over the ceremony ptau", function () {
      const work = path.join(scratch, "other");
      mkdirSync(path.join(work, "contributions"), { recursive: true });
      cpSync(path.join(devRoot, "build", "tmp", "product", "product.r1cs"), path.join(work, "product.r1cs"));
      snarkjs(work, "zkey", "new", "product.r1cs", devPtau, "z0.zkey");
      snarkjs(work, "zkey", "contribute", "z0.zkey", path.join("contributions", "product.zkey"), "-e=x");
      const root = fixtureTree(path.join(scratch, "refuse-foreign"));
      const run = production(root, ceremony, path.join(work, "contributions"));
      expect(run.status).to.equal(1);
      expect(run.out).to.contain("[product] zkey verify failed for the contribution");
      expect(existsSync(path.join(root, "build", "circuits", "manifest.json"))).to.equal(false);
    });

    it("refuses a missing contribution, a missing beacon and a malformed beacon", function () {
      const root = fixtureTree(path.join(scratch, "refuse-args"));
      const empty = path.join(scratch, "empty");
      mkdirSync(empty);
      let run = production(root, ceremony, empty);
      expect(run.status).to.equal(1);
      expect(run.out).to.contain(`[product] no phase-2 contribution at ${path.join(empty, "product.zkey")}`);
      run = buildCircuits(root, "--production", "--ptau", ceremony, "--contributions", contributions);
      expect(run.status).to.equal(1);
      expect(run.out).to.contain(
        "--production needs --ptau <ceremony .ptau>, --contributions <dir> and --beacon <hex>",
      );
      run = production(root, ceremony, contributions, "not-hex");
      expect(run.status).to.equal(1);
      expect(run.out).to.contain("--beacon must be 32 bytes of hex");
      expect(existsSync(path.join(root, "build", "circuits", "manifest.json"))).to.equal(false);
    });
  });
});
