/**
 * A deployed zkcharge on a local Hardhat chain with one registered CPO, its meter and a tariff valid
 * from now on, plus helpers to pick session times relative to chain time and to simulate a session.
 * Shared by the end-to-end tests (through test/fixtures/chain.ts), the demo, the CLI and the bench.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type { Signer } from "ethers";
import { deployZkcharge, type ZkchargeDeployment } from "./deploy.ts";
import { sessionId as makeSessionId } from "../sdk/core/hash.ts";
import { Meter } from "../sdk/meter/meter.ts";
import { type SignedSession } from "../sdk/meter/record.ts";
import { Operator } from "../sdk/actors/operator.ts";
import { randomBits } from "../sdk/core/field.ts";
import type { SessionNonces } from "../sdk/proofs/lockInput.ts";
import { importOcpiTariff } from "../sdk/tariff/ocpi.ts";
import type { Tariff } from "../sdk/tariff/tariff.ts";
import { simulateCharging } from "../sdk/meter/simulator.ts";

export const HOUR = 3600n;
export const DAY = 86_400n;

/** The first unix time after `after` whose local time (UTC + tzOffset) is `secondsOfDay`. */
export function nextLocalTime(after: bigint, secondsOfDay: bigint, tzOffset: bigint): bigint {
  const local = after + tzOffset;
  let candidate = local - (local % DAY) + secondsOfDay;
  if (candidate <= local) candidate += DAY;
  return candidate - tzOffset;
}

/**
 * The dev CPO's tariff as it publishes it for roaming, an OCPI 2.2.1 Tariff object: 0.50 EUR per session,
 * 0.25 / 0.39 / 0.45 / 0.30 EUR per kWh from 00:00 / 07:00 / 17:00 / 22:00 local, 0.12 EUR per hour plugged in.
 * (The first matching element prices each dimension, so the unrestricted ENERGY element comes last.)
 */
export const DEMO_OCPI_TARIFF = {
  country_code: "DE",
  party_id: "ZKC",
  id: "zkcharge-demo-4band",
  currency: "EUR",
  elements: [
    { price_components: [{ type: "FLAT", price: 0.5, vat: 19, step_size: 1 }] },
    {
      price_components: [
        { type: "TIME", price: 0.12, vat: 19, step_size: 1 },
        { type: "PARKING_TIME", price: 0.12, vat: 19, step_size: 1 },
      ],
    },
    {
      price_components: [{ type: "ENERGY", price: 0.39, vat: 19, step_size: 1 }],
      restrictions: { start_time: "07:00", end_time: "17:00" },
    },
    {
      price_components: [{ type: "ENERGY", price: 0.45, vat: 19, step_size: 1 }],
      restrictions: { start_time: "17:00", end_time: "22:00" },
    },
    {
      price_components: [{ type: "ENERGY", price: 0.3, vat: 19, step_size: 1 }],
      restrictions: { start_time: "22:00", end_time: "00:00" },
    },
    { price_components: [{ type: "ENERGY", price: 0.25, vat: 19, step_size: 1 }] },
  ],
  last_updated: "2026-11-30T12:00:00Z",
} as const;

/**
 * The dev tariff: {@link DEMO_OCPI_TARIFF} imported (four bands, 00:00 / 07:00 / 17:00 / 22:00 local, UTC+1),
 * valid from `validFrom` for 180 days.
 */
export function demoTariff(validFrom: bigint): Omit<Tariff, "cpoId"> {
  const { tariff } = importOcpiTariff(DEMO_OCPI_TARIFF, {
    cpoId: 0n,
    tzOffset: HOUR,
    validFrom,
    validTo: validFrom + 180n * DAY,
  });
  const { cpoId: _cpoId, ...fields } = tariff;
  return fields;
}

export interface Network {
  deployment: ZkchargeDeployment;
  operator: Operator;
  meter: Meter;
  tariff: Tariff;
  tariffHash: bigint;
  signers: { deployer: Signer; cpo: Signer; payer: Signer; relayer: Signer; recipient: Signer; other: Signer };
  /** Latest block time when the tariff was published. */
  now: bigint;
}

