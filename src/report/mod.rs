//! Renderers: one per output format, each turning model values into bytes. No file writes here;
//! the commands decide where bytes go.

pub mod brief;
pub mod build;
pub mod page;
pub mod steps;
pub mod trend;

/// Log text made safe for a terminal: control characters — escape sequences that retitle,
/// clear or recolour it, a bell, a carriage return that overprints — are shown as their Unicode
/// control pictures (`␛`, `␇`, `␍`); C1 controls as U+FFFD. Every terminal renderer passes log
/// text through here.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'),
            '\u{7f}' => '\u{2421}',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// A CSV cell that a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`,
/// `@`, TAB or CR gets a leading `'` (the OWASP rule; spreadsheets show the text, and the `'` is
/// visible in the raw file). Every CSV renderer passes text cells through here.
pub fn csv_text(text: &str) -> std::borrow::Cow<'_, str> {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}
