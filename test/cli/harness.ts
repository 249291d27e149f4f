/**
 * What the CLI tests share: the CLI run as a child process, a Hardhat JSON-RPC server on 127.0.0.1, and a
 * JSON-RPC proxy in front of it that stops answering on cue (to play an endpoint that dies mid-command).
 */
import { spawn } from "node:child_process";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { network } from "hardhat";
import { freePort } from "../../dev/nodes.ts";

export { freePort };

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const CLI = join(ROOT, "cli", "zkcharge.ts");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time, ms. */
  ms: number;
}

/**
 * Runs the CLI as a child process (asynchronously: a JSON-RPC server in this process keeps serving). A child still
 * running after `killAfterMs` is killed (SIGKILL) and reported with code null: the test then fails on the code.
 */
export function zkcharge(env: NodeJS.ProcessEnv, args: string[], killAfterMs = 600_000): Promise<Run> {
  return runFile(CLI, args, env, killAfterMs);
}

/** Runs the TypeScript file `file` with tsx (see {@link zkcharge}). */
export function runFile(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  killAfterMs = 600_000,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    // Its own process group: tsx runs the program in a child process, and a hung run is killed as a whole.
    const child = spawn(TSX, [file, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const killer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, killAfterMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** A Hardhat JSON-RPC server (a fresh chain, automine) on 127.0.0.1. */
export async function startNode(): Promise<{ rpc: string; close: () => Promise<void> }> {
  const server = await network.createServer(undefined, "127.0.0.1", await freePort());
  const { address, port } = await server.listen();
  return { rpc: `http://${address}:${port}`, close: () => server.close() };
}

const SENDS = new Set(["eth_sendTransaction", "eth_sendRawTransaction"]);

/**
 * A JSON-RPC proxy on 127.0.0.1 that forwards to `target` until told to {@link dieAfterSend}: then it answers the
 * next transaction send (so the transaction is really sent and mined) and from then on answers nothing: every
 * later request is held open with no response, like an endpoint that died behind a load balancer.
 */
export class DyingProxy {
  readonly target: string;
  #server = createHttpServer((req, res) => void this.#handle(req, res));
  #sockets = new Set<Socket>();
  #dieAfterSend = false;
  #dead = false;
  #refuse = false;
  /** Transaction hashes the proxy forwarded (the node's answers to eth_sendTransaction / eth_sendRawTransaction). */
  readonly sent: string[] = [];
  url = "";

  constructor(target: string) {
    this.target = target;
    this.#server.on("connection", (s) => {
      this.#sockets.add(s);
      s.once("close", () => this.#sockets.delete(s));
    });
  }

  async listen(): Promise<string> {
    const port = await freePort();
    await new Promise<void>((resolve) => this.#server.listen(port, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  /**
   * From the next transaction send on, go silent (after forwarding that send and its answer); with `refuse`, stop
   * listening instead, so that later connections are refused (a node that was killed).
   */
  dieAfterSend(how: "silent" | "refuse" = "silent"): void {
    this.#dieAfterSend = true;
    this.#refuse = how === "refuse";
  }

  /** Answer again. */
  revive(): void {
    this.#dieAfterSend = false;
    this.#dead = false;
  }

  get dead(): boolean {
    return this.#dead;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#dead) return; // hold the request: no answer, ever
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const response = await fetch(this.target, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const text = await response.text();
    const calls = ([] as { method?: string }[]).concat(JSON.parse(body) as { method?: string });
    if (calls.some((c) => SENDS.has(c.method ?? ""))) {
      for (const r of ([] as { result?: unknown }[]).concat(JSON.parse(text) as { result?: unknown })) {
        if (typeof r.result === "string") this.sent.push(r.result);
      }
      if (this.#dieAfterSend) this.#dead = true;
    }
    res.writeHead(response.status, { "content-type": "application/json" });
    res.end(text, () => {
      if (this.#dead && this.#refuse) void this.close();
    });
  }

  /** Stops listening and drops every held connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
  #closed = false;
}
