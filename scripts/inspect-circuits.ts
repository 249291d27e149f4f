/**
 * CI gate for the circuits: compiles each one with circom's --inspect (its under-constrained
 * signal check), fails on any warning raised in a zkcharge template, and fails when the r1cs
 * differs from the one the committed artifacts were built from (build/circuits/manifest.json) or
 * the Solidity verifier is not the one the manifest records (the prover does not read verifiers).
 *
 * circomlib's own templates raise CA02 ("bits of a decomposition never used") by design: LessThan
 * and CompConstant decompose only to range-check, EscalarMul* leave a doubling unused. Those are
 * listed below by template name, each reviewed; anything else fails.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { compileCircuit } from "./lib/circom.ts";
import { readFileSync } from "node:fs";
import type { Manifest } from "../prover/artifacts.ts";
import { StaleArtifactsError } from "../prover/errors.ts";
import { REPO_ROOT, artifactPaths } from "../prover/node/fileSource.ts";
import { circuitSpecs, fileHash, sourceHash } from "./lib/circuits.ts";
import { checkVerifier } from "./lib/verifier.ts";

const REVIEWED_CIRCOMLIB_WARNINGS = [
  /^warning\[CA02\]: In template "LessThan\(\d+\)": Array of subcomponent input\/output signals n2b\.out/,
  /^warning\[CA02\]: In template "CompConstant\(\d+\)": Array of subcomponent input\/output signals num2bits\.out/,
  /^warning\[CA02\]: In template "EscalarMulFix\(253,\[[0-9,]+\]\)": Array of subcomponent input\/output signals segments\[\d+\]\.dbl/,
  /^warning\[CA02\]: In template "EscalarMulAny\(254\)": Array of subcomponent input\/output signals segments\[\d+\]\.dbl/,
];

const manifest: Manifest = JSON.parse(readFileSync(artifactPaths("pay").manifestPath, "utf8"));
let failed = false;
for (const name of Object.keys(circuitSpecs())) {
  const out = join(REPO_ROOT, "build", "tmp", `inspect-${name}`);
  rmSync(out, { recursive: true, force: true });
  const result = compileCircuit(name, out, { inspect: true });
  const ours = result.warnings.filter((w) => !REVIEWED_CIRCOMLIB_WARNINGS.some((re) => re.test(w)));
  const entry = manifest.circuits[name];
  const problems: string[] = ours.map((w) => `  ${w}`);
  if (!entry) problems.push(`  not in build/circuits/manifest.json: run npm run build:circuits`);
  else {
    if (entry.sha256.sources !== sourceHash(name))
      problems.push("  sources changed since the artifacts were built: run npm run build:circuits");
    if (entry.sha256.r1cs !== fileHash(result.r1cs))
      problems.push("  r1cs differs from the manifest: run npm run build:circuits");
    try {
      checkVerifier(name, { manifest });
    } catch (err) {
      if (!(err instanceof StaleArtifactsError)) throw err;
      problems.push(`  ${err.message}`);
    }
  }
  const total = result.constraints + result.publicInputs;
  console.log(
    `${name}: ${result.constraints} constraints + ${result.publicInputs} public inputs = ${total}` +
      ` (${result.warnings.length - ours.length} reviewed circomlib warnings)`,
  );
  if (problems.length) {
    failed = true;
    console.error(`${name}: FAILED\n${problems.join("\n")}`);
  }
  rmSync(out, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
