//! Migration file names: parsing `NNNN_snake_case_name.sql`, formatting the next name, slugifying.

use crate::config::{Layout, Numbering, SetConfig};

/// Which way a file moves the schema: forward (every plain migration, golang-migrate's
/// `.up.` files), or back (`.down.` files, run only by an explicit rollback).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Up,
    Down,
}

/// A migration name that follows the set's convention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedName {
    pub number: u64,
    /// The digit run exactly as written (keeps leading zeros).
    pub digits: String,
    /// The part after `NNNN_`, without `.sql` (and without `.up`/`.down`).
    pub slug: String,
    pub direction: Direction,
    /// The name is one half of a reversible pair (`.up.`/`.down.`): its other half is expected.
    pub paired: bool,
}

/// Why a name does not follow the convention; `number` is kept when one could be read, so the
/// help can still suggest a corrected name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    pub reason: String,
    pub number: Option<u64>,
    pub slug: Option<String>,
}

pub fn is_slug(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A numbering convention: everything that differs between `0007_add_email.sql` and
/// `20251105120000_add_email.sql`. Rules, `new` and `renumber` ask the set's convention
/// ([`convention`]) instead of matching on the numbering, so a new convention (Flyway's
/// `V1_2__x.sql`, golang-migrate's `.up.sql`) is one implementation and one config value.
pub trait Convention {
    /// Parses a file name (with `.sql`); the error says why it does not follow the convention.
    fn parse(&self, name: &str) -> Result<ParsedName, NameError>;
    /// The file name of migration `number` named `slug`.
    fn format(&self, number: u64, slug: &str) -> String;
    /// The number as the set writes it (`0005`), for messages.
    fn number_text(&self, number: u64) -> String;
    /// The number a new migration takes after the highest one, `last`, at time `now`.
    fn next(&self, last: Option<u64>, now: std::time::SystemTime) -> u64;
    /// What a name looks like, for `invalid-name`'s help.
    fn pattern(&self) -> String;
    /// Whether numbers are consecutive: a skipped one is a `number-gap`, and `renumber` can move
    /// this branch's new migrations after the base's last one.
    fn consecutive(&self) -> bool;
    /// The (up, down) names of a reversible migration `number` named `slug`, in a layout that
    /// has them (golang-migrate, sqlx's `.up.sql`/`.down.sql`).
    fn pair(&self, _number: u64, _slug: &str) -> Option<(String, String)> {
        None
    }
    /// Whether a new migration is a reversible pair even in an empty set (golang-migrate:
    /// always; sqlx: only when the newest migration is one, as `sqlx migrate add` decides).
    fn always_paired(&self) -> bool {
        false
    }
}

/// `0000_init.sql`, `0001_…`: fixed-width consecutive numbers from `start`.
pub struct Sequential {
    pub width: usize,
    pub start: u64,
}

/// `20251105120000_init.sql`: the UTC time it was written; gaps are normal.
pub struct Timestamp;

impl Convention for Sequential {
    fn parse(&self, name: &str) -> Result<ParsedName, NameError> {
        parse(name, Numbering::Sequential, self.width)
    }
    fn format(&self, number: u64, slug: &str) -> String {
        format!("{number:0width$}_{slug}.sql", width = self.width)
    }
    fn number_text(&self, number: u64) -> String {
        format!("{number:0width$}", width = self.width)
    }
    fn next(&self, last: Option<u64>, _now: std::time::SystemTime) -> u64 {
        last.map_or(self.start, |n| n + 1)
    }
    fn pattern(&self) -> String {
        format!("{}_snake_case_name.sql", "N".repeat(self.width))
    }
    fn consecutive(&self) -> bool {
        true
    }
}

impl Convention for Timestamp {
    fn parse(&self, name: &str) -> Result<ParsedName, NameError> {
        parse(name, Numbering::Timestamp, 0)
    }
    fn format(&self, number: u64, slug: &str) -> String {
        format!("{number}_{slug}.sql")
    }
    fn number_text(&self, number: u64) -> String {
        number.to_string()
    }
    fn next(&self, last: Option<u64>, now: std::time::SystemTime) -> u64 {
        utc_timestamp(now).max(last.map_or(0, |n| n + 1))
    }
    fn pattern(&self) -> String {
        "YYYYMMDDHHMMSS_snake_case_name.sql".into()
    }
    fn consecutive(&self) -> bool {
        false
    }
}

/// golang-migrate's `{version}_{title}.up.{ext}` / `.down.{ext}` (its `source.Parse`): the
/// version is the leading digits read as an unsigned 64-bit number, so `1` and `0001` are the
/// same version; the title is anything; the direction is the last `.up.`/`.down.` of the name.
/// New names follow the set's numbering (`migrate create -seq -digits N`, or the default
/// `20060102150405` time format).
pub struct GolangMigrate {
    pub numbers: Numbers,
}

/// How a tool layout writes the versions of new files: the set's `numbering`, `width` and
/// `start`. The tools read any width; these only shape the names miglint writes and shows.
#[derive(Debug, Clone, Copy)]
pub struct Numbers {
    pub numbering: Numbering,
    pub width: usize,
    pub start: u64,
}

impl Numbers {
    pub fn of(set: &SetConfig) -> Numbers {
        Numbers {
            numbering: set.numbering,
            width: set.width,
            start: set.start,
        }
    }

    fn text(&self, number: u64) -> String {
        match self.numbering {
            Numbering::Sequential => format!("{number:0width$}", width = self.width),
            Numbering::Timestamp => number.to_string(),
        }
    }

    fn next(&self, last: Option<u64>, now: std::time::SystemTime) -> u64 {
        match self.numbering {
            Numbering::Sequential => last.map_or(self.start, |n| n + 1),
            Numbering::Timestamp => utc_timestamp(now).max(last.map_or(0, |n| n + 1)),
        }
    }

    /// `NNNNNN` or `YYYYMMDDHHMMSS`, for patterns in help texts.
    fn placeholder(&self) -> String {
        match self.numbering {
            Numbering::Sequential => "N".repeat(self.width),
            Numbering::Timestamp => "YYYYMMDDHHMMSS".into(),
        }
    }
}

impl Convention for GolangMigrate {
    fn parse(&self, name: &str) -> Result<ParsedName, NameError> {
        let digits: String = name.chars().take_while(|c| c.is_ascii_digit()).collect();
        let number = digits.parse::<u64>().ok();
        let rest = &name[digits.len()..];
        let title = rest.strip_prefix('_');
        // The last `.up.`/`.down.` splits title and extension (the tool's pattern is greedy).
        let marker = title.and_then(|t| {
            let up = t.rfind(".up.").map(|i| (i, Direction::Up));
            let down = t.rfind(".down.").map(|i| (i, Direction::Down));
            up.into_iter().chain(down).max_by_key(|m| m.0)
        });
        let slug_guess = {
            let t = title.unwrap_or(rest);
            let t = marker.map_or(t.strip_suffix(".sql").unwrap_or(t), |(i, _)| &t[..i]);
            let s = slugify(t);
            (!s.is_empty()).then_some(s)
        };
        let ignored = "golang-migrate ignores the file, so it never runs";
        let fail = |reason: String| NameError {
            reason: format!("{reason}: {ignored}"),
            number,
            slug: slug_guess.clone(),
        };
        if digits.is_empty() {
            return Err(fail("the name does not start with a version number".into()));
        }
        if number.is_none() {
            return Err(fail("the version does not fit in 64 bits".into()));
        }
        let (Some(title), Some((at, direction))) = (title, marker) else {
            return Err(fail(if title.is_none() {
                "the version must be followed by `_` and a title".into()
            } else {
                "the name has no `.up.` or `.down.` before its extension".into()
            }));
        };
        Ok(ParsedName {
            number: number.unwrap_or_default(),
            digits,
            slug: title[..at].to_string(),
            direction,
            paired: true,
        })
    }
    fn format(&self, number: u64, slug: &str) -> String {
        format!("{}_{slug}.up.sql", self.numbers.text(number))
    }
    fn number_text(&self, number: u64) -> String {
        self.numbers.text(number)
    }
    fn next(&self, last: Option<u64>, now: std::time::SystemTime) -> u64 {
        self.numbers.next(last, now)
    }
    fn pattern(&self) -> String {
        let n = self.numbers.placeholder();
        format!("{n}_title.up.sql (and {n}_title.down.sql)")
    }
    fn consecutive(&self) -> bool {
        // golang-migrate steps from one existing version to the next: gaps are normal.
        false
    }
    fn pair(&self, number: u64, slug: &str) -> Option<(String, String)> {
        let n = self.numbers.text(number);
        Some((format!("{n}_{slug}.up.sql"), format!("{n}_{slug}.down.sql")))
    }
    fn always_paired(&self) -> bool {
        true
    }
}

/// sqlx's `{version}_{description}.sql`, or `.up.sql` / `.down.sql` for a reversible migration
/// (its `MigrationSource` for a directory, and `MigrationType::from_filename`): the part before
/// the first `_` is the version, parsed as an `i64` (a part that does not parse stops every
/// `sqlx migrate run`); a name without `_` or not ending in `.sql` is skipped. New names follow
/// `sqlx migrate add`: a UTC timestamp, or `-s` sequential numbers.
pub struct Sqlx {
    pub numbers: Numbers,
}

impl Convention for Sqlx {
    fn parse(&self, name: &str) -> Result<ParsedName, NameError> {
        let split = name.split_once('_');
        let version = split.map_or(name, |(v, _)| v);
        let number = version
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| version.parse::<i64>().ok())
            .flatten()
            .and_then(|n| u64::try_from(n).ok());
        let rest = split.map_or("", |(_, r)| r);
        let (desc, direction, paired) = if let Some(d) = rest.strip_suffix(".up.sql") {
            (d, Direction::Up, true)
        } else if let Some(d) = rest.strip_suffix(".down.sql") {
            (d, Direction::Down, true)
        } else {
            (
                rest.strip_suffix(".sql").unwrap_or(rest),
                Direction::Up,
                false,
            )
        };
        let slug_guess = Some(slugify(desc)).filter(|s| !s.is_empty());
        let fail = |reason: String| NameError {
            reason,
            number,
            slug: slug_guess.clone(),
        };
        let ignored = "sqlx ignores the file, so it never runs";
        if !name.ends_with(".sql") {
            return Err(fail(format!(
                "the extension must be `.sql` in lower case: {ignored}"
            )));
        }
        if split.is_none() {
            return Err(fail(format!(
                "the name has no `_` after its version: {ignored}"
            )));
        }
        if number.is_none() {
            return Err(fail(format!(
                "`{version}` is not a version number: sqlx stops every `migrate run` with `error parsing migration filename`"
            )));
        }
        Ok(ParsedName {
            number: number.unwrap_or_default(),
            digits: version.to_string(),
            slug: desc.to_string(),
            direction,
            paired,
        })
    }
    fn format(&self, number: u64, slug: &str) -> String {
        format!("{}_{slug}.sql", self.number_text(number))
    }
    fn number_text(&self, number: u64) -> String {
        self.numbers.text(number)
    }
    fn next(&self, last: Option<u64>, now: std::time::SystemTime) -> u64 {
        self.numbers.next(last, now)
    }
    fn pattern(&self) -> String {
        let n = self.numbers.placeholder();
        format!("{n}_description.sql (or {n}_description.up.sql and .down.sql)")
    }
    fn consecutive(&self) -> bool {
        // sqlx applies every version it has not applied, in order: gaps are normal.
        false
    }
    fn pair(&self, number: u64, slug: &str) -> Option<(String, String)> {
        let n = self.number_text(number);
        Some((format!("{n}_{slug}.up.sql"), format!("{n}_{slug}.down.sql")))
    }
}

