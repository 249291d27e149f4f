/**
 * Errors of the key stores. Each names the file (or what the text came from) and what is wrong, and a failed
 * decryption never returns part of what the file holds.
 */
import { ZkchargeError } from "../core/errors.ts";

/** The passphrase does not open the key file (or the file's key-derivation header was altered). */
export class WrongPassphraseError extends ZkchargeError {
  /**
   * @param source what was being opened, e.g. `wallet file driver.json`
   * @param altered what else fails the same way, for the message
   */
  constructor(source: string, altered = "the file's key-derivation header was altered") {
    super(
      "WRONG_PASSPHRASE",
      `${source}: wrong passphrase (the key derived from it does not open the file; if the passphrase is right, ${altered})`,
    );
  }
}

/** A key file that is not one: truncated, not JSON, a missing or malformed field, an unknown version or algorithm. */
export class KeyFileFormatError extends ZkchargeError {
  /** @param message `<source>: <what is wrong>` */
  constructor(message: string) {
    super("KEY_FILE_FORMAT", message);
  }
}

/** The passphrase is right but the ciphertext or its header fails authentication: the file was altered or damaged. */
export class KeyFileIntegrityError extends ZkchargeError {
  /** @param source what was being opened */
  constructor(source: string) {
    super(
      "KEY_FILE_INTEGRITY",
      `${source}: the passphrase is right, but the ciphertext or its header fails authentication: ` +
        "the file was altered or damaged (restore it from a backup)",
    );
  }
}

/** A key file cannot be read or written: missing, unreadable, or (without `force`) already there. */
export class KeyFileAccessError extends ZkchargeError {
  /**
   * @param code `KEY_FILE_EXISTS`, `KEY_FILE_MISSING` or `KEY_FILE_IO`
   * @param message names the path and the cause
   */
  constructor(code: "KEY_FILE_EXISTS" | "KEY_FILE_MISSING" | "KEY_FILE_IO", message: string) {
    super(code, message);
  }
}

/** No passphrase was given: no environment variable set and no terminal to ask on. */
export class PassphraseUnavailableError extends ZkchargeError {
  /** @param message names what needs a passphrase and which variable to set */
  constructor(message: string) {
    super("NO_PASSPHRASE", message);
  }
}
