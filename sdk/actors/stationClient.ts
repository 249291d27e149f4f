/**
 * A client of a station service's driver API (stationApi.ts, docs/live.md) over `fetch` and `WebSocket`: runs in
 * Node (22+, whose `WebSocket` is global) and in a browser. The driver's wallet finds a station by URL, takes its
 * offer, starts a session against an escrow, follows the live readings, stops, and hands over the close.
 */
import type { z } from "zod";
import { ZkchargeError } from "../core/errors.ts";
import type { Closing } from "./escrow.ts";
import {
  STATION_API_PREFIX,
  closeAnswerSchema,
  liveMessageSchema,
  offerSchema,
  readingsAnswerSchema,
  sessionStatusSchema,
  startAnswerSchema,
  stationInfoSchema,
  stopAnswerSchema,
  type LiveMessage,
  type Offer,
  type ReadingsAnswer,
  type SessionStatus,
  type StartAnswer,
  type StartRequest,
  type StationCloseAnswer,
  type StationInfo,
} from "./stationApi.ts";
import { callJsonApi } from "./jsonApi.ts";
import { describeZodIssue } from "./wire.ts";

/** The station refused a request or answered something unexpected; `code` is the station's error code. */
export class StationError extends ZkchargeError {
  /** HTTP status (0 when the station could not be reached or timed out). */
  readonly status: number;

  /**
   * @param status HTTP status, or 0
   * @param code the station's error code (e.g. `ESCROW_REJECTED`), or a client-side one
   * @param message what went wrong
   */
  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

/** Options of {@link StationClient}. */
export interface StationClientOptions {
  /** Bound on every HTTP request, ms (default 30 000). */
  timeoutMs?: number;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
}

/** A live stream of a session's messages; `close()` ends it. */
export interface LiveStream extends AsyncIterable<LiveMessage> {
  close(): void;
}

/** A station service at one URL. */
export class StationClient {
  /** The base URL, e.g. `http://127.0.0.1:9100` (the API lives under `/api/v1`). */
  readonly url: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  /** @param url the station's base URL */
  constructor(url: string, options: StationClientOptions = {}) {
    this.url = url.replace(/\/+$/, "");
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
  }

  #request<S extends z.ZodTypeAny>(
    method: string,
    path: string,
    schema: S,
    options: { body?: unknown; token?: string } = {},
  ): Promise<z.output<S>> {
    return callJsonApi({
      service: "station",
      baseUrl: this.url,
      url: `${this.url}${STATION_API_PREFIX}${path}`,
      path,
      method,
      schema,
      ...options,
      timeoutMs: this.#timeoutMs,
      fetch: this.#fetch,
      fail: (status, code, message) => new StationError(status, code, message),
    });
  }

  /** Who runs the station (CPO, chain, pool, registry), its escrow policy and its chargers. */
  info(): Promise<StationInfo> {
    return this.#request("GET", "/station", stationInfoSchema);
  }

  /** The terms of a session at `chargerId`, with a fresh one-time station nonce. */
  offer(chargerId: string): Promise<Offer> {
    return this.#request("GET", `/chargers/${encodeURIComponent(chargerId)}/offer`, offerSchema);
  }

  /** Starts a session against the escrow locked for `sessionId(stationNonce, driverNonce)`. */
  start(request: StartRequest): Promise<StartAnswer> {
    return this.#request("POST", "/sessions", startAnswerSchema, { body: request });
  }

  /** A session's status. */
  status(sessionId: bigint, token: string): Promise<SessionStatus> {
    return this.#request("GET", `/sessions/${sessionId}`, sessionStatusSchema, { token });
  }

  /** The session's stored readings from seqNo `from` (the session end included once it arrived). */
  readings(sessionId: bigint, token: string, from = 0): Promise<ReadingsAnswer> {
    return this.#request("GET", `/sessions/${sessionId}/readings?from=${from}`, readingsAnswerSchema, { token });
  }

  /** Asks the station to stop the session's charger. */
  stop(sessionId: bigint, token: string): Promise<{ status: string }> {
    return this.#request("POST", `/sessions/${sessionId}/stop`, stopAnswerSchema, { token, body: {} });
  }

  /** Hands over a close proved from the session end; the station verifies and submits it. */
  close(
    sessionId: bigint,
    token: string,
    closing: Pick<Closing, "groth16" | "pub" | "ext">,
  ): Promise<StationCloseAnswer> {
    const body = { proof: closing.groth16, publicSignals: closing.pub, extData: closing.ext };
    return this.#request("POST", `/sessions/${sessionId}/close`, closeAnswerSchema, { token, body });
  }

  /**
   * The session's live stream from seqNo `from`: the stored readings first, then each new one as it is stored,
   * state changes and the close. The iterator ends when the station closes the socket.
   * @throws StationError `STATION_UNREACHABLE` if the socket cannot open, `BAD_RESPONSE` on a message that is not
   *   the API's
   */
  live(sessionId: bigint, token: string, from = 0): LiveStream {
    const url = new URL(`${this.url}${STATION_API_PREFIX}/sessions/${sessionId}/live`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("from", String(from));
    url.searchParams.set("token", token);
    const socket = new WebSocket(url);
    const queue: LiveMessage[] = [];
    let failure: StationError | undefined;
    let done = false;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    socket.onmessage = (event: MessageEvent) => {
      let json: unknown;
      try {
        json = JSON.parse(String(event.data));
      } catch {
        failure ??= new StationError(200, "BAD_RESPONSE", `station ${url.pathname}: a live message is not JSON`);
        socket.close();
        return notify();
      }
      const parsed = liveMessageSchema.safeParse(json);
      if (parsed.success) queue.push(parsed.data);
      else {
        failure ??= new StationError(200, "BAD_RESPONSE", `station live message: ${describeZodIssue(parsed.error)}`);
        socket.close();
      }
      notify();
    };
    socket.onerror = () => {
      failure ??= new StationError(0, "STATION_UNREACHABLE", `station ${url.origin}${url.pathname}: socket error`);
      notify();
    };
    socket.onclose = (event: CloseEvent) => {
      done = true;
      // 4xxx: the station refused the stream (e.g. 4401: bad token, 4404: no such session), reason in plain words.
      if (event.code >= 4000 && event.code < 5000)
        failure ??= new StationError(
          event.code - 4000,
          "LIVE_REFUSED",
          `station refused the live stream: ${event.reason}`,
        );
      notify();
    };
    return {
      close: () => socket.close(),
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            if (queue.length > 0) {
              yield queue.shift()!;
              continue;
            }
            if (failure) throw failure;
            if (done) return;
            await new Promise<void>((resolve) => (wake = resolve));
          }
        } finally {
          socket.close();
        }
      },
    };
  }
}
