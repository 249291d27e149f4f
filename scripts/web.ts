/**
 * `npm run web`: the web app on a local dev network, nothing else to start. As `demo:live` does
 * (scripts/lib/liveNet.ts), every party is its own process on 127.0.0.1: a `hardhat node`, zkcharge deployed by
 * configuration, a CPO with one 22 kW meter and a tariff, the relayer service, the station service (OCPP CSMS +
 * driver API) and one charger; then the static site is built and served with their URLs in `zkcharge.json`.
 * Ctrl-C stops everything (each process by its PID).
 *
 *   npm run web [-- --port 5173] [--rpc-port 8545]
 *
 * The wallet deposits on this chain from the node's funded dev account (1000 tEUR minted to it). The CPO dashboard's
 * admin API URL and token are printed (never put in `zkcharge.json`, which any visitor can read).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { startLiveNet } from "./lib/liveNet.ts";
import { buildSite, liveSiteConfig, serveSite } from "./lib/webSite.ts";

const o = new Command("web")
  .option("--port <n>", "port of the site", "5173")
  .option("--rpc-port <n>", "port of the dev chain's JSON-RPC", "8545")
  .parse()
  .opts<{ port: string; rpcPort: string }>();

const dir = mkdtempSync(join(tmpdir(), "zkcharge-web-"));
const net = await startLiveNet({
  dir,
  chargers: ["CS001"],
  rpcPort: Number(o.rpcPort),
  // The CPO dashboard (#/cpo) calls the station's admin API from the site's origin, with the token printed below.
  adminCorsOrigins: [`http://127.0.0.1:${o.port}`, `http://localhost:${o.port}`],
  log: (line) => console.log(line),
});
const config = liveSiteConfig(net);
let site: Awaited<ReturnType<typeof serveSite>> | undefined;
try {
  await buildSite(true);
  site = await serveSite(config, Number(o.port));
} catch (error) {
  await net.stop();
  throw error;
}
console.log(`\nzkcharge web app: ${site.url}  (station ${net.station}, charger CS001, relayer ${net.relayer})`);
console.log(`CPO dashboard: ${site.url}#/cpo  (admin API ${net.admin}, admin token ${net.adminToken})`);
console.log(`files in ${dir}; Ctrl-C stops it all`);

const stop = async () => {
  await site?.close();
  await net.stop();
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
