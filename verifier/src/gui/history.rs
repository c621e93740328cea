//! Today's scans as a file: CSV export of the history, and finding trust-bundle files on USB
//! sticks. Plain file I/O with errors that name the file.

use std::path::{Path, PathBuf};

use crate::store::ScanRecord;

/// Writes `rows` as CSV in the same format as `verifier log --csv` (UTF-8 with a byte-order
/// mark, so spreadsheet programs in Chinese locales read the plates and names correctly).
pub fn write_csv(path: &Path, rows: &[ScanRecord]) -> Result<(), String> {
    let err =
        |e: &dyn std::fmt::Display| format!("无法写入 {} (cannot write CSV): {e}", path.display());
    let mut out: Vec<u8> = Vec::new();
    crate::cli::write_csv(&mut out, rows).map_err(|e| err(&e))?;
    std::fs::write(path, out).map_err(|e| err(&e))
}

/// `.cose` files up to three folders deep under each of `roots` (where USB sticks are mounted),
/// newest name last.
pub fn find_bundle_files(roots: &[&Path]) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: u32, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() && depth > 0 {
                walk(&p, depth - 1, out);
            } else if kind.is_file()
                && p.extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| x.eq_ignore_ascii_case("cose"))
            {
                out.push(p);
            }
            if out.len() >= 50 {
                return;
            }
        }
    }
    let mut out = Vec::new();
    for r in roots {
        walk(r, 3, &mut out);
    }
    out.sort();
    out
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
        write_csv(&path, &[row]).unwrap();
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
        assert!(write_csv(&dir.path().join("no/such/dir.csv"), &[]).is_err());
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
        write_csv(&path, &[row]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let line = text.lines().nth(1).unwrap();
        assert_eq!(
            line,
            "1,2022-03-13T08:00:00+08:00,1647129600,C101,\"'=HYPERLINK(\"\"http://x\"\")\",,'@SUM(A1),red,,,no"
        );
    }

    #[test]
    fn finds_bundles_in_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("usb/pass")).unwrap();
        std::fs::write(dir.path().join("usb/pass/bundle-7.cose"), b"x").unwrap();
        std::fs::write(dir.path().join("usb/readme.txt"), b"x").unwrap();
        let found = find_bundle_files(&[dir.path(), Path::new("/no/such/root")]);
        assert_eq!(found, vec![dir.path().join("usb/pass/bundle-7.cose")]);
    }
}
