//! A sheet's rows read into the bodies of needs or offers, before anything is signed:
//! each cell parsed into its field, rows of one need or offer gathered into its item
//! lines, every body checked with the log's own rules of form, and every problem
//! reported with the row and the column it comes from.

use super::mapping::{Field, Mapping, PostKind};
use super::sheet::{column_name, Row, Sheet};
use ledger::body::{Area, Body, Category, Item, OrgType, Unit, Urgency, MAX_LINES};
use ledger::contact::Contact;
use ledger::Kind;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What an import needs besides the sheet.
pub struct Options {
    /// Today, for `needed_within_days` and to refuse dates that have passed.
    pub today: time::Date,
    /// Where the sheet was found: the evidence of the needs it relays.
    pub source: Option<String>,
}

/// A problem with one row, or one cell of it.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub row: usize,
    /// The column, as [`column_name`] names it.
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(f, "row {}, column {column}: {}", self.row, self.message),
            None => write!(f, "row {}: {}", self.row, self.message),
        }
    }
}

/// An organisation as a sheet names it; the import matches it to a registered one or
/// registers it.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedOrg {
    /// An id from the sheet (an export's `org_id`), used when this instance has it.
    pub id: Option<String>,
    pub name: String,
    pub org_type: OrgType,
    pub area: Area,
}

/// A need or an offer to post: its body without the parts known only when it is
/// signed (`org` for a need, `contact`), and the rows its lines came from.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedPost {
    pub rows: Vec<usize>,
    pub org: Option<NamedOrg>,
    pub body: Value,
    /// Private: goes to the private store beside the entry.
    pub contact: Option<Contact>,
}

/// Rows not imported, and why (they are not errors).
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub row: usize,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub posts: Vec<PlannedPost>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<RowError>,
}

/// One row read into its fields.
struct Line {
    row: usize,
    org: Option<NamedOrg>,
    item: Item,
    area: Area,
    urgency: Option<Urgency>,
    needed_by: Option<String>,
    available_until: Option<String>,
    delivery_point: Option<String>,
    description: Option<String>,
    evidence_url: Option<String>,
    contact: Option<Contact>,
    /// The entry the row came from in another instance.
    source_entry: Option<String>,
}

/// Reads every row of `sheet` through `mapping` (its columns bound by
/// [`Mapping::bind`]).
pub fn plan(
    sheet: &Sheet,
    mapping: &Mapping,
    columns: &BTreeMap<Field, usize>,
    options: &Options,
) -> Plan {
    let reader = RowReader {
        sheet,
        mapping,
        columns,
        options,
    };
    let mut plan = Plan::default();
    let mut groups: Vec<(String, Vec<Line>)> = Vec::new();
    for row in &sheet.rows {
        if let Some(status) = reader.text(row, Field::Status) {
            if status != "open" {
                plan.skipped.push(Skipped {
                    row: row.number,
                    reason: format!(
                        "its status is {status}: only open needs and offers are imported"
                    ),
                });
                continue;
            }
        }
        match reader.line(row) {
            Ok(line) => {
                let key = group_key(&line);
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, lines)) => lines.push(line),
                    None => groups.push((key, vec![line])),
                }
            }
            Err(e) => plan.errors.push(e),
        }
    }
    for (_, lines) in groups {
        let mut lines = lines.into_iter().peekable();
        while lines.peek().is_some() {
            let chunk: Vec<Line> = lines.by_ref().take(MAX_LINES).collect();
            match post(mapping.kind, chunk, reader.columns, sheet) {
                Ok(p) => plan.posts.push(p),
                Err(e) => plan.errors.push(e),
            }
        }
    }
    plan.errors.sort_by_key(|e| e.row);
    plan
}

/// Rows are lines of one post when they came from one entry of another instance, or
/// else when everything but the item is the same.
fn group_key(line: &Line) -> String {
    if let Some(entry) = &line.source_entry {
        return format!("entry {entry}");
    }
    let contact = line
        .contact
        .as_ref()
        .map(|c| serde_json::to_string(c).expect("a contact serialises"));
    format!(
        "{:?}",
        (
            line.org
                .as_ref()
                .map(|o| (&o.id, &o.name, o.org_type.name())),
            (&line.area.code, &line.area.name),
            line.urgency.map(Urgency::name),
            (&line.needed_by, &line.available_until),
            (&line.delivery_point, &line.evidence_url),
            contact,
        )
    )
}

