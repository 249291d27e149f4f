/**
 * Runs one test tier, `npm run test:unit` / `npm run test:proofs` (docs/testing.md): `hardhat test mocha` on the
 * tier's files, with any further arguments passed on (`npm run test:unit -- --grep tariff`).
 *
 *   tsx scripts/test-tier.ts unit|proofs [hardhat test mocha options]
 *
 * The unit tier is the files matching UNIT below; the proof tier is every other `test/<dir>/<name>.test.ts`, so
 * together they are exactly the suite and a new file lands in the proof tier unless added here. The proof tier
 * runs in 2 mocha worker processes that take files in order: the longest files go first, so that no single long
 * file runs alone at the end while the other core idles. After a run of more than one file it prints the slowest
 * files' wall times (test/fixtures/fileTimes.ts records them).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { FILE_TIMES } from "../test/fixtures/fileTimes.ts";

/** Files that make no proof, start no chain and stay quick. */
const UNIT = [
  /^test\/(sdk|circuits|keys)\//,
  /^test\/cli\/(state|usage|ocpiPrice|ocmf)\.test\.ts$/,
  /^test\/relayer\/store\.test\.ts$/,
  /^test\/live\/(records|stores|walletStore|walletFollow)\.test\.ts$/,
  /^test\/web\/stationLink\.test\.ts$/,
];

/** The proof tier's longest files, longest first (minutes each on 2 cores; see docs/testing.md). */
const LONGEST_FIRST = [
  "test/invariant/pool.invariant.test.ts",
  "test/live/wallet.test.ts",
  "test/web/web.test.ts",
  "test/e2e/nodes.test.ts",
  "test/web/cpo.test.ts",
  "test/cli/cli.test.ts",
  "test/cli/faults.test.ts",
];

function allTestFiles(): string[] {
  return readdirSync("test")
    .filter((dir) => statSync(join("test", dir)).isDirectory())
    .flatMap((dir) =>
      readdirSync(join("test", dir))
        .filter((file) => file.endsWith(".test.ts"))
        .map((file) => `test/${dir}/${file}`),
    )
    .sort();
}

const [tier, ...options] = process.argv.slice(2);
if (tier !== "unit" && tier !== "proofs") {
  console.error("usage: tsx scripts/test-tier.ts unit|proofs [hardhat test mocha options]");
  process.exit(1);
}
const files = allTestFiles();
const unit = files.filter((file) => UNIT.some((pattern) => pattern.test(file)));
const proofs = files.filter((file) => !unit.includes(file));
for (const file of LONGEST_FIRST) if (!proofs.includes(file)) throw new Error(`${file} is not in the proof tier`);
const rank = (file: string) => (LONGEST_FIRST.includes(file) ? LONGEST_FIRST.indexOf(file) : LONGEST_FIRST.length);
const selected = tier === "unit" ? unit : proofs.sort((a, b) => rank(a) - rank(b));
// Hardhat runs every file under test/ when given none: never let an empty tier do that.
if (selected.length === 0) throw new Error(`no test files in the ${tier} tier`);
rmSync(FILE_TIMES, { force: true });
const startedAt = performance.now();
const run = spawnSync(join("node_modules", ".bin", "hardhat"), ["test", "mocha", ...selected, ...options], {
  stdio: "inherit",
});
printFileTimes((performance.now() - startedAt) / 1000);
process.exit(run.status ?? 1);

/** The slowest files of the run and how much of the two workers' time they took. */
function printFileTimes(wallSeconds: number): void {
  if (!existsSync(FILE_TIMES)) return;
  const times = readFileSync(FILE_TIMES, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as { file: string; seconds: number })
    .sort((a, b) => b.seconds - a.seconds);
  if (times.length < 2) return;
  const total = times.reduce((sum, t) => sum + t.seconds, 0);
  console.log(
    `${tier} tier: ${wallSeconds.toFixed(0)} s wall; ${times.length} files, ${total.toFixed(0)} s of file time`,
  );
  for (const t of times.slice(0, 12))
    console.log(
      `  ${t.seconds.toFixed(1).padStart(7)} s  ${((100 * t.seconds) / total).toFixed(1).padStart(5)} %  ${t.file}`,
    );
}
