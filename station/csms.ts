/**
 * The station service's OCPP 2.0.1 side (docs/ocpp.md): a CSMS on ocpp-rpc's RPCServer with strict schema
 * validation. Only chargers in its registry get past the WebSocket handshake. Every signedMeterValue is decoded
 * and checked (meter signature against the charger's registered key, on a worker thread, chain continuity, time
 * and energy non-decreasing, power within the rating, no tariff boundary skipped) and stored before the
 * TransactionEvent is acknowledged; a reading that breaks a rule is refused with a CALLERROR naming the rule and logged in the store.
 */
import { EventEmitter } from "node:events";
import ocpp, { type IHandlersOption } from "ocpp-rpc";
import {
  InvalidInputError,
  InvalidReadingsError,
  LiveSessionVerifier,
  decodeSignedMeterValue,
  prepareSignatureWorkers,
  randomFieldElement,
  tariffFromJson,
  tariffToJson,
  type SignedMeterValue,
  type Tariff,
} from "../sdk/index.ts";
import type { SessionEscrow, StationStore, StoredReading, StoredSession } from "./store.ts";

const { RPCServer, createRPCError } = ocpp;
type ServerClient = InstanceType<typeof ocpp.RPCClient> & { identity: string };

/** A charger the CPO registered: its meter key (as in its meter leaf) and rating. */
export interface ChargerEntry {
  meterPublicKey: [bigint, bigint];
  ratedPowerW: bigint;
}

/** Options of {@link startCsms}. */
export interface CsmsOptions {
  store: StationStore;
  /** Allowed charger identities and their meters. */
  chargers: ReadonlyMap<string, ChargerEntry>;
  /** The tariff offered for new sessions (its cpoId is the CPO's). */
  tariff: Tariff;
  host: string;
  port: number;
  /** Heartbeat interval given to chargers, seconds. */
  heartbeatSeconds?: number;
  /** Largest WebSocket message accepted, bytes (larger: the connection is closed with 1009). */
  maxMessageBytes?: number;
  log?: (message: string) => void;
}

/** What a CSMS tells its listeners ({@link Csms.events}), after it is stored. */
export interface CsmsEvents {
  /** A checked reading was stored (the verifier holds it as its last). */
  reading: [session: StoredSession, reading: StoredReading, verifier: LiveSessionVerifier];
  /** A session changed state (`open`: its start point arrived; `ended`; `rejected`: the charger refused). */
  state: [sessionId: string, state: StoredSession["state"]];
}

/** What {@link Csms.requestStart} starts: a session id (random if omitted) and, from the driver API, its escrow. */
export interface StartTerms {
  sessionId?: string;
  /** The escrow checked on-chain: stored with the session, and its station nonce marked used, in one transaction. */
  escrow?: SessionEscrow;
}

/** A running CSMS. */
export interface Csms {
  /** `ws://host:port/ocpp` (chargers connect to `<url>/<identity>`). */
  url: string;
  port: number;
  /** Identities connected now. */
  connected(): string[];
  /**
   * Stores a new session and asks `chargerId` to start it with the CSMS's tariff; returns its id.
   * @throws CsmsRequestError (404 unknown charger, 409 not connected or the station nonce already used)
   */
  requestStart(chargerId: string, terms?: StartTerms): Promise<{ sessionId: string; status: string }>;
  /** The verifier of a session's stored readings (as {@link startCsms} rebuilds one), or undefined before its start. */
  verifier(sessionId: string): Promise<LiveSessionVerifier | undefined>;
  /** Stored readings and state changes, as they happen. */
  events: EventEmitter<CsmsEvents>;
  /** Asks the charger of `sessionId` to stop its transaction. */
  requestStop(sessionId: string): Promise<{ status: string }>;
  close(): Promise<void>;
}

/** Thrown for a request the CSMS cannot serve (unknown charger, not connected, no such session). */
export class CsmsRequestError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly code = statusCode === 404 ? "NOT_FOUND" : "CONFLICT",
  ) {
    super(message);
    this.name = "CsmsRequestError";
  }
}

