//! Similarity judgments collected in the page (`docs/judgments.md`): the trials a participant
//! makes, each participant's matrix, and the class's matrix with its reliability.
//!
//! - [`arrangement`]: dissimilarities from positions in a circular arena (diameter 1), several
//!   trials on subsets combined as Kriegeskorte & Mur (2012) do (inverse MDS by iterative
//!   scaling with evidence weights), and the next subset to arrange.
//! - [`ratings`]: the order in which the pairs are shown (each pair once, a few repeated), the
//!   similarity matrix of the ratings (1 = very different … 7 = very similar) and their
//!   consistency on the repeated pairs.
//! - [`group`]: the mean over participants, split-half reliability (Spearman–Brown corrected) and
//!   each participant's agreement with the mean; the CSV that `alignmap analyze --similarity`
//!   reads; the heatmap Match between participants' analyses.
//!
//! Every input comes from the page (JSON): bad input is an [`Error::Invalid`] that names the
//! participant and the trial, never a panic.

pub mod arrangement;
pub mod group;
pub mod ratings;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use group::{GroupResult, Orientation, Request, summarize};

/// The lowest and highest rating: 1 = very different, 7 = very similar.
pub const RATING_MIN: u8 = 1;
pub const RATING_MAX: u8 = 7;

/// One trial as the page stores it (and the raw-trials JSON holds it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Trial {
    Arrangement(ArrangementTrial),
    Rating(RatingTrial),
}

/// The images of one arrangement and where they ended up, in arena units: the arena's centre
/// is (0, 0) and its diameter 1, so every placed image lies within 0.5 of the centre.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArrangementTrial {
    /// 1, 2, … in the order the participant made them.
    pub trial: u32,
    pub images: Vec<String>,
    /// `None` (null in JSON): not placed in the arena yet.
    pub positions: Vec<Option<[f64; 2]>>,
    /// Finished (every image inside the arena and the participant said so); unfinished trials
    /// are kept to resume them but give no dissimilarities.
    #[serde(default)]
    pub done: bool,
    /// Milliseconds since 1970 when it was started and last changed.
    #[serde(default)]
    pub started: Option<f64>,
    #[serde(default)]
    pub time: Option<f64>,
}

/// One rating of one pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RatingTrial {
    /// Position in the participant's schedule, 1, 2, …
    pub trial: u32,
    /// The image shown on the left and the one on the right.
    pub a: String,
    pub b: String,
    /// 1 (very different) … 7 (very similar).
    pub rating: u8,
    /// A second showing of a pair already rated (to measure consistency).
    #[serde(default)]
    pub repeat: bool,
    /// Milliseconds since 1970 when the rating was given, and how long it took.
    #[serde(default)]
    pub time: Option<f64>,
    #[serde(default)]
    pub ms: Option<f64>,
}

/// A participant: a name or code chosen in the page (no other personal data) and their trials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub id: String,
    pub trials: Vec<Trial>,
}

/// Which task a participant did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Arrangement,
    Rating,
}

/// Number of unordered pairs of n items.
pub fn pairs(n: usize) -> usize {
    n * n.saturating_sub(1) / 2
}

/// The index of pair (i, j), i ≠ j, in the row-major upper triangle of an n × n matrix.
pub fn pair_index(n: usize, i: usize, j: usize) -> usize {
    let (i, j) = if i < j { (i, j) } else { (j, i) };
    i * n - i * (i + 1) / 2 + (j - i - 1)
}

/// A full symmetric n × n matrix from upper-triangle values, with `diagonal` on the diagonal.
pub fn square(upper: &[f64], n: usize, diagonal: f64) -> Vec<f64> {
    let mut m = vec![diagonal; n * n];
    for i in 0..n {
        for j in (i + 1)..n {
            let v = upper[pair_index(n, i, j)];
            m[i * n + j] = v;
            m[j * n + i] = v;
        }
    }
    m
}

/// Where each of `names` is in the cohort (`images`, sorted file names).
fn index_of(images: &[String], name: &str, who: &str) -> Result<usize> {
    images.iter().position(|n| n == name).ok_or_else(|| {
        Error::Invalid(format!(
            "{who}: image '{name}' is not in the cohort ({} images); were the images re-picked?",
            images.len()
        ))
    })
}

/// The task of a participant's trials; an error for a participant with none or with both kinds.
pub fn task_of(p: &Participant) -> Result<Task> {
    let arr = p.trials.iter().any(|t| matches!(t, Trial::Arrangement(_)));
    let rat = p.trials.iter().any(|t| matches!(t, Trial::Rating(_)));
    match (arr, rat) {
        (true, false) => Ok(Task::Arrangement),
        (false, true) => Ok(Task::Rating),
        (false, false) => Err(Error::Invalid(format!("participant '{}' has no trials yet", p.id))),
        (true, true) => Err(Error::Invalid(format!(
            "participant '{}' has both arrangement and rating trials; keep each task under its own participant code",
            p.id
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_indices_follow_the_upper_triangle_row_by_row() {
        let n = 5;
        let mut k = 0;
        for i in 0..n {
            for j in (i + 1)..n {
                assert_eq!(pair_index(n, i, j), k);
                assert_eq!(pair_index(n, j, i), k);
                k += 1;
            }
        }
        assert_eq!(k, pairs(n));
        let m = square(&[1.0, 2.0, 3.0], 3, 0.0);
        assert_eq!(m, vec![0.0, 1.0, 2.0, 1.0, 0.0, 3.0, 2.0, 3.0, 0.0]);
    }

    #[test]
    fn trials_read_from_the_pages_json() {
        let json = r#"{"id":"P1","trials":[
            {"kind":"rating","trial":1,"a":"x.png","b":"y.png","rating":5,"time":1.5,"ms":900},
            {"kind":"arrangement","trial":1,"images":["x.png"],"positions":[[0.1,0.2]],"done":true,"extra":"ignored"}]}"#;
        let p: Participant = serde_json::from_str(json).unwrap();
        assert_eq!(p.trials.len(), 2);
        assert!(matches!(&p.trials[0], Trial::Rating(r) if r.rating == 5 && !r.repeat));
        assert!(
            matches!(&p.trials[1], Trial::Arrangement(a) if a.done && a.positions[0] == Some([0.1, 0.2]))
        );
        assert!(task_of(&p).unwrap_err().to_string().contains("both arrangement and rating"));
    }
}
