/**
 * A cheating station for the wallet's tests: an HTTP + WebSocket proxy on 127.0.0.1 in front of the real station's
 * driver API that passes everything through, except that it rewrites one reading of the live stream (from its
 * seqNo on) with {@link Tamper} (as a CPO whose backend and charger collude would), and can swap the offer's
 * tariff, or refuse every start. The station behind it stays honest: a stop or a close the wallet sends goes through unchanged.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { decodeSignedMeterValue, encodeSignedMeterValue, type LiveRecord } from "../../sdk/index.ts";
import { freePort } from "../cli/harness.ts";

/** How a reading is rewritten. */
export type Tamper = (record: LiveRecord) => LiveRecord;

/** The proxy's behaviour. */
export interface TamperOptions {
  /** Rewrite the first live tail at or after this seqNo. */
  atSeqNo?: number;
  tamper?: Tamper;
  /** Rewrite the offer's tariff JSON. */
  offerTariff?: (tariff: Record<string, unknown>) => Record<string, unknown>;
  /** Answer every start with 503, as a station that went down after the driver locked (the station never hears of it). */
  refuseStart?: boolean;
}

export class TamperProxy {
  readonly target: string;
  readonly options: TamperOptions;
  url = "";
  /** The seqNo of the reading it rewrote, once it did. */
  tampered: number | undefined;
  readonly #server = createServer((req, res) => void this.#http(req, res));
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sockets = new Set<Socket>();

  constructor(target: string, options: TamperOptions) {
    this.target = target.replace(/\/+$/, "");
    this.options = options;
    this.#server.on("connection", (s) => {
      this.#sockets.add(s);
      s.once("close", () => this.#sockets.delete(s));
    });
    this.#server.on("upgrade", (req, socket, head) => {
      this.#wss.handleUpgrade(req, socket as Socket, head, (client) => this.#live(req, client));
    });
  }

  async listen(): Promise<string> {
    const port = await freePort();
    await new Promise<void>((resolve) => this.#server.listen(port, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async #http(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    // A browser wallet's origin and preflight go through, and the station's CORS answer comes back (web tests).
    for (const name of [
      "content-type",
      "authorization",
      "origin",
      "access-control-request-method",
      "access-control-request-headers",
    ])
      if (req.headers[name]) headers[name] = String(req.headers[name]);
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    if (this.options.refuseStart && req.method === "POST" && /\/sessions$/.test(req.url ?? "")) {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "UNAVAILABLE", message: "the station is down for maintenance" }));
      return;
    }
    try {
      const upstream = await fetch(this.target + req.url, { method: req.method, headers, body });
      let text = await upstream.text();
      if (this.options.offerTariff && /\/offer$/.test(req.url ?? "") && upstream.ok) {
        const offer = JSON.parse(text) as { tariff: Record<string, unknown> };
        text = JSON.stringify({ ...offer, tariff: this.options.offerTariff(offer.tariff) });
      }
      const out: Record<string, string> = {};
      for (const [name, value] of upstream.headers) if (/^(access-control-|vary$)/.test(name)) out[name] = value;
      if (upstream.status !== 204) out["content-type"] = upstream.headers.get("content-type") ?? "application/json";
      res.writeHead(upstream.status, out);
      res.end(upstream.status === 204 ? undefined : text);
    } catch (error) {
      res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "PROXY", message: (error as Error).message }));
    }
  }

  #live(req: IncomingMessage, client: WebSocket): void {
    const upstream = new WebSocket(this.target.replace(/^http/, "ws") + req.url);
    upstream.on("message", (data) => {
      let text = String(data);
      const o = this.options;
      const message = JSON.parse(text) as {
        type: string;
        reading?: { seqNo: number; signedMeterValue: Parameters<typeof decodeSignedMeterValue>[0] };
      };
      if (o.tamper && o.atSeqNo !== undefined && message.type === "reading" && this.tampered === undefined) {
        const reading = message.reading!;
        const { record, publicKey } = decodeSignedMeterValue(reading.signedMeterValue);
        if (reading.seqNo >= o.atSeqNo && record.kind === "live") {
          this.tampered = reading.seqNo;
          reading.signedMeterValue = encodeSignedMeterValue(o.tamper(record), publicKey);
          text = JSON.stringify(message);
        }
      }
      if (client.readyState === WebSocket.OPEN) client.send(text);
    });
    upstream.on("close", (code, reason) =>
      client.close(code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? code : 1000, reason),
    );
    upstream.on("error", () => client.terminate());
    client.on("close", () => upstream.close());
  }

  async close(): Promise<void> {
    for (const c of this.#wss.clients) c.terminate();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
