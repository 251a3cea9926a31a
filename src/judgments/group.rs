//! From participants' trials to one matrix: each participant's matrix, the mean over the chosen
//! participants, split-half reliability and each participant's agreement with the mean.
//!
//! Orientation: ratings are similarities (1 … 7, diagonal 7), arrangements dissimilarities
//! (arena units, diagonal 0). When every chosen participant rated, the result is a similarity
//! matrix (mean rating); when every one arranged, a dissimilarity matrix (mean distance); when
//! both, a dissimilarity matrix with ratings converted to `(7 − r) / 6` in [0, 1], the range of
//! arena distances. The result says which.
//!
//! Split-half reliability (needs 2 participants): the chosen participants are split into two
//! halves of ⌊P/2⌋ and ⌈P/2⌉; each half's mean matrix is taken and the Pearson correlation `r` of
//! the two halves' upper triangles computed. With at most [`MAX_SPLITS`] distinct splits all are
//! used (for even P each split once, with the first participant in the first half); otherwise
//! [`MAX_SPLITS`] random splits, split s taking the first ⌊P/2⌋ of NumPy's
//! `RandomState(s).permutation(P)`, s = 0, 1, …. The reported reliability is Spearman–Brown's
//! `2r̄ / (1 + r̄)` of the mean `r̄` over splits (splits with an undefined r, a constant half, are
//! left out and counted).
//!
//! Agreement of participant p: Pearson r of p's upper triangle with the mean of all chosen
//! participants (p included), and with the mean of the others (leave one out, needs 2).

use serde::{Deserialize, Serialize};

use super::arrangement::{self, Placed};
use super::ratings::{self, Consistency};
use super::{Participant, RATING_MAX, Task, Trial, index_of, pairs, square, task_of};
use crate::error::{Error, Result};
use crate::heatmap::{self, Heatmap};
use crate::scores::pearson;

/// At most this many splits for the split-half reliability.
pub const MAX_SPLITS: usize = 1000;

/// What the page asks: the cohort's images (sorted file names), every participant, and which of
/// them to combine (empty: all complete ones).
#[derive(Clone, Debug, Deserialize)]
pub struct Request {
    pub images: Vec<String>,
    pub participants: Vec<Participant>,
    #[serde(default)]
    pub include: Vec<String>,
}

/// Similarity or dissimilarity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    Similarity,
    Dissimilarity,
}

/// One participant's matrix and how far they are.
#[derive(Clone, Debug, Serialize)]
pub struct ParticipantSummary {
    pub id: String,
    pub task: Task,
    /// Pairs with a judgment, of all pairs.
    pub judged: usize,
    pub pairs: usize,
    pub complete: bool,
    /// Finished arrangements or ratings given.
    pub trials: usize,
    /// Ratings only.
    pub consistency: Option<Consistency>,
    /// Arrangements: iterations of the combination and whether it converged (one trial: 0).
    pub iterations: Option<usize>,
    pub converged: Option<bool>,
    /// In its own orientation (similarity for ratings, dissimilarity for arrangements); NaN for
    /// pairs not judged yet; serialised as null.
    #[serde(serialize_with = "nan_as_null")]
    pub matrix: Vec<f64>,
    /// Chosen for the mean.
    pub included: bool,
    /// Pearson r with the mean (p included) and with the mean of the others.
    pub agreement: Option<f64>,
    pub agreement_others: Option<f64>,
}

/// Split-half reliability.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reliability {
    /// "all" or "random".
    pub method: String,
    pub splits: usize,
    pub undefined_splits: usize,
    /// Mean Pearson r between the halves' mean matrices, and its Spearman–Brown correction.
    pub r: f64,
    pub spearman_brown: f64,
}

/// The class's matrix.
#[derive(Clone, Debug, Serialize)]
pub struct GroupResult {
    pub images: Vec<String>,
    pub participants: Vec<ParticipantSummary>,
    /// The ids in the mean.
    pub included: Vec<String>,
    pub orientation: Orientation,
    /// What the numbers are, in words (for the page and the CSV's users).
    pub label: String,
    /// n × n, row-major.
    pub matrix: Vec<f64>,
    pub reliability: Option<Reliability>,
    /// Why there is no reliability (fewer than two participants …).
    pub reliability_note: Option<String>,
    /// The matrix as CSV with a header row and a names column (`alignmap analyze --similarity
    /// FILE`, plus `--dissimilarity` for a dissimilarity).
    pub csv: String,
}

