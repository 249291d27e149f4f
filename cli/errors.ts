/** The CLI's usage and state error. */

/** A usage or state error: the message names the cause; exit code 1 unless told, state untouched. */
export class CliError extends Error {
  /**
   * @param message the cause, one line
   * @param exitCode the process's exit code (1; `ocmf verify` uses others for its verdicts)
   */
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}
