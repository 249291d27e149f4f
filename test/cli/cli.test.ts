/**
 * The `zkcharge` CLI for real: a Hardhat JSON-RPC server in this process, the CLI run as child
 * processes against it through the whole story (deploy -> register -> meter -> tariff -> driver ->
 * deposit -> session -> pay -> CPO withdraw -> balance -> driver withdraw -> status), plus bad input
 * that must fail with a clear message and leave the state file byte-identical.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { network } from "hardhat";
import type { JsonRpcServer } from "hardhat/types/network";
import { parseState, type CliState } from "../../cli/state.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const CLI = join(ROOT, "cli", "zkcharge.ts");

interface Run { code: number | null; stdout: string; stderr: string }

/** Runs the CLI as a child process (asynchronously: the JSON-RPC server lives in this event loop). */
function zkcharge(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CLI, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe("zkcharge CLI against a Hardhat JSON-RPC server", function () {
  this.timeout(240_000);

  let server: JsonRpcServer;
  let dir: string;
  let statePath: string;
  let env: NodeJS.ProcessEnv;
  let provider: JsonRpcProvider;

  /** Runs a command that must succeed; returns its stdout. */
  async function ok(...args: string[]): Promise<string> {
    const r = await zkcharge(env, ...args, "--state", statePath);
    expect(r.code, `zkcharge ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`).to.equal(0);
    return r.stdout;
  }
  /** Runs a command that must fail with exit code 1 and a message matching `pattern`, leaving the state byte-identical. */
  async function fails(pattern: RegExp, ...args: string[]): Promise<void> {
    const before = readFileSync(statePath);
    const r = await zkcharge(env, ...args, "--state", statePath);
    expect(r.code, `zkcharge ${args.join(" ")} should fail:\n${r.stdout}`).to.equal(1);
    expect(r.stderr).to.match(/zkcharge: error: /);
    expect(r.stderr).to.match(pattern);
    expect(readFileSync(statePath).equals(before), "state file changed").to.equal(true);
  }
  const state = (): CliState => parseState(readFileSync(statePath, "utf8"));

  before(async () => {
    server = await network.createServer(undefined, "127.0.0.1", await freePort());
    const { address, port } = await server.listen();
    const rpc = `http://${address}:${port}`;
    dir = mkdtempSync(join(tmpdir(), "zkcharge-cli-"));
    statePath = join(dir, "state.json");
    env = { ...process.env, ZKCHARGE_RPC: rpc };
    provider = new JsonRpcProvider(rpc, undefined, { staticNetwork: true });
  });

  after(async () => {
    provider?.destroy();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("prints help naming the roles and the plaintext secrets", async () => {
    const r = await zkcharge(env, "--help");
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/0 deployer\s+1 CPO admin/).and.match(/2 payer/).and.match(/3 relayer/);
    expect(r.stdout).to.match(/SECRETS IN PLAINTEXT/);
  });

  it("runs the whole story and keeps its state in the JSON file", async () => {
    let out = await ok("deploy");
    expect(out).to.match(/Pool: 0x[0-9a-fA-F]{40}/);
    const deployed = state();
    expect(await provider.getCode(deployed.addresses.pool)).to.not.equal("0x");
    expect(readdirSync(dir)).to.deep.equal(["state.json"]);

    out = await ok("cpo", "register");
    expect(out).to.match(/CPO registered: cpoId 1/);
    out = await ok("meter", "add", "--power-w", "22000");
    expect(out).to.match(/Meter m1 added: 22 kW/);
    out = await ok("tariff", "publish");
    expect(out).to.match(/band 2: 17:00-22:00 {2}0\.45 EUR\/kWh/);
    await ok("driver", "new");
    expect(state().driver?.secret).to.be.a("string");
    out = await ok("driver", "deposit", "--amount", "20.00");
    expect(out).to.match(/driver's private balance: 20\.00 EUR/);

    out = await ok("session", "simulate", "--from", "16:30", "--minutes", "70", "--power-w", "11000");
    expect(out).to.match(/Session s1 on meter m1: 16:30-17:40 local .* 12\.833 kWh, bill 6\.08485 EUR/);
    const s1 = state().sessions[0]!;
    expect(s1.session.points).to.have.length(3); // start, 17:00 boundary, end
    expect(s1.amount).to.equal(6_084_850n);
    expect(s1.status).to.equal("unpaid");

    // Bad input: refused before touching the chain or the state.
    await fails(/--amount: "1\.2345678" has 7 decimals; the token has only 6/, "driver", "deposit", "--amount", "1.2345678");
    await fails(/unknown session "s9" \(known: s1/, "driver", "pay", "--session", "s9");

    out = await ok("driver", "pay", "--session", "s1");
    expect(out).to.match(/17:00-17:40 band 2 @ 0\.45 EUR\/kWh/);
    expect(out).to.match(/proof: witness \d+ ms \+ prove \d+ ms/);
    expect(out).to.match(/CPO submitted it, 6\.08485 EUR paid: tx 0x[0-9a-f]{64}/);
    expect(out).to.match(/driver's private balance: 13\.91515 EUR/);
    expect(state().sessions[0]!.status).to.equal("paid");
    await fails(/session s1 is already paid/, "driver", "pay", "--session", "s1");

    out = await ok("cpo", "withdraw");
    expect(out).to.match(/CPO withdrew 6\.08485 EUR/);
    out = await ok("driver", "balance");
    expect(out).to.match(/Driver balance: 13\.91515 EUR in 1 note/);

    // A chain-side failure (not enough in the wallet) also leaves the state alone.
    const fresh = Wallet.createRandom().address;
    await fails(/balance 13\.91515 EUR is less than the withdrawal 100\.00 EUR/, "driver", "withdraw", "--to", fresh, "--amount", "100");

    out = await ok("driver", "withdraw", "--to", fresh, "--amount", "10.00", "--fee", "0.05");
    expect(out).to.match(/via the relayer 0x[0-9a-fA-F]{40} \(fee 0\.05 EUR\)/);
    const token = new Contract(deployed.addresses.token, ["function balanceOf(address) view returns (uint256)"], provider);
    expect(await token.getFunction("balanceOf")(fresh)).to.equal(10_000_000n);
    out = await ok("driver", "balance");
    expect(out).to.match(/Driver balance: 3\.86515 EUR/);

    out = await ok("status");
    expect(out).to.match(/CPO 1: .*earnings 0\.00 EUR/).and.match(/session s1: 16:30-17:40, 12\.833 kWh, 6\.08485 EUR, paid/);
    expect(readdirSync(dir)).to.deep.equal(["state.json"]);
  });
});
