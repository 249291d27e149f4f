/**
 * Keys at rest (docs/keys.md), no chain: `key new` / `key import` write an account's ethers JSON keystore (for the
 * deployer, CPO admin, payer or relayer: `--keystore <role>=<file>` then signs with it), `key address` prints a
 * keystore's address, `key wallet` writes the driver's encrypted wallet file, `key check` opens either kind.
 *
 * Passphrases come from ZKCHARGE_PASSPHRASE or, on a terminal, a prompt without echo (asked twice for a new file);
 * a private key to import from ZKCHARGE_PRIVATE_KEY or standard input. Files are written atomically, mode 0600, and
 * never over an existing one without --force.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Option, type Command } from "commander";
import { Wallet } from "ethers";
import {
  DriverIdentity,
  PASSPHRASE_VARIABLE,
  SCRYPT_DEFAULT,
  decryptAccount,
  decryptWallet,
  keystoreAddress,
  readKeyFile,
  readPassphrase,
  saveAccount,
  saveWallet,
  type ScryptCost,
} from "../../sdk/index.ts";
import { defineCommand } from "../context.ts";
import { CliError } from "../errors.ts";
import { detail, say, short } from "../format.ts";
import { checkRequired, option, required } from "../options.ts";
import { loadState } from "../state.ts";

const HEADING = "Keys at rest (no chain):";
/** Where `key import` reads the private key from when it is not piped in. */
export const PRIVATE_KEY_VARIABLE = "ZKCHARGE_PRIVATE_KEY";

interface WriteOptions {
  out: string;
  force?: boolean;
  scryptLogN: number;
}

/** `--scrypt-log-n`: log2 of scrypt's N, 10..20 (default 17; below that only for tests). */
function scryptLogN(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 10 || Number(text) > 20)
    throw new Error(`"${text}" is not a whole number 10..20`);
  return Number(text);
}

/** The options of a command that writes a key file. */
function writing(command: Command, what: string): Command {
  return command
    .addOption(required(new Option("--out <file>", `the ${what} to write (mode 0600)`), `${what.split(" ")[0]}.json`))
    .addOption(new Option("--force", `replace an existing ${what} (its key is lost unless backed up)`))
    .addOption(
      option(
        "--scrypt-log-n <n>",
        "scrypt cost: N = 2^n (memory 128 * 8 * N bytes); lower than 17 only for tests",
        scryptLogN,
      ).default(Math.log2(SCRYPT_DEFAULT.N), String(Math.log2(SCRYPT_DEFAULT.N))),
    );
}

const cost = (o: WriteOptions): ScryptCost => ({ ...SCRYPT_DEFAULT, N: 2 ** o.scryptLogN });

/** A passphrase for the new file `out`: ZKCHARGE_PASSPHRASE, or typed twice. */
function newPassphrase(what: string, out: string): Promise<string> {
  return readPassphrase({ what: `the new ${what} ${out}`, variables: [PASSPHRASE_VARIABLE], confirm: true });
}

/** The private key to import: ZKCHARGE_PRIVATE_KEY, or standard input (piped, or typed without echo). */
async function privateKeyInput(): Promise<string> {
  const fromEnv = process.env[PRIVATE_KEY_VARIABLE];
  if (fromEnv) return fromEnv.trim();
  if (process.stdin.isTTY) {
    const typed = await readPassphrase({
      what: "the private key to import",
      variables: [],
      prompt: "Private key to import (0x + 64 hex digits, not echoed): ",
    });
    return typed.trim();
  }
  let piped: string;
  try {
    piped = readFileSync(0, "utf8").trim();
  } catch (error) {
    throw new CliError(`cannot read the private key from standard input: ${(error as Error).message}`);
  }
  if (piped === "")
    throw new CliError(`no private key: pipe it on standard input or set ${PRIVATE_KEY_VARIABLE} (0x + 64 hex digits)`);
  return piped;
}

/** Which kind of key file `text` is, by its shape (version 3: an account keystore; otherwise a wallet file). */
function isKeystore(text: string): boolean {
  try {
    const v = (JSON.parse(text) as { version?: unknown }).version;
    return Number(v) === 3;
  } catch {
    return false;
  }
}

