//! The `.npy` format, read by hand so that every input is checked before anything is allocated:
//! the header (a small Python dict literal), numeric dtypes (float, int, uint, bool; either byte
//! order; C or Fortran order) and fixed-width string dtypes (`<U..` UTF-32, `|S..` bytes).
//! Pickled object arrays are refused.

use std::io::Read;

use super::error::SimilarityError;

/// The 6 bytes every `.npy` file starts with.
pub(crate) const MAGIC: &[u8] = b"\x93NUMPY";

/// Headers longer than this are refused (numpy writes a few hundred bytes).
const MAX_HEADER: usize = 1 << 20;

/// The element type of an array.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Dtype {
    Float {
        size: usize,
        big: bool,
    },
    Int {
        size: usize,
        big: bool,
        signed: bool,
    },
    Bool,
    /// Fixed-width UTF-32 strings of `chars` code points.
    Unicode {
        chars: usize,
        big: bool,
    },
    /// Fixed-width byte strings.
    Bytes {
        len: usize,
    },
    /// Python objects (needs pickle).
    Object,
    /// Anything else (complex, datetime, structured …), with its description.
    Other(String),
}

impl Dtype {
    /// Bytes per element, when fixed.
    fn item_size(&self) -> Option<usize> {
        match self {
            Dtype::Float { size, .. } | Dtype::Int { size, .. } => Some(*size),
            Dtype::Bool => Some(1),
            Dtype::Unicode { chars, .. } => chars.checked_mul(4),
            Dtype::Bytes { len } => Some(*len),
            Dtype::Object | Dtype::Other(_) => None,
        }
    }

    /// Whether the elements are numbers.
    pub(crate) fn is_numeric(&self) -> bool {
        matches!(self, Dtype::Float { .. } | Dtype::Int { .. } | Dtype::Bool)
    }

    /// Whether the elements are strings.
    pub(crate) fn is_string(&self) -> bool {
        matches!(self, Dtype::Unicode { .. } | Dtype::Bytes { .. })
    }
}

/// What the header of an `.npy` says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    pub dtype: Dtype,
    pub fortran: bool,
    pub shape: Vec<usize>,
}

/// The elements of an array, in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Data {
    Numbers(Vec<f64>),
    Strings(Vec<String>),
}

/// A whole array.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Array {
    pub header: Header,
    pub data: Data,
}

/// "120×120", "16×92×92", "92", "scalar".
pub(crate) fn shape_text(shape: &[usize]) -> String {
    if shape.is_empty() {
        "scalar".to_string()
    } else {
        shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("×")
    }
}

/// Reads the magic, version and header dict from `r`, leaving `r` at the first data byte.
pub(crate) fn read_header(file: &str, r: &mut impl Read) -> Result<Header, SimilarityError> {
    let truncated = |what: &str| {
        SimilarityError::format(
            file,
            format!(
                "is truncated inside the .npy {what}; expected a complete file written by numpy.save"
            ),
        )
    };
    let mut start = Vec::with_capacity(8);
    r.by_ref()
        .take(8)
        .read_to_end(&mut start)
        .map_err(|e| SimilarityError::format(file, format!("cannot be read: {e}")))?;
    let sig = start.len().min(MAGIC.len());
    if start[..sig] != MAGIC[..sig] {
        return Err(SimilarityError::format(
            file,
            "does not start with the .npy signature (\\x93NUMPY); expected a file written by numpy.save",
        ));
    }
    let magic: [u8; 8] = start.as_slice().try_into().map_err(|_| truncated("preamble"))?;
    let major = magic[6];
    let len = match major {
        1 => {
            let mut b = [0u8; 2];
            read_exact(r, &mut b).map_err(|_| truncated("preamble"))?;
            u16::from_le_bytes(b) as usize
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            read_exact(r, &mut b).map_err(|_| truncated("preamble"))?;
            u32::from_le_bytes(b) as usize
        }
        v => {
            return Err(SimilarityError::unsupported(
                file,
                format!("uses .npy format version {v}.{}; expected version 1, 2 or 3", magic[7]),
            ));
        }
    };
    if len > MAX_HEADER {
        return Err(SimilarityError::format(
            file,
            format!("declares a {len}-byte .npy header; expected at most {MAX_HEADER} bytes"),
        ));
    }
    let mut raw = vec![0u8; len];
    read_exact(r, &mut raw).map_err(|_| truncated("header"))?;
    let text = String::from_utf8(raw).map_err(|_| {
        SimilarityError::format(
            file,
            "has a .npy header that is not text; expected a Python dict literal",
        )
    })?;
    parse_header_dict(file, &text)
}

