/**
 * The app shell: loads the site's configuration, connects to the chain and routes by URL hash between the screens.
 * Each screen is one module; Wallet, Charge and History share the unlocked wallet (wallet.tsx); the CPO dashboard
 * is cpo.tsx (docs/web.md).
 */
import { useEffect, useState } from "preact/hooks";
import type { ComponentChildren } from "preact";
import { loadConfig } from "./config.ts";
import { connectChain, type Chain } from "./chain.ts";
import { CpoDashboard } from "./cpo.tsx";
import { Explorer } from "./explorer.tsx";
import { PrivacyPage } from "./privacy.tsx";
import { WalletPage } from "./wallet.tsx";
import { plainError } from "./format.ts";

/** The screens, by hash route. */
const ROUTES: { path: string; label: string; render: (chain: Chain) => ComponentChildren }[] = [
  { path: "#/explorer", label: "Explorer", render: (chain) => <Explorer chain={chain} /> },
  { path: "#/wallet", label: "Wallet", render: (chain) => <WalletPage chain={chain} screen="wallet" /> },
  { path: "#/charge", label: "Charge", render: (chain) => <WalletPage chain={chain} screen="charge" /> },
  { path: "#/history", label: "History", render: (chain) => <WalletPage chain={chain} screen="history" /> },
  { path: "#/cpo", label: "CPO", render: (chain) => <CpoDashboard chain={chain} /> },
  { path: "#/privacy", label: "What the chain reveals", render: () => <PrivacyPage /> },
];

function useHash(): string {
  const [hash, setHash] = useState(location.hash || ROUTES[0]!.path);
  useEffect(() => {
    const on = () => setHash(location.hash || ROUTES[0]!.path);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

export function App() {
  const hash = useHash();
  const [chain, setChain] = useState<Chain | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    loadConfig()
      .then(connectChain)
      .then(setChain)
      .catch((err: unknown) => setError(plainError(err)));
  }, []);
  const route = ROUTES.find((r) => hash.startsWith(r.path)) ?? ROUTES[0]!;
  return (
    <>
      <header>
        <a class="brand" href="#/explorer">
          zkcharge
        </a>
        <nav aria-label="Main">
          {ROUTES.map((r) => (
            <a href={r.path} aria-current={r === route ? "page" : undefined}>
              {r.label}
            </a>
          ))}
        </nav>
        {chain && (
          <span class="chain" title={chain.config.rpc}>
            chain {chain.chainId.toString()} ({chain.kind})
          </span>
        )}
      </header>
      <main>
        {error !== undefined ? (
          <p role="alert" class="error">
            {error}
          </p>
        ) : route.path === "#/privacy" ? (
          route.render(chain!)
        ) : chain === undefined ? (
          <p aria-live="polite">Connecting to the chain…</p>
        ) : (
          route.render(chain)
        )}
      </main>
    </>
  );
}
