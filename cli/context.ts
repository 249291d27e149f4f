/**
 * What every zkcharge command shares: the run context (state file, RPC endpoint) and how a
 * command is declared (`defineCommand`) and run (`runs`): options are parsed and checked by commander first
 * (no network, no state), then the handler checks the state, talks to the chain and returns the new state,
 * which is saved atomically. A command that throws leaves the state file as it was.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { detail, say } from "./format.ts";
import { checkRequired } from "./options.ts";
import { reconcile } from "./reconcile.ts";
import { CliError } from "./errors.ts";
import { attach, TxWatch, type Endpoint } from "./rpc.ts";
import { signerConfig, type Role } from "./signers.ts";
import { loadState, plaintextSecretsProblem, saveState, stateSecrets, type CliState } from "./state.ts";

export const DEFAULT_RPC = "http://127.0.0.1:8545";
export const DEFAULT_STATE = ".zkcharge/state.json";

/**
 * Where a command runs: the state file (absolute path), the JSON-RPC endpoint and the bound on waiting for it
 * (`watch`: every request and every sent transaction's receipt, `--timeout`).
 */
export interface RunContext extends Endpoint {
  statePath: string;
}

/**
 * A command's work: `state` is the loaded state file (undefined if there is none yet), `options` its parsed
 * options, `args` its positional arguments (if it declares any). Returns the new state to save, or undefined (or
 * `state` itself) to leave the file alone.
 */
export type Handler<O> = (
  ctx: RunContext,
  state: CliState | undefined,
  options: O,
  args: readonly string[],
) => Promise<CliState | undefined>;

/** What each command group (the first word of a command) is about, for `zkcharge <group> --help`. */
const GROUPS: Record<string, string> = {
  cpo: "the charge point operator (account 1): register, withdraw earnings, check and close escrows",
  meter: "the CPO's meters: add (a fresh key, kept in the state file) and revoke",
  tariff: "the CPO's tariffs",
  driver: "the driver (a Semaphore identity in the state file): deposit, pay, balance, withdraw, lock, refund",
  session: "charging sessions the meter signs (simulated, or by the gateway from OCMF records)",
  chain: "dev-chain helpers",
  key: "keys at rest: account keystores (ethers JSON keystore) and the driver's encrypted wallet file (no chain)",
  wallet: "the driver's wallet as its own process: its own encrypted key store, live charging at a station by URL",
  ocmf: "OCMF records from calibrated meters, checked as transparency software does (no chain)",
};

const declared = new WeakMap<Command, number>();
let declaredCount = 0;

/** Where `command` was declared among all commands (the help lists them in that order), or -1. */
export function declarationOrder(command: Command): number {
  return declared.get(command) ?? -1;
}

/**
 * Declares the command `name` ("deploy" or "<group> <command>") under `root`, creating its group on first use.
 * Commander settings (output, exit override, help) are inherited from `root`, so configure it first.
 */
export function defineCommand(root: Command, name: string, description: string): Command {
  const words = name.split(" ");
  let parent = root;
  if (words.length === 2) {
    const group = words[0]!;
    parent = root.commands.find((c) => c.name() === group) ?? root.command(group).description(GROUPS[group] ?? group);
  } else if (words.length !== 1) {
    throw new Error(`command names have one or two words: "${name}"`);
  }
  const command = parent.command(words.at(-1)!).description(description);
  declared.set(command, declaredCount++);
  return command;
}

/** The options every command takes (declared on the root command). */
interface GlobalOptions {
  state: string;
  rpc: string;
  /** Seconds. */
  timeout: bigint;
  /** `--keystore role=path`, repeated. */
  keystore: { role: Role; path: string }[];
  devChains: bigint[];
}

/** How a command uses the state file. */
export interface RunsOptions {
  /**
   * Reconcile a loaded state with the chain before the handler runs (default true). Off only for commands that
   * replace the state or never act on what it says is paid or open (`deploy`, `driver new`, `chain advance`).
   */
  reconcile?: boolean;
}

/**
 * Sets `handler` as `command`'s action: load the state, reconcile it with the chain (repairs are printed and saved
 * at once: they are facts from the chain, kept even if the command then fails), run, save the new state atomically
 * (only on success). The run fails with the transaction's hash when a sent transaction's receipt does not come
 * within `--timeout`.
 */
export function runs<O>(command: Command, handler: Handler<O>, how: RunsOptions = {}): Command {
  // commander calls an action with the positional arguments first, then the options and the command.
  return command.action(async (...params: unknown[]) => {
    const self = params.at(-1) as Command;
    const options = params.at(-2) as O;
    checkRequired(self);
    const globals = self.optsWithGlobals<GlobalOptions>();
    const watch = new TxWatch(globals.rpc, Number(globals.timeout) * 1000);
    const signers = signerConfig(globals.keystore ?? [], globals.devChains);
    const ctx: RunContext = { statePath: resolve(globals.state), rpc: globals.rpc, watch, signers };
    try {
      await Promise.race([
        watch.failure,
        (async () => {
          let state = loadState(ctx.statePath);
          if (state && how.reconcile !== false) state = await repair(ctx, state);
          const next = await handler(ctx, state, options, self.processedArgs as string[]);
          if (next !== undefined && next !== state) save(ctx, next);
        })(),
      ]);
    } finally {
      watch.dispose();
    }
  });
}

/**
 * Refuses, before anything is sent, a command that would put the plaintext secret `what` (e.g. "meter private keys")
 * in the state file of a chain that is not a dev chain.
 */
export function needPlaintextAllowed(ctx: RunContext, state: CliState, what: string): void {
  const problem = plaintextSecretsProblem(state.chainId, [what], ctx.signers.devChains);
  if (problem) throw new CliError(problem);
}

/** Saves `state` atomically, refusing plaintext secrets for a chain that is not a dev chain. */
function save(ctx: RunContext, state: CliState): void {
  const problem = plaintextSecretsProblem(state.chainId, stateSecrets(state), ctx.signers.devChains);
  if (problem) throw new CliError(problem);
  saveState(ctx.statePath, state);
}

/** `state` reconciled with the chain; repairs are printed and saved. */
async function repair(ctx: RunContext, state: CliState): Promise<CliState> {
  const d = await attach(ctx, state);
  try {
    const { state: repaired, repairs } = await reconcile(d, state);
    if (repairs.length === 0) return state;
    say(`State file repaired from the chain (${ctx.statePath}):`);
    for (const line of repairs) detail(line);
    save(ctx, repaired);
    return repaired;
  } finally {
    d.provider.destroy();
  }
}
