//! Pairing matrix rows with image files, and reordering the matrix into image order.

use std::collections::HashMap;

use super::error::SimilarityError;
use super::names::clean_name;
use super::{HumanMatrix, Matched};
use crate::file_names::stem;

/// How many names an error lists per side.
const LIST: usize = 10;

/// Matches the rows of `matrix` to `image_names` and returns the similarity in image order.
///
/// With names: each name is matched to an image by exact file name, else by stem (file name
/// without extension, case-sensitive); every name and every image must find a partner. Without
/// names: row i is image i (the images are expected sorted), and the counts must agree.
pub fn match_to_images(
    matrix: &HumanMatrix,
    image_names: &[String],
) -> Result<Matched, SimilarityError> {
    let pairing = pair_images(matrix, image_names)?;
    let n = matrix.n;
    let images: Vec<String> = image_names.iter().map(|s| clean_name(s)).collect();
    let Some(names) = &matrix.names else {
        if images.len() != n {
            return Err(SimilarityError::Mismatch {
                message: format!(
                    "the human matrix has no row names and {n} rows, but there are {} images; expected as many images as rows (or give a names file to match them by name)",
                    images.len()
                ),
            });
        }
        return Ok(Matched {
            similarity: matrix.values.clone(),
            rows: (0..n).collect(),
            report: vec![format!(
                "the human matrix has no row names: matched its {n} rows to the {n} images in the order given (sorted file names)"
            )],
        });
    };
    let mut row_taken = vec![false; n];
    pairing.rows.iter().flatten().for_each(|&r| row_taken[r] = true);
    let rows_without: Vec<&str> =
        (0..n).filter(|&r| !row_taken[r]).map(|r| names[r].as_str()).collect();
    let images_without: Vec<&str> = (0..images.len())
        .filter(|&i| pairing.rows[i].is_none())
        .map(|i| images[i].as_str())
        .collect();
    if !rows_without.is_empty() || !images_without.is_empty() {
        return Err(SimilarityError::Mismatch {
            message: format!(
                "could not match the human matrix to the images: {} of {n} matrix names have no image{}; {} of {} images have no matrix row{}",
                rows_without.len(),
                listing(&rows_without),
                images_without.len(),
                images.len(),
                listing(&images_without)
            ),
        });
    }

    // every row matched and the counts are equal: the pairing is a permutation
    let image_row: Vec<usize> = pairing.rows.iter().map(|r| r.expect("checked above")).collect();
    let mut similarity = Vec::with_capacity(n * n);
    for a in 0..n {
        let ra = image_row[a];
        similarity.extend(image_row.iter().map(|&rb| matrix.values[ra * n + rb]));
    }

    let by_stem_count = n - pairing.exact;
    let mut report = vec![if by_stem_count == 0 {
        format!("matched {n} rows to images by name")
    } else {
        format!(
            "matched {n} rows to images by name: {} by exact file name, {by_stem_count} by file name without extension (e.g. {})",
            pairing.exact,
            pairing.stem_examples.join(", ")
        )
    }];
    let moved = (0..n).filter(|&a| image_row[a] != a).count();
    if moved > 0 {
        report.push(format!("reordered the matrix into image order ({moved} of {n} rows moved)"));
    }
    Ok(Matched { similarity, rows: image_row, report })
}

/// How images pair with matrix rows, before anything is required to be complete: what
/// [`match_to_images`] uses, and what the page's matching table shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Pairing {
    /// Per image, the matrix row it pairs with (counting from 0), `None` when no row does.
    pub rows: Vec<Option<usize>>,
    /// Rows paired by exact file name (the rest by file stem).
    exact: usize,
    stem_examples: Vec<String>,
}

