/**
 * The `zkcharge` CLI's usage errors and help, run as real processes (no chain needed: all of these are refused
 * or answered before any network): a bad option value names the option, a missing or unknown option too, a state
 * file with a bad field names the field and stays byte-identical, and every command has its own --help.
 */
import { expect } from "chai";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serializeState, STATE_VERSION, type CliState } from "../../cli/state.ts";
import { ROOT, runFile, zkcharge as run, type Run } from "./harness.ts";

/** Runs the CLI against a port nobody listens on: a command that got as far as the network would fail differently. */
const zkcharge = (...args: string[]): Promise<Run> => run({ ...process.env, ZKCHARGE_RPC: "http://127.0.0.1:9" }, args);

/** A state file with one ended session, structurally complete (the values need not verify). */
function stateWithSession(): CliState {
  const tariff = {
    cpoId: 1n,
    flatFee: 500_000n,
    energyPrice: [1n, 2n, 3n, 4n] as const,
    bandStart: [0n, 25_200n, 61_200n, 79_200n] as const,
    timePricePerHour: [120_000n, 120_000n, 120_000n, 120_000n] as const,
    parkingPricePerHour: [120_000n, 120_000n, 120_000n, 120_000n] as const,
    minPrice: 0n,
    maxPrice: 0n,
    tzOffset: 3600n,
    validFrom: 1_000n,
    validTo: 2_000_000_000n,
    stepSize: [1n, 1n, 1n] as const,
  };
  return {
    version: STATE_VERSION,
    chainId: 31337n,
    deployedAt: "2026-01-01T00:00:00Z",
    addresses: { token: "0x1", registry: "0x2", pool: "0x3", payVerifier: "0x4", transactVerifier: "0x5" },
    cpo: { cpoId: 1n, admin: "0xA", payout: "0xB", tx: "0xC" },
    meters: [
      {
        id: "m1",
        leaf: 7n,
        cpoId: 1n,
        ratedPowerW: 22_000n,
        privateKey: "0x" + "ab".repeat(32),
        revoked: false,
        addedTx: "0xD",
      },
    ],
    tariffs: [{ hash: 9n, tariff, tx: "0xE" }],
    sessions: [
      {
        id: "s1",
        meterId: "m1",
        status: "unpaid",
        amount: 6_084_850n,
        session: {
          sessionId: 5n,
          cpoId: 1n,
          meterLeaf: 7n,
          ratedPowerW: 22_000n,
          tariff,
          tariffHash: 9n,
          ocmfDigest: 0n,
          points: [
            { t: 1_000_000n, e: 5_000_000n },
            { t: 1_001_800n, e: 5_005_500n },
          ],
          n: 2,
          signature: { R8: [1n, 2n], S: 3n },
          meterPublicKey: [4n, 5n],
          final: 6n,
        },
      },
    ],
  };
}

