/**
 * The station's admin API as the CPO dashboard reads it (station/admin.ts): the station's CPO, its chargers, the
 * sessions with their escrows, readings, bills and closes. Every request carries the operator's admin token as a
 * bearer token; the token lives in this page's memory only (never in `zkcharge.json`, never stored).
 */
import { isHttpUrl } from "./stationLink.ts";

/** A problem talking to the admin API, in plain words. */
export class AdminApiError extends Error {}

/** A charger the station serves. */
export interface AdminCharger {
  id: string;
  connected: boolean;
  /** The last OCPP status it reported (`Available`, `Occupied`...), if any. */
  status: string | null;
  ratedPowerW: string;
}

/** A session's escrow, as the station checked it on-chain before starting the charger. */
export interface AdminEscrow {
  escrowId: string;
  cap: string;
  settleDeadline: string;
  claimDeadline: string;
}

/** A session's close: who proved it, and how far its transaction got. */
export interface AdminClose {
  by: "driver" | "station";
  mode: 0 | 1;
  state: "submitting" | "confirmed" | "failed";
  txHash?: string;
  amount?: string;
  refund?: string;
  error?: string;
}

/** A session in the station's list. */
export interface AdminSessionSummary {
  sessionId: string;
  chargerId: string;
  state: "requested" | "open" | "ended" | "rejected";
  requestedAt: number;
  stoppedBy?: string;
  escrow?: AdminEscrow;
  readings: number;
  startedAt?: string;
  lastAt?: string;
  energyWh?: string;
  close?: AdminClose;
}

/** A stored signed reading: its time (unix s) and energy register (Wh). */
export interface AdminReading {
  seqNo: number;
  eventType: string;
  kind: string;
  k: number;
  t: string;
  e: string;
}

/** A session with every reading and the running bill of its stored readings. */
export interface AdminSession {
  sessionId: string;
  chargerId: string;
  state: AdminSessionSummary["state"];
  /** The tariff fixed at plug-in, as `tariffToJson` writes it. */
  tariff: unknown;
  escrow?: AdminEscrow;
  readings: AdminReading[];
  bill?: string;
  close?: AdminClose;
}

/** A client of one station's admin API. */
export class AdminClient {
  readonly url: string;
  readonly #token: string;

  /** @param url the admin API's base URL, e.g. `http://127.0.0.1:9100`; @param token the operator's admin token */
  constructor(url: string, token: string) {
    if (!isHttpUrl(url)) throw new AdminApiError(`"${url}" is not an http(s) URL.`);
    if (token.trim() === "") throw new AdminApiError("Enter the station's admin token.");
    this.url = url.replace(/\/+$/, "");
    this.#token = token.trim();
  }

  /** A request to the admin API (GET by default) with the token; its JSON answer, or an error in plain words. */
  async #get<T>(path: string, method: "GET" | "POST" = "GET"): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers: { authorization: `Bearer ${this.#token}` },
        cache: "no-store",
      });
    } catch {
      throw new AdminApiError(
        `The station's admin API at ${this.url} does not answer (offline, a wrong address, or it does not allow ` +
          "this site's origin: --admin-cors-origins).",
      );
    }
    if (res.status === 401)
      throw new AdminApiError(
        `The station's admin API refused the admin token: it is wrong or missing. Nothing is shown.`,
      );
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new AdminApiError(
        `${this.url}${path} did not answer JSON (HTTP ${res.status}): is it a station's admin API?`,
      );
    }
    if (!res.ok)
      throw new AdminApiError(
        `The station's admin API answered HTTP ${res.status}: ${(body as { error?: string }).error ?? "no reason given"}`,
      );
    return body as T;
  }

  /** The station's CPO (its tariff's) and the tariff's hash. */
  station(): Promise<{ cpoId: string; tariffHash: string }> {
    return this.#get("/admin/station");
  }

  /** The chargers the station serves, connected or not. */
  async chargers(): Promise<AdminCharger[]> {
    return (await this.#get<{ chargers: AdminCharger[] }>("/admin/chargers")).chargers;
  }

  /** The most recent sessions, newest first. */
  async sessions(limit = 50): Promise<AdminSessionSummary[]> {
    return (await this.#get<{ sessions: AdminSessionSummary[] }>(`/admin/sessions?limit=${limit}`)).sessions;
  }

  /**
   * Starts a session on `chargerId` by hand (no escrow: the CPO's own risk, e.g. a service check).
   * @returns the session id and the charger's answer (`Accepted`, or why not)
   */
  startCharger(chargerId: string): Promise<{ sessionId: string; status: string }> {
    return this.#get(`/admin/chargers/${encodeURIComponent(chargerId)}/start`, "POST");
  }

  /** Asks the charger of an open session to stop it; returns the charger's answer. */
  stopSession(sessionId: string): Promise<{ status: string }> {
    return this.#get(`/admin/sessions/${encodeURIComponent(sessionId)}/stop`, "POST");
  }

  /** One session with its readings and bill. */
  session(sessionId: string): Promise<AdminSession> {
    return this.#get(`/admin/sessions/${encodeURIComponent(sessionId)}`);
  }
}
