//! The index's fields and the mapping of a [`SearchDoc`] onto them.

use crate::{vocabulary, IndexError, SearchDoc};
use std::sync::Arc;
use tantivy::columnar::{Column, ColumnValues};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::TantivyDocument;
use time::format_description::well_known::Rfc3339;

/// Bump whenever the schema, the analyzer or the mapping of documents changes: an
/// index written by another version is wiped on open and must be rebuilt.
pub const FORMAT_VERSION: u32 = 2;

/// Kinds of documents.
pub const KINDS: [&str; 3] = ["need", "offer", "org"];

/// Handles of every field of the schema.
#[derive(Clone, Debug)]
pub struct Fields {
    pub id: Field,
    pub kind: Field,
    pub title: Field,
    pub items: Field,
    pub description: Field,
    pub area_name: Field,
    /// Words of the bilingual vocabulary ([`crate::vocabulary`]) and the names of the
    /// region in English and Chinese: searched, never shown.
    pub vocabulary: Field,
    pub area_code: Field,
    /// The country part of `area_code` (`CN` of `CN-HB`).
    pub area_country: Field,
    /// `area_code` and each of its prefixes at a `-` (`CN`, `CN-HB`): the area filter.
    pub area_path: Field,
    pub category: Field,
    pub status: Field,
    pub urgency: Field,
    pub verification: Field,
    /// 4 for critical down to 1 for low; 0 when there is none.
    pub urgency_key: Field,
    /// Julian day number of the deadline; absent when there is none.
    pub deadline_day: Field,
    pub deadline: Field,
    /// Unix seconds of `created_at`.
    pub created_ts: Field,
    pub created_at: Field,
    pub log_index: Field,
}

impl Fields {
    /// The fields free text is searched in.
    pub fn searched(&self) -> [Field; 5] {
        [
            self.title,
            self.items,
            self.description,
            self.area_name,
            self.vocabulary,
        ]
    }
}

/// Fast fields that the facet counts read.
pub const FACET_FIELDS: [&str; 6] = [
    "category",
    "area_country",
    "area_code",
    "status",
    "urgency",
    "verification",
];

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(crate::tokenizer::EN_ZH)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let keyword = STRING | STORED | FAST;
    let stored_only = TextOptions::default().set_stored();
    let searched_only = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(crate::tokenizer::EN_ZH)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        kind: b.add_text_field("kind", keyword.clone()),
        title: b.add_text_field("title", text.clone()),
        items: b.add_text_field("items", text.clone()),
        description: b.add_text_field("description", text.clone()),
        area_name: b.add_text_field("area_name", text),
        vocabulary: b.add_text_field("vocabulary", searched_only),
        area_code: b.add_text_field("area_code", keyword.clone()),
        area_country: b.add_text_field("area_country", STRING | FAST),
        area_path: b.add_text_field("area_path", STRING),
        category: b.add_text_field("category", keyword.clone()),
        status: b.add_text_field("status", keyword.clone()),
        urgency: b.add_text_field("urgency", keyword.clone()),
        verification: b.add_text_field("verification", keyword),
        urgency_key: b.add_u64_field("urgency_key", FAST),
        deadline_day: b.add_u64_field("deadline_day", INDEXED | FAST),
        deadline: b.add_text_field("deadline", stored_only.clone()),
        created_ts: b.add_i64_field("created_ts", FAST),
        created_at: b.add_text_field("created_at", stored_only),
        log_index: b.add_u64_field("log_index", STORED | FAST),
    };
    (b.build(), fields)
}

/// Sort key of an urgency name (most urgent highest), or `None` for an unknown name.
pub fn urgency_key(name: &str) -> Option<u64> {
    use ledger::body::Urgency;
    [
        Urgency::Critical,
        Urgency::High,
        Urgency::Medium,
        Urgency::Low,
    ]
    .into_iter()
    .find(|u| u.name() == name)
    .map(|u| 4 - u64::from(u.rank()))
}

/// Julian day of a `YYYY-MM-DD` date or of an RFC 3339 timestamp.
pub fn parse_day(s: &str) -> Option<time::Date> {
    let ymd = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &ymd).ok().or_else(|| {
        time::OffsetDateTime::parse(s, &Rfc3339)
            .ok()
            .map(|t| t.date())
    })
}

