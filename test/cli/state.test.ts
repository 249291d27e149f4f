/**
 * The CLI's state file: bigints survive the round trip, and a save is atomic: a failure before the
 * rename leaves the old file byte-identical, and a writer killed at random moments (SIGKILL, no
 * cleanup) never leaves a reader a half-written file.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  loadState,
  parseState,
  saveState,
  serializeState,
  writeFileAtomic,
  STATE_VERSION,
  type CliState,
} from "../../cli/state.ts";

const STATE_MODULE = fileURLToPath(new URL("../../cli/state.ts", import.meta.url));

function sampleState(tag: number, padding = 0): CliState {
  return {
    version: STATE_VERSION,
    chainId: 31337n,
    deployedAt: `2026-01-01T00:00:0${tag % 10}Z`,
    addresses: { token: "0x1", registry: "0x2", pool: "0x3", payVerifier: "0x4", transactVerifier: "0x5" },
    cpo: { cpoId: BigInt(tag), admin: "0xA", payout: "0xB", tx: "0x" + "c".repeat(64) },
    meters: [],
    tariffs: [],
    driver: { secret: "x".repeat(padding) + "=", createdAt: "now" },
    sessions: [],
  };
}

describe("cli state file", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "zkcharge-state-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips bigints (as "123n") and leaves no temp file behind', () => {
    const path = join(dir, "nested", "state.json");
    const state = sampleState(7);
    state.cpo!.cpoId = 2n ** 200n + 1n;
    saveState(path, state);
    const text = readFileSync(path, "utf8");
    expect(text).to.contain(`"${2n ** 200n + 1n}n"`);
    expect(parseState(text)).to.deep.equal(state);
    expect(readdirSync(join(dir, "nested"))).to.deep.equal(["state.json"]);
  });

  it("leaves the old file byte-identical when the write fails before the rename", () => {
    const path = join(dir, "state.json");
    saveState(path, sampleState(1));
    const before = readFileSync(path);
    expect(() =>
      saveState(path, sampleState(2), {
        beforeRename: () => {
          throw new Error("simulated crash");
        },
      }),
    ).to.throw("simulated crash");
    expect(readFileSync(path).equals(before)).to.equal(true);
    expect(readdirSync(dir)).to.deep.equal(["state.json"]);
  });

  it("never exposes a half-written file to readers, even when the writer is SIGKILLed mid-stream", async () => {
    const path = join(dir, "state.json");
    // Large versions (~2 MB) so that a non-atomic write would be caught half-way.
    const versions = [1, 2, 3].map((k) => serializeState(sampleState(k, 2_000_000)));
    writeFileSync(path, versions[0]!);
    versions.forEach((v, k) => writeFileSync(join(dir, `version${k}.txt`), v));
    const writer = `
      import { readFileSync } from "node:fs";
      import { writeFileAtomic } from ${JSON.stringify(STATE_MODULE)};
      const texts = [0, 1, 2].map((k) => readFileSync(${JSON.stringify(dir)} + "/version" + k + ".txt", "utf8"));
      process.stdout.write("ready\\n");
      for (let i = 1; ; i++) writeFileAtomic(${JSON.stringify(path)}, texts[i % 3]);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", writer], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((ok, fail) => {
      child.stdout.once("data", () => ok());
      child.once("exit", (code) => fail(new Error(`writer exited early with ${code}`)));
    });
    const seen = new Set<number>();
    try {
      const deadline = Date.now() + 1500;
      while (Date.now() < deadline) {
        const text = readFileSync(path, "utf8");
        const index = versions.indexOf(text);
        expect(
          index,
          `reader saw a file that is none of the complete versions (${text.length} bytes)`,
        ).to.be.greaterThan(-1);
        seen.add(index);
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
    expect(versions).to.include(readFileSync(path, "utf8"));
    expect(seen.size, "the writer should have replaced the file several times").to.be.greaterThan(1);
  });

  it("checks every field against the schema and names the first bad one", () => {
    const good = JSON.parse(serializeState(sampleState(3))) as Record<string, unknown>;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- edits the parsed JSON into invalid shapes on purpose
    const bad = (edit: (s: Record<string, any>) => void): string => {
      const copy = structuredClone(good);
      edit(copy);
      return JSON.stringify(copy);
    };
    expect(() =>
      parseState(
        bad((s) => {
          s.chainId = 31337;
        }),
      ),
    ).to.throw(/^chainId: expected a decimal integer string like "123n", got 31337$/);
    expect(() =>
      parseState(
        bad((s) => {
          delete s.cpo.payout;
        }),
      ),
    ).to.throw(/^cpo\.payout: missing$/);
    expect(() =>
      parseState(
        bad((s) => {
          s.meters = [{ id: "m1" }];
        }),
      ),
    ).to.throw(/^meters\[0\]\.leaf: missing \(and \d+ more problem\(s\)\)$/);
    expect(() =>
      parseState(
        bad((s) => {
          s.addresses.extra = "0x6";
        }),
      ),
    ).to.throw(/^addresses\.extra: unknown field$/);
    expect(() =>
      parseState(
        bad((s) => {
          s.sessions = "none";
        }),
      ),
    ).to.throw(/^sessions: expected array, got string$/);
    expect(() =>
      parseState(
        bad((s) => {
          s.version = 2;
        }),
      ),
    ).to.throw(/unsupported state file version 2 \(expected 1\)/);
    expect(() => parseState("{ not json")).to.throw(/^not JSON/);
    // loadState puts the file's path in front.
    const path = join(dir, "state.json");
    writeFileSync(
      path,
      bad((s) => {
        s.cpo.cpoId = "1";
      }),
    );
    expect(() => loadState(path)).to.throw(
      `state file ${path}: cpo.cpoId: expected a decimal integer string like "123n", got "1"`,
    );
  });

  it("writeFileAtomic creates missing directories and replaces an existing file", () => {
    const path = join(dir, "a", "b", "f.json");
    writeFileAtomic(path, "one");
    writeFileAtomic(path, "two");
    expect(readFileSync(path, "utf8")).to.equal("two");
  });
});
