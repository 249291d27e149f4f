/**
 * One call of a zkcharge JSON HTTP API (the station's driver API, the relayer's API): the request in wire form
 * (wire.ts), a timeout, and the answer checked against its schema, with every failure turned into the caller's
 * typed error (`StationError`, `RelayerError`) whose message names the service and the path.
 */
import type { z } from "zod";
import { apiErrorSchema, describeZodIssue, toWire } from "./wire.ts";

/** What a failed call becomes: `status` 0 when nothing answered. */
export type ApiFailure = (status: number, code: string, message: string) => Error;

/** One request. */
export interface JsonApiCall<S extends z.ZodTypeAny> {
  /** The service's name in messages ("station", "relayer"). */
  service: string;
  /** The service's base URL, for messages. */
  baseUrl: string;
  /** The full URL called. */
  url: string;
  /** The path shown in messages (the part after the service's base URL and API prefix). */
  path: string;
  method: string;
  /** The answer's schema. */
  schema: S;
  /** A JSON body, sent in wire form (bigints as decimal strings). */
  body?: unknown;
  /** A bearer token. */
  token?: string;
  timeoutMs: number;
  fetch: typeof fetch;
  fail: ApiFailure;
  /** How a schema mismatch of the answer is described (default: the first issue, as `path: message`). */
  describe?: (error: z.ZodError) => string;
}

/** Calls the API and returns the parsed answer, or throws `call.fail(...)`. */
export async function callJsonApi<S extends z.ZodTypeAny>(call: JsonApiCall<S>): Promise<z.output<S>> {
  const headers: Record<string, string> = {};
  if (call.body !== undefined) headers["content-type"] = "application/json";
  if (call.token !== undefined) headers.authorization = `Bearer ${call.token}`;
  const where = `${call.service} ${call.baseUrl}${call.path}`;
  let response: Response;
  try {
    response = await call.fetch(call.url, {
      method: call.method,
      headers,
      body: call.body === undefined ? undefined : JSON.stringify(toWire(call.body)),
      signal: AbortSignal.timeout(call.timeoutMs),
    });
  } catch (error) {
    throw call.fail(0, `${call.service.toUpperCase()}_UNREACHABLE`, `${where}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw call.fail(response.status, "BAD_RESPONSE", `${where}: HTTP ${response.status}, not JSON`);
  }
  if (!response.ok) {
    const e = apiErrorSchema.safeParse(json);
    const [code, message] = e.success ? [e.data.error, e.data.message] : [`HTTP_${response.status}`, text];
    throw call.fail(response.status, code, `${call.service} refused ${call.path}: ${message}`);
  }
  const parsed = call.schema.safeParse(json);
  if (!parsed.success) {
    throw call.fail(response.status, "BAD_RESPONSE", `${where}: ${(call.describe ?? describeZodIssue)(parsed.error)}`);
  }
  return parsed.data;
}