/// Pairs images with matrix rows: by exact file name, else by stem; without row names, row i is
/// image i. Errors on what no pairing can resolve: duplicate names, a row matching several
/// images by stem, a matrix whose size is wrong.
pub fn pair_images(
    matrix: &HumanMatrix,
    image_names: &[String],
) -> Result<Pairing, SimilarityError> {
    let n = matrix.n;
    if n.checked_mul(n) != Some(matrix.values.len()) {
        return Err(SimilarityError::Mismatch {
            message: format!(
                "the human matrix holds {} values; expected {n}×{n}",
                matrix.values.len()
            ),
        });
    }
    let images: Vec<String> = image_names.iter().map(|s| clean_name(s)).collect();
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    for (i, name) in images.iter().enumerate() {
        if let Some(&j) = first_seen.get(name.as_str()) {
            return Err(SimilarityError::Mismatch {
                message: format!(
                    "the image name '{name}' appears twice (images {} and {}, counting from 1); expected unique file names",
                    j + 1,
                    i + 1
                ),
            });
        }
        first_seen.insert(name, i);
    }

    let Some(names) = &matrix.names else {
        return Ok(Pairing {
            rows: (0..images.len()).map(|i| (i < n).then_some(i)).collect(),
            exact: 0,
            stem_examples: Vec::new(),
        });
    };
    if names.len() != n {
        return Err(SimilarityError::Mismatch {
            message: format!(
                "the human matrix has {} names for {n} rows; expected one name per row",
                names.len()
            ),
        });
    }

    let mut seen_names: HashMap<&str, usize> = HashMap::new();
    for (r, name) in names.iter().enumerate() {
        if let Some(&first) = seen_names.get(name.as_str()) {
            return Err(SimilarityError::Mismatch {
                message: format!(
                    "the human matrix names two rows '{name}' (rows {} and {}, counting from 1); expected unique names",
                    first + 1,
                    r + 1
                ),
            });
        }
        seen_names.insert(name, r);
    }

    // image index for each row
    let mut row_image: Vec<Option<usize>> = vec![None; n];
    let mut taken = vec![false; images.len()];
    for (r, name) in names.iter().enumerate() {
        if let Some(&i) = first_seen.get(name.as_str()) {
            row_image[r] = Some(i);
            taken[i] = true;
        }
    }
    let exact = row_image.iter().flatten().count();
    let mut by_stem: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, img) in images.iter().enumerate() {
        if !taken[i] {
            by_stem.entry(stem(img)).or_default().push(i);
        }
    }
    let mut stem_examples = Vec::new();
    for r in 0..n {
        if row_image[r].is_some() {
            continue;
        }
        let name = names[r].as_str();
        // a name without extension ('001' → '001.png') first, then the same stem ('001.jpg' → '001.png')
        let found = [name, stem(name)]
            .iter()
            .find_map(|k| by_stem.get(k).filter(|v| !v.is_empty()).cloned());
        let Some(candidates) = found else { continue };
        let free: Vec<usize> = candidates.into_iter().filter(|&i| !taken[i]).collect();
        match free.as_slice() {
            [] => {}
            [i] => {
                row_image[r] = Some(*i);
                taken[*i] = true;
                if stem_examples.len() < 3 {
                    stem_examples.push(format!("'{name}' → '{}'", images[*i]));
                }
            }
            many => {
                let list: Vec<&str> = many.iter().take(LIST).map(|&i| images[i].as_str()).collect();
                return Err(SimilarityError::Mismatch {
                    message: format!(
                        "the matrix row '{name}' (row {}) matches several images by file stem: {}; expected exactly one",
                        r + 1,
                        list.join(", ")
                    ),
                });
            }
        }
    }

    let mut rows = vec![None; images.len()];
    for (r, i) in row_image.iter().enumerate() {
        if let Some(i) = i {
            rows[*i] = Some(r);
        }
    }
    Ok(Pairing { rows, exact, stem_examples })
}

