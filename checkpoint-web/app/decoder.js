// Reads the QR code in one camera frame with zxing-cpp compiled to WebAssembly (zxing-wasm),
// loaded from the app's own folder — never from a CDN — or, in the single-file app, from the
// bytes embedded in the page. Chosen by measurement (docs/BENCHMARKS.md, "The checkpoint web
// app"). Used by the decoder worker, and on the page's thread where workers cannot start (a
// page opened from a file).
import { prepareZXingModule, readBarcodes } from './vendor/zxing/es/reader/index.js';

// A pass is one QR code; tryHarder also finds a tilted or dim one.
export const OPTIONS = { formats: ['QRCode'], tryHarder: true, maxNumberOfSymbols: 1 };

/** Where the reader's WebAssembly comes from: `wasmBinary` bytes, or the app folder at `base`. */
export function prepareReader({ wasmBinary = null, base }) {
  prepareZXingModule({
    overrides: wasmBinary
      ? { wasmBinary }
      : { locateFile: (path, prefix) => (path.endsWith('.wasm') ? new URL('vendor/zxing/reader/zxing_reader.wasm', base).href : prefix + path) },
    fireImmediately: true,
  });
}

/** Compiles the reader before the first real frame. */
export async function warmUp() {
  await readBarcodes(new ImageData(8, 8), OPTIONS);
}

/** The text of the QR code in an image file or blob, or null. */
export async function readFile(file) {
  const found = await readBarcodes(file, OPTIONS);
  return found.find((b) => b.isValid)?.text ?? null;
}

let canvas = null;
let context = null;

/** The text of the QR code in `frame` (closed here), or null, and the time it took. */
export async function readFrame(frame) {
  const started = performance.now();
  const { width, height } = frame;
  if (!canvas || canvas.width !== width || canvas.height !== height) {
    canvas = new OffscreenCanvas(width, height);
    context = canvas.getContext('2d', { willReadFrequently: true });
  }
  context.drawImage(frame, 0, 0);
  frame.close();
  const found = await readBarcodes(context.getImageData(0, 0, width, height), OPTIONS);
  const text = found.find((b) => b.isValid)?.text ?? null;
  return { text, decodeMs: performance.now() - started, width, height };
}
