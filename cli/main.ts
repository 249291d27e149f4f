/**
 * `zkcharge` (started by cli/zkcharge.ts once the compiled contracts are there): the demo story, one step per command, against any JSON-RPC endpoint (e.g. `npx hardhat node`),
 * with what must survive between commands (addresses, ids, keys, sessions) in a local JSON state file.
 * Run `npm run zkcharge -- --help`, or `... <command> --help` for a command's options.
 *
 * This file is the program: global options, help and error reporting. The commands are in `commands/`.
 */
import { Command, CommanderError, Help, Option } from "commander";
import { ZkchargeError, decodeRevert, shutdownProver } from "../sdk/index.ts";
import { DEFAULT_RPC, DEFAULT_STATE, declarationOrder } from "./context.ts";
import { CliError } from "./errors.ts";
import { registerChainCommands } from "./commands/chain.ts";
import { registerCpoCommands } from "./commands/cpo.ts";
import { registerDriverCommands } from "./commands/driver.ts";
import { registerEscrowCommands } from "./commands/escrow.ts";
import { registerKeyCommands } from "./commands/key.ts";
import { registerOcmfCommands } from "./commands/ocmf.ts";
import { registerOcpiCommands } from "./commands/ocpi.ts";
import { registerSessionCommands } from "./commands/session.ts";
import { registerWalletCommands } from "./commands/wallet.ts";
import { isRequired, option, wholeArg } from "./options.ts";
import { DEFAULT_TIMEOUT_SECONDS } from "./rpc.ts";
import { DEFAULT_DEV_CHAINS, ROLES, parseDevChains, parseKeystoreOption } from "./signers.ts";
import { StateFormatError } from "./state.ts";

const ABOUT = `Private EV-charging payments, step by step, against a JSON-RPC node (a dev tool).
Each command's options: zkcharge <command> --help.`;

const AFTER_HELP = `
The story, in order (npm run zkcharge -- <command>):
  deploy, cpo register, meter add --power-w 22000, tariff publish, driver new, driver deposit --amount 20.00,
  chain advance --minutes 31 (paying right after a deposit links the two: refused unless --accept-linkable),
  session simulate --from 16:30 --minutes 70 --power-w 11000, driver pay --session s1, cpo withdraw,
  driver balance, driver withdraw --to <addr>, status
  Meter data: ocmf verify <file> --keys keys.json (OCMF records; no chain needed)
  OCPI tariffs: tariff import --ocpi tariff.json, tariff price --ocpi tariff.json --session readings.json
  Escrowed: session start --from 21:30, driver lock --session s2 --cap 20.00, cpo verify-escrow --escrow e1,
  session simulate --session s2 --minutes 50 --power-w 11000 [--keep-open], cpo close --escrow e1 [--tail],
  driver refund --escrow e1 (after the claim deadline; chain advance --minutes <n> moves a dev chain's clock)

Accounts, with fixed roles: 0 deployer   1 CPO admin (registers, adds meters, publishes tariffs, submits payments,
  closes escrows, withdraws)   2 payer (funds the driver's deposits)   3 relayer (submits the driver's withdrawals,
  locks and refunds). A role signs with its keystore when given one (--keystore cpo=cpo.json, ZKCHARGE_KEYSTORE_CPO;
  make one with \`key new\`); without one, on dev chains only (--dev-chains, default 31337, 1337), with the node's unlocked
  account of that number (eth_accounts). On any other chain a role without a keystore is refused.
The driver itself has no account: it is a Semaphore identity kept in the state file.

The state file is written atomically (temp file, fsync, rename). It holds SECRETS IN PLAINTEXT
(the driver's identity, the meters' private keys): it is for dev chains only, and refuses them for any other chain
(the driver's encrypted wallet: \`key wallet\`; docs/keys.md).
Every command first reconciles the state file with the chain (sessions paid, escrows closed, refunded or locked
by a command killed after sending) and prints what it repaired. A command that fails (exit code 1) leaves the
state file untouched apart from such repairs. Every wait on the node is bounded by --timeout; a transaction sent
but not confirmed in time is named with its hash: check it with \`chain tx --hash <hash>\`.`;

