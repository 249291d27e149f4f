/**
 * The whole story on two EVM implementations, each a real process on 127.0.0.1 started here: a `hardhat node` and
 * Foundry's `anvil`. The contracts are deployed from configuration (`npm run deploy`), the CLI attaches to the
 * deployment record, and a driver deposits, pays a session with a real proof (the CPO submits) and withdraws
 * through a relayer service process (npm run relayer, its key in an encrypted keystore); nothing depends on one
 * node's quirks. The gas of each operation is printed per node.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { parseState } from "../../cli/state.ts";
import { formatAmount } from "../../sdk/index.ts";
import { runFile, zkcharge } from "../cli/harness.ts";
import { startRelayerProcess, writeKeystore, type Child } from "../relayer/harness.ts";
import { anvilAvailable, startNodeProcess, type NodeKind, type NodeProcess } from "../../dev/nodes.ts";

const HUNG_MS = 180_000;

for (const kind of ["hardhat", "anvil"] as const satisfies readonly NodeKind[]) {
  describe(`end to end on a ${kind} node process (deploy by config, CLI, real proofs)`, function () {
    this.timeout(900_000);
    let node: NodeProcess;
    let dir: string;
    let env: NodeJS.ProcessEnv;
    let relayer: { url: string; child: Child } | undefined;
    const gas: Record<string, bigint> = {};

    before(async function () {
      if (kind === "anvil" && !anvilAvailable()) {
        console.log("    anvil is not installed (@foundry-rs/anvil's platform binary): skipped");
        this.skip();
      }
      node = await startNodeProcess(kind);
      dir = mkdtempSync(join(tmpdir(), `zkcharge-${kind}-`));
      env = {
        ...process.env,
        ZKCHARGE_RPC: node.rpc,
        ZKCHARGE_DEPLOYMENTS: join(dir, "deployments"),
        ZKCHARGE_IGNITION_DIR: join(dir, "ignition"),
      };
    });
    after(async function () {
      await relayer?.child.kill();
      await node?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
      if (Object.keys(gas).length)
        console.log(
          `    gas on ${kind}: ${Object.entries(gas)
            .map(([op, g]) => `${op} ${g.toLocaleString("en-US")}`)
            .join(", ")}`,
        );
    });

    async function ok(...args: string[]): Promise<string> {
      const r = await zkcharge(env, [...args, "--state", join(dir, "state.json")], HUNG_MS);
      expect(r.code, `zkcharge ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`).to.equal(0);
      return r.stdout;
    }
    /** Records the gas of the transaction whose hash follows `label` in a command's output. */
    async function gasOf(op: string, out: string, label: RegExp): Promise<void> {
      const hash = new RegExp(`${label.source}[\\s\\S]*?(0x[0-9a-f]{64})`).exec(out)?.[1];
      expect(hash, `no transaction for ${op} in:\n${out}`).to.be.a("string");
      const provider = new JsonRpcProvider(node.rpc, undefined, { staticNetwork: true });
      try {
        gas[op] = (await provider.getTransactionReceipt(hash!))!.gasUsed;
      } finally {
        provider.destroy();
      }
    }

    it("deploys by config, attaches, deposits, pays a session and withdraws through a relayer service", async function () {
      const network = kind === "hardhat" ? "localhost" : "anvil";
      const dep = await runFile("scripts/deploy.ts", ["--network", network, "--rpc", node.rpc], env, HUNG_MS);
      expect(dep.code, `${dep.stdout}\n${dep.stderr}`).to.equal(0);

      let out = await ok("attach");
      expect(out)
        .to.match(/Attached to zkcharge on chain 31337 \(dev\)/)
        .and.match(/minted 1000\.00 EUR to the payer/);
      out = await ok("cpo", "register");
      await gasOf("register", out, /CPO registered/);
      out = await ok("meter", "add", "--power-w", "22000");
      await gasOf("addMeter", out, /Meter m1 added/);
      out = await ok("tariff", "publish");
      await gasOf("publishTariff", out, /Tariff/);
      await ok("driver", "new");
      out = await ok("driver", "deposit", "--amount", "20.00");
      await gasOf("deposit", out, /deposit/i);
      out = await ok("session", "simulate", "--from", "16:30", "--minutes", "70", "--power-w", "11000");
      expect(out).to.match(/bill 6\.08485 EUR/);
      out = await ok("driver", "pay", "--session", "s1", "--accept-linkable");
      expect(out).to.match(/CPO submitted it, 6\.08485 EUR paid/);
      await gasOf("pay", out, /CPO submitted it/);
      out = await ok("cpo", "withdraw");
      expect(out).to.match(/CPO withdrew 6\.08485 EUR/);
      // The relayer service: a fresh account, funded with gas money, its key only in an encrypted keystore.
      const relayerKey = Wallet.createRandom();
      const funding = new JsonRpcProvider(node.rpc, undefined, { staticNetwork: true });
      try {
        const funder = await funding.getSigner(0);
        await (await funder.sendTransaction({ to: relayerKey.address, value: 10n ** 19n })).wait();
      } finally {
        funding.destroy();
      }
      writeKeystore(join(dir, "relayer.json"), relayerKey, "relayer passphrase");
      relayer = await startRelayerProcess(
        [
          "--rpc",
          node.rpc,
          "--deployment",
          join(dir, "deployments", "31337.json"),
          "--keystore",
          join(dir, "relayer.json"),
          "--db",
          join(dir, "relayer.db"),
        ],
        { ...process.env, ZKCHARGE_RELAYER_PASSPHRASE: "relayer passphrase" },
      );
      const fresh = Wallet.createRandom().address;
      out = await ok(
        "driver",
        "withdraw",
        "--to",
        fresh,
        "--amount",
        "10.00",
        "--relayer",
        relayer.url,
        "--accept-linkable",
      );
      expect(out).to.match(new RegExp(`via the relayer ${relayerKey.address} at ${relayer.url} \\(fee `));
      await gasOf("withdraw (transact)", out, /relayer submitted transact/);

      let relayerFee: bigint;
      const state = parseState(readFileSync(join(dir, "state.json"), "utf8"));
      const provider = new JsonRpcProvider(node.rpc, undefined, { staticNetwork: true });
      try {
        const token = new Contract(
          state.addresses.token,
          ["function balanceOf(address) view returns (uint256)"],
          provider,
        );
        expect(await token.getFunction("balanceOf")(fresh)).to.equal(10_000_000n);
        relayerFee = (await token.getFunction("balanceOf")(relayerKey.address)) as bigint;
        expect(relayerFee > 0n, "the relayer was paid its fee").to.equal(true);
      } finally {
        provider.destroy();
      }
      // What is left: 20 - 6.08485 paid - 10 withdrawn - the fee the relayer was paid in tokens.
      out = await ok("driver", "balance");
      expect(out).to.include(`Driver balance: ${formatAmount(3_915_150n - relayerFee)} in`);

      // An escrow locked through the service, checked by the CPO before switching on.
      await ok("driver", "deposit", "--amount", "20.00");
      await ok("session", "start", "--from", "21:30");
      out = await ok(
        "driver",
        "lock",
        "--session",
        "s2",
        "--cap",
        "15.00",
        "--relayer",
        relayer.url,
        "--accept-linkable",
      );
      expect(out).to.match(
        new RegExp(`Escrow e1 locked for session s2: cap 15\\.00 EUR, via the relayer ${relayerKey.address} at `),
      );
      await gasOf("lock", out, /relayer submitted lock/);
      out = await ok("cpo", "verify-escrow", "--escrow", "e1");
      expect(out).to.match(/Escrow e1 OK for session s2: switch the charger on/);
    });
  });
}
