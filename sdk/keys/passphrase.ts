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
      `no passphrase for ${request.what}: set ${variables.join(" or ")} (there is no terminal to ask on)`,
    );
  }
  let first: string | undefined;
  try {
    first = await promptHidden(`Passphrase for ${request.what}: `);
    if (first && request.confirm) {
      const again = await promptHidden("Again, to confirm: ");
      if (again !== first) throw new PassphraseUnavailableError(`the two passphrases for ${request.what} differ`);
    }
  } catch (error) {
    if (error instanceof PassphraseUnavailableError) throw error;
    throw new PassphraseUnavailableError(`no passphrase for ${request.what}: ${(error as Error).message}`);
  }
  if (!first) throw new PassphraseUnavailableError(`no passphrase for ${request.what}: the terminal answered nothing`);
  return first;
}
