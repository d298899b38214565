//! Raw bytes into the parser: it must never panic.
#![no_main]

use cachescope::parse::{parse_bytes, ParseOptions, Parser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The public entry point, default options (1 MiB line cap).
    let _ = parse_bytes(data);

    // Inputs are capped at 64 KiB while fuzzing, so the default cap is never reached: also run a
    // parser with a small cap to reach the over-long-line paths.
    let mut parser = Parser::new(ParseOptions { max_line: 64 });
    parser.push(data);
    parser.events().for_each(drop);
    let _ = parser.finish();
    parser.events().for_each(drop);
});
