//! Parser throughput in MB/s: on a synthetic CodeBuild + BuildKit log (long interleaved RUN
//! output) and on the bundled real logs. The memchr line count over the same bytes is the
//! baseline measured in the same run: the parser cannot beat it, and the ratio is the figure
//! to watch.

#[path = "support/synth.rs"]
mod synth;

use cachescope::parse::{parse_bytes, Parser};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn corpus() -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/corpus/logs");
    let mut all = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for p in paths {
        all.extend(std::fs::read(p).unwrap());
        all.push(b'\n');
    }
    all
}

fn bench(c: &mut Criterion) {
    let mut synthetic = Vec::new();
    synth::write_log(&mut synthetic, 32 << 20, 7).unwrap();
    let real = corpus();
    for (name, data) in [("synthetic-codebuild-32MiB", &synthetic), ("corpus", &real)] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function("baseline: memchr line count", |b| {
            b.iter(|| memchr::memchr_iter(b'\n', black_box(data)).count())
        });
        g.bench_function("parse, one chunk", |b| {
            b.iter(|| parse_bytes(black_box(data)).steps.len())
        });
        g.bench_function("parse, 64 KiB chunks", |b| {
            b.iter(|| {
                let mut p = Parser::default();
                let mut n = 0;
                for c in black_box(data).chunks(64 * 1024) {
                    p.push(c);
                    n += p.events().count();
                }
                p.finish();
                n + p.events().count()
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