fn post(
    kind: PostKind,
    lines: Vec<Line>,
    columns: &BTreeMap<Field, usize>,
    sheet: &Sheet,
) -> Result<PlannedPost, RowError> {
    let first = &lines[0];
    let mut descriptions: Vec<&str> = Vec::new();
    for d in lines.iter().filter_map(|l| l.description.as_deref()) {
        if !descriptions.contains(&d) {
            descriptions.push(d);
        }
    }
    let description = (!descriptions.is_empty()).then(|| descriptions.join("\n"));
    let items: Vec<&Item> = lines.iter().map(|l| &l.item).collect();
    let mut body = match kind {
        PostKind::Need => json!({
            "org": PLACEHOLDER_ID,
            "items": items,
            "urgency": first.urgency,
            "needed_by": first.needed_by,
            "area": first.area,
        }),
        PostKind::Offer => json!({"items": items, "area": first.area}),
    };
    let optional = [
        ("description", description),
        ("delivery_point", first.delivery_point.clone()),
        ("available_until", first.available_until.clone()),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            body[key] = json!(value);
        }
    }
    if kind == PostKind::Need {
        body["evidence"] = json!({ "url": first.evidence_url });
    }
    let mut checked = body.clone();
    if first.contact.is_some() {
        checked["contact"] = json!(PLACEHOLDER_ID);
    }
    let entry_kind = match kind {
        PostKind::Need => Kind::NeedPost,
        PostKind::Offer => Kind::OfferPost,
    };
    if let Err(e) = Body::parse(entry_kind, &checked) {
        let (row, field) = where_is(&e.field, &lines);
        return Err(RowError {
            row,
            column: field
                .and_then(|f| columns.get(&f))
                .map(|&c| column_name(&sheet.headers, c)),
            message: format!("{}: {}", e.field, e.reason),
        });
    }
    if kind == PostKind::Need {
        body.as_object_mut().expect("an object").remove("org");
    }
    Ok(PlannedPost {
        rows: lines.iter().map(|l| l.row).collect(),
        org: first.org.clone(),
        body,
        contact: first.contact.clone(),
    })
}

/// Stands for an id not known yet while a body's form is checked.
const PLACEHOLDER_ID: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The row and the field a body error's path points at (`items[2].quantity`).
fn where_is(path: &str, lines: &[Line]) -> (usize, Option<Field>) {
    if let Some(rest) = path.strip_prefix("items[") {
        let (n, member) = rest.split_once(']').unwrap_or((rest, ""));
        let row = n
            .parse::<usize>()
            .ok()
            .and_then(|i| lines.get(i))
            .map_or(lines[0].row, |l| l.row);
        let field = match member.trim_start_matches('.') {
            "item" => Some(Field::Item),
            "quantity" => Some(Field::Requested),
            "spec" => Some(Field::Spec),
            "unit" => Some(Field::Unit),
            "category" => Some(Field::Category),
            _ => None,
        };
        return (row, field);
    }
    let field = match path {
        "area.code" => Some(Field::Area),
        "area.name" => Some(Field::AreaName),
        "needed_by" => Some(Field::NeededBy),
        "available_until" => Some(Field::AvailableUntil),
        "description" => Some(Field::Description),
        "delivery_point" => Some(Field::DeliveryPoint),
        "evidence.url" | "evidence" => Some(Field::EvidenceUrl),
        _ => None,
    };
    (lines[0].row, field)
}

struct RowReader<'a> {
    sheet: &'a Sheet,
    mapping: &'a Mapping,
    columns: &'a BTreeMap<Field, usize>,
    options: &'a Options,
}

