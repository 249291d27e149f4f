/**
 * A charging station (docs/ocpp.md): an OCPP 2.0.1 client over ocpp-rpc (strict schema validation) with one EVSE.
 * It boots, sends heartbeats at the interval the CSMS gives and its connector status, obeys RequestStart /
 * RequestStopTransaction, simulates charging below its rating and signs every reading with its meter key (start
 * point, every tariff boundary point, live tails, the end), sent in TransactionEvents through the offline queue of
 * {@link ChargerStore}: stored first, removed when acknowledged, delivered in order after a reconnect.
 */
import { randomUUID } from "node:crypto";
import ocpp from "ocpp-rpc";
import {
  InvalidInputError,
  Meter,
  MeterError,
  endRecord,
  pointRecord,
  simulateCharging,
  tailRecord,
  tariffFromJson,
  type LiveRecord,
  type MeterSession,
} from "../sdk/index.ts";
import { transactionEvent } from "./events.ts";
import { FAULT_SEQ_NO, faultyRecord, faultyTariff, type ChargerFault } from "./faults.ts";
import type { ChargerSession, ChargerStore } from "./store.ts";

const { RPCClient, RPCError, createRPCError } = ocpp;
type Client = InstanceType<typeof RPCClient>;
type ClientOptions = ConstructorParameters<typeof RPCClient>[0];

/** CALLERROR codes by which a CSMS refuses an event for good (anything else is retried). */
const REFUSALS = new Set([
  "SecurityError",
  "PropertyConstraintViolation",
  "FormatViolation",
  "FormationViolation",
  "OccurrenceConstraintViolation",
  "OccurenceConstraintViolation",
  "TypeConstraintViolation",
  "ProtocolError",
]);

/** Options of {@link ChargingStation}. */
export interface ChargerOptions {
  /** The CSMS endpoint, e.g. `ws://127.0.0.1:9000/ocpp` (the identity is appended). */
  endpoint: string;
  identity: string;
  meter: Meter;
  store: ChargerStore;
  /** Milliseconds between readings (live tails). */
  readingIntervalMs: number;
  /** Reconnect backoff bounds in ms. */
  backoff?: { initialDelay: number; maxDelay: number };
  log?: (message: string) => void;
  /** Tests only: cheat this way (charger/faults.ts). */
  fault?: ChargerFault;
}

/** What the CSMS sends in RequestStartTransaction's customData (vendorId `org.zkcharge`). */
interface StartData {
  sessionId: string;
  tariff: unknown;
}

const now = () => BigInt(Math.floor(Date.now() / 1000));

/** One charging station with one EVSE (id 1, connector 1). */
export class ChargingStation {
  readonly #o: ChargerOptions;
  readonly #client: Client;
  readonly #log: (message: string) => void;
  #session: MeterSession | undefined;
  #state: ChargerSession | undefined;
  #connected = false;
  #pumping = false;
  #closed = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopRequested = false;
  /** A record-level fault was injected in this run. */
  #faulted = false;
  /** The heartbeat interval of the accepted BootNotification; undefined until then. */
  #heartbeatSeconds: number | undefined;

