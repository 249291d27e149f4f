/**
 * What every zkcharge command shares: the run context (state file, RPC endpoint) and how a
 * command is declared (`defineCommand`) and run (`runs`): options are parsed and checked by commander first
 * (no network, no state), then the handler checks the state, talks to the chain and returns the new state,
 * which is saved atomically. A command that throws leaves the state file as it was.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { checkRequired } from "./options.ts";
import { loadState, saveState, type CliState } from "./state.ts";

export const DEFAULT_RPC = "http://127.0.0.1:8545";
export const DEFAULT_STATE = ".zkcharge/state.json";

/** Where a command runs: the state file (absolute path) and the JSON-RPC endpoint. */
export interface RunContext {
  statePath: string;
  rpc: string;
}

/**
 * A command's work: `state` is the loaded state file (undefined if there is none yet), `options` its parsed
 * options. Returns the new state to save, or undefined (or `state` itself) to leave the file alone.
 */
export type Handler<O> = (ctx: RunContext, state: CliState | undefined, options: O) => Promise<CliState | undefined>;

/** What each command group (the first word of a command) is about, for `zkcharge <group> --help`. */
const GROUPS: Record<string, string> = {
  cpo: "the charge point operator (account 1): register, withdraw earnings, check and close escrows",
  meter: "the CPO's meters: add (a fresh key, kept in the state file) and revoke",
  tariff: "the CPO's tariffs",
  driver: "the driver (a Semaphore identity in the state file): deposit, pay, balance, withdraw, lock, refund",
  session: "charging sessions the meter signs (simulated)",
  chain: "dev-chain helpers",
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
    parent = root.commands.find((c) => c.name() === group) ??
      root.command(group).description(GROUPS[group] ?? group);
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
}

/** Sets `handler` as `command`'s action: load the state, run, save the new state atomically (only on success). */
export function runs<O>(command: Command, handler: Handler<O>): Command {
  return command.action(async (options: O, self: Command) => {
    checkRequired(self);
    const globals = self.optsWithGlobals<GlobalOptions>();
    const ctx: RunContext = { statePath: resolve(globals.state), rpc: globals.rpc };
    const state = loadState(ctx.statePath);
    const next = await handler(ctx, state, options);
    if (next !== undefined && next !== state) saveState(ctx.statePath, next);
  });
}