/// `read_exact` that reports short input as an error (never panics).
fn read_exact(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<()> {
    r.read_exact(buf)
}

/// Interprets the header dict `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3), }`.
fn parse_header_dict(file: &str, text: &str) -> Result<Header, SimilarityError> {
    let bad = |why: String| {
        SimilarityError::format(
            file,
            format!(
                "has an unreadable .npy header ({why}): {}",
                super::text::truncate(text.trim(), 120)
            ),
        )
    };
    let mut p = Literal { s: text.as_bytes(), i: 0, depth: 0 };
    let value = p.value().map_err(bad)?;
    p.skip_ws();
    let Lit::Dict(entries) = value else {
        return Err(bad("expected a dict".into()));
    };
    let get = |k: &str| {
        entries.iter().find(|(key, _)| matches!(key, Lit::Str(s) if s == k)).map(|(_, v)| v)
    };
    let dtype = match get("descr") {
        Some(Lit::Str(s)) => parse_typestr(s),
        Some(Lit::List(_)) => Dtype::Other("a structured dtype (record array)".into()),
        _ => return Err(bad("no 'descr' string".into())),
    };
    let fortran = match get("fortran_order") {
        Some(Lit::Bool(b)) => *b,
        _ => return Err(bad("no 'fortran_order' True/False".into())),
    };
    let shape = match get("shape") {
        Some(Lit::Tuple(items)) => {
            let mut shape = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Lit::Int(v) => shape.push(
                        usize::try_from(*v)
                            .map_err(|_| bad(format!("dimension {v} is too large")))?,
                    ),
                    _ => return Err(bad("'shape' holds a non-integer".into())),
                }
            }
            shape
        }
        _ => return Err(bad("no 'shape' tuple".into())),
    };
    Ok(Header { dtype, fortran, shape })
}

/// Parses a numpy type string such as `<f8`, `>i4`, `|b1`, `<U14`, `|S5`, `|O`.
fn parse_typestr(s: &str) -> Dtype {
    let (order, rest) = match s.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (c, &s[1..]),
        _ => ('|', s),
    };
    let big = order == '>';
    let mut chars = rest.chars();
    let Some(kind) = chars.next() else {
        return Dtype::Other(format!("dtype '{s}'"));
    };
    let size: Option<usize> = chars.as_str().parse().ok();
    match (kind, size) {
        ('f', Some(size @ (2 | 4 | 8))) => Dtype::Float { size, big },
        ('i', Some(size @ (1 | 2 | 4 | 8))) => Dtype::Int { size, big, signed: true },
        ('u', Some(size @ (1 | 2 | 4 | 8))) => Dtype::Int { size, big, signed: false },
        ('b', Some(1)) => Dtype::Bool,
        ('U', Some(chars)) => Dtype::Unicode { chars, big },
        ('S' | 'a', Some(len)) => Dtype::Bytes { len },
        ('O', _) => Dtype::Object,
        ('c', _) => Dtype::Other(format!("complex numbers (dtype '{s}')")),
        ('M' | 'm', _) => Dtype::Other(format!("dates or times (dtype '{s}')")),
        ('f', _) => Dtype::Other(format!("an unsupported float width (dtype '{s}')")),
        _ => Dtype::Other(format!("dtype '{s}'")),
    }
}

/// Reads a whole `.npy` file held in memory.
pub(crate) fn read_npy(file: &str, bytes: &[u8]) -> Result<Array, SimilarityError> {
    let mut rest = bytes;
    let header = read_header(file, &mut rest)?;
    let data = read_data(file, &header, rest)?;
    Ok(Array { header, data })
}

