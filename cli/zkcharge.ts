#!/usr/bin/env -S npx tsx
/**
 * `zkcharge`: the demo story, one step per command, against any JSON-RPC endpoint (e.g. `npx hardhat node`),
 * with what must survive between commands (addresses, ids, keys, sessions) in a local JSON state file.
 * Run `npm run zkcharge -- --help`.
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { shutdownProver } from "../prover/index.ts";
import { ZkchargeError } from "../sdk/core/errors.ts";
import { COMMANDS, CliError, DEFAULT_RPC, DEFAULT_STATE, run, type CommandName } from "./commands.ts";

const HELP = `zkcharge: private EV-charging payments, step by step, against a JSON-RPC node (a dev tool)

Usage: npm run zkcharge -- <command> [options]

Commands:
  deploy [--force]                      deploy Poseidon, test token, verifiers, Registry, Pool;
                                        mint 1000 tEUR to the payer account (--force: start a new state)
  cpo register [--payout <addr>]        register the CPO (payout defaults to the CPO account)
  meter add --power-w <W>               create a meter key, register it (rated power in W)
  meter revoke --meter <id>             revoke a meter (id like m1, or its leaf)
  tariff publish [tariff options]       publish a tariff (default: the demo 4-band tariff)
      --flat-fee 0.50                   per-session fee, EUR
      --energy-prices 0.25,0.39,0.45,0.30   EUR per kWh of bands 0..3
      --band-starts 07:00,17:00,22:00   local start of bands 1..3 (band 0 starts at 00:00)
      --time-price 0.12                 EUR per hour plugged in
      --max-price 0                     cap on a session's amount, EUR (0: no cap)
      --tz +01:00                       local time zone (UTC offset; --tz=-05:00 for negative ones)
      --valid-days 180                  validity from now
  driver new [--force]                  create the driver's Semaphore identity (--force replaces it)
  driver deposit --amount <EUR>         deposit into a new private note, paid by the payer account
  session simulate --from HH:MM --minutes <n> --power-w <W> [--meter <id>]
                                        a meter-signed session starting at the next local HH:MM
                                        under the latest tariff (chain points at every band boundary)
  driver pay --session <id>             prove the payment; the CPO checks and submits it
  cpo withdraw                          withdraw the CPO's earnings to its payout address
  driver balance                        rebuild the wallet from the pool's events, print the notes
  driver withdraw --to <addr> [--amount <EUR>] [--fee <EUR>]
                                        withdraw (default: everything) via the relayer account,
                                        which submits and takes --fee (default 0.02)
  status                                addresses, CPO, meters, tariffs, driver, sessions, escrows

Escrowed sessions (pre-authorise a cap, charge, the CPO closes; the rest of the cap returns to the driver):
  session start --from HH:MM [--meter <id>]
                                        plug-in: start a session at the next local HH:MM under the
                                        latest tariff (a fresh session id, no readings yet)
  driver lock --session <id> --cap <EUR> [--settle-minutes 120] [--claim-hours 48] [--fee 0.02]
                                        lock up to --cap for the started session via the relayer;
                                        settle deadline = session start + --settle-minutes,
                                        claim deadline = settle deadline + --claim-hours (>= 24)
  cpo verify-escrow --escrow <id> [--min-cap 10.00]
                                        the CPO's check before switching on: open, this CPO and
                                        session, cap >= --min-cap, >= 60 min to the settle deadline
  session simulate --session <id> --minutes <n> --power-w <W> [--keep-open]
                                        charge a started session on for <n> minutes, then the meter
                                        signs the session end; --keep-open: no end (the driver
                                        disappeared), the meter only signs live tails
  cpo close --escrow <id> [--tail]      prove and submit the close with the session-end record;
                                        --tail: from the last live tail, only after the settle deadline
  driver refund --escrow <id>           refund an escrow nobody closed, after its claim deadline
  chain advance --minutes <n>           DEV CHAINS ONLY: move the node's clock forward
                                        (evm_increaseTime + evm_mine), e.g. past a settle deadline

Global options:
  --rpc <url>      JSON-RPC endpoint (default: $ZKCHARGE_RPC or ${DEFAULT_RPC})
  --state <path>   state file (default: ${DEFAULT_STATE})
  -h, --help       this help

Accounts: the node's unlocked accounts (eth_accounts), with fixed roles:
  0 deployer   1 CPO admin (registers, adds meters, publishes tariffs, submits payments, closes escrows,
               withdraws)
  2 payer (funds the driver's deposits)   3 relayer (submits the driver's withdrawals, locks and refunds)
The driver itself has no account: it is a Semaphore identity kept in the state file.

The state file is written atomically (temp file, fsync, rename). It holds SECRETS IN PLAINTEXT
(the driver's identity, the meters' private keys): this is a development tool, for test chains only.
A command that fails (exit code 1) leaves the state file untouched.`;

const OPTIONS = {
  state: { type: "string" },
  rpc: { type: "string" },
  help: { type: "boolean", short: "h" },
  force: { type: "boolean" },
  payout: { type: "string" },
  "power-w": { type: "string" },
  meter: { type: "string" },
  "flat-fee": { type: "string" },
  "energy-prices": { type: "string" },
  "band-starts": { type: "string" },
  "time-price": { type: "string" },
  "max-price": { type: "string" },
  tz: { type: "string" },
  "valid-days": { type: "string" },
  amount: { type: "string" },
  from: { type: "string" },
  minutes: { type: "string" },
  session: { type: "string" },
  to: { type: "string" },
  fee: { type: "string" },
  cap: { type: "string" },
  "settle-minutes": { type: "string" },
  "claim-hours": { type: "string" },
  escrow: { type: "string" },
  "min-cap": { type: "string" },
  "keep-open": { type: "boolean" },
  tail: { type: "boolean" },
} as const;

function describe(error: unknown): string {
  if (error instanceof CliError || error instanceof ZkchargeError) return error.message;
  const e = error as { revert?: { name?: string; args?: unknown[] }; shortMessage?: string; message?: string; code?: string };
  if (e?.revert?.name) return `transaction reverted with ${e.revert.name}(${(e.revert.args ?? []).join(", ")})`;
  return e?.shortMessage ?? e?.message ?? String(error);
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // Node's messages go on with advice about `--`; the first sentence names the problem.
    const lines = (error as Error).message.split("\n");
    const first = lines[0]!.split(". ")[0]!.replace(/\.$/, "");
    const hint = /ambiguous/.test(first) ? `: ${lines.at(-1)!.replace(/^To/, "to").replace(/\.$/, "")}` : "";
    throw new CliError(`${first}${hint} (see --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    console.log(HELP);
    return positionals.length === 0 && !values.help ? 1 : 0;
  }
  const name = positionals.join(" ");
  if (!(name in COMMANDS)) {
    throw new CliError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(", ")}; see --help)`);
  }
  const command = name as CommandName;
  const allowed = new Set<string>(["state", "rpc", "help", ...COMMANDS[command]]);
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && !allowed.has(key)) throw new CliError(`option --${key} does not apply to "${command}" (see --help)`);
  }
  const statePath = resolve(values.state ?? DEFAULT_STATE);
  const rpc = values.rpc ?? process.env.ZKCHARGE_RPC ?? DEFAULT_RPC;
  await run(command, { values: values as Record<string, string | boolean | undefined>, statePath, rpc });
  return 0;
}

let code = 1;
try {
  code = await main(process.argv.slice(2));
} catch (error) {
  console.error(`zkcharge: error: ${describe(error)}`);
  if (process.env.ZKCHARGE_DEBUG) console.error(error);
  code = 1;
} finally {
  await shutdownProver();
}
process.exit(code);
