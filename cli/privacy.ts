/**
 * The wallet's privacy report on a prepared spend, enforced: a linkable spend (made too soon after the deposit or
 * merge that created its note, an exact remainder right after a merge, escrow terms off the standard menu) is shown
 * with what to do instead and refused unless the user passes `--accept-linkable`. Nothing has been sent by then:
 * only a proof was made, and it is thrown away.
 */
import type { PrivacyReport } from "../sdk/index.ts";
import { CliError } from "./errors.ts";
import { detail, printPrivacy } from "./format.ts";

/**
 * Prints `report`'s warnings; refuses a linkable spend unless `accepted`.
 * @param kind what is spent, for the message (`pay`, `lock`, `withdrawal`)
 * @throws CliError when the spend is linkable and not accepted
 */
export function enforcePrivacy(kind: string, report: PrivacyReport, accepted: boolean | undefined): void {
  printPrivacy(report);
  if (!report.linkable) return;
  if (!accepted) {
    throw new CliError(
      `this ${kind} is linkable (${report.warnings.map((w) => w.code).join(", ")}; see the warnings above): ` +
        "nothing was sent. Follow the advice, or pass --accept-linkable to send it anyway",
    );
  }
  detail(`sending it anyway (--accept-linkable)`);
}
