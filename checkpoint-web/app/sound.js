// A sound per verdict, made by the Web Audio API (no sound files to cache): one short high
// beep for 通过, two middle beeps for 注意, three long low tones for 拒绝 — told apart without
// looking at the screen. Browsers let a page play sound only after a tap, so the context is
// made on the first tap (the camera button).
let context = null;

export function unlockSound() {
  if (context) return;
  const Ctx = globalThis.AudioContext ?? globalThis.webkitAudioContext;
  if (Ctx) context = new Ctx();
}

const TONES = {
  green: [[1046, 0.12]],
  amber: [[660, 0.14], [660, 0.14]],
  red: [[330, 0.35], [330, 0.35], [330, 0.35]],
};

export function playVerdict(level) {
  if (!context || !TONES[level]) return;
  let at = context.currentTime + 0.01;
  for (const [hz, secs] of TONES[level]) {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.frequency.value = hz;
    osc.type = level === 'red' ? 'square' : 'sine';
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.4, at + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + secs);
    osc.connect(gain).connect(context.destination);
    osc.start(at);
    osc.stop(at + secs);
    at += secs + 0.08;
  }
}

const VIBRATION = { green: 80, amber: [80, 60, 80], red: [300, 100, 300, 100, 300] };

export function vibrateVerdict(level) {
  if (navigator.vibrate && VIBRATION[level]) navigator.vibrate(VIBRATION[level]);
}
