//! Which offers fit a need, and which needs an offer could fill (docs/API.md,
//! "Matching"): the other side's open posts that share a category with a line that
//! still has something to give or to fill, ranked by where they are, then by whether
//! they name the same item, then by how much of the subject they cover, newest first
//! among equals (a fresh post is likelier to still hold). Each match carries its
//! reasons, so a reader sees why it is there.

use crate::queries::{self, Policy, QueryError};
use contract::{ItemLine, MatchedLine, Matches, Post, PostKind, PostMatch, RegionFit};
use std::cmp::Reverse;

/// Most matches answered.
pub const MAX_MATCHES: usize = 20;
/// Most candidates read and ranked for one answer: the ones nearest the subject first.
const MAX_CANDIDATES: u32 = 500;

/// The matches of the need (`kind` = "need") or offer ("offer") with id `id`.
pub async fn matches(
    pool: &sqlx::AnyPool,
    policy: Policy,
    kind: &str,
    id: &str,
) -> Result<Matches, QueryError> {
    let subject = queries::post(pool, policy, kind, id).await?;
    let other = match subject.kind {
        PostKind::Need => "offer",
        PostKind::Offer => "need",
    };
    let categories: Vec<String> = open_lines(&subject).map(|l| l.category.clone()).collect();
    let candidates = if categories.is_empty() {
        Vec::new()
    } else {
        queries::open_posts_sharing(
            pool,
            policy,
            other,
            &categories,
            &subject.area.code,
            MAX_CANDIDATES,
        )
        .await?
    };
    let mut ranked: Vec<PostMatch> = candidates
        .into_iter()
        .filter(|c| c.author != subject.author)
        .filter_map(|c| fit(&subject, c))
        .collect();
    ranked.sort_by_key(|m| {
        (
            m.region,
            Reverse(m.lines.iter().filter(|l| l.same_item).count()),
            Reverse(m.lines.iter().map(|l| l.quantity).sum::<i64>()),
            Reverse(m.post.index),
        )
    });
    ranked.truncate(MAX_MATCHES);
    Ok(Matches { matches: ranked })
}

/// Lines with something left: still needed on a need, still available on an offer.
fn open_lines(post: &Post) -> impl Iterator<Item = &ItemLine> {
    post.items.iter().filter(|l| l.remaining > 0)
}

/// How `candidate` fits `subject`, if it does: each open line of the need, in order,
/// takes what it still lacks from the offer's open line of the same category that
/// names the same item, else has the most left; an offer line gives each unit once,
/// so two need lines never both count the same units.
fn fit(subject: &Post, candidate: Post) -> Option<PostMatch> {
    let (need, offer) = match subject.kind {
        PostKind::Need => (subject, &candidate),
        PostKind::Offer => (&candidate, subject),
    };
    let mut left: Vec<(&ItemLine, i64)> = open_lines(offer).map(|o| (o, o.remaining)).collect();
    let mut lines = Vec::new();
    for n in open_lines(need) {
        let Some((o, capacity)) = left
            .iter_mut()
            .filter(|(o, capacity)| o.category == n.category && *capacity > 0)
            .max_by_key(|(o, capacity)| (same_item(&n.item, &o.item), *capacity))
        else {
            continue;
        };
        let quantity = n.remaining.min(*capacity);
        *capacity -= quantity;
        lines.push(MatchedLine {
            need_line: n.line,
            offer_line: o.line,
            category: n.category.clone(),
            same_item: same_item(&n.item, &o.item),
            quantity,
        });
    }
    if lines.is_empty() {
        return None;
    }
    Some(PostMatch {
        region: region_fit(&subject.area.code, &candidate.area.code),
        lines,
        post: candidate,
    })
}

/// Same region code, same country (the code's first two letters), or neither.
fn region_fit(a: &str, b: &str) -> RegionFit {
    if a == b {
        RegionFit::SameArea
    } else if a.get(..2) == b.get(..2) {
        RegionFit::SameCountry
    } else {
        RegionFit::Elsewhere
    }
}

/// Whether two item names name the same thing: one holds the other, ignoring case
/// and spaces (`N95口罩` and `N95 口罩 GB19083`), or they share a word of three or
/// more letters (`N95 respirators`, `respirators 3M 1860`).
fn same_item(a: &str, b: &str) -> bool {
    let squeeze = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let (sa, sb) = (squeeze(a), squeeze(b));
    if sa.contains(&sb) || sb.contains(&sa) {
        return true;
    }
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 3)
            .map(str::to_lowercase)
            .collect()
    };
    let wb = words(b);
    words(a).iter().any(|w| wb.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_names_match_across_spacing_case_and_extra_words() {
        assert!(same_item("N95口罩", "n95 口罩 GB 19083"));
        assert!(same_item("N95 respirators", "Respirators 3M 1860"));
        assert!(!same_item("N95 respirators", "surgical masks"));
        assert!(!same_item("口罩", "手套"));
    }

    #[test]
    fn regions_rank_the_same_area_then_the_same_country() {
        assert_eq!(region_fit("CN-HB", "CN-HB"), RegionFit::SameArea);
        assert_eq!(region_fit("CN-HB", "CN-ZJ"), RegionFit::SameCountry);
        assert_eq!(region_fit("CN-HB", "CN"), RegionFit::SameCountry);
        assert_eq!(region_fit("CN-HB", "IT-25"), RegionFit::Elsewhere);
        assert!(RegionFit::SameArea < RegionFit::SameCountry);
        assert!(RegionFit::SameCountry < RegionFit::Elsewhere);
    }
}
