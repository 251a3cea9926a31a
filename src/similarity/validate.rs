//! Checks on a read matrix: square, n ≥ 4, finite, symmetric (slight asymmetry is averaged away),
//! names unique, diagonal consistent with the stated direction; then conversion to similarity.

use std::collections::HashMap;

use super::error::SimilarityError;
use super::{Direction, HumanMatrix, RawMatrix};

/// Relative asymmetry below which a matrix counts as symmetric.
const SYMMETRIC: f64 = 1e-9;
/// Relative asymmetry up to which a matrix is symmetrised with a warning (above: error).
const SLIGHTLY: f64 = 1e-2;

/// Validates `raw` (read from `file`, names from `names_file`) and returns it in similarity
/// orientation.
pub(crate) fn validate(
    file: &str,
    names_file: &str,
    raw: RawMatrix,
    direction: Direction,
) -> Result<HumanMatrix, SimilarityError> {
    let RawMatrix { rows, cols, mut values, names, mut warnings } = raw;
    if rows != cols {
        return Err(SimilarityError::NotSquare { file: file.to_string(), rows, cols });
    }
    let n = rows;
    if n < 4 {
        return Err(SimilarityError::TooSmall { file: file.to_string(), n });
    }
    if values.len() != n * n {
        return Err(SimilarityError::format(
            file,
            format!("holds {} values; expected {n}×{n} = {}", values.len(), n * n),
        ));
    }
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        return Err(SimilarityError::NonFinite {
            file: file.to_string(),
            row: k / n + 1,
            col: k % n + 1,
            value: match values[k] {
                v if v.is_nan() => "NaN".to_string(),
                v => format!("infinite ({v})"),
            },
        });
    }

    let names = match names {
        Some(list) => Some(check_names(names_file, file, list, n)?),
        None => None,
    };

    // symmetry
    let scale = values.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let scale = if scale == 0.0 { 1.0 } else { scale };
    let (mut worst, mut at) = (0.0f64, (0, 0));
    for i in 0..n {
        for j in i + 1..n {
            let d = (values[i * n + j] - values[j * n + i]).abs();
            if d > worst {
                worst = d;
                at = (i, j);
            }
        }
    }
    if worst > SYMMETRIC * scale {
        let (i, j) = at;
        if worst > SLIGHTLY * scale {
            return Err(SimilarityError::Asymmetric {
                file: file.to_string(),
                row: i + 1,
                col: j + 1,
                a: values[i * n + j],
                b: values[j * n + i],
                diff: worst,
                scale,
            });
        }
        warnings.push(format!(
            "{file}: the matrix is slightly asymmetric (largest |M[i,j] − M[j,i]| = {worst:.3e}, at row {}, column {}, counting from 1; at most 1% of the largest |value| {scale:.3e}); used (M + Mᵀ)/2",
            i + 1,
            j + 1
        ));
        for i in 0..n {
            for j in i + 1..n {
                let m = 0.5 * (values[i * n + j] + values[j * n + i]);
                values[i * n + j] = m;
                values[j * n + i] = m;
            }
        }
    }

    if let Some(w) = direction_warning(file, &values, n, direction) {
        warnings.push(w);
    }
    if off_diagonal_constant(&values, n) {
        warnings.push(format!("{file}: all off-diagonal entries are equal, so no correlation with this matrix is defined"));
    }

    if direction == Direction::Dissimilarity {
        for v in &mut values {
            *v = -*v;
        }
    }
    Ok(HumanMatrix { n, values, names, warnings })
}

/// Cleans names (directories removed), checks their count, emptiness and uniqueness.
fn check_names(
    names_file: &str,
    matrix_file: &str,
    list: Vec<String>,
    n: usize,
) -> Result<Vec<String>, SimilarityError> {
    if list.len() != n {
        return Err(SimilarityError::NamesLength {
            file: names_file.to_string(),
            matrix: matrix_file.to_string(),
            expected: n,
            found: list.len(),
        });
    }
    let cleaned: Vec<String> = list.iter().map(|s| super::names::clean_name(s)).collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, name) in cleaned.iter().enumerate() {
        if name.is_empty() {
            return Err(SimilarityError::format(
                names_file,
                format!(
                    "name {} (counting from 1) is empty ('{}'); expected a file name for every row",
                    i + 1,
                    list[i]
                ),
            ));
        }
        if let Some(&first) = seen.get(name.as_str()) {
            return Err(SimilarityError::DuplicateName {
                file: names_file.to_string(),
                name: name.clone(),
                first: first + 1,
                second: i + 1,
            });
        }
        seen.insert(name, i);
    }
    Ok(cleaned)
}

/// A warning when the diagonal sits where the *other* direction puts it: at the row minimum for a
/// similarity (like an RDM's zero diagonal), or at the row maximum for a dissimilarity.
fn direction_warning(file: &str, m: &[f64], n: usize, direction: Direction) -> Option<String> {
    let (mut at_max, mut at_min) = (0usize, 0usize);
    for i in 0..n {
        let d = m[i * n + i];
        let off = (0..n).filter(|&j| j != i).map(|j| m[i * n + j]);
        let (lo, hi) =
            off.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if lo == hi {
            continue; // a constant row says nothing
        }
        if d >= hi {
            at_max += 1;
        }
        if d <= lo {
            at_min += 1;
        }
    }
    let half = n / 2;
    match direction {
        Direction::Similarity if at_min > half && at_max <= half => Some(format!(
            "{file}: read as a similarity, but the diagonal is the smallest value in {at_min} of {n} rows, as in a dissimilarity (RDM) matrix; if it is a dissimilarity, pass --dissimilarity (the diagonal itself is never used)"
        )),
        Direction::Dissimilarity if at_max > half && at_min <= half => Some(format!(
            "{file}: read as a dissimilarity, but the diagonal is the largest value in {at_max} of {n} rows, as in a similarity matrix; if it is a similarity, drop --dissimilarity (the diagonal itself is never used)"
        )),
        _ => None,
    }
}

