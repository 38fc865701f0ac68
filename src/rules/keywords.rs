//! The keyword search: every (overlapping, ASCII case-insensitive)
//! occurrence of every keyword in a text.
//!
//! With 1,300+ keywords an Aho-Corasick DFA is megabytes, and its search is
//! one dependent table load per byte (state -> next state), most of them
//! missing the L1 cache: it was a fifth of a working-tree scan. This index
//! instead tests each position's first four bytes (lowercased) against a
//! bitset of the keywords' four-byte prefixes (8 KiB, hashed) — independent
//! loads that pipeline — and only at the ~2% of positions that pass, looks the
//! exact prefix up and compares the keywords that begin with it. Keywords of
//! two or three bytes (a few dozen) go through a second bitset over the first
//! three bytes. The hits are exactly the Aho-Corasick overlapping matches
//! (a test compares them), in order of their start rather than their end.

use std::cell::RefCell;

/// One keyword occurrence: the keyword's index and its byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeywordHit {
    pub pattern: u32,
    pub start: usize,
    pub end: usize,
}

/// Bits of the four-byte prefix hash (`filter4` has `1 << BITS4` bits,
/// 32 KiB: ~800 prefixes set one bit in 300, so few false candidates).
const BITS4: u32 = 18;
/// Bits of the three-byte prefix hash (`filter3`: 8 KiB).
const BITS3: u32 = 16;

/// The keywords, indexed by prefix.
#[derive(Debug)]
pub struct KeywordIndex {
    /// The keywords, lowercased, by pattern index.
    keywords: Vec<Box<[u8]>>,
    /// Hash of a four-byte prefix -> whether some keyword may start so.
    filter4: Box<[u64]>,
    /// Open-addressed table: four-byte prefix -> range of `ids4`.
    slots: Box<[(u32, u32, u32)]>,
    /// Pattern indices of the keywords of four bytes or more, grouped by prefix.
    ids4: Box<[u32]>,
    /// Hash of a three-byte prefix (a fourth byte zero) -> whether a keyword
    /// of two or three bytes may start so.
    filter3: Box<[u64]>,
    /// The keywords of two or three bytes: (bytes as a little-endian word,
    /// mask of their length, pattern index).
    short: Box<[(u32, u32, u32)]>,
    /// Keywords of one byte (rare: the rule set has none today).
    single: Box<[u32]>,
}

fn hash4(w: u32) -> usize {
    (w.wrapping_mul(0x9E37_79B1) >> (32 - BITS4)) as usize
}

fn hash3(w: u32) -> usize {
    (w.wrapping_mul(0x85EB_CA77) >> (32 - BITS3)) as usize
}

fn word(b: &[u8]) -> u32 {
    let mut x = [0u8; 4];
    x[..b.len().min(4)].copy_from_slice(&b[..b.len().min(4)]);
    u32::from_le_bytes(x)
}

fn set(bits: &mut [u64], h: usize) {
    bits[h >> 6] |= 1 << (h & 63);
}

fn test(bits: &[u64], h: usize) -> bool {
    bits[h >> 6] >> (h & 63) & 1 != 0
}

