/**
 * The TransactionEvent a charger sends for one signed reading (OCPP 2.0.1; docs/ocpp.md): one meterValue with one
 * sampledValue, the energy register in Wh, and the reading's {@link LiveRecord} as its signedMeterValue.
 */
import { encodeSignedMeterValue, type LiveRecord } from "../sdk/index.ts";

/** What {@link transactionEvent} needs. */
export interface TransactionEventInput {
  eventType: "Started" | "Updated" | "Ended";
  seqNo: number;
  transactionId: string;
  /** The CSMS's RequestStartTransaction id (sent with Started). */
  remoteStartId: number;
  /** True when the reading was taken while the CSMS was unreachable. */
  offline: boolean;
  record: LiveRecord;
  publicKey: readonly [bigint, bigint];
}

const iso = (t: bigint) => new Date(Number(t) * 1000).toISOString();

/** The TransactionEventRequest of a reading. */
export function transactionEvent(input: TransactionEventInput): Record<string, unknown> {
  const { eventType, record } = input;
  const started = eventType === "Started";
  const ended = eventType === "Ended";
  return {
    eventType,
    timestamp: iso(record.t),
    // Tariff boundaries are clock-aligned: a boundary point is a clock-aligned reading.
    triggerReason: started
      ? "RemoteStart"
      : ended
        ? "RemoteStop"
        : record.kind === "point"
          ? "MeterValueClock"
          : "MeterValuePeriodic",
    seqNo: input.seqNo,
    ...(input.offline ? { offline: true } : {}),
    transactionInfo: {
      transactionId: input.transactionId,
      chargingState: ended ? "EVConnected" : "Charging",
      ...(started ? { remoteStartId: input.remoteStartId } : {}),
      ...(ended ? { stoppedReason: "Remote" } : {}),
    },
    ...(started ? { evse: { id: 1, connectorId: 1 } } : {}),
    meterValue: [
      {
        timestamp: iso(record.t),
        sampledValue: [
          {
            value: Number(record.e),
            context: started
              ? "Transaction.Begin"
              : ended
                ? "Transaction.End"
                : record.kind === "point"
                  ? "Sample.Clock"
                  : "Sample.Periodic",
            measurand: "Energy.Active.Import.Register",
            unitOfMeasure: { unit: "Wh" },
            signedMeterValue: encodeSignedMeterValue(record, input.publicKey),
          },
        ],
      },
    ],
  };
}
