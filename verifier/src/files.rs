//! Files outside the scan log that both the CLI and the GUI touch, each with one home here:
//! where the data directory is, reading a file with a size limit (bundles, root keys, images),
//! and the scan log as CSV.
//!
//! The SQLite log, the settings and the installed bundle file are [`crate::store`]'s.

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use checkpass::messages::write_bilingual;
use checkpass::msg;

use crate::store::ScanRecord;
use crate::timefmt;

/// No data directory was given and the platform has none for this user.
#[derive(Debug, thiserror::Error)]
pub struct NoDataDir;

impl fmt::Display for NoDataDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_bilingual(f, |lang| msg!(lang, error.store.no_data_dir).into(), None)
    }
}

/// `--data DIR` (or `VERIFIER_DATA`), else the platform's data directory for this program.
pub fn data_dir(given: Option<&Path>) -> Result<PathBuf, NoDataDir> {
    if let Some(dir) = given {
        return Ok(dir.to_path_buf());
    }
    // The local (not roaming) data directory: on Windows %LOCALAPPDATA%\checkpass\verifier\data,
    // since the scan log belongs to this device and an SQLite file must not travel with a
    // roaming profile. On Linux and macOS it is the same directory as `data_dir`.
    directories::ProjectDirs::from("cn", "checkpass", "verifier")
        .map(|d| d.data_local_dir().to_path_buf())
        .ok_or(NoDataDir)
}

/// Why a size-limited read failed. Callers with an error type of their own map it (the store
/// to `StoreError`, the decoder to `DecodeError`), so each keeps its messages.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// `size` is what was read before stopping: one byte past `limit`.
    TooLarge {
        path: PathBuf,
        limit: u64,
        size: u64,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Open { path, source } => write_bilingual(
                f,
                |lang| msg!(lang, error.store.open, path = path.display()),
                Some(source),
            ),
            ReadError::Read { path, source } => write_bilingual(
                f,
                |lang| msg!(lang, error.store.read, path = path.display()),
                Some(source),
            ),
            ReadError::TooLarge { path, limit, .. } => write_bilingual(
                f,
                |lang| {
                    msg!(
                        lang,
                        error.store.too_large,
                        limit = limit,
                        path = path.display()
                    )
                },
                None,
            ),
        }
    }
}

/// Reads the whole file at `path` if it holds at most `limit` bytes.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = fs::File::open(path).map_err(|source| ReadError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    read_limited_from(file, path, limit)
}

/// Reads all of `reader` if it holds at most `limit` bytes; `path` names it in errors.
pub fn read_limited_from(reader: impl Read, path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    // One byte past the limit tells "exactly at the limit" from "over it" without trusting the
    // file's metadata (it may be a pipe or still growing).
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
            size: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// Writing the scan log as CSV failed.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    Io(#[from] io::Error),
    Csv(#[from] csv::Error),
    /// Writing the file at `path` failed (the GUI's export).
    File {
        path: PathBuf,
        #[source]
        source: Box<CsvError>,
    },
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvError::Io(e) => e.fmt(f),
            CsvError::Csv(e) => e.fmt(f),
            CsvError::File { path, source } => write_bilingual(
                f,
                |lang| msg!(lang, error.store.write_csv, path = path.display()),
                Some(source),
            ),
        }
    }
}

