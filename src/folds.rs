//! The authors' cross-validation folds over images, bit for bit:
//! `np.random.seed(s); idx = np.arange(n); np.random.shuffle(idx); idx.reshape(k, -1)`.
//!
//! NumPy's legacy `RandomState` is MT19937 seeded by `init_genrand(s)` (the `rand_mt` crate's
//! `Mt::new`), and its `shuffle` is a Fisher–Yates pass from the last element down in which
//! position i swaps with j drawn uniformly from 0..=i by masked rejection sampling on 32-bit
//! outputs (`random_interval`).

use rand_mt::Mt;

use crate::error::{Error, Result};

/// The seeds of the authors' eight repetitions of 5-fold cross-validation.
pub const PAPER_SEEDS: [u32; 8] = [111, 222, 333, 444, 555, 666, 777, 888];

/// The k test folds of n images for one seed: fold i holds the image indices of test fold i, in
/// NumPy's order; the training set of fold i is every other image.
///
/// When k does not divide n (e.g. Kriegeskorte's 92 images in 5 folds) NumPy's reshape would fail;
/// the shuffled indices are then cut as `np.array_split(idx, k)` does: the first n % k folds get
/// one image more. Errors for k < 2, k > n, or n above 2^32.
pub fn folds(n: usize, k: usize, seed: u32) -> Result<Vec<Vec<usize>>> {
    if k < 2 || k > n {
        return Err(Error::Invalid(format!(
            "cross-validation: cannot split {n} images into {k} folds (need 2 ≤ folds ≤ images)"
        )));
    }
    if u32::try_from(n - 1).is_err() {
        return Err(Error::Invalid(format!(
            "cross-validation: {n} images are more than NumPy's 32-bit shuffle handles"
        )));
    }
    let mut idx: Vec<usize> = (0..n).collect();
    let mut mt = Mt::new(seed);
    for i in (1..n).rev() {
        // i < n ≤ 2^32, checked above.
        let j = random_interval(&mut mt, i as u32);
        idx.swap(i, j as usize);
    }
    let (size, extra) = (n / k, n % k);
    let mut rest = idx.as_slice();
    Ok((0..k)
        .map(|f| {
            let (fold, tail) = rest.split_at(size + usize::from(f < extra));
            rest = tail;
            fold.to_vec()
        })
        .collect())
}

/// A uniform integer in 0..=max: 32-bit draws masked to the smallest covering power of two, redrawn
/// until within range (NumPy's `random_interval` for max < 2^32).
fn random_interval(mt: &mut Mt, max: u32) -> u32 {
    if max == 0 {
        return 0;
    }
    let mask = u32::MAX >> max.leading_zeros();
    loop {
        let value = mt.next_u32() & mask;
        if value <= max {
            return value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mt19937_matches_the_reference_stream() {
        // Matsumoto & Nishimura's init_genrand(5489): first outputs 3499211612, 581869302.
        let mut mt = Mt::new(5489);
        assert_eq!((mt.next_u32(), mt.next_u32()), (3_499_211_612, 581_869_302));
    }

    #[test]
    fn folds_partition_the_images() {
        for (n, k) in [(120, 5), (92, 5), (10, 3), (7, 7)] {
            let f = folds(n, k, 111).unwrap();
            assert_eq!(f.len(), k);
            let mut all: Vec<usize> = f.iter().flatten().copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..n).collect::<Vec<_>>());
            let sizes: Vec<usize> = f.iter().map(Vec::len).collect();
            assert!(sizes.windows(2).all(|w| w[0] >= w[1] && w[0] - w[1] <= 1), "{sizes:?}");
        }
        assert_eq!(
            folds(92, 5, 1).unwrap().iter().map(Vec::len).collect::<Vec<_>>(),
            [19, 19, 18, 18, 18]
        );
    }

    #[test]
    fn bad_fold_counts_are_errors() {
        assert!(folds(10, 1, 0).is_err());
        assert!(folds(3, 4, 0).is_err());
        assert!(folds(0, 2, 0).is_err());
    }
}
