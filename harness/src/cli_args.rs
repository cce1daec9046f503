//! Parsers for the numeric command-line options: each accepts a stated range and refuses
//! anything else with a sentence naming that range (clap adds the option's name and exits 2).

use std::{fmt::Display, str::FromStr, time::Duration};

use crate::run::Partition;

/// The longest `--timeout` accepted, in seconds (an hour: longer only hides a hung helper).
pub const MAX_TIMEOUT_SECS: f64 = 3600.0;
/// The most `--jobs` accepted.
pub const MAX_JOBS: usize = 256;
/// The most `--prop-cases` accepted.
pub const MAX_PROP_CASES: u32 = 100_000;
/// The most partitions `--partition I/N` accepts.
pub const MAX_PARTITIONS: usize = 1000;

/// A number of seconds, greater than 0 and at most `max` (decimals allowed: `0.5`).
pub fn seconds(text: &str, max: f64) -> Result<Duration, String> {
    let bad = || format!("give a number of seconds greater than 0 and at most {max}");
    let secs: f64 = text.trim().parse().map_err(|_| bad())?;
    if !secs.is_finite() || secs <= 0.0 || secs > max {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `--timeout SECS`: greater than 0, at most [`MAX_TIMEOUT_SECS`].
pub fn timeout(text: &str) -> Result<Duration, String> {
    seconds(text, MAX_TIMEOUT_SECS)
}

/// A whole number in `min..=max`, written in decimal digits only.
pub fn whole<T>(text: &str, min: T, max: T) -> Result<T, String>
where
    T: FromStr + PartialOrd + Display + Copy,
{
    let bad = || format!("give a whole number from {min} to {max}");
    let digits = text.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match digits.parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(bad()),
    }
}

/// `--jobs N`: 1 to [`MAX_JOBS`].
pub fn jobs(text: &str) -> Result<usize, String> {
    whole(text, 1, MAX_JOBS)
}

/// `--prop-cases N`: 1 to [`MAX_PROP_CASES`].
pub fn prop_cases(text: &str) -> Result<u32, String> {
    whole(text, 1, MAX_PROP_CASES)
}

/// `--seed N`: any unsigned 64-bit number.
pub fn seed(text: &str) -> Result<u64, String> {
    whole(text, 0, u64::MAX)
}

/// `--partition I/N`: 1 <= I <= N <= [`MAX_PARTITIONS`].
pub fn partition(text: &str) -> Result<Partition, String> {
    let bad = || format!("write I/N with 1 <= I <= N <= {MAX_PARTITIONS}, e.g. 2/4");
    let p: Partition = text.parse().map_err(|_| bad())?;
    if p.total > MAX_PARTITIONS {
        return Err(bad());
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_inside_the_range_are_read_and_the_rest_refused() {
        assert_eq!(timeout("10").unwrap(), Duration::from_secs(10));
        assert_eq!(timeout("0.5").unwrap(), Duration::from_millis(500));
        assert_eq!(timeout("3600").unwrap(), Duration::from_secs(3600));
        for bad in ["0", "-1", "1e20", "3600.5", "inf", "NaN", "", "ten"] {
            let e = timeout(bad).unwrap_err();
            assert!(e.contains("greater than 0 and at most 3600"), "{bad}: {e}");
        }
    }

    #[test]
    fn whole_numbers_keep_to_their_range() {
        assert_eq!(jobs("1").unwrap(), 1);
        assert_eq!(jobs("256").unwrap(), 256);
        assert_eq!(prop_cases("100000").unwrap(), 100_000);
        assert_eq!(seed("18446744073709551615").unwrap(), u64::MAX);
        assert_eq!(seed("0").unwrap(), 0);
        for bad in ["0", "257", "-3", "+4", "1.5", "", "99999999999999999999999"] {
            let e = jobs(bad).unwrap_err();
            assert!(e.contains("from 1 to 256"), "{bad}: {e}");
        }
        for bad in ["-1", "18446744073709551616", "0x10", "seed"] {
            let e = seed(bad).unwrap_err();
            assert!(e.contains("from 0 to 18446744073709551615"), "{bad}: {e}");
        }
        assert!(prop_cases("100001").is_err());
    }

    #[test]
    fn partitions_are_bounded() {
        let p = partition("3/1000").unwrap();
        assert_eq!((p.index, p.total), (3, 1000));
        for bad in ["0/2", "3/2", "1/1001", "1/0", "x/y", "1"] {
            let e = partition(bad).unwrap_err();
            assert!(e.contains("1 <= I <= N <= 1000"), "{bad}: {e}");
        }
    }
}
