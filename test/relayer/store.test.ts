/**
 * The relayer's job store (SQLite file, versioned schema) and its rate limiter, without a chain: one live job per
 * nullifier key, a failed job frees its keys, everything survives closing and reopening the file, a database from
 * a newer relayer is refused, and the limiter's memory stays bounded under a flood of client addresses.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { RateLimiter } from "../../service/rateLimit.ts";
import { SqliteJobStore } from "../../relayer/sqliteStore.ts";
import type { NewJob } from "../../relayer/store.ts";

const job = (id: string, keys: string[]): NewJob => ({
  id,
  operation: "transact",
  keys,
  to: "0x0000000000000000000000000000000000000001",
  data: "0x1234",
  gasLimit: 500_000n,
});

describe("relayer job store (SQLite) and rate limiter", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zkcharge-store-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps one live job per key, frees the keys of a failed job, and survives a reopen", async () => {
    const file = join(dir, "jobs.db");
    let store = new SqliteJobStore(file);
    expect(store.schemaVersion).to.equal(1);
    const a = await store.createOrGet(job("a", ["nullifier:1", "nullifier:2"]));
    expect(a.created).to.equal(true);
    expect(a.job.status).to.equal("queued");
    const dup = await store.createOrGet(job("b", ["nullifier:2", "nullifier:3"]));
    expect(dup).to.deep.include({ created: false });
    expect(dup.job.id).to.equal("a");
    expect(await store.find(["nullifier:3"])).to.equal(undefined);

    const raw = { hash: "0xaa", raw: "0x02ff", maxFeePerGas: 7n, maxPriorityFeePerGas: 1n, signedAt: 1 };
    await store.addAttempt("a", 5, raw);
    await store.addAttempt("a", 5, { ...raw, hash: "0xbb", maxFeePerGas: 9n });
    expect(await store.maxNonce()).to.equal(5);
    await store.close();

    store = new SqliteJobStore(file); // a restart
    expect(store.schemaVersion).to.equal(1);
    const [live] = await store.live();
    expect(live!.nonce).to.equal(5);
    expect(live!.attempts.map((x) => [x.hash, x.raw, x.maxFeePerGas])).to.deep.equal([
      ["0xaa", "0x02ff", 7n],
      ["0xbb", "0x02ff", 9n],
    ]);
    await store.markFailed("a", "reverted", { nonceFree: true });
    expect(await store.maxNonce()).to.equal(undefined);
    const retry = await store.createOrGet(job("c", ["nullifier:1"]));
    expect(retry.created).to.equal(true);
    await store.markMined("c", "0xcc", 12);
    expect(await store.get("c")).to.deep.include({ status: "mined", minedHash: "0xcc", blockNumber: 12 });
    expect((await store.createOrGet(job("d", ["nullifier:1"]))).job.id).to.equal("c"); // mined stays the answer
    await store.close();
  });

  it("lists mined jobs from a block on and puts a reorganised one back to sent, its transactions kept", async () => {
    const store = new SqliteJobStore(join(dir, "reorg.db"));
    const raw = { hash: "0xaa", raw: "0x02ff", maxFeePerGas: 7n, maxPriorityFeePerGas: 1n, signedAt: 1 };
    for (const [id, block] of [
      ["old", 10],
      ["new", 20],
    ] as const) {
      await store.createOrGet(job(id, [`nullifier:${id}`]));
      await store.addAttempt(id, block, { ...raw, hash: `0x${block}` });
      await store.markMined(id, `0x${block}`, block);
    }
    expect((await store.minedSince(11)).map((j) => j.id)).to.deep.equal(["new"]);
    expect((await store.minedSince(10)).map((j) => j.id)).to.deep.equal(["old", "new"]);
    expect(await store.minedSince(21)).to.deep.equal([]);
    await store.markReorged("new");
    const back = (await store.get("new"))!;
    expect(back.status).to.equal("sent");
    expect(back.minedHash).to.equal(undefined);
    expect(back.attempts.map((a) => a.hash)).to.deep.equal(["0x20"]);
    expect((await store.live()).map((j) => j.id)).to.deep.equal(["new"]);
    expect((await store.createOrGet(job("again", ["nullifier:new"]))).created).to.equal(false); // its key held
    await store.markFailed("old", "x");
    await store.markReorged("old"); // only a mined job moves
    expect((await store.get("old"))!.status).to.equal("failed");
    await store.close();
  });

  it("refuses a database written by a newer relayer", () => {
    const file = join(dir, "newer.db");
    new SqliteJobStore(file).close();
    const db = new DatabaseSync(file);
    db.exec("UPDATE schema_version SET version = 99");
    db.close();
    expect(() => new SqliteJobStore(file)).to.throw(/schema version 99, newer than this relayer's 1/);
  });

  it("limits each client to its bucket and forgets the oldest clients beyond its bound", () => {
    const limiter = new RateLimiter({ burst: 3, perMinute: 60, maxClients: 100 });
    const t = 1_000_000;
    expect([1, 2, 3, 4].map(() => limiter.take("a", t))).to.deep.equal([0, 0, 0, 1]);
    expect(limiter.take("a", t + 1_000)).to.equal(0); // one per second back
    for (let i = 0; i < 10_000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`, t);
    expect(limiter.size).to.equal(100);
  });
});
