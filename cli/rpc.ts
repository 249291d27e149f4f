/**
 * The JSON-RPC side of the CLI: connecting to the node (with a clear error when it is down), the role accounts
 * (the node's unlocked accounts 0..3) and the deployed contracts of a state file.
 */
import { Contract, JsonRpcProvider, Network, type JsonRpcSigner } from "ethers";
import { Pool__factory, Registry__factory, type Pool, type Registry } from "../sdk/index.ts";
import type { RunContext } from "./context.ts";
import { CliError } from "./errors.ts";
import type { CliState } from "./state.ts";

/** A connected node. */
export interface Chain {
  provider: JsonRpcProvider;
  chainId: bigint;
  /** Role accounts: 0 deployer, 1 CPO, 2 payer, 3 relayer. */
  signer(role: 0 | 1 | 2 | 3): Promise<JsonRpcSigner>;
}

/** A connected node with the state file's contracts on it. */
export interface Deployed extends Chain {
  state: CliState;
  pool: Pool;
  registry: Registry;
  token: Contract;
}

const ROLE_NAMES = ["deployer", "CPO", "payer", "relayer"];

/** Connects to `rpc`; the chain id is asked first with a plain fetch, so a node that is down fails fast and clearly. */
export async function connect(rpc: string): Promise<Chain> {
  let chainId: bigint;
  try {
    const response = await fetch(rpc, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { result?: string };
    if (typeof body.result !== "string") throw new Error(`eth_chainId returned ${JSON.stringify(body)}`);
    chainId = BigInt(body.result);
  } catch (error) {
    const inner = (error as { cause?: { code?: string; message?: string } }).cause;
    const cause = inner?.code ?? inner?.message ?? (error as Error).message;
    throw new CliError(`cannot reach the JSON-RPC endpoint ${rpc} (${cause}): start one with \`npx hardhat node\`, or pass --rpc / set ZKCHARGE_RPC`);
  }
  const provider = new JsonRpcProvider(rpc, Network.from(chainId), { staticNetwork: true, pollingInterval: 200 });
  let accounts: string[] | undefined;
  return {
    provider,
    chainId,
    async signer(role) {
      accounts ??= (await provider.send("eth_accounts", [])) as string[];
      if (accounts.length <= role) {
        throw new CliError(`the node at ${rpc} exposes ${accounts.length} unlocked account(s); the ${ROLE_NAMES[role]} is account ${role} ` +
          "(zkcharge needs 4: use `npx hardhat node` or another dev node)");
      }
      return provider.getSigner(role);
    },
  };
}

/** Connects and checks that the node is the state's chain and still holds its Pool (a restarted node does not). */
export async function attach(ctx: RunContext, state: CliState): Promise<Deployed> {
  const chain = await connect(ctx.rpc);
  if (chain.chainId !== state.chainId) {
    throw new CliError(`${ctx.rpc} is chain ${chain.chainId}, but ${ctx.statePath} was deployed on chain ${state.chainId}`);
  }
  if ((await chain.provider.getCode(state.addresses.pool)) === "0x") {
    throw new CliError(`no Pool contract at ${state.addresses.pool} on ${ctx.rpc}: the node was restarted since \`deploy\`? ` +
      "Run `deploy --force` to start over");
  }
  return {
    ...chain,
    state,
    pool: Pool__factory.connect(state.addresses.pool, chain.provider),
    registry: Registry__factory.connect(state.addresses.registry, chain.provider),
    token: new Contract(state.addresses.token, ["function balanceOf(address) view returns (uint256)"], chain.provider),
  };
}

/** The latest block's timestamp. */
export async function chainTime(provider: JsonRpcProvider): Promise<bigint> {
  return BigInt((await provider.getBlock("latest"))!.timestamp);
}

/** The test token balance of `address`. */
export async function tokenBalance(d: Deployed, address: string): Promise<bigint> {
  return (await d.token.getFunction("balanceOf")(address)) as bigint;
}
