/**
 * Contract reverts in words. ethers decodes a custom error only when it knows the contract's ABI at the call site,
 * and over JSON-RPC it often leaves `revert` null with the revert data nested in the provider's error
 * (`execution reverted (unknown custom error)`). {@link decodeRevert} finds the revert data wherever the provider
 * put it and decodes it against every zkcharge contract's ABI (and Solidity's built-in `Error` / `Panic`).
 */
import {
  Interface,
  isHexString,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type ErrorDescription,
} from "ethers";
import { ZkchargeError } from "../core/errors.ts";
import { Pool__factory, Registry__factory } from "../../types/ethers-contracts/index.js";

/** Token errors (OpenZeppelin's IERC20Errors), raised by the pool's token during a deposit or withdrawal. */
const TOKEN_ERRORS = new Interface([
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
  "error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)",
  "error ERC20InvalidSender(address sender)",
  "error ERC20InvalidReceiver(address receiver)",
]);

const INTERFACES: readonly Interface[] = [
  Pool__factory.createInterface(),
  Registry__factory.createInterface(),
  TOKEN_ERRORS,
];

/** A decoded contract revert. */
export interface DecodedRevert {
  /** Error name, e.g. `Pool__SessionAlreadyPaid` (or `Error` / `Panic` for Solidity's built-ins). */
  name: string;
  /** Arguments by name, in declaration order. */
  args: { name: string; value: unknown }[];
  /** `Name(arg = value, ...)`. */
  text: string;
}

/** A transaction or call reverted in a zkcharge contract; the message names the custom error and its arguments. */
export class ContractRevertError extends ZkchargeError {
  /** The decoded revert. */
  readonly revert: DecodedRevert;
  /** The raw revert data (selector and arguments), as ethers' CallException carries it, so tools can decode it too. */
  readonly data: string;

  /**
   * @param action what was attempted (e.g. `pay`)
   * @param revert the decoded revert
   * @param cause the provider's error
   */
  constructor(action: string, revert: DecodedRevert, cause?: unknown) {
    super("CONTRACT_REVERT", `${action} reverted: ${revert.text}`);
    this.revert = revert;
    this.data = revertData(cause) ?? "0x";
    if (cause !== undefined) this.cause = cause;
  }
}

/** Revert data (`0x` + selector + arguments) found anywhere in a provider error, searched breadth-first. */
export function revertData(error: unknown): string | undefined {
  const queue: unknown[] = [error];
  const seen = new Set<unknown>();
  while (queue.length > 0 && seen.size < 64) {
    const e = queue.shift();
    if (e === null || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    const rec = e as Record<string, unknown>;
    const data = rec.data;
    if (typeof data === "string" && isHexString(data) && data.length >= 10) return data;
    // Hardhat, geth and anvil nest the JSON-RPC error as `info.error`, `error`, `error.data` or `cause`.
    for (const key of ["data", "error", "info", "cause", "revert", "payload"]) {
      if (rec[key] !== undefined) queue.push(rec[key]);
    }
  }
  return undefined;
}

function describe(d: ErrorDescription): DecodedRevert {
  const args = d.fragment.inputs.map((input, i) => ({ name: input.name || `arg${i}`, value: d.args[i] as unknown }));
  const shown = args.map((a) => `${a.name} = ${String(a.value)}`).join(", ");
  return { name: d.name, args, text: `${d.name}(${shown})` };
}

/**
 * Decodes the revert inside a provider error against every zkcharge contract's ABI.
 * @returns the decoded revert, or undefined if the error carries no revert data zkcharge knows
 */
export function decodeRevert(error: unknown): DecodedRevert | undefined {
  const data = revertData(error);
  if (data === undefined) return undefined;
  for (const iface of INTERFACES) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return describe(parsed);
    } catch {
      // data that does not decode under this ABI: try the next one
    }
  }
  return undefined;
}

/**
 * Runs a contract call or transaction and turns a revert into a {@link ContractRevertError} naming the custom error
 * and its arguments; any other error passes through unchanged.
 * @param action what is attempted, for the message (e.g. `pay`, `deposit`)
 */
export async function withRevertReason<T>(action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const revert = decodeRevert(error);
    if (revert) throw new ContractRevertError(action, revert, error);
    throw error;
  }
}

/**
 * Sends a transaction and waits for its receipt, turning a revert (at estimation, sending or mining) into a
 * {@link ContractRevertError} naming the custom error.
 * @param action what is attempted, for the message (e.g. `pay`, `deposit`)
 */
export function sendAndWait(
  action: string,
  send: () => Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt> {
  return withRevertReason(action, async () => {
    const receipt = await (await send()).wait();
    if (receipt === null) throw new Error(`${action}: the transaction was dropped or replaced`);
    return receipt;
  });
}
