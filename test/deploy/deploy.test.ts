/**
 * `npm run deploy -- --network <name>` (scripts/deploy.ts, Hardhat Ignition) as a real process against a real
 * `hardhat node` and a real `anvil`, both started here on 127.0.0.1: it deploys from configuration alone, records
 * the deployment per chain id, deploys nothing twice, recovers from a dev node reset, takes its deployer from an
 * encrypted keystore off dev chains, and refuses (exit 2, nothing sent) development proving keys on a production
 * chain id, a parameters file of another chain, a missing or wrong keystore, a token that is not there.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Contract, ContractFactory, JsonRpcProvider, Wallet, encryptKeystoreJson } from "ethers";
import {
  Driver,
  DriverIdentity,
  Pool__factory,
  parseDeploymentRecord,
  type DeploymentRecord,
} from "../../sdk/index.ts";
import { runFile, type Run } from "../cli/harness.ts";
import { anvilAvailable, rpcCall, startNodeProcess, type NodeKind, type NodeProcess } from "../../dev/nodes.ts";
import testTokenArtifact from "../../artifacts/contracts/test/TestToken.sol/TestToken.json" with { type: "json" };

const DEPLOY = "scripts/deploy.ts";
const DEV_ACCOUNT = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"; // first unlocked account of both nodes

describe("npm run deploy (Hardhat Ignition) against real nodes", function () {
  this.timeout(600_000);
  let dir: string;
  const nodes: NodeProcess[] = [];

  before(function () {
    dir = mkdtempSync(join(tmpdir(), "zkcharge-deploy-"));
  });
  after(async function () {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(kind: NodeKind, chainId?: number): Promise<NodeProcess> {
    const node = await startNodeProcess(kind, { chainId });
    nodes.push(node);
    return node;
  }
  function deploy(node: NodeProcess, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
    return runFile(
      DEPLOY,
      ["--rpc", node.rpc, "--out", join(dir, `records-${node.pid}`), ...args],
      {
        ...process.env,
        ZKCHARGE_IGNITION_DIR: join(dir, `ignition-${node.pid}`),
        ...env,
      },
      180_000,
    );
  }
  function record(node: NodeProcess): DeploymentRecord {
    const path = join(dir, `records-${node.pid}`, `${node.chainId}.json`);
    return parseDeploymentRecord(readFileSync(path, "utf8"), path, node.chainId);
  }
  const nonce = (node: NodeProcess, who: string) =>
    rpcCall<string>(node.rpc, "eth_getTransactionCount", [who, "latest"]);
  function refused(r: Run, pattern: RegExp): void {
    expect(r.code, `should be refused:\n${r.stdout}\n${r.stderr}`).to.equal(2);
    expect(r.stderr)
      .to.match(/^deploy: /)
      .and.match(pattern);
  }

  for (const kind of ["hardhat", "anvil"] as const) {
    describe(`on a ${kind} node`, function () {
      let node: NodeProcess;
      before(async function () {
        if (kind === "anvil" && !anvilAvailable()) {
          console.log("    anvil is not installed (@foundry-rs/anvil's platform binary): skipped");
          this.skip();
        }
        node = await start(kind);
      });

      it("deploys from config alone, wires the contracts and records the deployment; a re-run sends nothing", async function () {
        const network = kind === "hardhat" ? "localhost" : "anvil";
        const r = await deploy(node, ["--network", network]);
        expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
        expect(r.stdout).to.match(/zkcharge on chain 31337 \(dev/);
        const rec = record(node);
        expect(rec.testToken).to.equal(true);
        expect(rec.insecureProvingKeys).to.equal(true);
        const provider = new JsonRpcProvider(node.rpc, undefined, { staticNetwork: true });
        try {
          for (const a of [
            ...Object.values(rec.addresses).filter((v) => typeof v === "string"),
            ...Object.values(rec.addresses.poseidon),
          ])
            expect(await provider.getCode(a), `code at ${a}`).to.not.equal("0x");
          const pool = Pool__factory.connect(rec.addresses.pool, provider);
          expect(await pool.registry()).to.equal(rec.addresses.registry);
          expect(await pool.token()).to.equal(rec.addresses.token);
          expect(await pool.payVerifier()).to.equal(rec.addresses.payVerifier);
          expect(await pool.closeVerifier()).to.equal(rec.addresses.closeVerifier);
          expect(await provider.getCode(rec.addresses.registry, rec.deploymentBlock - 1)).to.equal("0x");

          // The deployed pool works: a driver deposits (the note tree hashes through the linked Poseidon libraries).
          const payer = await provider.getSigner(DEV_ACCOUNT);
          const token = new Contract(rec.addresses.token, ["function mint(address,uint256)"], payer);
          await (await token.getFunction("mint")(DEV_ACCOUNT, 5_000_000n)).wait();
          const driver = new Driver(DriverIdentity.random(), Pool__factory.connect(rec.addresses.pool, provider));
          await driver.deposit(5_000_000n, payer);
          const notes = await driver.sync();
          expect(notes.map((n) => n.note.value)).to.deep.equal([5_000_000n]);
        } finally {
          provider.destroy();
        }

        const before = await nonce(node, DEV_ACCOUNT);
        const again = await deploy(node, ["--network", network]);
        expect(again.code, `${again.stdout}\n${again.stderr}`).to.equal(0);
        expect(await nonce(node, DEV_ACCOUNT)).to.equal(before);
        expect(record(node).addresses).to.deep.equal(rec.addresses);
      });
    });
  }

  it("after a dev node restarts from genesis, discards the stale journal and deploys afresh", async function () {
    const first = await start("hardhat");
    const env = { ZKCHARGE_IGNITION_DIR: join(dir, "ignition-reset") };
    const r1 = await deploy(first, ["--network", "localhost"], env);
    expect(r1.code, r1.stderr).to.equal(0);
    await first.stop();
    const second = await start("hardhat");
    const r2 = await deploy(second, ["--network", "localhost"], env);
    expect(r2.code, `${r2.stdout}\n${r2.stderr}`).to.equal(0);
    expect(r2.stdout).to.match(/dev chain was reset: discarding the stale Ignition journal/);
    const provider = new JsonRpcProvider(second.rpc, undefined, { staticNetwork: true });
    try {
      expect(await provider.getCode(record(second).addresses.pool)).to.not.equal("0x");
    } finally {
      provider.destroy();
    }
  });

  describe("on a production chain id (anvil as chain 8453)", function () {
    let node: NodeProcess;
    let params: string;
    let keystore: string;
    let deployer: Wallet;
    const PASS = "correct horse battery staple";

    before(async function () {
      if (!anvilAvailable()) this.skip();
      node = await start("anvil", 8453);
      // A 6-decimal token that exists on this chain, and a funded deployer whose key only exists encrypted.
      const provider = new JsonRpcProvider(node.rpc, undefined, { staticNetwork: true });
      try {
        const funder = await provider.getSigner(DEV_ACCOUNT);
        const factory = new ContractFactory(testTokenArtifact.abi, testTokenArtifact.bytecode, funder);
        const token = await (await factory.deploy()).waitForDeployment();
        deployer = Wallet.createRandom() as unknown as Wallet;
        await (await funder.sendTransaction({ to: deployer.address, value: 10n ** 20n })).wait();
        params = join(dir, "base.json");
        writeFileSync(
          params,
          JSON.stringify({ $global: { chainId: 8453 }, Zkcharge: { token: await token.getAddress() } }),
        );
        keystore = join(dir, "deployer.json");
        writeFileSync(
          keystore,
          await encryptKeystoreJson({ address: deployer.address, privateKey: deployer.privateKey }, PASS, {
            scrypt: { N: 1 << 10 },
          }),
        );
      } finally {
        provider.destroy();
      }
    });

    const blockNumber = () => rpcCall<string>(node.rpc, "eth_blockNumber");

    it("refuses development proving keys, the test token, a wrong chain's parameters; sends nothing", async function () {
      const head = await blockNumber();
      refused(
        await deploy(node, ["--network", "base", "--parameters", params]),
        /insecure development proving keys.*8453/,
      );
      refused(
        await deploy(node, ["--network", "localhost", "--allow-insecure-keys"]),
        /parameters file .*localhost\.json is for chain 31337, but localhost is chain 8453: nothing was sent/,
      );
      const noToken = join(dir, "no-token.json");
      writeFileSync(noToken, JSON.stringify({ $global: { chainId: 8453 } }));
      refused(
        await deploy(node, ["--network", "base", "--parameters", noToken, "--allow-insecure-keys"]),
        /set Zkcharge\.token .*test token is for dev and test chains only/,
      );
      const ghost = join(dir, "ghost-token.json");
      writeFileSync(ghost, JSON.stringify({ $global: { chainId: 8453 }, Zkcharge: { token: `0x${"11".repeat(20)}` } }));
      refused(
        await deploy(node, ["--network", "base", "--parameters", ghost, "--allow-insecure-keys"]),
        /token 0x1111111111111111111111111111111111111111 has no code on chain 8453/,
      );
      expect(await blockNumber()).to.equal(head);
    });

    it("takes the deployer from an encrypted keystore: missing, wrong passphrase, truncated → refused", async function () {
      // Anvil mines only on demand: one confirmation, where a public chain would get the default five.
      const args = ["--network", "base", "--parameters", params, "--allow-insecure-keys", "--confirmations", "1"];
      const head = await blockNumber();
      refused(await deploy(node, args), /no deployer account: .*ZKCHARGE_DEPLOYER_KEYSTORE/);
      refused(
        await deploy(node, args, { ZKCHARGE_DEPLOYER_KEYSTORE: keystore, ZKCHARGE_DEPLOYER_PASSPHRASE: "wrong" }),
        /deployer keystore .*: wrong passphrase/,
      );
      const truncated = join(dir, "truncated.json");
      writeFileSync(truncated, readFileSync(keystore, "utf8").slice(0, 100));
      refused(
        await deploy(node, args, { ZKCHARGE_DEPLOYER_KEYSTORE: truncated, ZKCHARGE_DEPLOYER_PASSPHRASE: PASS }),
        /deployer keystore .*truncated\.json: not JSON, truncated or damaged/,
      );
      expect(await blockNumber()).to.equal(head);

      const r = await deploy(node, args, { ZKCHARGE_DEPLOYER_KEYSTORE: keystore, ZKCHARGE_DEPLOYER_PASSPHRASE: PASS });
      expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
      expect(r.stdout)
        .to.match(/chain 8453 \(production, base\)/)
        .and.match(/WARNING: .*insecure development/);
      const rec = record(node);
      expect(rec.testToken).to.equal(false);
      expect(Number(await nonce(node, deployer.address))).to.be.greaterThan(5);
      expect(Number(await nonce(node, DEV_ACCOUNT))).to.equal(2); // the token and the funding, nothing since
    });
  });
});
