/**
 * Reading a charger's QR code (stationLink.ts says what it carries): from the device's camera, frame by frame, or
 * from a photo the driver takes or picks (`<input type=file capture>`, which needs no camera permission and works
 * on a page without https, where browsers refuse the camera). Decoding is jsQR, pure JavaScript, loaded only when
 * a scan starts so the app's first load does not grow. Nothing leaves the page: the image is decoded here.
 */
import { useEffect, useRef, useState } from "preact/hooks";

/** Frames from the camera are decoded at most this wide or high (jsQR's cost grows with the pixels). */
const CAMERA_SIDE = 800;
/** A photo is tried at these sizes: a large photo of a small code decodes better scaled down, a sharp one up. */
const PHOTO_SIDES = [1600, 800];
/** Milliseconds between two camera frames decoded. */
const FRAME_MS = 150;

type Decode = (image: ImageData) => string | undefined;
type JsQr = (
  data: Uint8ClampedArray,
  width: number,
  height: number,
  options: { inversionAttempts: "attemptBoth" },
) => { data: string } | null;
let decoder: Promise<Decode> | undefined;

/** jsQR, loaded once on first use. */
function loadDecoder(): Promise<Decode> {
  // jsQR is CommonJS with an ES-style `default`: the bundler hands over the function, TypeScript sees the module.
  decoder ??= (import("jsqr") as Promise<unknown> as Promise<{ default: JsQr | { default: JsQr } }>).then((m) => {
    const jsQR = typeof m.default === "function" ? m.default : m.default.default;
    return (image) =>
      jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" })?.data || undefined;
  });
  return decoder;
}

/** `source`'s pixels, scaled down to at most `side` on its longer edge. */
function pixels(source: CanvasImageSource, width: number, height: number, side: number): ImageData {
  const scale = Math.min(1, side / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("This browser cannot read images (no 2D canvas): paste the station's address instead.");
  ctx.drawImage(source, 0, 0, w, h);
  return ctx.getImageData(0, 0, w, h);
}

/** Why the camera did not open, in words a driver can act on. */
function cameraProblem(err: unknown): string {
  const name = err instanceof DOMException ? err.name : "";
  if (name === "NotAllowedError")
    return "The camera was not allowed: allow it in this site's settings, or scan a photo, or paste the address.";
  if (name === "NotFoundError" || name === "OverconstrainedError")
    return "This device has no camera the browser can use: scan a photo, or paste the address.";
  if (name === "NotReadableError")
    return "The camera is in use by another app: close it and try again, or scan a photo.";
  return `The camera did not open (${err instanceof Error ? err.message : String(err)}): scan a photo, or paste the address.`;
}

/** What the scanner hands its page. */
export interface QrScanProps {
  disabled: boolean;
  /** The text of the first QR code read (the page checks what it says). */
  onRead: (text: string) => void;
  /** A scan that read nothing, in plain words. */
  onError: (message: string) => void;
}

/** "Scan with the camera" (a live preview until a code is read or Cancel) and "Scan a photo". */
export function QrScan({ disabled, onRead, onError }: QrScanProps) {
  const [scanning, setScanning] = useState(false);
  const video = useRef<HTMLVideoElement>(null);
  const stop = useRef<() => void>(() => {});
  useEffect(() => () => stop.current(), []); // the camera goes off when the page does

  const startCamera = async () => {
    if (!navigator.mediaDevices?.getUserMedia) {
      onError(
        "This browser gives no camera to this page (the camera needs https or localhost): scan a photo, or paste the address.",
      );
      return;
    }
    let stream: MediaStream;
    let decode: Decode;
    try {
      [stream, decode] = await Promise.all([
        navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }),
        loadDecoder(),
      ]);
    } catch (err) {
      onError(cameraProblem(err));
      return;
    }
    const v = video.current!;
    let stopped = false;
    stop.current = () => {
      stopped = true;
      for (const track of stream.getTracks()) track.stop();
      v.srcObject = null;
      setScanning(false);
    };
    setScanning(true);
    v.srcObject = stream;
    await v.play().catch(() => undefined); // a muted inline video plays; if not, frames still arrive
    const tick = () => {
      if (stopped) return;
      const text =
        v.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && v.videoWidth > 0
          ? decode(pixels(v, v.videoWidth, v.videoHeight, CAMERA_SIDE))
          : undefined;
      if (text === undefined) {
        setTimeout(tick, FRAME_MS);
        return;
      }
      stop.current();
      onRead(text);
    };
    tick();
  };

  const scanPhoto = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    input.value = ""; // the same photo may be picked again
    if (!file) return;
    const bitmap = await createImageBitmap(file).catch(() => undefined);
    if (!bitmap) {
      onError(`"${file.name}" is not an image this browser can read: take a photo of the charger's code.`);
      return;
    }
    const decode = await loadDecoder();
    const text = PHOTO_SIDES.map((side) => decode(pixels(bitmap, bitmap.width, bitmap.height, side))).find(
      (t) => t !== undefined,
    );
    bitmap.close();
    if (text === undefined)
      onError(`No QR code found in "${file.name}": take it closer, straight on and sharp, or paste the address.`);
    else onRead(text);
  };

  return (
    <div class="scan" data-testid="qr-scan">
      {scanning ? (
        <button type="button" onClick={() => stop.current()}>
          Cancel the scan
        </button>
      ) : (
        <button type="button" data-testid="scan-camera" disabled={disabled} onClick={() => void startCamera()}>
          Scan the charger's code
        </button>
      )}
      <label class="file">
        Or a photo of it
        <input
          type="file"
          id="qr-photo"
          accept="image/*"
          capture="environment"
          disabled={disabled || scanning}
          onChange={(e) => void scanPhoto(e.currentTarget)}
        />
      </label>
      <video
        ref={video}
        hidden={!scanning}
        muted
        playsInline
        aria-label="The camera: hold the charger's QR code in view"
      />
    </div>
  );
}
