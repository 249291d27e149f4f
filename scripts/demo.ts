/**
 * `npm run demo`: the whole zkcharge story on an in-process Hardhat chain, nothing else to start.
 * A CPO registers, adds a 22 kW meter and publishes a four-band tariff; a driver deposits 20 EUR,
 * charges 16:30-17:40 local across the 17:00 boundary, proves the payment; the CPO checks, submits
 * and withdraws; the driver's wallet is rebuilt from events on a new device and its change leaves
 * through a relayer to a fresh address.
 */
import { network } from "hardhat";
import type { ContractTransactionReceipt } from "ethers";
import { shutdownProver } from "../prover/index.ts";
import { deployZkcharge } from "../sdk/deploy.ts";
import { Driver, submitTransaction } from "../sdk/driver.ts";
import { DriverIdentity } from "../sdk/identity.ts";
import { Meter } from "../sdk/meter.ts";
import { formatAmount } from "../sdk/money.ts";
import { Operator } from "../sdk/operator.ts";
import { clock, timeOfDay, type Tariff } from "../sdk/tariff.ts";
import { chargeSession, demoTariff } from "./lib/localNetwork.ts";

const D = 3_600_000n; // bill divisor: 3600 s/h * 1000 Wh/kWh
const started = Date.now();
let stepNo = 0;
const summary: { step: string; gas: string; proof: string; note: string }[] = [];

function step(title: string): void {
  stepNo += 1;
  console.log(`\n[${stepNo}] ${title}`);
}
function detail(text: string): void {
  console.log(`      ${text}`);
}
function tx(label: string, r: ContractTransactionReceipt | null): bigint {
  if (!r) throw new Error(`${label}: no receipt`);
  detail(`${label}: tx ${r.hash.slice(0, 18)}... block ${r.blockNumber}, gas ${r.gasUsed.toLocaleString("en-US")}`);
  return r.gasUsed;
}
function record(step: string, gas: bigint | null, proofMs: number | null, note: string): void {
  summary.push({
    step,
    gas: gas === null ? "" : gas.toLocaleString("en-US"),
    proof: proofMs === null ? "" : `${(proofMs / 1000).toFixed(1)} s`,
    note,
  });
}
const ms = (x: number) => `${Math.round(x)} ms`;
const kwh = (wh: bigint) => `${wh / 1000n}.${(wh % 1000n).toString().padStart(3, "0")} kWh`;
const hhmm = (t: bigint, tariff: Tariff) => clock(timeOfDay(t, tariff)).slice(0, 5);
/** Exact base units of a numerator part, rounded down for display (the bill rounds once, at the end). */
const money = (numerator: bigint) => formatAmount(numerator / D);

const { ethers } = await network.create();
const [deployer, cpoAdmin, payer, relayer] = await ethers.getSigners();
const provider = ethers.provider;
console.log("zkcharge demo: private EV-charging payments on an in-process Hardhat chain");

