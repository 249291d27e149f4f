/**
 * The deployment and the chain: `deploy`, `status`, the dev-chain clock (`chain advance`) and what became of a
 * transaction (`chain tx`).
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Option, type Command } from "commander";
import { Contract, type ContractTransactionResponse } from "ethers";
import {
  chainKind,
  parseDeploymentRecord,
  DriverIdentity,
  EscrowStatus,
  ZkchargeError,
  decodeRevert,
  formatAmount,
  readEscrow,
} from "../../sdk/index.ts";
import { deployZkcharge } from "../../dev/deploy.ts";
import { defineCommand, runs } from "../context.ts";
import { CliError } from "../errors.ts";
import { describeEscrow, detail, kwh, localClock, localDate, say, short, txLine, tzText } from "../format.ts";
import { tariffOfEscrow, walletOf } from "../lookup.ts";
import { option, required, txHashArg, wholeArg } from "../options.ts";
import { attach, chainTime, connect, tokenBalance } from "../rpc.ts";
import { STATE_VERSION, type CliState } from "../state.ts";

const PAYER_FUNDS = 1_000_000_000n; // 1000 tEUR minted to the payer on deploy
const HEADING = "Deployment and dev chain:";

export function registerChainCommands(root: Command): void {
  runs<{ force?: boolean }>(
    defineCommand(
      root,
      "deploy",
      "deploy Poseidon, the test token, verifiers, Registry and Pool; mint 1000 tEUR to the payer account",
    )
      .helpGroup(HEADING)
      .addOption(new Option("--force", "start a new state, replacing the one in --state (its secrets are lost)")),
    async (ctx, state, o) => {
      if (state && !o.force) {
        throw new CliError(
          `${ctx.statePath} already holds a deployment (pool ${state.addresses.pool} on chain ${state.chainId}): ` +
            "pass --force to deploy afresh and replace it (its secrets are lost), or use another --state",
        );
      }
      // Every transaction goes through our own bounded provider (the deploying signer's); Hardhat only links the
      // compiled artifacts (and reads, with the same time-out).
      const chain = await connect(ctx);
      const [deployer, payer] = [await chain.signer(0), await chain.signer(2)];
      await chain.signer(3); // all four roles exist
      const { network } = await import("hardhat");
      const connection = await network.create({
        network: "localhost",
        override: { url: ctx.rpc, timeout: ctx.watch.timeoutMs },
      });
      try {
        say(`Deploying to ${ctx.rpc} (chain ${chain.chainId}) from ${deployer.address}`);
        const deployment = await deployZkcharge(connection.ethers, { signer: deployer, log: (m) => detail(m) });
        const mint = (await (await deployment.testToken!.mint(payer.address, PAYER_FUNDS)).wait())!;
        txLine(`minted ${formatAmount(PAYER_FUNDS)} to the payer ${payer.address}`, mint);
        const a = deployment.addresses;
        say(`Deployed; state written to ${ctx.statePath}`);
        return freshState(a.chainId, new Date().toISOString(), a);
      } catch (error) {
        throw deployFailure(ctx.rpc, error);
      } finally {
        chain.provider.destroy();
        await connection.close().catch(() => {}); // a dead endpoint must not turn the real error into another one
      }
    },
    { reconcile: false },
  );

  runs<{ deployment?: string; force?: boolean }>(
    defineCommand(
      root,
      "attach",
      "start a state on an existing deployment (the record `npm run deploy` wrote): deployments/<chainId>.json",
    )
      .helpGroup(HEADING)
      .addOption(new Option("--deployment <file>", "the deployment record (default deployments/<chainId>.json)"))
      .addOption(new Option("--force", "start a new state, replacing the one in --state (its secrets are lost)")),
    async (ctx, state, o) => {
      if (state && !o.force) {
        throw new CliError(
          `${ctx.statePath} already holds a deployment (pool ${state.addresses.pool} on chain ${state.chainId}): ` +
            "pass --force to replace it (its secrets are lost), or use another --state",
        );
      }
      const chain = await connect(ctx);
      try {
        const path = resolve(
          o.deployment ?? `${process.env.ZKCHARGE_DEPLOYMENTS ?? "deployments"}/${chain.chainId}.json`,
        );
        if (!existsSync(path)) {
          throw new CliError(
            `no deployment record ${path} for chain ${chain.chainId}: deploy with \`npm run deploy -- --network <name>\`, ` +
              "or pass --deployment",
          );
        }
        let record;
        try {
          record = parseDeploymentRecord(readFileSync(path, "utf8"), path, chain.chainId);
        } catch (error) {
          throw new CliError((error as Error).message);
        }
        const a = record.addresses;
        if ((await chain.provider.getCode(a.pool)) === "0x") {
          throw new CliError(
            `deployment record ${path}: no contract at the pool ${a.pool} on ${ctx.rpc} (was the node restarted?)`,
          );
        }
        say(`Attached to zkcharge on chain ${record.chainId} (${chainKind(chain.chainId)}): pool ${a.pool}`);
        detail(`deployed from block ${record.deploymentBlock} by ${path}`);
        if (record.insecureProvingKeys) detail("verifiers of insecure development proving keys (dev and test chains)");
        if (record.testToken && chainKind(chain.chainId) === "dev") {
          const payer = await chain.signer(2);
          // The dev token's `mint` is open to anyone (contracts/test/TestToken.sol): a faucet for the payer.
          const token = new Contract(a.token, ["function mint(address,uint256)"], payer);
          const mint = (await (
            (await token.getFunction("mint")(payer.address, PAYER_FUNDS)) as ContractTransactionResponse
          ).wait())!;
          txLine(`minted ${formatAmount(PAYER_FUNDS)} to the payer ${payer.address}`, mint);
        }
        say(`State written to ${ctx.statePath}`);
        return freshState(chain.chainId, record.deployedAt, a, record.deploymentBlock);
      } finally {
        chain.provider.destroy();
      }
    },
    { reconcile: false },
  );

  runs<object>(
    defineCommand(
      root,
      "status",
      "addresses, CPO, meters, tariffs, driver, sessions and escrows, with their state on chain",
    ).helpGroup(HEADING),
    async (ctx, state) => {
      if (!state) {
        say(`No deployment in ${ctx.statePath}: run \`zkcharge deploy\``);
        return undefined;
      }
      const d = await attach(ctx, state);
      const block = await d.provider.getBlock("latest");
      say(`zkcharge on ${ctx.rpc}: chain ${state.chainId}, block ${block!.number}, state ${ctx.statePath}`);
      detail(`Pool ${state.addresses.pool}, Registry ${state.addresses.registry}, token ${state.addresses.token}`);
      detail(`pool holds ${formatAmount(await tokenBalance(d, state.addresses.pool))}`);
      if (state.cpo) {
        const earnings = await d.pool.cpoBalance(state.cpo.cpoId);
        say(
          `CPO ${state.cpo.cpoId}: admin ${state.cpo.admin}, earnings ${formatAmount(earnings)}, ` +
            `payout ${state.cpo.payout} holds ${formatAmount(await tokenBalance(d, state.cpo.payout))}`,
        );
      } else say("CPO: not registered");
      for (const m of state.meters)
        detail(
          `meter ${m.id}: ${Number(m.ratedPowerW) / 1000} kW, ${m.revoked ? "revoked" : "active"}, leaf ${short(m.leaf)}`,
        );
      for (const t of state.tariffs)
        detail(
          `tariff ${short(t.hash)}: ${tzText(t.tariff.tzOffset)}, ${t.tariff.energyPrice.map((p) => formatAmount(p, "")).join("/")} EUR/kWh`,
        );
      if (state.driver) {
        const driver = walletOf(state, DriverIdentity.fromSecret(state.driver.secret), d);
        await driver.sync();
        const open = driver.escrows.filter((e) => e.status === EscrowStatus.Open);
        say(
          `Driver: ${formatAmount(driver.balance)} in ${driver.notes.filter((n) => n.note.value > 0n).length} note(s)` +
            (driver.escrows.length
              ? `, ${driver.escrows.length} escrow(s) in events (${open.length} open, ` +
                `${formatAmount(open.reduce((sum, e) => sum + e.cap, 0n))} locked)`
              : ""),
        );
      } else say("Driver: none");
      for (const s of state.sessions) {
        if (s.session) {
          const t = s.session.tariff;
          const pts = s.session.points;
          detail(
            `session ${s.id}: ${localClock(pts[0]!.t, t)}-${localClock(pts.at(-1)!.t, t)}, ${kwh(pts.at(-1)!.e - pts[0]!.e)}, ` +
              `${formatAmount(s.amount ?? 0n)}, ${s.status}${s.payTx ? ` (tx ${short(s.payTx)})` : ""}`,
          );
        } else if (s.live) {
          const t = s.live.tariff;
          const last = s.live.readings.at(-1) ?? s.live.start;
          const how = s.status === "paid" ? `paid ${formatAmount(s.amount ?? 0n)} from a live tail` : "not ended";
          detail(
            `session ${s.id}: started ${localClock(s.live.start.t, t)}, last reading ${localClock(last.t, t)}, ` +
              `${kwh(last.e - s.live.start.e)}, ${how}${s.payTx ? ` (tx ${short(s.payTx)})` : ""}`,
          );
        }
      }
      if (state.escrows?.length) {
        const now = await chainTime(d.provider);
        for (const e of state.escrows) {
          const tariff = tariffOfEscrow(state, e);
          const chainStatus = EscrowStatus[(await readEscrow(d.pool, e.escrowId)).status];
          detail(`escrow ${e.id} (session ${e.sessionRef}): ${describeEscrow(e, tariff)} [on chain: ${chainStatus}]`);
        }
        const tariff = state.tariffs.at(-1)?.tariff;
        if (tariff) detail(`chain time ${localDate(now, tariff)} local`);
      }
      return undefined;
    },
  );

  runs<{ minutes: bigint }>(
    defineCommand(
      root,
      "chain advance",
      "DEV CHAINS ONLY: move the node's clock forward (evm_increaseTime + evm_mine), e.g. past a settle deadline",
    )
      .helpGroup(HEADING)
      .addOption(required(option("--minutes <n>", "how far, in minutes", wholeArg(365n * 24n * 60n)), "130")),
    async (ctx, state, o) => {
      const chain = await connect(ctx);
      // Raw calls: the provider caches identical requests briefly, and the clock moves between these two.
      const now = async () =>
        BigInt(
          ((await chain.provider.send("eth_getBlockByNumber", ["latest", false])) as { timestamp: string }).timestamp,
        );
      try {
        const before = await now();
        try {
          await chain.provider.send("evm_increaseTime", [Number(o.minutes * 60n)]);
          await chain.provider.send("evm_mine", []);
        } catch (error) {
          throw new CliError(
            `${ctx.rpc} refused evm_increaseTime / evm_mine (${(error as Error).message.split("\n")[0]}): dev chains only`,
          );
        }
        const after = await now();
        const tariff = state?.tariffs.at(-1)?.tariff;
        const show = (t: bigint) =>
          tariff ? `${localDate(t, tariff)} local` : new Date(Number(t) * 1000).toISOString();
        say(
          `Chain time advanced by ${o.minutes} min with evm_increaseTime + evm_mine (DEV CHAINS ONLY): ${show(before)} -> ${show(after)}`,
        );
      } finally {
        chain.provider.destroy();
      }
      return undefined;
    },
    { reconcile: false },
  );

  runs<{ hash: string }>(
    defineCommand(
      root,
      "chain tx",
      "what became of a transaction (e.g. one a timed-out command sent): mined, pending or unknown to the node",
    )
      .helpGroup(HEADING)
      .addOption(required(option("--hash <0x...>", "the transaction hash", txHashArg), "0x...")),
    async (ctx, _state, o) => {
      const chain = await connect(ctx);
      try {
        const [tx, receipt] = await Promise.all([
          chain.provider.getTransaction(o.hash),
          chain.provider.getTransactionReceipt(o.hash),
        ]);
        if (receipt) {
          const block = await chain.provider.getBlock(receipt.blockNumber);
          say(`Transaction ${o.hash}: mined, ${receipt.status === 1 ? "succeeded" : "REVERTED"}`);
          detail(
            `block ${receipt.blockNumber} (${new Date((block?.timestamp ?? 0) * 1000).toISOString()}), gas ${receipt.gasUsed.toLocaleString("en-US")}, from ${receipt.from}`,
          );
          if (receipt.status === 1)
            detail("the next command reconciles the state file with it (e.g. `zkcharge status`)");
        } else if (tx) {
          say(`Transaction ${o.hash}: pending (the node has it, not mined yet): wait and ask again`);
        } else {
          say(
            `Transaction ${o.hash}: unknown to the node at ${ctx.rpc}: it never arrived (or the node was restarted); nothing happened on chain`,
          );
        }
      } finally {
        chain.provider.destroy();
      }
      return undefined;
    },
    { reconcile: false },
  );
}

/** A new state on a deployment: its contracts, nothing registered yet. */
function freshState(chainId: bigint, deployedAt: string, a: CliState["addresses"], deploymentBlock?: number): CliState {
  const { token, registry, pool, payVerifier, transactVerifier } = a;
  return {
    version: STATE_VERSION,
    chainId,
    deployedAt,
    ...(deploymentBlock === undefined ? {} : { deploymentBlock }),
    addresses: { token, registry, pool, payVerifier, transactVerifier },
    meters: [],
    tariffs: [],
    sessions: [],
  };
}

/** A deployment that failed on a Hardhat or network error, as one line (Hardhat's errors carry pages of stack). */
function deployFailure(rpc: string, error: unknown): unknown {
  if (error instanceof CliError || error instanceof ZkchargeError || decodeRevert(error)) return error;
  // ethers' shortMessage, not its message: that one carries the whole signed transaction of a keystore signer.
  const e = error as { shortMessage?: string; message?: string };
  const message = (e?.shortMessage ?? e?.message ?? String(error)).split("\n")[0]!.replace(/^HHE\d+: /, "");
  return new CliError(
    `deploying to ${rpc} failed: ${message}. Nothing was written to the state file; ` +
      "when the node answers again, deploy afresh (`deploy`, or `deploy --force` over an existing state)",
  );
}
