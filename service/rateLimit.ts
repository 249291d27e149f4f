/**
 * Per-client request limits of the services' public APIs (the station's driver API, the relayer's API): a token bucket
 * per client key (the peer's IP address), in a map of bounded size. When the map is full the least recently seen
 * client is forgotten (it starts again with a full bucket), so a flood of new addresses costs bounded memory.
 */

/** Options of {@link RateLimiter}. */
export interface RateLimitOptions {
  /** Requests a client may make at once (bucket size). */
  burst: number;
  /** Requests per minute a client gets back (refill rate). */
  perMinute: number;
  /** Clients remembered at most (default 10 000). */
  maxClients?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** A token-bucket limiter keyed by client. */
export class RateLimiter {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #max: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(opts: RateLimitOptions) {
    this.#burst = opts.burst;
    this.#perMs = opts.perMinute / 60_000;
    this.#max = opts.maxClients ?? 10_000;
  }

  /** Clients currently remembered. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one request from `client`'s bucket.
   * @returns 0 if allowed, else the seconds until the next request would be
   */
  take(client: string, now = Date.now()): number {
    const old = this.#buckets.get(client);
    const tokens = old ? Math.min(this.#burst, old.tokens + (now - old.at) * this.#perMs) : this.#burst;
    // Re-insert, so the map's order is least recently seen first.
    this.#buckets.delete(client);
    if (this.#buckets.size >= this.#max) this.#buckets.delete(this.#buckets.keys().next().value!);
    if (tokens >= 1) {
      this.#buckets.set(client, { tokens: tokens - 1, at: now });
      return 0;
    }
    this.#buckets.set(client, { tokens, at: now });
    return Math.ceil((1 - tokens) / this.#perMs / 1000);
  }
}
