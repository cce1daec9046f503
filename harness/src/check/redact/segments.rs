//! A growing set of literal patterns searched with Aho-Corasick automata, cheap to extend.
//!
//! A run registers secrets one at a time between searches (every generated input of a property
//! is a new secret), so one automaton over every form would be rebuilt after each registration:
//! quadratic in the run's length. Instead patterns live in segments whose sizes at least double
//! from the newest to the oldest; adding a batch builds one small automaton and merges segments
//! only while the newest is as large as the one before it, so building costs O(n log n) over the
//! run and a search visits O(log n) automata. An automaton holds only the first
//! [`PREFIX`] bytes of each pattern, and a match of a prefix counts once the rest of the
//! pattern follows: long patterns (JSON- and base64-encoded secrets) then cost the automata
//! little to build.

use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

/// How many leading bytes of a pattern its automaton holds.
const PREFIX: usize = 32;

/// One automaton and the placeholder of each of its patterns.
#[derive(Debug)]
struct Segment {
    automaton: AhoCorasick,
    patterns: Vec<(String, String)>,
}

impl Segment {
    fn build(patterns: Vec<(String, String)>) -> Option<Segment> {
        // A contiguous NFA builds quickly and searches nearly as fast as a DFA: segments are
        // rebuilt as the run goes, so building is the cost that counts.
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(
                patterns
                    .iter()
                    .map(|(p, _)| &p.as_bytes()[..p.len().min(PREFIX)]),
            )
            .ok()?;
        Some(Segment {
            automaton,
            patterns,
        })
    }

    /// Where whole patterns occur in `haystack`, overlapping ones included, with the
    /// placeholder of each.
    fn matches<'s>(&'s self, haystack: &'s [u8]) -> impl Iterator<Item = (Range<usize>, &'s str)> {
        self.automaton
            .find_overlapping_iter(haystack)
            .filter_map(|m| {
                let (pattern, placeholder) = &self.patterns[m.pattern().as_usize()];
                let whole = m.start()..m.start() + pattern.len();
                (haystack.get(whole.clone()) == Some(pattern.as_bytes()))
                    .then_some((whole, placeholder.as_str()))
            })
    }
}

/// Literal patterns, each with the text that replaces it.
#[derive(Debug, Default)]
pub struct Segments {
    segments: Vec<Segment>,
}

impl Segments {
    /// Adds `patterns` (none already present), merging segments to keep their sizes doubling.
    pub fn add(&mut self, patterns: Vec<(String, String)>) {
        if patterns.is_empty() {
            return;
        }
        let mut pending = patterns;
        while let Some(last) = self.segments.last() {
            if last.patterns.len() > pending.len() {
                break;
            }
            let last = self.segments.pop().expect("a last segment");
            let mut merged = last.patterns;
            merged.append(&mut pending);
            pending = merged;
        }
        if let Some(segment) = Segment::build(pending) {
            self.segments.push(segment);
        }
    }

    /// True when `haystack` contains any pattern.
    pub fn is_match(&self, haystack: &[u8]) -> bool {
        self.segments
            .iter()
            .any(|s| s.matches(haystack).next().is_some())
    }

    /// Replaces every stretch of `text` that some pattern covers: overlapping or adjacent
    /// matches (of one secret's forms or of several secrets) merge into one stretch, replaced by
    /// the placeholder of the longest match that starts it. No byte of any match survives.
    pub fn replace(&self, text: &str) -> String {
        let mut matches: Vec<(Range<usize>, &str)> = self
            .segments
            .iter()
            .flat_map(|s| s.matches(text.as_bytes()))
            .collect();
        if matches.is_empty() {
            return text.to_string();
        }
        matches.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut stretch: Option<(Range<usize>, &str)> = None;
        for (range, placeholder) in matches {
            match &mut stretch {
                Some((current, _)) if range.start <= current.end => {
                    current.end = current.end.max(range.end);
                }
                _ => {
                    if let Some((done, shown)) = stretch.take() {
                        out.push_str(&text[copied..done.start]);
                        out.push_str(shown);
                        copied = done.end;
                    }
                    stretch = Some((range, placeholder));
                }
            }
        }
        if let Some((done, shown)) = stretch {
            out.push_str(&text[copied..done.start]);
            out.push_str(shown);
            copied = done.end;
        }
        out.push_str(&text[copied..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(words: &[&str], shown: &str) -> Vec<(String, String)> {
        words
            .iter()
            .map(|w| (w.to_string(), shown.to_string()))
            .collect()
    }

    #[test]
    fn patterns_added_one_at_a_time_are_all_found_and_segments_stay_few() {
        let mut s = Segments::default();
        for n in 0..1000 {
            s.add(pairs(&[&format!("secret-{n:04}")], &format!("<{n}>")));
        }
        assert!(s.segments.len() <= 11, "{} segments", s.segments.len());
        let text = "a secret-0000 b secret-0513 c secret-0999 d";
        assert_eq!(s.replace(text), "a <0> b <513> c <999> d");
        assert!(s.is_match(b"xx secret-0777 yy") && !s.is_match(b"secret-1000"));
    }

    #[test]
    fn overlapping_forms_of_different_secrets_leave_no_byte_of_either() {
        let mut s = Segments::default();
        s.add(pairs(&["abcdef"], "<A>"));
        s.add(pairs(&["defghi"], "<B>"));
        s.add(pairs(&["abc"], "<C>"));
        assert_eq!(s.replace("xx abcdefghi yy"), "xx <A> yy");
        assert_eq!(s.replace("abc and defghi"), "<C> and <B>");
        assert_eq!(s.replace("nothing here"), "nothing here");
    }
}
