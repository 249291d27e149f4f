/**
 * Charging at a station, as the CLI wallet does it (`zkcharge wallet charge`) and with the same SDK functions: the
 * station's info and its offer checked against the registry (`checkStation`, `checkOffer`: tariff published by that
 * CPO, meter in its tree), an escrow locked through the relayer (the lock proved here, in the Web Worker), start,
 * then every streamed reading verified by a `LiveSessionVerifier` (`followSession`) with a live meter, a Stop
 * button, and the close proved here from the verified session end and handed to the station. Each step is written
 * to the wallet's encrypted history first (history.tsx). A station is found by its address, typed or pasted, or by
 * a charger's QR code (qrScan.tsx), or the page is opened with a charger's link (stationLink.ts).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import {
  EscrowStatus,
  LiveSessionVerifier,
  RelayerClient,
  STANDARD_CAPS,
  StationClient,
  StationError,
  checkOffer,
  checkStation,
  escrowDeadlines,
  followStation,
  formatAmount,
  meterPath,
  prepareClose,
  randomBits,
  readEscrow,
  sessionId as sessionIdOf,
  tariffFromJson,
  tariffToJson,
  type CheckedOffer,
  type Driver,
  type StationFollowOutcome,
  type Offer,
  type ProverOptions,
  type StationInfo,
} from "../../sdk/index.ts";
import { chainTime, offerChain, type Chain } from "./chain.ts";
import { dateTime, kw, kwh, plainError, priceExample, stationProblem, tariffBands, tariffZone } from "./format.ts";
import { resumable, type SessionTerms, type WebSession } from "./history.tsx";
import { withArtifactCheck } from "./prover.ts";
import { QrScan } from "./qrScan.tsx";
import { isChargeLink, parseStationLink } from "./stationLink.ts";
import { Proving, Status, useElapsed } from "./ui.tsx";

/** How long to wait for the relayer's lock and for the station's answers. */
const RELAY_TIMEOUT_MS = 120_000;

/** What the wallet screen hands the Charge screen. */
export interface ChargeProps {
  chain: Chain;
  driver: Driver;
  prover: ProverOptions;
  /** Writes a session to the encrypted history (added or updated by id). */
  saveSession: (s: WebSession) => void;
  /** The wallet's sessions so far (for the next id, and those to resume). */
  sessions: WebSession[];
  /** Syncs the wallet (balance) after the lock and the close. */
  onSynced: () => Promise<void>;
}

interface Found {
  station: StationClient;
  info: StationInfo;
}

interface Checked {
  offer: Offer;
  checked: CheckedOffer;
  now: bigint;
}

interface MeterView {
  readings: number;
  wh: bigint;
  watts: bigint;
  cost: bigint;
  seconds: bigint;
}

/** A session's record and how to change it (see `recorder` in {@link ChargePage}). */
interface SessionRecorder {
  current: () => WebSession;
  save: (patch: Partial<WebSession>) => void;
}

type Phase = "idle" | "proving-lock" | "locking" | "charging" | "stopping" | "proving-close" | "closing" | "done";

const PHASE_WORDS: Record<Phase, string> = {
  idle: "",
  "proving-lock": "Proving the escrow lock in this browser…",
  locking: "The relayer is submitting the lock…",
  charging: "Charging: every reading is verified here as it arrives.",
  stopping: "Stopping: waiting for the meter's session end…",
  "proving-close": "Proving the close in this browser…",
  closing: "The station is submitting the close…",
  done: "",
};

