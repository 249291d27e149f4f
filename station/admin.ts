/**
 * The station's local admin API (fastify, 127.0.0.1 only): ask a charger to start or stop, read what is stored.
 * The driver-facing HTTP + WebSocket API comes on top of the same {@link Csms} and {@link StationStore}.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { CsmsRequestError, type Csms } from "./csms.ts";
import type { StationStore } from "./store.ts";

/** Starts the admin API on `host:port`; returns it and its URL. */
export async function startAdmin(
  csms: Csms,
  store: StationStore,
  host: string,
  port: number,
): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false, bodyLimit: 4096 });
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof CsmsRequestError) return reply.code(error.statusCode).send({ error: error.message });
    return reply.code(500).send({ error: (error as Error).message });
  });
  app.get("/admin/chargers", async () => ({ connected: csms.connected() }));
  app.post<{ Params: { id: string } }>("/admin/chargers/:id/start", async (request) =>
    csms.requestStart(request.params.id),
  );
  app.post<{ Params: { id: string } }>("/admin/sessions/:id/stop", async (request) =>
    csms.requestStop(request.params.id),
  );
  app.get<{ Params: { id: string } }>("/admin/sessions/:id", async (request, reply) => {
    const session = await store.session(request.params.id);
    if (!session) return reply.code(404).send({ error: `no session ${request.params.id}` });
    const readings = session.transactionId ? await store.readings(session.transactionId) : [];
    return {
      ...session,
      readings: readings.map((r) => ({ seqNo: r.seqNo, eventType: r.eventType, kind: r.kind, k: r.k, t: r.t, e: r.e })),
    };
  });
  app.get("/admin/refusals", async () => ({ refusals: await store.refusals() }));
  const address = await app.listen({ host, port });
  return { app, url: address };
}
