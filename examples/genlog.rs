//! Writes a synthetic CodeBuild + BuildKit log to stdout: `genlog SIZE_MB [SEED] [dense]`
//! (`dense`: a few output lines per step, many steps and builds). Used by `benches/bigfile.sh`.

#[path = "../benches/support/synth.rs"]
mod synth;

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mb: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(256);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    if args.next().as_deref() == Some("dense") {
        synth::write_dense_log(&mut out, mb << 20, seed)?;
    } else {
        synth::write_log(&mut out, mb << 20, seed)?;
    }
    out.flush()
}
