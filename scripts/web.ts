/**
 * `npm run web`: the web app on a local dev chain, nothing else to start. Starts a Hardhat JSON-RPC node on
 * 127.0.0.1, deploys zkcharge with a demo CPO (a 22 kW meter, the four-band demo tariff), builds the static site and
 * serves it with the deployment's addresses; Ctrl-C stops everything.
 *
 *   npm run web [-- --port 5173] [--rpc-port 8545]
 *
 * The wallet deposits on this chain from the node's funded dev account (1000 tEUR minted to it).
 */
import { Command } from "commander";
import { network } from "hardhat";
import { buildSite, deployDemo, serveSite } from "./lib/webSite.ts";

const o = new Command("web")
  .option("--port <n>", "port of the site", "5173")
  .option("--rpc-port <n>", "port of the dev chain's JSON-RPC", "8545")
  .parse()
  .opts<{ port: string; rpcPort: string }>();

const node = await network.createServer(undefined, "127.0.0.1", Number(o.rpcPort));
const { address, port } = await node.listen();
const rpc = `http://${address}:${port}`;
console.log(`dev chain: ${rpc}`);
const demo = await deployDemo(rpc);
console.log(
  `deployed: pool ${demo.site.deployment.addresses.pool}, CPO ${demo.net.operator.cpoId} with a meter and a tariff`,
);
await buildSite(true);
const site = await serveSite(demo.site, Number(o.port));
console.log(`\nzkcharge web app: ${site.url}  (Ctrl-C to stop)`);

const stop = async () => {
  await site.close();
  await demo.close();
  await node.close();
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
