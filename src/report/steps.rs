//! The `steps` output contract (DESIGN.md): JSON Lines, CSV and a terminal table of the same rows.
//!
//! JSON Lines and CSV are rendered one row at a time so `cachescope steps` can stream a large log
//! without holding its steps; the table needs every row to size its columns.

use comfy_table::{
    presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Color, ContentArrangement, Table,
};

use super::{csv_text, printable};
use crate::model::{Step, StepStatus};

/// One step as a JSON object followed by `\n`: exactly what `serde_json` writes for a [`Step`]
/// (a test holds them equal), written field by field because a step-dense log spends most of
/// its time here.
pub fn jsonl_row(step: &Step, out: &mut Vec<u8>) {
    // serde_json writes integers without `fmt`'s machinery.
    let int = |out: &mut Vec<u8>, v: u64| {
        serde_json::to_writer(&mut *out, &v).expect("an integer always serializes")
    };
    let opt_str = |out: &mut Vec<u8>, v: Option<&str>| match v {
        Some(v) => json_str(out, v),
        None => out.extend_from_slice(b"null"),
    };
    let opt_u32 = |out: &mut Vec<u8>, v: Option<u32>| match v {
        Some(v) => int(out, v.into()),
        None => out.extend_from_slice(b"null"),
    };
    out.extend_from_slice(b"{\"invocation\":");
    int(out, step.invocation.into());
    out.extend_from_slice(b",\"vertex\":");
    opt_u32(out, step.vertex);
    out.extend_from_slice(b",\"step\":");
    json_str(out, &step.step);
    out.extend_from_slice(b",\"name\":");
    json_str(out, &step.name);
    out.extend_from_slice(b",\"stage\":");
    opt_str(out, step.stage.as_deref());
    out.extend_from_slice(b",\"index\":");
    opt_u32(out, step.index);
    out.extend_from_slice(b",\"total\":");
    opt_u32(out, step.total);
    out.extend_from_slice(b",\"instruction\":");
    opt_str(out, step.instruction.as_deref());
    out.extend_from_slice(b",\"kind\":");
    json_str(out, step.kind.as_str());
    out.extend_from_slice(b",\"status\":");
    json_str(out, step.status.as_str());
    out.extend_from_slice(b",\"duration_s\":");
    // A number (serde_json writes non-finite floats as null) or null.
    serde_json::to_writer(&mut *out, &step.duration_s).expect("an f64 always serializes");
    out.extend_from_slice(b",\"line\":");
    int(out, step.line);
    out.extend_from_slice(b",\"error\":");
    opt_str(out, step.error.as_deref());
    out.extend_from_slice(b"}\n");
}

