/**
 * The station's admin API (fastify, on 127.0.0.1 only): ask a charger to start or stop, read what is stored (the
 * chargers and their status, the sessions with their escrows, readings, bills and closes, the refusals). It is the
 * CPO's own view: with an admin token (`ZKCHARGE_STATION_ADMIN_TOKEN`) every request must carry it as a bearer
 * token, and only then may browsers on the listed origins (`--admin-cors-origins`: the CPO dashboard) call it.
 * The driver-facing HTTP + WebSocket API comes on top of the same {@link Csms} and {@link StationStore}.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import cors from "@fastify/cors";
import Fastify, { type FastifyInstance } from "fastify";
import { tariffHash, type Tariff } from "../sdk/index.ts";
import { CsmsRequestError, type ChargerEntry, type Csms } from "./csms.ts";
import type { StationStore, StoredSession } from "./store.ts";

/** The least length of an admin token: it is the API's only guard once browsers may call it. */
export const ADMIN_TOKEN_MIN_LENGTH = 32;
/** Sessions `GET /admin/sessions` lists at most. */
const MAX_LISTED_SESSIONS = 200;

/** Options of {@link startAdmin}. */
export interface AdminOptions {
  csms: Csms;
  store: StationStore;
  /** The chargers the station serves (their meters' ratings). */
  chargers: Map<string, ChargerEntry>;
  /** The tariff the station offers (its CPO is the station's). */
  tariff: Tariff;
  host: string;
  port: number;
  /** The bearer token every request must carry (none: the API answers any local caller, as before). */
  token?: string;
  /** Browser origins allowed to call the API (only with a token; none: no CORS, browsers cannot read it). */
  corsOrigins?: string[];
}

const sha256 = (s: string) => createHash("sha256").update(s).digest();

/** A session's escrow as the operator sees it: no driver bearer token hash. */
function escrowView(s: StoredSession) {
  if (!s.escrow) return undefined;
  const { tokenHash: _hidden, ...escrow } = s.escrow;
  void _hidden;
  return escrow;
}

/** Starts the admin API on `host:port`; returns it and its URL. */
export async function startAdmin(o: AdminOptions): Promise<{ app: FastifyInstance; url: string }> {
  const { csms, store } = o;
  if (o.token !== undefined && o.token.length < ADMIN_TOKEN_MIN_LENGTH)
    throw new Error(`the admin token must be at least ${ADMIN_TOKEN_MIN_LENGTH} characters`);
  if (o.corsOrigins && o.token === undefined)
    throw new Error("browser origins for the admin API need an admin token (ZKCHARGE_STATION_ADMIN_TOKEN)");
  const app = Fastify({ logger: false, bodyLimit: 4096 });
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof CsmsRequestError) return reply.code(error.statusCode).send({ error: error.message });
    return reply.code(500).send({ error: (error as Error).message });
  });
  if (o.corsOrigins) {
    // The dashboard's origin only; the bearer token is the authorisation, never a cookie (no credentials).
    await app.register(cors, {
      origin: o.corsOrigins,
      methods: ["GET", "POST"],
      allowedHeaders: ["authorization"],
      credentials: false,
      maxAge: 600,
    });
  }
  if (o.token !== undefined) {
    const expected = sha256(o.token);
    app.addHook("onRequest", async (request, reply) => {
      if (request.method === "OPTIONS") return; // a CORS preflight carries no token; @fastify/cors answers it
      const header = request.headers.authorization ?? "";
      const given = header.startsWith("Bearer ") ? header.slice(7) : "";
      // Hashes of equal length, compared in constant time: the token's length or prefix leaks nothing.
      if (!timingSafeEqual(sha256(given), expected))
        return reply.code(401).send({ error: "missing or wrong admin token" });
    });
  }
  app.get("/admin/station", async () => ({
    cpoId: o.tariff.cpoId.toString(),
    tariffHash: tariffHash(o.tariff).toString(),
  }));
  app.get("/admin/chargers", async () => {
    const connected = csms.connected();
    const statuses = await store.statuses();
    return {
      connected,
      chargers: [...o.chargers].map(([id, c]) => ({
        id,
        connected: connected.includes(id),
        status: statuses.get(id) ?? null,
        ratedPowerW: c.ratedPowerW.toString(),
      })),
    };
  });
  app.post<{ Params: { id: string } }>("/admin/chargers/:id/start", async (request) =>
    csms.requestStart(request.params.id),
  );
  app.post<{ Params: { id: string } }>("/admin/sessions/:id/stop", async (request) =>
    csms.requestStop(request.params.id),
  );
  app.get<{ Querystring: { limit?: string } }>("/admin/sessions", async (request, reply) => {
    const limit = request.query.limit === undefined ? 50 : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LISTED_SESSIONS)
      return reply.code(400).send({ error: `limit must be an integer from 1 to ${MAX_LISTED_SESSIONS}` });
    const sessions = await store.recentSessions(limit);
    return {
      sessions: await Promise.all(
        sessions.map(async (s) => {
          const readings = s.transactionId ? await store.readings(s.transactionId) : [];
          const first = readings[0];
          const last = readings.at(-1);
          return {
            sessionId: s.sessionId,
            chargerId: s.chargerId,
            state: s.state,
            requestedAt: s.requestedAt,
            ...(s.stoppedBy !== undefined ? { stoppedBy: s.stoppedBy } : {}),
            ...(s.escrow ? { escrow: escrowView(s) } : {}),
            readings: readings.length,
            ...(first && last
              ? { startedAt: first.t, lastAt: last.t, energyWh: String(BigInt(last.e) - BigInt(first.e)) }
              : {}),
            ...(await closeView(s.sessionId)),
          };
        }),
      ),
    };
  });
  const closeView = async (sessionId: string) => {
    const close = await store.closeOf(sessionId);
    if (!close) return {};
    const { sessionId: _s, ...rest } = close;
    void _s;
    return { close: rest };
  };
  app.get<{ Params: { id: string } }>("/admin/sessions/:id", async (request, reply) => {
    const session = await store.session(request.params.id);
    if (!session) return reply.code(404).send({ error: `no session ${request.params.id}` });
    const readings = session.transactionId ? await store.readings(session.transactionId) : [];
    // The running bill of the stored readings, each checked again as the CSMS checked it when it stored it.
    const bill = readings.length > 0 ? (await csms.verifier(session.sessionId))?.runningBill()?.amount : undefined;
    const { escrow: _e, ...rest } = session;
    void _e;
    return {
      ...rest,
      ...(session.escrow ? { escrow: escrowView(session) } : {}),
      readings: readings.map((r) => ({ seqNo: r.seqNo, eventType: r.eventType, kind: r.kind, k: r.k, t: r.t, e: r.e })),
      ...(bill !== undefined ? { bill: bill.toString() } : {}),
      ...(await closeView(session.sessionId)),
    };
  });
  app.get("/admin/refusals", async () => ({ refusals: await store.refusals() }));
  const address = await app.listen({ host: o.host, port: o.port });
  return { app, url: address };
}
