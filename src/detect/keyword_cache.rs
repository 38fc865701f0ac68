//! Keyword hits remembered across blobs, for history scans.
//!
//! A repository's history holds hundreds or thousands of versions of the same
//! big files (release manifests of 2 MB, generated code, lock files), each a
//! few lines away from the last. The secret engine's keyword pass reads every
//! byte of every version, and it is the scan's hottest loop. So a big blob is
//! cut into segments at line ends chosen by the content (a line whose hash has
//! some low bits zero, so an edit moves no cut but its neighbours'), and the
//! keyword hits of each segment are remembered by the segment's 128-bit
//! xxh3. A version that changes three lines re-reads one or two segments.
//!
//! The result is exact, not an approximation: keywords never contain a line
//! end (checked when the rule set is built), segments end just after one, so
//! no keyword match crosses a segment boundary and the hits of the whole blob
//! are the union of its segments' hits. Everything after the keyword pass
//! (regions, regexes, validation) runs on the whole blob as before.

use super::shared_map::{Budget, SharedMap};
use crate::rules::RuleSet;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Blobs smaller than this are scanned directly (segmenting would not pay).
pub const MIN_BLOB: usize = 16 * 1024;
/// A segment is cut at the first chosen line end after this many bytes...
const MIN_SEGMENT: usize = 4 * 1024;
/// ...and at the first line end after this many whatever the hashes say.
const MAX_SEGMENT: usize = 64 * 1024;
/// One line end in `1 << CUT_BITS` is chosen (after `MIN_SEGMENT`).
const CUT_BITS: u32 = 5;

/// One keyword match: the automaton's pattern and its byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub pattern: u32,
    pub start: usize,
    pub end: usize,
}

/// A hit as a segment remembers it: (pattern, start, end) within the segment.
type SegmentHit = (u32, u32, u32);
/// (rule index, xxh3-128 of the region's bytes).
type RegionKey = (u32, u128);

/// Keyword hits by segment digest, shared by every scanning thread, with a
/// budget on what it holds (past it, segments are scanned, not remembered).
pub struct KeywordCache {
    /// Segment digest -> its hits as (pattern, start, end) within the segment.
    segments: SharedMap<u128, Box<[SegmentHit]>>,
    /// (rule, region digest) -> the validated secrets' ranges in the region.
    regions: SharedMap<RegionKey, Box<[(u32, u32)]>>,
    /// Digests of segments that hold no run the decoder would decode
    /// (`detect::decode`): its runs never cross a line end, so a segment
    /// seen once needs no second look in a later version of a file.
    undecodable: SharedMap<u128, ()>,
    /// What both maps hold together.
    budget: Budget,
    /// Segment bytes answered from the cache / read by the automaton.
    pub reused_bytes: AtomicUsize,
    pub scanned_bytes: AtomicUsize,
}

impl KeywordCache {
    /// A cache holding at most about `budget` bytes.
    pub fn new(budget: usize) -> KeywordCache {
        KeywordCache {
            segments: SharedMap::new(),
            regions: SharedMap::new(),
            undecodable: SharedMap::new(),
            budget: Budget::new(budget),
            reused_bytes: AtomicUsize::new(0),
            scanned_bytes: AtomicUsize::new(0),
        }
    }

    /// The validated secrets rule `r` finds in a region (`confirm` runs the
    /// regex and the checks), remembered by the region's text: the same
    /// lines around the same hits come back in every version of a file.
    pub fn region_secrets(
        &self,
        rule: usize,
        region: &[u8],
        confirm: impl FnOnce() -> Vec<std::ops::Range<usize>>,
    ) -> Vec<std::ops::Range<usize>> {
        let (Ok(rule), Ok(_)) = (u32::try_from(rule), u32::try_from(region.len())) else {
            return confirm();
        };
        let key = (rule, xxhash_rust::xxh3::xxh3_128(region));
        let known = self.regions.read(&key, key.1, |found| {
            found.iter().map(|&(s, e)| s as usize..e as usize).collect()
        });
        if let Some(found) = known {
            return found;
        }
        let found = confirm();
        let stored = found
            .iter()
            .map(|g| (g.start as u32, g.end as u32))
            .collect();
        self.regions
            .keep(key, key.1, stored, 64 + found.len() * 8, &self.budget);
        found
    }

