//! `cachescope steps`: the parser's view of a log, streamed out row by row.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Result};

use super::output::Output;
use super::{read, EXIT_OK};
use crate::analyze::frames::steps_frame;
use crate::cli::{StepsArgs, StepsFormat};
use crate::model::Step;
use crate::parse::Event;
use crate::report::build::parquet;
use crate::report::steps::{jsonl_row, table, CsvRows};

/// Renders each finished step as soon as the parser releases it (JSON Lines and CSV stream;
/// the table and Parquet need every row first).
struct Rows {
    format: StepsFormat,
    out: Output,
    csv: CsvRows,
    buf: Vec<u8>,
    held: Vec<Step>,
    count: usize,
    write_error: Option<std::io::Error>,
}

impl Rows {
    fn emit(&mut self, step: Step) {
        self.count += 1;
        self.buf.clear();
        match self.format {
            StepsFormat::Table | StepsFormat::Parquet => return self.held.push(step),
            StepsFormat::Jsonl => jsonl_row(&step, &mut self.buf),
            StepsFormat::Csv => self.csv.row(&step, &mut self.buf),
        }
        if self.write_error.is_none() {
            if let Err(e) = self.out.write_all(&self.buf) {
                self.write_error = Some(e);
            }
        }
    }
}

pub fn run(args: &StepsArgs, verbose: bool) -> Result<ExitCode> {
    let input = read::input(&args.input, verbose);
    let opts = read::ReadOptions {
        max_line: args.max_line_bytes,
        aws: &args.aws,
        verbose,
        want_meta: false,
        follow: None,
    };
    let out = Output::open(args.output.as_deref())?;
    let color = out.use_color(args.color);
    let mut rows = Rows {
        format: args.format,
        out,
        csv: CsvRows::new(),
        buf: Vec::new(),
        held: Vec::new(),
        count: 0,
        write_error: None,
    };
    let mut feed = read::Feed::new(read::parser(opts.max_line), |e| {
        if let Event::Step(step) = e {
            rows.emit(step)
        }
    });
    let result = read::read_into(&input, &opts, &mut feed);
    let stats = feed.finish();
    drop(feed);
    let mut stream = rows;
    if let Some(e) = stream.write_error.take() {
        return Err(e.into());
    }
    read::report_problems(&input, &stats, result, stream.count, verbose)?;
    if stream.count == 0 {
        bail!(
            "no Docker build steps found in {input} ({} lines read): is it a docker build log?",
            stats.lines
        );
    }
    match args.format {
        StepsFormat::Table => {
            let rendered = table(&stream.held, color, stream.out.width());
            stream.out.write_all(rendered.as_bytes())?;
        }
        StepsFormat::Parquet => {
            if stream.out.is_terminal() {
                bail!("Parquet is binary: write it to a file with -o FILE.parquet");
            }
            let mut frame = steps_frame(&stream.held)?;
            stream.out.write_all(&parquet(&mut frame)?)?;
        }
        StepsFormat::Jsonl | StepsFormat::Csv => {}
    }
    stream.out.commit()?;
    Ok(ExitCode::from(EXIT_OK))
}