  constructor(options: ChargerOptions) {
    this.#o = options;
    this.#log = options.log ?? (() => {});
    this.#client = new RPCClient({
      endpoint: options.endpoint,
      identity: options.identity,
      protocols: ["ocpp2.0.1"],
      strictMode: true,
      reconnect: true,
      backoff: { initialDelay: 200, maxDelay: 3000, factor: 2, randomisationFactor: 0.2, ...options.backoff },
      callTimeoutMs: 10_000,
      // ocpp-rpc's typings mark every option required; the library defaults the others.
    } as Partial<ClientOptions> as ClientOptions);
    this.#client.handle("RequestStartTransaction", async ({ params }) =>
      this.#onStart(params as Record<string, unknown>),
    );
    this.#client.handle("RequestStopTransaction", async ({ params }) =>
      this.#onStop(params as { transactionId: string }),
    );
    this.#client.handle(async ({ method }) => {
      throw createRPCError("NotImplemented", `${method} is not implemented by this charger`);
    });
    this.#client.on("open", () => void this.#onOpen());
    this.#client.on("disconnect", () => {
      this.#connected = false;
      clearInterval(this.#heartbeat);
      this.#log("disconnected from the CSMS: reconnecting with backoff");
    });
    this.#restore();
  }

  /** Events waiting for the CSMS. */
  get queued(): number {
    return this.#o.store.queued;
  }

  /** A session left charging by a previous run is resumed from the store (every chain point re-checked). */
  #restore(): void {
    const state = this.#o.store.current();
    if (!state) return;
    const tariff = tariffFromJson(state.tariff);
    const points = state.points.map((p) => ({ t: BigInt(p.t), e: BigInt(p.e) }));
    const last = { t: BigInt(state.last.t), e: BigInt(state.last.e) };
    this.#session = this.#o.meter.restoreSession({ sessionId: BigInt(state.sessionId), tariff, points, last });
    this.#state = state;
    this.#log(`resumed transaction ${state.transactionId} at seqNo ${state.nextSeqNo}, ${this.queued} queued`);
    this.#startTicker();
  }

  /** Connects (retrying with backoff until the CSMS answers once; ocpp-rpc reconnects after that). */
  async start(): Promise<void> {
    // An event not delivered for a reason other than the connection (a CSMS answering InternalError) is retried.
    this.#retry = setInterval(() => void this.#pump(), 1000);
    let delay = 200;
    while (!this.#closed) {
      try {
        await this.#client.connect();
        return;
      } catch (error) {
        this.#log(`cannot connect to ${this.#o.endpoint}: ${(error as Error).message}; retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  async #onOpen(): Promise<void> {
    this.#connected = true;
    this.#log(`connected to ${this.#o.endpoint} as ${this.#o.identity}`);
    try {
      // OCPP 2.0.1 B01: one accepted BootNotification per power-up, nothing else sent before it; a reconnect
      // (the CSMS restarted, the network came back) resumes with the interval already given.
      while (this.#heartbeatSeconds === undefined && this.#connected) {
        const boot = (await this.#client.call("BootNotification", {
          reason: "PowerUp",
          chargingStation: { model: "zkcharge-sim", vendorName: "zkcharge" },
        })) as { status: string; interval: number };
        this.#log(`BootNotification: ${boot.status}, interval ${boot.interval} s`);
        if (boot.status === "Accepted") this.#heartbeatSeconds = Math.max(1, boot.interval);
        else await new Promise((r) => setTimeout(r, Math.min(60, Math.max(1, boot.interval)) * 1000));
      }
      clearInterval(this.#heartbeat);
      const interval = this.#heartbeatSeconds! * 1000;
      this.#heartbeat = setInterval(() => void this.#client.call("Heartbeat", {}).catch(() => {}), interval);
      await this.#status();
    } catch (error) {
      this.#log(`boot failed: ${(error as Error).message}`);
    }
    void this.#pump();
  }

  async #status(): Promise<void> {
    await this.#client.call("StatusNotification", {
      timestamp: new Date().toISOString(),
      connectorStatus: this.#state ? "Occupied" : "Available",
      evseId: 1,
      connectorId: 1,
    });
  }

  #onStart(params: Record<string, unknown>): { status: "Accepted" | "Rejected"; transactionId?: string } {
    if (this.#state) return { status: "Rejected", transactionId: this.#state.transactionId };
    const data = params.customData as Partial<StartData> | undefined;
    try {
      if (typeof data?.sessionId !== "string" || !/^[0-9]{1,78}$/.test(data.sessionId))
        throw new InvalidInputError("customData.sessionId must be a decimal string");
      const tariff = tariffFromJson(data.tariff);
      const t = now();
      const session = this.#o.meter.startSession({
        sessionId: BigInt(data.sessionId),
        tariff: faultyTariff(this.#o.fault, tariff),
        t,
        e: this.#o.store.register,
      });
      const transactionId = randomUUID();
      this.#session = session;
      this.#stopRequested = false;
      this.#state = {
        transactionId,
        sessionId: data.sessionId,
        remoteStartId: params.remoteStartId as number,
        tariff: data.tariff,
        points: [],
        last: { t: "0", e: "0" },
        nextSeqNo: 0,
        state: "charging",
      };
      this.#emit("Started", pointRecord(session));
      this.#log(`transaction ${transactionId} started for session ${data.sessionId}`);
      void this.#status().catch(() => {});
      this.#startTicker();
      void this.#pump();
      return { status: "Accepted", transactionId };
    } catch (error) {
      this.#log(`RequestStartTransaction refused: ${(error as Error).message}`);
      return { status: "Rejected" };
    }
  }

  #onStop(params: { transactionId: string }): { status: "Accepted" | "Rejected" } {
    if (!this.#state || this.#state.transactionId !== params.transactionId) return { status: "Rejected" };
    this.#stopRequested = true;
    setImmediate(() => this.#tick());
    return { status: "Accepted" };
  }

  #startTicker(): void {
    clearInterval(this.#ticker);
    this.#ticker = setInterval(() => this.#tick(), this.#o.readingIntervalMs);
  }

  /** The power curve: a ramp over the first 10 s to 90 % of the rating (the simulator clamps to the rating). */
  #power(start: bigint): (t: bigint) => bigint {
    const rated = this.#o.meter.ratedPowerW;
    return (t) => {
      const ramp = t - start >= 10n ? 10n : t - start + 1n;
      return (rated * 9n * ramp) / 100n;
    };
  }

  /** Takes the readings up to now (boundary points included), signs and queues them; ends if asked to. */
  #tick(): void {
    const session = this.#session;
    if (!session || !this.#state) return;
    const t = now();
    try {
      // Up to each boundary first (a chain point, signed on its own), then up to now: one reading each step.
      for (let step = 0; step < 64 && t > session.lastReading.t; step++) {
        const boundary = session.nextBoundary;
        const to = boundary < t ? boundary : t;
        const powerW = this.#power(session.points[0]!.t);
        for (const reading of simulateCharging(session, { to, powerW, stepSeconds: 1n << 40n })) {
          this.#emit(
            "Updated",
            reading.kind === "live" ? tailRecord(session.sessionId, reading) : pointRecord(session),
          );
        }
      }
    } catch (error) {
      if (!(error instanceof MeterError)) throw error;
      this.#log(`ending the session: ${error.message}`);
      this.#stopRequested = true;
    }
    if (this.#stopRequested) {
      const last = session.lastReading;
      this.#emit("Ended", endRecord(session.end(last.t, last.e)));
      this.#log(`transaction ${this.#state.transactionId} ended at ${last.e} Wh`);
      clearInterval(this.#ticker);
      this.#session = undefined;
      this.#state = undefined;
      void this.#status().catch(() => {});
    }
    void this.#pump();
  }

  /** Stores the session's new state and the TransactionEvent carrying `record`, in one transaction. */
  #emit(eventType: "Started" | "Updated" | "Ended", signed: LiveRecord): void {
    const session = this.#session!;
    const state = this.#state!;
    const seqNo = state.nextSeqNo;
    let record = signed;
    const fault = this.#o.fault;
    if (fault && fault !== "other-tariff" && !this.#faulted && record.kind === "live" && seqNo >= FAULT_SEQ_NO) {
      this.#faulted = true;
      record = faultyRecord(fault, record);
      this.#log(`fault injected (${fault}) into seqNo ${seqNo}`);
    }
    const point = (p: { t: bigint; e: bigint }) => ({ t: p.t.toString(), e: p.e.toString() });
    const next: ChargerSession = {
      ...state,
      points: session.points.map(point),
      last: point(session.lastReading),
      nextSeqNo: seqNo + 1,
      state: eventType === "Ended" ? "ended" : "charging",
    };
    const payload = transactionEvent({
      eventType,
      seqNo,
      transactionId: state.transactionId,
      remoteStartId: state.remoteStartId,
      offline: !this.#connected,
      record,
      publicKey: this.#o.meter.publicKey,
    });
    this.#o.store.record(next, payload);
    this.#state = next;
  }

  /** Delivers the queue in order while connected; an event leaves it only when acknowledged (or refused). */
  async #pump(): Promise<void> {
    if (this.#pumping || this.#heartbeatSeconds === undefined) return;
    this.#pumping = true;
    try {
      for (let event = this.#o.store.next(); event && this.#connected && !this.#closed; event = this.#o.store.next()) {
        try {
          await this.#client.call("TransactionEvent", event.payload);
          this.#o.store.acknowledge(event.id);
        } catch (error) {
          if (error instanceof RPCError && REFUSALS.has(error.rpcErrorCode)) {
            this.#log(`TransactionEvent seqNo ${event.seqNo} refused: ${error.rpcErrorCode}: ${error.message}`);
            this.#o.store.refuse(event.id, `${error.rpcErrorCode}: ${error.message}`);
          } else {
            this.#log(`TransactionEvent seqNo ${event.seqNo} not delivered (${(error as Error).message}): kept`);
            break;
          }
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearInterval(this.#ticker);
    clearInterval(this.#retry);
    await this.#client.close({ force: true });
  }
}