    /// Whether a segment with this digest was seen to hold no decoder run.
    pub fn known_undecodable(&self, digest: u128) -> bool {
        self.undecodable.read(&digest, digest, |_| ()).is_some()
    }

    /// Remember that a segment with this digest holds no decoder run.
    pub fn keep_undecodable(&self, digest: u128) {
        self.undecodable.keep(digest, digest, (), 48, &self.budget);
    }

    /// Every keyword hit in `bytes`, overlapping, in segment order (the
    /// order within a segment is the keyword index's: by start).
    pub fn hits(&self, rules: &RuleSet, bytes: &[u8]) -> Vec<Hit> {
        let mut out = Vec::new();
        for seg in segments(bytes) {
            let part = &bytes[seg.clone()];
            let key = xxhash_rust::xxh3::xxh3_128(part);
            let known = self.segments.read(&key, key, |hits| {
                out.extend(hits.iter().map(|&(pattern, s, e)| Hit {
                    pattern,
                    start: seg.start + s as usize,
                    end: seg.start + e as usize,
                }))
            });
            if known.is_some() {
                self.reused_bytes.fetch_add(part.len(), Ordering::Relaxed);
                continue;
            }
            self.scanned_bytes.fetch_add(part.len(), Ordering::Relaxed);
            let local: Vec<(u32, u32, u32)> = direct_hits(rules, part)
                .map(|h| (h.pattern, h.start as u32, h.end as u32))
                .collect();
            out.extend(local.iter().map(|&(pattern, s, e)| Hit {
                pattern,
                start: seg.start + s as usize,
                end: seg.start + e as usize,
            }));
            let cost = 64 + local.len() * 12;
            self.segments
                .keep(key, key, local.into_boxed_slice(), cost, &self.budget);
        }
        out
    }
}

/// Every keyword hit in `bytes`, read by the keyword index.
pub fn direct_hits(rules: &RuleSet, bytes: &[u8]) -> impl Iterator<Item = Hit> + use<> {
    rules.keyword_hits(bytes).into_iter().map(|m| Hit {
        pattern: m.pattern,
        start: m.start,
        end: m.end,
    })
}

/// The segments of `bytes`: consecutive ranges covering it, each ending just
/// after a line end (the last one at the end of the text). A segment grows
/// past [`MIN_SEGMENT`] until a line whose hash has its low [`CUT_BITS`]
/// bits zero, or past [`MAX_SEGMENT`]; a single longer line is one segment.
pub fn segments(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::with_capacity(bytes.len() / (MIN_SEGMENT * 2) + 1);
    let mask = (1u64 << CUT_BITS) - 1;
    let mut seg_start = 0;
    // Lines ending before a segment's first MIN_SEGMENT bytes cannot cut
    // it: jump over them instead of hashing them.
    'segment: while bytes.len() - seg_start > MIN_SEGMENT {
        let from = seg_start + MIN_SEGMENT - 1;
        let mut line_start = memchr::memrchr(b'\n', &bytes[seg_start..from])
            .map_or(seg_start, |i| seg_start + i + 1);
        for nl in memchr::memchr_iter(b'\n', &bytes[from..]).map(|i| from + i) {
            let line = &bytes[line_start..nl];
            line_start = nl + 1;
            if line_start - seg_start >= MAX_SEGMENT || line_hash(line) & mask == 0 {
                out.push(seg_start..line_start);
                seg_start = line_start;
                continue 'segment;
            }
        }
        break;
    }
    if seg_start < bytes.len() {
        out.push(seg_start..bytes.len());
    }
    out
}

