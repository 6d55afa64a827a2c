//! Exact integer apportionment of fen amounts.

use casemix_model::Fen;

/// Splits `total` fen into parts proportional to integer `weights`, exactly: each part is
/// ⌊total·wᵢ/W⌋ and the remaining fen go one each to the parts with the largest remainders
/// (ties: lower index first). Σ parts = total. Zero weights get zero. All weights zero → all to
/// the first part.
pub fn apportion<const N: usize>(total: Fen, weights: &[u64; N]) -> [Fen; N] {
    let mut out = [Fen::ZERO; N];
    let w: u128 = weights.iter().map(|&x| x as u128).sum();
    if N == 0 {
        return out;
    }
    if w == 0 || total.0 <= 0 {
        out[0] = total;
        return out;
    }
    let t = total.0 as u128;
    let mut rem = [0u128; N];
    let mut given: u128 = 0;
    // u64 arithmetic when the products fit (the usual case), u128 otherwise: same results
    let small = w <= u64::MAX as u128 && weights.iter().all(|&x| (total.0 as u64).checked_mul(x).is_some());
    for i in 0..N {
        let (q, rm) = if small {
            let p = total.0 as u64 * weights[i];
            ((p / w as u64) as u128, (p % w as u64) as u128)
        } else {
            let p = t * weights[i] as u128;
            (p / w, p % w)
        };
        out[i] = Fen(q as i64);
        rem[i] = rm;
        given += q;
    }
    let mut left = (t - given) as usize; // < number of non-zero weights
    // one fen each to the largest remainders (ties: lower index), without allocating
    let mut used = [false; N];
    while left > 0 {
        let mut best: Option<usize> = None;
        for i in 0..N {
            if weights[i] == 0 || used[i] {
                continue;
            }
            if best.is_none_or(|b| rem[i] > rem[b]) {
                best = Some(i);
            }
        }
        let Some(b) = best else { break };
        used[b] = true;
        out[b].0 += 1;
        left -= 1;
    }
    out
}

/// [`apportion`] over any number of parts (same rule: ⌊total·wᵢ/W⌋, then one fen each to the
/// largest remainders, ties to the lower index). Σ parts = total. All weights zero (or an empty
/// list of one part) → everything to the first part; an empty list gets nothing.
pub fn apportion_vec(total: Fen, weights: &[u64]) -> Vec<Fen> {
    let n = weights.len();
    let mut out = vec![Fen::ZERO; n];
    if n == 0 {
        return out;
    }
    let w: u128 = weights.iter().map(|&x| x as u128).sum();
    if w == 0 || total.0 <= 0 {
        out[0] = total;
        return out;
    }
    let t = total.0 as u128;
    let mut rem: Vec<(u128, usize)> = Vec::with_capacity(n);
    let mut given: u128 = 0;
    for (i, &wi) in weights.iter().enumerate() {
        let p = t * wi as u128;
        out[i] = Fen((p / w) as i64);
        given += p / w;
        if wi > 0 {
            rem.push((p % w, i));
        }
    }
    // largest remainder first, ties to the lower index
    rem.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in rem.iter().take((t - given) as usize) {
        out[i].0 += 1;
    }
    out
}

/// ⌊amount · num / den⌋ in fen (rounding down, stated).
pub fn share(amount: Fen, num: u64, den: u64) -> Fen {
    if den == 0 || amount.0 <= 0 {
        return Fen::ZERO;
    }
    Fen(((amount.0 as u128 * num as u128) / den as u128) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn apportion_is_exact() {
        // 100 fen by 1:1:1 → 33,33,33 + 1 to the first largest remainder (all equal → index 0)
        assert_eq!(apportion(Fen(100), &[1, 1, 1]), [Fen(34), Fen(33), Fen(33)]);
        // 1001 by 1:0:3 → ⌊250.25⌋=250, 0, ⌊750.75⌋=750, one fen left → largest remainder is index 2
        assert_eq!(apportion(Fen(1001), &[1, 0, 3]), [Fen(250), Fen(0), Fen(751)]);
        assert_eq!(apportion(Fen(5), &[0, 0]), [Fen(5), Fen(0)]);
    }
    #[test]
    fn apportion_vec_matches_apportion() {
        // same cases as above, by hand
        assert_eq!(apportion_vec(Fen(100), &[1, 1, 1]), vec![Fen(34), Fen(33), Fen(33)]);
        assert_eq!(apportion_vec(Fen(1001), &[1, 0, 3]), vec![Fen(250), Fen(0), Fen(751)]);
        // 10 by 1:1:1:1 → 2 each + 2 fen to the lowest indices: 3,3,2,2
        assert_eq!(apportion_vec(Fen(10), &[1, 1, 1, 1]), vec![Fen(3), Fen(3), Fen(2), Fen(2)]);
        assert_eq!(apportion_vec(Fen(5), &[0, 0]), vec![Fen(5), Fen(0)]);
        assert!(apportion_vec(Fen(5), &[]).is_empty());
    }
    #[test]
    fn share_rounds_down() {
        // 999 × 7/10 = 699.3 → 699
        assert_eq!(share(Fen(999), 7, 10), Fen(699));
    }
}
