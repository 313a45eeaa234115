//! How a sheet's columns become an entry's fields: a mapping file (TOML), a ready
//! mapping shipped with aidledger, or the sheet's own HXL hashtag row read with the
//! hashtags of aidledger's exports (`contract::export`), so that an export imports
//! into another instance without a mapping file.

use super::sheet::Sheet;
use contract::export::{ExportRow, NeedLine, OfferLine};
use ledger::body::{Category, OrgType, Unit, Urgency};
use serde::Deserialize;
use std::collections::BTreeMap;

/// What the rows of a sheet are.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PostKind {
    Need,
    Offer,
}

/// A field a column can fill. The names are the exports' (`contract::export`) where
/// an export has the field; the private ones never reach the log.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The entry a row came from in another instance (an export's `leaf_hash`): rows
    /// sharing it are lines of one need or offer.
    LeafHash,
    /// Only rows whose status is `open` are imported (an export lists closed ones too).
    Status,
    OrgId,
    OrgName,
    OrgType,
    Item,
    Category,
    Spec,
    Unit,
    Requested,
    Offered,
    /// A region's code or its name in English or Chinese (`CN-HB`, `Hubei`, `湖北`).
    Area,
    AreaCode,
    /// The place shown with the region (a city); the region's name when absent.
    AreaName,
    Urgency,
    NeededBy,
    AvailableUntil,
    DeliveryPoint,
    Description,
    EvidenceUrl,
    ContactName,
    ContactPhone,
    ContactEmail,
    Address,
}

impl Field {
    /// Private: kept in the private store beside the entry, never in the log.
    pub fn is_private(self) -> bool {
        matches!(
            self,
            Field::ContactName | Field::ContactPhone | Field::ContactEmail | Field::Address
        )
    }
}

/// Values used where a sheet has no column or leaves a cell blank.
#[derive(Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub urgency: Option<Urgency>,
    /// `needed_by` as this many days after the import.
    pub needed_within_days: Option<u16>,
    pub unit: Option<Unit>,
    pub category: Option<Category>,
    pub org_type: Option<OrgType>,
}

/// A mapping file.
#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub kind: PostKind,
    /// Each field and the headers (any case) or hashtags (`#item+name`) of the columns
    /// that may hold it; the first one the sheet has is read.
    #[serde(default)]
    pub columns: BTreeMap<Field, Vec<String>>,
    #[serde(default)]
    pub defaults: Defaults,
    /// What the sheet writes for a unit (`个`, `boxes`), any case; a unit's own name
    /// (`piece`, `box`) is always understood.
    #[serde(default)]
    pub units: BTreeMap<String, Unit>,
    /// Words in an item's name and the category they tell (`N95` → respirator); the
    /// longest word found wins. A category column, when there is one, comes first.
    #[serde(default)]
    pub categories: BTreeMap<String, Category>,
}

/// The mappings shipped with aidledger, by the name `--mapping` takes.
pub const READY: &[(&str, &str)] = &[(
    "hospital-needs",
    include_str!("../../docs/import/hospital-needs.toml"),
)];

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error(
        "the sheet has no HXL hashtag row, so it needs a mapping (--mapping FILE, or one of: {})",
        ready_names()
    )]
    NoMapping,
    #[error("the sheet's hashtags name neither #item+num+requested (needs) nor #item+num+offered (offers); give a mapping (--mapping)")]
    NoKind,
    #[error("the mapping names no column the sheet has for {}: its headers are {}", .fields.join(", "), .headers.join(", "))]
    MissingColumns {
        fields: Vec<String>,
        headers: Vec<String>,
    },
}

