//! The manifest format of the QR test corpus (`testdata/corpus/*/manifest.tsv`), read by the
//! decoder's tests and benchmarks.
//!
//! One header line, then tab-separated rows: `image` (path relative to the folder), `expected`
//! (the text, with `\n`, `\r`, `\t` and `\\` escaped), `exact` (`1` where the expected text is
//! known exactly; only those rows are scored) and `tags` (comma-separated).

/// One image of the corpus and the text it should decode to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub image: String,
    pub expected: String,
    pub exact: bool,
    pub tags: Vec<String>,
}

/// A line of a manifest that does not have the expected shape.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("manifest line {line}: {reason}")]
pub struct ManifestError {
    pub line: usize,
    pub reason: String,
}

/// Parses a whole manifest, header included.
pub fn parse_manifest(text: &str) -> Result<Vec<Row>, ManifestError> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.starts_with("image\texpected\texact") => {}
        _ => {
            return Err(ManifestError {
                line: 1,
                reason: "expected the header `image\\texpected\\texact\\ttags`".into(),
            })
        }
    }
    let mut rows = Vec::new();
    for (index, line) in lines {
        if line.is_empty() {
            continue;
        }
        let err = |reason: &str| ManifestError {
            line: index + 1,
            reason: reason.to_string(),
        };
        let fields: Vec<&str> = line.split('\t').collect();
        let [image, expected, exact, rest @ ..] = fields.as_slice() else {
            return Err(err("fewer than 3 tab-separated fields"));
        };
        let exact = match *exact {
            "1" => true,
            "0" => false,
            _ => return Err(err("`exact` is neither 0 nor 1")),
        };
        let tags = rest
            .first()
            .map(|t| {
                t.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        rows.push(Row {
            image: (*image).to_string(),
            expected: unescape(expected),
            exact,
            tags,
        });
    }
    Ok(rows)
}

/// Undoes the manifest's escapes; an unknown escape is kept as it is.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}
