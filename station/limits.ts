/**
 * Per-client request budgets of the driver API: a token bucket per client key (the peer's IP address) in a map of
 * bounded size; when it is full the least recently seen client is forgotten, so a flood of new addresses costs
 * bounded memory. (The same policy as the relayer's relayer/limits.ts; faces do not import each other.)
 */

/** A bucket of `burst` requests, refilled at `perMinute`; at most `maxClients` remembered (default 10 000). */
export interface RateLimitOptions {
  burst: number;
  perMinute: number;
  maxClients?: number;
}

/** A token-bucket limiter keyed by client. */
export class RateLimiter {
  readonly #o: Required<RateLimitOptions>;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: RateLimitOptions) {
    this.#o = { maxClients: 10_000, ...options };
  }

  /** Takes one request from `client`'s bucket: 0 if allowed, else the seconds until one would be. */
  take(client: string, now = Date.now()): number {
    const perMs = this.#o.perMinute / 60_000;
    const old = this.#buckets.get(client);
    const tokens = old ? Math.min(this.#o.burst, old.tokens + (now - old.at) * perMs) : this.#o.burst;
    this.#buckets.delete(client); // re-inserted last: the map's order is least recently seen first
    if (this.#buckets.size >= this.#o.maxClients) this.#buckets.delete(this.#buckets.keys().next().value!);
    this.#buckets.set(client, { tokens: tokens >= 1 ? tokens - 1 : tokens, at: now });
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / perMs / 1000);
  }
}
