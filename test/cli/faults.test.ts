/**
 * The `zkcharge` CLI under faults, as real processes against Hardhat JSON-RPC servers on 127.0.0.1:
 * - an endpoint that dies right after relaying a transaction (a proxy that then answers nothing): `driver pay`,
 *   `driver deposit`, `driver withdraw` and `deploy --force` fail within the time-out, naming the transaction and
 *   how to check it, instead of hanging;
 * - a state file behind the chain (a kill after sending; the state edited back): the next command repairs it from
 *   the chain (paid flags, escrow status, a lost escrow) instead of proving again and failing;
 * - `tariff publish` on a chain whose latest block is over 75 s old;
 * - a contract revert over JSON-RPC shown by its custom error; invalid withdrawal input named; an escrow past its
 *   claim deadline shown as refundable now; linkable spends refused unless --accept-linkable.
 */
import { expect } from "chai";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonRpcProvider, Wallet } from "ethers";
import { parseState, type CliState } from "../../cli/state.ts";
import { DyingProxy, startNode, zkcharge, type Run } from "./harness.ts";

/** The CLI's bound on every wait in these runs (seconds), short so that the test stays short. */
const TIMEOUT_S = 3;
/** A run that takes longer than this hung: it is killed and fails on its exit code. */
const HUNG_MS = 120_000;

