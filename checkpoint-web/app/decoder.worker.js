// Reads QR codes from camera frames off the page's thread, so that the verdict panel and the
// countdown stay smooth while a 1280×720 frame is decoded. The reader is zxing-cpp compiled
// to WebAssembly (zxing-wasm), loaded from the app's own folder — never from a CDN — chosen by
// measurement (docs/BENCHMARKS.md, "The checkpoint web app").
//
// In:  { frame: ImageBitmap, capturedAt }     (the bitmap is transferred and closed here)
// Out: { text | null, capturedAt, decodeMs, width, height }  or  { error }
import { prepareZXingModule, readBarcodes } from './vendor/zxing/es/reader/index.js';

prepareZXingModule({
  overrides: {
    locateFile: (path, prefix) =>
      path.endsWith('.wasm') ? new URL('vendor/zxing/reader/zxing_reader.wasm', self.location.href).href : prefix + path,
  },
  fireImmediately: true,
});

// A pass is one QR code; tryHarder also finds a tilted or dim one. The same options as the
// image-file path of the page.
const OPTIONS = { formats: ['QRCode'], tryHarder: true, maxNumberOfSymbols: 1 };
let canvas = null;
let context = null;

self.onmessage = async (event) => {
  const { frame, capturedAt } = event.data;
  try {
    if (!frame) {
      // A warm-up: the reader's WebAssembly is compiled before the first real frame.
      await readBarcodes(new ImageData(8, 8), OPTIONS);
      self.postMessage({ ready: true });
      return;
    }
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
    self.postMessage({ text, capturedAt, decodeMs: performance.now() - started, width, height });
  } catch (e) {
    frame?.close?.();
    self.postMessage({ error: `${e?.message ?? e}`, capturedAt });
  }
};
