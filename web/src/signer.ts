/**
 * Who signs the few transactions the site sends from an account (a deposit, the CPO's registry transactions and
 * withdrawals): an injected EIP-1193 wallet (`window.ethereum`, through ethers' BrowserProvider) on any chain, or
 * on dev chains only an account the chain's node holds unlocked (`eth_sendTransaction` on the node, as the wallet's
 * dev deposit does). The injected wallet must be on the site's chain; nothing is sent otherwise.
 */
import { BrowserProvider, type Eip1193Provider, type Signer } from "ethers";
import type { Chain } from "./chain.ts";

/** How a transaction is signed: by the injected wallet, or by an account unlocked on a dev chain's node. */
export type SignerKind = "injected" | "dev";

/** The page's injected EIP-1193 provider, if a wallet extension put one there. */
export function injectedProvider(): Eip1193Provider | undefined {
  const eth = (globalThis as { ethereum?: Eip1193Provider }).ethereum;
  return eth && typeof eth.request === "function" ? eth : undefined;
}

/** A problem with the signing account, in plain words (nothing was sent). */
export class SignerError extends Error {}

/**
 * The injected wallet's account as an ethers Signer, after checking the wallet is on `chain` (asking it for its
 * accounts first, as EIP-1102 wants). `account`, if given, must be one of them.
 * @throws SignerError when there is no injected wallet, it is on another chain, or it holds no such account
 */
export async function injectedSigner(chain: Chain, account?: string): Promise<Signer> {
  const eth = injectedProvider();
  if (!eth) throw new SignerError("No injected wallet (EIP-1193) in this browser: install one, or use a dev account.");
  const provider = new BrowserProvider(eth);
  const accounts = (await provider.send("eth_requestAccounts", [])) as string[];
  const chainId = BigInt((await provider.send("eth_chainId", [])) as string);
  if (chainId !== chain.chainId)
    throw new SignerError(
      `The injected wallet is on chain ${chainId}, this site on chain ${chain.chainId}: switch its network. Nothing was sent.`,
    );
  if (accounts.length === 0) throw new SignerError("The injected wallet shares no account. Nothing was sent.");
  const wanted = account ?? accounts[0]!;
  if (!accounts.some((a) => a.toLowerCase() === wanted.toLowerCase()))
    throw new SignerError(`The injected wallet does not hold account ${wanted}. Nothing was sent.`);
  return provider.getSigner(wanted);
}

/**
 * On a dev chain, `account` as an ethers Signer on the chain's node, if the node holds it unlocked.
 * @throws SignerError on any other chain, or when the node does not hold the account
 */
export async function devSigner(chain: Chain, account: string): Promise<Signer> {
  if (chain.kind !== "dev") throw new SignerError("Dev accounts sign only on dev chains: use an injected wallet.");
  const unlocked = ((await chain.provider.send("eth_accounts", [])) as string[]).map((a) => a.toLowerCase());
  if (!unlocked.includes(account.toLowerCase()))
    throw new SignerError(`The chain's node does not hold account ${account} unlocked. Nothing was sent.`);
  return chain.provider.getSigner(account);
}

/** The signer of `kind` for `account` (the injected wallet's first account when none is named). */
export function signerOf(chain: Chain, kind: SignerKind, account?: string): Promise<Signer> {
  if (kind === "injected") return injectedSigner(chain, account);
  if (account === undefined) throw new SignerError("No dev account named for this chain.");
  return devSigner(chain, account);
}
