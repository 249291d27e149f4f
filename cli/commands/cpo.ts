/**
 * The charge point operator (account 1): `cpo register`, `meter add`, `meter revoke`, `tariff publish`, `cpo withdraw`.
 */
import { Option, type Command } from "commander";
import {
  BITS,
  Meter,
  Operator,
  formatAmount,
  stepSizesText,
  durationLimitText,
  tariffWindow,
  validateTariff,
  type Tariff,
} from "../../sdk/index.ts";
import { DAY, demoTariff } from "../../dev/localNetwork.ts";
import { defineCommand, needPlaintextAllowed, runs, type RunContext } from "../context.ts";
import { CliError } from "../errors.ts";
import { detail, hhmm, say, short, txLine, tzText } from "../format.ts";
import { findMeter, needCpo, needState, operatorOf } from "../lookup.ts";
import { addressArg, amountArg, clockArg, listArg, option, required, utcOffsetArg, wholeArg } from "../options.ts";
import { attach, chainTime, tokenBalance } from "../rpc.ts";
import type { CliState } from "../state.ts";

const HEADING = "Charge point operator (account 1):";
const MAX_POWER_W = (1n << 24n) - 1n; // the circuit's ratedPower range
/**
 * How long after "now" a published tariff starts. The Registry refuses `validFrom` below the timestamp of the block
 * that includes the publish, and that block's time is at least the wall clock at mining (automine, real chains),
 * however old the latest block is: so "now" is the later of the latest block's time and the wall clock (a dev
 * chain moved ahead with `chain advance` runs ahead of the wall clock), and the margin covers the time to inclusion.
 */

/** The options of `tariff publish` (each defaults to the demo tariff's value). */
interface TariffOptions {
  flatFee: bigint;
  energyPrices: bigint[];
  bandStarts: bigint[];
  timePrices: bigint[];
  parkingPrices: bigint[];
  stepSizes: bigint[];
  minPrice: bigint;
  maxPrice: bigint;
  tz: bigint;
  validDays: bigint;
}

