//! alignmap: which feature maps of a vision network carry its alignment with human similarity
//! judgments (Alignment Importance Scores), as plain functions over plain types. The command-line
//! tool and the browser page are thin shells over this crate.
//!
//! The pipeline flows one way: cohort (decode, preprocess) → trunk (feature maps) → head
//! (embeddings) → scores.

pub mod ablation;
pub mod cohort;
pub mod correlation;
pub mod device;
pub mod error;
pub mod extract;
#[cfg(not(target_family = "wasm"))]
pub mod figures;
pub mod file_names;
pub mod folds;
pub mod heatmap;
pub mod host;
pub mod judgments;
pub mod memory;
pub mod model;
pub mod model_comparison;
pub mod pipeline;
pub mod report;
pub mod resample;
pub mod results_zip;
pub mod saliency;
pub mod scores;
pub mod selection;
pub mod shares;
pub mod similarity;
pub mod stats;
pub mod summary;
pub mod synthetic;
pub mod web;
pub mod weights;

pub use burn;
pub use error::{Error, Result};
