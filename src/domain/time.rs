//! Instants (`Ts`): parsing every stored form, RFC 3339, and the timestamp runs a thread is read in.

use super::*;

/// A UTC instant with nanoseconds, as Firestore keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts {
    pub secs: i64,
    pub nanos: u32,
}

impl Ts {
    pub fn from_micros(us: i64) -> Ts {
        Ts { secs: us.div_euclid(1_000_000), nanos: (us.rem_euclid(1_000_000) * 1000) as u32 }
    }
    /// Unix seconds (or milliseconds, or microseconds, told apart by magnitude) as an instant;
    /// None for NaN and infinities, and outside Firestore's years 1–9999.
    pub fn from_unix_number(n: f64) -> Option<Ts> {
        if !n.is_finite() {
            return None;
        }
        let (_, _, scale) = UNIX_BANDS.iter().find(|(lo, hi, _)| (*lo..*hi).contains(&n))?;
        let t = Ts::from_micros((n / scale * 1e6).round() as i64);
        (Ts::MIN..=Ts::MAX).contains(&t).then_some(t)
    }
    /// 0001-01-01T00:00:00Z, the earliest instant Firestore stores.
    pub const MIN: Ts = Ts { secs: -62_135_596_800, nanos: 0 };
    /// 9999-12-31T23:59:59.999999999Z, the latest.
    pub const MAX: Ts = Ts { secs: 253_402_300_799, nanos: 999_999_999 };
    pub fn micros(&self) -> i64 {
        self.secs.saturating_mul(1_000_000).saturating_add((self.nanos / 1000) as i64)
    }

    /// Parse RFC 3339 / ISO-8601. A string without a zone (Python's `utcnow().isoformat()`) is
    /// read as UTC; `Z` and `±hh:mm` offsets are honoured; a date alone is midnight UTC.
    pub fn parse(s: &str) -> Option<Ts> {
        // ASCII space only: what it trims sorts before every digit.
        let s = s.trim_ascii();
        let (date, rest) = match s.find(['T', 't', ' ']) {
            Some(i) => (&s[..i], &s[i + 1..]),
            None => (s, ""),
        };
        // The date is YYYY-MM-DD (a longer year allowed: it is past year 9999 whatever its
        // text), so that these strings sort as their dates do: the Firestore reader relies on
        // it to place ISO strings it has not read yet.
        let b = date.as_bytes();
        let n = b.len();
        let canonical = n >= 10
            && b.iter()
                .enumerate()
                .all(|(i, c)| if i == n - 3 || i == n - 6 { *c == b'-' } else { c.is_ascii_digit() });
        if !canonical {
            return None;
        }
        let mut d = date.split('-');
        let y: i64 = d.next()?.parse().ok()?;
        let mo: u32 = d.next()?.parse().ok()?;
        let day: u32 = d.next()?.parse().ok()?;
        if d.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&day) {
            return None;
        }
        let (time, offset_secs) = if rest.is_empty() {
            ("00:00:00", 0i64)
        } else if let Some(t) = rest.strip_suffix(['Z', 'z']) {
            (t, 0)
        } else if let Some(i) = rest.rfind(['+', '-']).filter(|&i| i >= 5) {
            let (t, off) = rest.split_at(i);
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let off = &off[1..];
            let (oh, om) = off.split_once(':').unwrap_or((&off[..off.len().min(2)], &off[off.len().min(2)..]));
            let oh: i64 = oh.parse().ok()?;
            let om: i64 = if om.is_empty() { 0 } else { om.parse().ok()? };
            // RFC 3339 offsets are under a day: a bound the Firestore reader relies on.
            if oh > 23 || om > 59 {
                return None;
            }
            (t, sign * (oh * 3600 + om * 60))
        } else {
            (rest, 0)
        };
        let mut t = time.split(':');
        let h: i64 = t.next()?.parse().ok()?;
        let mi: i64 = t.next()?.parse().ok()?;
        let sec_s = t.next().unwrap_or("0");
        let (whole, frac) = sec_s.split_once('.').unwrap_or((sec_s, ""));
        let sec: i64 = whole.parse().ok()?;
        if h > 23 || mi > 59 || sec > 60 || !frac.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut nanos: u32 = 0;
        for (i, c) in frac.chars().take(9).enumerate() {
            nanos += (c as u32 - '0' as u32) * 10u32.pow(8 - i as u32);
        }
        let days = days_from_civil(y, mo, day);
        Some(Ts { secs: days * 86_400 + h * 3600 + mi * 60 + sec - offset_secs, nanos })
    }

    /// `2026-11-23T21:40:05.123000Z`: always six fractional digits, so that these strings sort
    /// as the instants do (the memory layer's Redis entries are ordered by them).
    pub fn to_rfc3339_micros(&self) -> String {
        let s = Ts { secs: self.secs, nanos: 0 }.to_rfc3339();
        format!("{}.{:06}Z", s.trim_end_matches('Z'), self.nanos / 1000)
    }

    pub fn now() -> Ts {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Ts { secs: d.as_secs() as i64, nanos: d.subsec_nanos() }
    }

    /// `2026-11-23T21:40:05.123Z` (milliseconds shown when present).
    pub fn to_rfc3339(&self) -> String {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let ms = self.nanos / 1_000_000;
        let frac = if self.nanos == 0 { String::new() } else { format!(".{ms:03}") };
        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}Z", rem / 3600, (rem % 3600) / 60, rem % 60)
    }
}