/// One file per migration with both directions inside, as dbmate and goose name them: the
/// version is the leading digits, compared as a number. dbmate matches `^(\d+).*\.sql$`
/// (pkg/dbmate `migrationFileRegexp`); goose needs `_` after the version and a version above 0
/// (`NumericComponent`). Any width: `goose fix` mixes timestamps and sequential numbers.
pub struct SingleFile {
    pub layout: Layout,
    pub numbers: Numbers,
}

impl Convention for SingleFile {
    fn parse(&self, name: &str) -> Result<ParsedName, NameError> {
        let tool = self.layout.as_str();
        let digits: String = name.chars().take_while(|c| c.is_ascii_digit()).collect();
        let number = digits
            .parse::<u64>()
            .ok()
            .filter(|n| i64::try_from(*n).is_ok());
        let rest = &name[digits.len()..];
        let stem = rest.strip_suffix(".sql");
        let slug_raw = stem.unwrap_or(rest);
        let slug_raw = slug_raw.strip_prefix('_').unwrap_or(slug_raw);
        let fail = |reason: String| NameError {
            reason: format!("{reason}: {tool} ignores the file, so it never runs"),
            number,
            slug: Some(slugify(slug_raw)).filter(|s| !s.is_empty()),
        };
        if stem.is_none() {
            return Err(fail("the extension must be `.sql` in lower case".into()));
        }
        if digits.is_empty() {
            return Err(fail("the name does not start with a version number".into()));
        }
        if number.is_none() {
            return Err(fail("the version does not fit in 64 bits".into()));
        }
        if self.layout == Layout::Goose && (!rest.starts_with('_') || number == Some(0)) {
            return Err(NameError {
                reason: "goose stops on it: a version needs `_` after it and must be above 0"
                    .into(),
                ..fail(String::new())
            });
        }
        Ok(ParsedName {
            number: number.unwrap_or_default(),
            digits,
            slug: slug_raw.to_string(),
            direction: Direction::Up,
            paired: false,
        })
    }
    fn format(&self, number: u64, slug: &str) -> String {
        format!("{}_{slug}.sql", self.number_text(number))
    }
    fn number_text(&self, number: u64) -> String {
        self.numbers.text(number)
    }
    fn next(&self, last: Option<u64>, now: std::time::SystemTime) -> u64 {
        self.numbers.next(last, now)
    }
    fn pattern(&self) -> String {
        let n = self.numbers.placeholder();
        format!("{n}_name.sql")
    }
    fn consecutive(&self) -> bool {
        false
    }
}