fn off_diagonal_constant(m: &[f64], n: usize) -> bool {
    let first = m[1];
    (0..n).all(|i| (0..n).all(|j| i == j || m[i * n + j] == first))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(n: usize, values: Vec<f64>) -> RawMatrix {
        RawMatrix { rows: n, cols: n, values, names: None, warnings: Vec::new() }
    }

    /// A 4×4 similarity matrix with diagonal 1.
    fn sim4() -> Vec<f64> {
        vec![1.0, 0.2, 0.3, 0.4, 0.2, 1.0, 0.5, 0.6, 0.3, 0.5, 1.0, 0.7, 0.4, 0.6, 0.7, 1.0]
    }

    #[test]
    fn clean_similarity_passes_unchanged() {
        let h = validate("m", "m", raw(4, sim4()), Direction::Similarity).unwrap();
        assert_eq!(h.values, sim4());
        assert!(h.warnings.is_empty(), "{:?}", h.warnings);
    }

    #[test]
    fn dissimilarity_is_negated_and_checked() {
        let d: Vec<f64> = sim4().iter().map(|v| 1.0 - v).collect();
        let h = validate("m", "m", raw(4, d.clone()), Direction::Dissimilarity).unwrap();
        assert!(h.warnings.is_empty(), "{:?}", h.warnings);
        assert_eq!(h.values, d.iter().map(|v| -v).collect::<Vec<_>>());
        // the same RDM read as a similarity warns
        let h = validate("m", "m", raw(4, d), Direction::Similarity).unwrap();
        assert!(h.warnings.iter().any(|w| w.contains("--dissimilarity")), "{:?}", h.warnings);
        // a similarity read as a dissimilarity warns the other way
        let h = validate("m", "m", raw(4, sim4()), Direction::Dissimilarity).unwrap();
        assert!(h.warnings.iter().any(|w| w.contains("drop --dissimilarity")), "{:?}", h.warnings);
    }

    #[test]
    fn slight_asymmetry_is_averaged() {
        let mut v = sim4();
        v[1] += 0.004; // M[0,1] = 0.204, M[1,0] = 0.2
        let h = validate("m.csv", "m.csv", raw(4, v), Direction::Similarity).unwrap();
        assert!((h.values[1] - 0.202).abs() < 1e-12 && (h.values[4] - 0.202).abs() < 1e-12);
        assert_eq!(h.warnings.len(), 1);
        assert!(
            h.warnings[0].contains("row 1, column 2") && h.warnings[0].contains("4.000e-3"),
            "{}",
            h.warnings[0]
        );
        // tiny float noise is silently accepted
        let mut v = sim4();
        v[1] += 1e-12;
        assert!(validate("m", "m", raw(4, v), Direction::Similarity).unwrap().warnings.is_empty());
    }

    #[test]
    fn errors() {
        let mut v = sim4();
        v[11] = 0.2; // M[2,3] = 0.2 vs M[3,2] = 0.7
        let e = validate("m.csv", "m.csv", raw(4, v), Direction::Similarity).unwrap_err();
        assert!(matches!(e, SimilarityError::Asymmetric { row: 3, col: 4, .. }), "{e}");
        let mut v = sim4();
        v[6] = f64::NAN;
        let e = validate("m.csv", "m.csv", raw(4, v), Direction::Similarity).unwrap_err();
        assert!(e.to_string().contains("row 2, column 3 (counting from 1) is NaN"), "{e}");
        for (x, shown) in
            [(f64::INFINITY, "infinite (inf)"), (f64::NEG_INFINITY, "infinite (-inf)")]
        {
            let mut v = sim4();
            v[7] = x;
            let e = validate("m.csv", "m.csv", raw(4, v), Direction::Similarity).unwrap_err();
            let want =
                format!("m.csv: row 2, column 4 (counting from 1) is {shown}; expected a finite");
            assert!(e.to_string().starts_with(&want), "{e}");
        }
        let e =
            validate("m.csv", "m.csv", raw(3, vec![1.0; 9]), Direction::Similarity).unwrap_err();
        assert!(e.to_string().contains("at least 4 images"), "{e}");
        let e = validate(
            "m.csv",
            "m.csv",
            RawMatrix { rows: 4, cols: 5, values: vec![0.0; 20], names: None, warnings: vec![] },
            Direction::Similarity,
        )
        .unwrap_err();
        assert!(matches!(e, SimilarityError::NotSquare { rows: 4, cols: 5, .. }));
        let mut r = raw(4, sim4());
        r.names = Some(vec!["a".into(), "x/b".into(), "c".into(), "y/b".into()]);
        let e = validate("m.csv", "n.txt", r, Direction::Similarity).unwrap_err();
        assert!(
            e.to_string().starts_with("n.txt: the name 'b' appears twice, at rows 2 and 4"),
            "{e}"
        );
        let mut r = raw(4, sim4());
        r.names = Some(vec!["a".into()]);
        let e = validate("m.csv", "n.txt", r, Direction::Similarity).unwrap_err();
        assert!(matches!(e, SimilarityError::NamesLength { expected: 4, found: 1, .. }), "{e}");
    }
}
