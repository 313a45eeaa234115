//! The `en_zh` analyzer: English with stemming, Chinese by character bigrams, and text
//! that mixes both (`N95口罩`, `KN95 masks 医用防护服`).
//!
//! The text is cut into runs:
//!
//! - a run of letters and digits that are not CJK (`N95`, `masks`, `Ｎ９５`, `café`)
//!   becomes one token, then lowercased, folded to ASCII (`café` → `cafe`, full-width
//!   `Ｎ９５` → `n95`) and stemmed with the Snowball English stemmer (`masks` →
//!   `mask`, `gloves` → `glove`);
//! - a run of CJK characters (Han, kana, Hangul, Bopomofo) becomes its overlapping
//!   character bigrams at consecutive positions: `医用防护服` → `医用 用防 防护 护服`;
//!   a run of one character is emitted as that character alone;
//! - everything else (spaces, punctuation, full-width punctuation, symbols) separates
//!   runs and is dropped. A change of script also separates runs: `N95口罩` → `n95 口罩`.
//!
//! The same analyzer runs on queries, so a quoted CJK query of three or more
//! characters becomes a phrase of bigrams (`"防护服"` → "防护 护服") that matches exactly
//! where those characters stand next to each other in a document (`医用防护服`); unquoted,
//! the search reads it as all of its bigrams, without positions (see `search`), and a
//! two-character query (`口罩`) is a single term found inside any longer run (`N95口罩`,
//! `医用口罩`).
//!
//! Trade-offs of bigrams against a dictionary segmenter (jieba and the like):
//!
//! - no dictionary: nothing to ship or load, no megabytes of data in the binary, and
//!   the build stays lean;
//! - robust to new words: product names, place names and jargon that no dictionary
//!   knows (`熔喷布`, a new hospital's name) are found the same way as common words,
//!   whereas a segmenter that cuts them wrongly makes them unfindable;
//! - more postings: a run of n characters gives n − 1 terms instead of about n / 2
//!   words, so the index is larger, and some matches are spurious across word
//!   boundaries (the bigram `用防` in `医用防护服` is no word) — harmless for recall and
//!   outweighed in ranking by the real matches;
//! - a single-character query (`罩`) only finds runs that are that one character
//!   alone, not longer words containing it: single characters are too ambiguous to be
//!   useful search terms, and indexing unigrams too would double the postings again;
//! - no stemming or stop words on the CJK side (Chinese has no inflection to strip).
//!
//! On the Latin side, letters and digits stay together (`N95`, `GB19083` are single
//! tokens), so `GB 19083` (two tokens) does not find `GB19083`; tokens longer than
//! [`MAX_TOKEN_BYTES`] (hashes, URLs without separators) are dropped.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token,
    TokenStream, Tokenizer,
};

/// Name under which the analyzer is registered with the index.
pub const EN_ZH: &str = "en_zh";

/// Tokens at least this long (in bytes) are dropped.
pub const MAX_TOKEN_BYTES: usize = 40;

/// The full analyzer: [`MixedTokenizer`], lowercasing, ASCII folding, English
/// stemming, long-token removal.
pub fn en_zh_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(MixedTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Whether `c` is written without spaces between words and so is cut into bigrams.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x309F     // Hiragana
        | 0x30A0..=0x30FF   // Katakana
        | 0x3100..=0x312F   // Bopomofo
        | 0x31A0..=0x31BF   // Bopomofo extended
        | 0x31F0..=0x31FF   // Katakana phonetic extensions
        | 0x3400..=0x4DBF   // CJK unified ideographs extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0x20000..=0x3134F // CJK unified ideographs extensions B to H
    )
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// Cuts text into Latin/digit words and CJK bigrams (see the module documentation);
/// it neither lowercases nor stems: [`en_zh_analyzer`] adds the filters that do.
#[derive(Clone, Default)]
pub struct MixedTokenizer {
    token: Token,
}

impl Tokenizer for MixedTokenizer {
    type TokenStream<'a> = MixedTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> MixedTokenStream<'a> {
        self.token.reset();
        MixedTokenStream {
            text,
            pos: 0,
            cjk_prev: None,
            cjk_emitted: false,
            next_position: 0,
            token: &mut self.token,
        }
    }
}

