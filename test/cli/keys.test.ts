/**
 * Keys at rest through the CLI, against real nodes started by this test on 127.0.0.1: a Hardhat JSON-RPC server (chain
 * 31337, a dev chain) and Foundry's anvil run as chain 11155111 (not a dev chain). `key new / import / address /
 * wallet / check` write and open key files (refusing to overwrite one, and asking for the variable to set when there
 * is no passphrase and no terminal); on the dev chain the node's unlocked accounts still sign and a role given a
 * keystore signs with it; on the other chain a role without a keystore is refused by name, keystore roles deploy
 * and register, and the plaintext state file refuses the driver's and meters' secrets, sending nothing.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonRpcProvider, Wallet, parseEther } from "ethers";
import { parseState, type CliState } from "../../cli/state.ts";
import { ROOT, freePort, startNode, zkcharge as run, type Run } from "./harness.ts";

const PASS = "test passphrase";
const FAST = ["--scrypt-log-n", "10"]; // a cheap scrypt: tests only
const SEPOLIA = 11155111n;

/** The environment without any zkcharge key, passphrase or chain setting of the developer's shell. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^ZKCHARGE_(PASSPHRASE|KEYSTORE_|DEV_CHAINS|PRIVATE_KEY|RPC|TIMEOUT)/.test(k),
    ),
  );
  return { ...env, ...extra };
}

/** The anvil binary of the installed @foundry-rs/anvil package (run directly, so that its PID is the node's). */
function anvilBinary(): string | undefined {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const bin = join(ROOT, "node_modules", "@foundry-rs", `anvil-${process.platform}-${arch}`, "bin", "anvil");
  return existsSync(bin) ? bin : undefined;
}

/** Waits (at most 100 tries, 10 s) until `rpc` answers eth_chainId; returns the chain id or undefined. */
async function waitForNode(rpc: string, child: ChildProcess): Promise<bigint | undefined> {
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    try {
      const r = await fetch(rpc, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        signal: AbortSignal.timeout(1000),
      });
      return BigInt(((await r.json()) as { result: string }).result);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return undefined;
}

/** Runs the CLI with `input` on its standard input (the harness closes it). */
function zkchargeWithInput(env: NodeJS.ProcessEnv, args: string[], input: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tsx = join(ROOT, "node_modules", ".bin", "tsx");
    const child = spawn(tsx, [join(ROOT, "cli", "zkcharge.ts"), ...args], {
      cwd: ROOT,
      env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 120_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.end(input);
  });
}

