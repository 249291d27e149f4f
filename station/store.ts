/**
 * Where the station service keeps its OCPP side: the storage seam. The CSMS talks only to {@link StationStore}
 * (sqliteStore.ts is the embedded implementation). Invariants: a session is stored before the charger is asked to
 * start it; a signed reading is stored (after its checks) before the TransactionEvent carrying it is acknowledged;
 * a reading is stored once per (transaction, seqNo).
 */

/** A session as stored. */
export interface StoredSession {
  sessionId: string;
  chargerId: string;
  remoteStartId: number;
  /** The tariff fixed at plug-in, as `tariffToJson` writes it. */
  tariff: unknown;
  /** Set once the charger's Started event arrived. */
  transactionId?: string;
  state: "requested" | "open" | "ended" | "rejected";
  requestedAt: number;
}

/** A signed reading as stored: the OCPP fields as received, and what the checks read from them. */
export interface StoredReading {
  transactionId: string;
  seqNo: number;
  eventType: string;
  kind: string;
  k: number;
  t: string;
  e: string;
  signedMeterData: string;
  publicKey: string;
  receivedAt: number;
}

/** A reading refused, and why. */
export interface Refusal {
  chargerId: string;
  transactionId?: string;
  seqNo?: number;
  reason: string;
  at: number;
}

/** The station's OCPP storage. */
export interface StationStore {
  /** Stores a session about to be requested from a charger. */
  addSession(session: Omit<StoredSession, "state" | "transactionId">): Promise<void>;
  /** The session, by its id. */
  session(sessionId: string): Promise<StoredSession | undefined>;
  /** The session of a transaction. */
  sessionOfTransaction(transactionId: string): Promise<StoredSession | undefined>;
  /** Sessions requested or open (what a restart resumes). */
  openSessions(): Promise<StoredSession[]>;
  /** The charger's Started event bound the session to its transaction. */
  bindTransaction(sessionId: string, transactionId: string): Promise<void>;
  /** The charger refused to start the session. */
  markRejected(sessionId: string): Promise<void>;
  /** Stores a checked reading; an `end` reading also ends its session (one transaction). */
  addReading(reading: StoredReading): Promise<void>;
  /** The reading of a transaction with this seqNo. */
  reading(transactionId: string, seqNo: number): Promise<StoredReading | undefined>;
  /** A transaction's readings in seqNo order. */
  readings(transactionId: string): Promise<StoredReading[]>;
  addRefusal(refusal: Refusal): Promise<void>;
  refusals(): Promise<Refusal[]>;
  /** The last status a charger reported (`Available`, `Occupied`...). */
  setStatus(chargerId: string, status: string, at: number): Promise<void>;
  close(): Promise<void>;
}
