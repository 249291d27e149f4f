/**
 * The driver wallet's key store (cli/walletStore.ts), unit tier (no chain, no proof; scrypt at its test cost): what
 * it writes opens again with its records; a wrong passphrase and a truncated or damaged file are refused with the
 * cause and change nothing; a bad update changes nothing in memory or on disk; a writer killed with SIGKILL in the
 * middle of its writes leaves a file that opens (old or new, never half), and its stale lock is taken over; a
 * second live process on the same file is refused.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import {
  KeyFileAccessError,
  KeyFileFormatError,
  KeyFileIntegrityError,
  NOTE_SCAN_FORMAT,
  SCRYPT_TEST_ONLY,
  type NoteScan,
  WrongPassphraseError,
} from "../../sdk/index.ts";
import { WalletStore, type WalletSession } from "../../cli/walletStore.ts";
import { ROOT } from "../cli/harness.ts";

const PASS = "wallet passphrase";
const TSX = join(ROOT, "node_modules", ".bin", "tsx");

function session(id: string): WalletSession {
  const stamp = new Date().toISOString();
  return {
    id,
    station: "http://127.0.0.1:9100",
    chargerId: "CS001",
    cpoId: "7",
    chainId: "31337",
    pool: "0x0000000000000000000000000000000000000001",
    tariff: { cpoId: "7" },
    tariffHash: "1",
    meterPublicKey: ["1", "2"],
    ratedPowerW: "22000",
    meterLeaf: "3",
    stationNonce: "4",
    driverNonce: "5",
    sessionId: "6",
    cap: "20000000",
    settleDeadline: "100",
    claimDeadline: "200",
    state: "offered",
    readings: [],
    createdAt: stamp,
    updatedAt: stamp,
  };
}

describe("wallet: the encrypted key store", function () {
  this.timeout(120_000);
  let dir: string;
  let path: string;

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), "zkcharge-wallet-"));
    path = join(dir, "wallet.json");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the identity and records encrypted; they open again with the passphrase", async function () {
    const store = await WalletStore.create(path, PASS, { scrypt: SCRYPT_TEST_ONLY });
    await store.update((d) => ({ ...d, sessions: [session("w1")] }));
    await store.updateSession("w1", { state: "charging", token: "secret-token" });
    await store.close();
    const text = readFileSync(path, "utf8");
    // Nothing readable at rest: neither the token nor the station.
    expect(text).to.not.include("secret-token");
    expect(text).to.not.include("127.0.0.1");
    const again = await WalletStore.open(path, PASS);
    expect(again.identity.commitment).to.equal(store.identity.commitment);
    expect(again.session("w1").state).to.equal("charging");
    expect(again.session("w1").token).to.equal("secret-token");
    expect(again.session().id).to.equal("w1");
    await again.close();
  });

  it("keeps the note scan (note openings) inside the encrypted file, and hands it back after a reopen", async function () {
    const store = await WalletStore.create(path, PASS, { scrypt: SCRYPT_TEST_ONLY });
    const blinding = "1234567890123456789012345678901234567890123456789012345678901234567890";
    const scan = {
      format: NOTE_SCAN_FORMAT,
      scanned: 3,
      leavesDigest: "ab".repeat(32),
      found: [[2, "5000000", blinding]],
    };
    await store.noteScanStore().save(scan as NoteScan);
    await store.close();
    expect(readFileSync(path, "utf8")).to.not.include(blinding);
    const again = await WalletStore.open(path, PASS);
    expect(await again.noteScanStore().load()).to.deep.equal(scan);
    await again.close();
  });

  it("refuses an existing file unless forced, and a missing one", async function () {
    await (await WalletStore.create(path, PASS, { scrypt: SCRYPT_TEST_ONLY })).close();
    await WalletStore.create(path, PASS, { scrypt: SCRYPT_TEST_ONLY }).then(
      () => expect.fail("overwrote a wallet"),
      (e) => expect(e).to.be.instanceOf(KeyFileAccessError).and.have.property("code", "KEY_FILE_EXISTS"),
    );
    await WalletStore.open(join(dir, "none.json"), PASS).then(
      () => expect.fail("opened a missing file"),
      (e) => expect(e).to.be.instanceOf(KeyFileAccessError).and.have.property("code", "KEY_FILE_MISSING"),
    );
  });

  it("refuses a wrong passphrase, a truncated file and a damaged ciphertext, and changes nothing", async function () {
    const store = await WalletStore.create(path, PASS, { scrypt: SCRYPT_TEST_ONLY });
    await store.update((d) => ({ ...d, sessions: [session("w1")] }));
    await store.close();
    const text = readFileSync(path, "utf8");
    await WalletStore.open(path, "not it").then(
      () => expect.fail("opened with a wrong passphrase"),
      (e) => expect(e).to.be.instanceOf(WrongPassphraseError),
    );
    expect(readFileSync(path, "utf8")).to.equal(text);
    const truncated = join(dir, "truncated.json");
    writeFileSync(truncated, text.slice(0, Math.floor(text.length / 2)));
    await WalletStore.open(truncated, PASS).then(
      () => expect.fail("opened a truncated file"),
      (e) =>
        expect(e)
          .to.be.instanceOf(KeyFileFormatError)
          .and.match(/truncated or damaged/),
    );
    const damaged = join(dir, "damaged.json");
    const file = JSON.parse(text) as { ciphertext: string };
    const flipped = (file.ciphertext[10] === "0" ? "1" : "0") + file.ciphertext.slice(11);
    writeFileSync(damaged, JSON.stringify({ ...file, ciphertext: file.ciphertext.slice(0, 10) + flipped }));
    await WalletStore.open(damaged, PASS).then(
      () => expect.fail("opened a damaged file"),
      (e) => expect(e).to.be.instanceOf(KeyFileIntegrityError),
    );
  });

  it("leaves memory and disk as they were when an update is refused", async function () {
    const store = await WalletStore.create(path, PASS, { scrypt: SCRYPT_TEST_ONLY });
    await store.update((d) => ({ ...d, sessions: [session("w1")] }));
    const text = readFileSync(path, "utf8");
    await store
      .update((d) => ({ ...d, sessions: [{ ...session("w2"), cap: "-1" }] }))
      .then(
        () => expect.fail("stored a malformed session"),
        (e) => expect(String(e)).to.match(/decimal string/),
      );
    await store
      .update(() => {
        throw new Error("the change failed");
      })
      .then(
        () => expect.fail("the change did not throw"),
        (e) => expect(String(e)).to.match(/the change failed/),
      );
    expect(readFileSync(path, "utf8")).to.equal(text);
    expect(store.data.sessions.map((s) => s.id)).to.deep.equal(["w1"]);
    await store.close();
  });

  it("survives SIGKILL in the middle of writes: the file opens (old or new), the stale lock is taken over", async function () {
    await (await WalletStore.create(path, PASS, { scrypt: SCRYPT_TEST_ONLY })).close();
    // A writer that appends sessions as fast as it can, killed at a different point each round (bounded: 3 rounds).
    const writer = `
      import { WalletStore } from ${JSON.stringify(join(ROOT, "cli", "walletStore.ts"))};
      const store = await WalletStore.open(process.argv[2], process.argv[3]);
      console.log("open");
      for (let i = 0; i < 100000; i++) {
        await store.update((d) => ({ ...d, sessions: [...d.sessions, { ...JSON.parse(process.argv[4]), id: "k" + i }] }));
      }`;
    const script = join(dir, "writer.mts");
    writeFileSync(script, writer);
    /** Opens the wallet once the killed writer is gone (the kernel reaps it a moment after SIGKILL; at most 10 s). */
    const openWhenGone = async () => {
      for (let i = 0; ; i++) {
        try {
          return await WalletStore.open(path, PASS);
        } catch (error) {
          if (i >= 50 || !/in use by process/.test(String(error))) throw error;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    let lastCount = 0;
    for (const [round, delayMs] of [150, 400, 900].entries()) {
      const child = spawn(TSX, [script, path, PASS, JSON.stringify(session("x"))], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true, // its own process group: tsx runs the script in a child node process
      });
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("the writer did not open the wallet in 60 s")), 60_000);
          child.stdout.on("data", (d: Buffer) => {
            if (d.toString().includes("open")) {
              clearTimeout(timer);
              resolve();
            }
          });
        });
        // While it runs, another process cannot open the same wallet.
        if (round === 0)
          await WalletStore.open(path, PASS).then(
            () => expect.fail("opened a wallet in use"),
            (e) => expect(String(e)).to.match(/in use by process/),
          );
        await new Promise((r) => setTimeout(r, delayMs));
      } finally {
        process.kill(-child.pid!, "SIGKILL");
        await exited;
      }
      const store = await openWhenGone();
      const count = store.data.sessions.length;
      expect(count).to.be.at.least(lastCount);
      lastCount = count;
      await store.close();
    }
    expect(lastCount).to.be.above(0);
  });
});