describe("zkcharge keys: keystores, role signers, plaintext state on dev chains only", function () {
  this.timeout(300_000);
  let dir: string;
  let hardhat: { rpc: string; close: () => Promise<void> };
  let anvil: ChildProcess | undefined;
  let anvilRpc: string | undefined;
  const providers: JsonRpcProvider[] = [];

  const path = (name: string) => join(dir, name);
  const state = (file: string): CliState => parseState(readFileSync(file, "utf8"));
  /** A run that must succeed; returns stdout. */
  async function ok(env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
    const r = await run(env, args);
    expect(r.code, `zkcharge ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`).to.equal(0);
    return r.stdout;
  }
  /** A run that must fail with exit code 1 and `pattern` in its error, leaving `unchanged` (if given) byte-identical. */
  async function fails(env: NodeJS.ProcessEnv, pattern: RegExp, args: string[], unchanged?: string): Promise<string> {
    const before = unchanged && existsSync(unchanged) ? readFileSync(unchanged) : undefined;
    const r = await run(env, args);
    expect(r.code, `zkcharge ${args.join(" ")} should fail:\n${r.stdout}\n${r.stderr}`).to.equal(1);
    expect(r.stderr).to.match(/^zkcharge: error: /);
    expect(r.stderr).to.match(pattern);
    if (unchanged) {
      if (before) expect(readFileSync(unchanged).equals(before), `${unchanged} changed`).to.equal(true);
      else expect(existsSync(unchanged), `${unchanged} was created`).to.equal(false);
    }
    return r.stderr;
  }
  /** Sends 100 ETH from the node's first unlocked account to each address. */
  async function fund(rpc: string, ...addresses: string[]): Promise<void> {
    const provider = new JsonRpcProvider(rpc, undefined, { staticNetwork: true });
    providers.push(provider);
    const bank = await provider.getSigner(0);
    for (const to of addresses) await (await bank.sendTransaction({ to, value: parseEther("100") })).wait();
  }
  /** Creates a keystore with `key new`; returns its address. */
  async function newKeystore(name: string): Promise<string> {
    const out = await ok(cleanEnv({ ZKCHARGE_PASSPHRASE: PASS }), "key", "new", "--out", path(name), ...FAST);
    return /address (0x[0-9a-fA-F]{40})/.exec(out)![1]!;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "zkcharge-keys-cli-"));
    hardhat = await startNode();
    const bin = anvilBinary();
    if (bin) {
      const port = await freePort();
      anvil = spawn(bin, ["--chain-id", String(SEPOLIA), "--port", String(port), "--host", "127.0.0.1"], {
        stdio: "ignore",
        detached: true,
      });
      anvil.once("error", () => {});
      anvilRpc = `http://127.0.0.1:${port}`;
      if ((await waitForNode(anvilRpc, anvil)) !== SEPOLIA) anvilRpc = undefined;
    }
  });

  after(async () => {
    for (const p of providers) p.destroy();
    if (anvil?.pid && anvil.exitCode === null) {
      try {
        process.kill(-anvil.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await hardhat?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // `key ...` commands split across the tests below share these files.
  let cpoAddress: string;

  it("key new / import / address / wallet / check: files 0600, never overwritten, passphrase required", async () => {
    const env = cleanEnv({ ZKCHARGE_PASSPHRASE: PASS });
    cpoAddress = await newKeystore("cpo.json");
    expect(statSync(path("cpo.json")).mode & 0o777).to.equal(0o600);
    expect((await ok(cleanEnv(), "key", "address", path("cpo.json"))).trim()).to.equal(cpoAddress);
    await fails(
      env,
      /cpo\.json already exists: refusing to overwrite a key/,
      ["key", "new", "--out", path("cpo.json"), ...FAST],
      path("cpo.json"),
    );
    // No passphrase variable and no terminal (standard input closed): the variable to set, exit 1, no file.
    await fails(
      cleanEnv(),
      /no passphrase for the new keystore .*: set ZKCHARGE_PASSPHRASE \(there is no terminal/,
      ["key", "new", "--out", path("x.json"), ...FAST],
      path("x.json"),
    );

    const key = "0x" + "4c".repeat(32);
    const expected = new Wallet(key).address;
    const fromEnv = await ok(
      cleanEnv({ ZKCHARGE_PASSPHRASE: PASS, ZKCHARGE_PRIVATE_KEY: key }),
      "key",
      "import",
      "--out",
      path("imported.json"),
      ...FAST,
    );
    expect(fromEnv).to.contain(`address ${expected}`);
    const piped = await zkchargeWithInput(env, ["key", "import", "--out", path("piped.json"), ...FAST], `${key}\n`);
    expect(piped.code, piped.stderr).to.equal(0);
    expect(piped.stdout).to.contain(`address ${expected}`);
    await fails(
      env,
      /no private key: pipe it on standard input or set ZKCHARGE_PRIVATE_KEY/,
      ["key", "import", "--out", path("none.json"), ...FAST],
      path("none.json"),
    );
    const bad = await zkchargeWithInput(env, ["key", "import", "--out", path("bad.json"), ...FAST], "0x1234\n");
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/a private key is 32 bytes: 0x and 64 hex digits/);
    expect(existsSync(path("bad.json"))).to.equal(false);

    expect(await ok(env, "key", "check", path("cpo.json"))).to.contain(`account ${cpoAddress}`);
    await fails(cleanEnv({ ZKCHARGE_PASSPHRASE: "not it" }), /keystore .*cpo\.json: wrong passphrase/, [
      "key",
      "check",
      path("cpo.json"),
    ]);
    writeFileSync(path("cut.json"), readFileSync(path("cpo.json"), "utf8").slice(0, 200));
    await fails(env, /cut\.json: not JSON, truncated or damaged/, ["key", "check", path("cut.json")]);

    expect(await ok(env, "key", "wallet", "--out", path("driver.json"), ...FAST)).to.match(/Driver wallet written/);
    expect(await ok(env, "key", "check", path("driver.json"))).to.match(/opens: driver identity commitment/);
    await fails(cleanEnv({ ZKCHARGE_PASSPHRASE: "not it" }), /wallet file .*driver\.json: wrong passphrase/, [
      "key",
      "check",
      path("driver.json"),
    ]);
  });

  it("on the dev chain: the unlocked accounts still sign, and a role with a keystore signs with it", async () => {
    const statePath = path("dev-state.json");
    const env = cleanEnv({ ZKCHARGE_RPC: hardhat.rpc });
    const s = ["--state", statePath];
    await ok(env, "deploy", ...s);
    const text = readFileSync(statePath, "utf8");
    expect(text).to.match(
      /^\{\n {2}"notice": "zkcharge dev state: holds the driver's identity secret and meter keys IN PLAINTEXT; for dev chains only/,
    );
    await fund(hardhat.rpc, cpoAddress);
    const withCpo = cleanEnv({ ZKCHARGE_RPC: hardhat.rpc, ZKCHARGE_KEYSTORE_CPO: path("cpo.json") });
    await fails(
      { ...withCpo, ZKCHARGE_PASSPHRASE_CPO: "not it" },
      /keystore .*cpo\.json: wrong passphrase/,
      ["cpo", "register", ...s],
      statePath,
    );
    await ok({ ...withCpo, ZKCHARGE_PASSPHRASE_CPO: PASS }, "cpo", "register", ...s);
    const registered = state(statePath);
    expect(registered.cpo!.admin).to.equal(cpoAddress);
    const provider = new JsonRpcProvider(hardhat.rpc, undefined, { staticNetwork: true });
    providers.push(provider);
    expect((await provider.getTransaction(registered.cpo!.tx))!.from).to.equal(cpoAddress);
    const unlocked = ((await provider.send("eth_accounts", [])) as string[]).map((a) => a.toLowerCase());
    expect(unlocked).not.to.include(cpoAddress.toLowerCase());
    // The option form, and the plaintext secrets a dev chain's state may hold.
    await ok(
      cleanEnv({ ZKCHARGE_RPC: hardhat.rpc, ZKCHARGE_PASSPHRASE: PASS }),
      "--keystore",
      `cpo=${path("cpo.json")}`,
      "meter",
      "add",
      "--power-w",
      "22000",
      ...s,
    );
    expect((await provider.getTransaction(state(statePath).meters[0]!.addedTx))!.from).to.equal(cpoAddress);
    await ok(env, "driver", "new", ...s);
    expect(state(statePath).driver).to.not.equal(undefined);
    // The CPO's other commands sign with the same keystore.
    await ok({ ...withCpo, ZKCHARGE_PASSPHRASE: PASS }, "tariff", "publish", ...s);
  });

  it("on a chain that is not a dev chain (anvil, 11155111): keystores or a refusal naming the role, no plaintext secrets", async function () {
    if (!anvilRpc) {
      console.log("      (skipped: anvil from @foundry-rs/anvil could not start on 127.0.0.1)");
      this.skip();
    }
    const rpc = anvilRpc!;
    const statePath = path("sepolia-state.json");
    const s = ["--state", statePath];
    const bare = cleanEnv({ ZKCHARGE_RPC: rpc, ZKCHARGE_PASSPHRASE: PASS });
    await fails(
      bare,
      /the deployer has no keystore, and chain 11155111 is not a dev chain \(dev chains: 31337, 1337; .*pass --keystore deployer=<path> or set ZKCHARGE_KEYSTORE_DEPLOYER=<path>/,
      ["deploy", ...s],
      statePath,
    );
    const [deployer, payer, relayer] = [
      await newKeystore("deployer.json"),
      await newKeystore("payer.json"),
      await newKeystore("relayer.json"),
    ];
    await fund(rpc, deployer, payer, relayer, cpoAddress);
    const roles = {
      ...bare,
      ZKCHARGE_KEYSTORE_DEPLOYER: path("deployer.json"),
      ZKCHARGE_KEYSTORE_PAYER: path("payer.json"),
      ZKCHARGE_KEYSTORE_RELAYER: path("relayer.json"),
    };
    await fails(
      { ...roles, ZKCHARGE_KEYSTORE_PAYER: undefined },
      /the payer has no keystore/,
      ["deploy", ...s],
      statePath,
    );
    const out = await ok(roles, "deploy", ...s);
    expect(out).to.contain(`(chain ${SEPOLIA}) from ${deployer}`);
    const provider = new JsonRpcProvider(rpc, undefined, { staticNetwork: true });
    providers.push(provider);
    expect(await provider.getTransactionCount(deployer)).to.be.greaterThan(5);
    expect(state(statePath).chainId).to.equal(SEPOLIA);

    await fails(
      roles,
      /the CPO admin has no keystore, and chain 11155111 is not a dev chain.*ZKCHARGE_KEYSTORE_CPO=<path>/,
      ["cpo", "register", ...s],
      statePath,
    );
    const withCpo = { ...roles, ZKCHARGE_KEYSTORE_CPO: path("cpo.json") };
    await ok(withCpo, "cpo", "register", ...s);
    expect(state(statePath).cpo!.admin).to.equal(cpoAddress);
    const nonce = await provider.getTransactionCount(cpoAddress);
    await fails(
      withCpo,
      /refusing to write meter private keys in plaintext to the state file: chain 11155111 is not a dev chain/,
      ["meter", "add", "--power-w", "22000", ...s],
      statePath,
    );
    expect(await provider.getTransactionCount(cpoAddress), "meter add sent nothing").to.equal(nonce);
    await fails(
      withCpo,
      /refusing to write the driver's identity secret in plaintext.*key wallet --out driver\.json/,
      ["driver", "new", ...s],
      statePath,
    );
    // The dev-chain list is configuration: declared a dev chain, the same chain may hold plaintext secrets again.
    await ok({ ...withCpo, ZKCHARGE_DEV_CHAINS: `31337,${SEPOLIA}` }, "driver", "new", ...s);
    expect(state(statePath).driver).to.not.equal(undefined);
  });
});