/// `name` (a correctly named file whose version is written with `digits` characters) with the
/// version `number` instead, everything after the version kept: a rename keeps the title, the
/// direction and the extension.
pub fn renamed(set: &SetConfig, name: &str, digits: usize, number: u64) -> String {
    format!(
        "{}{}",
        convention(set).number_text(number),
        name.get(digits..).unwrap_or("")
    )
}

/// The set's numbering convention.
pub fn convention(set: &SetConfig) -> Box<dyn Convention> {
    match (set.layout, set.numbering) {
        (Layout::GolangMigrate, _) => Box::new(GolangMigrate {
            numbers: Numbers::of(set),
        }),
        (Layout::Sqlx, _) => Box::new(Sqlx {
            numbers: Numbers::of(set),
        }),
        (layout @ (Layout::Dbmate | Layout::Goose), _) => Box::new(SingleFile {
            layout,
            numbers: Numbers::of(set),
        }),
        (Layout::Plain, Numbering::Sequential) => Box::new(Sequential {
            width: set.width,
            start: set.start,
        }),
        (Layout::Plain, Numbering::Timestamp) => Box::new(Timestamp),
    }
}

/// Whether a directory entry's name belongs to the set. Plain sets hold `.sql` files (in any
/// letter case: psql does not care, and a case-insensitive file system globs them with
/// `*.sql`, so they must not escape the checks); golang-migrate also runs `{version}_….up.{ext}`
/// whatever the extension, so those are members too. Hidden files never are.
pub fn is_member(layout: Layout, name: &str) -> bool {
    let b = name.as_bytes();
    if name.starts_with('.') {
        return false;
    }
    let sql = b.len() > 4 && b[b.len() - 4..].eq_ignore_ascii_case(b".sql");
    sql || (layout == Layout::GolangMigrate
        && b.first().is_some_and(u8::is_ascii_digit)
        && GolangMigrate {
            numbers: Numbers {
                numbering: Numbering::Sequential,
                width: 1,
                start: 0,
            },
        }
        .parse(name)
        .is_ok())
}

