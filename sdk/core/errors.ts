/**
 * Errors raised by the zkcharge SDK. Every error carries a stable machine-readable `code`
 * and a message written for a human (it names the value and the rule it broke).
 */

/** Base class of every error the SDK throws on purpose. */
export class ZkchargeError extends Error {
  /** Stable identifier of the error kind, e.g. `"INVALID_INPUT"`. */
  readonly code: string;

  /**
   * @param code stable identifier of the error kind
   * @param message human-readable explanation naming the cause
   */
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A value handed to the SDK is malformed or out of range (not a field element, too many bits, bad bytes...). */
export class InvalidInputError extends ZkchargeError {
  /** @param message what was wrong with which input */
  constructor(message: string) {
    super("INVALID_INPUT", message);
  }
}

/** A tariff breaks one of the rules of docs/protocol.md; `field` names the offending field. */
export class InvalidTariffError extends ZkchargeError {
  /** The tariff field that broke the rule, e.g. `"bandStart[2]"`. */
  readonly field: string;

  /**
   * @param field the tariff field that broke the rule
   * @param message human-readable explanation
   */
  constructor(field: string, message: string) {
    super("INVALID_TARIFF", `tariff.${field}: ${message}`);
    this.field = field;
  }
}

/** Meter readings cannot be billed by the circuit (straddle, decrease, over-power, outside validity...). */
export class InvalidReadingsError extends ZkchargeError {
  /** @param message which reading or interval broke which rule */
  constructor(message: string) {
    super("INVALID_READINGS", message);
  }
}

/** The meter refuses an operation (session full, session already ended, wrong tariff...). */
export class MeterError extends ZkchargeError {
  /** @param message why the meter refused */
  constructor(message: string) {
    super("METER_REFUSED", message);
  }
}

/** A note does not hold enough value for what is asked of it. */
export class InsufficientBalanceError extends ZkchargeError {
  /** @param message the balance and the amount asked, formatted as money */
  constructor(message: string) {
    super("INSUFFICIENT_BALANCE", message);
  }
}
