/**
 * Where a key file's passphrase comes from: an environment variable (services, scripts, tests) or else a prompt on
 * the terminal without echo (people). With neither, the error names the variable to set: a service never hangs
 * waiting for input nobody can give.
 */
import { canPrompt, environment, promptHidden } from "#key-files";
import { PassphraseUnavailableError } from "./errors.ts";

/** The general passphrase variable, read after any per-role one. */
export const PASSPHRASE_VARIABLE = "ZKCHARGE_PASSPHRASE";

/** How to get one passphrase. */
export interface PassphraseRequest {
  /** What it unlocks, for the prompt and errors: `the CPO keystore cpo.json`. */
  what: string;
  /** Environment variables to read, first set one wins (default [{@link PASSPHRASE_VARIABLE}]). */
  variables?: readonly string[];
  /** Ask twice on the terminal and require the same answer (for a new key file). */
  confirm?: boolean;
  /** The terminal prompt (default `Passphrase for <what>: `). */
  prompt?: string;
}

/** The per-role variable first, then the general one: `ZKCHARGE_PASSPHRASE_CPO`, `ZKCHARGE_PASSPHRASE`. */
export function passphraseVariables(role: string): string[] {
  return [`${PASSPHRASE_VARIABLE}_${role.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`, PASSPHRASE_VARIABLE];
}

/**
 * The passphrase for `request.what`: the first of `request.variables` that is set, else typed at the terminal.
 * @throws PassphraseUnavailableError with no variable set and no terminal, or when the terminal answers nothing or two
 *   different confirmations
 */
export async function readPassphrase(request: PassphraseRequest): Promise<string> {
  const variables = request.variables ?? [PASSPHRASE_VARIABLE];
  for (const name of variables) {
    const value = environment(name);
    if (value !== undefined) return value;
  }
  if (!canPrompt()) {
    throw new PassphraseUnavailableError(
      `no passphrase for ${request.what}: ` +
        (variables.length
          ? `set ${variables.join(" or ")} (there is no terminal to ask on)`
          : "there is no terminal to ask on"),
    );
  }
  const prompt = request.prompt ?? `Passphrase for ${request.what}: `;
  let answers: string[] | undefined;
  try {
    answers = await promptHidden(request.confirm ? [prompt, "Again, to confirm: "] : [prompt]);
  } catch (error) {
    throw new PassphraseUnavailableError(`no passphrase for ${request.what}: ${(error as Error).message}`);
  }
  const first = answers?.[0];
  if (!first) throw new PassphraseUnavailableError(`no passphrase for ${request.what}: the terminal answered nothing`);
  if (request.confirm && answers![1] !== first)
    throw new PassphraseUnavailableError(`the two passphrases for ${request.what} differ`);
  return first;
}
