/**
 * zkcharge SDK: the public API. Drivers use {@link Driver}, charge point operators {@link Operator}
 * and {@link Meter}; everything else is what those take and return.
 */
export { Driver, submitLock, submitTransaction } from "./driver.ts";
export type { Locking, OwnedEscrow, OwnedNote, Payment, PoolExtData, Transaction } from "./driver.ts";
export { Operator, EscrowRejectedError, PaymentRejectedError } from "./operator.ts";
export type { SessionReceipt } from "./operator.ts";
export { Meter, MeterSession, verifyLiveEvidence, verifySignedSession } from "./meter.ts";
export type { LiveEvidence, LiveTail, Reading, SignedChain, SignedSession } from "./meter.ts";
export { EscrowStatus, proveClose, readEscrow, submitClose } from "./escrow.ts";
export type { Closing, Escrow } from "./escrow.ts";
export { DriverIdentity } from "./identity.ts";
export { Note } from "./note.ts";
export { computeBill, validateTariff } from "./tariff.ts";
export type { Bill, Point, Tariff } from "./tariff.ts";
export { formatAmount, parseAmount } from "./money.ts";
export { readEscrowEvents, readMeterTree, readPoolState, readTariffs } from "./chain.ts";
export { deployZkcharge } from "./deploy.ts";
export type { DeployOptions, ZkchargeDeployment } from "./deploy.ts";
export * from "./errors.ts";