try {
  // 1. Deploy.
  step("Deploy: Poseidon libraries, test token (tEUR, 6 decimals), Groth16 verifiers, Registry, Pool");
  const firstBlock = await provider.getBlockNumber();
  const deployment = await deployZkcharge(ethers, { signer: deployer });
  const { registry, pool, token } = deployment;
  const lastBlock = await provider.getBlockNumber();
  let deployGas = 0n;
  for (let b = firstBlock + 1; b <= lastBlock; b++) deployGas += (await provider.getBlock(b))!.gasUsed;
  detail(`Registry ${deployment.addresses.registry}`);
  detail(`Pool     ${deployment.addresses.pool}`);
  detail(`Token    ${deployment.addresses.token} (chain id ${deployment.addresses.chainId})`);
  detail(`${lastBlock - firstBlock} deployment transactions, gas ${deployGas.toLocaleString("en-US")} in all`);
  const mint = await (await deployment.testToken!.mint(await payer!.getAddress(), 1_000_000_000n)).wait();
  tx(`minted ${formatAmount(1_000_000_000n)} to the driver's funding account ${await payer!.getAddress()}`, mint);
  record("deploy", deployGas, null, `${lastBlock - firstBlock} transactions`);

  // 2. CPO registers.
  step("CPO registers in the registry");
  const operator = await Operator.register({ registry, pool, signer: cpoAdmin! });
  const [registered] = await registry.queryFilter(registry.filters.CpoRegistered(operator.cpoId));
  const regGas = tx(`cpoId ${operator.cpoId}, admin and payout ${await cpoAdmin!.getAddress()}`,
    await provider.getTransactionReceipt(registered!.transactionHash) as ContractTransactionReceipt);
  record("CPO registers", regGas, null, `cpoId ${operator.cpoId}`);

  // 3. Meter.
  step("CPO adds a 22 kW meter (EdDSA-Poseidon key, leaf in the CPO's meter tree)");
  const meter = new Meter({ cpoId: operator.cpoId, ratedPowerW: 22_000n });
  const meterGas = tx(`meter leaf ${meter.leaf.toString().slice(0, 16)}...`, await operator.addMeter(meter));
  record("add meter", meterGas, null, "22 kW");

  // 4. Tariff.
  step("CPO publishes a 4-band tariff (immutable, hash recomputed on-chain)");
  const now = BigInt((await provider.getBlock("latest"))!.timestamp);
  const fields = demoTariff(now + 60n);
  const tariffHash = await operator.publishTariff(fields);
  const tariff: Tariff = { ...fields, cpoId: operator.cpoId };
  const [published] = await registry.queryFilter(registry.filters.TariffPublished(operator.cpoId, tariffHash));
  const tariffGas = tx(`tariff ${tariffHash.toString().slice(0, 16)}...`,
    await provider.getTransactionReceipt(published!.transactionHash) as ContractTransactionReceipt);
  const tz = Number(tariff.tzOffset / 60n);
  detail(`local time UTC${tz >= 0 ? "+" : "-"}${String(Math.floor(Math.abs(tz) / 60)).padStart(2, "0")}:${String(Math.abs(tz) % 60).padStart(2, "0")}, ` +
    `flat fee ${formatAmount(tariff.flatFee)}, time ${formatAmount(tariff.timePricePerHour)}/h`);
  tariff.bandStart.forEach((start, k) => {
    const end = k + 1 < 4 ? tariff.bandStart[k + 1]! : 86_400n;
    detail(`band ${k}: ${clock(start).slice(0, 5)}-${clock(end).slice(0, 5)}  ${formatAmount(tariff.energyPrice[k]!)}/kWh`);
  });
  record("publish tariff", tariffGas, null, "4 bands");

  // 5. Driver deposits.
  step("Driver: fresh Semaphore identity, deposits 20.00 EUR from a funded account");
  const identity = DriverIdentity.random();
  const driver = new Driver(identity, pool.connect(provider));
  const deposit = await driver.deposit(20_000_000n, payer!);
  const depositGas = tx(`deposited ${formatAmount(20_000_000n)} into a note only the driver can open`, deposit.receipt);
  await driver.sync();
  detail(`driver's private balance: ${formatAmount(driver.balance)} (${driver.notes.length} note)`);
  record("deposit", depositGas, null, formatAmount(20_000_000n));

  // 6. Charging session.
  step("Charging: 16:30-17:40 local at 11 kW, across the 17:00 tariff boundary");
  const session = chargeSession(meter, tariff, now, { minutes: 70n, powerW: 11_000n });
  session.points.forEach((p, i) => {
    const kind = i === 0 ? "start" : i === session.points.length - 1 ? "end" : "boundary";
    detail(`chain point ${i + 1} (${kind.padEnd(8)}) ${hhmm(p.t, tariff)}  register ${kwh(p.e)}`);
  });
  detail(`meter signed the session end (n = ${session.n} points), session id ${session.sessionId.toString().slice(0, 16)}...`);

  // 7. Driver proves payment.
  step("Driver proves the payment (Groth16, pay circuit): bill computed privately from the signed chain");
  const receipt = await operator.receipt(session);
  const proveStart = Date.now();
  const payment = await driver.preparePayment(receipt);
  const proveWall = Date.now() - proveStart;
  const { bill } = payment;
  detail(`flat fee: ${money(tariff.flatFee * D)}`);
  for (const iv of bill.perInterval) {
    const price = tariff.energyPrice[iv.band]!;
    detail(`${hhmm(iv.tStart, tariff)}-${hhmm(iv.tEnd, tariff)} band ${iv.band} @ ${formatAmount(price)}/kWh: ` +
      `${kwh(iv.de)} = ${money(iv.energyNumerator)}, ${iv.dt / 60n} min plugged in = ${money(iv.timeNumerator)}`);
  }
  detail(`total: ${formatAmount(payment.pub.amount)} (exact sum, rounded down once at the end)`);
  detail(`proof: witness ${ms(payment.witnessMs)} + prove ${ms(payment.proveMs)} (${(proveWall / 1000).toFixed(1)} s wall)`);
  record("prove payment", null, proveWall, `bill ${formatAmount(payment.pub.amount)}`);

  // 8. CPO checks and submits.
  step("CPO checks the payment (amount, roots, nullifier, proof) and submits it");
  const checkStart = Date.now();
  await operator.checkPayment(payment, session);
  detail(`check passed in ${Date.now() - checkStart} ms`);
  const payGas = tx(`paid ${formatAmount(payment.pub.amount)} to CPO ${operator.cpoId}`, await operator.submitPayment(payment));
  detail(`CPO earnings in the pool: ${formatAmount(await operator.earnings())}`);
  record("CPO submits pay", payGas, null, formatAmount(payment.pub.amount));

  // 9. CPO withdraws.
  step("CPO withdraws its earnings to its payout address");
  const earnings = await operator.earnings();
  const payout = await cpoAdmin!.getAddress();
  const withdrawGas = tx(`withdrew ${formatAmount(earnings)}`, await operator.withdraw());
  detail(`payout ${payout} holds ${formatAmount(await token.balanceOf(payout))}`);
  record("CPO withdraws", withdrawGas, null, formatAmount(earnings));

  // 10. New device.
  step("Driver on a new device: wallet rebuilt from the pool's events and the identity secret alone");
  const restored = new Driver(DriverIdentity.fromSecret(identity.export()), pool.connect(provider));
  const syncStart = Date.now();
  const notes = await restored.sync();
  detail(`found ${notes.length} unspent note(s), balance ${formatAmount(restored.balance)} (sync ${Date.now() - syncStart} ms)`);
  record("rebuild wallet", null, null, formatAmount(restored.balance));

  // 11. Withdraw the change through a relayer.
  step("Driver withdraws its change to a fresh address through a relayer (driver's accounts never appear)");
  const fresh = ethers.Wallet.createRandom().address;
  const fee = 20_000n;
  const balance = restored.balance;
  const wStart = Date.now();
  const withdrawal = await restored.prepareWithdraw({ to: fresh, relayer: await relayer!.getAddress(), fee });
  const wWall = Date.now() - wStart;
  detail(`proof: witness ${ms(withdrawal.witnessMs)} + prove ${ms(withdrawal.proveMs)} (${(wWall / 1000).toFixed(1)} s wall)`);
  const relayed = await submitTransaction(pool, withdrawal, relayer!);
  const relayGas = tx(`relayer ${relayed.from} submitted`, relayed);
  detail(`${formatAmount(balance)} = ${formatAmount(await token.balanceOf(fresh))} to fresh ${fresh} + ${formatAmount(fee)} relayer fee`);
  await restored.sync();
  detail(`driver's private balance now ${formatAmount(restored.balance)}`);
  record("relayed withdraw", relayGas, wWall, `${formatAmount(balance - fee)} out`);

  // Summary.
  console.log("\nSummary");
  const widths = [18, 11, 8, 14];
  const row = (cells: string[]) => "  " + cells.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  console.log(row(["step", "gas", "proof", "amount / note"]));
  console.log(row(widths.map((w) => "-".repeat(w))));
  for (const s of summary) console.log(row([s.step, s.gas, s.proof, s.note]));
  console.log(`\n  driver paid ${formatAmount(payment.pub.amount)} for ${kwh(session.points.at(-1)!.e - session.points[0]!.e)}; ` +
    `pool balance now ${formatAmount(await token.balanceOf(await pool.getAddress()))}; total ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await shutdownProver();
}
