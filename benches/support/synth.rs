//! A realistic, deterministic CodeBuild + BuildKit log of any size, for benchmarks.
//!
//! Shared by `benches/parse.rs` and `examples/genlog.rs` (used by `benches/bigfile.sh`) through
//! `#[path]`, so the benchmark and the timing script measure the same kind of input.

use std::io::{self, Write};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: [&str; 16] = [
    "Collecting",
    "numpy==1.26.4",
    "Downloading",
    "https://files.pythonhosted.org/packages/",
    "MB/s",
    "eta",
    "0:00:00",
    "Installing",
    "collected",
    "packages:",
    "Successfully",
    "built",
    "wheel",
    "for",
    "npm",
    "WARN",
];

/// Writes about `target_bytes` of log: CodeBuild phases around repeated `docker build` runs,
/// each with internal vertices, cached and rebuilt Dockerfile steps, two RUN steps whose long
/// time-prefixed output interleaves (`#N ...` switches and repeated headers), and an export.
pub fn write_log(out: &mut impl Write, target_bytes: u64, seed: u64) -> io::Result<u64> {
    write_shaped(out, target_bytes, seed, 200, 2000)
}

/// [`write_log`] with few output lines per rebuilt step: many builds and steps per megabyte,
/// the parser's state changes on nearly every line.
#[allow(dead_code)] // not every user of this module needs it
pub fn write_dense_log(out: &mut impl Write, target_bytes: u64, seed: u64) -> io::Result<u64> {
    write_shaped(out, target_bytes, seed, 1, 4)
}

/// A rebuilt step prints `min_lines` plus up to `spread` lines of output.
fn write_shaped(
    out: &mut impl Write,
    target_bytes: u64,
    seed: u64,
    min_lines: u64,
    spread: u64,
) -> io::Result<u64> {
    let mut rng = Rng(seed | 1);
    let mut w = CountingWriter { inner: out, n: 0 };
    let mut sec = 0u64;
    let mut build = 0;
    while w.n < target_bytes {
        build += 1;
        let t = |s: u64| {
            format!(
                "2024/05/01 {:02}:{:02}:{:02}.{:06}",
                (s / 3600) % 24,
                (s / 60) % 60,
                s % 60,
                s * 7919 % 1_000_000
            )
        };
        writeln!(w, "[Container] {} Entering phase BUILD", t(sec))?;
        writeln!(w, "[Container] {} Running command docker build --cache-from $ECR_REPO:latest --build-arg BUILDKIT_INLINE_CACHE=1 -t app:{build} .", t(sec))?;
        writeln!(
            w,
            "#0 building with \"default\" instance using docker driver\n"
        )?;
        writeln!(w, "#1 [internal] load build definition from Dockerfile\n#1 transferring dockerfile: 2.31kB done\n#1 DONE 0.0s\n")?;
        writeln!(w, "#2 [internal] load metadata for public.ecr.aws/docker/library/python:3.12-slim\n#2 DONE 0.6s\n")?;
        writeln!(w, "#3 importing cache manifest from 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest\n#3 inferred cache manifest type: application/vnd.docker.distribution.manifest.v2+json done\n#3 DONE 0.4s\n")?;
        let steps = 12;
        let bust = 2 + rng.below(steps - 2);
        for i in 1..=steps {
            let v = i + 3;
            let instr = match i {
                1 => "FROM public.ecr.aws/docker/library/python:3.12-slim".to_string(),
                i if i % 3 == 0 => format!("COPY src/{i} /app/{i}"),
                _ => format!("RUN pip install -r requirements-{i}.txt"),
            };
            writeln!(w, "#{v} [builder {i}/{steps}] {instr}")?;
            if i < bust {
                writeln!(w, "#{v} CACHED\n")?;
                continue;
            }
            // Rebuilt: long output, interleaved with the next vertex now and then.
            let lines = min_lines + rng.below(spread);
            let mut clock = 0.0f64;
            for l in 0..lines {
                clock += rng.below(900) as f64 / 1000.0;
                write!(w, "#{v} {clock:.3}")?;
                for _ in 0..(4 + rng.below(14)) {
                    write!(w, " {}", WORDS[rng.below(WORDS.len() as u64) as usize])?;
                }
                writeln!(w)?;
                if l % 500 == 499 {
                    writeln!(w, "#{v} ...\n\n#{} [internal] load build context\n#{} transferring context: 1.2MB 0.3s\n\n#{v} [builder {i}/{steps}] {instr}", 100 + i, 100 + i)?;
                }
            }
            writeln!(w, "#{v} DONE {clock:.1}s\n")?;
        }
        writeln!(w, "#99 exporting to image\n#99 exporting layers 1.2s done\n#99 writing image sha256:{:064x} done\n#99 naming to app:{build} done\n#99 DONE 1.3s", rng.next())?;
        sec += 300;
        writeln!(
            w,
            "\n[Container] {} Phase complete: BUILD State: SUCCEEDED",
            t(sec)
        )?;
    }
    Ok(w.n)
}

struct CountingWriter<'a, W: Write> {
    inner: &'a mut W,
    n: u64,
}

impl<W: Write> Write for CountingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let k = self.inner.write(buf)?;
        self.n += k as u64;
        Ok(k)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A log of at least `lines` lines, as one string (for seeding CloudWatch streams).
#[allow(dead_code)] // not every user of this module needs it
pub fn log_with_lines(lines: usize, seed: u64) -> String {
    let mut bytes = Vec::new();
    let mut size = (lines as u64) * 100;
    loop {
        bytes.clear();
        write_log(&mut bytes, size, seed).expect("writing to memory");
        if memchr::memchr_iter(b'\n', &bytes).count() >= lines {
            return String::from_utf8(bytes).expect("the generator writes UTF-8");
        }
        size += size / 4;
    }
}