/// The scan log as CSV (`verifier log --csv` and the GUI's export), UTF-8 with a byte-order
/// mark so that Excel on a Chinese Windows shows the plates correctly.
pub fn write_csv(w: &mut impl Write, scans: &[ScanRecord]) -> Result<(), CsvError> {
    w.write_all("\u{FEFF}".as_bytes())?;
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record([
        "id",
        "scanned_at",
        "scanned_at_unix",
        "checkpoint",
        "officer",
        "serial",
        "plate",
        "verdict",
        "reasons",
        "bundle_sequence",
        "simulated",
    ])?;
    for s in scans {
        let row = [
            s.id.to_string(),
            timefmt::rfc3339(s.scanned_at),
            s.scanned_at.to_string(),
            s.checkpoint.clone(),
            s.officer.clone().unwrap_or_default(),
            s.serial.clone().unwrap_or_default(),
            s.plate.clone().unwrap_or_default(),
            s.verdict.as_str().to_owned(),
            s.reasons.join(" "),
            s.bundle_sequence.map(|q| q.to_string()).unwrap_or_default(),
            if s.simulated { "yes" } else { "no" }.to_owned(),
        ];
        // Officer names and plates come from people and QR codes: no cell may run as a formula.
        csv.write_record(
            row.iter()
                .map(|c| checkpass::text::csv_safe(c).into_owned()),
        )?;
    }
    csv.flush()?;
    Ok(())
}

/// Writes `scans` as CSV (see [`write_csv`]) to the file at `path`.
pub fn write_csv_file(path: &Path, scans: &[ScanRecord]) -> Result<(), CsvError> {
    let file_err = |source: CsvError| CsvError::File {
        path: path.to_path_buf(),
        source: Box::new(source),
    };
    let mut out: Vec<u8> = Vec::new();
    write_csv(&mut out, scans).map_err(file_err)?;
    fs::write(path, out).map_err(|e| file_err(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LoggedVerdict;

    #[test]
    fn csv_has_header_and_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        let row = ScanRecord {
            id: 1,
            scanned_at: 1_647_129_600,
            checkpoint: "C101".into(),
            officer: Some("W-007".into()),
            serial: Some("00000-00000-1".into()),
            plate: Some("鲁KP20XL".into()),
            verdict: LoggedVerdict::Amber,
            reasons: vec!["REPEAT_SCAN".into(), "TEST_TOO_OLD".into()],
            simulated: false,
            bundle_sequence: Some(3),
        };
        write_csv_file(&path, &[row]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(
            lines[0],
            "id,scanned_at,scanned_at_unix,checkpoint,officer,serial,plate,verdict,reasons,bundle_sequence,simulated"
        );
        assert_eq!(
            lines[1],
            "1,2022-03-13T08:00:00+08:00,1647129600,C101,W-007,00000-00000-1,鲁KP20XL,amber,REPEAT_SCAN TEST_TOO_OLD,3,no"
        );
        assert!(write_csv_file(&dir.path().join("no/such/dir.csv"), &[]).is_err());
    }

    /// The scan-log export (CLI and GUI share the writer): an officer name or plate read from
    /// a hostile QR cannot become a spreadsheet formula.
    #[test]
    fn csv_cells_starting_with_formula_characters_are_neutralised() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        let row = ScanRecord {
            id: 1,
            scanned_at: 1_647_129_600,
            checkpoint: "C101".into(),
            officer: Some("=HYPERLINK(\"http://x\")".into()),
            serial: None,
            plate: Some("@SUM(A1)".into()),
            verdict: LoggedVerdict::Red,
            reasons: vec![],
            simulated: false,
            bundle_sequence: None,
        };
        write_csv_file(&path, &[row]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let line = text.lines().nth(1).unwrap();
        assert_eq!(
            line,
            "1,2022-03-13T08:00:00+08:00,1647129600,C101,\"'=HYPERLINK(\"\"http://x\"\")\",,'@SUM(A1),red,,,no"
        );
    }

    #[test]
    fn limited_reads_refuse_one_byte_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, [7u8; 10]).unwrap();
        assert_eq!(read_limited(&path, 10).unwrap(), vec![7u8; 10]);
        assert!(matches!(
            read_limited(&path, 9),
            Err(ReadError::TooLarge {
                limit: 9,
                size: 10,
                ..
            })
        ));
        assert!(matches!(
            read_limited(&dir.path().join("none"), 9),
            Err(ReadError::Open { .. })
        ));
    }

    #[test]
    fn a_given_data_dir_is_used_as_is() {
        let p = Path::new("/x/y");
        assert_eq!(data_dir(Some(p)).unwrap(), p);
    }
}