/// Decodes the data bytes that follow a header, into C order.
pub(crate) fn read_data(
    file: &str,
    header: &Header,
    bytes: &[u8],
) -> Result<Data, SimilarityError> {
    match &header.dtype {
        Dtype::Object => {
            return Err(SimilarityError::unsupported(
                file,
                "holds Python objects (dtype=object, saved with pickle), which are not read for safety; save numbers with a numeric dtype (np.asarray(m, dtype=float)) and names as a string array (np.asarray(names, dtype=str))",
            ));
        }
        Dtype::Other(what) => {
            return Err(SimilarityError::unsupported(
                file,
                format!("holds {what}; expected real numbers (float or int) or strings"),
            ));
        }
        _ => {}
    }
    let count =
        header.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| {
            SimilarityError::format(
                file,
                format!("declares an impossible shape ({})", shape_text(&header.shape)),
            )
        })?;
    let item = header.dtype.item_size().unwrap_or(0);
    let need = count.checked_mul(item).filter(|&n| n <= bytes.len()).ok_or_else(|| {
        SimilarityError::format(
            file,
            format!(
                "is truncated: its header promises {} elements of {} bytes ({}) but only {} data bytes follow",
                count,
                item,
                shape_text(&header.shape),
                bytes.len()
            ),
        )
    })?;
    let bytes = &bytes[..need];
    let data = match &header.dtype {
        Dtype::Float { size, big } => {
            Data::Numbers(bytes.chunks_exact(*size).map(|c| float(c, *big)).collect())
        }
        Dtype::Int { size, big, signed } => {
            Data::Numbers(bytes.chunks_exact(*size).map(|c| int(c, *big, *signed)).collect())
        }
        Dtype::Bool => Data::Numbers(bytes.iter().map(|&b| f64::from(u8::from(b != 0))).collect()),
        Dtype::Unicode { chars, big } => {
            let mut out = Vec::with_capacity(count);
            if *chars == 0 {
                out.resize(count, String::new());
            } else {
                for (k, c) in bytes.chunks_exact(chars * 4).enumerate() {
                    let mut s = String::new();
                    for u in c.chunks_exact(4) {
                        let b = [u[0], u[1], u[2], u[3]];
                        let code = if *big { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) };
                        if code == 0 {
                            break;
                        }
                        s.push(char::from_u32(code).ok_or_else(|| {
                            SimilarityError::format(file, format!("string {} (counting from 1) holds an invalid code point {code:#x}", k + 1))
                        })?);
                    }
                    out.push(s);
                }
            }
            Data::Strings(out)
        }
        Dtype::Bytes { len } => {
            let mut out = Vec::with_capacity(count);
            if *len == 0 {
                out.resize(count, String::new());
            } else {
                for c in bytes.chunks_exact(*len) {
                    let end = c.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                    out.push(String::from_utf8_lossy(&c[..end]).into_owned());
                }
            }
            Data::Strings(out)
        }
        Dtype::Object | Dtype::Other(_) => unreachable!("refused above"),
    };
    // Fortran order: transpose into C order (only 2-D matters here; higher ranks are refused later)
    let data = if header.fortran && header.shape.len() >= 2 {
        to_c_order(data, &header.shape)
    } else {
        data
    };
    Ok(data)
}

