/**
 * The `zkcharge` CLI for real: a Hardhat JSON-RPC server in this process, the CLI run as child
 * processes against it through the whole story (deploy -> register -> meter -> tariff -> driver ->
 * deposit -> session -> pay -> CPO withdraw -> balance -> driver withdraw -> status), then escrowed sessions
 * (start -> lock -> verify -> simulate -> close by the session end; a dispute: lock -> live tails only ->
 * chain advance -> close --tail -> the balance shows the refund; a refund after the claim deadline), plus bad
 * input that must fail with a clear message and leave the state file byte-identical.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { network } from "hardhat";
import type { JsonRpcServer } from "hardhat/types/network";
import { parseState, type CliState } from "../../cli/state.ts";
import { freePort, zkcharge as run, type Run } from "./harness.ts";

/** Runs the CLI as a child process (asynchronously: the JSON-RPC server lives in this event loop). */
const zkcharge = (env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> => run(env, args);

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
    expect(r.stdout)
      .to.match(/0 deployer\s+1 CPO admin/)
      .and.match(/2 payer/)
      .and.match(/3 relayer/);
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
    expect(s1.session!.points).to.have.length(3); // start, 17:00 boundary, end
    expect(s1.amount).to.equal(6_084_850n);
    expect(s1.status).to.equal("unpaid");

    // Bad input: refused before touching the chain or the state.
    await fails(
      /--amount: "1\.2345678" has 7 decimals; the token has only 6/,
      "driver",
      "deposit",
      "--amount",
      "1.2345678",
    );
    await fails(/unknown session "s9" \(known: s1/, "driver", "pay", "--session", "s9");

    // Paying minutes after the deposit that made the note links the two by timing: refused unless accepted.
    await fails(
      /this pay is linkable \(FRESH_DEPOSIT; see the warnings above\).*--accept-linkable/,
      "driver",
      "pay",
      "--session",
      "s1",
    );
    out = await ok("driver", "pay", "--session", "s1", "--accept-linkable");
    expect(out).to.match(/privacy warning FRESH_DEPOSIT: note #0 was created by the deposit/);
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
    await fails(
      /balance 13\.91515 EUR is less than the withdrawal 100\.00 EUR/,
      "driver",
      "withdraw",
      "--to",
      fresh,
      "--amount",
      "100",
    );

    out = await ok("driver", "withdraw", "--to", fresh, "--amount", "10.00", "--fee", "0.05", "--accept-linkable");
    expect(out).to.match(/via the relayer 0x[0-9a-fA-F]{40} \(fee 0\.05 EUR\)/);
    const token = new Contract(
      deployed.addresses.token,
      ["function balanceOf(address) view returns (uint256)"],
      provider,
    );
    expect(await token.getFunction("balanceOf")(fresh)).to.equal(10_000_000n);
    out = await ok("driver", "balance");
    expect(out).to.match(/Driver balance: 3\.86515 EUR/);

    out = await ok("status");
    expect(out)
      .to.match(/CPO 1: .*earnings 0\.00 EUR/)
      .and.match(/session s1: 16:30-17:40, 12\.833 kWh, 6\.08485 EUR, paid/);
    expect(readdirSync(dir)).to.deep.equal(["state.json"]);
  });

  it("settles an escrowed session: start -> lock -> verify -> charge -> close with the session end", async () => {
    let out = await ok("driver", "deposit", "--amount", "40.00");
    expect(out).to.match(/driver's private balance: 43\.86515 EUR/);
    out = await ok("session", "start", "--from", "21:30");
    expect(out).to.match(/Session s2 started on meter m1: plug-in \d{4}-\d\d-\d\d 21:30 local/);
    expect(state().sessions[1]!.status).to.equal("started");

    // Bad input, refused before any proof or transaction; the state stays byte-identical.
    await fails(
      /--claim-hours: the pool requires at least 24 hours/,
      "driver",
      "lock",
      "--session",
      "s2",
      "--cap",
      "15.00",
      "--claim-hours",
      "12",
    );
    await fails(/session s1 was not begun with `session start`/, "driver", "lock", "--session", "s1", "--cap", "15.00");
    await fails(/unknown escrow "e1" \(known: none/, "cpo", "verify-escrow", "--escrow", "e1");

    out = await ok("driver", "lock", "--session", "s2", "--cap", "15.00", "--accept-linkable");
    expect(out).to.match(
      /Escrow e1 locked for session s2: cap 15\.00 EUR, via the relayer 0x[0-9a-fA-F]{40} \(fee 0\.02 EUR\)/,
    );
    expect(out).to.match(/settle deadline \d{4}-\d\d-\d\d 23:30, claim deadline \d{4}-\d\d-\d\d 23:30 \(local\)/);
    expect(out).to.match(/relayer submitted lock: tx 0x[0-9a-f]{64}/);
    expect(out).to.match(/driver's private balance: 28\.84515 EUR \(\+ 15\.00 EUR in escrow\)/);
    expect(state().escrows).to.have.length(1);
    expect(state().escrows![0]!.status).to.equal("open");

    out = await ok("cpo", "verify-escrow", "--escrow", "e1");
    expect(out)
      .to.match(/Escrow e1 OK for session s2: switch the charger on/)
      .and.match(/cap 15\.00 EUR >= 10\.00 EUR required/);
    await fails(
      /caps at 15\.00 EUR, below the required 20\.00 EUR/,
      "cpo",
      "verify-escrow",
      "--escrow",
      "e1",
      "--min-cap",
      "20",
    );
    await fails(/session s2 has not ended/, "cpo", "close", "--escrow", "e1");

    out = await ok("session", "simulate", "--session", "s2", "--minutes", "50", "--power-w", "11000");
    expect(out).to.match(/Session s2 ended: 21:30-22:20 local, 9\.166 kWh, bill 4\.1748 EUR/);
    out = await ok("cpo", "close", "--escrow", "e1");
    expect(out).to.match(/22:00-22:20 band 3 @ 0\.30 EUR\/kWh/);
    expect(out).to.match(/charged 4\.1748 EUR of the 15\.00 EUR cap, refund 10\.8252 EUR/);
    expect(out).to.match(/CPO submitted close: tx 0x[0-9a-f]{64}/);
    expect(state().escrows![0]).to.include({ status: "closed", charged: 4_174_800n, closeMode: "final" });
    expect(state().sessions[1]!.status).to.equal("paid");
    await fails(/session s2 is already paid/, "driver", "pay", "--session", "s2");
    await fails(/escrow e1 is already closed/, "cpo", "close", "--escrow", "e1");
  });

  it("closes a disputed escrow from the last live tail after the settle deadline; the refund reaches the wallet", async () => {
    await ok("session", "start", "--from", "06:40");
    let out = await ok("driver", "lock", "--session", "s3", "--cap", "15.00", "--accept-linkable");
    expect(out).to.match(/Escrow e2 locked for session s3/);
    out = await ok("cpo", "verify-escrow", "--escrow", "e2");
    expect(out).to.match(/Escrow e2 OK/);
    out = await ok("session", "simulate", "--session", "s3", "--minutes", "45", "--power-w", "11000", "--keep-open");
    expect(out).to.match(
      /Session s3 charging, not ended: 06:40-07:25 local, 8\.250 kWh so far, bill so far 3\.29426 EUR/,
    );
    expect(out).to.match(/8 live tail\(s\) signed, the last at 07:25/);
    expect(state().sessions[2]!.session).to.equal(undefined);

    // Too early for a tail: the error names the dev command that moves the clock.
    const before = readFileSync(statePath);
    const early = await zkcharge(env, "cpo", "close", "--escrow", "e2", "--tail", "--state", statePath);
    expect(early.code).to.equal(1);
    const hint = /a live tail closes only after the settle deadline .* `zkcharge chain advance --minutes (\d+)`/.exec(
      early.stderr,
    );
    expect(hint, early.stderr).to.not.equal(null);
    expect(readFileSync(statePath).equals(before)).to.equal(true);

    out = await ok("chain", "advance", "--minutes", hint![1]!);
    expect(out).to.match(/Chain time advanced by \d+ min with evm_increaseTime \+ evm_mine \(DEV CHAINS ONLY\)/);
    out = await ok("cpo", "close", "--escrow", "e2", "--tail");
    expect(out).to.match(/from the last live tail/);
    expect(out).to.match(/07:00-07:25 band 1 @ 0\.39 EUR\/kWh: 4\.584 kWh .* \(live tail interval\)/);
    expect(out).to.match(/charged 3\.29426 EUR of the 15\.00 EUR cap, refund 11\.70574 EUR/);
    expect(state().escrows![1]).to.include({ status: "closed", charged: 3_294_260n, closeMode: "tail" });

    // 3.86515 + change 9.96 + refunds 10.8252 and 11.70574.
    out = await ok("driver", "balance");
    expect(out).to.match(/Driver balance: 36\.35609 EUR in 4 note/);
    expect(out).to.match(
      /escrow e1 \(session s2\): closed by the session end, charged 4\.1748 EUR of 15\.00 EUR, refund 10\.8252 EUR back in the wallet/,
    );
    expect(out).to.match(
      /escrow e2 \(session s3\): closed from a live tail, charged 3\.29426 EUR of 15\.00 EUR, refund 11\.70574 EUR back in the wallet/,
    );
    out = await ok("status");
    expect(out).to.match(
      /session s3: started 06:40, last reading 07:25, 8\.250 kWh, paid 3\.29426 EUR from a live tail/,
    );
    expect(out).to.match(
      /escrow e2 \(session s3\): closed from a live tail, charged 3\.29426 EUR of 15\.00 EUR \[on chain: Closed\]/,
    );
  });

  it("refunds an escrow nobody closed, only after its claim deadline", async () => {
    await ok("session", "start", "--from", "12:00");
    await ok("driver", "lock", "--session", "s4", "--cap", "5.00", "--claim-hours", "24", "--accept-linkable");
    const before = readFileSync(statePath);
    const early = await zkcharge(env, "driver", "refund", "--escrow", "e3", "--state", statePath);
    expect(early.code).to.equal(1);
    const hint = /refunds only after its claim deadline .* `zkcharge chain advance --minutes (\d+)`/.exec(early.stderr);
    expect(hint, early.stderr).to.not.equal(null);
    expect(readFileSync(statePath).equals(before)).to.equal(true);
    await ok("chain", "advance", "--minutes", hint![1]!);
    // The session ended, but nobody closed in time: too late for the CPO now.
    await ok("session", "simulate", "--session", "s4", "--minutes", "10", "--power-w", "11000");
    await fails(/the claim deadline .* has passed .* can only be refunded/, "cpo", "close", "--escrow", "e3");
    const out = await ok("driver", "refund", "--escrow", "e3");
    expect(out).to.match(/Escrow e3 refunded: 5\.00 EUR back to the driver/);
    expect(out).to.match(/driver's private balance: 36\.33609 EUR/);
    expect(state().escrows![2]!.status).to.equal("refunded");
  });
});