export function registerCpoCommands(root: Command): void {
  runs<{ payout?: string }>(
    defineCommand(root, "cpo register", "register the CPO (account 1 becomes its admin)")
      .helpGroup(HEADING)
      .addOption(option("--payout <addr>", "where withdrawn earnings go (default: the CPO account)", addressArg)),
    async (ctx, maybe, o) => {
      const state = needState(ctx, maybe);
      if (state.cpo) throw new CliError(`a CPO is already registered in this state (cpoId ${state.cpo.cpoId})`);
      const d = await attach(ctx, state);
      const admin = await d.signer(1);
      const operator = await Operator.register({ registry: d.registry, pool: d.pool, signer: admin, payout: o.payout });
      const [event] = await d.registry.queryFilter(d.registry.filters.CpoRegistered(operator.cpoId));
      const receipt = (await d.provider.getTransactionReceipt(event!.transactionHash))!;
      const payout = o.payout ?? admin.address;
      say(`CPO registered: cpoId ${operator.cpoId}`);
      detail(`admin ${admin.address}, payout ${payout}`);
      txLine("registerCpo", receipt);
      return { ...state, cpo: { cpoId: operator.cpoId, admin: admin.address, payout, tx: receipt.hash } };
    },
  );

  runs<{ powerW: bigint }>(
    defineCommand(root, "meter add", "create a meter key (kept in the state file) and register the meter")
      .helpGroup(HEADING)
      .addOption(required(option("--power-w <W>", "rated power in W, e.g. 22000", wholeArg(MAX_POWER_W)), "22000")),
    async (ctx, maybe, o) => {
      const state = needState(ctx, maybe);
      const cpo = needCpo(state);
      needPlaintextAllowed(ctx, state, "meter private keys"); // before the meter is registered: its key must be kept
      const d = await attach(ctx, state);
      const privateKey = crypto.getRandomValues(new Uint8Array(32));
      const meter = new Meter({ cpoId: cpo.cpoId, ratedPowerW: o.powerW, privateKey });
      const receipt = await operatorOf(d, cpo, await d.signer(1)).addMeter(meter);
      const id = `m${state.meters.length + 1}`;
      say(`Meter ${id} added: ${Number(o.powerW) / 1000} kW, leaf ${short(meter.leaf)}`);
      txLine("addMeter", receipt);
      return {
        ...state,
        meters: [
          ...state.meters,
          {
            id,
            leaf: meter.leaf,
            cpoId: cpo.cpoId,
            ratedPowerW: o.powerW,
            privateKey: "0x" + Buffer.from(privateKey).toString("hex"),
            revoked: false,
            addedTx: receipt.hash,
          },
        ],
      };
    },
  );

  runs<{ meter: string }>(
    defineCommand(root, "meter revoke", "revoke a meter: payments proved against earlier meter roots are refused")
      .helpGroup(HEADING)
      .addOption(required(new Option("--meter <id>", "the meter (id like m1, or its leaf)"), "m1")),
    async (ctx, maybe, o) => {
      const state = needState(ctx, maybe);
      const cpo = needCpo(state);
      const meter = findMeter(state, o.meter);
      if (meter.revoked) throw new CliError(`meter ${meter.id} is already revoked (tx ${meter.revokedTx})`);
      const d = await attach(ctx, state);
      const receipt = await operatorOf(d, cpo, await d.signer(1)).revokeMeter(meter.leaf);
      say(`Meter ${meter.id} revoked: payments proved against earlier meter roots are now refused`);
      txLine("revokeMeter", receipt);
      return {
        ...state,
        meters: state.meters.map((m) => (m.id === meter.id ? { ...m, revoked: true, revokedTx: receipt.hash } : m)),
      };
    },
  );

  const base = demoTariff(0n);
  const eur = (x: bigint) => formatAmount(x, "");
  runs<TariffOptions>(
    defineCommand(
      root,
      "tariff publish",
      "publish a tariff, valid from a minute after now (the later of chain time and the clock; default: the demo 4-band tariff)",
    )
      .helpGroup(HEADING)
      .addOption(
        option("--flat-fee <EUR>", "per-session fee", amountArg({ positive: false })).default(
          base.flatFee,
          eur(base.flatFee),
        ),
      )
      .addOption(
        option(
          "--energy-prices <EUR,EUR,EUR,EUR>",
          "EUR per kWh of bands 0..3",
          listArg(4, amountArg({ positive: false })),
        ).default(base.energyPrice, base.energyPrice.map(eur).join(",")),
      )
      .addOption(
        option(
          "--band-starts <HH:MM,HH:MM,HH:MM>",
          "local start of bands 1..3 (band 0 starts at 00:00)",
          listArg(3, clockArg),
        ).default(base.bandStart.slice(1), base.bandStart.slice(1).map(hhmm).join(",")),
      )
      .addOption(
        option(
          "--time-prices <EUR,EUR,EUR,EUR>",
          "EUR per hour charging (an interval that adds energy: OCPI TIME), in bands 0..3",
          listArg(4, amountArg({ positive: false })),
        ).default(base.timePricePerHour, base.timePricePerHour.map(eur).join(",")),
      )
      .addOption(
        option(
          "--parking-prices <EUR,EUR,EUR,EUR>",
          "EUR per hour parked (an interval that adds no energy: OCPI PARKING_TIME), in bands 0..3",
          listArg(4, amountArg({ positive: false })),
        ).default(base.parkingPricePerHour, base.parkingPricePerHour.map(eur).join(",")),
      )
      .addOption(
        option(
          "--step-sizes <Wh,s,s>",
          "OCPI step_size of energy (Wh), charging time and parking time (s): each session total rounded up to it",
          listArg(3, wholeArg(1n << BigInt(BITS.stepSize))),
        ).default(base.stepSize, base.stepSize.join(",")),
      )
      .addOption(
        option("--min-price <EUR>", "floor on a session's amount (0: none)", amountArg({ positive: false })).default(
          base.minPrice,
          "0",
        ),
      )
      .addOption(
        option("--max-price <EUR>", "cap on a session's amount (0: no cap)", amountArg({ positive: false })).default(
          base.maxPrice,
          "0",
        ),
      )
      .addOption(
        option("--tz <offset>", "local time zone as a UTC offset, e.g. +01:00 or -05:00", utcOffsetArg).default(
          base.tzOffset,
          tzText(base.tzOffset).slice(3),
        ),
      )
      .addOption(option("--valid-days <n>", "validity from now, in days", wholeArg(36_500n)).default(180n, "180")),
    async (ctx, maybe, o) => {
      const prices: TariffPrices = {
        flatFee: o.flatFee,
        energyPrice: [o.energyPrices[0]!, o.energyPrices[1]!, o.energyPrices[2]!, o.energyPrices[3]!],
        bandStart: [0n, o.bandStarts[0]!, o.bandStarts[1]!, o.bandStarts[2]!],
        timePricePerHour: [o.timePrices[0]!, o.timePrices[1]!, o.timePrices[2]!, o.timePrices[3]!],
        parkingPricePerHour: [o.parkingPrices[0]!, o.parkingPrices[1]!, o.parkingPrices[2]!, o.parkingPrices[3]!],
        stepSize: [o.stepSizes[0]!, o.stepSizes[1]!, o.stepSizes[2]!],
        minPrice: o.minPrice,
        maxPrice: o.maxPrice,
        tzOffset: o.tz,
      };
      return publishTariff(ctx, needState(ctx, maybe), prices, o.validDays);
    },
  );

  runs<object>(
    defineCommand(root, "cpo withdraw", "withdraw the CPO's earnings to its payout address").helpGroup(HEADING),
    async (ctx, maybe) => {
      const state = needState(ctx, maybe);
      const cpo = needCpo(state);
      const d = await attach(ctx, state);
      const operator = operatorOf(d, cpo, await d.signer(1));
      const earnings = await operator.earnings();
      if (earnings === 0n) throw new CliError(`CPO ${cpo.cpoId} has no earnings to withdraw`);
      const receipt = await operator.withdraw();
      say(`CPO withdrew ${formatAmount(earnings)} to ${cpo.payout}`);
      txLine("withdraw", receipt);
      detail(`payout balance: ${formatAmount(await tokenBalance(d, cpo.payout))}`);
      return state;
    },
  );
}