impl RowReader<'_> {
    /// A field's text in `row`. A leading `'` that keeps a spreadsheet from reading
    /// the text as a formula (as aidledger's exports write it) is not part of it.
    fn text<'r>(&self, row: &'r Row, field: Field) -> Option<&'r str> {
        let text = row.cell(*self.columns.get(&field)?)?;
        Some(match text.strip_prefix('\'') {
            Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
            _ => text,
        })
    }

    fn error(&self, row: &Row, field: Option<Field>, message: String) -> RowError {
        RowError {
            row: row.number,
            column: field
                .and_then(|f| self.columns.get(&f))
                .map(|&c| column_name(&self.sheet.headers, c)),
            message,
        }
    }

    fn required<'r>(&self, row: &'r Row, field: Field) -> Result<&'r str, RowError> {
        self.text(row, field)
            .ok_or_else(|| self.error(row, Some(field), format!("{} is blank", field_name(field))))
    }

    fn line(&self, row: &Row) -> Result<Line, RowError> {
        let kind = self.mapping.kind;
        let defaults = &self.mapping.defaults;
        let item_name = self.required(row, Field::Item)?;
        let quantity_field = match kind {
            PostKind::Need => Field::Requested,
            PostKind::Offer => Field::Offered,
        };
        let quantity = whole_number(self.required(row, quantity_field)?).ok_or_else(|| {
            self.error(
                row,
                Some(quantity_field),
                format!(
                    "{:?} is not a whole number",
                    self.text(row, quantity_field).unwrap_or_default()
                ),
            )
        })?;
        let unit = match self.text(row, Field::Unit) {
            Some(text) => self.unit(text).ok_or_else(|| {
                self.error(
                    row,
                    Some(Field::Unit),
                    format!(
                        "{text:?} is not a unit: write one of {} or add it to the mapping's [units]",
                        wire_names(&UNITS)
                    ),
                )
            })?,
            None => defaults.unit.ok_or_else(|| {
                self.error(row, Some(Field::Unit), "unit is blank".to_owned())
            })?,
        };
        let category = match self.text(row, Field::Category) {
            Some(text) => wire::<Category>(text)
                .or_else(|| self.category_in(text))
                .ok_or_else(|| {
                    self.error(
                        row,
                        Some(Field::Category),
                        format!(
                            "{text:?} is not a category: write one of {}",
                            wire_names(&Category::ALL)
                        ),
                    )
                })?,
            None => self
                .category_in(item_name)
                .or(defaults.category)
                .unwrap_or(Category::Other),
        };
        let item = Item {
            item: item_name.to_owned(),
            category,
            quantity,
            unit,
            spec: self.text(row, Field::Spec).map(str::to_owned),
        };
        let area = self.area(row)?;
        let org = match kind {
            PostKind::Need => Some(NamedOrg {
                id: self.text(row, Field::OrgId).map(str::to_owned),
                name: self.required(row, Field::OrgName)?.to_owned(),
                org_type: match self.text(row, Field::OrgType) {
                    Some(text) => wire::<OrgType>(text).ok_or_else(|| {
                        self.error(
                            row,
                            Some(Field::OrgType),
                            format!(
                                "{text:?} is not an organisation type: write one of hospital, clinic, shelter, charity, carrier, company"
                            ),
                        )
                    })?,
                    None => defaults.org_type.unwrap_or(OrgType::Hospital),
                },
                area: area.clone(),
            }),
            PostKind::Offer => None,
        };
        let urgency = match (kind, self.text(row, Field::Urgency)) {
            (PostKind::Offer, _) => None,
            (PostKind::Need, Some(text)) => Some(wire::<Urgency>(text).ok_or_else(|| {
                self.error(
                    row,
                    Some(Field::Urgency),
                    format!("{text:?} is not an urgency: write critical, high, medium or low"),
                )
            })?),
            (PostKind::Need, None) => Some(defaults.urgency.ok_or_else(|| {
                self.error(
                    row,
                    Some(Field::Urgency),
                    "urgency is blank and the mapping gives no default".to_owned(),
                )
            })?),
        };
        let needed_by = match kind {
            PostKind::Offer => None,
            PostKind::Need => Some(match self.date(row, Field::NeededBy)? {
                Some(date) => date,
                None => {
                    let days = defaults.needed_within_days.ok_or_else(|| {
                        self.error(
                            row,
                            Some(Field::NeededBy),
                            "needed by is blank and the mapping gives no needed_within_days"
                                .to_owned(),
                        )
                    })?;
                    self.options.today + time::Duration::days(i64::from(days))
                }
            }),
        };
        let evidence_url = match kind {
            PostKind::Offer => None,
            PostKind::Need => Some(
                self.text(row, Field::EvidenceUrl)
                    .map(str::to_owned)
                    .or_else(|| self.options.source.clone())
                    .ok_or_else(|| {
                        self.error(
                            row,
                            None,
                            "no evidence: give --source URL (where the sheet was found) or map an evidence_url column".to_owned(),
                        )
                    })?,
            ),
        };
        let contact = Contact {
            name: self.text(row, Field::ContactName).map(str::to_owned),
            phone: self.text(row, Field::ContactPhone).map(str::to_owned),
            email: self.text(row, Field::ContactEmail).map(str::to_owned),
            address: self.text(row, Field::Address).map(str::to_owned),
        };
        let has_contact = [
            &contact.name,
            &contact.phone,
            &contact.email,
            &contact.address,
        ]
        .iter()
        .any(|f| f.is_some());
        if has_contact {
            self.check_contact(row, &contact)?;
        }
        Ok(Line {
            row: row.number,
            org,
            item,
            area,
            urgency,
            needed_by: needed_by.map(|d| d.to_string()),
            available_until: self
                .date(row, Field::AvailableUntil)?
                .map(|d| d.to_string()),
            delivery_point: self.text(row, Field::DeliveryPoint).map(str::to_owned),
            description: self.text(row, Field::Description).map(str::to_owned),
            evidence_url,
            contact: has_contact.then_some(contact),
            source_entry: self.text(row, Field::LeafHash).map(str::to_owned),
        })
    }

    /// The private columns' form, checked as the server will, without repeating them.
    fn check_contact(&self, row: &Row, contact: &Contact) -> Result<(), RowError> {
        let salt = [0u8; 32];
        let sidecar = ledger::contact::Sidecar {
            salt: hex::encode(salt),
            contact: contact.clone(),
        };
        let commitment = ledger::contact::commitment(&salt, contact);
        sidecar.check(Some(&commitment)).map_err(|e| {
            let field = match e.fault().and_then(|f| f.field) {
                Some(f) if f.ends_with("phone") => Some(Field::ContactPhone),
                Some(f) if f.ends_with("email") => Some(Field::ContactEmail),
                Some(f) if f.ends_with("address") => Some(Field::Address),
                Some(f) if f.ends_with("name") => Some(Field::ContactName),
                _ => None,
            };
            self.error(row, field, e.to_string())
        })
    }

    fn unit(&self, text: &str) -> Option<Unit> {
        wire::<Unit>(text).or_else(|| {
            self.mapping
                .units
                .iter()
                .find(|(word, _)| word.trim().eq_ignore_ascii_case(text))
                .map(|(_, unit)| *unit)
        })
    }

    /// The category of the longest of the mapping's words that `text` contains.
    fn category_in(&self, text: &str) -> Option<Category> {
        let text = text.to_lowercase();
        self.mapping
            .categories
            .iter()
            .filter(|(word, _)| text.contains(&word.to_lowercase()))
            .max_by_key(|(word, _)| word.chars().count())
            .map(|(_, category)| *category)
    }

    fn area(&self, row: &Row) -> Result<Area, RowError> {
        let (field, text) = match self.text(row, Field::AreaCode) {
            Some(code) => (Field::AreaCode, code),
            None => (Field::Area, self.required(row, Field::Area)?),
        };
        let code =
            regions::resolve(text).map_err(|e| self.error(row, Some(field), e.to_string()))?;
        let name = match self.text(row, Field::AreaName) {
            Some(name) => name.to_owned(),
            None if text != code => text.to_owned(),
            None => regions::names(&code).map_or_else(|| code.clone(), |n| n.en.to_owned()),
        };
        Ok(Area { code, name })
    }

    /// A date written YYYY-MM-DD (or with `/` or `.`); one that has passed is refused.
    fn date(&self, row: &Row, field: Field) -> Result<Option<time::Date>, RowError> {
        let Some(text) = self.text(row, field) else {
            return Ok(None);
        };
        let normalised = text.replace(['/', '.'], "-");
        let date = ledger::body::parse_date(&normalised).ok_or_else(|| {
            self.error(
                row,
                Some(field),
                format!("{text:?} is not a date: write YYYY-MM-DD"),
            )
        })?;
        if date < self.options.today {
            return Err(self.error(row, Some(field), format!("{text} has passed")));
        }
        Ok(Some(date))
    }
}

