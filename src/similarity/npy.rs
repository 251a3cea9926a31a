//! `.npy` arrays through `npyz`, with what it leaves to the caller: the header length and the
//! data size are checked against the input before anything is allocated, Fortran order becomes C
//! order, and every message names the file and what was expected. Pickled arrays are refused.

use std::io::Read;

use npyz::{DType, NpyFile, NpyHeader, TypeChar};

use super::RawMatrix;
use super::error::SimilarityError;

/// The 6 bytes every `.npy` file starts with.
pub(crate) const MAGIC: &[u8] = b"\x93NUMPY";

/// Headers longer than this are refused (numpy writes a few hundred bytes).
const MAX_HEADER: usize = 1 << 20;

/// Headers whose brackets nest deeper than this are refused before npyz parses them: its
/// parser's time grows about 1.8-fold with each level (a 160-byte file nesting 40 deep would take
/// hours; found by fuzz/, target names_file). numpy writes 2 levels (`{'shape': (…)}`), a few
/// more for a structured dtype, which these readers refuse anyway.
const MAX_NESTING: usize = 6;

/// How deeply the brackets of a header's text nest, outside quoted strings.
fn nesting(text: &[u8]) -> usize {
    let (mut depth, mut deepest, mut quote) = (0usize, 0usize, None);
    for &b in text {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(b),
            (None, b'(' | b'[' | b'{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (None, b')' | b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// A parsed header and its shape.
#[derive(Clone)]
pub(crate) struct Header {
    npy: NpyHeader,
    pub shape: Vec<usize>,
}

impl Header {
    fn type_char(&self) -> Option<TypeChar> {
        match self.npy.dtype() {
            DType::Plain(t) => Some(t.type_char()),
            _ => None,
        }
    }

    pub(crate) fn is_numeric(&self) -> bool {
        matches!(
            self.type_char(),
            Some(TypeChar::Float | TypeChar::Int | TypeChar::Uint | TypeChar::Bool)
        )
    }

    pub(crate) fn is_string(&self) -> bool {
        matches!(self.type_char(), Some(TypeChar::UnicodeStr | TypeChar::ByteStr))
    }

    pub(crate) fn is_object(&self) -> bool {
        self.npy.uses_pickled_array()
    }

    /// The dtype as numpy writes it in a header, e.g. `'<f4'` (with the quotes).
    pub(crate) fn descr(&self) -> String {
        self.npy.dtype().descr()
    }

    /// "strings", "numbers" or the dtype, for messages.
    pub(crate) fn describe(&self) -> String {
        if self.is_string() {
            "strings".into()
        } else if self.is_numeric() {
            "numbers".into()
        } else {
            format!("dtype {}", self.npy.dtype().descr())
        }
    }
}

/// "120×120", "16×92×92", "92", "scalar".
pub(crate) fn shape_text(shape: &[usize]) -> String {
    if shape.is_empty() {
        "scalar".to_string()
    } else {
        shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("×")
    }
}

/// Reads the preamble and header from `r`, leaving `r` at the first data byte.
pub(crate) fn read_header(file: &str, r: &mut impl Read) -> Result<Header, SimilarityError> {
    let truncated = |what: &str| {
        SimilarityError::format(
            file,
            format!(
                "is truncated inside the .npy {what}; expected a complete file written by numpy.save"
            ),
        )
    };
    let mut raw = Vec::with_capacity(12);
    let mut read = |raw: &mut Vec<u8>, n: usize| {
        r.by_ref()
            .take(n as u64)
            .read_to_end(raw)
            .map_err(|e| SimilarityError::format(file, format!("cannot be read: {e}")))
    };
    read(&mut raw, 12)?;
    if !MAGIC.starts_with(&raw[..raw.len().min(MAGIC.len())]) {
        return Err(SimilarityError::format(
            file,
            "does not start with the .npy signature (\\x93NUMPY); expected a file written by numpy.save",
        ));
    }
    // the declared header length is checked here because npyz allocates it before reading
    let (start, len) = match raw.get(6..).unwrap_or_default() {
        [1, 0, a, b, ..] => (10, usize::from(u16::from_le_bytes([*a, *b]))),
        [2 | 3, 0, a, b, c, d, ..] => (12, u32::from_le_bytes([*a, *b, *c, *d]) as usize),
        [] | [_] | [1..=3, 0, ..] => return Err(truncated("preamble")),
        [major, minor, ..] => {
            return Err(SimilarityError::unsupported(
                file,
                format!(
                    "uses .npy format version {major}.{minor}; expected version 1.0, 2.0 or 3.0"
                ),
            ));
        }
    };
    if len > MAX_HEADER {
        return Err(SimilarityError::format(
            file,
            format!("declares a {len}-byte .npy header; expected at most {MAX_HEADER} bytes"),
        ));
    }
    let more = (start + len).saturating_sub(raw.len());
    read(&mut raw, more)?;
    if raw.len() < start + len {
        return Err(truncated("header"));
    }
    let depth = nesting(&raw[start..]);
    if depth > MAX_NESTING {
        return Err(SimilarityError::format(
            file,
            format!(
                "has a .npy header whose brackets nest {depth} deep; expected at most {MAX_NESTING} (numpy writes 2)"
            ),
        ));
    }
    let npy = NpyHeader::from_reader(&raw[..]).map_err(|e| {
        let text = String::from_utf8_lossy(&raw[start..]);
        SimilarityError::format(
            file,
            format!(
                "has an unreadable .npy header ({e}): {}",
                super::text::truncate(text.trim(), 120)
            ),
        )
    })?;
    let shape = npy.shape().iter().map(|&d| usize::try_from(d).unwrap_or(usize::MAX)).collect();
    Ok(Header { npy, shape })
}

/// Splits a `.npy` held in memory into its header and data bytes.
pub(crate) fn split<'a>(
    file: &str,
    bytes: &'a [u8],
) -> Result<(Header, &'a [u8]), SimilarityError> {
    let mut rest = bytes;
    let header = read_header(file, &mut rest)?;
    Ok((header, rest))
}

/// A 2-D numeric `.npy` held in memory, as a raw matrix.
pub(crate) fn read_matrix(file: &str, bytes: &[u8]) -> Result<RawMatrix, SimilarityError> {
    let (header, data) = split(file, bytes)?;
    let (rows, cols) = check_matrix(file, "the array", &header, None)?;
    let values = numbers(file, &header, data)?;
    Ok(RawMatrix { rows, cols, values, names: None, warnings: Vec::new() })
}

/// The rows and columns of a 2-D numeric array; otherwise why it is not a matrix. `subject` names
/// the array in messages, `squares` lists the file's 2-D square arrays when it has several.
pub(crate) fn check_matrix(
    file: &str,
    subject: &str,
    header: &Header,
    squares: Option<&str>,
) -> Result<(usize, usize), SimilarityError> {
    let listed =
        squares.map(|s| format!(" (2-D square arrays in the file: {s})")).unwrap_or_default();
    let wrong = |message: String| SimilarityError::WrongShape { file: file.to_string(), message };
    if header.is_string() {
        return Err(wrong(format!(
            "{subject} holds strings; expected a 2-D array of numbers{listed}"
        )));
    }
    if !header.is_numeric() {
        return Err(SimilarityError::unsupported(file, format!("{subject} {}", refusal(header))));
    }
    let shape = shape_text(&header.shape);
    match header.shape[..] {
        [rows, cols] => Ok((rows, cols)),
        [_, _, _] => Err(wrong(format!(
            "{subject} is 3-D ({shape}), for example one matrix per subject; expected a 2-D square matrix{listed}: average them first (e.g. np.mean(x, axis=0))"
        ))),
        _ => Err(wrong(format!(
            "{subject} is {}-D ({shape}); expected a 2-D square matrix{listed}",
            header.shape.len()
        ))),
    }
}

/// Why an array that is neither numbers nor strings is not read: "holds …; expected …".
fn refusal(header: &Header) -> String {
    if header.is_object() {
        return "holds Python objects (dtype=object, saved with pickle), which are not read for safety; save numbers with a numeric dtype (np.asarray(m, dtype=float)) and names as a string array (np.asarray(names, dtype=str))".into();
    }
    let what = match header.npy.dtype() {
        DType::Plain(t) => match t.type_char() {
            TypeChar::Complex => format!("complex numbers (dtype '{t}')"),
            TypeChar::DateTime | TypeChar::TimeDelta => format!("dates or times (dtype '{t}')"),
            TypeChar::Float => format!("an unsupported float width (dtype '{t}')"),
            _ => format!("dtype '{t}'"),
        },
        _ => "a structured dtype (record array)".to_string(),
    };
    format!("holds {what}; expected real numbers (float or int) or strings")
}

/// The data bytes that follow `header`, as numbers in C order.
pub(crate) fn numbers(
    file: &str,
    header: &Header,
    data: &[u8],
) -> Result<Vec<f64>, SimilarityError> {
    fn widen<T: Into<f64>>(v: Vec<T>) -> Vec<f64> {
        v.into_iter().map(Into::into).collect()
    }
    let (f, h, b) = (file, header, data);
    let DType::Plain(t) = header.npy.dtype() else {
        return Err(SimilarityError::unsupported(file, refusal(header)));
    };
    Ok(match (t.type_char(), t.size_field()) {
        (TypeChar::Float, 8) => elements(f, h, b)?,
        (TypeChar::Float, 4) => widen::<f32>(elements(f, h, b)?),
        (TypeChar::Float, 2) => widen::<half::f16>(elements(f, h, b)?),
        (TypeChar::Int, 1) => widen::<i8>(elements(f, h, b)?),
        (TypeChar::Int, 2) => widen::<i16>(elements(f, h, b)?),
        (TypeChar::Int, 4) => widen::<i32>(elements(f, h, b)?),
        (TypeChar::Int, 8) => elements(f, h, b)?.into_iter().map(|v: i64| v as f64).collect(),
        (TypeChar::Uint, 1) => widen::<u8>(elements(f, h, b)?),
        (TypeChar::Uint, 2) => widen::<u16>(elements(f, h, b)?),
        (TypeChar::Uint, 4) => widen::<u32>(elements(f, h, b)?),
        (TypeChar::Uint, 8) => elements(f, h, b)?.into_iter().map(|v: u64| v as f64).collect(),
        (TypeChar::Bool, 1) => widen::<bool>(elements(f, h, b)?),
        (TypeChar::UnicodeStr | TypeChar::ByteStr, _) => {
            return Err(SimilarityError::format(file, "holds strings; expected numbers"));
        }
        _ => return Err(SimilarityError::unsupported(file, refusal(header))),
    })
}

/// The data bytes that follow `header`, as strings (`<U` UTF-32 or `|S` bytes) in C order.
pub(crate) fn strings(
    file: &str,
    header: &Header,
    data: &[u8],
) -> Result<Vec<String>, SimilarityError> {
    if header.is_string() {
        elements(file, header, data)
    } else if header.is_numeric() {
        Err(SimilarityError::format(file, "holds numbers; expected strings (file names)"))
    } else {
        Err(SimilarityError::unsupported(file, refusal(header)))
    }
}

/// The elements as `T`, in C order, once the header's size is known to fit in `bytes`.
fn elements<T: npyz::Deserialize + Clone>(
    file: &str,
    header: &Header,
    bytes: &[u8],
) -> Result<Vec<T>, SimilarityError> {
    let shape = &header.shape;
    let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| {
        SimilarityError::format(
            file,
            format!("declares an impossible shape ({})", shape_text(shape)),
        )
    })?;
    let item = header.npy.dtype().num_bytes().unwrap_or(usize::MAX);
    let need = count.checked_mul(item).filter(|&n| n <= bytes.len()).ok_or_else(|| {
        SimilarityError::format(
            file,
            format!(
                "is truncated: its header promises {count} elements of {item} bytes ({}) but only {} data bytes follow",
                shape_text(shape),
                bytes.len()
            ),
        )
    })?;
    let v =
        NpyFile::with_header(header.npy.clone(), &bytes[..need]).into_vec::<T>().map_err(|e| {
            SimilarityError::format(file, format!("holds data that cannot be decoded: {e}"))
        })?;
    if header.npy.order() == npyz::Order::C || shape.len() < 2 {
        return Ok(v);
    }
    // Fortran order: the element at C-order multi-index i lies at Σ i_d·stride_d
    let strides = header.npy.strides();
    Ok((0..v.len())
        .map(|k| {
            let (mut k, mut at) = (k, 0);
            for (&n, &s) in shape.iter().zip(strides).rev() {
                at += (k % n) * s as usize;
                k /= n;
            }
            v[at].clone()
        })
        .collect())
}

