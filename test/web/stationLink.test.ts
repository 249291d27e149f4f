/**
 * What a charger's QR code carries (web/src/stationLink.ts): the link the CPO dashboard prints is read back as the
 * same station and charger, a bare station address is read without a charger, and anything else is refused naming
 * what is wrong. The codes themselves are drawn and scanned in a real browser (test/web/cpo.test.ts, web.test.ts).
 */
import { expect } from "chai";
import { StationLinkError, chargeLink, isChargeLink, parseStationLink } from "../../web/src/stationLink.ts";

describe("charger links (QR codes)", () => {
  const site = "https://wallet.example/app/index.html";
  const station = "https://station.example:8443/zk?x=1&y=2";

  it("a charger's link is read back as its station and charger, from any site and with any hash before it", () => {
    const link = chargeLink(`${site}#/cpo`, { station, chargerId: "CS-001" });
    expect(link).to.equal(
      "https://wallet.example/app/index.html#/charge?station=https%3A%2F%2Fstation.example%3A8443%2Fzk%3Fx%3D1%26y%3D2&charger=CS-001",
    );
    expect(isChargeLink(link)).to.equal(true);
    expect(parseStationLink(link)).to.deep.equal({ station, chargerId: "CS-001" });
    expect(
      parseStationLink(`  ${link.replace("https://wallet.example/app/index.html", "http://127.0.0.1:5173/")}\n`),
    ).to.deep.equal({
      station,
      chargerId: "CS-001",
    });
  });

  it("a bare station address (or a link without a charger) opens the station without choosing a charger", () => {
    expect(parseStationLink("http://127.0.0.1:8090")).to.deep.equal({ station: "http://127.0.0.1:8090" });
    expect(parseStationLink(chargeLink(site, { station }))).to.deep.equal({ station, chargerId: undefined });
    expect(isChargeLink("http://127.0.0.1:8090/#/charge")).to.equal(false);
  });

  it("charger ids at OCPP's limit of 36 characters are kept; longer or foreign ones are refused", () => {
    const id36 = "A".repeat(36);
    expect(parseStationLink(chargeLink(site, { station, chargerId: id36 })).chargerId).to.equal(id36);
    for (const bad of ["A".repeat(37), "", "CS 001", "<script>"])
      expect(() => parseStationLink(chargeLink(site, { station, chargerId: bad })), bad)
        .to.throw(StationLinkError)
        .with.property("message")
        .that.matches(/names a charger ".*" that is not a charger id/);
  });

  it("what is not a station address or a charger's link is refused, quoting what was read", () => {
    const cases: [string, RegExp][] = [
      ["", /^"" is not a station address/],
      ["WIFI:S:guest;T:WPA;P:secret;;", /^"WIFI:S:guest;T:WPA;P:secret;;" is not a station address/],
      ["ftp://station.example", /is not a station address/],
      ["http://exa mple.com", /is not a station address/],
      [`${site}#/charge?charger=CS001`, /a charge link without a station address/],
      [`${site}#/charge?station=javascript:alert(1)&charger=CS001`, /a charge link without a station address/],
      [
        `https://x.example/${"a".repeat(200)}#/charge?station=`,
        /^"https:\/\/x\.example\/a{50,}\.\.\." is a charge link/,
      ],
    ];
    for (const [text, message] of cases)
      expect(() => parseStationLink(text), text)
        .to.throw(StationLinkError)
        .with.property("message")
        .that.matches(message);
  });
});