interface TransactionEventParams {
  eventType: "Started" | "Updated" | "Ended";
  seqNo: number;
  offline?: boolean;
  transactionInfo: { transactionId: string };
  meterValue?: { sampledValue: { value: number; signedMeterValue?: SignedMeterValue }[] }[];
}

/** Starts the CSMS on `host:port` (0: any free port). */
export async function startCsms(options: CsmsOptions): Promise<Csms> {
  const { store, chargers } = options;
  const log = options.log ?? (() => {});
  prepareSignatureWorkers(); // loading their modules takes seconds: before the first reading, not on it
  const clients = new Map<string, ServerClient>();
  const verifiers = new Map<string, LiveSessionVerifier>();
  const events = new EventEmitter<CsmsEvents>();
  const emit = <K extends keyof CsmsEvents>(name: K, ...args: CsmsEvents[K]) => {
    try {
      (events.emit as (n: K, ...a: CsmsEvents[K]) => boolean)(name, ...args);
    } catch (error) {
      log(`a ${name} listener failed: ${(error as Error).message}`);
    }
  };
  // One TransactionEvent at a time per charger: a reconnect must not interleave with a handler still running.
  const queues = new Map<string, Promise<unknown>>();
  const serialised = <T>(id: string, run: () => Promise<T>): Promise<T> => {
    const result = (queues.get(id) ?? Promise.resolve()).then(run, run);
    queues.set(
      id,
      result.catch(() => {}),
    );
    return result;
  };
  const server = new RPCServer({
    protocols: ["ocpp2.0.1"],
    strictMode: true,
    maxBadMessages: 5,
    wssOptions: { maxPayload: options.maxMessageBytes ?? 64 * 1024 },
  });

  server.auth((accept, reject, handshake) => {
    if (!chargers.has(handshake.identity)) {
      log(`refused connection from unknown charger ${JSON.stringify(handshake.identity)}`);
      reject(401, "unknown charging station identity");
      return;
    }
    accept({ identity: handshake.identity });
  });

  /**
   * The verifier of an open session: built from its stored readings after a restart (every rule checked again but
   * the signatures, which were checked before the readings were stored).
   */
  async function verifierOf(s: StoredSession, transactionId: string): Promise<LiveSessionVerifier> {
    const known = verifiers.get(transactionId);
    if (known) return known;
    const verifier = await rebuild(s, transactionId);
    verifiers.set(transactionId, verifier);
    return verifier;
  }

  async function rebuild(s: StoredSession, transactionId: string): Promise<LiveSessionVerifier> {
    const entry = chargers.get(s.chargerId)!;
    const tariff = tariffFromJson(s.tariff);
    const verifier = new LiveSessionVerifier({
      sessionId: BigInt(s.sessionId),
      cpoId: tariff.cpoId,
      ratedPowerW: entry.ratedPowerW,
      meterPublicKey: entry.meterPublicKey,
      tariff,
    });
    for (const r of await store.readings(transactionId)) {
      const { record, publicKey } = decodeSignedMeterValue({
        signedMeterData: r.signedMeterData,
        publicKey: r.publicKey,
        signingMethod: "ZKCHARGE-EDDSA-POSEIDON",
        encodingMethod: "ZKCHARGE-JSON-1",
      });
      verifier.acceptChecked(record, publicKey);
    }
    return verifier;
  }

  async function onTransactionEvent(chargerId: string, p: TransactionEventParams): Promise<Record<string, never>> {
    const transactionId = p.transactionInfo.transactionId;
    const refuse = async (code: string, reason: string): Promise<never> => {
      log(`${chargerId}: refused TransactionEvent ${transactionId} seqNo ${p.seqNo}: ${reason}`);
      await store.addRefusal({ chargerId, transactionId, seqNo: p.seqNo, reason, at: Date.now() });
      throw createRPCError(code, reason);
    };
    const sampled = (p.meterValue ?? []).flatMap((m) => m.sampledValue);
    const signed = sampled.filter((s) => s.signedMeterValue !== undefined);
    if (sampled.length !== 1 || signed.length !== 1)
      return refuse(
        "OccurrenceConstraintViolation",
        "a zkcharge TransactionEvent carries exactly one signedMeterValue",
      );
    const value = signed[0]!.signedMeterValue!;
    let decoded: ReturnType<typeof decodeSignedMeterValue>;
    try {
      decoded = decodeSignedMeterValue(value);
    } catch (error) {
      return refuse("FormatViolation", `signedMeterValue: ${(error as Error).message}`);
    }
    const { record, publicKey } = decoded;
    if (BigInt(Math.round(signed[0]!.value)) !== record.e)
      return refuse(
        "PropertyConstraintViolation",
        `sampled value ${signed[0]!.value} Wh is not the signed ${record.e} Wh`,
      );
    const duplicate = await store.reading(transactionId, p.seqNo);
    if (duplicate) {
      // The charger did not see our acknowledgement (a restart, a lost connection): the same event again is acked.
      if (duplicate.signedMeterData === value.signedMeterData) return {};
      return refuse("PropertyConstraintViolation", `seqNo ${p.seqNo} was already stored with another reading`);
    }
    let s = await store.sessionOfTransaction(transactionId);
    if (!s) {
      if (p.eventType !== "Started") return refuse("PropertyConstraintViolation", "unknown transaction");
      const requested = await store.session(record.sessionId.toString());
      if (!requested || requested.chargerId !== chargerId || requested.state !== "requested")
        return refuse("SecurityError", `session ${record.sessionId} was not requested from this charger`);
      s = requested;
    } else if (s.chargerId !== chargerId) {
      return refuse("SecurityError", "the transaction belongs to another charger");
    }
    const lastSeqNo = await store.lastSeqNo(transactionId);
    if (lastSeqNo !== undefined && p.seqNo <= lastSeqNo)
      return refuse("PropertyConstraintViolation", `seqNo ${p.seqNo} is not after the last stored ${lastSeqNo}`);
    const verifier = await verifierOf(s, transactionId);
    try {
      // The signature is checked on a worker thread while other chargers' events are served (this charger's wait:
      // one event at a time each, so its readings keep their order). acceptOffThread() changes nothing when it
      // throws; on success the reading is stored before we answer.
      await verifier.acceptOffThread(record, publicKey);
    } catch (error) {
      if (error instanceof InvalidReadingsError || error instanceof InvalidInputError)
        return refuse("SecurityError", error.message);
      throw error;
    }
    const started = s.state === "requested";
    if (started) await store.bindTransaction(s.sessionId, transactionId);
    const reading: StoredReading = {
      transactionId,
      seqNo: p.seqNo,
      eventType: p.eventType,
      kind: record.kind,
      k: record.k,
      t: record.t.toString(),
      e: record.e.toString(),
      signedMeterData: value.signedMeterData,
      publicKey: value.publicKey,
      receivedAt: Date.now(),
    };
    await store.addReading(reading);
    if (record.kind === "end") verifiers.delete(transactionId);
    if (started) emit("state", s.sessionId, "open");
    emit("reading", { ...s, transactionId, state: record.kind === "end" ? "ended" : "open" }, reading, verifier);
    if (record.kind === "end") emit("state", s.sessionId, "ended");
    const offline = p.offline ? " (taken offline)" : "";
    log(
      `${chargerId}: stored ${record.kind} seqNo ${p.seqNo} of ${transactionId}: ${record.e} Wh at ${record.t}${offline}`,
    );
    return {};
  }

  server.on("client", (client: ServerClient) => {
    const id = client.identity;
    clients
      .get(id)
      ?.close({ code: 1000, reason: "replaced by a new connection" })
      .catch(() => {});
    clients.set(id, client);
    log(`charger ${id} connected`);
    client.on("close", () => {
      if (clients.get(id) === client) clients.delete(id);
      log(`charger ${id} disconnected`);
    });
    client.on("badMessage", ({ error }: { error: Error }) => log(`${id}: bad message: ${error.message}`));
    client.handle("BootNotification", async () => ({
      status: "Accepted",
      interval: options.heartbeatSeconds ?? 60,
      currentTime: new Date().toISOString(),
    }));
    client.handle("Heartbeat", async () => ({ currentTime: new Date().toISOString() }));
    client.handle("StatusNotification", async ({ params }: IHandlersOption) => {
      const status = (params as { connectorStatus: string }).connectorStatus;
      await store.setStatus(id, status, Date.now());
      log(`${id}: connector ${status}`);
      return {};
    });
    client.handle("TransactionEvent", ({ params }: IHandlersOption) =>
      serialised(id, () => onTransactionEvent(id, params as TransactionEventParams)),
    );
    client.handle(async ({ method }: IHandlersOption) => {
      throw createRPCError("NotImplemented", `${method} is not implemented by this CSMS`);
    });
  });

  const http = await server.listen(options.port, options.host);
  const port = (http.address() as { port: number }).port;
  const open = await store.openSessions();
  if (open.length > 0) log(`resuming ${open.length} open session(s) from the database`);

  return {
    url: `ws://${options.host}:${port}/ocpp`,
    port,
    connected: () => [...clients.keys()],
    events,
    async verifier(sessionId) {
      const s = await store.session(sessionId);
      if (!s?.transactionId) return undefined;
      return verifiers.get(s.transactionId) ?? (await rebuild(s, s.transactionId));
    },
    async requestStart(chargerId, terms = {}) {
      if (!chargers.has(chargerId)) throw new CsmsRequestError(`unknown charger ${chargerId}`, 404, "UNKNOWN_CHARGER");
      const client = clients.get(chargerId);
      if (!client) throw new CsmsRequestError(`charger ${chargerId} is not connected`, 409, "CHARGER_OFFLINE");
      const sessionId = terms.sessionId ?? randomFieldElement().toString();
      const remoteStartId = 1 + Math.floor(Math.random() * 2 ** 30);
      const tariff = tariffToJson(options.tariff);
      const session = { sessionId, chargerId, remoteStartId, tariff, requestedAt: Date.now() };
      if (!terms.escrow) await store.addSession(session);
      else if (!(await store.startWithOffer({ ...session, escrow: terms.escrow })))
        throw new CsmsRequestError(`station nonce ${terms.escrow.stationNonce} was already used`, 409, "NONCE_USED");
      let answer: { status: string };
      try {
        answer = (await client.call("RequestStartTransaction", {
          idToken: { idToken: `zk-${remoteStartId}`, type: "Central" },
          remoteStartId,
          evseId: 1,
          customData: { vendorId: "org.zkcharge", sessionId, tariff },
        })) as { status: string };
      } catch (error) {
        // No answer: the session is given up (a Started event for it would be refused as not requested).
        answer = { status: `no answer (${(error as Error).message})` };
      }
      if (answer.status !== "Accepted") {
        await store.markRejected(sessionId);
        emit("state", sessionId, "rejected");
      }
      log(`${chargerId}: RequestStartTransaction for session ${sessionId}: ${answer.status}`);
      return { sessionId, status: answer.status };
    },
    async requestStop(sessionId) {
      const s = await store.session(sessionId);
      if (!s) throw new CsmsRequestError(`no session ${sessionId}`, 404);
      if (s.state !== "open" || s.transactionId === undefined)
        throw new CsmsRequestError(`session ${sessionId} is ${s.state}, not open`, 409);
      const client = clients.get(s.chargerId);
      if (!client) throw new CsmsRequestError(`charger ${s.chargerId} is not connected`, 409);
      const answer = (await client.call("RequestStopTransaction", { transactionId: s.transactionId })) as {
        status: string;
      };
      log(`${s.chargerId}: RequestStopTransaction for session ${sessionId}: ${answer.status}`);
      return { status: answer.status };
    },
    async close() {
      await server.close({ force: true });
    },
  };
}