/** A tariff's prices: everything but the CPO and the validity window, which {@link publishTariff} sets. */
export type TariffPrices = Omit<Tariff, "cpoId" | "validFrom" | "validTo">;

/** Optional bounds on a published tariff's window (unix seconds), e.g. an OCPI tariff's start and end. */
export interface TariffWindow {
  notBefore?: bigint;
  notAfter?: bigint;
}

/**
 * Publishes `prices` as the state's CPO (account 1): valid from a minute after now (the later of chain time and the
 * clock, or `window.notBefore` if later) for `validDays` (ending at `window.notAfter` if sooner); prints the tariff
 * and returns the state with it. What `tariff publish` and `tariff import` share.
 * @throws CliError when no CPO is registered; InvalidInputError when the window is empty; InvalidTariffError before any
 *   transaction
 */
export async function publishTariff(
  ctx: RunContext,
  state: CliState,
  prices: TariffPrices,
  validDays: bigint,
  window: TariffWindow = {},
): Promise<CliState> {
  const cpo = needCpo(state);
  validateTariff({ ...prices, cpoId: cpo.cpoId, validFrom: 0n, validTo: validDays * DAY }); // before any transaction
  const d = await attach(ctx, state);
  const wallClock = BigInt(Math.floor(Date.now() / 1000));
  const latest = await chainTime(d.provider);
  const { validFrom, validTo } = tariffWindow(latest > wallClock ? latest : wallClock, validDays, window);
  const tariff: Tariff = { ...prices, cpoId: cpo.cpoId, validFrom, validTo };
  const hash = await operatorOf(d, cpo, await d.signer(1)).publishTariff(tariff);
  const [event] = await d.registry.queryFilter(d.registry.filters.TariffPublished(cpo.cpoId, hash));
  const receipt = (await d.provider.getTransactionReceipt(event!.transactionHash))!;
  const days = (validTo - validFrom) / DAY;
  say(`Tariff published: ${short(hash)} (${tzText(tariff.tzOffset)}, valid ${days} days)`);
  detail(
    `flat fee ${formatAmount(tariff.flatFee)}` +
      (tariff.minPrice > 0n ? `, at least ${formatAmount(tariff.minPrice)}` : "") +
      (tariff.maxPrice > 0n ? `, capped at ${formatAmount(tariff.maxPrice)}` : ""),
  );
  tariff.bandStart.forEach((start, k) => {
    const end = k < 3 ? tariff.bandStart[k + 1]! : DAY;
    detail(
      `band ${k}: ${hhmm(start)}-${hhmm(end)}  ${formatAmount(tariff.energyPrice[k]!)}/kWh, ` +
        `${formatAmount(tariff.timePricePerHour[k]!)}/h charging, ${formatAmount(tariff.parkingPricePerHour[k]!)}/h parked`,
    );
  });
  const steps = stepSizesText(tariff.stepSize);
  if (steps) detail(`billed in ${steps}`);
  const limit = durationLimitText(tariff.durationLimit);
  if (limit) detail(limit);
  txLine("publishTariff", receipt);
  return { ...state, tariffs: [...state.tariffs, { hash, tariff, tx: receipt.hash }] };
}
