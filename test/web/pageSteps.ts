/**
 * What the browser tests of the web app share (test/web/*.test.ts): where screenshots go, the two viewports, and
 * the steps on a puppeteer page: screenshot, read, wait for text, type, and the phone layout check.
 */
import { join } from "node:path";
import type { Page } from "puppeteer-core";
import { REPO_ROOT } from "../../prover/node/fileSource.ts";

export const SHOTS = join(REPO_ROOT, "test-results", "screenshots");
export const PASSPHRASE = "correct horse battery staple";
export const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
export const DESKTOP = { width: 1280, height: 900 };

/** Steps on the page `current()` returns (set in a suite's `before`): screenshot, read, wait for text, type. */
export function pageSteps(current: () => Page) {
  const text = (selector: string) => current().$eval(selector, (e) => (e as HTMLElement).innerText);
  return {
    shot: async (name: string) => {
      await current().screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    },
    text,
    /** Waits until `selector`'s text matches `pattern` (bounded by `timeout`), and returns it. */
    waitText: async (selector: string, pattern: RegExp, timeout = 60_000) => {
      await current().waitForFunction(
        (sel: string, src: string, flags: string) => {
          const el = document.querySelector(sel) as HTMLElement | null;
          return el !== null && new RegExp(src, flags).test(el.innerText);
        },
        { timeout, polling: 200 },
        selector,
        pattern.source,
        pattern.flags,
      );
      return text(selector);
    },
    fill: async (selector: string, value: string) => {
      await current().$eval(selector, (e) => ((e as HTMLInputElement).value = ""));
      await current().type(selector, value);
    },
    /**
     * What breaks the layout on a small screen: how far the page scrolls sideways (tables scroll in their own box,
     * so 0 is right) and the fields without a label (their ids, or their HTML).
     */
    layoutProblems: () =>
      current().evaluate(() => ({
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        unlabelled: [...document.querySelectorAll("input, textarea, select")]
          .filter((e) => (e as HTMLInputElement).labels?.length === 0 && !e.getAttribute("aria-label"))
          .map((e) => e.id || e.outerHTML),
      })),
  };
}