export function registerKeyCommands(root: Command): void {
  writing(
    defineCommand(root, "key new", "create a new account (random key) in an ethers JSON keystore; prints its address"),
    "keystore file",
  )
    .helpGroup(HEADING)
    .action(async (o: WriteOptions, self: Command) => {
      checkRequired(self);
      const out = resolve(o.out);
      const passphrase = await newPassphrase("keystore", o.out);
      const address = await saveAccount(out, Wallet.createRandom().privateKey, passphrase, {
        force: o.force,
        scrypt: cost(o),
      });
      say(`Keystore written: ${o.out}, address ${address}`);
      detail(`use it with --keystore <role>=${o.out} (roles: deployer, cpo, payer, relayer)`);
    });

  writing(
    defineCommand(
      root,
      "key import",
      `put an existing private key (from ${PRIVATE_KEY_VARIABLE} or standard input) in an ethers JSON keystore`,
    ),
    "keystore file",
  )
    .helpGroup(HEADING)
    .action(async (o: WriteOptions, self: Command) => {
      checkRequired(self);
      const key = await privateKeyInput();
      const passphrase = await newPassphrase("keystore", o.out);
      const address = await saveAccount(resolve(o.out), key, passphrase, { force: o.force, scrypt: cost(o) });
      say(`Keystore written: ${o.out}, address ${address}`);
    });

  defineCommand(root, "key address", "print the address of an account keystore (no passphrase needed)")
    .helpGroup(HEADING)
    .argument("<file>", "the keystore")
    .action(async (file: string) => {
      const text = readKeyFile(resolve(file), "keystore");
      let address = keystoreAddress(text, { source: `keystore ${file}` });
      if (address === undefined) {
        // A keystore without its address field: the key tells.
        const passphrase = await readPassphrase({ what: `the keystore ${file}` });
        address = (await decryptAccount(text, passphrase, { source: `keystore ${file}` })).address;
      }
      console.log(address);
    });

  writing(
    defineCommand(
      root,
      "key wallet",
      "create the driver's encrypted wallet file: a new Semaphore identity (or, with --from-state, the state file's)",
    ),
    "wallet file",
  )
    .helpGroup(HEADING)
    .addOption(new Option("--from-state", "take the driver identity of the --state file (to move it out of plaintext)"))
    .action(async (o: WriteOptions & { fromState?: boolean }, self: Command) => {
      checkRequired(self);
      let identity: DriverIdentity;
      if (o.fromState) {
        const statePath = resolve(self.optsWithGlobals<{ state: string }>().state);
        const state = loadState(statePath);
        if (!state?.driver) throw new CliError(`no driver identity in ${statePath} to take (run \`driver new\` there)`);
        identity = DriverIdentity.fromSecret(state.driver.secret);
      } else identity = DriverIdentity.random();
      const passphrase = await newPassphrase("wallet file", o.out);
      await saveWallet(
        resolve(o.out),
        { identitySecret: identity.export(), data: { notes: [], sessions: [] } },
        passphrase,
        { force: o.force, scrypt: cost(o) },
      );
      say(`Driver wallet written: ${o.out} (identity commitment ${short(identity.commitment)}, never published)`);
    });

  defineCommand(root, "key check", "open a keystore or a driver wallet file with its passphrase and say what it holds")
    .helpGroup(HEADING)
    .argument("<file>", "the keystore or wallet file")
    .action(async (file: string) => {
      const text = readKeyFile(resolve(file));
      const passphrase = await readPassphrase({ what: `the key file ${file}` });
      if (isKeystore(text)) {
        const wallet = await decryptAccount(text, passphrase, { source: `keystore ${file}` });
        say(`Keystore ${file} opens: account ${wallet.address}`);
      } else {
        const contents = await decryptWallet(text, passphrase, { source: `wallet file ${file}` });
        const identity = DriverIdentity.fromSecret(contents.identitySecret);
        say(`Wallet file ${file} opens: driver identity commitment ${short(identity.commitment)}`);
      }
    });
}
