//! Untrusted text on its way out: into a terminal ([`sanitize`], [`terminal_safe`]) and into a
//! CSV file a spreadsheet will open ([`csv_safe`]). Both programs print and export text that
//! came from files, QR codes and operators; these are the one place each rule lives.

use std::borrow::Cow;

/// What a hidden or dangerous character is shown as.
const REPLACEMENT: char = '\u{FFFD}';

/// Characters a terminal must not receive from untrusted text: control characters (C0, DEL,
/// C1 — escape sequences can move the cursor, rewrite lines, retitle the window) and the
/// bidirectional overrides and isolates, which can make a line read differently from what it
/// holds.
fn is_hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control and bidi-override character replaced by U+FFFD, so a hostile
/// name, file name or QR cannot rewrite the operator's terminal. Borrowed when already clean.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if is_hidden(c) { REPLACEMENT } else { c })
            .collect(),
    )
}

/// At most `max` characters of untrusted text, made [`terminal_safe`], with `…` when cut.
pub fn sanitize(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if is_hidden(c) { REPLACEMENT } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// A CSV cell that a spreadsheet will show as text, never run as a formula: a cell starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's advice on
/// CSV injection). Legitimate values are changed too — a phone number `+86…` is written
/// `'+86…` — which is the point: the reader cannot tell them apart from an attack.
pub fn csv_safe(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_starting_with_formula_characters_are_neutralised() {
        for bad in [
            "=HYPERLINK(\"http://x\",\"点击\")",
            "+86 13551566498",
            "-2+3",
            "@SUM(A1:A9)",
            "\t=1+1",
            "\r=1+1",
        ] {
            let safe = csv_safe(bad);
            assert_eq!(safe, format!("'{bad}"), "{bad:?}");
        }
        for fine in ["鲁KP20XL", "00000-00001-8", "C101", "", "a=b", " =1", "'=1"] {
            assert!(
                matches!(csv_safe(fine), Cow::Borrowed(s) if s == fine),
                "{fine:?}"
            );
        }
    }

    #[test]
    fn terminal_text_loses_controls_and_bidi_overrides() {
        assert!(matches!(terminal_safe("邓丽伟 C101"), Cow::Borrowed(_)));
        assert_eq!(terminal_safe("a\u{1b}[2Jb"), "a\u{FFFD}[2Jb");
        assert_eq!(
            terminal_safe("x\r\ny\u{7f}\u{9b}"),
            "x\u{FFFD}\u{FFFD}y\u{FFFD}\u{FFFD}"
        );
        assert_eq!(
            terminal_safe("ab\u{202E}cd\u{2066}"),
            "ab\u{FFFD}cd\u{FFFD}"
        );
    }

    #[test]
    fn sanitize_cuts_and_hides_controls() {
        assert_eq!(sanitize("abc", 5), "abc");
        assert_eq!(sanitize("abc", 3), "abc");
        assert_eq!(sanitize("abcdef", 3), "abc…");
        assert_eq!(sanitize("a\u{1b}[2Jb", 10), "a\u{FFFD}[2Jb");
    }
}
