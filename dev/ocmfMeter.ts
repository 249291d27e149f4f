/**
 * A simulated calibrated meter that signs OCMF records (dev chains, the demo and the CLI test only): a fresh
 * ECDSA-secp256r1 key made on the spot, no certification behind it. Real records come from a meter in the field.
 */
import { bytesToHex, ocmfKeygen, signEcdsa, type OcmfAlgorithm } from "../sdk/meter/ocmfCrypto.ts";

/** One reading to sign: unix seconds, the register in Wh, and its reason (begin, charging, tariff change, end). */
export interface SimulatedOcmfReading {
  t: bigint;
  wh: bigint;
  tx: "B" | "C" | "T" | "E";
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** OCMF TM for unix seconds `t` at UTC offset `offsetSeconds` (whole minutes), synchronised: `...,000+0100 S`. */
export function ocmfTimeText(t: bigint, offsetSeconds: number): string {
  const d = new Date((Number(t) + offsetSeconds) * 1000);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())},000`;
  const minutes = Math.abs(offsetSeconds) / 60;
  const sign = offsetSeconds < 0 ? "-" : "+";
  return `${date}T${time}${sign}${pad(Math.floor(minutes / 60))}${pad(minutes % 60)} S`;
}

/** A simulated calibrated meter `serial` behind the charge point's gateway `gateway`. */
export class SimulatedOcmfMeter {
  readonly algorithm: OcmfAlgorithm = "ECDSA-secp256r1-SHA256";
  readonly gateway: string;
  readonly serial: string;
  /** Uncompressed SEC 1 point, hex. */
  readonly publicKeyHex: string;
  readonly #secretKey: Uint8Array;

  constructor(serial = "SIM-METER-1", gateway = "SIM-GW-1") {
    const { secretKey, publicKey } = ocmfKeygen(this.algorithm);
    this.#secretKey = secretKey;
    this.publicKeyHex = bytesToHex(publicKey);
    this.serial = serial;
    this.gateway = gateway;
  }

  /** The key registry entry the CPO publishes for this meter (`GS/MS` to its key). */
  get registry(): Record<string, string> {
    return { [`${this.gateway}/${this.serial}`]: this.publicKeyHex };
  }

  /**
   * One signed record per reading, transaction pages `T<firstPage>` on, times written in the zone of a tariff's
   * `tzOffset` (seconds added to UTC, negative zones modulo one day), registers in kWh with Wh precision.
   */
  transaction(readings: readonly SimulatedOcmfReading[], tzOffset: bigint, firstPage = 1): string[] {
    const offsetSeconds = Number(tzOffset > 43_200n ? tzOffset - 86_400n : tzOffset);
    return readings.map((r, i) => {
      const payload = JSON.stringify({
        FV: "1.0",
        GI: "zkcharge simulated gateway",
        GS: this.gateway,
        GV: "1.0",
        PG: `T${firstPage + i}`,
        MV: "zkcharge",
        MM: "simulated calibrated meter",
        MS: this.serial,
        MF: "1.0",
        IS: true,
        IL: "VERIFIED",
        IF: ["RFID_PLAIN"],
        IT: "ISO14443",
        ID: "04A1B2C3D4E5F6",
        RD: [
          {
            TM: ocmfTimeText(r.t, offsetSeconds),
            TX: r.tx,
            RV: Number(r.wh) / 1000,
            RI: "1-b:1.8.0",
            RU: "kWh",
            RT: "AC",
            ST: "G",
          },
        ],
      });
      const der = signEcdsa(this.algorithm, new TextEncoder().encode(payload), this.#secretKey);
      return `OCMF|${payload}|${JSON.stringify({ SA: this.algorithm, SD: bytesToHex(der).toUpperCase() })}`;
    });
  }
}