/// " (a, b, c … and 5 more)" or "".
fn listing(items: &[&str]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = items.iter().take(LIST).map(|s| format!("'{s}'")).collect();
    let more = items.len().saturating_sub(LIST);
    if more > 0 {
        format!(": {} … and {more} more", shown.join(", "))
    } else {
        format!(": {}", shown.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// M[i,j] = 10·(i+1) + (j+1) for distinct, traceable entries.
    fn labelled(n: usize, names: Option<Vec<String>>) -> HumanMatrix {
        let values = (0..n * n).map(|k| (10 * (k / n + 1) + k % n + 1) as f64).collect();
        HumanMatrix { n, values, names, warnings: vec![] }
    }

    #[test]
    fn the_pairing_is_what_the_match_uses_and_shows_partial_pairs() {
        let m = labelled(4, Some(strings(&["d.png", "a", "c.jpg", "b.png"])));
        let images = strings(&["a.png", "b.png", "c.png", "d.png"]);
        let matched = match_to_images(&m, &images).unwrap();
        assert_eq!(matched.rows, vec![1, 3, 2, 0]);
        let pairing = pair_images(&m, &images).unwrap();
        assert_eq!(pairing.rows, vec![Some(1), Some(3), Some(2), Some(0)]);
        // image 0 of the result is row 1 of the file
        assert_eq!(matched.similarity[1], m.values[4 + 3]);

        let partial = strings(&["a.png", "b.png", "x.png", "d.png"]);
        assert!(match_to_images(&m, &partial).is_err());
        assert_eq!(pair_images(&m, &partial).unwrap().rows, vec![Some(1), Some(3), None, Some(0)]);
        let unnamed = labelled(4, None);
        let five = strings(&["a", "b", "c", "d", "e"]);
        assert_eq!(pair_images(&unnamed, &five).unwrap().rows[4], None);
        assert_eq!(match_to_images(&unnamed, &five[..4]).unwrap().rows, vec![0, 1, 2, 3]);
    }

    #[test]
    fn permuted_names_end_up_in_image_order() {
        // row 0 is 'c', row 1 'a', row 2 'd', row 3 'b'
        let m = labelled(4, Some(strings(&["c.png", "a.png", "d", "b.jpg"])));
        let images = strings(&["a.png", "b.png", "c.png", "d.png"]);
        let got = match_to_images(&m, &images).unwrap();
        // image order a, b, c, d = rows 1, 3, 0, 2
        let rows = [1usize, 3, 0, 2];
        for a in 0..4 {
            for b in 0..4 {
                assert_eq!(
                    got.similarity[a * 4 + b],
                    m.values[rows[a] * 4 + rows[b]],
                    "image pair ({a},{b})"
                );
            }
        }
        assert!(
            got.report[0].contains("2 by exact file name, 2 by file name without extension"),
            "{:?}",
            got.report
        );
        assert!(got.report[1].contains("4 of 4 rows moved"), "{:?}", got.report);
    }

    #[test]
    fn identity_order_and_no_names() {
        let m = labelled(4, Some(strings(&["a.png", "b.png", "c.png", "d.png"])));
        let images = strings(&["dir/a.png", "b.png", "c.png", "d.png"]);
        let got = match_to_images(&m, &images).unwrap();
        assert_eq!(got.similarity, m.values);
        assert_eq!(got.report, ["matched 4 rows to images by name"]);
        let m = labelled(4, None);
        let got = match_to_images(&m, &images).unwrap();
        assert_eq!(got.similarity, m.values);
        assert!(got.report[0].contains("no row names"));
    }

    #[test]
    fn errors() {
        let m = labelled(4, None);
        let e = match_to_images(&m, &strings(&["a", "b", "c"])).unwrap_err().to_string();
        assert!(e.contains("4 rows") && e.contains("3 images"), "{e}");
        let m = labelled(4, Some(strings(&["a.png", "b.png", "c.png", "x.png"])));
        let e = match_to_images(&m, &strings(&["a.png", "b.png", "c.png", "d.png", "e.png"]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("1 of 4 matrix names have no image: 'x.png'")
                && e.contains("2 of 5 images have no matrix row: 'd.png', 'e.png'"),
            "{e}"
        );
        let m = labelled(4, Some(strings(&["a", "b", "c", "d"])));
        let e = match_to_images(&m, &strings(&["a.png", "a.jpg", "b.png", "c.png", "d.png"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("several images") && e.contains("a.png, a.jpg"), "{e}");
        let e = match_to_images(&m, &strings(&["a.png", "a.png"])).unwrap_err().to_string();
        assert!(e.contains("appears twice"), "{e}");
        let dup = labelled(4, Some(strings(&["a", "a", "b", "c"])));
        let e = match_to_images(&dup, &strings(&["a"])).unwrap_err().to_string();
        assert!(e.contains("two rows 'a'"), "{e}");
        let bad = HumanMatrix { n: 3, values: vec![0.0; 4], names: None, warnings: vec![] };
        assert!(match_to_images(&bad, &[]).is_err());
        // long lists are cut at 10
        let many: Vec<String> = (0..25).map(|i| format!("n{i}")).collect();
        let m = HumanMatrix { n: 25, values: vec![0.0; 625], names: Some(many), warnings: vec![] };
        let e = match_to_images(&m, &strings(&["z.png"])).unwrap_err().to_string();
        assert!(e.contains("25 of 25 matrix names") && e.contains("… and 15 more"), "{e}");
    }
}