/// A recorded name as the convention reads it: `0001_b.SQL` (recorded before miglint judged
/// names, and kept: see `invalid-name`) holds number 0001 like `0001_b.sql`.
pub fn recorded_name(name: &str) -> std::borrow::Cow<'_, str> {
    let cut = name.len().saturating_sub(4);
    match name.split_at_checked(cut) {
        Some((stem, ext)) if ext != ".sql" && ext.eq_ignore_ascii_case(".sql") => {
            format!("{stem}.sql").into()
        }
        _ => name.into(),
    }
}

/// Parses a file name (with `.sql`) under a numbering (the conventions' shared reader).
pub fn parse(name: &str, numbering: Numbering, width: usize) -> Result<ParsedName, NameError> {
    // `0001_b.SQL`: read as `0001_b.sql` for the number and the suggested name.
    if let std::borrow::Cow::Owned(lower) = recorded_name(name) {
        let (number, slug) = match parse(&lower, numbering, width) {
            Ok(p) => (Some(p.number), Some(p.slug)),
            Err(e) => (e.number, e.slug),
        };
        return Err(NameError {
            reason: "the extension must be `.sql` in lower case".into(),
            number,
            slug,
        });
    }
    let stem = name.strip_suffix(".sql").unwrap_or(name);
    let digits: String = stem.chars().take_while(|c| c.is_ascii_digit()).collect();
    let rest = &stem[digits.len()..];
    let number = if digits.is_empty() || digits.len() > 19 {
        None
    } else {
        digits.parse::<u64>().ok()
    };
    let slug_guess = {
        let s = slugify(rest);
        (!s.is_empty()).then_some(s)
    };
    let fail = |reason: String| NameError {
        reason,
        number,
        slug: slug_guess.clone(),
    };
    if digits.is_empty() {
        return Err(fail("the name does not start with a number".into()));
    }
    if number.is_none() {
        return Err(fail("the number is too long".into()));
    }
    if numbering == Numbering::Timestamp && digits.len() == 14 && !is_utc_datetime(&digits) {
        return Err(fail(format!(
            "`{digits}` is not a real UTC date-time (YYYYMMDDHHMMSS)"
        )));
    }
    if numbering == Numbering::Sequential && digits.len() != width {
        return Err(fail(format!(
            "the number has {} digits; this set uses {width}",
            digits.len()
        )));
    }
    let Some(slug) = rest.strip_prefix('_') else {
        return Err(fail("the number must be followed by `_` and a name".into()));
    };
    if !is_slug(slug) {
        return Err(fail(format!("`{slug}` is not snake_case (lowercase letters, digits and `_`, starting with a letter or digit)")));
    }
    Ok(ParsedName {
        number: number.unwrap_or_default(),
        digits,
        slug: slug.to_string(),
        direction: Direction::Up,
        paired: false,
    })
}