/// Builds `.npy` bytes (version 1) from a descr, order, shape and raw data; for tests.
#[cfg(test)]
pub(crate) fn encode(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape_s = match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let mut dict = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape_s}, }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nums(bytes: &[u8]) -> Result<Vec<f64>, SimilarityError> {
        let (header, data) = split("a.npy", bytes)?;
        numbers("a.npy", &header, data)
    }

    fn strs(bytes: &[u8]) -> Vec<String> {
        let (header, data) = split("a.npy", bytes).unwrap();
        strings("a.npy", &header, data).unwrap()
    }

    fn f64s(v: &[f64]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn reads_f64_c_and_fortran() {
        let data = f64s(&[1., 2., 3., 4.]);
        assert_eq!(nums(&encode("<f8", false, &[2, 2], &data)).unwrap(), [1., 2., 3., 4.]);
        assert_eq!(nums(&encode("<f8", true, &[2, 2], &data)).unwrap(), [1., 3., 2., 4.]);
    }

    #[test]
    fn reads_other_number_types() {
        let cases: [(&str, Vec<u8>, [f64; 2]); 6] = [
            (">f4", [1.5f32, -2.0].iter().flat_map(|x| x.to_be_bytes()).collect(), [1.5, -2.0]),
            ("<i2", [-3i16, 7].iter().flat_map(|x| x.to_le_bytes()).collect(), [-3.0, 7.0]),
            (
                ">i8",
                [-3i64, 1 << 40].iter().flat_map(|x| x.to_be_bytes()).collect(),
                [-3.0, (1u64 << 40) as f64],
            ),
            ("|u1", vec![255, 1], [255.0, 1.0]),
            (
                "<f2",
                [0x3C00u16, 0xC000].iter().flat_map(|x| x.to_le_bytes()).collect(),
                [1.0, -2.0],
            ),
            ("|b1", vec![1, 0], [1.0, 0.0]),
        ];
        for (descr, data, want) in cases {
            assert_eq!(nums(&encode(descr, false, &[2], &data)).unwrap(), want, "{descr}");
        }
    }

    #[test]
    fn reads_strings() {
        let mut d = Vec::new();
        for s in ["ab", "c"] {
            let mut cps: Vec<u32> = s.chars().map(u32::from).collect();
            cps.resize(3, 0);
            d.extend(cps.iter().flat_map(|c| c.to_le_bytes()));
        }
        assert_eq!(strs(&encode("<U3", false, &[2], &d)), ["ab", "c"]);
        assert_eq!(strs(&encode("|S2", false, &[2], b"x\0yz")), ["x", "yz"]);
    }

    #[test]
    fn refuses_bad_input() {
        let err = |bytes: &[u8]| nums(bytes).unwrap_err().to_string();
        let e = err(&encode("|O", false, &[2], &[0; 16]));
        assert!(e.contains("pickle"), "{e}");
        let e = err(&encode("<c16", false, &[2], &[0; 32]));
        assert!(e.contains("complex"), "{e}");
        let e = err(&encode("<f8", false, &[3, 3], &[0; 16]));
        assert!(e.contains("truncated"), "{e}");
        let e = err(&encode("<f8", false, &[usize::MAX, 3], &[]));
        assert!(e.contains("impossible") || e.contains("truncated"), "{e}");
        let e = err(b"\x93NUMPY\x01\x00\x05\x00{'des");
        assert!(e.contains("unreadable") || e.contains("truncated"), "{e}");
        let e = err(b"hello");
        assert!(e.contains("signature"), "{e}");
        let e = err(b"");
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn refuses_deeply_nested_headers_at_once() {
        // The fuzzer's 160-byte file (fuzz/regressions/names_file): npyz's parser would take
        // hours over 40 unclosed brackets. Quotes hide brackets; 6 levels still parse.
        let header = |inner: &str| {
            let text =
                format!("{{'descr': '<f8', 'fortran_order': False, 'shape': (2,{inner})}}\n");
            let mut out = b"\x93NUMPY\x01\x00".to_vec();
            out.extend((text.len() as u16).to_le_bytes());
            out.extend(text.as_bytes());
            out
        };
        let start = std::time::Instant::now();
        let e = nums(&header(&"[".repeat(40))).unwrap_err().to_string();
        assert!(e.contains("nest 42 deep; expected at most 6"), "{e}");
        assert!(start.elapsed().as_secs_f64() < 1.0);
        assert_eq!(nesting(b"{'a': '((((((((', 'b': ([1], \"]]\")}"), 3);
        let e = nums(&header("(((1,),),)")).unwrap_err().to_string();
        assert!(!e.contains("deep"), "{e}");
    }
}
