// The camera: the rear camera by default (facingMode "environment"), 1280×720 when the device
// offers it, one frame at a time handed to the decoder worker (decoder.worker.js) — the next
// frame is taken only when the worker has answered, so a slow phone decodes fewer frames per
// second instead of queueing stale ones. Where a worker cannot start (the single-file app
// opened from a file), frames are decoded on the page's thread by the same code (decoder.js). The torch is offered only when the camera says it
// has one. This file reads pictures; it judges nothing.

/** Why the camera could not start, in the words the page shows (keys of i18n.js). */
export function cameraProblem(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'cameraDenied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'cameraNotFound';
    case 'NotReadableError':
    case 'AbortError':
      return 'cameraBusy';
    default:
      return 'cameraFailed';
  }
}

export class Camera {
  /**
   * @param video    the <video> element that shows the preview
   * @param onRead   called with (text, { capturedAt, decodeMs }) for each frame holding a QR
   * @param reader   null: decode in the worker; else decoder.js's module, prepared (inline)
   */
  constructor(video, onRead, reader = null) {
    this.reader = reader;
    this.video = video;
    this.onRead = onRead;
    this.stream = null;
    this.track = null;
    this.worker = null;
    this.busy = false;
    this.frames = 0;
    this.decodeTimes = [];
  }

  get running() {
    return this.stream !== null;
  }

  /** Opens the camera and the worker; resolves when the first frame can be decoded. */
  async start() {
    if (!navigator.mediaDevices?.getUserMedia) {
      const e = new Error('getUserMedia is not available (the page needs https or localhost)');
      e.name = 'SecurityError';
      throw e;
    }
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } },
    });
    this.stream = stream;
    this.track = stream.getVideoTracks()[0];
    this.video.srcObject = stream;
    this.video.muted = true;
    this.video.playsInline = true;
    await this.video.play();
    if (this.reader) {
      await this.reader.warmUp();
      this.busy = false;
      this.next();
      return;
    }
    this.worker = new Worker(new URL('decoder.worker.js', import.meta.url), { type: 'module' });
    await new Promise((resolve, reject) => {
      this.worker.onmessage = (e) => (e.data.ready ? resolve() : reject(new Error(e.data.error)));
      this.worker.onerror = (e) => reject(new Error(e.message));
      this.worker.postMessage({ frame: null });
    });
    this.worker.onmessage = (e) => this.answered(e.data);
    this.busy = false;
    this.next();
  }

  stop() {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.track = null;
    this.video.srcObject = null;
    this.worker?.terminate();
    this.worker = null;
  }

  /** Asks for the next frame: on the video's own frame clock where the browser has one. */
  next() {
    if (!this.running) return;
    if (this.video.requestVideoFrameCallback) this.video.requestVideoFrameCallback(() => this.grab());
    else setTimeout(() => this.grab(), 33);
  }

  async grab() {
    if (!this.running || this.busy) return;
    if (this.video.readyState < 2 || this.video.videoWidth === 0) return this.next();
    this.busy = true;
    const capturedAt = performance.now();
    try {
      const frame = await createImageBitmap(this.video);
      if (this.reader) {
        this.answered({ ...(await this.reader.readFrame(frame)), capturedAt });
        return;
      }
      this.worker?.postMessage({ frame, capturedAt }, [frame]);
    } catch {
      // The video went away between the check and the copy (the camera was stopped).
      this.busy = false;
      this.next();
    }
  }

  answered(answer) {
    this.busy = false;
    if (answer.error === undefined) {
      this.frames += 1;
      this.decodeTimes.push(answer.decodeMs);
      if (this.decodeTimes.length > 300) this.decodeTimes.shift();
      if (answer.text) this.onRead(answer.text, answer);
    }
    this.next();
  }

  /** Whether the camera has a torch the page may switch. */
  get hasTorch() {
    return Boolean(this.track?.getCapabilities?.().torch);
  }

  async setTorch(on) {
    await this.track.applyConstraints({ advanced: [{ torch: on }] });
  }
}