/// Reorders column-major elements into row-major order.
fn to_c_order(data: Data, shape: &[usize]) -> Data {
    fn reorder<T: Clone>(v: Vec<T>, shape: &[usize]) -> Vec<T> {
        // index in Fortran order of C-order multi-index
        let nd = shape.len();
        let mut f_strides = vec![1usize; nd];
        for k in 1..nd {
            f_strides[k] = f_strides[k - 1] * shape[k - 1];
        }
        let mut idx = vec![0usize; nd];
        let mut out = Vec::with_capacity(v.len());
        for _ in 0..v.len() {
            let f: usize = idx.iter().zip(&f_strides).map(|(i, s)| i * s).sum();
            out.push(v[f].clone());
            // increment the C-order multi-index
            for k in (0..nd).rev() {
                idx[k] += 1;
                if idx[k] < shape[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
        out
    }
    match data {
        Data::Numbers(v) => Data::Numbers(reorder(v, shape)),
        Data::Strings(v) => Data::Strings(reorder(v, shape)),
    }
}

fn float(c: &[u8], big: bool) -> f64 {
    match c.len() {
        8 => {
            let b: [u8; 8] = c.try_into().unwrap_or([0; 8]);
            if big { f64::from_be_bytes(b) } else { f64::from_le_bytes(b) }
        }
        4 => {
            let b: [u8; 4] = c.try_into().unwrap_or([0; 4]);
            f64::from(if big { f32::from_be_bytes(b) } else { f32::from_le_bytes(b) })
        }
        _ => {
            let b: [u8; 2] = c.try_into().unwrap_or([0; 2]);
            half_to_f64(if big { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
        }
    }
}

fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 => {
            if frac == 0.0 {
                sign * f64::INFINITY
            } else {
                f64::NAN
            }
        }
        _ => sign * (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
    }
}

fn int(c: &[u8], big: bool, signed: bool) -> f64 {
    let mut b = [0u8; 8];
    let n = c.len();
    if big {
        b[8 - n..].copy_from_slice(c);
        b.reverse();
    } else {
        b[..n].copy_from_slice(c);
    }
    // b is now little-endian, zero-extended
    let u = u64::from_le_bytes(b);
    if signed {
        let shift = 64 - 8 * n as u32;
        (((u << shift) as i64) >> shift) as f64
    } else {
        u as f64
    }
}

/// A Python literal, as found in `.npy` headers.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Tuple(Vec<Lit>),
    List(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

/// A tiny recursive-descent parser for the literals numpy writes.
struct Literal<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Literal<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.i).copied()
    }

    fn value(&mut self) -> Result<Lit, String> {
        self.depth += 1;
        if self.depth > 32 {
            return Err("nested too deeply".into());
        }
        let v = match self.peek() {
            None => Err("unexpected end".into()),
            Some(q @ (b'\'' | b'"')) => self.string(q),
            Some(b'(') => self.seq(b')').map(Lit::Tuple),
            Some(b'[') => self.seq(b']').map(Lit::List),
            Some(b'{') => self.dict(),
            Some(c) if c == b'-' || c.is_ascii_digit() => self.int(),
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
                {
                    self.i += 1;
                }
                match &self.s[start..self.i] {
                    b"True" => Ok(Lit::Bool(true)),
                    b"False" => Ok(Lit::Bool(false)),
                    b"None" => Ok(Lit::None),
                    other => Err(format!("unknown word '{}'", String::from_utf8_lossy(other))),
                }
            }
            Some(c) => Err(format!("unexpected '{}'", c as char)),
        };
        self.depth -= 1;
        v
    }

    fn string(&mut self, quote: u8) -> Result<Lit, String> {
        self.i += 1;
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i] != quote {
            if self.s[self.i] == b'\\' {
                self.i += 1;
            }
            self.i += 1;
        }
        if self.i >= self.s.len() {
            return Err("unterminated string".into());
        }
        let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        self.i += 1;
        Ok(Lit::Str(text))
    }

    fn int(&mut self) -> Result<Lit, String> {
        let start = self.i;
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        // numpy may write 'L' suffixes in very old files
        let digits = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        if self.i < self.s.len() && self.s[self.i] == b'L' {
            self.i += 1;
        }
        digits.parse::<i128>().map(Lit::Int).map_err(|_| format!("bad integer '{digits}'"))
    }

    fn seq(&mut self, close: u8) -> Result<Vec<Lit>, String> {
        self.i += 1;
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok(items);
            }
            items.push(self.value()?);
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {}
                _ => return Err(format!("expected ',' or '{}'", close as char)),
            }
        }
    }

    fn dict(&mut self) -> Result<Lit, String> {
        self.i += 1;
        let mut entries = Vec::new();
        loop {
            if self.peek() == Some(b'}') {
                self.i += 1;
                return Ok(Lit::Dict(entries));
            }
            let k = self.value()?;
            if self.peek() != Some(b':') {
                return Err("expected ':'".into());
            }
            self.i += 1;
            let v = self.value()?;
            entries.push((k, v));
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                _ => return Err("expected ',' or '}'".into()),
            }
        }
    }
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

    fn f64s(v: &[f64]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn reads_f64_c_and_fortran() {
        let a =
            read_npy("a.npy", &encode("<f8", false, &[2, 2], &f64s(&[1., 2., 3., 4.]))).unwrap();
        assert_eq!(a.data, Data::Numbers(vec![1., 2., 3., 4.]));
        let a = read_npy("a.npy", &encode("<f8", true, &[2, 2], &f64s(&[1., 2., 3., 4.]))).unwrap();
        assert_eq!(a.data, Data::Numbers(vec![1., 3., 2., 4.]));
    }

    #[test]
    fn reads_other_number_types() {
        let f32s: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|x| x.to_be_bytes()).collect();
        assert_eq!(
            read_npy("a", &encode(">f4", false, &[2], &f32s)).unwrap().data,
            Data::Numbers(vec![1.5, -2.0])
        );
        let i16s: Vec<u8> = [-3i16, 7].iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(
            read_npy("a", &encode("<i2", false, &[2], &i16s)).unwrap().data,
            Data::Numbers(vec![-3.0, 7.0])
        );
        let i64s: Vec<u8> = [-3i64, 1 << 40].iter().flat_map(|x| x.to_be_bytes()).collect();
        assert_eq!(
            read_npy("a", &encode(">i8", false, &[2], &i64s)).unwrap().data,
            Data::Numbers(vec![-3.0, (1u64 << 40) as f64])
        );
        assert_eq!(
            read_npy("a", &encode("|u1", false, &[2], &[255, 1])).unwrap().data,
            Data::Numbers(vec![255.0, 1.0])
        );
        let h: Vec<u8> = [0x3C00u16, 0xC000].iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(
            read_npy("a", &encode("<f2", false, &[2], &h)).unwrap().data,
            Data::Numbers(vec![1.0, -2.0])
        );
        assert_eq!(
            read_npy("a", &encode("|b1", false, &[2], &[1, 0])).unwrap().data,
            Data::Numbers(vec![1.0, 0.0])
        );
    }

    #[test]
    fn reads_strings() {
        let mut d = Vec::new();
        for s in ["ab", "c"] {
            let mut cps: Vec<u32> = s.chars().map(u32::from).collect();
            cps.resize(3, 0);
            d.extend(cps.iter().flat_map(|c| c.to_le_bytes()));
        }
        let a = read_npy("a", &encode("<U3", false, &[2], &d)).unwrap();
        assert_eq!(a.data, Data::Strings(vec!["ab".into(), "c".into()]));
        let a = read_npy("a", &encode("|S2", false, &[2], b"x\0yz")).unwrap();
        assert_eq!(a.data, Data::Strings(vec!["x".into(), "yz".into()]));
    }

    #[test]
    fn refuses_bad_input() {
        let e = read_npy("a.npy", &encode("|O", false, &[2], &[0; 16])).unwrap_err().to_string();
        assert!(e.contains("pickle"), "{e}");
        let e = read_npy("a.npy", &encode("<c16", false, &[2], &[0; 32])).unwrap_err().to_string();
        assert!(e.contains("complex"), "{e}");
        let e =
            read_npy("a.npy", &encode("<f8", false, &[3, 3], &[0; 16])).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
        let e = read_npy("a.npy", &encode("<f8", false, &[usize::MAX, 3], &[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("impossible") || e.contains("truncated"), "{e}");
        let e = read_npy("a.npy", b"\x93NUMPY\x01\x00\x05\x00{'des").unwrap_err().to_string();
        assert!(e.contains("unreadable") || e.contains("truncated"), "{e}");
        let e = read_npy("a.npy", b"hello").unwrap_err().to_string();
        assert!(e.contains("signature"), "{e}");
        let e = read_npy("a.npy", b"").unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
    }
}
