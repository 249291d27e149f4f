/**
 * zkcharge SDK: the public API. Drivers use {@link Driver}, charge point operators {@link Operator}
 * and {@link Meter}; everything else is what those take and return.
 */
export { Driver, submitLock, submitTransaction } from "./actors/driver.ts";
export type { Locking, OwnedEscrow, OwnedNote, Payment, Transaction } from "./actors/driver.ts";
export type { PoolExtData } from "./core/hash.ts";
export { Operator, EscrowRejectedError, PaymentRejectedError } from "./actors/operator.ts";
export type { SessionReceipt } from "./actors/operator.ts";
export { Meter, MeterSession } from "./meter/meter.ts";
export { verifyLiveEvidence, verifySignedSession } from "./meter/record.ts";
export type { LiveEvidence, LiveTail, Reading, SignedChain, SignedSession } from "./meter/record.ts";
export { EscrowStatus, prepareClose, readEscrow, submitClose } from "./actors/escrow.ts";
export type { Closing, Escrow } from "./actors/escrow.ts";
export { DriverIdentity } from "./core/identity.ts";
export { Note } from "./core/note.ts";
export { computeBill, validateTariff } from "./tariff/tariff.ts";
export type { Bill, Point, Tariff } from "./tariff/tariff.ts";
export { formatAmount, parseAmount } from "./core/money.ts";
export { readEscrowEvents, readMeterTree, readPoolState, readTariffs } from "./actors/chain.ts";
export * from "./core/errors.ts";
