/**
 * The station's driver-facing HTTP + WebSocket API (sdk/actors/stationApi.ts is the contract; docs/live.md): the
 * offer of a charger with a fresh one-time station nonce, a session started only against an escrow checked
 * on-chain, its status, readings and live stream (every signed reading as it is stored, with the running bill),
 * stop, and the driver's close proof. Bodies are bounded, every client (by peer IP; proxies not trusted) has a
 * budget for reads and one for writes, a session has a bounded number of live streams, and a slow stream reader is
 * cut off. Errors answer {@link StationErrorBody} with a 4xx / 5xx status.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import {
  EscrowRejectedError,
  InvalidInputError,
  LiveSessionVerifier,
  STATION_API_PREFIX,
  closeRequestSchema,
  decodeSignedMeterValue,
  describeZodIssue,
  meterLeaf,
  randomBits,
  sessionId as makeSessionId,
  startRequestSchema,
  tariffHash,
  tariffToJson,
  toWire,
  type LiveMessage,
  type Offer,
  type SessionStatus,
  type StationInfo,
  type StationReading,
  type StationSessionState,
  type Tariff,
} from "../sdk/index.ts";
import { frameworkRefusal, publicApi, refuse } from "../service/publicApi.ts";
import type { RateLimitOptions } from "../service/rateLimit.ts";
import { isTransient, type StationChain } from "./chain.ts";
import { CsmsRequestError, type ChargerEntry, type Csms } from "./csms.ts";
import { SettlementRefusal, type Settlement } from "./settlement.ts";
import type { StationStore, StoredReading, StoredSession } from "./store.ts";

/** The station's escrow policy. */
export interface EscrowPolicy {
  /** Smallest cap accepted, token base units. */
  minCap: bigint;
  /** Least time before the escrow's settle deadline at start, seconds. */
  minSecondsToSettle: bigint;
}

/** Limits of the driver API. */
export interface DriverApiLimits {
  read: RateLimitOptions;
  write: RateLimitOptions;
  bodyLimit: number;
  /** Live streams open at once per session. */
  maxStreamsPerSession: number;
  /** A stream whose unsent backlog exceeds this many bytes is closed (the reader can resume with `from`). */
  maxStreamBacklog: number;
  /** How long an offered nonce can be used, ms. */
  offerTtlMs: number;
}

/** Default limits: 300 reads at once then 1200 a minute, 30 writes then 120 a minute, 64 KiB bodies, 4 streams. */
export const DEFAULT_DRIVER_LIMITS: DriverApiLimits = {
  read: { burst: 300, perMinute: 1200 },
  write: { burst: 30, perMinute: 120 },
  bodyLimit: 64 * 1024,
  maxStreamsPerSession: 4,
  maxStreamBacklog: 1 << 20,
  offerTtlMs: 5 * 60_000,
};

/** What the driver API needs. */
export interface DriverApiOptions {
  name: string;
  store: StationStore;
  csms: Csms;
  chain: StationChain;
  settlement: Settlement;
  chargers: ReadonlyMap<string, ChargerEntry>;
  tariff: Tariff;
  policy: EscrowPolicy;
  limits?: Partial<DriverApiLimits>;
  /** Origins a browser wallet may call from (CORS); default any origin. */
  corsOrigins?: string[];
  log?: (message: string) => void;
}

/** A refusal with its code and HTTP status. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The `from` query parameter: a seqNo, default 0. */
function fromOf(request: FastifyRequest): number {
  const raw = (request.query as { from?: string }).from;
  if (raw === undefined) return 0;
  if (!/^[0-9]{1,9}$/.test(raw)) throw new ApiError(400, "INVALID_REQUEST", "from must be a seqNo (0 or more)");
  return Number(raw);
}

const served = (r: StoredReading): StationReading => ({
  seqNo: r.seqNo,
  signedMeterValue: {
    signedMeterData: r.signedMeterData,
    signingMethod: "ZKCHARGE-EDDSA-POSEIDON",
    encodingMethod: "ZKCHARGE-JSON-1",
    publicKey: r.publicKey,
  },
  receivedAt: r.receivedAt,
});