// Howard Hinnant's civil-date algorithms (proleptic Gregorian, UTC).
pub(super) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(super) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + if m <= 2 { 1 } else { 0 }, m, d)
}

/// How a message's `timestamp` was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsForm {
    Timestamp,
    IsoString,
    /// A number of Unix seconds (or milliseconds), int or float.
    UnixNumber,
    /// No usable timestamp: the field is missing, null or of another type. Such messages come
    /// after the timed ones, in id order, on every store.
    Missing,
}

impl TsForm {
    /// The form of a `timestamp` field's value. Each form is one run of an ordered query:
    /// Firestore orders (and range-filters) values of one type together.
    pub fn of(v: Option<&FsValue>) -> TsForm {
        match v {
            Some(FsValue::Timestamp(_)) => TsForm::Timestamp,
            Some(FsValue::String(_)) => TsForm::IsoString,
            Some(FsValue::Int(_)) => TsForm::UnixNumber,
            Some(FsValue::Double(d)) if !d.is_nan() => TsForm::UnixNumber,
            _ => TsForm::Missing,
        }
    }
}

/// Unix numbers by size, as `[lo, hi)` value ranges and what one unit of each is in seconds:
/// seconds up to 9999-12-31 (2.5e11), then milliseconds (from 1978 on), then microseconds —
/// a year-9999 sentinel in seconds is not 1978 in milliseconds. Within one band the value
/// orders as the instant does, so each band is one ordered run of a thread.
pub const UNIX_BANDS: [(f64, f64, f64); 5] = {
    const S: f64 = 253_402_300_800.0;
    [
        (-S, S, 1.0),
        (S, S * 1e3, 1e3),
        (S * 1e3, f64::INFINITY, 1e6),
        (-S * 1e3, -S, 1e3),
        (f64::NEG_INFINITY, -S * 1e3, 1e6),
    ]
};

/// One ordered run of a message thread: the messages whose `timestamp` is of one type (and,
/// for numbers, one unit), which a store can order by value with a range filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimedRun {
    Timestamp,
    /// Unix numbers in `[lo, hi)` (one of [`UNIX_BANDS`]).
    Number {
        lo: f64,
        hi: f64,
    },
    /// ISO-8601 strings: ordered as text by the store, so re-ordered by instant as they are
    /// read (see the Firestore reader's look-ahead).
    IsoString,
}

/// The runs a message thread is read in, merged by instant.
pub const TIMED_RUNS: [TimedRun; 7] = [
    TimedRun::Timestamp,
    TimedRun::Number { lo: UNIX_BANDS[0].0, hi: UNIX_BANDS[0].1 },
    TimedRun::Number { lo: UNIX_BANDS[1].0, hi: UNIX_BANDS[1].1 },
    TimedRun::Number { lo: UNIX_BANDS[2].0, hi: UNIX_BANDS[2].1 },
    TimedRun::Number { lo: UNIX_BANDS[3].0, hi: UNIX_BANDS[3].1 },
    TimedRun::Number { lo: UNIX_BANDS[4].0, hi: UNIX_BANDS[4].1 },
    TimedRun::IsoString,
];

/// Where one run of a merged message read stopped: after this (timestamp value, document path),
/// and whether it has ended. `ahead` holds what a run has read but not yet given out, in
/// instant order (the ISO-string run reads ahead of what it can place).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunPos {
    pub after: Option<(FsValue, String)>,
    pub done: bool,
    pub ahead: Vec<Message>,
    /// The store has nothing after `after` (what is `ahead` may still be to give out).
    pub ended: bool,
}