/// Whether 14 digits are a real date-time: month 1–12, a day the month has, hour < 24, minute
/// and second < 60 (a leap second is not a migration's timestamp).
fn is_utc_datetime(d: &str) -> bool {
    let n = |r: std::ops::Range<usize>| d[r].parse::<u32>().unwrap_or(u32::MAX);
    let (year, month, day) = (n(0..4), n(4..6), n(6..8));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day) && n(8..10) < 24 && n(10..12) < 60 && n(12..14) < 60
}

/// Turns free text into a snake_case slug: `Add Email!` → `add_email`.
pub fn slugify(text: &str) -> String {
    // `ajouter l'été` → `ajouter_l_ete`: transliterate to ASCII first, so letters are kept.
    let ascii = deunicode::deunicode(text);
    let mut out = String::new();
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// The file name a migration numbered `number` with `slug` gets in this set.
pub fn format(set: &SetConfig, number: u64, slug: &str) -> String {
    convention(set).format(number, slug)
}

/// The number as the set writes it (`0005` in a width-4 sequential set), for messages.
pub fn number_text(set: &SetConfig, number: u64) -> String {
    convention(set).number_text(number)
}

/// The current UTC time as `YYYYMMDDHHMMSS`, for timestamp-numbered sets (no date crate needed:
/// the civil-from-days conversion is a few lines of integer arithmetic).
pub fn utc_timestamp(now: std::time::SystemTime) -> u64 {
    let secs = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    format!("{year:04}{month:02}{day:02}{h:02}{m:02}{s:02}")
        .parse()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sequential_names() {
        let p = parse("0005_add_email.sql", Numbering::Sequential, 4).unwrap();
        assert_eq!((p.number, p.slug.as_str()), (5, "add_email"));
        assert!(parse("5_add_email.sql", Numbering::Sequential, 4)
            .unwrap_err()
            .reason
            .contains("digits"));
        assert!(parse("0005-AddEmail.sql", Numbering::Sequential, 4).is_err());
        assert!(parse("0005_AddEmail.sql", Numbering::Sequential, 4).is_err());
        assert!(parse("init.sql", Numbering::Sequential, 4).is_err());
        assert!(parse("0005_.sql", Numbering::Sequential, 4).is_err());
    }

    #[test]
    fn parses_timestamp_names() {
        let p = parse("20251105120000_add.sql", Numbering::Timestamp, 4).unwrap();
        assert_eq!(p.number, 20251105120000);
    }

    #[test]
    fn slugify_and_format() {
        assert_eq!(slugify("Add Email!"), "add_email");
        assert_eq!(slugify("  --x--y  "), "x_y");
        assert_eq!(slugify("ajouter l'été"), "ajouter_l_ete");
        assert_eq!(slugify("Straße"), "strasse");
        assert!(is_utc_datetime("20240229120000"));
        assert!(!is_utc_datetime("20230229120000"));
        assert!(!is_utc_datetime("20241301000000"));
        assert!(!is_utc_datetime("20240101246000"));
        let set = SetConfig::with_dir("m".into());
        assert_eq!(format(&set, 7, "add_email"), "0007_add_email.sql");
    }

    /// Every convention reads back what it writes, and `next` follows the highest number.
    #[test]
    fn conventions_round_trip_and_advance() {
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_762_300_800);
        let conventions: [(&dyn Convention, Option<u64>); 2] = [
            (&Sequential { width: 4, start: 1 }, Some(41)),
            (&Timestamp, Some(20251105000000)),
        ];
        for (c, last) in conventions {
            let n = c.next(last, now);
            assert!(n > last.unwrap());
            let name = c.format(n, "add_email");
            assert_eq!(c.parse(&name).unwrap().number, n, "{name}");
            assert!(c.parse("add_email.sql").is_err());
        }
        assert_eq!(Sequential { width: 4, start: 1 }.next(None, now), 1);
        assert_eq!(Timestamp.next(None, now), 20251105000000);
    }

    #[test]
    fn timestamp_is_civil_utc() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_762_300_800); // 2025-11-05
        assert_eq!(utc_timestamp(t), 20251105000000);
    }
}