export function ChargePage(p: ChargeProps) {
  const { chain } = p;
  const [url, setUrl] = useState(chain.config.station ?? "");
  const [found, setFound] = useState<Found | undefined>();
  const [charger, setCharger] = useState<string>("");
  const [offer, setOffer] = useState<Checked | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const [phase, setPhase] = useState<Phase>("idle");
  const [meter, setMeter] = useState<MeterView | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const [violation, setViolation] = useState<string | undefined>();
  const [proofMs, setProofMs] = useState<{ lock?: number; close?: number }>({});
  /** The cap of the session on screen (a resumed one has its own). */
  const [liveCap, setLiveCap] = useState<bigint | undefined>();
  const stopRef = useRef<() => void>(() => {});
  /** Whether a session is under way (a charger's link opened meanwhile must not reset it). */
  const activeRef = useRef(false);
  const elapsed = useElapsed(phase === "proving-lock" || phase === "proving-close");

  const guard = async (what: string, task: () => Promise<void>) => {
    setError(undefined);
    setBusy(what);
    try {
      await task();
    } catch (err) {
      setPhase("idle"); // the error says what happened; a new offer or a resume starts over
      setError(plainError(err));
    } finally {
      setBusy(undefined);
    }
  };

  /** Forgets the last offer and session on screen (an offer's station nonce is for one session). */
  const reset = () => {
    setOffer(undefined);
    setDone(undefined);
    setPhase("idle");
    setMeter(undefined);
    setViolation(undefined);
    setProofMs({});
    setLiveCap(undefined);
  };

  /** Asks the station at `address` what it is, and checks it serves this wallet's pool. */
  const findStation = async (address: string): Promise<Found> => {
    const station = new StationClient(address, { timeoutMs: 15_000 });
    const info = await station.info().catch((err: unknown) => {
      throw stationProblem(address, err);
    });
    checkStation(info, offerChain(chain), address);
    setFound({ station, info });
    setCharger(info.chargers[0]?.chargerId ?? "");
    return { station, info };
  };

  /** The charger's offer, checked against the registry. */
  const fetchOffer = async (f: Found, chargerId: string) => {
    const o = await f.station.offer(chargerId);
    const now = await chainTime(chain);
    const checked = await checkOffer(o, f.info, offerChain(chain), now);
    setOffer({ offer: o, checked, now });
  };

  /**
   * Opens a station from a typed, pasted or scanned text: a station address, or a charger's link (its QR code),
   * whose charger is then chosen and its offer fetched, so one scan shows what charging there costs.
   */
  const openLink = (text: string) => {
    setFound(undefined);
    reset();
    void guard("Asking the station…", async () => {
      const link = parseStationLink(text);
      setUrl(link.station);
      const f = await findStation(link.station);
      if (link.chargerId === undefined) return;
      if (!f.info.chargers.some((c) => c.chargerId === link.chargerId))
        throw new Error(
          `${f.info.name} has no charger ${link.chargerId} (it has ${f.info.chargers.map((c) => c.chargerId).join(", ")}): nothing was locked.`,
        );
      setCharger(link.chargerId);
      setBusy("Checking the offer against the registry…");
      await fetchOffer(f, link.chargerId);
    });
  };

  // Opened from a charger's link (a phone's camera app opens it here), or sent to one: that station and charger.
  useEffect(() => {
    const onLink = () => {
      if (isChargeLink(location.href) && !activeRef.current) openLink(location.href);
    };
    onLink();
    addEventListener("hashchange", onLink);
    return () => removeEventListener("hashchange", onLink);
  }, []);

  const lookUp = (e: Event) => {
    e.preventDefault();
    openLink(url);
  };

  const getOffer = (e: Event) => {
    e.preventDefault();
    if (!found) return;
    reset();
    void guard("Checking the offer against the registry…", () => fetchOffer(found, charger));
  };

  const charge = (e: Event) => {
    e.preventDefault();
    if (!found || !offer) return;
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const cap = BigInt(String(form.get("cap")));
    const acceptLinkable = form.get("accept-linkable") === "on";
    void guard("", () => runSession(found, offer, cap, acceptLinkable));
  };

  /** A session's record as it goes: every patch is written to the encrypted history at once. */
  const recorder = (initial: WebSession): SessionRecorder => {
    let record = initial;
    return {
      current: () => record,
      save: (patch) => {
        record = { ...record, ...patch, updatedAt: new Date().toISOString() };
        p.saveSession(record);
      },
    };
  };

  /** Follows a session the page was closed on from its first reading again, and settles it. */
  const resume = (s: WebSession) => {
    reset();
    void guard("", async () => {
      const session = recorder(s);
      const escrowId = BigInt(s.escrowId!);
      const status = (await readEscrow(chain.pool, escrowId)).status;
      if (status === EscrowStatus.Closed || status === EscrowStatus.Refunded) {
        await recordFromChain(escrowId, BigInt(s.cap), session.save);
        return;
      }
      const station = new StationClient(s.station, { timeoutMs: 15_000 });
      await station.info().catch((err: unknown) => {
        throw stationProblem(s.station, err);
      });
      await followAndSettle(station, session);
    });
  };

  /** Lock, start, follow, close: the whole session. */
  async function runSession(f: Found, o: Checked, cap: bigint, acceptLinkable: boolean): Promise<void> {
    const { station, info } = f;
    const { checked } = o;
    if (!chain.config.relayer)
      throw new Error('This site names no relayer (zkcharge.json "relayer"): nothing was locked.');
    const relayer = new RelayerClient(chain.config.relayer, { timeoutMs: 30_000 });
    await relayer.serving(chain.chainId, chain.config.deployment.addresses.pool);
    const now = await chainTime(chain);
    const { settleDeadline, claimDeadline } = escrowDeadlines(o.offer, now);
    const driverNonce = randomBits(128);
    const sid = sessionIdOf(o.offer.stationNonce, driverNonce);
    const stamp = new Date().toISOString();
    const session = recorder({
      id: `s${p.sessions.length + 1}`,
      createdAt: stamp,
      updatedAt: stamp,
      station: station.url,
      stationName: info.name,
      chargerId: o.offer.chargerId,
      cpoId: checked.cpoId.toString(),
      sessionId: sid.toString(),
      stationNonce: o.offer.stationNonce.toString(),
      driverNonce: driverNonce.toString(),
      cap: cap.toString(),
      state: "offered",
    });
    const save = session.save;
    await p.driver.sync();
    const quote = await relayer.quote("lock");
    // The balance is checked before any proof: the SDK refuses a cap no single note covers.
    setPhase("proving-lock");
    const started = performance.now();
    const locking = await withArtifactCheck(() =>
      p.driver.prepareLock({
        cpoId: checked.cpoId,
        stationNonce: o.offer.stationNonce,
        driverNonce,
        sessionId: sid,
        cap,
        settleDeadline,
        claimDeadline,
        fee: quote.fee,
        relayer: quote.relayer,
      }),
    ).finally(() => setPhase("idle"));
    setProofMs({ lock: Math.round(performance.now() - started) });
    if (locking.privacy.linkable && !acceptLinkable)
      throw new Error(
        `This lock could be linked to you: ${locking.privacy.warnings.map((w) => `${w.message} (${w.advice})`).join("; ")}. ` +
          "Nothing was sent. Follow the advice, or tick “Lock even if it is linkable”.",
      );
    save({ state: "locking", escrowId: locking.escrowId.toString(), fee: quote.fee.toString() });
    setPhase("locking");
    const accepted = await relayer.relay({
      operation: "lock",
      proof: locking.groth16,
      publicSignals: locking.pub,
      extData: locking.ext,
      quote,
    });
    const job = await relayer.waitForJob(accepted.id, { timeoutMs: RELAY_TIMEOUT_MS });
    save({ state: "locked", lockTx: job.txHash });
    void p.onSynced();

    const answer = await station.start({
      chargerId: o.offer.chargerId,
      stationNonce: o.offer.stationNonce,
      driverNonce,
      escrowId: locking.escrowId,
    });
    if (answer.state === "rejected") {
      save({ state: "refused", note: "the station refused the start" });
      throw new Error(
        `The station refused to start the session. The escrow's cap comes back after its claim deadline (${dateTime(claimDeadline)}).`,
      );
    }
    const terms: SessionTerms = {
      ratedPowerW: checked.ratedPowerW.toString(),
      meterPublicKey: [checked.meterPublicKey[0].toString(), checked.meterPublicKey[1].toString()],
      meterLeaf: checked.meterLeaf.toString(),
      tariff: tariffToJson(checked.tariff),
    };
    save({ state: "charging", token: answer.token, terms });
    await followAndSettle(station, session);
  }

  /**
   * Follows a started session's live stream from its first reading (every reading verified again, so a session
   * resumed after the page was closed is checked as a new one), until the session end, a close or a refusal, then
   * proves the close here and hands it to the station; or records what the chain says became of the escrow.
   */
  async function followAndSettle(station: StationClient, session: SessionRecorder): Promise<void> {
    const { save } = session;
    const record = session.current();
    const sid = BigInt(record.sessionId);
    const cpoId = BigInt(record.cpoId);
    const cap = BigInt(record.cap);
    const escrowId = BigInt(record.escrowId!);
    const terms = record.terms!;
    const token = record.token!;
    setLiveCap(cap);
    setPhase("charging");
    const verifier = new LiveSessionVerifier({
      sessionId: sid,
      cpoId,
      ratedPowerW: BigInt(terms.ratedPowerW),
      meterPublicKey: [BigInt(terms.meterPublicKey[0]), BigInt(terms.meterPublicKey[1])],
      tariff: tariffFromJson(terms.tariff),
    });
    const outcome = await follow(station, sid, token, verifier);
    if (outcome.rejected) {
      save({ state: "refused", note: outcome.rejected });
      throw new Error(`The charger refused the session (${outcome.rejected}). Nothing was charged.`);
    }
    if (outcome.closed) {
      save({
        state: "closed",
        closedBy: "station",
        amount: outcome.closed.amount.toString(),
        refund: outcome.closed.refund.toString(),
        closeTx: outcome.closed.txHash,
      });
      setPhase("done");
      await p.onSynced();
      setDone(
        `The station closed the session: paid ${formatAmount(outcome.closed.amount)}, refund ${formatAmount(outcome.closed.refund)}.`,
      );
      return;
    }
    const signed = verifier.session();
    if (!outcome.ended || !signed) {
      const why = outcome.lost ?? "the live stream ended before the meter's session end";
      save({ state: "stopped", note: why });
      throw new Error(
        `The station's live stream ended before the meter's session end (${why}): the readings so far are verified; the station ` +
          "closes the escrow from them, or it is refunded after the claim deadline.",
      );
    }
    const bill = verifier.runningBill()!;
    const wh = verifier.lastReading!.e - verifier.points[0]!.e;
    save({ state: "ended", wh: wh.toString() });
    if ((await readEscrow(chain.pool, escrowId)).status !== EscrowStatus.Open) {
      await recordFromChain(escrowId, cap, save);
      return;
    }
    const path = await meterPath(offerChain(chain), cpoId, BigInt(terms.meterLeaf));
    setPhase("proving-close");
    const closeStarted = performance.now();
    const closing = await withArtifactCheck(() => prepareClose(chain.pool, escrowId, signed, path, p.prover)).finally(
      () => setPhase("idle"),
    );
    setProofMs((x) => ({ ...x, close: Math.round(performance.now() - closeStarted) }));
    setPhase("closing");
    let closed;
    try {
      closed = await station.close(sid, token, closing);
    } catch (err) {
      // The station is closing it itself (its grace after the end ran out): what the chain says is the outcome.
      if (!(err instanceof StationError) || err.code !== "IN_PROGRESS") throw err;
      await untilClosed(escrowId);
      await recordFromChain(escrowId, cap, save);
      return;
    }
    save({
      state: "closed",
      closedBy: "wallet",
      amount: closed.amount.toString(),
      refund: (cap - closed.amount).toString(),
      closeTx: closed.txHash,
    });
    setPhase("done");
    await p.onSynced();
    setDone(
      `Session closed: ${kwh(wh)}, paid ${formatAmount(closed.amount)} (the verified bill ${formatAmount(bill.amount)}) ` +
        `of the ${formatAmount(cap)} cap; ${formatAmount(cap - closed.amount)} came back to your balance.`,
    );
  }

  /** Follows the live stream (reconnecting a few times) until the session end, a close, or a refusal. */
  async function follow(
    station: StationClient,
    sid: bigint,
    token: string,
    verifier: LiveSessionVerifier,
  ): Promise<StationFollowOutcome> {
    let resolveStop!: () => void;
    const userStop = new Promise<void>((r) => (resolveStop = r));
    stopRef.current = () => {
      setPhase("stopping");
      resolveStop();
    };
    let previous: { t: bigint; e: bigint } | undefined;
    let readings = 0;
    return followStation({
      station,
      sessionId: sid,
      token,
      verifier,
      lastSeqNo: -1,
      userStop,
      onAccepted: () => {
        readings++;
        const last = verifier.lastReading!;
        const first = verifier.points[0]!;
        const dt = previous ? last.t - previous.t : 0n;
        const watts = previous && dt > 0n ? ((last.e - previous.e) * 3600n) / dt : 0n;
        previous = last;
        setMeter({
          readings,
          wh: last.e - first.e,
          watts,
          cost: verifier.runningBill()?.amount ?? 0n,
          seconds: last.t - first.t,
        });
      },
      onViolation: (seqNo, rule) => setViolation(`Reading ${seqNo} was refused and is not paid: ${rule}`),
      requestStop: async (cause) => {
        if (cause === "violation") setPhase("stopping");
        await station.stop(sid, token).catch(() => undefined); // the station also stops at the cap
      },
    });
  }

  async function untilClosed(escrowId: bigint): Promise<void> {
    const deadline = Date.now() + 180_000;
    while ((await readEscrow(chain.pool, escrowId)).status === EscrowStatus.Open) {
      if (Date.now() > deadline) throw new Error("The escrow is still open after 3 minutes: look again later.");
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** Records what the chain says became of the escrow (closed by the station, or refunded). */
  async function recordFromChain(escrowId: bigint, cap: bigint, save: (patch: Partial<WebSession>) => void) {
    await p.onSynced();
    const e = p.driver.escrows.find((x) => x.escrowId === escrowId);
    const amount = e?.status === EscrowStatus.Closed ? (e.charged ?? 0n) : 0n;
    save({ state: "closed", closedBy: "station", amount: amount.toString(), refund: (cap - amount).toString() });
    setPhase("done");
    setDone(`The station closed the session: paid ${formatAmount(amount)}, refund ${formatAmount(cap - amount)}.`);
  }

  const active = phase !== "idle" && phase !== "done";
  activeRef.current = active;
  const capLeft = (cap: bigint) => (meter && cap > meter.cost ? cap - meter.cost : meter ? 0n : cap);
  const unfinished = active ? [] : resumable(p.sessions);
  const example = offer ? priceExample(offer.checked.tariff, offer.checked.ratedPowerW, offer.now) : undefined;
  const caps = offer ? STANDARD_CAPS.filter((c) => c >= offer.offer.minCap) : [];
  const [capChoice, setCapChoice] = useState<bigint | undefined>();
  const cap = capChoice ?? caps[1] ?? caps[0] ?? 0n;

  return (
    <>
      <section class="card" aria-labelledby="charge-title">
        <h1 id="charge-title">Charge</h1>
        <form onSubmit={lookUp} class="inline">
          <label for="station-url">Station address or charger link</label>
          <input
            id="station-url"
            name="station-url"
            value={url}
            onInput={(e) => setUrl((e.currentTarget as HTMLInputElement).value)}
            placeholder="http://127.0.0.1:8090"
            disabled={active}
            required
          />
          <button type="submit" disabled={active || busy !== undefined}>
            Look up
          </button>
        </form>
        <QrScan disabled={active || busy !== undefined} onRead={openLink} onError={setError} />
        {found && (
          <form onSubmit={getOffer} class="inline" data-testid="station">
            <p class="hint">
              {found.info.name}, CPO {found.info.cpoId.toString()}: serves this wallet's pool.
            </p>
            <label for="charger">Charger</label>
            <select
              id="charger"
              value={charger}
              onChange={(e) => setCharger((e.currentTarget as HTMLSelectElement).value)}
              disabled={active}
            >
              {found.info.chargers.map((c) => (
                <option value={c.chargerId}>
                  {c.chargerId} ({kw(c.ratedPowerW)}
                  {c.connected ? `, ${c.status ?? "connected"}` : ", offline"})
                </option>
              ))}
            </select>
            <button type="submit" disabled={active || busy !== undefined || charger === ""}>
              See the offer
            </button>
          </form>
        )}
        {busy ? <Status busy={busy} /> : <Status error={error} />}
      </section>

      {unfinished.length > 0 && (
        <section class="card" aria-labelledby="unfinished-title" data-testid="unfinished">
          <h2 id="unfinished-title">Unfinished sessions</h2>
          <p class="hint">
            The page was closed while these were under way. Resume asks the station for the session's readings from the
            first, verifies each one here again, and settles as usual.
          </p>
          <ul class="plain">
            {unfinished.map((s) => (
              <li>
                {s.stationName}, {s.chargerId}: {formatAmount(BigInt(s.cap))} locked{" "}
                {dateTime(BigInt(Math.floor(Date.parse(s.createdAt) / 1000)))}{" "}
                <button
                  type="button"
                  data-testid={`resume-${s.id}`}
                  disabled={busy !== undefined}
                  onClick={() => resume(s)}
                >
                  Resume {s.id}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}

      {offer && (
        <section class="card" aria-labelledby="offer-title" data-testid="offer">
          <h2 id="offer-title">The offer for {offer.offer.chargerId}</h2>
          <p class="done" data-testid="offer-checked">
            Checked against the registry: this tariff was published by CPO {offer.checked.cpoId.toString()}, and the
            meter ({kw(offer.checked.ratedPowerW)}) is in its meter tree.
          </p>
          <ul class="plain" data-testid="tariff">
            <li>{formatAmount(offer.checked.tariff.flatFee)} per session</li>
            {tariffBands(offer.checked.tariff).map((b) => (
              <li>{b}</li>
            ))}
            {offer.checked.tariff.minPrice > 0n && <li>at least {formatAmount(offer.checked.tariff.minPrice)}</li>}
            {offer.checked.tariff.maxPrice > 0n && <li>at most {formatAmount(offer.checked.tariff.maxPrice)}</li>}
            <li>
              local time {tariffZone(offer.checked.tariff)}; valid until {dateTime(offer.checked.tariff.validTo)}
            </li>
          </ul>
          {example && (
            <p data-testid="price-example">
              For example: {kwh(example.wh)} in {example.hours.toString()} hour at {kw(example.powerW)} from{" "}
              {dateTime(example.start)} costs <strong>{formatAmount(example.bill.amount)}</strong>.
            </p>
          )}
          <form onSubmit={charge}>
            <label for="cap">Most this session may cost (locked in an escrow; the rest comes back)</label>
            <select
              id="cap"
              name="cap"
              value={cap.toString()}
              onChange={(e) => setCapChoice(BigInt((e.currentTarget as HTMLSelectElement).value))}
              disabled={active}
            >
              {caps.map((c) => (
                <option value={c.toString()}>{formatAmount(c)}</option>
              ))}
            </select>
            <label class="check">
              <input type="checkbox" name="accept-linkable" disabled={active} /> Lock even if it is linkable (e.g. right
              after a deposit)
            </label>
            <button type="submit" disabled={active || busy !== undefined || phase === "done"}>
              Lock {formatAmount(cap)} and start
            </button>
          </form>
        </section>
      )}

      {(phase !== "idle" || meter || done) && (
        <section class="card" aria-labelledby="live-title" data-testid="live">
          <h2 id="live-title">Live meter</h2>
          {phase === "proving-lock" || phase === "proving-close" ? (
            <Proving what={PHASE_WORDS[phase]} seconds={elapsed} />
          ) : (
            PHASE_WORDS[phase] && (
              <p role="status" aria-live="polite" class="busy" data-testid="phase">
                {PHASE_WORDS[phase]}
              </p>
            )
          )}
          {meter && (
            <dl class="meter">
              <div>
                <dt>Energy</dt>
                <dd data-testid="meter-kwh" data-wh={meter.wh.toString()}>
                  {kwh(meter.wh)}
                </dd>
              </div>
              <div>
                <dt>Power</dt>
                <dd>{kw(meter.watts)}</dd>
              </div>
              <div>
                <dt>Cost so far</dt>
                <dd data-testid="meter-cost" data-amount={meter.cost.toString()}>
                  {formatAmount(meter.cost)}
                </dd>
              </div>
              <div>
                <dt>Cap left</dt>
                <dd>{formatAmount(capLeft(liveCap ?? cap))}</dd>
              </div>
              <div>
                <dt>Verified readings</dt>
                <dd data-testid="meter-readings">{meter.readings}</dd>
              </div>
              <div>
                <dt>Time</dt>
                <dd>{meter.seconds.toString()} s</dd>
              </div>
            </dl>
          )}
          {violation && (
            <p role="alert" class="error">
              {violation}
            </p>
          )}
          {phase === "charging" && (
            <button type="button" data-testid="stop" onClick={() => stopRef.current()}>
              Stop charging
            </button>
          )}
          {done && (
            <p role="status" class="done" data-testid="session-done">
              {done}
            </p>
          )}
          {(proofMs.lock !== undefined || proofMs.close !== undefined) && (
            <p class="hint" data-testid="proof-times" data-lock-ms={proofMs.lock} data-close-ms={proofMs.close}>
              Proved in this browser: lock {proofMs.lock ?? "–"} ms, close {proofMs.close ?? "–"} ms.
            </p>
          )}
        </section>
      )}
    </>
  );
}