fn nan_as_null<S: serde::Serializer>(v: &[f64], s: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        if x.is_finite() { seq.serialize_element(x)? } else { seq.serialize_element(&None::<f64>)? }
    }
    seq.end()
}

/// One participant's upper triangle in their own orientation, with what the summary says.
struct Own {
    task: Task,
    upper: Vec<f64>,
    trials: usize,
    consistency: Option<Consistency>,
    iterations: Option<usize>,
    converged: Option<bool>,
}

fn own_matrix(p: &Participant, images: &[String]) -> Result<Own> {
    let n = images.len();
    let task = task_of(p)?;
    match task {
        Task::Arrangement => {
            let mut placed = Vec::new();
            for t in &p.trials {
                let Trial::Arrangement(a) = t else { continue };
                let who = format!("participant '{}', arrangement {}", p.id, a.trial);
                if a.images.len() != a.positions.len() {
                    return Err(Error::Invalid(format!(
                        "{who}: {} images but {} positions",
                        a.images.len(),
                        a.positions.len()
                    )));
                }
                if let Some(k) = a
                    .positions
                    .iter()
                    .position(|q| q.is_some_and(|q| !q[0].is_finite() || !q[1].is_finite()))
                {
                    return Err(Error::Invalid(format!(
                        "{who}: the position of '{}' is not a finite number",
                        a.images[k]
                    )));
                }
                let idx = a
                    .images
                    .iter()
                    .map(|name| index_of(images, name, &who))
                    .collect::<Result<Vec<_>>>()?;
                let mut sorted = idx.clone();
                sorted.sort_unstable();
                sorted.dedup();
                if sorted.len() != idx.len() {
                    return Err(Error::Invalid(format!("{who}: an image appears twice")));
                }
                if a.done {
                    if idx.len() < 2 {
                        return Err(Error::Invalid(format!("{who}: fewer than two images")));
                    }
                    let positions = a
                        .positions
                        .iter()
                        .zip(&a.images)
                        .map(|(q, name)| {
                            q.ok_or_else(|| {
                                Error::Invalid(format!(
                                    "{who}: marked finished but '{name}' is not in the arena"
                                ))
                            })
                        })
                        .collect::<Result<Vec<_>>>()?;
                    placed.push(Placed { images: idx, positions });
                }
            }
            if placed.is_empty() {
                return Ok(Own {
                    task,
                    upper: vec![f64::NAN; pairs(n)],
                    trials: 0,
                    consistency: None,
                    iterations: None,
                    converged: None,
                });
            }
            let trials = placed.len();
            let c = arrangement::combine(&placed, n)
                .map_err(|e| Error::Invalid(format!("participant '{}': {e}", p.id)))?;
            Ok(Own {
                task,
                upper: c.upper,
                trials,
                consistency: None,
                iterations: Some(c.iterations),
                converged: Some(c.converged),
            })
        }
        Task::Rating => {
            let mut given = Vec::new();
            for t in &p.trials {
                let Trial::Rating(r) = t else { continue };
                let who = format!("participant '{}', rating {}", p.id, r.trial);
                if !(super::RATING_MIN..=RATING_MAX).contains(&r.rating) {
                    return Err(Error::Invalid(format!(
                        "{who}: rating {} is outside 1 … 7",
                        r.rating
                    )));
                }
                let (i, j) = (index_of(images, &r.a, &who)?, index_of(images, &r.b, &who)?);
                if i == j {
                    return Err(Error::Invalid(format!("{who}: an image rated against itself")));
                }
                given.push((i, j, r.rating, r.repeat));
            }
            let (upper, consistency) = ratings::similarities(n, &given);
            Ok(Own {
                task,
                upper,
                trials: given.len(),
                consistency,
                iterations: None,
                converged: None,
            })
        }
    }
}

fn mean_of(rows: &[&[f64]]) -> Vec<f64> {
    let m = rows[0].len();
    (0..m).map(|k| rows.iter().map(|r| r[k]).sum::<f64>() / rows.len() as f64).collect()
}

