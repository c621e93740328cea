//! What differs on Windows: the console and USB sticks.
//!
//! One `verifier.exe` is both a console program (`verifier check …` in cmd or PowerShell, with
//! exit statuses for scripts) and the checkpoint window (started by a double click), so it is
//! built as a console program and tidies up after that choice here.
//!
//! - Output encoding: Rust's standard library writes UTF-16 straight to a console window, so
//!   Chinese shows correctly whatever the console's code page. The code page matters only to a
//!   program that reads this one's UTF-8 output through a pipe in the same console (`| more`,
//!   `| findstr`); it is switched to UTF-8 (65001) while the verifier runs and put back when it
//!   ends, so the officer's console is left as it was found. Redirected output (`> out.txt`,
//!   `--json`, CSV) is UTF-8 bytes either way.
//! - The window: a double click gives the exe a new, empty console of its own; the window
//!   lets go of it ([`release_own_console`]), while a console shared with cmd or PowerShell
//!   stays.
//! - USB sticks: a stick is a drive letter of its own ([`removable_drives`]), where Linux
//!   mounts it under /media.

use std::path::PathBuf;

use windows_sys::Win32::Storage::FileSystem::{GetDriveTypeW, GetLogicalDrives};
use windows_sys::Win32::System::Console::{
    FreeConsole, GetConsoleOutputCP, GetConsoleProcessList, SetConsoleOutputCP,
};

/// The UTF-8 code page.
const CP_UTF8: u32 = 65001;
/// `GetDriveTypeW`'s answer for a removable drive (a USB stick, a card reader).
const DRIVE_REMOVABLE: u32 = 2;

/// While alive, the console's output code page is UTF-8; dropping it restores the previous one.
#[derive(Debug)]
#[must_use = "the code page is put back when this is dropped"]
pub struct Utf8Output {
    previous: Option<u32>,
}

impl Utf8Output {
    /// Switches the attached console (if any) to UTF-8 output. Without a console, or if the
    /// switch fails, nothing changes: the console output itself is right regardless.
    pub fn set() -> Utf8Output {
        // SAFETY: no arguments; returns 0 when the process has no console.
        let previous = unsafe { GetConsoleOutputCP() };
        if previous == 0 || previous == CP_UTF8 {
            return Utf8Output { previous: None };
        }
        // SAFETY: a plain value argument; failure is reported as 0 and leaves the page as is.
        let switched = unsafe { SetConsoleOutputCP(CP_UTF8) } != 0;
        Utf8Output {
            previous: switched.then_some(previous),
        }
    }
}

impl Drop for Utf8Output {
    fn drop(&mut self) {
        if let Some(cp) = self.previous {
            // SAFETY: as in `set`; a failure here only leaves the console in UTF-8.
            unsafe {
                SetConsoleOutputCP(cp);
            }
        }
    }
}

/// Detaches from the console when this process is the only one on it, i.e. it was started
/// from the desktop or Explorer, so that no empty black window stays behind the checkpoint
/// window. Started from cmd or PowerShell, the console is shared and kept (messages such as
/// "no sound device" still reach it). Writes after detaching are dropped quietly by the
/// standard library.
pub fn release_own_console() {
    let mut ids = [0u32; 2];
    // SAFETY: `ids` is a writable buffer of exactly the length passed.
    let attached = unsafe { GetConsoleProcessList(ids.as_mut_ptr(), ids.len() as u32) };
    if attached == 1 {
        // SAFETY: no arguments; failure (no console) changes nothing.
        unsafe {
            FreeConsole();
        }
    }
}

/// The root folders (`E:\` …) of the removable drives present now, where the settings
/// screen looks for trust bundle files. USB hard disks that call themselves fixed drives are
/// not listed; their files can still be dropped on the window or typed.
pub fn removable_drives() -> Vec<PathBuf> {
    // SAFETY: no arguments; returns a bit mask of the drive letters in use (0 on failure).
    let mask = unsafe { GetLogicalDrives() };
    (0..26u8)
        .filter(|i| mask & (1 << i) != 0)
        .map(|i| format!("{}:\\", char::from(b'A' + i)))
        .filter(|root| {
            let wide: Vec<u16> = root.encode_utf16().chain(std::iter::once(0)).collect();
            // SAFETY: `wide` is a NUL-terminated UTF-16 string that outlives the call.
            let kind = unsafe { GetDriveTypeW(wide.as_ptr()) };
            kind == DRIVE_REMOVABLE
        })
        .map(PathBuf::from)
        .collect()
}
