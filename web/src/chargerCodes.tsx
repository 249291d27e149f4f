/**
 * The CPO dashboard's charger codes: one QR code per charger, to print and stick on it. Each carries the charger's
 * link (stationLink.ts: this site's Charge screen, the station's driver API, the charger id), so a driver's phone
 * camera opens the wallet on that charger's offer, and the wallet's own scanner reads it too. The code names no
 * driver and no session. Drawn here as SVG from the `qrcode` package's module matrix (loaded on first view) and
 * offered as an SVG file for the print shop.
 */
import { useEffect, useState } from "preact/hooks";
import { chargeLink, isHttpUrl } from "./stationLink.ts";

/** The light border a QR code needs around it, in modules (ISO/IEC 18004's quiet zone). */
const QUIET_ZONE = 4;

/** A QR code as one SVG path: its side in modules (quiet zone included) and the dark modules' runs. */
interface QrPath {
  side: number;
  d: string;
}

/** The path of `text`'s QR code (error correction M: a sticker survives some scratches and dirt). */
async function qrPath(text: string): Promise<QrPath> {
  const { create } = await import("qrcode");
  const modules = create(text, { errorCorrectionLevel: "M" }).modules;
  const size = modules.size;
  const dark = (row: number, col: number) => modules.get(row, col) !== 0;
  const runs: string[] = [];
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size;) {
      if (!dark(row, col)) {
        col++;
        continue;
      }
      let run = 1;
      while (col + run < size && dark(row, col + run)) run++;
      runs.push(`M${col + QUIET_ZONE} ${row + QUIET_ZONE}h${run}v1h-${run}z`);
      col += run;
    }
  }
  return { side: size + 2 * QUIET_ZONE, d: runs.join("") };
}

/** The same code as a standalone SVG file. */
function svgFile({ side, d }: QrPath): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges">` +
    `<rect width="${side}" height="${side}" fill="#fff"/><path d="${d}" fill="#000"/></svg>`
  );
}

/** One charger's code, its link in words, and the file to download. */
function ChargerCode({ chargerId, link }: { chargerId: string; link: string }) {
  const [qr, setQr] = useState<QrPath | undefined>();
  useEffect(() => {
    let live = true;
    void qrPath(link).then((q) => live && setQr(q));
    return () => {
      live = false;
    };
  }, [link]);
  return (
    <figure class="qr" data-testid={`code-${chargerId}`} data-link={link}>
      {qr && (
        <svg
          viewBox={`0 0 ${qr.side} ${qr.side}`}
          shape-rendering="crispEdges"
          role="img"
          aria-label={`QR code of charger ${chargerId}`}
        >
          <rect width={qr.side} height={qr.side} fill="#fff" />
          <path d={qr.d} fill="#000" />
        </svg>
      )}
      <figcaption>
        <strong>{chargerId}</strong>{" "}
        {qr && (
          <a
            download={`zkcharge-${chargerId}.svg`}
            href={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgFile(qr))}`}
          >
            Download (SVG)
          </a>
        )}
        <br />
        <small class="link">{link}</small>
      </figcaption>
    </figure>
  );
}

/** The codes of `chargerIds`, for the station address drivers reach (editable: it may differ from the admin API's). */
export function ChargerCodes({ chargerIds, station }: { chargerIds: string[]; station: string }) {
  const [address, setAddress] = useState(station);
  const site = `${location.origin}${location.pathname}`;
  const valid = isHttpUrl(address.trim());
  return (
    <section class="card" aria-labelledby="codes-title">
      <h2 id="codes-title">Charger codes</h2>
      <p class="hint">
        Print one on each charger: a driver's phone camera opens this wallet on that charger's offer. The code names the
        station's address below and the charger, and nothing about any driver.
      </p>
      <label for="codes-station">Station address drivers reach</label>
      <input
        id="codes-station"
        value={address}
        onInput={(e) => setAddress((e.currentTarget as HTMLInputElement).value)}
        placeholder="https://station.example"
      />
      {valid ? (
        <div class="codes">
          {chargerIds.map((id) => (
            <ChargerCode key={id} chargerId={id} link={chargeLink(site, { station: address.trim(), chargerId: id })} />
          ))}
        </div>
      ) : (
        <p role="alert" class="error">
          The station address must be an http(s) address: no codes until it is.
        </p>
      )}
    </section>
  );
}