fn finite(r: f64) -> Option<f64> {
    r.is_finite().then_some(r)
}

/// All subsets of size `h` of 0..p (with 0 in each when `first_fixed`), at most `limit`; None
/// when there are more.
fn combinations(p: usize, h: usize, first_fixed: bool, limit: usize) -> Option<Vec<Vec<usize>>> {
    let mut out = Vec::new();
    let mut current = Vec::with_capacity(h);
    fn rec(
        start: usize,
        p: usize,
        h: usize,
        current: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
        limit: usize,
    ) -> bool {
        if current.len() == h {
            out.push(current.clone());
            return out.len() <= limit;
        }
        for k in start..p {
            current.push(k);
            let ok = rec(k + 1, p, h, current, out, limit);
            current.pop();
            if !ok {
                return false;
            }
        }
        true
    }
    if first_fixed {
        current.push(0);
        if !rec(1, p, h, &mut current, &mut out, limit) {
            return None;
        }
    } else if !rec(0, p, h, &mut current, &mut out, limit) {
        return None;
    }
    Some(out)
}

/// Split-half reliability of participants' upper triangles (all in one orientation), as the
/// module says. `Err` with the reason when undefined.
pub fn split_half(rows: &[&[f64]]) -> std::result::Result<Reliability, String> {
    let p = rows.len();
    if p < 2 {
        return Err("split-half reliability needs at least two participants".into());
    }
    let h = p / 2;
    let (halves, method) = match combinations(p, h, p.is_multiple_of(2), MAX_SPLITS) {
        Some(all) => (all, "all"),
        None => (
            (0..MAX_SPLITS as u32)
                .map(|s| {
                    let perm: Vec<usize> = crate::folds::folds(p, p, s)
                        .map(|f| f.into_iter().flatten().collect())
                        .unwrap_or_default();
                    perm[..h].to_vec()
                })
                .collect(),
            "random",
        ),
    };
    let (mut sum, mut used) = (0.0, 0usize);
    for first in &halves {
        let a: Vec<&[f64]> = first.iter().map(|&i| rows[i]).collect();
        let b: Vec<&[f64]> = (0..p).filter(|i| !first.contains(i)).map(|i| rows[i]).collect();
        let r = pearson(&mean_of(&a), &mean_of(&b));
        if r.is_finite() {
            sum += r;
            used += 1;
        }
    }
    if used == 0 {
        return Err("split-half reliability is undefined: a half's mean matrix is constant".into());
    }
    let r = sum / used as f64;
    Ok(Reliability {
        method: method.into(),
        splits: halves.len(),
        undefined_splits: halves.len() - used,
        r,
        spearman_brown: 2.0 * r / (1.0 + r),
    })
}

/// The matrix as CSV: a header row (an empty corner, then the names) and a names column; numbers
/// in Rust's shortest round-trip form, so reading the file back gives the same f64 values.
pub fn to_csv(names: &[String], matrix: &[f64]) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let n = names.len();
    let mut out = String::new();
    for name in names {
        out.push(',');
        out.push_str(&quote(name));
    }
    out.push('\n');
    for (i, name) in names.iter().enumerate() {
        out.push_str(&quote(name));
        for j in 0..n {
            out.push(',');
            out.push_str(&format!("{}", matrix[i * n + j]));
        }
        out.push('\n');
    }
    out
}