/// A cheap hash of a line: its length and up to 16 bytes from each end.
fn line_hash(line: &[u8]) -> u64 {
    let take = |b: &[u8]| {
        let mut x = [0u8; 8];
        x[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(x)
    };
    let n = line.len();
    let (a, b) = (&line[..n.min(8)], &line[n.saturating_sub(8)..]);
    let mut h = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for w in [take(a), take(b)] {
        h = (h ^ w).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h ^= h >> 31;
    }
    h >> 7
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cover_the_text_and_end_at_line_ends() {
        let text: String = (0..20_000).map(|i| format!("line {i} of text\n")).collect();
        let segs = segments(text.as_bytes());
        assert!(segs.len() > 10);
        assert_eq!(segs[0].start, 0);
        assert_eq!(segs.last().unwrap().end, text.len());
        for w in segs.windows(2) {
            assert_eq!(w[0].end, w[1].start);
            assert_eq!(text.as_bytes()[w[0].end - 1], b'\n');
            assert!(w[0].len() >= MIN_SEGMENT && w[0].len() <= MAX_SEGMENT + 32);
        }
    }

    #[test]
    fn an_edit_moves_only_nearby_cuts() {
        let text: String = (0..20_000)
            .map(|i| format!("key{i}: value {i}\n"))
            .collect();
        let edited = text.replacen(
            "key10000: value 10000\n",
            "key10000: changed\nextra: 1\n",
            1,
        );
        let a: Vec<&[u8]> = segments(text.as_bytes())
            .into_iter()
            .map(|r| &text.as_bytes()[r])
            .collect();
        let b: Vec<&[u8]> = segments(edited.as_bytes())
            .into_iter()
            .map(|r| &edited.as_bytes()[r])
            .collect();
        let same = b.iter().filter(|s| a.contains(s)).count();
        assert!(same + 3 >= b.len(), "{same} of {} segments kept", b.len());
    }

    #[test]
    fn secrets_found_through_the_cache_are_the_ones_found_without_it() {
        use crate::detect::secrets::{find_secrets, find_secrets_with};
        use crate::rules::{builtin_specs, examples::expand};
        let rules = RuleSet::build(builtin_specs().unwrap(), &[]).unwrap();
        assert!(rules.keywords_within_lines());
        // Every rule's first example, planted among filler lines of a big
        // file, in three versions that differ by a few lines (so most
        // segments of versions 2 and 3 come from the cache).
        let planted: Vec<String> = rules
            .rules
            .iter()
            .filter_map(|r| r.spec.examples.first())
            .map(|e| expand(e, e).unwrap())
            .collect();
        let version = |v: usize| {
            let mut text = String::new();
            for (i, p) in planted.iter().enumerate() {
                for j in 0..12 {
                    text.push_str(&format!("  field{j}: value-{i}-{j} # a pass at a token\n"));
                }
                if i == 40 * (v + 1) {
                    text.push_str("  edited: line\n");
                }
                text.push_str(p);
                text.push('\n');
            }
            text
        };
        let cache = KeywordCache::new(usize::MAX);
        for v in 0..3 {
            let text = version(v);
            assert!(text.len() > MIN_BLOB * 2);
            let direct = find_secrets(&rules, text.as_bytes());
            let cached = find_secrets_with(&rules, None, text.as_bytes(), Some(&cache));
            assert_eq!(cached, direct, "version {v}");
            assert!(direct.len() >= planted.len() / 2);
        }
        let reused = cache.reused_bytes.load(Ordering::Relaxed);
        let scanned = cache.scanned_bytes.load(Ordering::Relaxed);
        assert!(reused > scanned, "reused {reused} bytes, scanned {scanned}");
        // A budget of nothing keeps nothing and changes nothing.
        let none = KeywordCache::new(0);
        let text = version(0);
        assert_eq!(
            find_secrets_with(&rules, None, text.as_bytes(), Some(&none)),
            find_secrets(&rules, text.as_bytes())
        );
        assert_eq!(none.reused_bytes.load(Ordering::Relaxed), 0);
    }
}