pub fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A facet value (status, verification, category): lower-case letters and `_`.
pub fn is_keyword(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

fn bad(doc: &SearchDoc, reason: impl Into<String>) -> IndexError {
    IndexError::BadDoc {
        id: doc.id.clone(),
        reason: reason.into(),
    }
}

/// Checks `doc` and maps it onto the schema; `analyzer` finds the vocabulary its text
/// mentions.
pub fn to_document(
    f: &Fields,
    analyzer: &mut TextAnalyzer,
    doc: &SearchDoc,
) -> Result<TantivyDocument, IndexError> {
    if !is_id(&doc.id) {
        return Err(bad(doc, "id must be 64 lowercase hex digits"));
    }
    if !KINDS.contains(&doc.kind.as_str()) {
        return Err(bad(doc, "kind must be need, offer or org"));
    }
    if !regions::is_code(&doc.area_code) {
        return Err(bad(
            doc,
            "area_code must be a region code such as CN or CN-HB",
        ));
    }
    for (name, value) in [("status", &doc.status), ("verification", &doc.verification)] {
        if !is_keyword(value) {
            return Err(bad(doc, format!("{name} must be lowercase letters or _")));
        }
    }
    let created = time::OffsetDateTime::parse(&doc.created_at, &Rfc3339)
        .map_err(|e| bad(doc, format!("created_at is not RFC 3339: {e}")))?;

    let mut d = TantivyDocument::default();
    d.add_text(f.id, &doc.id);
    d.add_text(f.kind, &doc.kind);
    d.add_text(f.title, &doc.title);
    let mut categories: Vec<&str> = vec![];
    let mut texts = vec![doc.title.clone(), doc.description.clone()];
    for item in &doc.items {
        if !is_keyword(&item.category) {
            return Err(bad(doc, "item categories must be lowercase letters or _"));
        }
        let text = item_text(&item.item, item.spec.as_deref());
        d.add_text(f.items, &text);
        texts.push(text);
        if !categories.contains(&item.category.as_str()) {
            categories.push(&item.category);
            d.add_text(f.category, &item.category);
        }
    }
    d.add_text(f.description, &doc.description);
    d.add_text(f.area_name, &doc.area_name);
    d.add_text(f.area_code, &doc.area_code);
    let country = doc.area_code.split('-').next().unwrap_or_default();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut words = vocabulary::words(analyzer, categories, &texts);
    for names in [doc.area_code.as_str(), country]
        .into_iter()
        .filter_map(regions::names)
    {
        for name in [names.en, names.zh] {
            if !words.contains(&name) {
                words.push(name);
            }
        }
    }
    for word in words {
        d.add_text(f.vocabulary, word);
    }
    d.add_text(f.area_country, country);
    for (i, _) in doc.area_code.match_indices('-') {
        d.add_text(f.area_path, &doc.area_code[..i]);
    }
    d.add_text(f.area_path, &doc.area_code);
    d.add_text(f.status, &doc.status);
    match &doc.urgency {
        Some(u) => {
            let key = urgency_key(u)
                .ok_or_else(|| bad(doc, "urgency must be critical, high, medium or low"))?;
            d.add_text(f.urgency, u);
            d.add_u64(f.urgency_key, key);
        }
        None => d.add_u64(f.urgency_key, 0),
    }
    d.add_text(f.verification, &doc.verification);
    if let Some(deadline) = &doc.deadline {
        let day =
            parse_day(deadline).ok_or_else(|| bad(doc, "deadline must be a date YYYY-MM-DD"))?;
        d.add_u64(f.deadline_day, julian(day));
        d.add_text(f.deadline, deadline);
    }
    d.add_i64(f.created_ts, created.unix_timestamp());
    d.add_text(f.created_at, &doc.created_at);
    d.add_u64(f.log_index, doc.index);
    Ok(d)
}

/// How an item line is indexed and shown in snippets.
pub fn item_text(item: &str, spec: Option<&str>) -> String {
    match spec {
        Some(spec) if !spec.is_empty() => format!("{item} ({spec})"),
        _ => item.to_owned(),
    }
}

/// Julian day number of a date, as stored in `deadline_day`.
pub fn julian(day: time::Date) -> u64 {
    // Julian day numbers are positive for every date `time` can represent after
    // 4713 BC; clamp anyway.
    u64::try_from(day.to_julian_day()).unwrap_or(0)
}

/// A u64 fast field as one value per document (`missing` where it has none).
pub fn u64_column(
    column: tantivy::Result<Option<Column<u64>>>,
    missing: u64,
) -> Option<Arc<dyn ColumnValues<u64>>> {
    column
        .ok()
        .flatten()
        .map(|c| c.first_or_default_col(missing))
}
