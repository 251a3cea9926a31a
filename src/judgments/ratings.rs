//! Pairwise ratings: the schedule (each pair once in random order, a few pairs shown again to
//! measure consistency), the similarity matrix of the ratings and their consistency.

use serde::Serialize;

use super::{RATING_MAX, pair_index, pairs};
use crate::folds;

/// One showing: images `a` (left) and `b` (right), cohort indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Showing {
    pub a: usize,
    pub b: usize,
    pub repeat: bool,
}

/// How many pairs are shown twice: 5 % of the pairs, at least 3 and at most 10 (never more than
/// there are pairs).
pub fn repeats_for(n: usize) -> usize {
    let m = pairs(n);
    ((m as f64 * 0.05).round() as usize).clamp(3, 10).min(m)
}

/// NumPy's `RandomState(seed).permutation(len)` (the crate's fold shuffle with one item a fold).
fn permutation(len: usize, seed: u32) -> Vec<usize> {
    if len < 2 {
        return (0..len).collect();
    }
    folds::folds(len, len, seed).map(|f| f.into_iter().flatten().collect()).unwrap_or_default()
}

/// The order of the pairs of `n` images for one participant: every pair once, in the order of
/// NumPy's `RandomState(seed).permutation(pairs)`, each pair's sides swapped when the same
/// permutation with seed `seed + 1` has an odd value at that position; then [`repeats_for`]
/// pairs, the first ones shown, again with their sides swapped, spread evenly over the second
/// half of the schedule (so at least half the schedule lies between the two showings).
pub fn schedule(n: usize, seed: u32) -> Vec<Showing> {
    let m = pairs(n);
    let mut all = Vec::with_capacity(m);
    for i in 0..n {
        for j in (i + 1)..n {
            all.push((i, j));
        }
    }
    let order = permutation(m, seed);
    let sides = permutation(m, seed.wrapping_add(1));
    let mut shown: Vec<Showing> = order
        .iter()
        .zip(&sides)
        .map(|(&p, &s)| {
            let (i, j) = all[p];
            if s % 2 == 1 {
                Showing { a: j, b: i, repeat: false }
            } else {
                Showing { a: i, b: j, repeat: false }
            }
        })
        .collect();
    let k = repeats_for(n);
    let again: Vec<Showing> =
        shown.iter().take(k).map(|s| Showing { a: s.b, b: s.a, repeat: true }).collect();
    // Insert from the back so earlier insertion points stay where they were computed.
    let half = m / 2;
    for (r, s) in again.into_iter().enumerate().rev() {
        let at = half + (r + 1) * (m - half) / (k + 1);
        shown.insert(at.min(shown.len()), s);
    }
    shown
}

/// Consistency of the repeated pairs: first against second rating.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Consistency {
    /// Pairs rated twice.
    pub repeated: usize,
    /// Mean |first − second| on the 1–7 scale.
    pub mean_abs_difference: f64,
    /// Share of repeated pairs rated the same, and within one step.
    pub identical: f64,
    pub within_one: f64,
    /// Pearson correlation of first and second ratings (None with fewer than 3 pairs or a
    /// constant side).
    pub r: Option<f64>,
}

/// The ratings of one participant over `n` images: the upper-triangle similarities (the mean of
/// every rating the pair got, NaN for pairs not rated yet) and the consistency of the repeats.
/// Input: (i, j, rating, repeat) in the order given.
pub fn similarities(
    n: usize,
    ratings: &[(usize, usize, u8, bool)],
) -> (Vec<f64>, Option<Consistency>) {
    let m = pairs(n);
    let (mut sum, mut count) = (vec![0.0; m], vec![0usize; m]);
    let mut first: Vec<Option<f64>> = vec![None; m];
    let mut pairs_twice: Vec<(f64, f64)> = Vec::new();
    for &(i, j, rating, repeat) in ratings {
        let p = pair_index(n, i, j);
        let x = f64::from(rating);
        if repeat {
            if let Some(f) = first[p] {
                pairs_twice.push((f, x));
            }
        } else if first[p].is_none() {
            first[p] = Some(x);
        }
        sum[p] += x;
        count[p] += 1;
    }
    let upper = sum
        .iter()
        .zip(&count)
        .map(|(s, &c)| if c == 0 { f64::NAN } else { s / c as f64 })
        .collect();
    let consistency = (!pairs_twice.is_empty()).then(|| {
        let k = pairs_twice.len() as f64;
        let diffs: Vec<f64> = pairs_twice.iter().map(|(a, b)| (a - b).abs()).collect();
        let (a, b): (Vec<f64>, Vec<f64>) = pairs_twice.iter().copied().unzip();
        let r = crate::scores::pearson(&a, &b);
        Consistency {
            repeated: pairs_twice.len(),
            mean_abs_difference: diffs.iter().sum::<f64>() / k,
            identical: diffs.iter().filter(|&&d| d == 0.0).count() as f64 / k,
            within_one: diffs.iter().filter(|&&d| d <= 1.0).count() as f64 / k,
            r: (pairs_twice.len() >= 3 && r.is_finite()).then_some(r),
        }
    });
    (upper, consistency)
}

/// A rating (1 … 7 similarity) as a dissimilarity in [0, 1]: `(7 − r) / 6`.
pub fn as_dissimilarity(similarity: f64) -> f64 {
    (f64::from(RATING_MAX) - similarity) / 6.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_once_plus_the_repeats_far_from_their_first_showing() {
        for n in [4, 12, 24] {
            let s = schedule(n, 7);
            let m = pairs(n);
            let k = repeats_for(n);
            assert_eq!(s.len(), m + k);
            let mut seen = vec![0; m];
            for x in s.iter().filter(|x| !x.repeat) {
                assert_ne!(x.a, x.b);
                seen[pair_index(n, x.a, x.b)] += 1;
            }
            assert!(seen.iter().all(|&c| c == 1), "n = {n}");
            for (at, x) in s.iter().enumerate().filter(|(_, x)| x.repeat) {
                let first = s
                    .iter()
                    .position(|y| !y.repeat && pair_index(n, y.a, y.b) == pair_index(n, x.a, x.b))
                    .unwrap();
                assert!(
                    at > first && at - first >= m / 4,
                    "n = {n}: repeat at {at}, first at {first}"
                );
                assert_eq!((x.a, x.b), (s[first].b, s[first].a));
            }
            assert_eq!(schedule(n, 7), s, "deterministic");
            assert_ne!(schedule(n, 8), s, "the seed matters");
        }
        assert_eq!(repeats_for(12), 3);
        assert_eq!(repeats_for(60), 10);
    }

    #[test]
    fn ratings_average_per_pair_and_repeats_measure_consistency() {
        let ratings = [
            (0, 1, 7, false),
            (0, 2, 1, false),
            (1, 2, 4, false),
            (1, 0, 5, true),
            (2, 0, 1, true),
        ];
        let (upper, c) = similarities(3, &ratings);
        assert_eq!(upper, vec![6.0, 1.0, 4.0]);
        let c = c.unwrap();
        assert_eq!(c.repeated, 2);
        assert_eq!(c.mean_abs_difference, 1.0);
        assert_eq!(c.identical, 0.5);
        assert_eq!(c.within_one, 0.5);
        assert_eq!(c.r, None, "two pairs are too few for a correlation");
        let (upper, c) = similarities(3, &[(0, 1, 3, false)]);
        assert!(upper[1].is_nan() && c.is_none());
        assert_eq!(as_dissimilarity(7.0), 0.0);
        assert_eq!(as_dissimilarity(1.0), 1.0);
    }
}
