/** The CLI's usage and state error. */

/** A usage or state error: the message names the cause; exit code 1, state untouched. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}