/** Builds the driver API (not yet listening). */
export async function buildDriverApi(o: DriverApiOptions): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_DRIVER_LIMITS, ...o.limits };
  const { store, csms, chain, settlement, chargers, tariff, policy } = o;
  const log = o.log ?? (() => {});
  const app = Fastify({ logger: false, bodyLimit: limits.bodyLimit, trustProxy: false });
  // A browser wallet on another origin (the web app) calls this API: it is public and authorised by a per-session
  // bearer token in a header, never by cookies, so any origin may call it by default (no credentials are allowed,
  // so a page cannot ride on a user's session). The WebSocket stream needs no CORS (its token is in the URL).
  await publicApi(app, {
    corsOrigins: o.corsOrigins,
    allowedHeaders: ["content-type", "authorization"],
    read: limits.read,
    write: limits.write,
  });
  await app.register(websocket, { options: { maxPayload: 4096 } });
  const streams = new Map<string, Set<WebSocket>>();
  const offerTariff = tariffToJson(tariff);
  const offerTariffHash = tariffHash(tariff);

  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, _request, reply) => {
    if (error instanceof ApiError) return refuse(reply, error.status, error.code, error.message);
    if (error instanceof SettlementRefusal) return refuse(reply, error.status, error.code, error.message);
    if (error instanceof CsmsRequestError) return refuse(reply, error.statusCode, error.code, error.message);
    if (error instanceof EscrowRejectedError) return refuse(reply, 400, "ESCROW_REJECTED", error.message);
    if (error instanceof InvalidInputError) return refuse(reply, 400, "INVALID_REQUEST", error.message);
    const framework = frameworkRefusal(error, limits.bodyLimit);
    if (framework) return refuse(reply, framework.status, framework.error, framework.message);
    if (isTransient(error)) return refuse(reply, 502, "CHAIN_UNAVAILABLE", `the chain node failed: ${error.message}`);
    log(`driver API internal error: ${error.message}`);
    return refuse(reply, 500, "INTERNAL", error.message);
  });

  /** The session `id` if the request carries its bearer token (header or `?token=`). */
  async function authorised(request: FastifyRequest): Promise<StoredSession> {
    const id = (request.params as { id: string }).id;
    const s = /^[0-9]{1,78}$/.test(id) ? await store.session(id) : undefined;
    if (!s?.escrow) throw new ApiError(404, "UNKNOWN_SESSION", `no session ${id}`);
    const header = request.headers.authorization;
    const token = header?.startsWith("Bearer ") ? header.slice(7) : (request.query as { token?: string }).token;
    const given = Buffer.from(sha256(token ?? ""), "hex");
    if (token === undefined || !timingSafeEqual(given, Buffer.from(s.escrow.tokenHash, "hex")))
      throw new ApiError(401, "UNAUTHORIZED", `a bearer token of session ${id} is required`);
    return s;
  }

  async function stateOf(s: StoredSession): Promise<StationSessionState> {
    return (await store.closeOf(s.sessionId))?.state === "confirmed" ? "closed" : s.state;
  }

  const p = STATION_API_PREFIX;

  app.get(`${p}/station`, async () => {
    const statuses = await store.statuses();
    const connected = new Set(csms.connected());
    const info: StationInfo = {
      name: o.name,
      cpoId: chain.operator.cpoId,
      chainId: chain.chainId,
      pool: chain.pool,
      registry: chain.registry,
      minCap: policy.minCap,
      minSecondsToSettle: policy.minSecondsToSettle,
      chargers: [...chargers].map(([chargerId, entry]) => ({
        chargerId,
        connected: connected.has(chargerId),
        ...(statuses.has(chargerId) ? { status: statuses.get(chargerId)! } : {}),
        ratedPowerW: entry.ratedPowerW,
      })),
    };
    return toWire(info);
  });

  app.get<{ Params: { chargerId: string } }>(`${p}/chargers/:chargerId/offer`, async (request) => {
    const chargerId = request.params.chargerId;
    const entry = chargers.get(chargerId);
    if (!entry) throw new ApiError(404, "UNKNOWN_CHARGER", `no charger ${chargerId} at this station`);
    const now = Date.now();
    const stationNonce = randomBits(128);
    const expiresAt = now + limits.offerTtlMs;
    await store.addOffer({ stationNonce: stationNonce.toString(), chargerId, expiresAt }, now);
    const offer: Offer = {
      chargerId,
      cpoId: chain.operator.cpoId,
      tariff: offerTariff,
      tariffHash: offerTariffHash,
      meterPublicKey: entry.meterPublicKey,
      ratedPowerW: entry.ratedPowerW,
      meterLeaf: meterLeaf(entry.meterPublicKey[0], entry.meterPublicKey[1], chain.operator.cpoId, entry.ratedPowerW),
      stationNonce,
      expiresAt,
      minCap: policy.minCap,
      minSecondsToSettle: policy.minSecondsToSettle,
    };
    return toWire(offer);
  });

  app.post(`${p}/sessions`, async (request, reply) => {
    const parsed = startRequestSchema.safeParse(request.body);
    if (!parsed.success) throw new ApiError(400, "INVALID_REQUEST", describeZodIssue(parsed.error));
    const req = parsed.data;
    if (!chargers.has(req.chargerId))
      throw new ApiError(404, "UNKNOWN_CHARGER", `no charger ${req.chargerId} at this station`);
    const offer = await store.offer(req.stationNonce.toString());
    if (!offer || offer.chargerId !== req.chargerId)
      throw new ApiError(
        400,
        "NONCE_UNKNOWN",
        `station nonce ${req.stationNonce} was not offered for ${req.chargerId}`,
      );
    if (offer.usedBy !== undefined)
      throw new ApiError(409, "NONCE_USED", `station nonce ${req.stationNonce} was already used`);
    if (offer.expiresAt < Date.now())
      throw new ApiError(400, "NONCE_EXPIRED", `station nonce ${req.stationNonce} expired: ask for a new offer`);
    const sessionId = makeSessionId(req.stationNonce, req.driverNonce);
    if (!csms.connected().includes(req.chargerId))
      throw new ApiError(409, "CHARGER_OFFLINE", `charger ${req.chargerId} is not connected`);
    if ((await store.openSessions()).some((s) => s.chargerId === req.chargerId))
      throw new ApiError(409, "CHARGER_BUSY", `charger ${req.chargerId} has a session already`);
    // The escrow first: nothing is switched on for a driver who has not locked enough for this very session.
    const escrow = await chain.operator.verifyEscrow(req.escrowId, { sessionId, ...policy });
    const token = randomBytes(32).toString("base64url");
    const started = await csms.requestStart(req.chargerId, {
      sessionId: sessionId.toString(),
      escrow: {
        escrowId: escrow.escrowId.toString(),
        cap: escrow.cap.toString(),
        settleDeadline: escrow.settleDeadline.toString(),
        claimDeadline: escrow.claimDeadline.toString(),
        refundPrecommitment: escrow.refundPrecommitment.toString(),
        stationNonce: req.stationNonce.toString(),
        driverNonce: req.driverNonce.toString(),
        tokenHash: sha256(token),
      },
    });
    log(`session ${sessionId} on ${req.chargerId} against escrow ${escrow.escrowId}: ${started.status}`);
    if (started.status !== "Accepted")
      throw new ApiError(409, "CHARGER_REJECTED", `charger ${req.chargerId} refused to start: ${started.status}`);
    return reply.code(201).send(toWire({ sessionId, token, state: "requested" }));
  });

  app.get<{ Params: { id: string } }>(`${p}/sessions/:id`, async (request) => {
    const s = await authorised(request);
    const readings = s.transactionId ? await store.readings(s.transactionId) : [];
    const bill = (await csms.verifier(s.sessionId))?.runningBill()?.amount;
    const close = await store.closeOf(s.sessionId);
    const status: SessionStatus = {
      sessionId: BigInt(s.sessionId),
      chargerId: s.chargerId,
      state: await stateOf(s),
      escrowId: BigInt(s.escrow!.escrowId),
      cap: BigInt(s.escrow!.cap),
      settleDeadline: BigInt(s.escrow!.settleDeadline),
      readings: readings.length,
      ...(bill !== undefined ? { bill } : {}),
      ...(s.stoppedBy !== undefined ? { stoppedBy: s.stoppedBy } : {}),
      ...(close?.state === "confirmed" && close.txHash ? { closeTx: close.txHash } : {}),
    };
    return toWire(status);
  });

  app.get<{ Params: { id: string } }>(`${p}/sessions/:id/readings`, async (request) => {
    const s = await authorised(request);
    const from = fromOf(request);
    const readings = s.transactionId ? await store.readings(s.transactionId) : [];
    return { readings: readings.filter((r) => r.seqNo >= from).map(served), state: await stateOf(s) };
  });

  app.post<{ Params: { id: string } }>(`${p}/sessions/:id/stop`, async (request) => {
    const s = await authorised(request);
    if (s.state !== "open")
      throw new ApiError(
        409,
        s.state === "requested" ? "NOT_STARTED" : "NOT_OPEN",
        `session ${s.sessionId} is ${s.state}`,
      );
    return csms.requestStop(s.sessionId);
  });

  app.post<{ Params: { id: string } }>(`${p}/sessions/:id/close`, async (request) => {
    const s = await authorised(request);
    if (s.state !== "ended") throw new ApiError(409, "NOT_ENDED", `session ${s.sessionId} is ${s.state}, not ended`);
    const parsed = closeRequestSchema.safeParse(request.body);
    if (!parsed.success) throw new ApiError(400, "INVALID_REQUEST", describeZodIssue(parsed.error));
    return toWire(await settlement.driverClose(s, parsed.data));
  });

  app.get<{ Params: { id: string } }>(
    `${p}/sessions/:id/live`,
    // A refusal (no token, no such session, too many streams) closes the socket with 4000 + the HTTP status, its
    // code and message as the reason: a browser's WebSocket sees no HTTP status of a refused upgrade.
    { websocket: true },
    (socket, request) => {
      const id = request.params.id;
      let open: Set<WebSocket> | undefined;
      const push = (message: LiveMessage) => {
        if (socket.readyState !== socket.OPEN) return;
        if (socket.bufferedAmount > limits.maxStreamBacklog) {
          socket.close(1008, "the reader is too slow: reconnect with ?from=");
          return;
        }
        socket.send(JSON.stringify(toWire(message)));
      };
      // Live events are queued until the replay of the stored readings is sent, then go straight out.
      let queue: (() => void)[] | undefined = [];
      let lastSent = -1;
      const later = (run: () => void) => (queue ? queue.push(run) : run());
      const onReading = (s: StoredSession, r: StoredReading, v: LiveSessionVerifier) => {
        if (s.sessionId !== id) return;
        const bill = v.runningBill()?.amount ?? 0n;
        later(() => {
          if (r.seqNo <= lastSent) return;
          lastSent = r.seqNo;
          push({ type: "reading", reading: served(r), bill });
        });
      };
      const onState = (sessionId: string, state: StoredSession["state"]) => {
        if (sessionId !== id) return;
        later(
          () =>
            void store
              .session(id)
              .then((s) =>
                push({ type: "state", state, ...(s?.stoppedBy !== undefined ? { reason: s.stoppedBy } : {}) }),
              ),
        );
      };
      const onClosed = (sessionId: string, c: { txHash?: string; amount?: string; refund?: string }) => {
        if (sessionId !== id) return;
        later(() => {
          push({ type: "state", state: "closed" });
          push({
            type: "closed",
            txHash: c.txHash ?? "",
            amount: BigInt(c.amount ?? "0"),
            refund: BigInt(c.refund ?? "0"),
          });
        });
      };
      csms.events.on("reading", onReading);
      csms.events.on("state", onState);
      settlement.events.on("closed", onClosed);
      socket.on("close", () => {
        csms.events.off("reading", onReading);
        csms.events.off("state", onState);
        settlement.events.off("closed", onClosed);
        open?.delete(socket);
        if (open?.size === 0) streams.delete(id);
      });
      socket.on("message", () => {}); // nothing is read from the driver on this stream
      void (async () => {
        let s: StoredSession;
        let from: number;
        try {
          s = await authorised(request);
          from = fromOf(request);
          if ((streams.get(id)?.size ?? 0) >= limits.maxStreamsPerSession)
            throw new ApiError(
              429,
              "TOO_MANY_STREAMS",
              `session ${id} has ${limits.maxStreamsPerSession} streams open`,
            );
        } catch (error) {
          const e = error instanceof ApiError ? error : new ApiError(500, "INTERNAL", (error as Error).message);
          socket.close(4000 + e.status, `${e.code}: ${e.message}`.slice(0, 120));
          return;
        }
        if (socket.readyState !== socket.OPEN) return;
        open = streams.get(id) ?? new Set<WebSocket>();
        streams.set(id, open);
        open.add(socket);
        const stored = s.transactionId ? await store.readings(s.transactionId) : [];
        // The running bill after each replayed reading: the stored readings were checked before they were stored,
        // so they are taken back without checking their signatures again (a replay costs no signature check).
        const terms = stored.length > 0 ? (await csms.verifier(id))?.terms : undefined;
        const replay = terms && new LiveSessionVerifier(terms);
        for (const r of stored) {
          const { record, publicKey } = decodeSignedMeterValue(served(r).signedMeterValue);
          replay!.acceptChecked(record, publicKey);
          if (r.seqNo < from || r.seqNo <= lastSent) continue;
          lastSent = r.seqNo;
          push({ type: "reading", reading: served(r), bill: replay!.runningBill()?.amount ?? 0n });
        }
        const state = await stateOf(s);
        push({ type: "state", state, ...(s.stoppedBy !== undefined ? { reason: s.stoppedBy } : {}) });
        const close = await store.closeOf(id);
        if (close?.state === "confirmed")
          push({
            type: "closed",
            txHash: close.txHash ?? "",
            amount: BigInt(close.amount ?? "0"),
            refund: BigInt(close.refund ?? "0"),
          });
        const pending = queue ?? [];
        queue = undefined;
        for (const run of pending) run();
      })().catch((error: Error) => {
        log(`live stream of ${id}: ${error.message}`);
        socket.close(1011, "internal error");
      });
    },
  );

  return app;
}
