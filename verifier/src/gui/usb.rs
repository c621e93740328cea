//! Finding trust-bundle files on USB sticks (the history's CSV export is
//! [`crate::files::write_csv_file`], shared with `verifier log --csv`).

use std::path::{Path, PathBuf};

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