/// A JSON string: copied as it is when nothing in it needs escaping (most log text), else
/// escaped by `serde_json`.
fn json_str(out: &mut Vec<u8>, s: &str) {
    // Without a short cut the compiler vectorises the scan.
    let escapes = (s.bytes()).fold(false, |e, b| e | (b == b'"') | (b == b'\\') | (b < 0x20));
    if escapes {
        serde_json::to_writer(&mut *out, s).expect("a string always serializes");
    } else {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// Column names of the CSV form: the steps frame's columns, the same fields in the same order
/// as the JSON form.
pub const CSV_HEADER: [&str; 13] = crate::analyze::schema::steps::ALL;

/// CSV rows, header first; renders each step as it comes.
pub struct CsvRows {
    header_done: bool,
}

impl Default for CsvRows {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvRows {
    pub fn new() -> Self {
        CsvRows { header_done: false }
    }

    pub fn row(&mut self, step: &Step, out: &mut Vec<u8>) {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(out);
        if !self.header_done {
            w.write_record(CSV_HEADER).expect("writing to memory");
            self.header_done = true;
        }
        let opt = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
        w.write_record([
            step.invocation.to_string(),
            opt(step.vertex),
            csv_text(&step.step).into_owned(),
            csv_text(&step.name).into_owned(),
            csv_text(step.stage.as_deref().unwrap_or("")).into_owned(),
            opt(step.index),
            opt(step.total),
            csv_text(step.instruction.as_deref().unwrap_or("")).into_owned(),
            step.kind.as_str().to_string(),
            step.status.as_str().to_string(),
            step.duration_s
                .map(|d| format!("{d:?}"))
                .unwrap_or_default(),
            step.line.to_string(),
            csv_text(step.error.as_deref().unwrap_or("")).into_owned(),
        ])
        .expect("writing to memory");
        w.flush().expect("writing to memory");
    }
}

fn status_color(status: StepStatus) -> Color {
    match status {
        StepStatus::Cached => Color::Green,
        StepStatus::Rebuilt => Color::Yellow,
        StepStatus::Error => Color::Red,
        StepStatus::Canceled => Color::Magenta,
        StepStatus::Unfinished => Color::DarkGrey,
    }
}

/// Names longer than this are cut in the table (the JSON and CSV forms keep them whole).
const TABLE_NAME_CHARS: usize = 72;

/// The columns other than the name take about this many terminal cells with their borders.
const TABLE_OTHER_COLUMNS: u16 = 64;

/// The human view of the same rows: invocation, step, stage, i/n, instruction, status, duration,
/// and the name, shortened. `width`: the terminal's columns, to fit the table in (`None` when
/// piped: full width).
pub fn table(steps: &[Step], color: bool, width: Option<u16>) -> String {
    let mut t = Table::new();
    let name_chars = match width {
        Some(w) => usize::from(w.saturating_sub(TABLE_OTHER_COLUMNS)).clamp(16, TABLE_NAME_CHARS),
        None => TABLE_NAME_CHARS,
    };
    fit(&mut t, width);
    t.load_style(UTF8_FULL_CONDENSED).set_header([
        "inv", "step", "stage", "i/n", "instr", "status", "duration", "name",
    ]);
    if !color {
        t.force_no_tty();
    } else {
        t.enforce_styling();
    }
    for s in steps {
        let pos = match (s.index, s.total) {
            (Some(i), Some(n)) => format!("{i}/{n}"),
            (Some(i), None) => i.to_string(),
            _ => String::new(),
        };
        let mut status = Cell::new(s.status.as_str());
        if color {
            status = status.fg(status_color(s.status));
        }
        t.add_row(vec![
            Cell::new(s.invocation).set_alignment(CellAlignment::Right),
            Cell::new(printable(&s.step)),
            Cell::new(printable(s.stage.as_deref().unwrap_or(""))),
            Cell::new(pos).set_alignment(CellAlignment::Right),
            Cell::new(s.instruction.as_deref().unwrap_or("")),
            status,
            Cell::new(s.duration_s.map(|d| format!("{d:.1}s")).unwrap_or_default())
                .set_alignment(CellAlignment::Right),
            Cell::new(shorten(&s.name, name_chars)),
        ]);
    }
    let mut out = t.to_string();
    out.push('\n');
    out
}

/// Fits a table into `width` columns (cells wrap), or lets it take its full width.
pub fn fit(t: &mut Table, width: Option<u16>) {
    match width {
        Some(w) => {
            t.set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(w);
        }
        None => {
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
}

/// First `max` characters, TABs and runs of spaces collapsed, control characters shown, with
/// `…` when cut.
fn shorten(name: &str, max: usize) -> String {
    let collapsed = printable(&name.split_whitespace().collect::<Vec<_>>().join(" "));
    if collapsed.chars().count() <= max {
        return collapsed;
    }
    let mut s: String = collapsed.chars().take(max - 1).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StepKind;

    #[test]
    fn jsonl_rows_are_what_serde_writes() {
        let base = Step {
            invocation: 3,
            vertex: Some(12),
            step: "#12".into(),
            name: "[builder 4/8] RUN pip install -r requirements.txt".into(),
            stage: Some("builder".into()),
            index: Some(4),
            total: Some(8),
            instruction: Some("RUN".into()),
            kind: StepKind::Dockerfile,
            status: StepStatus::Rebuilt,
            duration_s: Some(123.4),
            line: 57,
            error: None,
        };
        let mut cases = vec![base.clone()];
        for name in [
            "quote \" back\\slash",
            "tab\there\u{1}\u{1f}\u{7f}",
            "ü ✔ 𝄞 \u{FFFD}",
            "",
        ] {
            cases.push(Step {
                name: name.into(),
                error: Some(name.into()),
                ..base.clone()
            });
        }
        for d in [
            None,
            Some(0.0),
            Some(0.1),
            Some(1e21),
            Some(f64::NAN),
            Some(f64::INFINITY),
        ] {
            cases.push(Step {
                vertex: None,
                stage: None,
                index: None,
                total: None,
                instruction: None,
                duration_s: d,
                kind: StepKind::CacheExport,
                status: StepStatus::Unfinished,
                ..base.clone()
            });
        }
        for step in cases {
            let mut got = Vec::new();
            jsonl_row(&step, &mut got);
            let want = serde_json::to_string(&step).unwrap() + "\n";
            assert_eq!(String::from_utf8(got).unwrap(), want);
        }
    }
}