const UNITS: [Unit; 11] = [
    Unit::Piece,
    Unit::Pair,
    Unit::Box,
    Unit::Carton,
    Unit::Bottle,
    Unit::Litre,
    Unit::Kilogram,
    Unit::Unit,
    Unit::Set,
    Unit::Dose,
    Unit::Cylinder,
];

/// A value by its name in the log (`surgical_mask`, `Piece`: any case).
fn wire<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(json!(text.trim().to_lowercase().replace(' ', "_"))).ok()
}

fn wire_names<T: serde::Serialize>(values: &[T]) -> String {
    values
        .iter()
        .filter_map(|v| serde_json::to_value(v).ok()?.as_str().map(str::to_owned))
        .collect::<Vec<_>>()
        .join(", ")
}

fn field_name(field: Field) -> String {
    format!("{field:?}")
        .chars()
        .enumerate()
        .flat_map(|(i, c)| {
            let space = (i > 0 && c.is_uppercase()).then_some(' ');
            space.into_iter().chain(c.to_lowercase())
        })
        .collect()
}

/// A quantity as sheets write it: `1000`, `1,000`, `1 000`, `1000.0`.
fn whole_number(text: &str) -> Option<u64> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '_'))
        .collect();
    let digits = digits.strip_suffix(".0").unwrap_or(&digits);
    digits.parse().ok()
}

