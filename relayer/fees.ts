/**
 * The relayer's fee policy and its signed quotes. A quote prices an operation at the current max fee per gas:
 * `fee = baseFee + ceil(gasLimit[op] * maxFeePerGas * tokenPerEth / 1e18) * (100 + marginPercent) / 100`, in token
 * base units (the pool pays the relayer in its token; the relayer pays the gas in ETH). A close pays no fee (the
 * pool has none for it), so it is quoted at 0.
 */
import type { Signer } from "ethers";
import {
  QUOTE_TYPES,
  quoteDomain,
  quoteMessage,
  type FeePolicy,
  type Quote,
  type RelayOperation,
  type SignedQuote,
} from "../sdk/index.ts";

/** Gas each operation is priced at: bench/results.json's measurements (523k, 464k, 561k, 446k) with headroom. */
export const DEFAULT_GAS_LIMIT: Record<RelayOperation, bigint> = {
  transact: 600_000n,
  pay: 550_000n,
  lock: 650_000n,
  close: 500_000n,
};

/** The default policy: 0.01 token units (6 decimals) + gas at 3000 tokens per ETH + 10%, quotes valid 60 s. */
export const DEFAULT_FEE_POLICY: FeePolicy = {
  baseFee: 10_000n,
  tokenPerEth: 3_000_000_000n,
  marginPercent: 10n,
  gasLimit: DEFAULT_GAS_LIMIT,
  quoteTtlSeconds: 60n,
};

const WEI_PER_ETH = 10n ** 18n;

/** The fee for `operation` at `maxFeePerGas` (wei) under `policy`. */
export function feeFor(policy: FeePolicy, operation: RelayOperation, maxFeePerGas: bigint): bigint {
  if (operation === "close") return 0n;
  const gasWei = policy.gasLimit[operation] * maxFeePerGas;
  const gasTokens = (gasWei * policy.tokenPerEth + WEI_PER_ETH - 1n) / WEI_PER_ETH;
  return policy.baseFee + (gasTokens * (100n + policy.marginPercent) + 99n) / 100n;
}

/** Signs `quote` with the relayer's account (EIP-712, see sdk/actors/relayerApi.ts). */
export async function signQuote(signer: Signer, quote: Quote): Promise<SignedQuote> {
  const signature = await signer.signTypedData(
    quoteDomain(quote.chainId, quote.pool),
    QUOTE_TYPES,
    quoteMessage(quote),
  );
  return { ...quote, signature };
}
