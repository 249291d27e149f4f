/**
 * What the relayer tests (and bench/relayer.ts) share: a real `hardhat node` process and the relayer process, each
 * started on 127.0.0.1 in its own process group and killed by its PID; a keystore for the relayer's account; and
 * a JSON-RPC proxy that swallows transaction broadcasts (a node that dies the moment a transaction is sent).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { encryptKeystoreJsonSync, type Wallet, type HDNodeWallet } from "ethers";
import { ROOT, freePort } from "../cli/harness.ts";

const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const RELAYER = join(ROOT, "relayer", "main.ts");

/** A child process in its own process group, with its output so far. */
export class Child {
  readonly process: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<number | null>;

  constructor(file: string, args: string[], env: NodeJS.ProcessEnv) {
    this.process = spawn(file, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    this.process.stdout!.on("data", (d: Buffer) => (this.stdout += d.toString()));
    this.process.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.process.once("exit", (code) => resolve(code)));
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Kills the process group (tsx and hardhat run the program in a child) by the PID, and waits for the exit. */
  async kill(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-this.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Waits (at most `ms`) for `pattern` in stdout; returns the match. */
  async waitFor(pattern: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const m = this.stdout.match(pattern);
      if (m) return m;
      if (this.process.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `no ${pattern} in the output in ${ms} ms (exit ${this.process.exitCode}):\n${this.stdout}\n${this.stderr}`,
    );
  }
}

/** Writes `wallet` as an encrypted JSON keystore (light scrypt, to keep tests quick) to `file`. */
export function writeKeystore(file: string, wallet: Wallet | HDNodeWallet, passphrase: string): void {
  const json = encryptKeystoreJsonSync({ address: wallet.address, privateKey: wallet.privateKey }, passphrase, {
    scrypt: { N: 1 << 12 },
  });
  writeFileSync(file, json);
}

/** Starts the relayer process (`relayer/main.ts`) with `args`, on port 0; returns once it listens. */
export async function startRelayerProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; child: Child }> {
  const child = new Child(TSX, [RELAYER, "--host", "127.0.0.1", "--port", "0", ...args], env);
  try {
    const m = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    return { url: m[1]!, child };
  } catch (error) {
    await child.kill("SIGKILL");
    throw error;
  }
}

/** Runs the relayer process to its exit (for start-up failures). */
export async function runRelayerProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = new Child(TSX, [RELAYER, ...args], env);
  const timer = setTimeout(() => void child.kill("SIGKILL"), 120_000);
  const code = await child.exited;
  clearTimeout(timer);
  return { code, stdout: child.stdout, stderr: child.stderr };
}

/**
 * A JSON-RPC proxy on 127.0.0.1 forwarding to `target`, except `eth_sendRawTransaction`: that request is held,
 * never forwarded and never answered (the relayer's broadcast is lost with the relayer).
 */
export class SwallowingProxy {
  readonly target: string;
  readonly swallowed: string[] = [];
  #server = createServer((req, res) => void this.#handle(req, res));
  #sockets = new Set<Socket>();
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

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const calls = ([] as { method?: string; params?: unknown[] }[]).concat(JSON.parse(body) as { method?: string });
    const send = calls.find((c) => c.method === "eth_sendRawTransaction");
    if (send) {
      this.swallowed.push(String(send.params?.[0]));
      return; // held open: no answer, ever
    }
    const response = await fetch(this.target, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    res.writeHead(response.status, { "content-type": "application/json" });
    res.end(await response.text());
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
