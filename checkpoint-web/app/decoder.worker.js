// Reads QR codes from camera frames off the page's thread (decoder.js), so that the verdict
// panel and the countdown stay smooth while a 1280×720 frame is decoded.
//
// In:  { frame: ImageBitmap, capturedAt }     (the bitmap is transferred and closed here)
//      { frame: null }                        (warm-up: answered with { ready: true })
// Out: { text | null, capturedAt, decodeMs, width, height }  or  { error }
import { prepareReader, readFrame, warmUp } from './decoder.js';

prepareReader({ base: self.location.href });

self.onmessage = async (event) => {
  const { frame, capturedAt } = event.data;
  try {
    if (!frame) {
      await warmUp();
      self.postMessage({ ready: true });
      return;
    }
    self.postMessage({ ...(await readFrame(frame)), capturedAt });
  } catch (e) {
    frame?.close?.();
    self.postMessage({ error: `${e?.message ?? e}`, capturedAt });
  }
};
