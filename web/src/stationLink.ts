/**
 * What a charger's QR code says, and how the Charge screen reads it. A CPO prints one code per charger (the CPO
 * dashboard draws it): a link to this site's Charge screen naming the station's driver API and the charger,
 *
 *   https://wallet.example/#/charge?station=https%3A%2F%2Fstation.example&charger=CS001
 *
 * so a phone's own camera opens the wallet there, and the wallet's scanner reads the same link. A bare station
 * address (`https://station.example`) is read too, without a charger. The link names no driver and no session: it
 * is the same for everyone who scans it.
 */

/** A station's driver API and, from a charger's code, the charger. */
export interface StationLink {
  station: string;
  chargerId?: string;
}

/** The screen a charger's link opens. */
const CHARGE_ROUTE = "#/charge";
const HTTP_URL = /^https?:\/\/\S+$/;
/** OCPP 2.0.1 identifiers are at most 36 characters (IdentifierString); a charger id is one. */
const CHARGER_ID = /^[A-Za-z0-9*\-_=:+|@.]{1,36}$/;

/** Whether `text` is an http(s) address (no spaces): what a station, relayer or admin API URL must be. */
export function isHttpUrl(text: string): boolean {
  return HTTP_URL.test(text);
}

/** Refuses what is not a station address or a charger's link, quoting (the start of) what was read. */
export class StationLinkError extends Error {}

/**
 * Reads a pasted or scanned text as a {@link StationLink}: a charger's link (this site's `#/charge?station=…` on
 * any host, since a wallet may be served from anywhere) or a bare station address. Throws a
 * {@link StationLinkError} naming what is wrong.
 */
export function parseStationLink(text: string): StationLink {
  const t = text.trim();
  const quoted = `"${t.length > 80 ? `${t.slice(0, 77)}...` : t}"`;
  if (!isHttpUrl(t))
    throw new StationLinkError(`${quoted} is not a station address (http://… or https://…) or a charger's code.`);
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    throw new StationLinkError(`${quoted} is not a valid address.`);
  }
  const hash = url.hash;
  if (!hash.startsWith(`${CHARGE_ROUTE}?`)) return { station: t };
  const params = new URLSearchParams(hash.slice(CHARGE_ROUTE.length + 1));
  const station = params.get("station") ?? "";
  const chargerId = params.get("charger") ?? undefined;
  if (!isHttpUrl(station))
    throw new StationLinkError(`${quoted} is a charge link without a station address (station=http…).`);
  if (chargerId !== undefined && !CHARGER_ID.test(chargerId))
    throw new StationLinkError(`${quoted} names a charger "${chargerId}" that is not a charger id.`);
  return { station, chargerId };
}

/** The link a charger's QR code carries: `site` (this wallet's page, without a hash) opened on the Charge screen. */
export function chargeLink(site: string, link: StationLink): string {
  const params = new URLSearchParams({ station: link.station });
  if (link.chargerId !== undefined) params.set("charger", link.chargerId);
  return `${site.replace(/#.*$/, "")}${CHARGE_ROUTE}?${params.toString()}`;
}

/** Whether the page was opened with a charger's link (`href` is `location.href`): read it with {@link parseStationLink}. */
export function isChargeLink(href: string): boolean {
  return href.includes(`${CHARGE_ROUTE}?`);
}