thread_local! {
    /// The lowercased text, padded: reused across blobs.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl KeywordIndex {
    /// The index of `keywords` (lowercased, distinct, non-empty: what
    /// `RuleSet::build` passes).
    pub fn new(keywords: &[String]) -> KeywordIndex {
        let keywords: Vec<Box<[u8]>> = keywords
            .iter()
            .map(|k| k.to_ascii_lowercase().into_bytes().into_boxed_slice())
            .collect();
        let mut filter4 = vec![0u64; 1 << BITS4 >> 6];
        let mut filter3 = vec![0u64; 1 << BITS3 >> 6];
        let mut long: Vec<(u32, u32)> = Vec::new();
        let mut short = Vec::new();
        let mut single = Vec::new();
        for (i, k) in keywords.iter().enumerate() {
            let i = i as u32;
            match k.len() {
                0 => {}
                1 => single.push(i),
                2 => {
                    // the third byte is anything, the end of the text too (0)
                    short.push((word(k), 0xFFFF, i));
                    for b in 0..=255u8 {
                        set(&mut filter3, hash3(word(&[k[0], k[1], b])));
                    }
                }
                3 => {
                    short.push((word(k), 0x00FF_FFFF, i));
                    set(&mut filter3, hash3(word(k)));
                }
                _ => {
                    let w = word(k);
                    set(&mut filter4, hash4(w));
                    long.push((w, i));
                }
            }
        }
        long.sort_unstable();
        let ids4: Vec<u32> = long.iter().map(|&(_, i)| i).collect();
        let cap = (long.len() * 2 + 1).next_power_of_two();
        let mut slots = vec![(0u32, 0u32, 0u32); cap];
        let mut at = 0;
        while at < long.len() {
            let w = long[at].0;
            let end = at + long[at..].iter().take_while(|x| x.0 == w).count();
            let mut s = hash4(w) & (cap - 1);
            while slots[s].2 != 0 {
                s = (s + 1) & (cap - 1);
            }
            slots[s] = (w, at as u32, end as u32);
            at = end;
        }
        KeywordIndex {
            keywords,
            filter4: filter4.into(),
            slots: slots.into(),
            ids4: ids4.into(),
            filter3: filter3.into(),
            short: short.into(),
            single: single.into(),
        }
    }

    /// The keywords with four-byte prefix `w`.
    fn with_prefix(&self, w: u32) -> &[u32] {
        let mask = self.slots.len() - 1;
        let mut s = hash4(w) & mask;
        loop {
            let (key, from, to) = self.slots[s];
            if to == 0 {
                return &[];
            }
            if key == w {
                return &self.ids4[from as usize..to as usize];
            }
            s = (s + 1) & mask;
        }
    }

    /// Every occurrence of every keyword in `text`, ASCII case-insensitive,
    /// overlapping, ordered by start.
    pub fn find_all(&self, text: &[u8]) -> Vec<KeywordHit> {
        SCRATCH.with(|s| {
            let mut buf = s.borrow_mut();
            buf.clear();
            buf.extend(text.iter().map(u8::to_ascii_lowercase));
            buf.extend_from_slice(&[0; 4]);
            let mut out = Vec::new();
            self.search(&buf, text.len(), &mut out);
            if buf.capacity() > 1 << 24 {
                // one huge blob does not pin its size for the thread's life
                *buf = Vec::new();
            }
            out
        })
    }

    /// `lower` is the text lowercased plus four zero bytes; `n` its length.
    fn search(&self, lower: &[u8], n: usize, out: &mut Vec<KeywordHit>) {
        let f4: &[u64; 1 << BITS4 >> 6] = self.filter4[..].try_into().expect("filter size");
        let f3: &[u64; 1 << BITS3 >> 6] = self.filter3[..].try_into().expect("filter size");
        let padded = &lower[..n + 3];
        // The hot loop: two independent bitset tests per position, nothing
        // else; the rare candidates are checked out of line.
        let mut at = 0;
        while at < n {
            let b = &padded[at..at + 4];
            let w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let (a, c) = (hash4(w), hash3(w & 0x00FF_FFFF));
            if (f4[a >> 6] >> (a & 63)) & 1 | (f3[c >> 6] >> (c & 63)) & 1 != 0 {
                self.candidate(&lower[..n], at, w, out);
            }
            at += 1;
        }
        if !self.single.is_empty() {
            for at in 0..n {
                for &id in self.single.iter() {
                    self.emit(&lower[..n], id, at, out);
                }
            }
            out.sort_by_key(|h| h.start);
        }
    }

    /// The keywords that start at `at`, whose first four bytes are `w`
    /// (zero-padded at the end of the text), given that a filter passed.
    #[inline(never)]
    fn candidate(&self, text: &[u8], at: usize, w: u32, out: &mut Vec<KeywordHit>) {
        if test(&self.filter4, hash4(w)) {
            for &id in self.with_prefix(w) {
                // the first four bytes are equal (a zero byte of padding
                // is no keyword byte: `emit` checks the length)
                self.emit(text, id, at, out);
            }
        }
        if test(&self.filter3, hash3(w & 0x00FF_FFFF)) {
            for &(kw, mask, id) in self.short.iter() {
                if w & mask == kw {
                    self.emit(text, id, at, out);
                }
            }
        }
    }

    fn emit(&self, text: &[u8], id: u32, at: usize, out: &mut Vec<KeywordHit>) {
        let k = &self.keywords[id as usize];
        if text.len() - at >= k.len() && text[at..at + k.len()] == k[..] {
            out.push(KeywordHit {
                pattern: id,
                start: at,
                end: at + k.len(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasickBuilder, MatchKind};

    fn reference(keywords: &[String], text: &[u8]) -> Vec<KeywordHit> {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(keywords)
            .unwrap();
        let mut v: Vec<KeywordHit> = ac
            .find_overlapping_iter(text)
            .map(|m| KeywordHit {
                pattern: m.pattern().as_u32(),
                start: m.start(),
                end: m.end(),
            })
            .collect();
        v.sort_unstable_by_key(|h| (h.start, h.end, h.pattern));
        v
    }

    fn check(keywords: &[&str], text: &[u8]) {
        let keywords: Vec<String> = keywords.iter().map(|s| s.to_string()).collect();
        let mut got = KeywordIndex::new(&keywords).find_all(text);
        got.sort_unstable_by_key(|h| (h.start, h.end, h.pattern));
        assert_eq!(
            got,
            reference(&keywords, text),
            "{:?}",
            String::from_utf8_lossy(text)
        );
    }

    #[test]
    fn hits_are_the_aho_corasick_overlapping_matches() {
        let kws = [
            "q~", "pwd", "password", "pass", "passw", "x", "://", "sk_", "sk_live_",
        ];
        check(&kws, b"");
        check(&kws, b"q");
        check(&kws, b"q~");
        check(&kws, b"Q~pwd");
        check(&kws, b"PassWord: x; PASSWORD=sk_LIVE_abc http://a q~"); // gitops-guard:allow
        check(&kws, b"passpasswordpwdpwpasswsk_sk_livesk_live_");
        check(&kws, "é pässwörd \u{0130}pwd\n\0pwd\0".as_bytes());
    }

    #[test]
    fn hits_match_aho_corasick_on_the_builtin_keywords() {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let kws: Vec<String> = rules.keywords().to_vec();
        // every rule example, and pseudo-random bytes biased to keyword bytes
        let mut text: Vec<u8> = Vec::new();
        for r in &rules.rules {
            for e in &r.spec.examples {
                text.extend_from_slice(e.as_bytes());
                text.push(b'\n');
            }
        }
        let alphabet: Vec<u8> = kws.iter().flat_map(|k| k.bytes()).collect();
        let mut x: u64 = 0x1234_5678;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = alphabet[(x % alphabet.len() as u64) as usize];
            text.push(if x & 0x100 != 0 {
                b.to_ascii_uppercase()
            } else {
                b
            });
        }
        for k in kws.iter().take(400) {
            text.extend_from_slice(k.to_ascii_uppercase().as_bytes());
        }
        let mut got = KeywordIndex::new(&kws).find_all(&text);
        got.sort_unstable_by_key(|h| (h.start, h.end, h.pattern));
        let want = reference(&kws, &text);
        assert!(want.len() > 1000, "{} hits", want.len());
        assert_eq!(got, want);
        // and at the very end of a text
        for k in kws.iter().take(200) {
            let t = format!("zz{}", k.to_ascii_uppercase());
            let mut got = KeywordIndex::new(&kws).find_all(t.as_bytes());
            got.sort_unstable_by_key(|h| (h.start, h.end, h.pattern));
            assert_eq!(got, reference(&kws, t.as_bytes()), "{t}");
        }
    }
}
