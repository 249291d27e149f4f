/**
 * The charger and the station service over real sockets on 127.0.0.1 (docs/ocpp.md): a charger boots, is started
 * by the station and sends signed readings the station checks and stores; `kill -9` of the station and of the
 * charger mid-session lose and duplicate nothing; an unknown identity is refused at the handshake; malformed,
 * unknown and oversized frames are refused while the other charger keeps being served; a reading with a bad
 * signature or a timestamp going back is refused and not stored.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import ocpp from "ocpp-rpc";
import WebSocket from "ws";
import { Meter, pointRecord, tailRecord, tariffFromJson, type MeterSession } from "../../sdk/index.ts";
import { transactionEvent } from "../../charger/events.ts";
import { ROOT, freePort } from "../cli/harness.ts";
import {
  Child,
  TSX,
  admin,
  meterKey,
  nearBoundaryTariff,
  startCharger,
  startStation,
  stationArgs as stationCommandLine,
  stationFiles,
  until,
} from "./harness.ts";

interface SessionView {
  state: string;
  transactionId?: string;
  readings: { seqNo: number; eventType: string; kind: string; k: number; t: string; e: string }[];
}

describe("live: charger and station over OCPP 2.0.1", function () {
  this.timeout(240_000);
  let dir: string;
  let port: number;
  let stationArgs: string[];
  let station: { child: Child; ocpp: string; admin: string } | undefined;
  let charger: Child | undefined;
  let chargerArgs: string[];
  let cheater: Meter;
  let sessionId: string;
  let boundaries: bigint[];
  const extra: { close(): unknown }[] = [];

  const session = async () => (await admin<SessionView>(station!.admin, "GET", `/admin/sessions/${sessionId}`)).body;
  const readingsAtLeast = (n: number) =>
    until(`${n} stored readings`, async () => {
      const s = await session();
      return s.readings.length >= n ? s : undefined;
    });
  /** Every seqNo from 0 stored exactly once, in order: nothing lost, nothing duplicated. */
  const expectContiguous = (s: SessionView) =>
    expect(s.readings.map((r) => r.seqNo)).to.deep.equal(s.readings.map((_r, i) => i));

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "zkcharge-live-"));
    const meter = meterKey(join(dir, "cs001.key.json"));
    cheater = meterKey(join(dir, "cs002.key.json"));
    // Two tariff boundaries during the session: chain points the charger must sign and the station must see.
    const near = nearBoundaryTariff(30, 55);
    boundaries = near.boundaries;
    const files = stationFiles(dir, { CS001: meter, CS002: cheater }, near.tariff);
    port = await freePort();
    stationArgs = stationCommandLine({ files, db: join(dir, "station.db"), heartbeat: 2 });
    station = await startStation(stationArgs, port);
    chargerArgs = [
      "--station",
      station.ocpp,
      "--id",
      "CS001",
      "--meter-key",
      join(dir, "cs001.key.json"),
      "--db",
      join(dir, "cs001.db"),
    ];
    charger = startCharger(chargerArgs);
  });

  after(async function () {
    for (const c of extra) await Promise.resolve(c.close()).catch(() => {});
    await charger?.kill("SIGKILL");
    await station?.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a charger with an unknown identity at the WebSocket handshake", async function () {
    const client = new ocpp.RPCClient({
      endpoint: station!.ocpp,
      identity: "INTRUDER",
      protocols: ["ocpp2.0.1"],
      strictMode: true,
      reconnect: false,
    } as unknown as ConstructorParameters<typeof ocpp.RPCClient>[0]);
    let refused: Error | undefined;
    await client.connect().catch((e: Error) => (refused = e));
    expect(refused?.message).to.match(/401|Unauthorized/i);
    await station!.child.waitFor(/refused connection from unknown charger "INTRUDER"/, 10_000);
  });

  it("boots a charger, starts it and stores every signed reading after checking it", async function () {
    await charger!.waitFor(/BootNotification: Accepted/);
    await until("CS001 connected", async () => {
      const r = await admin<{ connected: string[] }>(station!.admin, "GET", "/admin/chargers");
      return r.body.connected.includes("CS001") ? true : undefined;
    });
    const start = await admin<{ sessionId: string; status: string }>(
      station!.admin,
      "POST",
      "/admin/chargers/CS001/start",
    );
    expect(start.status).to.equal(200);
    expect(start.body.status).to.equal("Accepted");
    sessionId = start.body.sessionId;
    const s = await readingsAtLeast(4);
    expect(s.state).to.equal("open");
    expect(s.readings[0]).to.include({ seqNo: 0, eventType: "Started", kind: "point", k: 1 });
    expect(s.readings.slice(1).every((r) => r.eventType === "Updated")).to.equal(true);
    expectContiguous(s);
    await station!.child.waitFor(/CS001: connector Occupied/);
  });

  it("refuses malformed, unknown and oversized frames and keeps serving the other charger", async function () {
    const before = (await session()).readings.length;
    const ws = new WebSocket(`${station!.ocpp}/CS002`, ["ocpp2.0.1"]);
    extra.push({ close: () => ws.terminate() });
    const messages: unknown[] = [];
    ws.on("message", (m) => messages.push(JSON.parse(m.toString())));
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.send("this is not an OCPP frame");
    ws.send(JSON.stringify([2, "m-unknown", "FlyToTheMoon", {}]));
    ws.send(JSON.stringify([2, "m-bad", "Heartbeat", { unexpected: true }]));
    await until("three CALLERRORs", async () => (messages.length >= 3 ? true : undefined), 10_000);
    const errors = messages as unknown[][];
    expect(errors.every((m) => m[0] === 4)).to.equal(true);
    const byId = new Map(errors.map((m) => [m[1], m[2]]));
    expect(byId.get("-1")).to.equal("RpcFrameworkError"); // not JSON: no message id to answer
    // Strict mode: an action outside the OCPP 2.0.1 schemas is a ProtocolError (NotImplemented for a known one).
    expect(byId.get("m-unknown")).to.match(/ProtocolError|NotImplemented/);
    expect(byId.get("m-bad")).to.match(
      /FormatViolation|PropertyConstraintViolation|OccurrenceConstraintViolation|FormationViolation/,
    );
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.send("x".repeat(200 * 1024));
    expect(await closed).to.equal(1009);
    // CS001 is still served: its readings keep arriving.
    await readingsAtLeast(before + 2);
  });

  it("survives kill -9 of the station mid-session: the charger reconnects and delivers its queue", async function () {
    const before = (await session()).readings.length;
    await station!.child.kill("SIGKILL");
    await charger!.waitFor(/disconnected from the CSMS/);
    await new Promise((r) => setTimeout(r, 4000)); // readings queue up offline meanwhile
    station = await startStation(stationArgs, port);
    await charger!.waitFor(/connected to .* as CS001[\s\S]*connected to .* as CS001/, 30_000);
    const s = await readingsAtLeast(before + 5);
    expect(s.state).to.equal("open");
    expectContiguous(s);
    // The readings taken while the station was down arrived from the queue, flagged as such.
    await station!.child.waitFor(/CS001: stored live seqNo \d+ .* \(taken offline\)/, 10_000);
  });

  it("survives kill -9 of the charger mid-session: it resumes from its database and delivers", async function () {
    const before = (await session()).readings.length;
    await charger!.kill("SIGKILL");
    charger = startCharger(chargerArgs);
    await charger.waitFor(/resumed transaction/);
    const s = await readingsAtLeast(before + 3);
    expectContiguous(s);
  });

  it("ends the session on request: the end record is stored, with a chain point at each tariff boundary", async function () {
    // The boundaries are 30 s and 55 s after the tariff was written; the session starts a few seconds in.
    const start = BigInt((await session()).readings[0]!.t);
    const crossed = boundaries.filter((b) => b > start);
    expect(crossed.length, "the session started after both boundaries: a very slow start").to.be.above(0);
    await until(
      "the readings past the last boundary",
      async () => {
        const s = await session();
        return s.readings.some((r) => BigInt(r.t) > boundaries[1]!) ? true : undefined;
      },
      90_000,
    );
    const stop = await admin<{ status: string }>(station!.admin, "POST", `/admin/sessions/${sessionId}/stop`);
    expect(stop.body.status).to.equal("Accepted");
    const s = await until("the session end", async () => {
      const v = await session();
      return v.state === "ended" ? v : undefined;
    });
    expectContiguous(s);
    const last = s.readings[s.readings.length - 1]!;
    expect(last).to.include({ eventType: "Ended", kind: "end" });
    const points = s.readings.filter((r) => r.kind === "point");
    expect(points.map((p) => p.k)).to.deep.equal([1, ...crossed.map((_b, i) => i + 2)]);
    expect(points.slice(1).map((p) => BigInt(p.t))).to.deep.equal(crossed);
    for (let i = 1; i < s.readings.length; i++) {
      expect(BigInt(s.readings[i]!.t) >= BigInt(s.readings[i - 1]!.t)).to.equal(true);
      expect(BigInt(s.readings[i]!.e) >= BigInt(s.readings[i - 1]!.e)).to.equal(true);
    }
    await station!.child.waitFor(/CS001: connector Available/);
  });

  it("refuses a reading with a bad signature or a timestamp going back, and stores neither", async function () {
    let meterSession: MeterSession | undefined;
    let transactionId = "";
    const client = new ocpp.RPCClient({
      endpoint: station!.ocpp,
      identity: "CS002",
      protocols: ["ocpp2.0.1"],
      strictMode: true,
      reconnect: false,
    } as unknown as ConstructorParameters<typeof ocpp.RPCClient>[0]);
    extra.push({ close: () => client.close({ force: true }) });
    let remoteStartId = 0;
    client.handle("RequestStartTransaction", async ({ params }) => {
      const data = params!.customData as { sessionId: string; tariff: unknown };
      remoteStartId = params!.remoteStartId as number;
      meterSession = cheater.startSession({
        sessionId: BigInt(data.sessionId),
        tariff: tariffFromJson(data.tariff),
        t: BigInt(Math.floor(Date.now() / 1000)) - 10n,
        e: 1000n,
      });
      transactionId = "cheat-1";
      return { status: "Accepted", transactionId };
    });
    await client.connect();
    const start = await admin<{ sessionId: string; status: string }>(
      station!.admin,
      "POST",
      "/admin/chargers/CS002/start",
    );
    expect(start.body.status).to.equal("Accepted");
    const send = (
      seqNo: number,
      eventType: "Started" | "Updated",
      record: Parameters<typeof transactionEvent>[0]["record"],
    ) =>
      client.call(
        "TransactionEvent",
        transactionEvent({
          eventType,
          seqNo,
          transactionId,
          remoteStartId,
          offline: false,
          record,
          publicKey: cheater.publicKey,
        }),
      );
    const ms = meterSession!;
    await send(0, "Started", pointRecord(ms));
    // A tail with a tampered signature.
    const t0 = ms.lastReading.t;
    const good = ms.addReading(t0 + 2n, 1005n);
    if (good.kind !== "live") throw new Error("expected a tail");
    const forged = { ...tailRecord(ms.sessionId, good), signature: { ...good.signature, S: good.signature.S ^ 1n } };
    const bad = await send(1, "Updated", forged).catch((e: Error & { rpcErrorCode?: string }) => e);
    expect((bad as { rpcErrorCode?: string }).rpcErrorCode).to.equal("SecurityError");
    expect((bad as Error).message).to.match(/bad meter signature/);
    // A properly signed tail, then one whose timestamp goes back (signed by the right key, by a forked session).
    await send(2, "Updated", tailRecord(ms.sessionId, good));
    const fork = cheater.restoreSession({ sessionId: ms.sessionId, tariff: ms.tariff, points: ms.points });
    const back = fork.addReading(t0 + 1n, 1004n);
    if (back.kind !== "live") throw new Error("expected a tail");
    const refused = await send(3, "Updated", tailRecord(ms.sessionId, back)).catch((e: Error) => e);
    expect((refused as Error).message).to.match(/time goes back/);
    // A tail signed by another meter than the one registered for CS002.
    const stranger = new Meter({ cpoId: cheater.cpoId, ratedPowerW: cheater.ratedPowerW });
    const alien = stranger.restoreSession({ sessionId: ms.sessionId, tariff: ms.tariff, points: ms.points });
    const alienTail = alien.addReading(t0 + 3n, 1006n);
    if (alienTail.kind !== "live") throw new Error("expected a tail");
    const foreign = await client
      .call(
        "TransactionEvent",
        transactionEvent({
          eventType: "Updated",
          seqNo: 4,
          transactionId,
          remoteStartId,
          offline: false,
          record: tailRecord(ms.sessionId, alienTail),
          publicKey: stranger.publicKey,
        }),
      )
      .catch((e: Error) => e);
    expect((foreign as Error).message).to.match(/another key than this charger's registered meter/);
    const view = (await admin<SessionView>(station!.admin, "GET", `/admin/sessions/${start.body.sessionId}`)).body;
    expect(view.readings.map((r) => r.seqNo)).to.deep.equal([0, 2]);
    const { refusals } = (
      await admin<{ refusals: { chargerId: string; reason: string; seqNo?: number }[] }>(
        station!.admin,
        "GET",
        "/admin/refusals",
      )
    ).body;
    const mine = refusals.filter((r) => r.chargerId === "CS002");
    expect(mine.map((r) => r.seqNo)).to.deep.equal([1, 3, 4]);
    await station!.child.waitFor(/CS002: refused TransactionEvent cheat-1 seqNo 1: .*bad meter signature/, 10_000);
  });

  it("prints --help, and exits 1 naming the cause on a wrong passphrase or a bad chargers file", async function () {
    const run = async (child: Child) => ({ code: await child.exited, out: child.stdout, err: child.stderr });
    const help = await run(startCharger(["--help"]));
    expect(help.code).to.equal(0);
    expect(help.out).to.include("--meter-key <file>");
    const bad = await run(
      new Child(TSX, [join(ROOT, "charger", "main.ts"), ...chargerArgs, "--rated-power-w", "22000", "--cpo-id", "7"], {
        ...process.env,
        ZKCHARGE_PASSPHRASE_METER: "not the passphrase",
      }),
    );
    expect(bad.code).to.equal(1);
    expect(bad.err).to.match(/zkcharge-charger: error: .*passphrase/i);
    const station = await run(
      new Child(
        TSX,
        [
          join(ROOT, "station", "main.ts"),
          "--chargers",
          join(dir, "tariff.json"),
          "--tariff",
          join(dir, "tariff.json"),
          "--db",
          join(dir, "x.db"),
        ],
        process.env,
      ),
    );
    expect(station.code).to.equal(1);
    expect(station.err).to.match(/zkcharge-station: error: .*needs meterPublicKey/);
  });
});
