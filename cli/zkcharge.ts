#!/usr/bin/env -S npx tsx
/**
 * `zkcharge`, the entry point: the CLI runs on the compiled contracts (ABIs in artifacts/, typed handles in
 * types/ethers-contracts/), never a compiler. `npm install` compiles once (the `postinstall` script); if the
 * compiled files are missing this says so in one line instead of failing on a missing module. The program is
 * cli/main.ts.
 */
import { existsSync } from "node:fs";

const ROOT = new URL("../", import.meta.url);
/** What the CLI loads: the typed handles (the SDK imports them) and the artifacts `deploy` links. */
const COMPILED = [
  "types/ethers-contracts/index.ts",
  "artifacts/contracts/Pool.sol/Pool.json",
  "artifacts/contracts/Registry.sol/Registry.json",
];

const missing = COMPILED.filter((path) => !existsSync(new URL(path, ROOT)));
if (missing.length > 0) {
  console.error(
    `zkcharge: error: the compiled contracts are missing (${missing.join(", ")}): run \`npm run compile\` ` +
      "once (npm install does it too), and again after changing contracts/",
  );
  process.exit(1);
}
await import("./main.ts");
