/**
 * A driver wallet's check of a station's offer before it locks anything (issue 17; the CLI wallet and the web app
 * both run it): the station serves our pool and
 * registry on our chain; the tariff is one its CPO published on-chain (same hash, same terms) and valid now; the
 * meter key and rating make the offered leaf, and that leaf is in the CPO's meter tree on-chain. What passes is
 * the session's terms for a {@link LiveSessionVerifier}, with the meter's path for the close proof.
 */
import type { Registry } from "../../types/ethers-contracts/index.js";
import { ZkchargeError } from "../core/errors.ts";
import { meterLeaf, tariffHash } from "../core/hash.ts";
import type { MerklePath } from "../core/tree.ts";
import { tariffFromJson } from "../meter/liveRecord.ts";
import type { Tariff } from "../tariff/tariff.ts";
import { readMeterTree, readTariffs } from "./chain.ts";
import { roundDeadline } from "./privacy.ts";
import type { Offer, StationInfo } from "./stationApi.ts";

/** A station or its offer does not hold against the chain: the message names what; nothing was locked. */
export class OfferRefusedError extends ZkchargeError {
  /** @param message what does not match, naming the station or the charger */
  constructor(message: string) {
    super("OFFER_REFUSED", message);
  }
}

/** A meter is no longer in its CPO's meter tree (revoked since the offer). */
export class MeterNotInTreeError extends ZkchargeError {
  /** @param message the leaf and the CPO */
  constructor(message: string) {
    super("METER_NOT_IN_TREE", message);
  }
}

/** The chain and contracts the wallet is on. */
export interface OfferChain {
  chainId: bigint;
  pool: string;
  registry: Registry;
  registryAddress: string;
  /** Where event scans start. */
  deploymentBlock: number;
}

/** An offer that passed {@link checkOffer}. */
export interface CheckedOffer {
  cpoId: bigint;
  tariff: Tariff;
  tariffHash: bigint;
  meterPublicKey: [bigint, bigint];
  ratedPowerW: bigint;
  meterLeaf: bigint;
  meterPath: MerklePath;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** @throws OfferRefusedError naming what does not match if the station does not serve the wallet's chain, pool and registry */
export function checkStation(info: StationInfo, chain: OfferChain, url: string): void {
  if (info.chainId !== chain.chainId)
    throw new OfferRefusedError(`station ${url} is on chain ${info.chainId}, this wallet on chain ${chain.chainId}`);
  if (!same(info.pool, chain.pool))
    throw new OfferRefusedError(`station ${url} serves the pool ${info.pool}, not this wallet's pool ${chain.pool}`);
  if (!same(info.registry, chain.registryAddress))
    throw new OfferRefusedError(
      `station ${url} names the registry ${info.registry}, not the deployment's ${chain.registryAddress}`,
    );
}

/**
 * Checks `offer` from the station whose info is `info` against the registry on-chain at chain time `now`.
 * @throws OfferRefusedError naming the first thing that does not hold (nothing is locked then)
 */
export async function checkOffer(
  offer: Offer,
  info: StationInfo,
  chain: OfferChain,
  now: bigint,
): Promise<CheckedOffer> {
  const refuse = (why: string): never => {
    throw new OfferRefusedError(`the offer for charger ${offer.chargerId} is refused: ${why}`);
  };
  if (offer.cpoId !== info.cpoId) refuse(`it names CPO ${offer.cpoId}, the station is CPO ${info.cpoId}`);
  let tariff: Tariff;
  try {
    tariff = tariffFromJson(offer.tariff);
  } catch (error) {
    return refuse(`its tariff is malformed (${(error as Error).message})`);
  }
  if (tariff.cpoId !== offer.cpoId) refuse(`its tariff belongs to CPO ${tariff.cpoId}, not CPO ${offer.cpoId}`);
  const hash = tariffHash(tariff);
  if (hash !== offer.tariffHash) refuse(`its tariff hashes to ${hash}, not the offered hash ${offer.tariffHash}`);
  const opts = { fromBlock: chain.deploymentBlock };
  const published = await readTariffs(chain.registry, offer.cpoId, opts);
  if (!published.has(hash))
    refuse(`CPO ${offer.cpoId} never published the tariff ${hash} in the registry (a tariff other than the CPO's)`);
  if (now < tariff.validFrom || now > tariff.validTo)
    refuse(`its tariff is valid from ${tariff.validFrom} to ${tariff.validTo} (unix s), not now (${now})`);
  const [ax, ay] = offer.meterPublicKey;
  let leaf: bigint;
  try {
    leaf = meterLeaf(ax, ay, offer.cpoId, offer.ratedPowerW);
  } catch (error) {
    return refuse(`its meter terms do not make a leaf (${(error as Error).message})`);
  }
  if (leaf !== offer.meterLeaf)
    refuse(`the meter key and rating ${offer.ratedPowerW} W make the leaf ${leaf}, not the offered ${offer.meterLeaf}`);
  const tree = await readMeterTree(chain.registry, offer.cpoId, opts);
  const index = tree.indexOf(leaf);
  if (index < 0) refuse(`the meter (leaf ${leaf}) is not in CPO ${offer.cpoId}'s meter tree (never added, or revoked)`);
  return {
    cpoId: offer.cpoId,
    tariff,
    tariffHash: hash,
    meterPublicKey: [ax, ay],
    ratedPowerW: offer.ratedPowerW,
    meterLeaf: leaf,
    meterPath: tree.path(index),
  };
}

/**
 * The meter `leaf`'s path in CPO `cpoId`'s meter tree as the registry holds it now (for a close proof).
 * @throws MeterNotInTreeError if the leaf is no longer in the tree (revoked since)
 */
export async function meterPath(chain: OfferChain, cpoId: bigint, leaf: bigint): Promise<MerklePath> {
  const tree = await readMeterTree(chain.registry, cpoId, { fromBlock: chain.deploymentBlock });
  const index = tree.indexOf(leaf);
  if (index < 0)
    throw new MeterNotInTreeError(`the meter (leaf ${leaf}) is no longer in CPO ${cpoId}'s meter tree (revoked?)`);
  return tree.path(index);
}

/** The pool's least settle window: a settle deadline at least 15 minutes ahead (docs/protocol.md, Escrowed sessions). */
export const MIN_SETTLE_WINDOW_SECONDS = 15n * 60n;

/**
 * An escrow's deadlines for `offer` at chain time `now`: the settle deadline `settleMinutes` ahead, rounded up to
 * the deadline grid (so it does not reveal the second the driver locked), the claim deadline `claimHours` after it.
 * @throws OfferRefusedError if the settle deadline leaves less than the station (or the pool) wants
 */
export function escrowDeadlines(
  offer: Pick<Offer, "minSecondsToSettle">,
  now: bigint,
  settleMinutes = 120n,
  claimHours = 48n,
): { settleDeadline: bigint; claimDeadline: bigint } {
  const settleDeadline = roundDeadline(now + settleMinutes * 60n);
  const want =
    offer.minSecondsToSettle > MIN_SETTLE_WINDOW_SECONDS ? offer.minSecondsToSettle : MIN_SETTLE_WINDOW_SECONDS;
  if (settleDeadline < now + want)
    throw new OfferRefusedError(
      `the settle deadline would be ${settleDeadline - now} s after the chain time; the station wants ${offer.minSecondsToSettle} s: settle later`,
    );
  return { settleDeadline, claimDeadline: settleDeadline + claimHours * 3600n };
}
