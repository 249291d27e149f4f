import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { defineConfig } from "hardhat/config";

// Offline: compile with the solc-js build shipped in the `solc` npm package
// instead of letting Hardhat download a compiler.
const require = createRequire(import.meta.url);
const soljson = require.resolve("solc/soljson.js");

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    version: "0.8.28",
    path: soljson,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
    },
    npmFilesToBuild: [
      "poseidon-solidity/PoseidonT3.sol",
      "poseidon-solidity/PoseidonT4.sol",
      "poseidon-solidity/PoseidonT5.sol",
      "poseidon-solidity/PoseidonT6.sol",
      // Typed handle (typechain) for a token given by address in sdk/deploy.ts.
      "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol",
    ],
  },
  paths: {
    tests: { mocha: "test" },
  },
  test: {
    // Test files run in 2 mocha worker processes (ZKCHARGE_TEST_JOBS=1: one process, serially): proofs spend much
    // of their time in single-threaded witness calculation and chain calls, so 2 files at once use both cores.
    mocha: {
      timeout: 600_000,
      parallel: (process.env.ZKCHARGE_TEST_JOBS ?? "2") !== "1",
      jobs: Number(process.env.ZKCHARGE_TEST_JOBS ?? 2),
    },
  },
  networks: {
    localhost: { type: "http", url: process.env.ZKCHARGE_RPC ?? "http://127.0.0.1:8545" },
  },
});
