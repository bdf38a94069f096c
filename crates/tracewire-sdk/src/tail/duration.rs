//! Go duration syntax (`time.ParseDuration`): `"30s"`, `"500ms"`, `"1m30s"`, `"1.5h"`, `"0"`.

use std::time::Duration;

/// Parses a duration written as Go's `time.ParseDuration` accepts it: a sequence of decimal
/// numbers, each with an optional fraction and a unit (`ns`, `us`/`µs`/`μs`, `ms`, `s`, `m`, `h`),
/// or a bare `0`. A leading `+` is accepted; negative durations are rejected, since no duration of
/// the tail sampling config can be negative.
///
/// ```
/// use std::time::Duration;
/// use tracewire_sdk::tail::parse_go_duration;
///
/// assert_eq!(parse_go_duration("1m30s"), Ok(Duration::from_secs(90)));
/// assert_eq!(parse_go_duration("500ms"), Ok(Duration::from_millis(500)));
/// assert!(parse_go_duration("30").is_err());
/// ```
///
/// # Errors
///
/// A message saying what was expected, for a string that is not a Go duration.
pub fn parse_go_duration(input: &str) -> Result<Duration, String> {
    let expected = || {
        format!(
            "expected a duration in Go syntax such as \"30s\", \"500ms\" or \"1m30s\", found {input:?}"
        )
    };
    let mut s = input;
    if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    } else if s.starts_with('-') {
        if s == "-0" {
            return Ok(Duration::ZERO);
        }
        return Err(format!(
            "a negative duration ({input:?}) is not allowed here"
        ));
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(expected());
    }
    // Accumulate in nanoseconds with u128 to detect overflow of Go's int64 range.
    let mut total: u128 = 0;
    while !s.is_empty() {
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, rest) = s.split_at(int_len);
        let (frac_part, rest) = if let Some(r) = rest.strip_prefix('.') {
            let frac_len = r.bytes().take_while(u8::is_ascii_digit).count();
            r.split_at(frac_len)
        } else {
            ("", rest)
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(expected());
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(rest.len(), |(i, _)| i);
        let (unit, rest) = rest.split_at(unit_len);
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(expected()),
        };
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| expected())?
        };
        let mut value = int.checked_mul(scale).ok_or_else(expected)?;
        // The fraction contributes digits × scale / 10^len, truncated as Go does.
        let mut frac_scale = scale;
        for digit in frac_part.bytes().take(30) {
            frac_scale /= 10;
            if frac_scale == 0 {
                break;
            }
            value += u128::from(digit - b'0') * frac_scale;
        }
        total = total.checked_add(value).ok_or_else(expected)?;
        if total > i64::MAX as u128 {
            return Err(format!("duration {input:?} is out of range"));
        }
        s = rest;
    }
    Ok(Duration::from_nanos(total as u64))
}

/// Formats a duration the way Go's `Duration.String` does (`"1m30s"`, `"500ms"`, `"0s"`).
pub fn format_go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}µs", trim(nanos as f64 / 1e3));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", trim(nanos as f64 / 1e6));
    }
    let total_secs = d.as_secs();
    let h = total_secs / 3600;
    let m = (total_secs % 3600) / 60;
    let s = (total_secs % 60) as f64 + f64::from(d.subsec_nanos()) / 1e9;
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{}s", trim(s)));
    out
}

fn trim(v: f64) -> String {
    let s = format!("{v:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let cases: &[(&str, Duration)] = &[
            ("0", Duration::ZERO),
            ("30s", Duration::from_secs(30)),
            ("500ms", Duration::from_millis(500)),
            ("1m30s", Duration::from_secs(90)),
            ("1.5h", Duration::from_secs(5400)),
            ("+2s", Duration::from_secs(2)),
            ("1h2m3s4ms5us6ns", Duration::new(3723, 4_005_006)),
            ("10µs", Duration::from_micros(10)),
            (".5s", Duration::from_millis(500)),
            ("1.s", Duration::from_secs(1)),
        ];
        for (input, want) in cases {
            assert_eq!(parse_go_duration(input).as_ref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for input in [
            "", "30", "s", "1x", "1.2.3s", "ms5", ".s", "-1s", "1e3s", " 1s",
        ] {
            assert!(parse_go_duration(input).is_err(), "{input:?} should fail");
        }
        assert!(parse_go_duration("99999999999h").is_err());
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go_duration(Duration::ZERO), "0s");
        assert_eq!(format_go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_go_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(format_go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(format_go_duration(Duration::from_millis(1500)), "1.5s");
        for d in ["30s", "1m30s", "500ms", "2h5m1s"] {
            let parsed = parse_go_duration(d).expect("valid");
            assert_eq!(parse_go_duration(&format_go_duration(parsed)), Ok(parsed));
        }
    }
}