fn ready_names() -> String {
    READY.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

impl Mapping {
    /// `--mapping`: a ready mapping's name or a file.
    pub fn load(name_or_path: &str) -> Result<Mapping, MappingError> {
        let (shown, text) = match READY.iter().find(|(n, _)| *n == name_or_path) {
            Some((name, text)) => (format!("ready mapping {name}"), (*text).to_owned()),
            None => {
                let text =
                    std::fs::read_to_string(name_or_path).map_err(|source| MappingError::Read {
                        path: name_or_path.to_owned(),
                        source,
                    })?;
                (name_or_path.to_owned(), text)
            }
        };
        toml::from_str(&text).map_err(|e| MappingError::Parse {
            path: shown,
            message: e.to_string(),
        })
    }

    /// The mapping an HXL-tagged sheet carries: each hashtag read as the export column
    /// that has it (attributes in any order).
    pub fn from_hashtags(hashtags: &[String]) -> Result<Mapping, MappingError> {
        let has = |tag: &str| hashtags.iter().any(|h| same_hashtag(h, tag));
        let kind = if has(hxl_of::<NeedLine>("requested")) {
            PostKind::Need
        } else if has(hxl_of::<OfferLine>("offered")) {
            PostKind::Offer
        } else {
            return Err(MappingError::NoKind);
        };
        let exported = match kind {
            PostKind::Need => NeedLine::COLUMNS,
            PostKind::Offer => OfferLine::COLUMNS,
        };
        let columns = exported
            .iter()
            .filter_map(|c| {
                let field: Field = contract::from_name(c.field)?;
                Some((field, vec![c.hxl.to_owned()]))
            })
            .collect();
        Ok(Mapping {
            kind,
            columns,
            defaults: Defaults::default(),
            units: BTreeMap::new(),
            categories: BTreeMap::new(),
        })
    }

    /// Which column of `sheet` holds each mapped field. Fields every row needs must
    /// have a column or a default.
    pub fn bind(&self, sheet: &Sheet) -> Result<BTreeMap<Field, usize>, MappingError> {
        let mut bound = BTreeMap::new();
        for (field, names) in &self.columns {
            let found = names.iter().find_map(|name| {
                let in_row = |row: &[String]| {
                    row.iter().position(|h| {
                        if name.starts_with('#') {
                            same_hashtag(h, name)
                        } else {
                            h.trim().eq_ignore_ascii_case(name.trim())
                        }
                    })
                };
                match (&sheet.hashtags, name.starts_with('#')) {
                    (Some(tags), true) => in_row(tags),
                    (_, false) => in_row(&sheet.headers),
                    (None, true) => None,
                }
            });
            if let Some(column) = found {
                bound.insert(*field, column);
            }
        }
        let quantity = match self.kind {
            PostKind::Need => Field::Requested,
            PostKind::Offer => Field::Offered,
        };
        let mut required = vec![Field::Item, quantity];
        if self.kind == PostKind::Need {
            required.push(Field::OrgName);
        }
        if !bound.contains_key(&Field::Area) && !bound.contains_key(&Field::AreaCode) {
            required.push(Field::Area);
        }
        if self.defaults.unit.is_none() {
            required.push(Field::Unit);
        }
        let missing: Vec<String> = required
            .into_iter()
            .filter(|f| !bound.contains_key(f))
            .map(|f| format!("{f:?}"))
            .collect();
        if !missing.is_empty() {
            return Err(MappingError::MissingColumns {
                fields: missing,
                headers: sheet.headers.clone(),
            });
        }
        Ok(bound)
    }
}

fn hxl_of<R: ExportRow>(field: &str) -> &'static str {
    R::COLUMNS
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.hxl)
        .expect("the export has the column")
}

/// Two hashtags with the same tag and the same attributes, in any order, any case.
fn same_hashtag(a: &str, b: &str) -> bool {
    let parts = |h: &str| {
        let lower = h.trim().to_ascii_lowercase();
        let mut parts = lower.split('+').map(str::to_owned);
        let tag = parts.next().unwrap_or_default();
        let mut attributes: Vec<String> = parts.collect();
        attributes.sort();
        (tag, attributes)
    };
    parts(a) == parts(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ready_mappings_parse() {
        for (name, _) in READY {
            Mapping::load(name).unwrap();
        }
    }

    #[test]
    fn hashtags_match_with_attributes_in_any_order() {
        assert!(same_hashtag("#item+num+requested", "#ITEM+requested+num"));
        assert!(!same_hashtag("#item+num", "#item+num+requested"));
    }

    #[test]
    fn an_export_maps_itself() {
        let tags: Vec<String> = NeedLine::COLUMNS.iter().map(|c| c.hxl.to_owned()).collect();
        let mapping = Mapping::from_hashtags(&tags).unwrap();
        assert_eq!(mapping.kind, PostKind::Need);
        assert_eq!(mapping.columns[&Field::Requested], ["#item+num+requested"]);
        assert_eq!(mapping.columns[&Field::OrgName], ["#org+name"]);
        let tags: Vec<String> = OfferLine::COLUMNS
            .iter()
            .map(|c| c.hxl.to_owned())
            .collect();
        assert_eq!(Mapping::from_hashtags(&tags).unwrap().kind, PostKind::Offer);
    }
}
