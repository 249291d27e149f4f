/**
 * What the services' public HTTP APIs (the station's driver API, the relayer's API) share: CORS for browser
 * wallets on other origins, a read and a write budget per client, and one error answer, `{ error, message }` (the
 * SDK's `apiErrorSchema`), for the API's own refusals, fastify's (a body too large, bad JSON) and unknown routes.
 */
import cors from "@fastify/cors";
import type { FastifyInstance, FastifyReply } from "fastify";
import { RateLimiter, type RateLimitOptions } from "./rateLimit.ts";

/** How {@link publicApi} sets up an app. */
export interface PublicApiOptions {
  /** Origins allowed to call from a browser (default: any; the APIs take no cookies or credentials). */
  corsOrigins?: string[];
  /** Request headers a browser may send. */
  allowedHeaders: string[];
  /** The budget of reads (GET) and of writes (POST) per client address. */
  read: RateLimitOptions;
  write: RateLimitOptions;
}

/** Answers `status` with the error body every zkcharge API uses. */
export function refuse(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).send({ error, message });
}

/**
 * Registers CORS, the per-client budgets and the unknown-route answer on `app` (before its routes). CORS comes
 * first: every answer, a 429 included, carries its headers, so a browser can read the refusal; and a preflight (a
 * browser sends one before its first POST from another origin, then caches it for 10 minutes) is answered by the
 * CORS hook before any budget is taken: it reads and writes nothing, and must not use up a client's writes.
 */
export async function publicApi(app: FastifyInstance, o: PublicApiOptions): Promise<void> {
  await app.register(cors, {
    origin: o.corsOrigins ?? true,
    methods: ["GET", "POST"],
    allowedHeaders: o.allowedHeaders,
    credentials: false,
    maxAge: 600,
  });
  const reads = new RateLimiter(o.read);
  const writes = new RateLimiter(o.write);
  app.addHook("onRequest", async (request, reply) => {
    const wait = (request.method === "POST" ? writes : reads).take(request.ip);
    if (wait > 0) {
      reply.header("retry-after", String(wait));
      return refuse(reply, 429, "RATE_LIMITED", `too many requests from ${request.ip}: retry in ${wait} s`);
    }
  });
  app.setNotFoundHandler((request, reply) =>
    refuse(reply, 404, "NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`),
  );
}

/**
 * The answer to an error fastify raised itself: a body above `bodyLimit` (413), a client error such as bad JSON
 * (its status and fastify's code); `undefined` for anything else, which the API answers itself.
 */
export function frameworkRefusal(
  error: { statusCode?: number; code?: string; message: string },
  bodyLimit: number,
): { status: number; error: string; message: string } | undefined {
  const status = error.statusCode ?? 500;
  if (status === 413) return { status, error: "BODY_TOO_LARGE", message: `the body exceeds ${bodyLimit} bytes` };
  if (status >= 400 && status < 500) return { status, error: error.code ?? "BAD_REQUEST", message: error.message };
  return undefined;
}
