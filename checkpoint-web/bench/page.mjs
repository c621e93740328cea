// The decoder benchmark's page (checkpoint-web/bench/run.mjs serves and drives it): each QR
// reader the checkpoint web app could use, on the same images, on the page's thread, one at
// a time. The app itself decodes in a Web Worker; the decode call costs the same there.
import { prepareZXingModule, readBarcodes } from '/app/vendor/zxing/es/reader/index.js';
import * as rxingGlue from '/rxing/rxing_wasm_bg.js';
import init, { Verifier } from '/app/pkg/checkpoint_wasm.js';

prepareZXingModule({
  overrides: { locateFile: (p, prefix) => (p.endsWith('.wasm') ? '/app/vendor/zxing/reader/zxing_reader.wasm' : prefix + p) },
});

async function loadRxing() {
  // rxing-wasm is built for bundlers (it imports its .wasm as a module): instantiate it here.
  const { instance } = await WebAssembly.instantiateStreaming(fetch('/rxing/rxing_wasm_bg.wasm'), {
    './rxing_wasm_bg.js': rxingGlue,
  });
  rxingGlue.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start?.();
}

async function imageData(url) {
  const bitmap = await createImageBitmap(await (await fetch(url)).blob());
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

const DECODERS = {
  'zxing-wasm (the app: tryHarder)': async (img) => {
    const found = await readBarcodes(img, { formats: ['QRCode'], tryHarder: true, maxNumberOfSymbols: 1 });
    return found.filter((b) => b.isValid).map((b) => b.text);
  },
  'zxing-wasm (fast: no tryHarder)': async (img) => {
    const found = await readBarcodes(img, { formats: ['QRCode'], tryHarder: false, maxNumberOfSymbols: 1 });
    return found.filter((b) => b.isValid).map((b) => b.text);
  },
  'rxing-wasm (try_harder)': async (img) => {
    try {
      const luma = rxingGlue.convert_imagedata_to_luma(img);
      const r = rxingGlue.decode_barcode(luma, img.width, img.height, true);
      const text = r.text();
      r.free();
      return [text];
    } catch {
      return []; // rxing throws when it finds nothing
    }
  },
};

if ('BarcodeDetector' in globalThis) {
  let formats = [];
  try {
    formats = await globalThis.BarcodeDetector.getSupportedFormats();
  } catch {
    formats = [];
  }
  if (formats.includes('qr_code')) {
    const detector = new globalThis.BarcodeDetector({ formats: ['qr_code'] });
    DECODERS['BarcodeDetector (the browser)'] = async (img) => (await detector.detect(img)).map((b) => b.rawValue);
  }
}

const percentile = (v, p) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.round((s.length - 1) * p)] : NaN;
};

/** sets: [{ folder, rows: [{ image, expected }] }] → per decoder and folder: read, median, p95. */
window.runDecoders = async (sets, runs) => {
  await loadRxing();
  // Compile each reader before timing (the first call loads its WebAssembly).
  const warm = new ImageData(64, 64);
  for (const f of Object.values(DECODERS)) await f(warm);
  const results = [];
  for (const set of sets) {
    const images = [];
    let undecodable = 0;
    for (const row of set.rows) {
      try {
        images.push({ row, img: await imageData(`/img/${set.folder}/${row.image}`) });
      } catch {
        undecodable += 1; // the browser cannot decode the image file itself: unread by all
      }
    }
    for (const [name, decode] of Object.entries(DECODERS)) {
      const times = [];
      let read = 0;
      for (const { row, img } of images) {
        let found = [];
        const t = [];
        for (let i = 0; i < runs; i++) {
          const t0 = performance.now();
          found = await decode(img);
          t.push(performance.now() - t0);
        }
        times.push(percentile(t, 0.5));
        if (found.includes(row.expected)) read += 1;
      }
      results.push({ decoder: name, folder: set.folder, images: images.length + undecodable, undecodable, read,
        median: percentile(times, 0.5), p95: percentile(times, 0.95), max: Math.max(...times) });
    }
  }
  return { results, barcodeDetector: 'BarcodeDetector' in globalThis, decoders: Object.keys(DECODERS) };
};

/** The whole check of one QR text by the verifier's WebAssembly, timed over `n` calls: the
 * first of `texts` that is green here (a pass on this checkpoint's route), as natively timed. */
window.runVerify = async (rootFile, bundle, texts, checkpoint, at, n) => {
  await init({ module_or_path: '/app/pkg/checkpoint_wasm_bg.wasm' });
  const v = new Verifier(rootFile, false);
  v.install(new Uint8Array(bundle), 'null', at);
  const level = (t) => JSON.parse(v.verify(t, checkpoint, at, 'null')).level;
  const text = texts.find((t) => level(t) === 'green') ?? texts[0];
  for (let i = 0; i < 200; i++) v.verify(text, checkpoint, at, 'null');
  const per = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) v.verify(text, checkpoint, at, 'null');
    per.push(((performance.now() - t0) * 1000) / n);
  }
  return { level: level(text), bytes: text.length, microseconds: percentile(per, 0.5) };
};
window.benchReady = true;
