//! Calendar arithmetic for the timestamps CodeBuild writes (`2024/01/02 03:04:05.123456`, UTC).
//!
//! Small enough to keep by hand, and it keeps the parser free of a date-time dependency.

/// Days from 1970-01-01 to the given proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Milliseconds since the Unix epoch for a UTC date and time.
pub fn epoch_ms(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, ms: i64) -> i64 {
    let days = days_from_civil(y, mo, d);
    ((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(epoch_ms(1970, 1, 1, 0, 0, 0, 0), 0);
        assert_eq!(epoch_ms(2000, 3, 1, 0, 0, 0, 0), 951_868_800_000);
        assert_eq!(epoch_ms(2024, 2, 29, 12, 30, 15, 250), 1_709_209_815_250);
    }
}

/// An RFC 3339 timestamp (`2024-01-02T03:04:05.123456789Z`, `...+02:00`) → seconds since the
/// epoch, to the nanosecond as far as an f64 allows; `None` if it is not one.
pub fn rfc3339_secs(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let whole = epoch_ms(
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
        0,
    ) / 1000;
    let mut rest = &s[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        frac = format!("0.{}", &r[..digits]).parse().ok()?;
        rest = &r[digits..];
    }
    let offset = match rest.as_bytes().first() {
        None | Some(b'Z') | Some(b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let hh: i64 = rest.get(1..3)?.parse().ok()?;
            let mm: i64 = rest.get(rest.len() - 2..)?.parse().ok()?;
            let o = hh * 3600 + mm * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    Some((whole - offset) as f64 + frac)
}

#[cfg(test)]
mod rfc3339_tests {
    use super::rfc3339_secs;

    #[test]
    fn parses_zones_and_fractions() {
        assert_eq!(rfc3339_secs("1970-01-01T00:00:01.5Z"), Some(1.5));
        assert_eq!(rfc3339_secs("1970-01-01T01:00:00+01:00"), Some(0.0));
        assert_eq!(rfc3339_secs("not a time"), None);
    }
}