pub struct MixedTokenStream<'a> {
    text: &'a str,
    /// Byte offset of the next character to look at.
    pos: usize,
    /// Inside a CJK run: the byte offset of its last character seen.
    cjk_prev: Option<usize>,
    /// Inside a CJK run: whether a bigram of it has been emitted.
    cjk_emitted: bool,
    next_position: usize,
    token: &'a mut Token,
}

impl MixedTokenStream<'_> {
    fn emit(&mut self, from: usize, to: usize) {
        self.token.text.clear();
        self.token.text.push_str(&self.text[from..to]);
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.position = self.next_position;
        self.token.position_length = 1;
        self.next_position += 1;
    }

    fn next_char(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }
}

impl TokenStream for MixedTokenStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            let next = self.next_char();
            if let Some(prev) = self.cjk_prev {
                match next {
                    Some(c) if is_cjk(c) => {
                        let end = self.pos + c.len_utf8();
                        self.cjk_prev = Some(self.pos);
                        self.cjk_emitted = true;
                        self.pos = end;
                        self.emit(prev, end);
                        return true;
                    }
                    _ => {
                        // The run ends; a lone character is emitted as a unigram.
                        self.cjk_prev = None;
                        if !self.cjk_emitted {
                            self.emit(prev, self.pos);
                            return true;
                        }
                    }
                }
                continue;
            }
            let c = match next {
                None => return false,
                Some(c) => c,
            };
            if is_cjk(c) {
                self.cjk_prev = Some(self.pos);
                self.cjk_emitted = false;
                self.pos += c.len_utf8();
            } else if is_word(c) {
                let start = self.pos;
                let end = self.text[start..]
                    .char_indices()
                    .find(|&(_, c)| !is_word(c))
                    .map_or(self.text.len(), |(i, _)| start + i);
                self.pos = end;
                self.emit(start, end);
                return true;
            } else {
                self.pos += c.len_utf8();
            }
        }
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut analyzer = en_zh_analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut out = vec![];
        while let Some(t) = stream.next() {
            out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
        }
        out
    }

    fn texts(text: &str) -> Vec<String> {
        tokens(text).into_iter().map(|t| t.0).collect()
    }

    #[test]
    fn english_is_lowercased_folded_and_stemmed() {
        assert_eq!(texts("Masks"), ["mask"]);
        assert_eq!(texts("masks mask"), ["mask", "mask"]);
        assert_eq!(
            texts("Surgical GLOVES, nitrile"),
            ["surgic", "glove", "nitril"]
        );
        assert_eq!(texts("café Ｎ９５"), ["cafe", "n95"]);
        assert_eq!(texts("KN95 (GB2626-2019)"), ["kn95", "gb2626", "2019"]);
    }

    #[test]
    fn cjk_runs_become_overlapping_bigrams() {
        assert_eq!(texts("医用防护服"), ["医用", "用防", "防护", "护服"]);
        assert_eq!(texts("口罩"), ["口罩"]);
        assert_eq!(texts("罩"), ["罩"]);
        assert_eq!(texts("口罩，手套。"), ["口罩", "手套"]);
        assert_eq!(texts("急 需"), ["急", "需"]);
    }

    #[test]
    fn mixed_text_splits_at_script_changes() {
        assert_eq!(texts("N95口罩"), ["n95", "口罩"]);
        assert_eq!(texts("3M医用口罩x2"), ["3m", "医用", "用口", "口罩", "x2"]);
        assert_eq!(
            texts("N95 masks 口罩 for 武汉"),
            ["n95", "mask", "口罩", "for", "武汉"]
        );
    }

    #[test]
    fn positions_are_consecutive_and_offsets_point_into_the_text() {
        let text = "A 医用防护服 b";
        let toks = tokens(text);
        for (i, (_, position, from, to)) in toks.iter().enumerate() {
            assert_eq!(*position, i);
            assert!(text.is_char_boundary(*from) && text.is_char_boundary(*to));
        }
        assert_eq!(&text[toks[1].2..toks[1].3], "医用");
        assert_eq!(&text[toks[4].2..toks[4].3], "护服");
    }

    #[test]
    fn separators_and_long_tokens_are_dropped() {
        assert!(texts("").is_empty());
        assert!(texts(" \t—,.!?、。").is_empty());
        assert!(texts(&"a".repeat(64)).is_empty());
        assert_eq!(texts("ok 😷 fine"), ["ok", "fine"]);
    }
}
