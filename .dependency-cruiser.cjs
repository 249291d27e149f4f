/**
 * The layer rules of docs/architecture.md, enforced by `npm run lint:deps` (part of `npm test`).
 * Layers, lowest first; a module may import its own layer and the layers below it, never above.
 */
const LAYERS = [
  { name: "prover", path: "^prover/" },
  { name: "sdk/node", path: "^sdk/node/" },
  { name: "sdk/core", path: "^sdk/core/" },
  { name: "sdk/keys", path: "^sdk/keys/" },
  { name: "sdk/tariff", path: "^sdk/tariff/" },
  { name: "sdk/meter", path: "^sdk/meter/" },
  { name: "sdk/proofs", path: "^sdk/proofs/" },
  { name: "sdk/actors", path: "^sdk/actors/" },
  { name: "sdk/index", path: "^sdk/index\\.ts$" },
  { name: "dev", path: "^(dev|ignition)/" },
  { name: "service", path: "^service/" },
  { name: "faces", path: "^(cli|station|charger|relayer|web)/" },
  { name: "tools", path: "^(scripts|bench|test)/" },
];

const upward = LAYERS.flatMap((from, i) =>
  LAYERS.slice(i + 1).map((to) => ({
    name: `layer: ${from.name} must not import ${to.name}`,
    severity: "error",
    from: { path: from.path },
    to: { path: to.path },
  })),
);

module.exports = {
  forbidden: [
    ...upward,
    {
      name: "no-circular",
      comment:
        "One concept per module, imports only downward: a cycle means two modules are one concept, or a seam is missing.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "faces use the SDK's entry point",
      comment:
        "cli/, station/, charger/, relayer/, web/ import sdk/index.ts (and dev/ on dev chains), never SDK or prover internals.",
      severity: "error",
      from: { path: "^(cli|station|charger|relayer|web|service)/" },
      to: { path: "^(sdk/(?!index\\.ts$)|prover/)" },
    },
    {
      name: "the web app runs in a browser",
      comment: "service/ is what the Node services share (fastify, node:sqlite): never part of the web app.",
      severity: "error",
      from: { path: "^web/" },
      to: { path: "^service/" },
    },
    {
      name: "SDK domain code runs in a browser",
      comment:
        "No Node built-ins in sdk/ outside the Node-only adapters in sdk/node/ (selected by package.json imports).",
      severity: "error",
      from: { path: "^sdk/(?!node/)" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "the proof engine runs in a browser",
      comment:
        "No Node built-ins in prover/ outside prover/node/ (selected by package.json imports, #prover-platform).",
      severity: "error",
      from: { path: "^prover/(?!node/)" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "generated contract types only where the chain is",
      comment:
        "types/ethers-contracts (typechain) is for sdk/actors, dev/ and above; the domain layers know no contract.",
      severity: "error",
      from: { path: "^(prover|sdk/(core|keys|tariff|meter|proofs|node))/" },
      to: { path: "^types/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // The built site (npm run web:build, the browser tests) is bundler output, not source: its chunks import each other.
    exclude: { path: "^web/dist/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { conditionNames: ["node", "import", "default"], exportsFields: ["exports"] },
  },
};
