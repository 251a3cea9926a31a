//! JSON matrices: `[[...], ...]`, or `{"names": [...], "matrix": [[...]]}` (the matrix may also
//! be under "similarity", "rdm" or "dissimilarity"), optionally one level down under a key.

use serde_json::{Map, Value};

use super::error::SimilarityError;
use super::npz::NAME_KEYS;
use super::{Direction, RawMatrix};

/// Members that may hold the matrix, in the order they are tried.
const MATRIX_KEYS: [&str; 4] = ["matrix", "similarity", "rdm", "dissimilarity"];

/// Parses JSON text, accepting the bare `NaN`, `Infinity` and `-Infinity` that Python writes and
/// numbers beyond f64 such as `1e999` (see [`replace_nonfinite`]), so that validation reports
/// where they are.
pub(crate) fn parse_value(file: &str, text: &str) -> Result<Value, SimilarityError> {
    let cleaned = replace_nonfinite(text);
    serde_json::from_str(&cleaned)
        .map_err(|e| SimilarityError::format(file, format!("is not valid JSON: {e}")))
}

/// Outside strings: `NaN` becomes `null` (read as NaN); `Infinity`, `-Infinity` and numbers too
/// large for f64 become the strings `"inf"` and `"-inf"` (read as infinite).
fn replace_nonfinite(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let word = if in_string {
            0
        } else {
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
                .unwrap_or(rest.len())
        };
        if word == 0 {
            if in_string {
                (in_string, escaped) = (escaped || c != '"', !escaped && c == '\\');
            } else {
                in_string = c == '"';
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let (token, tail) = rest.split_at(word);
        // Rust's parse reads "Infinity" too, and overflows "1e999" to infinity
        let infinite = token.parse::<f64>().is_ok_and(f64::is_infinite);
        out.push_str(match token {
            "NaN" | "-NaN" => "null",
            _ if infinite && token.starts_with('-') => "\"-inf\"",
            _ if infinite => "\"inf\"",
            _ => token,
        });
        rest = tail;
    }
    out
}

/// Reads a matrix from JSON bytes.
pub(crate) fn parse_json(
    file: &str,
    text: &str,
    key: Option<&str>,
    direction: Direction,
) -> Result<RawMatrix, SimilarityError> {
    let value = parse_value(file, text)?;
    let mut warnings = Vec::new();
    let raw = match &value {
        Value::Array(_) => {
            if let Some(k) = key {
                warnings.push(format!(
                    "{file}: the key '{k}' was ignored: the file holds a single matrix"
                ));
            }
            matrix(file, &value, "the file")?
        }
        Value::Object(obj) => {
            let target = match key {
                Some(k) if obj.contains_key(k) => Some((k, &obj[k])),
                Some(k) if has_matrix(obj) => {
                    warnings.push(format!(
                        "{file}: the key '{k}' was ignored: the file holds a single matrix"
                    ));
                    None
                }
                Some(k) => {
                    let keys = obj.keys().map(String::as_str);
                    let available = keys.clone().collect::<Vec<_>>().join(", ");
                    return Err(SimilarityError::missing_key(file, "member", k, keys, available));
                }
                None if has_matrix(obj) => None,
                None => {
                    let candidates: Vec<&String> =
                        obj.keys().filter(|k| is_matrix_like(&obj[k.as_str()])).collect();
                    if candidates.len() == 1 {
                        let k = candidates[0].as_str();
                        warnings.push(format!("{file}: no key given; used the member '{k}', the only matrix in the file"));
                        Some((k, &obj[k]))
                    } else {
                        return Err(SimilarityError::KeyRequired {
                            file: file.to_string(),
                            message: format!(
                                "is an object without a \"matrix\" member ({} members look like matrices); expected [[...], ...] or {{\"names\": [...], \"matrix\": [[...]]}}, or choose a member with --key",
                                candidates.len()
                            ),
                            available: obj.keys().cloned().collect::<Vec<_>>().join(", "),
                        });
                    }
                }
            };
            match target {
                None => object_form(file, obj, direction, &mut warnings)?,
                Some((k, v @ Value::Array(_))) => matrix(file, v, &format!("the member '{k}'"))?,
                Some((_, Value::Object(inner))) if has_matrix(inner) => {
                    object_form(file, inner, direction, &mut warnings)?
                }
                Some((k, _)) => {
                    return Err(SimilarityError::format(
                        file,
                        format!(
                            "the member '{k}' is not a matrix; expected [[...], ...] or {{\"names\": [...], \"matrix\": [[...]]}}"
                        ),
                    ));
                }
            }
        }
        _ => {
            return Err(SimilarityError::format(
                file,
                "holds a single JSON value; expected [[...], ...] or {\"names\": [...], \"matrix\": [[...]]}",
            ));
        }
    };
    let mut raw = raw;
    warnings.append(&mut raw.warnings);
    raw.warnings = warnings;
    Ok(raw)
}

fn has_matrix(obj: &Map<String, Value>) -> bool {
    MATRIX_KEYS.iter().any(|k| obj.contains_key(*k))
}

fn is_matrix_like(v: &Value) -> bool {
    match v {
        Value::Array(rows) => rows.first().is_some_and(Value::is_array),
        Value::Object(o) => has_matrix(o),
        _ => false,
    }
}

/// `{"names": [...], "matrix": [[...]]}`.
fn object_form(
    file: &str,
    obj: &Map<String, Value>,
    direction: Direction,
    warnings: &mut Vec<String>,
) -> Result<RawMatrix, SimilarityError> {
    let (mkey, mval) =
        MATRIX_KEYS.iter().find_map(|k| obj.get(*k).map(|v| (*k, v))).ok_or_else(|| {
            SimilarityError::format(
                file,
                "has no \"matrix\" member; expected {\"names\": [...], \"matrix\": [[...]]}",
            )
        })?;
    match (mkey, direction) {
        ("rdm" | "dissimilarity", Direction::Similarity) => warnings.push(format!(
            "{file}: the matrix is stored under \"{mkey}\", which usually holds dissimilarities, but it is read as a similarity; if it is a dissimilarity, pass --dissimilarity"
        )),
        ("similarity", Direction::Dissimilarity) => warnings.push(format!(
            "{file}: the matrix is stored under \"similarity\" but it is read as a dissimilarity; if it is a similarity, drop --dissimilarity"
        )),
        _ => {}
    }
    let mut raw = matrix(file, mval, &format!("the member \"{mkey}\""))?;
    if let Some((nkey, nval)) = NAME_KEYS.iter().find_map(|k| obj.get(*k).map(|v| (*k, v))) {
        raw.names = Some(string_list(file, nval, &format!("the member \"{nkey}\""))?);
    }
    Ok(raw)
}

/// An array of arrays of numbers (null, and numbers written as strings, are accepted).
fn matrix(file: &str, v: &Value, what: &str) -> Result<RawMatrix, SimilarityError> {
    let Value::Array(rows) = v else {
        return Err(SimilarityError::format(
            file,
            format!("{what} is not an array; expected an array of rows [[...], ...]"),
        ));
    };
    if rows.is_empty() {
        return Err(SimilarityError::Empty { file: file.to_string() });
    }
    let mut cols = None;
    let mut values = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let Value::Array(cells) = row else {
            return Err(SimilarityError::format(
                file,
                format!(
                    "{what}: row {} (counting from 1) is not an array; expected an array of rows [[...], ...]",
                    i + 1
                ),
            ));
        };
        match cols {
            None => cols = Some(cells.len()),
            Some(c) if c != cells.len() => {
                return Err(SimilarityError::format(
                    file,
                    format!(
                        "{what}: row {} (counting from 1) has {} values but row 1 has {c}; expected rows of equal length",
                        i + 1,
                        cells.len()
                    ),
                ));
            }
            _ => {}
        }
        for (j, cell) in cells.iter().enumerate() {
            let x = match cell {
                Value::Number(n) => n.as_f64(),
                Value::Null => Some(f64::NAN),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            let Some(x) = x else {
                return Err(SimilarityError::format(
                    file,
                    format!(
                        "{what}: row {}, column {} (counting from 1) is {}; expected a number",
                        i + 1,
                        j + 1,
                        super::text::truncate(&cell.to_string(), 40)
                    ),
                ));
            };
            values.push(x);
        }
    }
    Ok(RawMatrix {
        rows: rows.len(),
        cols: cols.unwrap_or(0),
        values,
        names: None,
        warnings: Vec::new(),
    })
}

/// An array of strings.
pub(crate) fn string_list(
    file: &str,
    v: &Value,
    what: &str,
) -> Result<Vec<String>, SimilarityError> {
    let Value::Array(items) = v else {
        return Err(SimilarityError::format(
            file,
            format!("{what} is not an array; expected a list of names"),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => Ok(s.clone()),
            other => Err(SimilarityError::format(
                file,
                format!(
                    "{what}: item {} (counting from 1) is {}; expected a string (a file name)",
                    i + 1,
                    super::text::truncate(&other.to_string(), 40)
                ),
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_arrays_and_nonfinite_tokens() {
        let m =
            parse_json("m.json", "[[1, 0.5], [0.5, NaN]]", None, Direction::Similarity).unwrap();
        assert_eq!((m.rows, m.cols), (2, 2));
        assert!(m.values[3].is_nan());
        // tokens inside strings are left alone
        assert_eq!(
            replace_nonfinite(r#"{"a": "NaN \" Infinity", "b": -Infinity}"#),
            r#"{"a": "NaN \" Infinity", "b": "-inf"}"#
        );
        assert_eq!(
            replace_nonfinite("[1e999, -1E+999, 1e-999, 2.5]"),
            r#"["inf", "-inf", 1e-999, 2.5]"#
        );
        let m =
            parse_json("m.json", "[[Infinity, 1e999], [-1e999, 3]]", None, Direction::Similarity)
                .unwrap();
        assert_eq!(m.values, [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, 3.0]);
    }

    #[test]
    fn object_form_with_names_and_direction_warning() {
        let t = r#"{"names": ["a", "b"], "rdm": [[0, 1], [1, 0]]}"#;
        let m = parse_json("m.json", t, None, Direction::Similarity).unwrap();
        assert_eq!(m.names.as_deref().unwrap(), ["a", "b"]);
        assert_eq!(m.warnings.len(), 1);
        assert!(m.warnings[0].contains("--dissimilarity"));
        let m = parse_json("m.json", t, None, Direction::Dissimilarity).unwrap();
        assert!(m.warnings.is_empty());
    }

    #[test]
    fn keyed_members() {
        let t = r#"{"cats": {"names": ["a"], "matrix": [[1]]}, "dogs": [[2]]}"#;
        assert_eq!(
            parse_json("m.json", t, Some("dogs"), Direction::Similarity).unwrap().values,
            vec![2.0]
        );
        assert_eq!(
            parse_json("m.json", t, Some("cats"), Direction::Similarity).unwrap().names.unwrap(),
            ["a"]
        );
        let e =
            parse_json("m.json", t, Some("cat"), Direction::Similarity).unwrap_err().to_string();
        assert!(
            e.contains("no member named 'cat'")
                && e.contains("did you mean 'cats'")
                && e.contains("dogs"),
            "{e}"
        );
        let e = parse_json("m.json", t, None, Direction::Similarity).unwrap_err().to_string();
        assert!(e.contains("--key") && e.contains("cats, dogs"), "{e}");
    }

    #[test]
    fn errors() {
        for (t, want) in [
            ("[[1, 2], [3]]", "row 2 (counting from 1) has 1 values"),
            ("[[1, 2], [3, true]]", "row 2, column 2"),
            ("[1, 2]", "row 1 (counting from 1) is not an array"),
            ("[[1, 2], [3, 4]", "not valid JSON"),
            ("42", "single JSON value"),
            (r#"{"names": ["a", 3], "matrix": [[1]]}"#, "item 2"),
        ] {
            let e = parse_json("m.json", t, None, Direction::Similarity).unwrap_err().to_string();
            assert!(e.starts_with("m.json: ") && e.contains(want), "{t}: {e}");
        }
    }
}