describe("zkcharge CLI: crash, RPC and state faults", function () {
  this.timeout(600_000);

  let node: Awaited<ReturnType<typeof startNode>>;
  let idle: Awaited<ReturnType<typeof startNode>>;
  let proxy: DyingProxy;
  let dir: string;
  let statePath: string;
  let idleState: string;
  let direct: NodeJS.ProcessEnv;
  let viaProxy: NodeJS.ProcessEnv;

  const run = (env: NodeJS.ProcessEnv, args: string[], state = statePath): Promise<Run> =>
    zkcharge(env, [...args, "--state", state], HUNG_MS);
  async function ok(args: string[], state = statePath, env = direct): Promise<string> {
    const r = await run(env, args, state);
    expect(r.code, `zkcharge ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`).to.equal(0);
    return r.stdout;
  }
  /** A command that must fail (exit 1, one `zkcharge: error:` line matching `pattern`) leaving the state byte-identical. */
  async function fails(pattern: RegExp, args: string[]): Promise<Run> {
    const before = readFileSync(statePath);
    const r = await run(direct, args);
    expect(r.code, `zkcharge ${args.join(" ")} should fail:\n${r.stdout}\n${r.stderr}`).to.equal(1);
    expect(r.stderr)
      .to.match(/^zkcharge: error: /)
      .and.match(pattern);
    expect(readFileSync(statePath).equals(before), "state file changed").to.equal(true);
    return r;
  }
  /** A run through the dying proxy: it must fail within the time-out, naming the transaction it sent. */
  function expectTimedOut(r: Run, what: RegExp): string {
    expect(r.code, `should fail after the ${TIMEOUT_S} s time-out, not hang:\n${r.stdout}\n${r.stderr}`).to.equal(1);
    const hash = proxy.sent.at(-1)!;
    expect(r.stderr).to.match(/^zkcharge: error: sent transaction 0x[0-9a-f]{64} /);
    expect(r.stderr).to.include(`sent transaction ${hash} (`);
    expect(r.stderr).to.match(what);
    expect(r.stderr).to.include(`no receipt came within ${TIMEOUT_S} s`);
    expect(r.stderr).to.include(`\`zkcharge chain tx --hash ${hash}\``);
    expect(r.stderr.trim().split("\n"), "one line, no stack trace").to.have.length(1);
    return hash;
  }
  const state = (path = statePath): CliState => parseState(readFileSync(path, "utf8"));
  const latestBlockTime = async (rpc: string): Promise<number> => {
    const provider = new JsonRpcProvider(rpc, undefined, { staticNetwork: true });
    try {
      return (await provider.getBlock("latest"))!.timestamp;
    } finally {
      provider.destroy();
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "zkcharge-faults-"));
    statePath = join(dir, "state.json");
    idleState = join(dir, "idle.json");
    // A second chain, left without blocks from here to the tariff test at the end (which waits for what remains of
    // 75 s: by then the tests in between took longer).
    idle = await startNode();
    const idleEnv = { ...process.env, ZKCHARGE_RPC: idle.rpc };
    await ok(["deploy"], idleState, idleEnv);
    await ok(["cpo", "register"], idleState, idleEnv);

    node = await startNode();
    proxy = new DyingProxy(node.rpc);
    direct = { ...process.env, ZKCHARGE_RPC: node.rpc };
    viaProxy = { ...process.env, ZKCHARGE_RPC: await proxy.listen(), ZKCHARGE_TIMEOUT: String(TIMEOUT_S) };
    await ok(["deploy"]);
    await ok(["cpo", "register"]);
    await ok(["meter", "add", "--power-w", "22000"]);
    await ok(["tariff", "publish"]);
    await ok(["driver", "new"]);
    await ok(["driver", "deposit", "--amount", "40.00"]);
  });

  after(async () => {
    await proxy?.close();
    await node?.close();
    await idle?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("driver pay through an endpoint that dies after relaying: fails in time naming the tx; the next command repairs the state", async () => {
    await ok(["session", "simulate", "--from", "16:30", "--minutes", "70", "--power-w", "11000"]);
    proxy.dieAfterSend();
    const r = await run(viaProxy, ["driver", "pay", "--session", "s1", "--accept-linkable"]);
    const hash = expectTimedOut(r, /\(Pool\.pay\) to http:\/\/127\.0\.0\.1:\d+, but no receipt came/);
    // Like a kill right after sending: paid on chain, unpaid in the file.
    expect(state().sessions[0]).to.include({ status: "unpaid" });
    proxy.revive();

    let out = await ok(["chain", "tx", "--hash", hash]);
    expect(out).to.match(new RegExp(`Transaction ${hash}: mined, succeeded`));

    // Re-running repairs from the chain instead of proving again and failing on chain.
    const again = await run(direct, ["driver", "pay", "--session", "s1"]);
    expect(again.stdout).to.match(/State file repaired from the chain/);
    expect(again.stdout).to.include(`session s1: paid on chain (tx ${hash}), the state said unpaid: marked paid`);
    expect(again.stdout).to.not.match(/proof:/);
    expect(again.stderr).to.include(`session s1 is already paid (tx ${hash})`);
    expect(state().sessions[0]).to.include({ status: "paid", payTx: hash, amount: 6_084_850n });

    // The brief's variant: the state edited back to unpaid after a real pay; any command that reads it repairs it.
    writeFileSync(statePath, readFileSync(statePath, "utf8").replace('"status": "paid"', '"status": "unpaid"'));
    out = await ok(["status"]);
    expect(out).to.include(`session s1: paid on chain (tx ${hash}), the state said unpaid: marked paid`);
    expect(out).to.match(/session s1: 16:30-17:40, 12\.833 kWh, 6\.08485 EUR, paid/);
  });

  it("driver deposit and driver withdraw through a dying endpoint: fail in time naming the tx", async () => {
    proxy.dieAfterSend();
    const deposit = await run(viaProxy, ["driver", "deposit", "--amount", "1.00"]);
    const approve = expectTimedOut(deposit, /\(token\.approve\)/); // the first of its two transactions
    proxy.revive();
    expect(await ok(["chain", "tx", "--hash", approve])).to.match(/mined, succeeded/);

    proxy.dieAfterSend();
    const to = Wallet.createRandom().address;
    const withdraw = await run(viaProxy, ["driver", "withdraw", "--to", to, "--amount", "1.00", "--accept-linkable"]);
    const transact = expectTimedOut(withdraw, /\(Pool\.transact\)/);
    proxy.revive();
    expect(await ok(["chain", "tx", "--hash", transact])).to.match(/mined, succeeded/);
    expect(await ok(["driver", "balance"])).to.match(/Driver balance: 32\.89515 EUR/); // 40 - 6.08485 - 1.00 - 0.02
  });

  it("deploy --force through a dying endpoint: one clear error line, no stack trace, no state written", async () => {
    const other = join(dir, "other.json");
    copyFileSync(statePath, other);
    const before = readFileSync(other);
    proxy.dieAfterSend();
    const r = await run(viaProxy, ["deploy", "--force"], other);
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(1);
    expect(r.stderr).to.match(
      /^zkcharge: error: sent transaction 0x[0-9a-f]{64} \(contract creation\) to .* no receipt came within 3 s/,
    );
    expect(r.stderr.trim().split("\n"), "one line, no stack trace").to.have.length(1);
    expect(readFileSync(other).equals(before)).to.equal(true);
    proxy.revive();
  });

  it("deploy --force with the node gone after the first send (connection refused): one clear error line", async () => {
    const other = join(dir, "other.json");
    const gone = new DyingProxy(node.rpc);
    try {
      const env = { ...process.env, ZKCHARGE_RPC: await gone.listen(), ZKCHARGE_TIMEOUT: String(TIMEOUT_S) };
      gone.dieAfterSend("refuse");
      const r = await run(env, ["deploy", "--force"], other);
      expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(1);
      expect(r.stderr)
        .to.include(gone.sent[0]!)
        .and.match(/^zkcharge: error: .*\(contract creation\).*`zkcharge chain tx --hash 0x[0-9a-f]{64}`/);
      expect(r.stderr.trim().split("\n"), "one line, no stack trace").to.have.length(1);
    } finally {
      await gone.close();
    }
  });

  it("repairs escrows from the chain: a lost lock, then its close", async () => {
    await ok(["session", "start", "--from", "21:30"]);
    const beforeLock = readFileSync(statePath, "utf8");
    await ok(["driver", "lock", "--session", "s2", "--cap", "5.00", "--accept-linkable"]);
    await ok(["session", "simulate", "--session", "s2", "--minutes", "20", "--power-w", "11000"]);
    await ok(["cpo", "close", "--escrow", "e1"]);
    const closed = state();

    // The state as a kill right after the lock left it: no escrow, the session started.
    writeFileSync(statePath, beforeLock);
    const out = await ok(["status"]);
    expect(out).to.match(
      /escrow e1: locked on chain for session s2 \(tx 0x[0-9a-f]{64}\), missing from the state: added/,
    );
    expect(out).to.match(
      /escrow e1: closed on chain \(tx 0x[0-9a-f]{64}, charged \d+\.\d+ EUR\), the state said open: marked closed/,
    );
    expect(out).to.match(
      /session s2: paid by an escrow close on chain \(tx 0x[0-9a-f]{64}\), the state said started: marked paid/,
    );
    expect(out).to.match(/escrow e1 \(session s2\): closed by the session end, .* \[on chain: Closed\]/);
    const repaired = state();
    const e1 = closed.escrows![0]!;
    expect(repaired.escrows![0]).to.deep.equal(e1); // the same record `driver lock` + `cpo close` wrote, fee included
    expect(repaired.sessions[1]).to.include({ status: "paid", payTx: e1.closeTx, amount: e1.charged });
  });

  it("refuses invalid withdrawal input naming it; an escrow past its claim deadline is refundable now", async () => {
    const to = Wallet.createRandom().address;
    await fails(
      /--fee 5000\.00 EUR \(withdrawing everything\): relayer fee 5000\.00 EUR is not below the withdrawable balance/,
      ["driver", "withdraw", "--to", to, "--fee", "5000"],
    );
    await fails(/--amount: must be more than 0/, ["driver", "withdraw", "--to", to, "--amount", "0"]);
    await fails(/--amount: /, ["driver", "withdraw", "--to", to, "--amount=-5"]);

    await ok(["session", "start", "--from", "12:00"]);
    await ok(["driver", "lock", "--session", "s3", "--cap", "5.00", "--claim-hours", "24", "--accept-linkable"]);
    expect(await ok(["driver", "balance"])).to.match(
      /escrow e2 \(session s3\): open, 5\.00 EUR locked \(settle by .*, refundable after \d{4}-/,
    );
    await ok(["chain", "advance", "--minutes", String(3 * 24 * 60)]);
    expect(await ok(["driver", "balance"])).to.match(
      /escrow e2 \(session s3\): open, 5\.00 EUR locked \(settle by .*, refundable now: `driver refund --escrow e2`\)/,
    );
  });

  it("refuses a linkable spend unless --accept-linkable, printing the warnings and sending nothing", async () => {
    await ok(["driver", "deposit", "--amount", "60.00"]); // the largest note: the next withdrawal spends it
    const to = Wallet.createRandom().address;
    const block = await latestBlockTime(node.rpc);
    const r = await fails(/this withdrawal is linkable \(FRESH_DEPOSIT\b.*pass --accept-linkable/, [
      "driver",
      "withdraw",
      "--to",
      to,
      "--amount",
      "1.00",
    ]);
    expect(r.stdout).to.match(/privacy warning FRESH_DEPOSIT: note #\d+ was created by the deposit 0 min ago/);
    expect(r.stdout).to.match(/instead: top up or merge well ahead/);
    expect(await latestBlockTime(node.rpc)).to.equal(block); // nothing was mined

    await ok(["session", "start", "--from", "09:00"]);
    const lock = await fails(/this lock is linkable \(.*CUSTOM_ESCROW_TERMS/, [
      "driver",
      "lock",
      "--session",
      "s4",
      "--cap",
      "15.00",
    ]);
    expect(lock.stdout).to.match(/privacy warning CUSTOM_ESCROW_TERMS: the cap 15\.00 EUR is not on the standard menu/);
    const out = await ok(["driver", "withdraw", "--to", to, "--amount", "1.00", "--accept-linkable"]);
    expect(out)
      .to.match(/sending it anyway \(--accept-linkable\)/)
      .and.match(/relayer submitted transact: tx 0x/);
  });

  it("shows a contract revert over JSON-RPC by its custom error", async () => {
    // A second operator on the same deployment (its own state file, no CPO yet) with a zero payout address.
    const other = join(dir, "operator2.json");
    const rest: Partial<CliState> = state();
    delete rest.cpo;
    writeFileSync(other, readFileSync(statePath, "utf8").replace(/,\n {2}"cpo": \{[^}]*\}/, ""));
    expect(state(other)).to.deep.equal(rest);
    const r = await run(direct, ["cpo", "register", "--payout", "0x0000000000000000000000000000000000000000"], other);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^zkcharge: error: registerCpo reverted: Registry__ZeroAddress\(\)\n$/);
  });

  it("tariff publish on a chain whose latest block is over 75 s old", async () => {
    const latest = await latestBlockTime(idle.rpc);
    const wait = latest + 76 - Date.now() / 1000;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait * 1000)); // bounded: at most 76 s
    expect(Date.now() / 1000 - (await latestBlockTime(idle.rpc))).to.be.at.least(75);
    const out = await ok(["tariff", "publish"], idleState, { ...process.env, ZKCHARGE_RPC: idle.rpc });
    expect(out).to.match(/Tariff published: /);
    const { tariff } = state(idleState).tariffs[0]!;
    expect(Number(tariff.validFrom)).to.be.at.least(latest + 75 + 60);
  });
});
