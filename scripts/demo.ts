/**
 * `npm run demo`: the whole zkcharge story on an in-process Hardhat chain, nothing else to start.
 * A CPO registers, adds a 22 kW meter and publishes a four-band tariff; a driver deposits 20 EUR,
 * charges 16:30-17:40 local across the 17:00 boundary, proves the payment; the CPO checks, submits
 * and withdraws; the driver's wallet is rebuilt from events on a new device and its change leaves
 * through a relayer to a fresh address.
 * Then escrowed sessions: the driver tops up and locks a 15 EUR cap per session through the relayer before
 * plugging in; the CPO checks the escrow, charges, and closes with the session-end record (the rest of the cap
 * returns to the driver). In a second escrowed session the driver disappears mid-session: after the settle
 * deadline the CPO closes from the meter's last live tail, and the driver's wallet, rebuilt from events, later
 * finds the refund note and withdraws it through the relayer.
 * Last, a session whose chain came through the station's gateway: a (simulated) calibrated meter signs OCMF
 * records, the gateway verifies them and signs the zkcharge chain from their readings, and the driver pays it.
 */
import { network } from "hardhat";
import type { ContractTransactionReceipt } from "ethers";
import { shutdownProver } from "../prover/index.ts";
import { deployZkcharge } from "../dev/deploy.ts";
import { Driver, submitLock, submitTransaction, type Locking } from "../sdk/actors/driver.ts";
import { EscrowStatus, type Closing } from "../sdk/actors/escrow.ts";
import { sessionId as makeSessionId } from "../sdk/core/hash.ts";
import { DriverIdentity } from "../sdk/core/identity.ts";
import { Meter } from "../sdk/meter/meter.ts";
import { type LiveTail } from "../sdk/meter/record.ts";
import { Note } from "../sdk/core/note.ts";
import { formatAmount } from "../sdk/core/money.ts";
import { Operator } from "../sdk/actors/operator.ts";
import { clock, timeOfDay, type Bill, type Tariff } from "../sdk/tariff/tariff.ts";
import { DEMO_OCPI_TARIFF, HOUR, chargeSession, demoTariff, freshNonces, nextLocalTime } from "../dev/localNetwork.ts";
import { simulateCharging } from "../sdk/meter/simulator.ts";
import { signOcmfSession } from "../sdk/meter/gateway.ts";
import { SimulatedOcmfMeter } from "../dev/ocmfMeter.ts";

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

/** Local date and time, "YYYY-MM-DD HH:MM". */
const localDate = (t: bigint, tariff: Tariff) =>
  new Date(Number(t + tariff.tzOffset) * 1000).toISOString().slice(0, 16).replace("T", " ");
const short = (x: bigint) => `${x.toString().slice(0, 16)}...`;

