/**
 * The relayer's HTTP API (docs/relayer.md) on fastify: `GET /details`, `POST /quote`, `POST /relay`,
 * `GET /jobs/:id`. Bodies are bounded (`bodyLimit`), every client (by peer IP, proxies not trusted) has a request
 * budget for reads and one for writes, and a nullifier has at most one request being checked and one live job.
 * Errors answer `{ error: CODE, message }`.
 */
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import type { Signer } from "ethers";
import {
  RELAY_OPERATIONS,
  describeZodError,
  quoteRequestSchema,
  relayRequestSchema,
  toWire,
  type FeePolicy,
  type RelayRequest,
  type RelayerDetails,
} from "../sdk/index.ts";
import { RelayRejected, checkOffline, checkOnChain, keysOf, type CheckContext } from "./checks.ts";
import { feeFor, signQuote } from "./fees.ts";
import { frameworkRefusal, publicApi, refuse } from "../service/publicApi.ts";
import type { RateLimitOptions } from "../service/rateLimit.ts";
import type { Sender } from "./sender.ts";
import { publicJob, type JobStore } from "./store.ts";

/** Limits of the HTTP API. */
export interface ServerLimits {
  /** Budget of `POST` requests per client. */
  write: RateLimitOptions;
  /** Budget of `GET` requests per client. */
  read: RateLimitOptions;
  /** Largest request body, bytes. */
  bodyLimit: number;
  /** Live (queued or sent) jobs at most; more are refused with 503 until some are mined. */
  maxLiveJobs: number;
}

/** The default limits: 30 writes at once then 120 a minute, 120 reads at once then 600 a minute, 64 KiB. */
export const DEFAULT_LIMITS: ServerLimits = {
  write: { burst: 30, perMinute: 120 },
  read: { burst: 120, perMinute: 600 },
  bodyLimit: 64 * 1024,
  maxLiveJobs: 1000,
};

/** What the routes need. */
export interface ServerDeps {
  ctx: CheckContext;
  signer: Signer;
  store: JobStore;
  sender: Sender;
  fees: FeePolicy;
  limits: ServerLimits;
  /** Origins a browser wallet may call from (CORS); default any origin. */
  corsOrigins?: string[];
  log?: (message: string) => void;
}

/** Builds the fastify app (not yet listening). */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { ctx, store, sender, fees, limits } = deps;
  const app = Fastify({ bodyLimit: limits.bodyLimit, logger: false, trustProxy: false });
  const checking = new Set<string>();
  // A browser wallet on another origin (the web app) relays through this API: it is public, takes no cookies and
  // no credentials (a request is a proof and a quote), so any origin may call it by default.
  await publicApi(app, {
    corsOrigins: deps.corsOrigins,
    allowedHeaders: ["content-type"],
    read: limits.read,
    write: limits.write,
  });
  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, _request, reply) => {
    const framework = frameworkRefusal(error, limits.bodyLimit);
    if (framework) return refuse(reply, framework.status, framework.error, framework.message);
    deps.log?.(`internal error: ${error.message}`);
    return refuse(reply, 500, "INTERNAL", error.message);
  });

  async function maxFeePerGas(): Promise<bigint> {
    const data = await ctx.provider.getFeeData();
    return data.maxFeePerGas ?? data.gasPrice ?? 0n;
  }

  app.get("/details", async () => {
    const details: RelayerDetails = {
      chainId: ctx.chainId,
      pool: ctx.poolAddress,
      relayer: ctx.relayer,
      operations: [...RELAY_OPERATIONS],
      feePolicy: fees,
      gasPriceWei: await maxFeePerGas(),
    };
    return toWire(details);
  });

  app.post("/quote", async (request, reply) => {
    const parsed = quoteRequestSchema.safeParse(request.body);
    if (!parsed.success) return refuse(reply, 400, "INVALID_REQUEST", describeZodError(parsed.error));
    const { operation } = parsed.data;
    const fee = feeFor(fees, operation, await maxFeePerGas());
    const expiry = BigInt(Math.floor(Date.now() / 1000)) + fees.quoteTtlSeconds;
    const quote = await signQuote(deps.signer, {
      chainId: ctx.chainId,
      pool: ctx.poolAddress,
      operation,
      fee,
      relayer: ctx.relayer,
      expiry,
    });
    return toWire(quote);
  });

  app.post("/relay", async (request, reply) => {
    const parsed = relayRequestSchema.safeParse(request.body);
    if (!parsed.success) return refuse(reply, 400, "INVALID_REQUEST", describeZodError(parsed.error));
    const req = parsed.data as RelayRequest;
    const keys = keysOf(req);
    // The same nullifier (the same proof, or a copy) again: its job, whatever the quote now says.
    const existing = await store.find(keys);
    if (existing) return reply.code(200).send({ id: existing.id, status: existing.status, existing: true });
    try {
      checkOffline(ctx, req);
      const busy = keys.find((k) => checking.has(k));
      if (busy) {
        return refuse(reply, 409, "IN_PROGRESS", `a request spending ${busy} is being checked: poll it again shortly`);
      }
      if ((await store.liveCount()) >= limits.maxLiveJobs) {
        reply.header("retry-after", "10");
        return refuse(reply, 503, "QUEUE_FULL", `${limits.maxLiveJobs} jobs are waiting to be mined: retry later`);
      }
      keys.forEach((k) => checking.add(k));
      try {
        const call = await checkOnChain(ctx, req);
        const { job, created } = await store.createOrGet({ id: randomUUID(), operation: req.operation, ...call });
        if (created) {
          deps.log?.(`job ${job.id}: ${req.operation} queued`);
          sender.wake();
        }
        return reply.code(created ? 202 : 200).send({ id: job.id, status: job.status, existing: !created });
      } finally {
        keys.forEach((k) => checking.delete(k));
      }
    } catch (error) {
      if (error instanceof RelayRejected) return refuse(reply, error.status, error.code, error.message);
      // The node (or the verifier) failed us, not the request: say so, store nothing.
      deps.log?.(`relay check failed: ${(error as Error).message}`);
      return refuse(reply, 502, "CHECK_UNAVAILABLE", `could not check the request: ${(error as Error).message}`);
    }
  });

  app.get<{ Params: { id: string } }>("/jobs/:id", async (request, reply) => {
    const job = await store.get(request.params.id);
    if (!job) return refuse(reply, 404, "UNKNOWN_JOB", `no job ${request.params.id}`);
    return publicJob(job);
  });

  return app;
}
