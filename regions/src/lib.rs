//! Region names: ISO 3166 codes (countries `CN`, subdivisions `CN-HB`) to their names
//! in English and Chinese, and names in either language back to codes.
//!
//! English names are ISO's, from the `rust_iso3166` tables (ISO 3166-1 short names,
//! ISO 3166-2 subdivision names as ISO writes them: `Hubei Sheng`, `Hatay`,
//! `Lombardia`). Chinese names come from a small curated table ([`zh`]) for China and
//! its provinces, which ISO lists only in pinyin; elsewhere the Chinese name is the
//! ISO name.
//!
//! A name matches whatever its case and accents (`hatay`, `Kahramanmaras` for
//! `Kahramanmaraş`) and with or without the suffix of its kind of division (`Hubei`,
//! `Hubei Sheng`, `Hubei Province`, `湖北`, `湖北省`).
//!
//! This crate is for the server (search and listings resolve and name areas); the web
//! app gets the names in the API's answers and never links these tables.

use std::collections::HashMap;
use std::sync::LazyLock;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

pub mod zh;

/// The names of a country or subdivision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Names {
    /// ISO's name.
    pub en: &'static str,
    /// The curated Chinese name, or ISO's name where there is none.
    pub zh: &'static str,
}

/// Why an `area` is not a region.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AreaError {
    #[error("area is empty: give a region code such as CN-HB or a name such as Hubei or 湖北")]
    Empty,
    #[error("area {0:?} is neither a region code nor the name of a region: give a code such as CN-HB or a name such as Hubei or 湖北")]
    Unknown(String),
    #[error("area {name:?} names several regions ({}): give one of their codes", .codes.join(", "))]
    Ambiguous { name: String, codes: Vec<String> },
}

/// The names of the country or subdivision `code` (`CN`, `CN-HB`), if ISO 3166 has it.
pub fn names(code: &str) -> Option<Names> {
    let en = match code.split_once('-') {
        None => rust_iso3166::from_alpha2(code)?.name,
        Some(_) => rust_iso3166::iso3166_2::from_code(code)?.name,
    };
    let zh = zh::NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(en, |(_, name)| name);
    Some(Names { en, zh })
}

/// The region code an `area` parameter means: a code (`CN`, `CN-HB`, any case), or
/// the name of a country or subdivision in English or Chinese. A string shaped like a
/// code (capital letters, digits, dashes) that no name matches is taken as the code
/// it looks like, so codes outside ISO 3166 still filter as before.
pub fn resolve(area: &str) -> Result<String, AreaError> {
    let area = area.trim();
    if area.is_empty() {
        return Err(AreaError::Empty);
    }
    let upper = area.to_uppercase();
    if names(&upper).is_some() {
        return Ok(upper);
    }
    match BY_NAME.get(&key(area)).map(Vec::as_slice) {
        Some([code]) => Ok((*code).to_owned()),
        Some(codes) => Err(AreaError::Ambiguous {
            name: area.to_owned(),
            codes: codes.iter().map(|c| (*c).to_owned()).collect(),
        }),
        None if is_code(area) => Ok(area.to_owned()),
        None => Err(AreaError::Unknown(area.to_owned())),
    }
}

/// Upper-case letters, digits and single dashes inside (`CN`, `CN-HB`, `TR-31`).
pub fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// Words naming a kind of division, which a name may carry or leave out: ISO's
/// romanised Chinese ones, their English translations and the Chinese ones. A suffix
/// comes before the shorter ones it ends with, so that `Xinjiang Uygur Zizhiqu` loses
/// `uygur zizhiqu`, not `zizhiqu`.
const SUFFIXES: [&str; 18] = [
    " special administrative region",
    " autonomous region",
    " zhuangzu zizhiqu",
    " municipality",
    " uygur zizhiqu",
    " huizu zizhiqu",
    " province",
    " zizhiqu",
    " sheng",
    " sar",
    " shi",
    "维吾尔自治区",
    "特别行政区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "省",
    "市",
];

