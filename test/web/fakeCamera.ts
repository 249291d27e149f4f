/**
 * A camera for the browser tests: a Y4M video (the raw format Chromium's `--use-file-for-fake-video-capture` plays
 * in a loop as the device's camera) showing a QR code of `text`, drawn from the `qrcode` package's module matrix as
 * a charger's sticker would be: black modules on white with the quiet zone, filling most of a 640x480 frame.
 */
import { writeFileSync } from "node:fs";
import QRCode from "qrcode";

const WIDTH = 640;
const HEIGHT = 480;
/** Y4M's luma for black and white (studio range), and neutral chroma. */
const BLACK = 16;
const WHITE = 235;
const NEUTRAL = 128;

/** Writes `frames` identical frames of `text`'s QR code to `path` (YUV 4:2:0). */
export function writeQrVideo(path: string, text: string, frames = 5): void {
  const modules = QRCode.create(text, { errorCorrectionLevel: "M" }).modules;
  const side = modules.size + 8; // 4 modules of quiet zone on each side
  const scale = Math.floor(Math.min(WIDTH, HEIGHT) / side);
  const left = Math.floor((WIDTH - side * scale) / 2);
  const top = Math.floor((HEIGHT - side * scale) / 2);
  const luma = Buffer.alloc(WIDTH * HEIGHT, WHITE);
  for (let row = 0; row < modules.size; row++)
    for (let col = 0; col < modules.size; col++) {
      if (modules.get(row, col) === 0) continue;
      for (let y = 0; y < scale; y++) {
        const start = (top + (row + 4) * scale + y) * WIDTH + left + (col + 4) * scale;
        luma.fill(BLACK, start, start + scale);
      }
    }
  const chroma = Buffer.alloc((WIDTH / 2) * (HEIGHT / 2) * 2, NEUTRAL);
  const frame = Buffer.concat([Buffer.from("FRAME\n"), luma, chroma]);
  const header = Buffer.from(`YUV4MPEG2 W${WIDTH} H${HEIGHT} F10:1 Ip A1:1 C420jpeg\n`);
  writeFileSync(path, Buffer.concat([header, ...Array.from({ length: frames }, () => frame)]));
}