/// What stays the same when the same row is imported again: the body without the
/// parts an import makes afresh (the contact's salted commitment, the evidence, a
/// deadline counted from the day of the import).
pub fn fingerprint(body: &Value) -> String {
    let mut body = body.clone();
    if let Some(fields) = body.as_object_mut() {
        for volatile in ["contact", "evidence", "needed_by", "available_until"] {
            fields.remove(volatile);
        }
    }
    String::from_utf8(ledger::entry::canonical_json(&body)).expect("canonical JSON is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::mapping::Mapping;

    fn sheet(headers: &[&str], rows: &[&[&str]]) -> Sheet {
        Sheet {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            hashtags: None,
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, cells)| Row {
                    number: i + 2,
                    cells: cells.iter().map(|c| c.to_string()).collect(),
                })
                .collect(),
        }
    }

    fn options() -> Options {
        Options {
            today: time::macros::date!(2026 - 12 - 06),
            source: Some("https://example.org/sheet".to_owned()),
        }
    }

    fn planned(sheet: &Sheet) -> Plan {
        let mapping = Mapping::load("hospital-needs").unwrap();
        let columns = mapping.bind(sheet).unwrap();
        plan(sheet, &mapping, &columns, &options())
    }

    const HEADERS: [&str; 7] = ["医院", "省份", "城市", "联系电话", "物资", "数量", "单位"];

    #[test]
    fn rows_of_one_hospital_become_the_lines_of_one_need() {
        let sheet = sheet(
            &HEADERS,
            &[
                &[
                    "协和医院",
                    "湖北",
                    "武汉",
                    "027-1234",
                    "N95口罩",
                    "1,000",
                    "只",
                ],
                &[
                    "协和医院",
                    "湖北",
                    "武汉",
                    "027-1234",
                    "医用外科口罩",
                    "5000",
                    "盒",
                ],
                &["金银潭医院", "湖北省", "武汉", "", "呼吸机", "3", "台"],
            ],
        );
        let plan = planned(&sheet);
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        assert_eq!(plan.posts.len(), 2);
        let first = &plan.posts[0];
        assert_eq!(first.rows, [2, 3]);
        assert_eq!(first.body["items"][0]["category"], "respirator");
        assert_eq!(first.body["items"][0]["quantity"], 1000);
        assert_eq!(first.body["items"][1]["category"], "surgical_mask");
        assert_eq!(first.body["items"][1]["unit"], "box");
        assert_eq!(first.body["area"], json!({"code": "CN-HB", "name": "武汉"}));
        assert_eq!(first.body["needed_by"], "2026-12-20");
        assert_eq!(
            first.contact.as_ref().unwrap().phone.as_deref(),
            Some("027-1234")
        );
        assert!(!first.body.to_string().contains("027-1234"));
        assert_eq!(plan.posts[1].body["items"][0]["category"], "ventilator");
        assert_eq!(plan.posts[1].contact, None);
    }

    #[test]
    fn errors_name_the_row_and_the_column() {
        let sheet = sheet(
            &HEADERS,
            &[
                &["协和医院", "湖北", "武汉", "", "N95口罩", "一千", "只"],
                &["协和医院", "火星", "武汉", "", "N95口罩", "10", "只"],
                &["协和医院", "湖北", "武汉", "电话", "N95口罩", "10", "只"],
                &["协和医院", "湖北", "武汉", "", "N95口罩", "10", "桶子"],
                &["协和医院", "湖北", "武汉", "", "N95口罩", "0", "只"],
            ],
        );
        let errors = planned(&sheet).errors;
        let at: Vec<(usize, Option<&str>)> = errors
            .iter()
            .map(|e| (e.row, e.column.as_deref()))
            .collect();
        assert_eq!(
            at,
            [
                (2, Some("F «数量»")),
                (3, Some("B «省份»")),
                (4, Some("D «联系电话»")),
                (5, Some("G «单位»")),
                (6, Some("F «数量»")),
            ],
            "{errors:?}"
        );
        assert!(!errors[2].to_string().contains("电话\""), "{}", errors[2]);
    }

    #[test]
    fn the_fingerprint_ignores_what_an_import_makes_afresh() {
        let a = json!({"items": [1], "needed_by": "2026-12-20", "contact": "aa", "evidence": {"url": "x"}});
        let b = json!({"items": [1], "needed_by": "2026-12-21", "contact": "bb"});
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&json!({"items": [2]})));
    }
}