/** The root command: global options and help settings, which every (sub)command created after it inherits. */
function program(): Command {
  const root = new Command("zkcharge")
    .description(ABOUT)
    .addOption(new Option("--rpc <url>", "JSON-RPC endpoint").env("ZKCHARGE_RPC").default(DEFAULT_RPC))
    .addOption(new Option("--state <path>", "state file").default(DEFAULT_STATE))
    .addOption(
      option(
        "--timeout <s>",
        "the longest wait for the node: an answer to a request, a sent transaction's receipt",
        wholeArg(24n * 3600n),
      )
        .env("ZKCHARGE_TIMEOUT")
        .default(BigInt(DEFAULT_TIMEOUT_SECONDS), String(DEFAULT_TIMEOUT_SECONDS)),
    )
    .addOption(
      new Option(
        "--keystore <role=file>",
        `sign as <role> (${ROLES.join(", ")}) with an ethers JSON keystore (repeatable; or ZKCHARGE_KEYSTORE_<ROLE>); ` +
          "passphrase from ZKCHARGE_PASSPHRASE_<ROLE>, ZKCHARGE_PASSPHRASE or a prompt",
      )
        .argParser((text: string, previous: unknown) => {
          try {
            return [...((previous as unknown[] | undefined) ?? []), parseKeystoreOption(text)];
          } catch (error) {
            throw new CliError(`--keystore: ${(error as Error).message}`);
          }
        })
        .default([], "none"),
    )
    .addOption(
      option(
        "--dev-chains <ids>",
        "chain ids where roles without a keystore use the node's unlocked accounts and the plaintext state file may hold secrets",
        parseDevChains,
      )
        .env("ZKCHARGE_DEV_CHAINS")
        .default(DEFAULT_DEV_CHAINS, DEFAULT_DEV_CHAINS.join(",")),
    )
    .addHelpText("after", AFTER_HELP)
    .exitOverride()
    .showHelpAfterError("(see --help)")
    .configureOutput({ outputError: (text, write) => write(`zkcharge: ${text}`) })
    .configureHelp({
      showGlobalOptions: true,
      helpWidth: 120,
      // List every command with its full name ("driver pay") in the order declared, not the groups; no `help` command
      // (it works, but --help is the way shown).
      visibleCommands(cmd) {
        const leaves = (c: Command): Command[] => (c.commands.length > 0 ? c.commands.flatMap(leaves) : [c]);
        return cmd.commands.flatMap(leaves).sort((a, b) => declarationOrder(a) - declarationOrder(b));
      },
      optionDescription(option) {
        const text = Help.prototype.optionDescription.call(this, option);
        return isRequired(option) ? `${text} (required)` : text;
      },
      subcommandTerm(cmd) {
        const name = cmd.parent?.parent ? `${cmd.parent.name()} ${cmd.name()}` : cmd.name();
        return cmd.options.length > 0 ? `${name} [options]` : name;
      },
    });
  registerChainCommands(root);
  registerCpoCommands(root);
  registerOcpiCommands(root);
  registerDriverCommands(root);
  registerSessionCommands(root);
  registerEscrowCommands(root);
  registerOcmfCommands(root);
  registerKeyCommands(root);
  registerWalletCommands(root);
  return root;
}

/**
 * One line for an error: ours and the SDK's name their cause (a ContractRevertError its custom error); any other
 * error carrying revert data is decoded against the zkcharge ABIs; anything else shows its first line only (Hardhat's
 * and ethers' messages run to pages; ZKCHARGE_DEBUG=1 prints the whole error).
 */
function describe(error: unknown): string {
  if (error instanceof CliError || error instanceof ZkchargeError || error instanceof StateFormatError)
    return error.message;
  const decoded = decodeRevert(error);
  if (decoded) return `transaction reverted with ${decoded.text}`;
  const e = error as { shortMessage?: string; message?: string };
  return (e?.shortMessage ?? e?.message ?? String(error)).split("\n")[0]!;
}

let code: number;
try {
  await program().parseAsync(process.argv.slice(2), { from: "user" });
  code = 0;
} catch (error) {
  if (error instanceof CommanderError) {
    code = error.exitCode; // commander printed the help or the usage error already (0 for --help)
  } else {
    console.error(`zkcharge: error: ${describe(error)}`);
    if (process.env.ZKCHARGE_DEBUG) console.error(error);
    code = error instanceof CliError ? error.exitCode : 1;
  }
} finally {
  await shutdownProver();
}
process.exit(code);