/// Each participant's matrix, the mean over the chosen ones, its reliability and the
/// participants' agreement with it (see the module). Errors: no images, fewer than 4, a bad
/// trial, a chosen participant who has not judged every pair, nobody to combine.
pub fn summarize(request: &Request) -> Result<GroupResult> {
    let images = &request.images;
    let n = images.len();
    if n < 4 {
        return Err(Error::Invalid(format!(
            "{n} image(s): a similarity matrix for the analysis needs at least 4"
        )));
    }
    let mut sorted = images.clone();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != n {
        return Err(Error::Invalid("the cohort lists an image name twice".into()));
    }
    let mut ids: Vec<&str> = request.participants.iter().map(|p| p.id.as_str()).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::Invalid(format!("two participants share the code '{}'", w[0])));
    }
    for id in &request.include {
        if !request.participants.iter().any(|p| &p.id == id) {
            return Err(Error::Invalid(format!("no participant '{id}'")));
        }
    }
    let m = pairs(n);
    let owns: Vec<Own> =
        request.participants.iter().map(|p| own_matrix(p, images)).collect::<Result<_>>()?;
    let complete: Vec<bool> = owns.iter().map(|o| o.upper.iter().all(|x| x.is_finite())).collect();
    let include: Vec<bool> = request
        .participants
        .iter()
        .zip(&complete)
        .map(|(p, &c)| if request.include.is_empty() { c } else { request.include.contains(&p.id) })
        .collect();
    for ((p, o), (&inc, &c)) in
        request.participants.iter().zip(&owns).zip(include.iter().zip(&complete))
    {
        if inc && !c {
            let judged = o.upper.iter().filter(|x| x.is_finite()).count();
            return Err(Error::Invalid(format!(
                "participant '{}' has judged {judged} of {m} pairs; finish the task or leave them out",
                p.id
            )));
        }
    }
    let chosen: Vec<usize> = (0..owns.len()).filter(|&k| include[k]).collect();
    if chosen.is_empty() {
        return Err(Error::Invalid(
            "no participant has judged every pair yet: finish a task first".into(),
        ));
    }
    let all_rating = chosen.iter().all(|&k| owns[k].task == Task::Rating);
    let all_arrangement = chosen.iter().all(|&k| owns[k].task == Task::Arrangement);
    let (orientation, diagonal, label) = if all_rating {
        (
            Orientation::Similarity,
            f64::from(RATING_MAX),
            "similarity: mean rating, 1 = very different … 7 = very similar (diagonal 7)"
                .to_string(),
        )
    } else if all_arrangement {
        (
            Orientation::Dissimilarity,
            0.0,
            "dissimilarity: mean distance in the arena, in arena diameters (diagonal 0)"
                .to_string(),
        )
    } else {
        (
            Orientation::Dissimilarity,
            0.0,
            "dissimilarity: arena distances in arena diameters, and ratings converted to (7 − rating)/6 (diagonal 0)"
                .to_string(),
        )
    };
    let converted: Vec<Vec<f64>> = owns
        .iter()
        .map(|o| match (o.task, orientation) {
            (Task::Rating, Orientation::Dissimilarity) => {
                o.upper.iter().map(|&x| ratings::as_dissimilarity(x)).collect()
            }
            _ => o.upper.clone(),
        })
        .collect();
    let rows: Vec<&[f64]> = chosen.iter().map(|&k| converted[k].as_slice()).collect();
    let mean = mean_of(&rows);
    let (reliability, reliability_note) = match split_half(&rows) {
        Ok(r) => (Some(r), None),
        Err(note) => (None, Some(note)),
    };
    let participants = request
        .participants
        .iter()
        .zip(owns)
        .enumerate()
        .map(|(k, (p, o))| {
            let judged = o.upper.iter().filter(|x| x.is_finite()).count();
            let (agreement, agreement_others) = if include[k] {
                let others: Vec<&[f64]> =
                    chosen.iter().filter(|&&c| c != k).map(|&c| converted[c].as_slice()).collect();
                let with_others = if others.is_empty() {
                    None
                } else {
                    finite(pearson(&converted[k], &mean_of(&others)))
                };
                (finite(pearson(&converted[k], &mean)), with_others)
            } else {
                (None, None)
            };
            let own_diagonal = if o.task == Task::Rating { f64::from(RATING_MAX) } else { 0.0 };
            ParticipantSummary {
                id: p.id.clone(),
                task: o.task,
                judged,
                pairs: m,
                complete: judged == m,
                trials: o.trials,
                consistency: o.consistency,
                iterations: o.iterations,
                converged: o.converged,
                matrix: square(&o.upper, n, own_diagonal),
                included: include[k],
                agreement,
                agreement_others,
            }
        })
        .collect();
    let matrix = square(&mean, n, diagonal);
    let csv = to_csv(images, &matrix);
    Ok(GroupResult {
        images: images.clone(),
        participants,
        included: chosen.iter().map(|&k| request.participants[k].id.clone()).collect(),
        orientation,
        label,
        matrix,
        reliability,
        reliability_note,
        csv,
    })
}

