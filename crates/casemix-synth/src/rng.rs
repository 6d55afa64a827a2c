//! Seeded randomness: independent ChaCha8 sub-streams per (year, month, hospital, …), normal and
//! log-normal draws (Box–Muller, so the stream is fixed by this crate, not by a distribution
//! crate's version), weighted choice, and a fixed (seed-independent) hash for "nature" constants
//! such as a DRG's relative cost.

use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub type Rng = ChaCha8Rng;

/// SplitMix64 finaliser: a well-mixed 64-bit hash step.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a seed and a path of tags.
pub fn hash(seed: u64, tags: &[u64]) -> u64 {
    let mut h = mix(seed);
    for t in tags {
        h = mix(h ^ mix(*t));
    }
    h
}

/// FNV-1a of a string, for stable per-code constants.
pub fn str_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

/// An independent stream for `tags` under `seed`.
pub fn substream(seed: u64, tags: &[u64]) -> Rng {
    ChaCha8Rng::seed_from_u64(hash(seed, tags))
}

/// Uniform in [0, 1).
#[inline]
pub fn unit(r: &mut Rng) -> f64 {
    r.gen::<f64>()
}

/// Bernoulli.
#[inline]
pub fn chance(r: &mut Rng, p: f64) -> bool {
    p > 0.0 && unit(r) < p
}

/// Uniform integer in [lo, hi] (inclusive).
#[inline]
pub fn range(r: &mut Rng, lo: i64, hi: i64) -> i64 {
    if hi <= lo {
        lo
    } else {
        r.gen_range(lo..=hi)
    }
}

/// Uniform index in [0, n).
#[inline]
pub fn index(r: &mut Rng, n: usize) -> usize {
    r.gen_range(0..n)
}

/// Standard normal (Box–Muller, one value per call).
pub fn normal(r: &mut Rng) -> f64 {
    let u1 = 1.0 - unit(r); // (0, 1]
    let u2 = unit(r);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Standard normal from a fixed hash (no stream): for seed-independent constants.
pub fn normal_from_hash(h: u64) -> f64 {
    let u1 = 1.0 - ((h >> 11) as f64 / (1u64 << 53) as f64);
    let u2 = (mix(h) >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Cumulative weights for repeated weighted choice.
#[derive(Debug, Clone, Default)]
pub struct Weighted {
    cum: Vec<f64>,
}

impl Weighted {
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut s = 0.0;
        let cum = weights
            .into_iter()
            .map(|w| {
                s += w.max(0.0);
                s
            })
            .collect();
        Weighted { cum }
    }
    pub fn total(&self) -> f64 {
        self.cum.last().copied().unwrap_or(0.0)
    }
    pub fn is_empty(&self) -> bool {
        self.total() <= 0.0
    }
    pub fn pick(&self, r: &mut Rng) -> usize {
        let x = unit(r) * self.total();
        self.cum.partition_point(|c| *c <= x).min(self.cum.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn substreams_are_stable_and_distinct() {
        let a: Vec<u32> = (0..4).map(|_| 0).scan(substream(7, &[1, 2]), |r, _| Some(r.gen())).collect();
        let b: Vec<u32> = (0..4).map(|_| 0).scan(substream(7, &[1, 2]), |r, _| Some(r.gen())).collect();
        let c: Vec<u32> = (0..4).map(|_| 0).scan(substream(7, &[2, 1]), |r, _| Some(r.gen())).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
    #[test]
    fn normal_has_unit_moments() {
        let mut r = substream(1, &[]);
        let n = 20_000;
        let xs: Vec<f64> = (0..n).map(|_| normal(&mut r)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
        assert!(m.abs() < 0.03, "{m}");
        assert!((v - 1.0).abs() < 0.05, "{v}");
    }
    #[test]
    fn weighted_pick_respects_zero_weights() {
        let w = Weighted::new([0.0, 1.0, 0.0, 3.0]);
        let mut r = substream(3, &[]);
        let mut n = [0usize; 4];
        for _ in 0..4000 {
            n[w.pick(&mut r)] += 1;
        }
        assert_eq!(n[0] + n[2], 0);
        assert!(n[3] > 2 * n[1]);
    }
}
