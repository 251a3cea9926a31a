//! The crate's error type: every message names the input it is about and what was expected.

use std::path::PathBuf;

/// Anything that can go wrong in alignmap, phrased for the person who gave the input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A weights file that cannot be used; `file` names it.
    #[error("{file}: {message}")]
    Weights { file: String, message: String },

    /// An image that cannot be used.
    #[error("{name}: {message}")]
    Image { name: String, message: String },

    /// A human similarity matrix that cannot be used.
    #[error(transparent)]
    Similarity(#[from] crate::similarity::SimilarityError),

    /// A file or folder that could not be read or written.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },

    /// A compute device that could not be set up or failed while running.
    #[error("device: {0}")]
    Device(String),

    /// Inputs that are individually fine but do not fit together.
    #[error("{0}")]
    Invalid(String),

    /// The caller asked a run to stop.
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    pub(crate) fn weights(file: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Weights { file: file.into(), message: message.into() }
    }

    pub(crate) fn image(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Image { name: name.into(), message: message.into() }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