/// How much two analyses' heatmaps agree: per image the heatmap Match (Pearson correlation at
/// the image's resolution, [`heatmap::match_score`]), NaN where either has no heatmap.
pub fn heatmap_matches(
    a: &[Option<Heatmap>],
    b: &[Option<Heatmap>],
    sizes: &[(usize, usize)],
) -> Result<Vec<f64>> {
    if a.len() != b.len() || a.len() != sizes.len() {
        return Err(Error::Invalid(format!(
            "heatmap Match: {} and {} heatmaps for {} images",
            a.len(),
            b.len(),
            sizes.len()
        )));
    }
    Ok(a.iter()
        .zip(b)
        .zip(sizes)
        .map(|((x, y), &(w, h))| match (x, y) {
            (Some(x), Some(y)) => heatmap::match_score(x, y, w, h),
            _ => f64::NAN,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::{ArrangementTrial, RatingTrial};
    use super::*;
    use crate::similarity::{Direction, MatrixOptions, parse_matrix};

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("img{i:02}.png")).collect()
    }

    fn rater(id: &str, images: &[String], f: impl Fn(usize, usize) -> u8) -> Participant {
        let mut trials = Vec::new();
        let n = images.len();
        for i in 0..n {
            for j in (i + 1)..n {
                trials.push(Trial::Rating(RatingTrial {
                    trial: trials.len() as u32 + 1,
                    a: images[j].clone(),
                    b: images[i].clone(),
                    rating: f(i, j),
                    repeat: false,
                    time: None,
                    ms: None,
                }));
            }
        }
        Participant { id: id.into(), trials }
    }

    fn arranger(id: &str, images: &[String], positions: &[[f64; 2]]) -> Participant {
        Participant {
            id: id.into(),
            trials: vec![Trial::Arrangement(ArrangementTrial {
                trial: 1,
                images: images.to_vec(),
                positions: positions.iter().copied().map(Some).collect(),
                done: true,
                started: None,
                time: None,
            })],
        }
    }

    #[test]
    fn one_rater_gives_the_ratings_as_similarities() {
        let images = names(4);
        let p = rater("A", &images, |i, j| (1 + (i + 2 * j) % 7) as u8);
        let g =
            summarize(&Request { images: images.clone(), participants: vec![p], include: vec![] })
                .unwrap();
        assert_eq!(g.orientation, Orientation::Similarity);
        for i in 0..4 {
            assert_eq!(g.matrix[i * 4 + i], 7.0);
            for j in (i + 1)..4 {
                let want = (1 + (i + 2 * j) % 7) as f64;
                assert_eq!(g.matrix[i * 4 + j], want);
                assert_eq!(g.matrix[j * 4 + i], want);
            }
        }
        assert!(
            g.reliability.is_none() && g.reliability_note.unwrap().contains("two participants")
        );
        assert!((g.participants[0].agreement.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(g.participants[0].agreement_others, None);
    }

    #[test]
    fn two_participants_mean_and_spearman_brown() {
        let images = names(5);
        let a = rater("A", &images, |i, j| (1 + (i * 3 + j) % 7) as u8);
        let b = rater("B", &images, |i, j| (1 + (i + j * 2) % 7) as u8);
        let g = summarize(&Request {
            images: images.clone(),
            participants: vec![a.clone(), b.clone()],
            include: vec![],
        })
        .unwrap();
        let ua: Vec<f64> =
            (0..5).flat_map(|i| ((i + 1)..5).map(move |j| (1 + (i * 3 + j) % 7) as f64)).collect();
        let ub: Vec<f64> =
            (0..5).flat_map(|i| ((i + 1)..5).map(move |j| (1 + (i + j * 2) % 7) as f64)).collect();
        let r = pearson(&ua, &ub);
        let rel = g.reliability.unwrap();
        assert_eq!((rel.method.as_str(), rel.splits), ("all", 1));
        assert!((rel.r - r).abs() < 1e-12);
        assert!((rel.spearman_brown - 2.0 * r / (1.0 + r)).abs() < 1e-12);
        assert!((g.participants[0].agreement_others.unwrap() - r).abs() < 1e-12);
        let k = super::super::pair_index(5, 1, 3);
        assert_eq!(g.matrix[5 + 3], (ua[k] + ub[k]) / 2.0);
    }

    #[test]
    fn splits_are_all_when_few_and_random_when_many() {
        let rows: Vec<Vec<f64>> =
            (0..4).map(|p| (0..10).map(|k| ((k * (p + 3)) % 7) as f64).collect()).collect();
        let refs: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
        let rel = split_half(&refs).unwrap();
        assert_eq!((rel.method.as_str(), rel.splits), ("all", 3), "{{0,1}}, {{0,2}}, {{0,3}}");
        let odd: Vec<&[f64]> = refs[..3].to_vec();
        assert_eq!(split_half(&odd).unwrap().splits, 3, "{{0}}, {{1}}, {{2}} against the rest");
        let many: Vec<Vec<f64>> =
            (0..16).map(|p| (0..10).map(|k| ((k * (p + 3)) % 11) as f64).collect()).collect();
        let refs: Vec<&[f64]> = many.iter().map(Vec::as_slice).collect();
        let rel = split_half(&refs).unwrap();
        assert_eq!((rel.method.as_str(), rel.splits), ("random", MAX_SPLITS));
        assert!(rel.r.is_finite() && rel.spearman_brown.is_finite());
        assert!(split_half(&refs[..1]).is_err());
    }

    #[test]
    fn mixed_tasks_are_dissimilarities_and_incomplete_participants_are_named() {
        let images = names(4);
        let pos = [[0.0, 0.0], [0.3, 0.0], [0.0, 0.4], [-0.2, -0.2]];
        let a = arranger("arr", &images, &pos);
        let r = rater("rat", &images, |i, j| if i + j == 1 { 7 } else { 1 });
        let g = summarize(&Request {
            images: images.clone(),
            participants: vec![a.clone(), r.clone()],
            include: vec![],
        })
        .unwrap();
        assert_eq!(g.orientation, Orientation::Dissimilarity);
        assert!(g.label.contains("(7 − rating)/6"));
        // Pair (0, 1): distance 0.3 and rating 7 → 0.
        assert!((g.matrix[1] - 0.15).abs() < 1e-12);
        // Pair (0, 2): distance 0.4 and rating 1 → 1.
        assert!((g.matrix[2] - 0.7).abs() < 1e-12);
        let only =
            summarize(&Request { images: images.clone(), participants: vec![a], include: vec![] })
                .unwrap();
        assert_eq!(only.orientation, Orientation::Dissimilarity);
        assert_eq!(only.participants[0].matrix[1], 0.3);
        let mut partial = r.clone();
        partial.id = "half".into();
        partial.trials.truncate(3);
        let err = summarize(&Request {
            images: images.clone(),
            participants: vec![r.clone(), partial.clone()],
            include: vec!["half".into()],
        })
        .unwrap_err();
        assert!(err.to_string().contains("'half' has judged 3 of 6 pairs"), "{err}");
        // Left out by default, listed with its progress.
        let g = summarize(&Request {
            images: images.clone(),
            participants: vec![r, partial],
            include: vec![],
        })
        .unwrap();
        assert_eq!(g.included, vec!["rat".to_string()]);
        assert_eq!((g.participants[1].judged, g.participants[1].complete), (3, false));
        assert!(g.participants[1].matrix.iter().any(|x| x.is_nan()));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let images = names(4);
        let mut p = rater("A", &images, |_, _| 4);
        if let Trial::Rating(r) = &mut p.trials[0] {
            r.rating = 9;
        }
        let err =
            summarize(&Request { images: images.clone(), participants: vec![p], include: vec![] })
                .unwrap_err();
        assert!(err.to_string().contains("rating 9 is outside"), "{err}");
        let mut p = rater("A", &images, |_, _| 4);
        if let Trial::Rating(r) = &mut p.trials[0] {
            r.a = "elsewhere.png".into();
        }
        let err =
            summarize(&Request { images: images.clone(), participants: vec![p], include: vec![] })
                .unwrap_err();
        assert!(err.to_string().contains("'elsewhere.png' is not in the cohort"), "{err}");
        let a = arranger("A", &images, &[[0.0, 0.0], [f64::NAN, 0.0], [0.1, 0.1], [0.2, 0.2]]);
        assert!(
            summarize(&Request { images: images.clone(), participants: vec![a], include: vec![] })
                .is_err()
        );
        assert!(
            summarize(&Request { images: names(3), participants: vec![], include: vec![] })
                .is_err()
        );
        let none =
            summarize(&Request { images: images.clone(), participants: vec![], include: vec![] })
                .unwrap_err();
        assert!(none.to_string().contains("no participant has judged every pair"));
        let err = summarize(&Request { images, participants: vec![], include: vec!["x".into()] })
            .unwrap_err();
        assert!(err.to_string().contains("no participant 'x'"));
    }

    #[test]
    fn the_csv_reads_back_through_the_similarity_reader() {
        let images =
            vec!["b, quoted.png".to_string(), "a.png".into(), "c.jpg".into(), "d.png".into()];
        let pos = [[0.1, 0.0], [0.3, 0.17], [0.0, -0.4], [-0.2, -0.2]];
        let g = summarize(&Request {
            images: images.clone(),
            participants: vec![arranger("A", &images, &pos)],
            include: vec![],
        })
        .unwrap();
        let options = MatrixOptions { key: None, direction: Direction::Dissimilarity, names: None };
        let h = parse_matrix("judgments.csv", g.csv.as_bytes(), &options).unwrap();
        assert_eq!(h.names.as_deref(), Some(images.as_slice()));
        for (got, want) in h.values.iter().zip(&g.matrix) {
            // The reader keeps similarity orientation: S = −D, exactly.
            assert_eq!(*got, -want);
        }
    }

    /// `tests/golden/judgments/judgments.py`: the same trials through NumPy.
    #[test]
    fn equals_the_numpy_reference() {
        let cases: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/golden/judgments/cases.json")).unwrap();
        let expected: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/golden/judgments/expected.json"))
                .unwrap();
        let close = |a: f64, b: f64, what: &str| {
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{what}: {a} vs numpy {b}");
        };
        for name in ["ratings", "arrangements", "mixed", "many"] {
            let request: Request = serde_json::from_value(cases[name].clone()).unwrap();
            let want = &expected[name];
            let got = summarize(&request).unwrap();
            assert_eq!(
                serde_json::to_value(got.orientation).unwrap(),
                want["orientation"],
                "{name}"
            );
            assert_eq!(serde_json::to_value(&got.included).unwrap(), want["included"], "{name}");
            let matrix = want["matrix"].as_array().unwrap();
            assert_eq!(got.matrix.len(), matrix.len());
            for (k, (g, w)) in got.matrix.iter().zip(matrix).enumerate() {
                close(*g, w.as_f64().unwrap(), &format!("{name}: matrix[{k}]"));
            }
            let rel = got.reliability.as_ref().unwrap();
            let w = &want["reliability"];
            assert_eq!(rel.method, w["method"].as_str().unwrap(), "{name}");
            assert_eq!(rel.splits as u64, w["splits"].as_u64().unwrap(), "{name}");
            close(rel.r, w["r"].as_f64().unwrap(), &format!("{name}: split-half r"));
            close(
                rel.spearman_brown,
                w["spearman_brown"].as_f64().unwrap(),
                &format!("{name}: Spearman–Brown"),
            );
            for p in got.participants.iter().filter(|p| p.included) {
                close(
                    p.agreement.unwrap(),
                    want["agreement"][&p.id].as_f64().unwrap(),
                    &format!("{name}: {}", p.id),
                );
                close(
                    p.agreement_others.unwrap(),
                    want["agreement_others"][&p.id].as_f64().unwrap(),
                    &format!("{name}: {} against the others", p.id),
                );
            }
        }
    }

    #[test]
    fn heatmap_matches_and_median() {
        let a = Heatmap { width: 2, height: 2, values: vec![0.0, 1.0, 2.0, 3.0] };
        let b = Heatmap { width: 2, height: 2, values: vec![0.0, 2.0, 4.0, 6.1] };
        let m = heatmap_matches(&[Some(a.clone()), None], &[Some(b), Some(a)], &[(4, 4), (4, 4)])
            .unwrap();
        assert!(m[0] > 0.99 && m[0] < 1.0, "{m:?}");
        assert!(m[1].is_nan());
        assert!(heatmap_matches(&[None], &[], &[(1, 1)]).is_err());
    }
}
