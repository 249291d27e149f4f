/**
 * The charger's and the station's SQLite stores (unit tier): what is written survives a reopen, the offline queue
 * comes back in order and leaves only on acknowledge or refusal, a reading is stored once per (transaction, seqNo),
 * an end reading ends its session, a version-1 database is migrated to version 2 with everything kept (offers,
 * escrows, closes added; a nonce used once), and a database from a newer version is refused.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { expect } from "chai";
import { ChargerStore, type ChargerSession } from "../../charger/store.ts";
import { SqliteStationStore } from "../../station/sqliteStore.ts";
import type { StoredReading } from "../../station/store.ts";

describe("live stores (SQLite)", function () {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "zkcharge-stores-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const session = (nextSeqNo: number, state: ChargerSession["state"] = "charging"): ChargerSession => ({
    transactionId: "tx-1",
    sessionId: "42",
    remoteStartId: 9,
    tariff: { cpoId: "7" },
    points: [{ t: "100", e: "500" }],
    last: { t: String(100 + nextSeqNo), e: String(500 + nextSeqNo) },
    nextSeqNo,
    state,
  });

  it("charger: keeps the session and the queue across a reopen, in order, until acknowledged or refused", function () {
    const file = join(dir, "charger.db");
    let store = new ChargerStore(file);
    expect(store.schemaVersion).to.equal(1);
    expect(store.register).to.equal(0n);
    for (let i = 1; i <= 3; i++) store.record(session(i), { seqNo: i - 1 });
    store.close();
    store = new ChargerStore(file); // a restart
    expect(store.current()).to.deep.include({ transactionId: "tx-1", nextSeqNo: 3, last: { t: "103", e: "503" } });
    expect(store.queued).to.equal(3);
    const first = store.next()!;
    expect(first.payload).to.deep.equal({ seqNo: 0 });
    store.acknowledge(first.id);
    store.refuse(store.next()!.id, "SecurityError: bad meter signature");
    expect(store.next()!.seqNo).to.equal(2);
    store.record(session(4, "ended"), { seqNo: 3 });
    expect(store.current()).to.equal(undefined);
    expect(store.register).to.equal(504n);
    expect(store.queued).to.equal(2);
    store.close();
  });

  it("station: stores a reading once per (transaction, seqNo), knows the last seqNo, and ends the session with its end reading", async function () {
    const file = join(dir, "station.db");
    let store = new SqliteStationStore(file);
    await store.addSession({
      sessionId: "42",
      chargerId: "CS001",
      remoteStartId: 9,
      tariff: { a: "1" },
      requestedAt: 1,
    });
    expect((await store.openSessions()).map((s) => s.state)).to.deep.equal(["requested"]);
    await store.bindTransaction("42", "tx-1");
    expect(await store.lastSeqNo("tx-1")).to.equal(undefined);
    const reading = (seqNo: number, kind: string): StoredReading => ({
      transactionId: "tx-1",
      seqNo,
      eventType: kind === "end" ? "Ended" : "Updated",
      kind,
      k: 1,
      t: String(100 + seqNo),
      e: "500",
      signedMeterData: `data-${seqNo}`,
      publicKey: "key",
      receivedAt: 2,
    });
    await store.addReading(reading(0, "point"));
    let duplicate: Error | undefined;
    await store.addReading(reading(0, "point")).catch((e: Error) => (duplicate = e));
    expect(duplicate?.message).to.match(/UNIQUE|PRIMARY KEY/);
    await store.addRefusal({ chargerId: "CS001", transactionId: "tx-1", seqNo: 1, reason: "time goes back", at: 3 });
    await store.close();
    store = new SqliteStationStore(file); // a restart
    expect((await store.openSessions()).map((s) => [s.sessionId, s.state, s.transactionId])).to.deep.equal([
      ["42", "open", "tx-1"],
    ]);
    await store.addReading(reading(2, "end"));
    expect((await store.readings("tx-1")).map((r) => r.seqNo)).to.deep.equal([0, 2]);
    expect(await store.lastSeqNo("tx-1")).to.equal(2);
    expect(await store.lastSeqNo("tx-other")).to.equal(undefined);
    expect((await store.session("42"))!.state).to.equal("ended");
    expect(await store.openSessions()).to.deep.equal([]);
    expect((await store.refusals()).map((r) => r.reason)).to.deep.equal(["time goes back"]);
    await store.close();
  });

  it("station: migrates a version-1 database to version 2, keeping its sessions; a nonce starts one session", async function () {
    const file = join(dir, "v1.db");
    // A database as the version-1 station left it (its first migration, verbatim, and one session).
    const v1 = new DatabaseSync(file);
    v1.exec(`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);
      CREATE TABLE sessions (session_id TEXT PRIMARY KEY, charger_id TEXT NOT NULL, remote_start_id INTEGER NOT NULL,
        tariff TEXT NOT NULL, transaction_id TEXT UNIQUE,
        state TEXT NOT NULL CHECK (state IN ('requested', 'open', 'ended', 'rejected')), requested_at INTEGER NOT NULL);
      CREATE TABLE readings (transaction_id TEXT NOT NULL, seq_no INTEGER NOT NULL, event_type TEXT NOT NULL,
        kind TEXT NOT NULL, k INTEGER NOT NULL, t TEXT NOT NULL, e TEXT NOT NULL, signed_meter_data TEXT NOT NULL,
        public_key TEXT NOT NULL, received_at INTEGER NOT NULL, PRIMARY KEY (transaction_id, seq_no));
      CREATE TABLE refusals (id INTEGER PRIMARY KEY AUTOINCREMENT, charger_id TEXT NOT NULL, transaction_id TEXT,
        seq_no INTEGER, reason TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE TABLE charger_status (charger_id TEXT PRIMARY KEY, status TEXT NOT NULL, at INTEGER NOT NULL);
      INSERT INTO sessions VALUES ('41', 'CS001', 8, '{}', 'tx-0', 'open', 1);`);
    v1.close();
    let store = new SqliteStationStore(file);
    expect(store.schemaVersion).to.equal(2);
    expect(await store.session("41")).to.deep.equal({
      sessionId: "41",
      chargerId: "CS001",
      remoteStartId: 8,
      tariff: {},
      transactionId: "tx-0",
      state: "open",
      requestedAt: 1,
    });
    expect(await store.unsettledSessions()).to.deep.equal([]); // no escrow: nothing to settle
    await store.addOffer({ stationNonce: "77", chargerId: "CS001", expiresAt: 10 }, 0);
    const escrow = {
      escrowId: "5",
      cap: "1000",
      settleDeadline: "900",
      claimDeadline: "90000",
      refundPrecommitment: "3",
      stationNonce: "77",
      driverNonce: "78",
      tokenHash: "ab".repeat(32),
    };
    const started = { sessionId: "42", chargerId: "CS001", remoteStartId: 9, tariff: {}, requestedAt: 2, escrow };
    expect(await store.startWithOffer(started)).to.equal(true);
    expect(await store.startWithOffer({ ...started, sessionId: "43" })).to.equal(false); // the nonce is spent
    expect(await store.session("43")).to.equal(undefined);
    await store.setStoppedBy("42", "cap");
    await store.putClose({ sessionId: "42", escrowId: "5", by: "station", mode: 0, state: "submitting", at: 3 });
    await store.close();
    store = new SqliteStationStore(file); // a restart: the pending close is resumed
    expect(store.schemaVersion).to.equal(2);
    expect(await store.offer("77")).to.deep.equal({
      stationNonce: "77",
      chargerId: "CS001",
      expiresAt: 10,
      usedBy: "42",
    });
    const [unsettled, ...none] = await store.unsettledSessions();
    expect(none).to.deep.equal([]);
    expect(unsettled).to.deep.include({ sessionId: "42", state: "requested", stoppedBy: "cap", escrow });
    expect(await store.closeOf("42")).to.deep.include({ state: "submitting", by: "station" });
    await store.putClose({
      sessionId: "42",
      escrowId: "5",
      by: "station",
      mode: 0,
      state: "confirmed",
      txHash: "0x01",
      amount: "600",
      refund: "400",
      at: 4,
    });
    expect(await store.unsettledSessions()).to.deep.equal([]);
    // An expired, unused offer is forgotten when the next one is stored; a used one is kept.
    await store.addOffer({ stationNonce: "80", chargerId: "CS001", expiresAt: 5 }, 0);
    await store.addOffer({ stationNonce: "81", chargerId: "CS001", expiresAt: 50 }, 20);
    expect(await store.offer("80")).to.equal(undefined);
    expect(await store.offer("77")).to.not.equal(undefined);
    await store.close();
  });

  it("refuses a database from a newer version, naming both versions", function () {
    for (const [name, open] of [
      ["station", (f: string) => new SqliteStationStore(f)],
      ["charger", (f: string) => new ChargerStore(f)],
    ] as const) {
      const file = join(dir, `${name}.db`);
      const db = new DatabaseSync(file);
      db.exec("CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (99);");
      db.close();
      expect(() => open(file)).to.throw(new RegExp(`${name} database has schema version 99, newer`));
    }
  });
});
