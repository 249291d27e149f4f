/** Shared assertions of the circuit tests: a witness must be accepted, or rejected by a named template. */
import { expect } from "chai";
import { calculateWitness } from "../../prover/index.ts";
import { WitnessError } from "../../prover/errors.ts";

/** Computes the witness; the circuit must accept `input`. */
export async function expectAccepted(circuit: string, input: object): Promise<bigint[]> {
  return calculateWitness(circuit, input as never);
}

/**
 * The circuit must reject `input` with a failing constraint inside one of `templates` (the template that
 * holds the rule under test), reached through template `via` when given (e.g. a Num2Bits inside OutputNote,
 * not any Num2Bits), so that a test cannot pass because some unrelated constraint broke.
 */
export async function expectRejected(circuit: string, input: object, templates: string[], via?: string): Promise<void> {
  let error: unknown;
  try {
    await calculateWitness(circuit, input as never);
  } catch (e) {
    error = e;
  }
  expect(error, "the circuit accepted a cheating witness").to.be.instanceOf(WitnessError);
  const e = error as WitnessError;
  const template = e.template ?? "";
  expect(
    templates.some((t) => template === t || template.startsWith(`${t}_`) || template.startsWith(`${t}(`)),
    `rejected in ${template}, expected one of ${templates.join(", ")}: ${e.message}`,
  ).to.equal(true);
  if (via !== undefined)
    expect(e.originalMessage, e.message).to.match(new RegExp(`Error in template ${via}_\\d+ line`));
}
