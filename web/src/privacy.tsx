/**
 * What the chain does and does not reveal: the privacy promise as README.md ("Trust model and what is promised",
 * "Your privacy as a driver") and the design brief state it, no stronger.
 */
export function PrivacyPage() {
  return (
    <article class="prose" aria-labelledby="privacy-title">
      <h1 id="privacy-title">What the chain reveals, and what it does not</h1>
      <section>
        <h2>Everyone can see, for every payment</h2>
        <ul>
          <li>which charge point operator (CPO) was paid, by its number (cpoId);</li>
          <li>under which of its tariffs (the tariff hash) and the session id;</li>
          <li>the amount, any relayer fee, and when (the block time).</li>
        </ul>
        <p>
          Deposits are public too: the depositing account and the amount. Escrows show their cap and deadlines, and
          their lock and close times show when a session started and ended.
        </p>
      </section>
      <section>
        <h2>Nobody can see</h2>
        <ul>
          <li>who paid: a payment cannot be linked to the driver;</li>
          <li>which deposit the money came from;</li>
          <li>which other payments are the same driver's.</li>
        </ul>
        <p>
          The anonymity set is every note in the pool's note tree (the explorer shows its size). The station is hidden
          only among the CPO's stations that share that tariff. The CPO sees the session it served, never the driver's
          identity or other sessions. The driver's own address never sends a payment: the CPO's backend or a relayer
          submits it.
        </p>
      </section>
      <section>
        <h2>The promise is only as good as your habits: timing is public</h2>
        <ul>
          <li>
            <strong>Top up ahead of time.</strong> A payment within about half an hour of the deposit (or merge) that
            funded it can be linked to that deposit by timing alone.
          </li>
          <li>
            <strong>Don't withdraw everything right after merging.</strong> The exact remainder can be matched against
            deposits. Withdraw a round amount, or wait.
          </li>
          <li>
            <strong>Escrows show when you plugged in and out.</strong> Caps come from a small standard menu (5, 10, 20,
            30, 50, 75, 100, 150 EUR) and deadlines are rounded to 15 minutes, so the terms themselves don't single you
            out.
          </li>
        </ul>
      </section>
      <section>
        <h2>What is trusted</h2>
        <p>
          As under German Eichrecht / EU MID today, the calibrated, sealed meter is trusted to measure: its signature is
          what the bill rests on. The pay proof shows that the amount is exactly the tariff applied to the meter-signed
          readings, without showing the readings' owner. The escrow cap bounds what a dishonest meter can take.
        </p>
      </section>
    </article>
  );
}
