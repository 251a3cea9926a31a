//! The one error type of the similarity module. Every message starts with the file it is
//! about and says what was expected, so it can be shown to a user as is.

/// Why a human similarity matrix (or its names) could not be read, validated or matched.
///
/// Rows and columns in messages count from 1 (the messages say so).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimilarityError {
    /// The file could not be read from disk.
    #[error("{file}: could not read the file: {message}")]
    Io { file: String, message: String },

    /// The file holds no bytes (or only whitespace).
    #[error("{file}: the file is empty; expected a square matrix of numbers")]
    Empty { file: String },

    /// The content is malformed for its format; `message` says where and what was expected.
    #[error("{file}: {message}")]
    Format { file: String, message: String },

    /// The content uses a feature that is deliberately not supported (pickled objects, complex
    /// numbers, structured arrays …).
    #[error("{file}: {message}")]
    Unsupported { file: String, message: String },

    /// The matrix is not square.
    #[error(
        "{file}: the matrix has {rows} rows and {cols} columns; expected a square matrix (one row and one column per image)"
    )]
    NotSquare { file: String, rows: usize, cols: usize },

    /// Fewer than 4 images.
    #[error("{file}: the matrix is {n}×{n}; alignment needs at least 4 images")]
    TooSmall { file: String, n: usize },

    /// A NaN or infinite entry (the first one, in row-major order).
    #[error(
        "{file}: row {row}, column {col} (counting from 1) is {value}; expected a finite number in every cell"
    )]
    NonFinite { file: String, row: usize, col: usize, value: String },

    /// The matrix is clearly not symmetric.
    #[error(
        "{file}: the matrix is not symmetric: row {row}, column {col} is {a} but row {col}, column {row} is {b} (counting from 1; largest difference {diff:.3e}, more than 1% of the largest |value| {scale:.3e}); expected M[i,j] = M[j,i]"
    )]
    Asymmetric { file: String, row: usize, col: usize, a: f64, b: f64, diff: f64, scale: f64 },

    /// A key (NPZ array, JSON member or names-file category) that the file does not hold.
    #[error("{file}: no {what} named '{key}'{hint}; the file holds: {available}")]
    MissingKey { file: String, what: String, key: String, hint: String, available: String },

    /// The file holds several candidates and no key picks one.
    #[error("{file}: {message}; the file holds: {available}")]
    KeyRequired { file: String, message: String, available: String },

    /// The chosen array has the wrong number of dimensions.
    #[error("{file}: {message}")]
    WrongShape { file: String, message: String },

    /// A header row and a names column both exist but disagree.
    #[error(
        "{file}: the header row and the first column disagree at position {index} (counting from 1): '{header}' in the header, '{column}' in the first column; expected the same names in the same order"
    )]
    HeaderMismatch { file: String, index: usize, header: String, column: String },

    /// The same name labels two rows.
    #[error(
        "{file}: the name '{name}' appears twice, at rows {first} and {second} (counting from 1); expected one row per image"
    )]
    DuplicateName { file: String, name: String, first: usize, second: usize },

    /// A names list whose length differs from the matrix size.
    #[error(
        "{file}: holds {found} names but the matrix {matrix} is {expected}×{expected}; expected one name per row"
    )]
    NamesLength { file: String, matrix: String, expected: usize, found: usize },

    /// Matrix rows and images could not be paired.
    #[error("{message}")]
    Mismatch { message: String },
}

impl SimilarityError {
    /// Shorthand for a [`SimilarityError::Format`].
    pub(crate) fn format(file: &str, message: impl Into<String>) -> Self {
        SimilarityError::Format { file: file.to_string(), message: message.into() }
    }

    /// Shorthand for a [`SimilarityError::Unsupported`].
    pub(crate) fn unsupported(file: &str, message: impl Into<String>) -> Self {
        SimilarityError::Unsupported { file: file.to_string(), message: message.into() }
    }

    /// A [`SimilarityError::MissingKey`], suggesting one of `keys` that differs only in case or by
    /// a prefix (" (did you mean 'animals'?)").
    pub(crate) fn missing_key<'a>(
        file: &str,
        what: &str,
        key: &str,
        mut keys: impl Iterator<Item = &'a str>,
        available: String,
    ) -> Self {
        let lower = key.to_lowercase();
        let close = |k: &&str| {
            let kl = k.to_lowercase();
            kl == lower || (!lower.is_empty() && (kl.starts_with(&lower) || lower.starts_with(&kl)))
        };
        SimilarityError::MissingKey {
            file: file.to_string(),
            what: what.to_string(),
            key: key.to_string(),
            hint: keys.find(close).map(|k| format!(" (did you mean '{k}'?)")).unwrap_or_default(),
            available,
        }
    }
}