/** Deploys everything, registers a CPO with a 22 kW meter and publishes its tariff. */
export async function setUpNetwork(ethers: HardhatEthers): Promise<Network> {
  const [deployer, cpo, payer, relayer, recipient, other] = await ethers.getSigners();
  const deployment = await deployZkcharge(ethers, { signer: deployer });
  await (await deployment.testToken!.mint(await payer!.getAddress(), 1_000_000_000n)).wait();
  await (await deployment.testToken!.mint(await other!.getAddress(), 1_000_000_000n)).wait();
  const operator = await Operator.register({ registry: deployment.registry, pool: deployment.pool, signer: cpo! });
  const meter = new Meter({ cpoId: operator.cpoId, ratedPowerW: 22_000n });
  await operator.addMeter(meter);
  const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  const tariffFields = demoTariff(now + 60n);
  const tariffHash = await operator.publishTariff(tariffFields);
  return {
    deployment,
    operator,
    meter,
    tariff: { ...tariffFields, cpoId: operator.cpoId },
    tariffHash,
    now,
    signers: { deployer: deployer!, cpo: cpo!, payer: payer!, relayer: relayer!, recipient: recipient!, other: other! },
  };
}

/** Fresh 128-bit session nonces, as the station and the driver each draw theirs at plug-in. */
export function freshNonces(): SessionNonces {
  return { stationNonce: randomBits(128), driverNonce: randomBits(128) };
}

/** Session options: `nonces` make the session id (fresh ones by default; the driver needs them to lock an escrow). */
export interface SessionOptions {
  minutes?: bigint;
  powerW?: bigint;
  nonces?: SessionNonces;
}

/**
 * Simulates a session on `meter` starting at unix time `start` (5 000 kWh already on the register), charging
 * `powerW` for `minutes` with a reading every 5 minutes; the meter takes a chain point at every tariff boundary.
 * The 128-bit nonces (fresh unless given) make the session id.
 */
export function simulateSession(meter: Meter, tariff: Tariff, start: bigint, opts: SessionOptions = {}): SignedSession {
  const { stationNonce, driverNonce } = opts.nonces ?? freshNonces();
  const id = makeSessionId(stationNonce, driverNonce);
  const live = meter.startSession({ sessionId: id, tariff, t: start, e: 5_000_000n });
  const end = start + (opts.minutes ?? 70n) * 60n;
  const readings = simulateCharging(live, { to: end, powerW: opts.powerW ?? 11_000n, stepSeconds: 300n });
  const last = readings.at(-1) ?? { t: start, e: 5_000_000n };
  return live.end(last.t, last.e);
}

/**
 * A session on `meter` from 16:30 local on the day after `after`, charging `powerW` for `minutes`:
 * long enough sessions cross the 17:00 band boundary. The 128-bit nonces (fresh unless given) make the session id.
 */
export function chargeSession(meter: Meter, tariff: Tariff, after: bigint, opts: SessionOptions = {}): SignedSession {
  const start = nextLocalTime(after + HOUR, 16n * HOUR + 30n * 60n, tariff.tzOffset);
  return simulateSession(meter, tariff, start, opts);
}

/**
 * Starts a live session on `meter` at unix time `start` (`e` Wh already on the register, default 5 000 kWh) with
 * the session id of 128-bit `nonces` (fresh unless given): readings are added (or simulated) later, and the session
 * may never end (the escrow dispute path closes it from a live tail).
 */
export function startLiveSession(
  meter: Meter,
  tariff: Tariff,
  start: bigint,
  e = 5_000_000n,
  nonces: SessionNonces = freshNonces(),
): ReturnType<Meter["startSession"]> {
  const id = makeSessionId(nonces.stationNonce, nonces.driverNonce);
  return meter.startSession({ sessionId: id, tariff, t: start, e });
}
