/**
 * Option values: parsers from an option's text to its value, and {@link option}, which attaches one to a
 * commander option so that a bad value fails while parsing (before any state or network) with an error
 * naming the option, e.g. `--amount: "1.2345678" has 7 decimals; the token has only 6`.
 */
import { Option, type Command } from "commander";
import { getAddress, isAddress } from "ethers";
import { FIELD_MODULUS, parseAmount } from "../sdk/index.ts";
import { DAY, HOUR } from "../dev/localNetwork.ts";
import { CliError } from "./errors.ts";

/** Turns an option's text into its value, or throws an Error saying what is wrong with the text. */
export type Parse<T> = (text: string) => T;

/**
 * A commander option (`flags` like `"--amount <EUR>"`) whose value is `parse(text)`; a parse failure becomes a
 * {@link CliError} `"--amount: <why>"`. Defaults set with `.default(value, shown)` are values, not text.
 */
export function option<T>(flags: string, description: string, parse: Parse<T>): Option {
  const o = new Option(flags, description);
  return o.argParser((text: string) => {
    try {
      return parse(text);
    } catch (error) {
      throw new CliError(`${o.long}: ${(error as Error).message}`);
    }
  });
}

const examples = new WeakMap<Option, string>();

/**
 * Marks `option` required, `example` a value for the error when it is missing (`missing --amount (e.g. --amount
 * 20.00)`). Checked by {@link checkRequired} after commander parsed the command line, so that an unknown (say,
 * misspelt) option is reported first; commander's own mandatory options are checked before that.
 */
export function required(option: Option, example: string): Option {
  examples.set(option, example);
  return option;
}

/** Whether {@link required} marked `option`. */
export function isRequired(option: Option): boolean {
  return examples.has(option);
}

/** @throws CliError naming the first required option of `command` that was not given */
export function checkRequired(command: Command): void {
  for (const o of command.options) {
    const example = examples.get(o);
    if (example !== undefined && command.getOptionValue(o.attributeName()) === undefined) {
      throw new CliError(`missing ${o.long} (e.g. ${o.long} ${example})`);
    }
  }
}

/** An amount in EUR (up to the token's 6 decimals) as base units; more than 0 unless `positive` is false. */
export function amountArg({ positive = true } = {}): Parse<bigint> {
  return (text) => {
    const value = parseAmount(text);
    if (positive && value === 0n) throw new Error("must be more than 0");
    return value;
  };
}

/** A whole number in 1..max. */
export function wholeArg(max: bigint): Parse<bigint> {
  return (text) => {
    if (!/^\d+$/.test(text)) throw new Error(`"${text}" is not a whole number`);
    const value = BigInt(text);
    if (value === 0n || value > max) throw new Error(`${text} is outside 1..${max}`);
    return value;
  };
}

/** A field element (below the BN254 modulus), decimal or 0x-hex: a session id, say. */
export const fieldArg: Parse<bigint> = (text) => {
  if (!/^(\d+|0x[0-9a-fA-F]+)$/.test(text)) throw new Error(`"${text}" is not a number (decimal or 0x-hex)`);
  const value = BigInt(text);
  if (value >= FIELD_MODULUS) throw new Error(`${text} is not below the field modulus`);
  return value;
};

/** A local time of day `HH:MM` as seconds after midnight. */
export const clockArg: Parse<bigint> = (text) => {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a time of day HH:MM (00:00..23:59)`);
  return BigInt(m[1]!) * HOUR + BigInt(m[2]!) * 60n;
};

/** An Ethereum address, checksummed. */
export const addressArg: Parse<string> = (text) => {
  if (!isAddress(text)) throw new Error(`"${text}" is not an Ethereum address`);
  return getAddress(text);
};

/** A transaction hash, 0x + 64 hex digits. */
export const txHashArg: Parse<string> = (text) => {
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) throw new Error(`"${text}" is not a transaction hash (0x and 64 hex digits)`);
  return text.toLowerCase();
};

/** A UTC offset `+HH:MM` / `-HH:MM` as the tariff's `tzOffset` (seconds added to UTC, negative zones mod one day). */
export const utcOffsetArg: Parse<bigint> = (text) => {
  const m = /^([+-])(\d{1,2}):([0-5]\d)$/.exec(text);
  if (!m || Number(m[2]) > 14) throw new Error(`"${text}" is not a UTC offset like +01:00 or -05:00`);
  const offset = BigInt(m[2]!) * HOUR + BigInt(m[3]!) * 60n;
  return m[1] === "-" ? (DAY - offset) % DAY : offset;
};

/** Exactly `count` comma-separated values, each parsed by `parse`. */
export function listArg<T>(count: number, parse: Parse<T>): Parse<T[]> {
  return (text) => {
    const parts = text.split(",").map((s) => s.trim());
    if (parts.length !== count) throw new Error(`expected ${count} comma-separated values, got ${parts.length}`);
    return parts.map(parse);
  };
}

/** `--accept-linkable`: send a spend the wallet's privacy report flags as linkable (refused without it). */
export const acceptLinkableOption = (): Option =>
  new Option(
    "--accept-linkable",
    "send it even if the privacy report says it is linkable (a fresh deposit or merge, custom escrow terms)",
  );
