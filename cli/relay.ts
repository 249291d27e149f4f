/**
 * Who submits a driver's withdrawal or lock: a relayer service the user names by URL (`--relayer`,
 * `ZKCHARGE_RELAYER_URL`; its signed quote sets the relayer address and fee the proof binds, and it pays the gas),
 * or else the dev chain's relayer account (account 3) for `--fee`.
 */
import type { ContractTransactionReceipt, Signer } from "ethers";
import { RelayerClient, type RelayOperation, type RelayRequest, type SignedQuote } from "../sdk/index.ts";
import { CliError } from "./errors.ts";
import { detail, say, txLine } from "./format.ts";
import { option } from "./options.ts";
import type { Deployed } from "./rpc.ts";

/** The `--relayer <url>` option. */
export function relayerOption() {
  return option("--relayer <url>", "a relayer service (npm run relayer), e.g. http://127.0.0.1:8080", httpUrl).env(
    "ZKCHARGE_RELAYER_URL",
  );
}

/** An http(s) URL. */
function httpUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text}" is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`"${text}" is not an http(s) URL`);
  return text;
}

/** What the proof binds (relayer address, fee) and who will submit it. */
export type Submitter =
  | { kind: "service"; relayer: string; fee: bigint; service: RelayerClient; quote: SignedQuote }
  | { kind: "account"; relayer: string; fee: bigint; signer: Signer };

/**
 * The submitter of `operation`: the service at `url` (after checking it serves this state's pool and chain) with
 * its quoted fee, or the relayer account 3 with `fee`.
 */
export async function submitterFor(
  d: Deployed,
  operation: RelayOperation,
  url: string | undefined,
  fee: bigint,
  timeoutMs: number,
): Promise<Submitter> {
  if (url === undefined) {
    const signer = await d.signer(3);
    return { kind: "account", relayer: await signer.getAddress(), fee, signer };
  }
  const service = new RelayerClient(url, { timeoutMs });
  try {
    const details = await service.details();
    const pool = await d.pool.getAddress();
    if (details.chainId !== d.chainId || details.pool.toLowerCase() !== pool.toLowerCase()) {
      throw new CliError(
        `relayer ${url} serves pool ${details.pool} on chain ${details.chainId}, not this state's pool ${pool} on chain ${d.chainId}`,
      );
    }
    const quote = await service.quote(operation);
    return { kind: "service", relayer: quote.relayer, fee: quote.fee, service, quote };
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`relayer ${url}: ${(error as Error).message}`);
  }
}

/** `via the relayer 0x... at URL` for messages. */
export function viaText(s: Submitter): string {
  return `via the relayer ${s.relayer}${s.kind === "service" ? ` at ${s.service.url}` : ""}`;
}

/**
 * Has `s` submit: the service gets `request` (built with its quote) and is waited for; the account sends with
 * `send`. Prints the transaction line; returns its hash.
 */
export async function submitThrough(
  s: Submitter,
  what: string,
  request: (quote: SignedQuote) => RelayRequest,
  send: (signer: Signer) => Promise<ContractTransactionReceipt>,
  timeoutMs: number,
): Promise<string> {
  if (s.kind === "account") {
    const receipt = await send(s.signer);
    txLine(`relayer submitted ${what}`, receipt);
    return receipt.hash;
  }
  const accepted = await s.service.relay(request(s.quote));
  detail(`relayer job ${accepted.id}: ${accepted.existing ? "already known" : "accepted"}`);
  const job = await s.service.waitForJob(accepted.id, { timeoutMs });
  if (job.status !== "mined" || job.txHash === undefined) {
    throw new CliError(`relayer job ${job.id} ${job.status}: ${job.reason ?? "no reason given"}`);
  }
  say(`relayer submitted ${what}: tx ${job.txHash} (block ${job.blockNumber})`);
  return job.txHash;
}