/// What names are compared by: accents removed (NFKD without combining marks, and
/// Turkish `ı` as `i`), lower case, punctuation as spaces, runs of spaces as one,
/// then one suffix of [`SUFFIXES`] removed if something is left.
fn key(name: &str) -> String {
    let folded: String = name
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ı' => 'i',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    let folded = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    SUFFIXES
        .iter()
        .find_map(|suffix| {
            folded
                .strip_suffix(suffix)
                .filter(|rest| !rest.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or(folded)
}

/// Codes by the [`key`] of each of their names; several codes where names collide
/// (`Georgia`: `GE` and `US-GA`).
static BY_NAME: LazyLock<HashMap<String, Vec<&'static str>>> = LazyLock::new(|| {
    let countries = rust_iso3166::ALL.iter().map(|c| (c.alpha2, c.name));
    let subdivisions = rust_iso3166::iso3166_2::SUBDIVISION_MAP
        .values()
        .map(|s| (s.code, s.name));
    let mut by_name: HashMap<String, Vec<&'static str>> = HashMap::new();
    for (code, name) in countries
        .chain(subdivisions)
        .chain(zh::NAMES.iter().copied())
    {
        let codes = by_name.entry(key(name)).or_default();
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    for codes in by_name.values_mut() {
        codes.sort_unstable();
    }
    by_name
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_name_places_in_both_languages() {
        assert_eq!(
            names("CN-HB"),
            Some(Names {
                en: "Hubei Sheng",
                zh: "湖北省"
            })
        );
        assert_eq!(
            names("CN"),
            Some(Names {
                en: "China",
                zh: "中国"
            })
        );
        // No curated Chinese name: ISO's in both.
        assert_eq!(
            names("TR-31"),
            Some(Names {
                en: "Hatay",
                zh: "Hatay"
            })
        );
        assert_eq!(names("XX-YY"), None);
        assert_eq!(names("cn-hb"), None);
    }

    #[test]
    fn names_resolve_in_either_language_with_or_without_suffix() {
        for name in [
            "Hubei",
            "hubei",
            "HUBEI",
            "Hubei Sheng",
            "hubei province",
            "湖北",
            "湖北省",
            " 湖北 ",
        ] {
            assert_eq!(resolve(name), Ok("CN-HB".into()), "{name}");
        }
        assert_eq!(resolve("Xinjiang"), Ok("CN-XJ".into()));
        assert_eq!(resolve("新疆"), Ok("CN-XJ".into()));
        assert_eq!(resolve("北京"), Ok("CN-BJ".into()));
        assert_eq!(resolve("Beijing"), Ok("CN-BJ".into()));
        assert_eq!(resolve("中国"), Ok("CN".into()));
        assert_eq!(resolve("China"), Ok("CN".into()));
        assert_eq!(resolve("Hatay"), Ok("TR-31".into()));
        assert_eq!(resolve("Kahramanmaras"), Ok("TR-46".into()));
        assert_eq!(resolve("Lombardia"), Ok("IT-25".into()));
        assert_eq!(resolve("new york"), Ok("US-NY".into()));
    }

    #[test]
    fn codes_still_work_in_any_case() {
        assert_eq!(resolve("CN-HB"), Ok("CN-HB".into()));
        assert_eq!(resolve("cn-hb"), Ok("CN-HB".into()));
        assert_eq!(resolve("CN"), Ok("CN".into()));
        assert_eq!(resolve("TR-31"), Ok("TR-31".into()));
        // Shaped like a code, known to nobody: filtered on as typed.
        assert_eq!(resolve("XX-YY"), Ok("XX-YY".into()));
    }

    #[test]
    fn unknown_and_ambiguous_names_are_refused_with_the_reason() {
        assert_eq!(resolve("  "), Err(AreaError::Empty));
        let e = resolve("Atlantis").unwrap_err();
        assert_eq!(e, AreaError::Unknown("Atlantis".into()));
        assert!(e.to_string().starts_with("area \"Atlantis\""), "{e}");
        match resolve("Georgia") {
            Err(AreaError::Ambiguous { codes, .. }) => {
                assert!(codes.contains(&"GE".to_owned()) && codes.contains(&"US-GA".to_owned()))
            }
            other => panic!("{other:?}"),
        }
        // ISO codes Hong Kong both as a country and as a region of China.
        assert_eq!(
            resolve("香港"),
            Err(AreaError::Ambiguous {
                name: "香港".into(),
                codes: vec!["CN-HK".into(), "HK".into()]
            })
        );
    }

    #[test]
    fn every_chinese_subdivision_has_a_chinese_name() {
        let iso: Vec<&str> = rust_iso3166::iso3166_2::SUBDIVISION_MAP
            .values()
            .filter(|s| s.country_code == "CN")
            .map(|s| s.code)
            .collect();
        assert!(iso.len() >= 34, "{iso:?}");
        for code in iso {
            assert!(zh::NAMES.iter().any(|(c, _)| *c == code), "{code}");
        }
        for (code, _) in zh::NAMES {
            assert!(names(code).is_some(), "{code} is not an ISO 3166 code");
        }
    }
}
