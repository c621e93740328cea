//! The scanning worker: a named thread (`qr-scanner`) that pulls frames from a
//! [`FrameSource`], decodes them with [`FrameDecoder`] and sends what it found over a channel,
//! waking the UI with a callback (`ctx.request_repaint` in the app). The UI thread never waits
//! for a camera or a decoder.
//!
//! Every frame goes through the fast path of the decoder; when nothing was found, every
//! [`ScanOptions::full_every`]-th frame also gets the full pipeline with its fallbacks, so a hard
//! code (glare, a creased printout) is still read without slowing every frame down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use image::imageops::{self, FilterType};
use image::GrayImage;

use crate::decode::FrameDecoder;

use super::source::{FrameSource, SourceError};
use super::state::Seen;

/// A small copy of the frame for the preview.
#[derive(Clone, Debug)]
pub struct Preview {
    pub width: u32,
    pub height: u32,
    pub gray: Vec<u8>,
}

/// What the worker reports.
#[derive(Debug)]
pub enum ScanMsg {
    Started {
        name: String,
        camera: bool,
        /// Frame size, as far as the source knows it before the first frame.
        size: (u32, u32),
    },
    /// The source could not be opened.
    Failed(SourceError),
    Frame {
        width: u32,
        height: u32,
        codes: Vec<Seen>,
        preview: Option<Preview>,
        /// When the frame was taken from the source (for latency measurements).
        captured: Instant,
        /// How long decoding took.
        decode_time: Duration,
    },
    /// The source ended (a recording played to the end) or failed after starting.
    Ended(Option<SourceError>),
}

/// How the worker runs.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Run the full pipeline on every n-th frame that the fast path found nothing in (0: never).
    pub full_every: u32,
    /// Send a preview of at most this width (`None`: no preview).
    pub preview_width: Option<u32>,
    /// Wait this long between frames of a recording (a camera paces itself).
    pub frame_interval: Option<Duration>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            full_every: 5,
            preview_width: Some(640),
            frame_interval: None,
        }
    }
}

/// Opens a source on the worker thread.
pub type Opener = Box<dyn FnOnce() -> Result<Box<dyn FrameSource>, SourceError> + Send>;

/// A running worker; dropping it stops the thread.
#[derive(Debug)]
pub struct Scanner {
    stop: Arc<AtomicBool>,
    rx: Receiver<ScanMsg>,
    thread: Option<JoinHandle<()>>,
}

impl Scanner {
    /// Starts the worker. `wake` is called after every message (the UI's repaint request).
    pub fn start(
        open: Opener,
        decoder: FrameDecoder,
        options: ScanOptions,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> std::io::Result<Scanner> {
        let stop = Arc::new(AtomicBool::new(false));
        // Small: a slow UI gets the newest frames, not a backlog (frames with codes are never
        // dropped, see `run`).
        let (tx, rx) = sync_channel(4);
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("qr-scanner".into())
            .spawn(move || run(open, decoder, options, tx, flag, wake))?;
        Ok(Scanner {
            stop,
            rx,
            thread: Some(thread),
        })
    }

    /// The next message, if one is waiting.
    pub fn try_recv(&self) -> Option<ScanMsg> {
        self.rx.try_recv().ok()
    }

    /// The next message, waiting at most `timeout`; `None` on timeout or when the worker ended.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<ScanMsg> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Asks the worker to stop and waits for it.
    pub fn stop(self) {
        self.stop_within(Duration::MAX);
    }

    /// Asks the worker to stop and waits at most `limit` for it (so that a camera is released
    /// before it is opened again); a worker stuck in a camera call is left to end by itself.
    pub fn stop_within(mut self, limit: Duration) {
        self.stop.store(true, Ordering::Relaxed);
        let start = Instant::now();
        if let Some(t) = self.thread.take() {
            // Keep the channel drained so a worker blocked on a send can see the flag.
            while !t.is_finished() {
                if start.elapsed() >= limit {
                    return;
                }
                while self.rx.try_recv().is_ok() {}
                std::thread::sleep(Duration::from_millis(2));
            }
            let _ = t.join();
        }
    }
}

impl Drop for Scanner {
    fn drop(&mut self) {
        // Not joined: a camera may take a frame time to return; the thread sees the flag (or
        // the closed channel) and ends by itself.
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn run(
    open: Opener,
    decoder: FrameDecoder,
    options: ScanOptions,
    tx: SyncSender<ScanMsg>,
    stop: Arc<AtomicBool>,
    wake: Arc<dyn Fn() + Send + Sync>,
) {
    let send = |msg: ScanMsg| -> bool {
        let ok = tx.send(msg).is_ok();
        wake();
        ok
    };
    let mut source = match open() {
        Ok(s) => s,
        Err(e) => {
            send(ScanMsg::Failed(e));
            return;
        }
    };
    if !send(ScanMsg::Started {
        name: source.name(),
        camera: source.is_camera(),
        size: source.size(),
    }) {
        return;
    }
    let fast = FrameDecoder::fast();
    let mut empty_frames: u32 = 0;
    while !stop.load(Ordering::Relaxed) {
        let frame = match source.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => {
                send(ScanMsg::Ended(None));
                return;
            }
            Err(e) => {
                send(ScanMsg::Ended(Some(e)));
                return;
            }
        };
        let captured = Instant::now();
        let mut decoded = fast.decode(&frame);
        if decoded.is_empty() {
            empty_frames += 1;
            if options.full_every > 0 && empty_frames.is_multiple_of(options.full_every) {
                decoded = decoder.decode(&frame);
            }
        }
        let decode_time = captured.elapsed();
        let codes: Vec<Seen> = decoded
            .into_iter()
            .map(|d| Seen {
                text: d.text,
                corners: d.corners,
            })
            .collect();
        if !codes.is_empty() {
            empty_frames = 0;
        }
        let msg = ScanMsg::Frame {
            width: frame.width(),
            height: frame.height(),
            preview: options.preview_width.map(|w| preview(&frame, w)),
            codes,
            captured,
            decode_time,
        };
        let has_codes = matches!(&msg, ScanMsg::Frame { codes, .. } if !codes.is_empty());
        if has_codes {
            if !send(msg) {
                return;
            }
        } else {
            match tx.try_send(msg) {
                Ok(()) => wake(),
                Err(TrySendError::Full(_)) => {}
                Err(TrySendError::Disconnected(_)) => return,
            }
        }
        if let Some(pause) = options.frame_interval {
            std::thread::sleep(pause);
        }
    }
}

fn preview(frame: &GrayImage, max_width: u32) -> Preview {
    let small;
    let img = if frame.width() > max_width && max_width > 0 {
        let h = (u64::from(frame.height()) * u64::from(max_width) / u64::from(frame.width())).max(1)
            as u32;
        small = imageops::resize(frame, max_width, h, FilterType::Nearest);
        &small
    } else {
        frame
    };
    Preview {
        width: img.width(),
        height: img.height(),
        gray: img.as_raw().clone(),
    }
}