describe("zkcharge CLI usage errors and help", function () {
  this.timeout(120_000);
  let dir: string;
  let statePath: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zkcharge-usage-"));
    statePath = join(dir, "state.json");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs a command that must be refused with exit code 1 and an error matching `pattern`. */
  async function refused(pattern: RegExp, ...args: string[]): Promise<Run> {
    const r = await zkcharge(...args, "--state", statePath);
    expect(r.code, `zkcharge ${args.join(" ")} should fail:\n${r.stdout}\n${r.stderr}`).to.equal(1);
    expect(r.stderr).to.match(/^zkcharge: error: /);
    expect(r.stderr).to.match(pattern);
    return r;
  }

  it("refuses a bad option value with an error naming the option, before touching the state", async () => {
    await refused(
      /zkcharge: error: --amount: "1\.2345678" has 7 decimals; the token has only 6/,
      "driver",
      "deposit",
      "--amount",
      "1.2345678",
    );
    await refused(/--minutes: "ninety" is not a whole number/, "chain", "advance", "--minutes", "ninety");
    await refused(/--from: "25:00" is not a time of day HH:MM/, "session", "start", "--from", "25:00");
    await refused(
      /--energy-prices: expected 4 comma-separated values, got 2/,
      "tariff",
      "publish",
      "--energy-prices",
      "0.25,0.30",
    );
    await refused(/--tz: "\+15:00" is not a UTC offset/, "tariff", "publish", "--tz", "+15:00");
    await refused(
      /--parking-prices: expected 4 comma-separated values, got 1/,
      "tariff",
      "publish",
      "--parking-prices",
      "0.10",
    );
    await refused(/--to: "0x12" is not an Ethereum address/, "driver", "withdraw", "--to", "0x12");
    expect(existsSync(statePath), "a refused command created the state file").to.equal(false);
  });

  it("names a missing, unknown or misplaced option", async () => {
    await refused(/missing --amount \(e\.g\. --amount 20\.00\)/, "driver", "deposit");
    // An unknown option is reported as such (not as the required one it may misspell).
    await refused(/unknown option '--amont'.*\n.*Did you mean --amount\?/, "driver", "deposit", "--amont", "3");
    await refused(/unknown option '--tail'/, "driver", "pay", "--session", "s1", "--tail");
    await refused(/option '--cap <EUR>' argument missing/, "driver", "lock", "--session", "s2", "--cap");
    await refused(/unknown command 'drive'/, "drive", "pay");
  });

  it("prints each command's help: usage, its options with defaults and what is required, the global options", async () => {
    const r = await zkcharge("driver", "lock", "--help");
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^Usage: zkcharge driver lock \[options\]/);
    expect(r.stdout).to.match(/--cap <EUR> +the most the session may charge \(required\)/);
    expect(r.stdout).to.match(/--claim-hours <n> +claim deadline = settle deadline \+ this \(>= 24\) \(default: 48\)/);
    expect(r.stdout).to.match(/--fee <EUR> .*\(default: 0\.02\)/);
    expect(r.stdout).to.match(/Global Options:\n +--rpc <url>.*env: ZKCHARGE_RPC/);

    const tariff = await zkcharge("tariff", "publish", "--help");
    expect(tariff.code).to.equal(0);
    expect(tariff.stdout).to.match(/--energy-prices <EUR,EUR,EUR,EUR> .*\(default: 0\.25,0\.39,0\.45,0\.30\)/);
    expect(tariff.stdout).to.match(/--tz <offset> .*\(default: \+01:00\)/);
    expect(tariff.stdout).to.match(/--parking-prices <EUR,EUR,EUR,EUR> +EUR per hour parked .*PARKING_TIME/);
    expect(tariff.stdout).to.match(/\(default: 0\.12,0\.12,0\.12,0\.12\)/);

    // The top-level help lists every command by its full name, grouped.
    const top = await zkcharge("--help");
    expect(top.code).to.equal(0);
    for (const name of [
      "deploy",
      "cpo register",
      "meter add",
      "tariff publish",
      "driver pay",
      "session simulate",
      "cpo close",
      "chain advance",
    ]) {
      expect(top.stdout).to.match(new RegExp(`\\n  ${name} `), name);
    }
    expect(top.stdout).to.match(/Escrowed sessions .*:\n +driver lock \[options\]/);
  });

  it("refuses a state file with a bad field, naming the field, and leaves it byte-identical", async () => {
    const good = serializeState(stateWithSession());
    const bad = good.replace('"t": "1001800n"', '"t": "18:30"');
    expect(bad).to.not.equal(good);
    writeFileSync(statePath, bad);
    const before = readFileSync(statePath);
    for (const args of [["driver", "new"], ["status"]]) {
      await refused(
        new RegExp(
          `state file ${statePath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: ` +
            'sessions\\[0\\]\\.session\\.points\\[1\\]\\.t: expected a decimal integer string like "123n", got "18:30"',
        ),
        ...args,
      );
      expect(readFileSync(statePath).equals(before), "state file changed").to.equal(true);
    }
    // Another field, another message: an unknown status.
    writeFileSync(statePath, good.replace('"status": "unpaid"', '"status": "done"'));
    await refused(/sessions\[0\]\.status: expected "started" \| "unpaid" \| "paid", got "done"/, "driver", "new");
    rmSync(statePath);
  });

  it("runs on the compiled contracts, never a compiler: a tree without them gets one line naming `npm run compile`", async () => {
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
    ).scripts;
    expect(scripts.zkcharge).to.equal("tsx cli/zkcharge.ts"); // no `hardhat compile` before every command
    expect(scripts.postinstall).to.match(/^hardhat compile --quiet$/); // compiled once, at install
    // The entry point alone in a tree with no artifacts/ and no types/ethers-contracts/.
    const tree = join(dir, "tree");
    mkdirSync(join(tree, "cli"), { recursive: true });
    copyFileSync(join(ROOT, "package.json"), join(tree, "package.json"));
    copyFileSync(join(ROOT, "cli", "zkcharge.ts"), join(tree, "cli", "zkcharge.ts"));
    const r = await runFile(join(tree, "cli", "zkcharge.ts"), ["--help"]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(
      "zkcharge: error: the compiled contracts are missing (types/ethers-contracts/index.ts, " +
        "artifacts/contracts/Pool.sol/Pool.json, artifacts/contracts/Registry.sol/Registry.json): run `npm run compile` once " +
        "(npm install does it too), and again after changing contracts/\n",
    );
  });
});
