/**
 * Newcomer trap: `npm install` under a Node older than 22.13 must fail at once with one clear message (npm's
 * EBADENGINE naming the required version, because `.npmrc` has `engine-strict`), instead of "succeeding" with
 * warnings and silently skipping Hardhat's native EDR package. Runs npm under an older Node when this machine has one
 * (Debian's /usr/bin/node), in a scratch copy of .npmrc and package.json (its engines and scripts as they are; the
 * dependency lists left out, so npm does not spend ~40 s resolving a tree it must refuse anyway); nothing is installed.
 */
import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Directory of an installed Node older than 22.13 with its npm, if this machine has one. */
function olderNode(): string | undefined {
  for (const dir of ["/usr/bin", "/usr/local/bin"]) {
    try {
      const version = execFileSync(path.join(dir, "node"), ["--version"], { encoding: "utf8" }).trim();
      const [major, minor] = version.slice(1).split(".").map(Number) as [number, number];
      const old = major < 22 || (major === 22 && minor < 13);
      if (old && spawnSync(path.join(dir, "npm"), ["--version"]).status === 0) return dir;
    } catch {
      // no node here
    }
  }
  return undefined;
}

describe("setup: Node version", function () {
  it("npm install under Node < 22.13 fails with EBADENGINE naming the required version", function () {
    const dir = olderNode();
    if (dir === undefined) {
      console.log("      (skipped: this machine has no Node older than 22.13 to try)");
      this.skip();
    }
    const scratch = mkdtempSync(path.join(tmpdir(), "zkcharge-engine-"));
    try {
      const manifest = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as Record<string, unknown>;
      delete manifest.dependencies;
      delete manifest.devDependencies;
      writeFileSync(path.join(scratch, "package.json"), JSON.stringify(manifest, null, 2));
      copyFileSync(path.join(ROOT, ".npmrc"), path.join(scratch, ".npmrc"));
      const res = spawnSync(
        path.join(dir, "npm"),
        ["install", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"],
        {
          cwd: scratch,
          encoding: "utf8",
          env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ""}` },
          timeout: 120_000,
        },
      );
      expect(res.status, res.stderr).to.not.equal(0);
      expect(res.stderr).to.match(/EBADENGINE/);
      expect(res.stderr).to.match(/Required: \{"node":">=22\.13\.0"\}/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