const { ethers, networkHelpers } = await network.create();
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
  const regGas = tx(
    `cpoId ${operator.cpoId}, admin and payout ${await cpoAdmin!.getAddress()}`,
    (await provider.getTransactionReceipt(registered!.transactionHash)) as ContractTransactionReceipt,
  );
  record("CPO registers", regGas, null, `cpoId ${operator.cpoId}`);

  // 3. Meter.
  step("CPO adds a 22 kW meter (EdDSA-Poseidon key, leaf in the CPO's meter tree)");
  const meter = new Meter({ cpoId: operator.cpoId, ratedPowerW: 22_000n });
  const meterGas = tx(`meter leaf ${meter.leaf.toString().slice(0, 16)}...`, await operator.addMeter(meter));
  record("add meter", meterGas, null, "22 kW");

  // 4. Tariff.
  step(
    `CPO publishes its OCPI 2.2.1 Tariff "${DEMO_OCPI_TARIFF.id}", imported as a 4-band tariff (immutable, hash recomputed on-chain)`,
  );
  const now = BigInt((await provider.getBlock("latest"))!.timestamp);
  const fields = demoTariff(now + 60n);
  const tariffHash = await operator.publishTariff(fields);
  const tariff: Tariff = { ...fields, cpoId: operator.cpoId };
  const [published] = await registry.queryFilter(registry.filters.TariffPublished(operator.cpoId, tariffHash));
  const tariffGas = tx(
    `tariff ${tariffHash.toString().slice(0, 16)}...`,
    (await provider.getTransactionReceipt(published!.transactionHash)) as ContractTransactionReceipt,
  );
  const tz = Number(tariff.tzOffset / 60n);
  detail(
    `local time UTC${tz >= 0 ? "+" : "-"}${String(Math.floor(Math.abs(tz) / 60)).padStart(2, "0")}:${String(Math.abs(tz) % 60).padStart(2, "0")}, ` +
      `flat fee ${formatAmount(tariff.flatFee)}`,
  );
  tariff.bandStart.forEach((start, k) => {
    const end = k + 1 < 4 ? tariff.bandStart[k + 1]! : 86_400n;
    detail(
      `band ${k}: ${clock(start).slice(0, 5)}-${clock(end).slice(0, 5)}  ${formatAmount(tariff.energyPrice[k]!)}/kWh, ` +
        `${formatAmount(tariff.timePricePerHour[k]!)}/h charging, ${formatAmount(tariff.parkingPricePerHour[k]!)}/h parked`,
    );
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
  detail(
    `meter signed the session end (n = ${session.n} points), session id ${session.sessionId.toString().slice(0, 16)}...`,
  );

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
    detail(
      `${hhmm(iv.tStart, tariff)}-${hhmm(iv.tEnd, tariff)} band ${iv.band} @ ${formatAmount(price)}/kWh: ` +
        `${kwh(iv.de)} = ${money(iv.energyNumerator)}, ${iv.dt / 60n} min ${iv.parked ? "parked" : "charging"} = ${money(iv.timeNumerator)}`,
    );
  }
  detail(`total: ${formatAmount(payment.pub.amount)} (exact sum, rounded down once at the end)`);
  detail(
    `proof: witness ${ms(payment.witnessMs)} + prove ${ms(payment.proveMs)} (${(proveWall / 1000).toFixed(1)} s wall)`,
  );
  record("prove payment", null, proveWall, `bill ${formatAmount(payment.pub.amount)}`);

  // 8. CPO checks and submits.
  step("CPO checks the payment (amount, roots, nullifier, proof) and submits it");
  const checkStart = Date.now();
  await operator.checkPayment(payment, session);
  detail(`check passed in ${Date.now() - checkStart} ms`);
  const payGas = tx(
    `paid ${formatAmount(payment.pub.amount)} to CPO ${operator.cpoId}`,
    await operator.submitPayment(payment),
  );
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
  detail(
    `found ${notes.length} unspent note(s), balance ${formatAmount(restored.balance)} (sync ${Date.now() - syncStart} ms)`,
  );
  record("rebuild wallet", null, null, formatAmount(restored.balance));

  // 11. Withdraw the change through a relayer.
  step("Driver withdraws its change to a fresh address through a relayer (driver's accounts never appear)");
  const fresh = ethers.Wallet.createRandom().address;
  const fee = 20_000n;
  const balance = restored.balance;
  const wStart = Date.now();
  const withdrawal = await restored.prepareWithdraw({ to: fresh, relayer: await relayer!.getAddress(), fee });
  const wWall = Date.now() - wStart;
  detail(
    `proof: witness ${ms(withdrawal.witnessMs)} + prove ${ms(withdrawal.proveMs)} (${(wWall / 1000).toFixed(1)} s wall)`,
  );
  const relayed = await submitTransaction(pool, withdrawal, relayer!);
  const relayGas = tx(`relayer ${relayed.from} submitted`, relayed);
  detail(
    `${formatAmount(balance)} = ${formatAmount(await token.balanceOf(fresh))} to fresh ${fresh} + ${formatAmount(fee)} relayer fee`,
  );
  await restored.sync();
  detail(`driver's private balance now ${formatAmount(restored.balance)}`);
  record("relayed withdraw", relayGas, wWall, `${formatAmount(balance - fee)} out`);

  // 12-19. Escrowed sessions.
  const cpoId = operator.cpoId;
  const relayerAddress = await relayer!.getAddress();
  const lockFee = 20_000n;
  const cap = 15_000_000n;
  const chainNow = async () => BigInt((await provider.getBlock("latest"))!.timestamp);
  const printBill = (bill: Bill, tailFrom?: bigint) => {
    detail(`flat fee: ${money(tariff.flatFee * D)}`);
    for (const iv of bill.perInterval) {
      const tail = tailFrom !== undefined && iv.tStart === tailFrom ? "  <- live tail interval" : "";
      detail(
        `${hhmm(iv.tStart, tariff)}-${hhmm(iv.tEnd, tariff)} band ${iv.band} @ ${formatAmount(tariff.energyPrice[iv.band]!)}/kWh: ` +
          `${kwh(iv.de)} = ${money(iv.energyNumerator)}, ${iv.dt / 60n} min = ${money(iv.timeNumerator)}${tail}`,
      );
    }
  };
  /**
   * The driver locks `cap` for a fresh session starting at `start`, through the relayer; the CPO checks it at plug-in.
   * The station's and the driver's nonces make the session id; the lock proof shows them (nobody else can lock it).
   */
  const lockFor = async (label: string, start: bigint): Promise<{ lock: Locking; sessionId: bigint }> => {
    const nonces = freshNonces();
    const sessionId = makeSessionId(nonces.stationNonce, nonces.driverNonce);
    const settleDeadline = start + 2n * HOUR;
    const claimDeadline = settleDeadline + 48n * HOUR;
    const t0 = Date.now();
    const lock = await restored.prepareLock({
      cpoId,
      ...nonces,
      sessionId,
      cap,
      settleDeadline,
      claimDeadline,
      fee: lockFee,
      relayer: relayerAddress,
    });
    const wall = Date.now() - t0;
    detail(`session id ${short(sessionId)} (agreed at the station), plug-in ${localDate(start, tariff)} local`);
    detail(`escrow id ${short(lock.escrowId)} (the lock's nullifier: no link to the driver's notes)`);
    detail(
      `cap ${formatAmount(cap)}; settle deadline ${localDate(settleDeadline, tariff)}, claim deadline ${localDate(claimDeadline, tariff)}`,
    );
    detail(`proof: witness ${ms(lock.witnessMs)} + prove ${ms(lock.proveMs)} (${(wall / 1000).toFixed(1)} s wall)`);
    const gas = tx(
      `relayer ${relayerAddress.slice(0, 10)}... submitted the lock (fee ${formatAmount(lockFee)})`,
      await submitLock(pool, lock, relayer!),
    );
    await restored.sync();
    detail(`driver's private balance now ${formatAmount(restored.balance)} (+ ${formatAmount(cap)} in escrow)`);
    record(`lock (${label})`, gas, wall, `cap ${formatAmount(cap)}`);
    return { lock, sessionId };
  };
  const verifyAtPlugIn = async (lock: Locking, sessionId: bigint, start: bigint) => {
    await networkHelpers.time.increaseTo(start);
    const t0 = Date.now();
    const escrow = await operator.verifyEscrow(lock.escrowId, {
      sessionId,
      minCap: 10_000_000n,
      minSecondsToSettle: HOUR,
    });
    detail(`chain time ${localDate(await chainNow(), tariff)} local; check passed in ${Date.now() - t0} ms:`);
    detail(
      `escrow open, for CPO ${escrow.cpoId} and this session (unpaid), cap ${formatAmount(escrow.cap)} >= 10.00 EUR required, ` +
        `${(escrow.settleDeadline - (await chainNow())) / 60n} min to the settle deadline (>= 60 required) -> charger on`,
    );
  };
  const closed = (label: string, closing: Closing, wall: number, gas: bigint) => {
    const refund = cap - closing.pub.amount;
    detail(
      `charged ${formatAmount(closing.pub.amount)} of the ${formatAmount(cap)} cap; refund ${formatAmount(refund)} ` +
        "returns to the driver as a note (its opening was in the lock's encrypted output)",
    );
    detail(`proof: prove ${ms(closing.proveMs)} (${(wall / 1000).toFixed(1)} s wall, no driver secret needed)`);
    record(`close (${label})`, gas, wall, `${formatAmount(closing.pub.amount)} + ${formatAmount(refund)} back`);
  };

  step("Driver tops up 40.00 EUR for two pre-authorised (escrowed) sessions");
  const topUp = await restored.deposit(40_000_000n, payer!);
  record(
    "top-up deposit",
    tx(`deposited ${formatAmount(40_000_000n)}`, topUp.receipt),
    null,
    formatAmount(40_000_000n),
  );

  // Session 2: settle path.
  const s2Start = nextLocalTime(session.points.at(-1)!.t, 21n * HOUR + 30n * 60n, tariff.tzOffset);
  step("Session 2 (escrow): before plugging in, the driver locks a 15.00 EUR cap through the relayer");
  const { lock: lock2, sessionId: s2Id } = await lockFor("session 2", s2Start);

  step("CPO checks the escrow before switching the charger on");
  await verifyAtPlugIn(lock2, s2Id, s2Start);

  step("Charging: 21:30-22:20 local at 11 kW, across the 22:00 boundary; the meter signs the session end");
  const live2 = meter.startSession({ sessionId: s2Id, tariff, t: s2Start, e: 5_000_000n });
  const r2 = simulateCharging(live2, { to: s2Start + 50n * 60n, powerW: 11_000n, stepSeconds: 300n }).at(-1)!;
  const session2 = live2.end(r2.t, r2.e);
  session2.points.forEach((p, i) => detail(`chain point ${i + 1} ${hhmm(p.t, tariff)}  register ${kwh(p.e)}`));
  await networkHelpers.time.increaseTo(r2.t + 60n);

  step("CPO closes the escrow with the session-end record (close circuit, mode 0)");
  let t0 = Date.now();
  const close2 = await operator.close(lock2.escrowId, session2);
  const close2Wall = Date.now() - t0;
  printBill(close2.closing.bill);
  const close2Gas = tx(`CPO closed escrow ${short(lock2.escrowId)}`, close2.receipt);
  closed("final", close2.closing, close2Wall, close2Gas);

  // Session 3: dispute path.
  const s3Start = nextLocalTime(r2.t, 6n * HOUR + 40n * 60n, tariff.tzOffset);
  step("Session 3 (escrow): the driver locks another 15.00 EUR cap; the CPO checks it and switches on");
  const { lock: lock3, sessionId: s3Id } = await lockFor("session 3", s3Start);
  await verifyAtPlugIn(lock3, s3Id, s3Start);

  step("Charging from 06:40 local at 11 kW ... the driver disappears mid-session (no session end is ever signed)");
  const live3 = meter.startSession({ sessionId: s3Id, tariff, t: s3Start, e: 5_000_000n });
  const readings3 = simulateCharging(live3, { to: s3Start + 45n * 60n, powerW: 11_000n, stepSeconds: 300n });
  const tails = readings3.filter((r): r is LiveTail => r.kind === "live");
  const lastTail = tails.at(-1)!;
  live3.points.forEach((p, i) => detail(`chain point ${i + 1} ${hhmm(p.t, tariff)}  register ${kwh(p.e)}`));
  detail(
    `${tails.length} live tails signed; the last at ${hhmm(lastTail.t, tariff)}, register ${kwh(lastTail.e)} (hangs off chain point ${lastTail.k})`,
  );
  const evidence = live3.evidence(lastTail);

  step("Time passes beyond the settle deadline; the CPO closes from the last live tail (mode 1, CPO admin only)");
  await networkHelpers.time.increaseTo(lock3.pub.settleDeadline + 60n);
  detail(
    `chain time ${localDate(await chainNow(), tariff)} local, settle deadline was ${localDate(lock3.pub.settleDeadline, tariff)}`,
  );
  t0 = Date.now();
  const close3 = await operator.close(lock3.escrowId, evidence);
  const close3Wall = Date.now() - t0;
  printBill(close3.closing.bill, live3.points.at(-1)!.t);
  const close3Gas = tx(`CPO closed escrow ${short(lock3.escrowId)} from the live tail`, close3.receipt);
  closed("live tail", close3.closing, close3Wall, close3Gas);
  detail(`CPO earnings in the pool: ${formatAmount(await operator.earnings())}`);

  step(
    "Days later: the driver's wallet, rebuilt from events, finds its refund note and withdraws it through the relayer",
  );
  const back = new Driver(DriverIdentity.fromSecret(identity.export()), pool.connect(provider));
  await back.sync();
  for (const e of back.escrows) {
    const which = e.escrowId === lock2.escrowId ? "session 2" : e.escrowId === lock3.escrowId ? "session 3" : "?";
    detail(
      `escrow ${short(e.escrowId)} (${which}): ${EscrowStatus[e.status]}, charged ${formatAmount(e.charged ?? 0n)} of ${formatAmount(e.cap)}`,
    );
  }
  const nonZero = back.notes.filter((n) => n.note.value > 0n);
  detail(
    `balance ${formatAmount(back.balance)} in ${nonZero.length} notes: ` +
      nonZero
        .map((n) => {
          const what =
            n.note.value === cap - close2.closing.pub.amount
              ? "refund 2"
              : n.note.value === cap - close3.closing.pub.amount
                ? "refund 3"
                : "change";
          return `${formatAmount(n.note.value)} (${what})`;
        })
        .join(" + "),
  );
  const refund3 = cap - close3.closing.pub.amount;
  const refundNote = back.notes.find((n) => n.note.value === refund3)!;
  const fresh3 = ethers.Wallet.createRandom().address;
  const pads = [Note.random(identity.commitment, 0n), Note.random(identity.commitment, 0n)] as const;
  t0 = Date.now();
  const spend = await back.prepareTransact({
    spend: [refundNote],
    fee,
    extAmount: -(refund3 - fee),
    recipient: fresh3,
    relayer: relayerAddress,
    outputs: [
      { precommitment: pads[0].precommitment, value: 0n },
      { precommitment: pads[1].precommitment, value: 0n },
    ],
    outputNotes: [pads[0], pads[1]],
  });
  const spendWall = Date.now() - t0;
  detail(
    `refund note #${refundNote.leafIndex} of ${formatAmount(refund3)} spent; proof: witness ${ms(spend.witnessMs)} + prove ${ms(spend.proveMs)} (${(spendWall / 1000).toFixed(1)} s wall)`,
  );
  const spendGas = tx("relayer submitted the withdrawal", await submitTransaction(pool, spend, relayer!));
  detail(
    `${formatAmount(refund3)} = ${formatAmount(await token.balanceOf(fresh3))} to fresh ${fresh3} + ${formatAmount(fee)} relayer fee`,
  );
  await back.sync();
  detail(`driver's private balance now ${formatAmount(back.balance)}`);
  record("refund withdrawn", spendGas, spendWall, `${formatAmount(refund3 - fee)} out`);

  // 20-21. A session through the station's gateway, from OCMF records of a calibrated meter.
  step("Session 4 (OCMF): a calibrated meter signs OCMF records, 16:30-17:40 local at 11 kW across 17:00");
  const ocmfMeter = new SimulatedOcmfMeter();
  detail(
    `SIMULATED calibrated meter ${ocmfMeter.serial}: an ECDSA-secp256r1 key made on the spot (no certification), ` +
      "listed in the CPO's key registry",
  );
  const start4 = nextLocalTime((await chainNow()) + HOUR, 16n * HOUR + 30n * 60n, tariff.tzOffset);
  const register4 = 7_000_000n;
  const readings4 = [
    { t: start4, wh: register4, tx: "B" },
    { t: start4 + 900n, wh: register4 + 2750n, tx: "C" },
    { t: start4 + 1800n, wh: register4 + 5500n, tx: "T" }, // the meter's tariff change at 17:00
    { t: start4 + 4200n, wh: register4 + 12_833n, tx: "E" },
  ] as const;
  const ocmfRecords = ocmfMeter.transaction(readings4, tariff.tzOffset);
  readings4.forEach((r, i) =>
    detail(`OCMF record T${i + 1}: TX ${r.tx} at ${hhmm(r.t, tariff)} local, register ${kwh(r.wh)}, ECDSA-signed`),
  );
  detail(`e.g. ${ocmfRecords[2]!.slice(0, 80)}...`);
  step("The station's gateway verifies the records and signs the zkcharge chain with the meter's EdDSA key");
  const nonces4 = freshNonces();
  const viaGateway = signOcmfSession({
    records: ocmfRecords,
    keys: ocmfMeter.registry,
    meter,
    sessionId: makeSessionId(nonces4.stationNonce, nonces4.driverNonce),
    tariff,
  });
  const session4 = viaGateway.session;
  detail(`${viaGateway.report.valid} of ${ocmfRecords.length} records valid, one complete transaction (B ... T ... E)`);
  viaGateway.points.forEach((p, i) =>
    detail(
      `chain point ${i + 1} ${hhmm(p.t, tariff)}  register ${kwh(p.e)}  from OCMF record ${p.source} (TX ${p.tx})`,
    ),
  );
  detail(
    `OCMF digest ${short(viaGateway.ocmfDigest)} of the records' signed bytes, signed into the session-end record the pay proof checks`,
  );
  step("Driver pays session 4 (pay circuit); the CPO checks and submits it");
  t0 = Date.now();
  const payment4 = await back.preparePayment(await operator.receipt(session4));
  const pay4Wall = Date.now() - t0;
  printBill(payment4.bill);
  detail(
    `total: ${formatAmount(payment4.pub.amount)}; proof: witness ${ms(payment4.witnessMs)} + prove ${ms(payment4.proveMs)} (${(pay4Wall / 1000).toFixed(1)} s wall)`,
  );
  await operator.checkPayment(payment4, session4);
  const pay4Gas = tx(`paid ${formatAmount(payment4.pub.amount)}`, await operator.submitPayment(payment4));
  await back.sync();
  detail(`driver's private balance now ${formatAmount(back.balance)}`);
  record("pay (OCMF gateway)", pay4Gas, pay4Wall, formatAmount(payment4.pub.amount));

  // Summary.
  console.log("\nSummary");
  const widths = [20, 11, 8, 14];
  const row = (cells: string[]) =>
    "  " +
    cells
      .map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  console.log(row(["step", "gas", "proof", "amount / note"]));
  console.log(row(widths.map((w) => "-".repeat(w))));
  for (const s of summary) console.log(row([s.step, s.gas, s.proof, s.note]));
  const poolHolds = await token.balanceOf(await pool.getAddress());
  const cpoHolds = await operator.earnings();
  const open = back.escrows.filter((e) => e.status === EscrowStatus.Open).reduce((sum, e) => sum + e.cap, 0n);
  console.log(
    `\n  driver paid ${formatAmount(payment.pub.amount)} for ${kwh(session.points.at(-1)!.e - session.points[0]!.e)} (pay), ` +
      `${formatAmount(close2.closing.pub.amount)} and ${formatAmount(close3.closing.pub.amount)} (escrows)`,
  );
  console.log(
    `  pool holds ${formatAmount(poolHolds)} = driver's notes ${formatAmount(back.balance)} + open escrows ${formatAmount(open)} + ` +
      `CPO earnings ${formatAmount(cpoHolds)}${poolHolds === back.balance + open + cpoHolds ? "" : "  MISMATCH"}; total ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  if (poolHolds !== back.balance + open + cpoHolds) throw new Error("pool balance invariant broken");
} finally {
  await shutdownProver();
}
