/**
 * The relayer for real: a `hardhat node` process and the relayer process (relayer/main.ts), both on 127.0.0.1,
 * started here and killed by PID; the SDK's RelayerClient over HTTP; real proofs (seven). A driver withdraws, locks
 * and pays through the relayer without holding ETH or sending a transaction; every cheat is refused with its reason
 * before anything is sent (the relayer's nonce does not move); the same proof twice is one job and one transaction;
 * a stuck transaction is re-sent with higher fees at the same nonce; a flood is answered 429 while /details keeps
 * answering; a relayer killed after storing a signed transaction it never got to broadcast sends exactly that
 * transaction after a restart; a wrong passphrase stops it at start-up.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonRpcProvider, Wallet } from "ethers";
import { network } from "hardhat";
import { Driver, transactRelayRequest, type Transaction } from "../../sdk/actors/driver.ts";
import { RelayerClient, RelayerError } from "../../sdk/actors/relayerClient.ts";
import { toWire, type RelayRequest, type SignedQuote } from "../../sdk/actors/relayerApi.ts";
import { EscrowStatus, readEscrow } from "../../sdk/actors/escrow.ts";
import { extDataHash } from "../../sdk/core/hash.ts";
import { DriverIdentity } from "../../sdk/core/identity.ts";
import { Note } from "../../sdk/core/note.ts";
import { NoteTree } from "../../sdk/core/tree.ts";
import { proveTransact } from "../../sdk/proofs/transact.ts";
import { dummyInput } from "../../sdk/proofs/transactInput.ts";
import { shutdownProver } from "../../prover/index.ts";
import type { Pool } from "../../types/ethers-contracts/index.js";
import { signQuote } from "../../relayer/fees.ts";
import { PASSPHRASE_ENV } from "../../relayer/key.ts";
import { DAY, chargeSession, freshNonces, setUpNetwork, type Network } from "../fixtures/chain.ts";
import { SwallowingProxy, runRelayerProcess, startRelayerProcess, writeKeystore, type Child } from "./harness.ts";
import { startNodeProcess, type NodeProcess } from "../../dev/nodes.ts";

const PASSPHRASE = "correct horse battery staple";

describe("relayer service (hardhat node + relayer process over HTTP)", function () {
  this.timeout(600_000);

  let node: NodeProcess;
  let relayerProcess: { url: string; child: Child } | undefined;
  let connection: Awaited<ReturnType<typeof network.create>>;
  let net: Network;
  let provider: JsonRpcProvider;
  let pool: Pool;
  let poolAddress: string;
  let chainId: bigint;
  let dir: string;
  let keystore: string;
  let db: string;
  let key: Wallet;
  let client: RelayerClient;
  let env: NodeJS.ProcessEnv;
  /** A withdrawal proved for the relayer, never relayed until the restart test. */
  let held: RelayRequest;

  const relayerArgs = (rpc: string) => [
    "--rpc",
    rpc,
    "--pool",
    poolAddress,
    "--keystore",
    keystore,
    "--db",
    db,
    "--bump-after",
    "1",
    "--rate-burst",
    "40",
    "--rate-per-minute",
    "600",
    // A dev chain's gas price is L1-like (gwei): price ETH low so that fees stay in cents.
    "--token-per-eth",
    "10000000",
  ];
  const nonce = () => provider.getTransactionCount(key.address, "latest");
  const pendingNonce = () => provider.getTransactionCount(key.address, "pending");

  /** A driver with `value` deposited by the payer (the driver's own account never exists). */
  async function fundedDriver(value: bigint): Promise<Driver> {
    const driver = new Driver(DriverIdentity.random(), pool);
    await driver.deposit(value, net.signers.payer);
    await driver.sync();
    return driver;
  }

  /** POSTs `body` to /relay and returns the status and the answer. */
  async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const r = await fetch(`${relayerProcess!.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(toWire(body)),
    });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  }

  async function refused(request: unknown, status: number, code: string, message: RegExp): Promise<void> {
    const before = await pendingNonce();
    const r = await post("/relay", request);
    expect(r.status, JSON.stringify(r.json)).to.equal(status);
    expect(r.json.error).to.equal(code);
    expect(r.json.message).to.match(message);
    expect(await pendingNonce(), "the relayer sent something").to.equal(before);
  }

  async function startRelayer(rpc = node.rpc): Promise<void> {
    relayerProcess = await startRelayerProcess(relayerArgs(rpc), env);
    client = new RelayerClient(relayerProcess.url);
  }

  before(async () => {
    node = await startNodeProcess("hardhat");
    connection = await network.create({ network: "localhost", override: { url: node.rpc } });
    net = await setUpNetwork(connection.ethers);
    provider = new JsonRpcProvider(node.rpc, undefined, { staticNetwork: true });
    pool = net.deployment.pool.connect(provider);
    poolAddress = await pool.getAddress();
    chainId = (await provider.getNetwork()).chainId;
    dir = mkdtempSync(join(tmpdir(), "zkcharge-relayer-"));
    keystore = join(dir, "relayer.json");
    db = join(dir, "jobs.db");
    key = new Wallet(Wallet.createRandom().privateKey);
    writeKeystore(keystore, key, PASSPHRASE);
    await (await net.signers.deployer.sendTransaction({ to: key.address, value: 10n ** 19n })).wait();
    env = { ...process.env, [PASSPHRASE_ENV]: PASSPHRASE };
    await startRelayer();
  });

  after(async () => {
    await relayerProcess?.child.kill();
    provider?.destroy();
    await connection?.close();
    await node?.stop();
    await shutdownProver();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("tells its chain, pool, account, operations and fee policy; quotes are signed and short-lived", async () => {
    const details = await client.details();
    expect(details.chainId).to.equal(chainId);
    expect(details.pool).to.equal(poolAddress);
    expect(details.relayer).to.equal(key.address);
    expect(details.operations).to.deep.equal(["transact", "pay", "lock", "close"]);
    expect(details.feePolicy.quoteTtlSeconds).to.equal(60n);
    const quote = await client.quote("transact"); // the client checks the signature is the relayer's
    expect(quote.fee).to.be.greaterThan(details.feePolicy.baseFee);
    expect(Number(quote.expiry) - Date.now() / 1000).to.be.within(50, 61);
    expect((await client.quote("close")).fee).to.equal(0n);
  });

  it("relays a withdrawal end to end: the driver holds no ETH and sends nothing; the same proof twice is one job", async () => {
    const driver = await fundedDriver(5_000_000n);
    const to = Wallet.createRandom().address;
    const nonceBefore = await nonce();
    const { transaction, job } = await driver.withdraw({ to, amount: 2_000_000n }, client);
    expect(job.status).to.equal("mined");
    expect(job.txHashes).to.deep.equal([job.txHash]);
    const receipt = (await provider.getTransactionReceipt(job.txHash!))!;
    expect(receipt.from).to.equal(key.address);
    expect(receipt.to).to.equal(poolAddress);
    expect(await net.deployment.token.balanceOf(to)).to.equal(2_000_000n);
    expect(await provider.getBalance(to)).to.equal(0n);
    expect(await net.deployment.token.balanceOf(key.address)).to.equal(transaction.fee);
    await driver.sync();
    expect(driver.balance).to.equal(5_000_000n - 2_000_000n - transaction.fee);

    // Again (a client retrying, or anyone replaying it): the existing job, no second transaction.
    const again = await client.relay(transactRelayRequest(transaction, await client.quote("transact")));
    expect(again).to.deep.equal({ id: job.id, status: "mined", existing: true });
    expect(await nonce()).to.equal(nonceBefore + 1);
  });

  it("follows a reorganisation: a withdrawal whose block is dropped is broadcast again, the same bytes, mined once", async () => {
    const driver = await fundedDriver(3_000_000n);
    const to = Wallet.createRandom().address;
    const nonceBefore = await nonce();
    const snapshot: string = await provider.send("evm_snapshot", []);
    const { job } = await driver.withdraw({ to, amount: 1_000_000n }, client);
    expect(job.status).to.equal("mined");
    // The block with the withdrawal is dropped and the chain moves on without it (a node does not re-pool it).
    expect(await provider.send("evm_revert", [snapshot])).to.equal(true);
    expect(await net.deployment.token.balanceOf(to)).to.equal(0n);
    await provider.send("evm_mine", []);
    await provider.send("evm_mine", []);
    let receipt = await provider.getTransactionReceipt(job.txHash!);
    for (let i = 0; i < 150 && receipt === null; i++) {
      await new Promise((r) => setTimeout(r, 200));
      receipt = await provider.getTransactionReceipt(job.txHash!);
    }
    expect(receipt, "the relayer did not send the dropped transaction again within 30 s").to.not.equal(null);
    const after = await client.waitForJob(job.id, { timeoutMs: 30_000 });
    expect(after.txHashes).to.deep.equal(job.txHashes); // nothing signed anew
    expect(after.txHash).to.equal(job.txHash);
    expect(after.blockNumber).to.equal(receipt!.blockNumber);
    expect(relayerProcess!.child.stdout).to.match(new RegExp(`job ${job.id}: block \\d+ was reorganised away`));
    expect(await nonce()).to.equal(nonceBefore + 1);
    expect(await net.deployment.token.balanceOf(to)).to.equal(1_000_000n);
  });

  it("refuses a bad proof, a tampered ext data, an expired, foreign or underpaid quote, bad JSON, before sending", async () => {
    const driver = await fundedDriver(4_000_000n);
    const quote = await client.quote("transact");
    const tx = await driver.prepareWithdraw({
      to: Wallet.createRandom().address,
      amount: 1_000_000n,
      relayer: key.address,
      fee: quote.fee,
    });
    held = transactRelayRequest(tx, quote);
    const now = BigInt(Math.floor(Date.now() / 1000));
    const signed = (q: Partial<SignedQuote>, signer = key) =>
      signQuote(signer, { ...quote, ...q }) as Promise<SignedQuote>;

    const forged = structuredClone(held.proof);
    forged.pi_a = [forged.pi_c[0], forged.pi_c[1], forged.pi_c[2]];
    await refused({ ...held, proof: forged }, 400, "INVALID_PROOF", /does not verify/);
    await refused(
      { ...held, extData: { ...held.extData, recipient: Wallet.createRandom().address } },
      400,
      "EXT_DATA_MISMATCH",
      /does not hash to the proof's extDataHash/,
    );
    await refused({ ...held, quote: await signed({ expiry: now - 1n }) }, 400, "QUOTE_EXPIRED", /the quote expired/);
    const stranger = new Wallet(Wallet.createRandom().privateKey);
    await refused(
      { ...held, quote: await signed({}, stranger) },
      400,
      "QUOTE_SIGNATURE",
      new RegExp(`signed by ${stranger.address}.*not by this relayer`),
    );
    await refused(
      { ...held, quote: await signed({ fee: quote.fee + 1n }) },
      400,
      "FEE_BELOW_QUOTE",
      new RegExp(`fee of ${quote.fee}, below the quoted ${quote.fee + 1n}`),
    );
    await refused({ ...held, quote: await signed({ operation: "pay" }) }, 400, "QUOTE_MISMATCH", /for pay/);
    await refused(
      { ...held, extData: { ...held.extData, extAmount: 1_000_000n } },
      400,
      "DEPOSIT_NOT_RELAYED",
      /pulls the tokens from its submitter/,
    );
    await refused(
      { ...held, publicSignals: { ...held.publicSignals, noteRoot: undefined } },
      400,
      "INVALID_REQUEST",
      /publicSignals\.noteRoot: Required/,
    );
    await refused({ ...held, operation: "mint" }, 400, "INVALID_REQUEST", /operation: must be one of/);
    await refused("{not json", 400, "FST_ERR_CTP_INVALID_JSON_BODY", /JSON/);
    await refused({ ...held, padding: "0".repeat(70_000) }, 413, "BODY_TOO_LARGE", /exceeds 65536 bytes/);
    const r = await fetch(`${relayerProcess!.url}/jobs/nope`);
    expect(r.status).to.equal(404);

    // The client names the relayer's reason.
    const err = await client.relay({ ...held, quote: await signed({ expiry: now - 1n }) }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RelayerError);
    expect((err as RelayerError).code).to.equal("QUOTE_EXPIRED");
  });

  it("refuses an unknown root and a spent nullifier with their reasons (nothing sent)", async () => {
    // A note in a tree the pool never had: a valid proof over an unknown root.
    const quote = await client.quote("transact");
    const identity = DriverIdentity.random();
    const note = Note.random(identity.commitment, 1_000_000n);
    const path = new NoteTree([note.commitment]).path(0);
    const change = Note.random(identity.commitment, 500_000n - quote.fee);
    const pad = Note.random(identity.commitment, 0n);
    const ext = {
      recipient: Wallet.createRandom().address,
      relayer: key.address,
      extAmount: -500_000n,
      encryptedOutput1: "0x",
      encryptedOutput2: "0x",
    };
    const proved = await proveTransact({
      secretScalar: identity.secretScalar,
      inputs: [{ note, path }, dummyInput(identity.commitment, path)],
      outputs: [
        { precommitment: change.precommitment, value: change.value },
        { precommitment: pad.precommitment, value: 0n },
      ],
      extAmount: ext.extAmount,
      fee: quote.fee,
      extDataHash: extDataHash({ chainId, pool: poolAddress, ...ext }),
    });
    const unknown: RelayRequest = {
      operation: "transact",
      proof: proved.proof,
      publicSignals: proved.publicSignals,
      extData: ext,
      fee: quote.fee,
      quote,
    };
    await refused(unknown, 409, "UNKNOWN_ROOT", /not a known recent root/);

    // A withdrawal someone else already submitted on-chain.
    const driver = await fundedDriver(3_000_000n);
    const tx: Transaction = await driver.prepareWithdraw({
      to: Wallet.createRandom().address,
      amount: 1_000_000n,
      relayer: key.address,
      fee: quote.fee,
    });
    await (await pool.connect(net.signers.other).transact(tx.proof, tx.pub, tx.ext, tx.fee)).wait();
    await refused(transactRelayRequest(tx, quote), 409, "NULLIFIER_SPENT", /already spent/);
  });

  it("relays a lock and a payment for the driver (the fee from the quote, the relayer's account in the ext data)", async () => {
    const driver = await fundedDriver(30_000_000n);
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    const settleDeadline = now + 2n * 3600n;
    const nonces = freshNonces();
    const locked = await driver.lock(
      {
        cpoId: net.operator.cpoId,
        cap: 5_000_000n,
        settleDeadline,
        claimDeadline: settleDeadline + 2n * DAY,
        ...nonces,
      },
      client,
    );
    expect(locked.job.status).to.equal("mined");
    expect(locked.locking.ext.relayer).to.equal(key.address);
    const escrow = await readEscrow(pool, locked.escrowId);
    expect(escrow.status).to.equal(EscrowStatus.Open);
    expect(escrow.cap).to.equal(5_000_000n);

    const session = chargeSession(net.meter, net.tariff, now);
    const { payment, job } = await driver.pay(await net.operator.receipt(session), client);
    expect(job.status).to.equal("mined");
    expect(payment.pub.fee).to.be.greaterThan(0n);
    expect(await pool.sessionPaid(net.operator.cpoId, session.sessionId)).to.equal(true);
    expect(await pool.cpoBalance(net.operator.cpoId)).to.equal(payment.pub.amount);
  });

  it("re-sends a stuck transaction with higher fees at the same nonce; exactly one is mined", async () => {
    const driver = await fundedDriver(2_000_000n);
    const quote = await client.quote("transact");
    const tx = await driver.prepareWithdraw({
      to: Wallet.createRandom().address,
      relayer: key.address,
      fee: quote.fee,
    });
    const nonceBefore = await nonce();
    await provider.send("evm_setAutomine", [false]);
    try {
      const { id } = await client.relay(transactRelayRequest(tx, quote));
      let job = await client.job(id);
      for (let i = 0; i < 100 && job.txHashes.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 200));
        job = await client.job(id);
      }
      expect(job.txHashes.length, "no fee bump within 20 s").to.be.at.least(2);
      expect(job.status).to.equal("sent");
    } finally {
      await provider.send("evm_setAutomine", [true]);
      await provider.send("evm_mine", []);
    }
    const { id } = await client.relay(transactRelayRequest(tx, quote)); // the same job
    const job = await client.waitForJob(id, { timeoutMs: 30_000 });
    expect(job.txHashes).to.include(job.txHash);
    const receipts = await Promise.all(job.txHashes.map((h) => provider.getTransactionReceipt(h)));
    expect(receipts.filter((r) => r !== null)).to.have.length(1);
    expect(await nonce()).to.equal(nonceBefore + 1);
  });

  it("answers a browser wallet on another origin (CORS, any origin by default); --cors-origins narrows it", async () => {
    const preflight = (url: string, origin: string) =>
      fetch(`${url}/relay`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
      });
    const wallet = "https://wallet.example";
    const any = await preflight(relayerProcess!.url, wallet);
    expect(any.status).to.equal(204);
    expect(any.headers.get("access-control-allow-origin")).to.equal(wallet);
    expect(any.headers.get("access-control-allow-methods")).to.equal("GET, POST");
    expect(any.headers.get("access-control-allow-headers")).to.equal("content-type");
    expect(any.headers.get("access-control-allow-credentials"), "credentials allowed").to.equal(null);
    const details = await fetch(`${relayerProcess!.url}/details`, { headers: { origin: wallet } });
    expect(details.headers.get("access-control-allow-origin")).to.equal(wallet);

    const args = relayerArgs(node.rpc).map((a) => (a === db ? join(dir, "cors-jobs.db") : a));
    const narrow = await startRelayerProcess([...args, "--cors-origins", wallet], env);
    try {
      expect((await preflight(narrow.url, wallet)).headers.get("access-control-allow-origin")).to.equal(wallet);
      const other = await preflight(narrow.url, "https://other.example");
      expect(other.headers.get("access-control-allow-origin"), "another origin allowed").to.equal(null);
      const quote = () =>
        fetch(`${narrow.url}/quote`, {
          method: "POST",
          headers: { origin: wallet, "content-type": "application/json" },
          body: JSON.stringify({ operation: "transact" }),
        });
      // Preflights take none of the write budget (40 at once here): more of them than that, then a write goes through.
      for (let i = 0; i < 45; i++) expect((await preflight(narrow.url, wallet)).status).to.equal(204);
      expect((await quote()).status, "a write after 45 preflights").to.equal(200);
      // Past the write budget: the browser still reads the 429 and its reason.
      const answers = await Promise.all(Array.from({ length: 50 }, quote));
      const limited = answers.filter((r) => r.status === 429);
      expect(limited.length, "no request was rate-limited").to.be.greaterThan(0);
      expect(limited.every((r) => r.headers.get("access-control-allow-origin") === wallet)).to.equal(true);
    } finally {
      await narrow.child.kill();
    }
  });

  it("answers a flood with 429 and keeps serving /details", async () => {
    const answers = await Promise.all(
      Array.from({ length: 80 }, () => post("/quote", { operation: "transact" }).then((r) => r.status)),
    );
    expect(answers.filter((s) => s === 429).length).to.be.greaterThan(0);
    expect(answers.filter((s) => s === 200).length).to.be.within(1, 45);
    expect((await client.details()).relayer).to.equal(key.address);
    const r = await fetch(`${relayerProcess!.url}/details`);
    expect(r.status).to.equal(200);
  });

  it("killed (SIGKILL) after storing a signed transaction it never broadcast, sends exactly that one after a restart", async () => {
    await relayerProcess!.child.kill("SIGTERM");
    const proxy = new SwallowingProxy(node.rpc);
    await proxy.listen();
    try {
      await startRelayer(proxy.url);
      const nonceBefore = await nonce();
      // The held proof's quote has expired: a fresh one from the relayer's key at the proof's fee.
      const expiry = BigInt(Math.floor(Date.now() / 1000)) + 60n;
      const quote = (await signQuote(key, { ...held.quote, expiry })) as SignedQuote;
      const { id } = await client.relay({ ...held, quote });
      let job = await client.job(id);
      for (let i = 0; i < 100 && job.txHashes.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        job = await client.job(id);
      }
      expect(job.txHashes).to.have.length(1);
      expect(job.status).to.equal("queued"); // signed and stored, the broadcast held by the proxy
      const signedHash = job.txHashes[0]!;
      await relayerProcess!.child.kill("SIGKILL");
      expect(await pendingNonce(), "the broadcast reached the node").to.equal(nonceBefore);

      await startRelayer(node.rpc);
      const done = await client.waitForJob(id, { timeoutMs: 60_000 });
      expect(done.txHash).to.equal(signedHash);
      expect(done.txHashes).to.deep.equal([signedHash]);
      expect(await nonce()).to.equal(nonceBefore + 1);
      // And the proof again: the job, not a second transaction.
      expect((await client.relay(held)).id).to.equal(id);
      expect(await nonce()).to.equal(nonceBefore + 1);
    } finally {
      await proxy.close();
    }
  });

  it("stops at start-up on a wrong passphrase or a truncated keystore, naming the cause", async () => {
    const args = ["--rpc", node.rpc, "--pool", poolAddress, "--db", join(dir, "other.db"), "--port", "0"];
    const wrong = await runRelayerProcess([...args, "--keystore", keystore], { ...env, [PASSPHRASE_ENV]: "wrong" });
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.match(/zkcharge-relayer: error: wrong passphrase for the keystore .*relayer\.json/);
    const truncated = join(dir, "truncated.json");
    writeFileSync(truncated, '{"address":');
    const cut = await runRelayerProcess([...args, "--keystore", truncated], env);
    expect(cut.code).to.equal(1);
    expect(cut.stderr).to.match(/keystore .*: not JSON, truncated or damaged/);
    const none = await runRelayerProcess([...args, "--keystore", keystore], { ...env, [PASSPHRASE_ENV]: "" });
    expect(none.code).to.equal(1);
    expect(none.stderr).to.match(new RegExp(`set ${PASSPHRASE_ENV}`));
  });
});
