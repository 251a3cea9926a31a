//! Names files (one name per matrix row) and the clean-up applied to every name.

use serde_json::Value;

use super::error::SimilarityError;
use super::npy;

/// Keys of a names object (`{"fnames": [...]}`), in the order they are tried.
const LIST_KEYS: [&str; 3] = ["fnames", "names", "image_files"];

/// Reads a names file: a JSON list of strings; a Peterson-style `{category: {"fnames": [...]}}`
/// (category chosen by `key`); `{category: [...]}`; a 1-D string `.npy`; or plain text with one
/// name per line.
pub(crate) fn parse_names_file(
    file: &str,
    bytes: &[u8],
    key: Option<&str>,
) -> Result<Vec<String>, SimilarityError> {
    if bytes.starts_with(npy::MAGIC) {
        let (header, data) = npy::split(file, bytes)?;
        if header.shape.len() != 1 {
            return Err(SimilarityError::format(
                file,
                format!(
                    "holds a {} array of {}; expected a 1-D array of strings (file names)",
                    npy::shape_text(&header.shape),
                    header.describe()
                ),
            ));
        }
        return npy::strings(file, &header, data);
    }
    let text = super::text::decode(file, bytes)?;
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(SimilarityError::Empty { file: file.to_string() });
    }
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        let value = super::json::parse_value(file, &text)?;
        return from_json(file, &value, key);
    }
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect())
}

fn from_json(file: &str, value: &Value, key: Option<&str>) -> Result<Vec<String>, SimilarityError> {
    let obj = match value {
        Value::Array(_) => return super::json::string_list(file, value, "the list"),
        Value::Object(obj) => obj,
        _ => {
            return Err(SimilarityError::format(
                file,
                "expected a JSON list of names, or {category: {\"fnames\": [...]}}",
            ));
        }
    };
    // {"fnames": [...]} directly
    if let Some((k, v)) = LIST_KEYS.iter().find_map(|k| obj.get(*k).map(|v| (*k, v)))
        && v.is_array()
    {
        return super::json::string_list(file, v, &format!("the member \"{k}\""));
    }
    // {category: {"fnames": [...]}} or {category: [...]}
    let categories = || obj.keys().cloned().collect::<Vec<_>>().join(", ");
    let (cat, v) = match key {
        Some(k) => match obj.get(k) {
            Some(v) => (k.to_string(), v),
            None => {
                let keys = obj.keys().map(String::as_str);
                return Err(SimilarityError::missing_key(file, "category", k, keys, categories()));
            }
        },
        None if obj.len() == 1 => {
            let (k, v) = obj
                .iter()
                .next()
                .map(|(k, v)| (k.clone(), v))
                .ok_or_else(|| SimilarityError::Empty { file: file.to_string() })?;
            (k, v)
        }
        None => {
            return Err(SimilarityError::KeyRequired {
                file: file.to_string(),
                message: format!("holds names for {} categories; choose one with --key", obj.len()),
                available: categories(),
            });
        }
    };
    match v {
        Value::Array(_) => super::json::string_list(file, v, &format!("the category '{cat}'")),
        Value::Object(inner) => {
            let (k, list) = LIST_KEYS.iter().find_map(|k| inner.get(*k).map(|v| (*k, v))).ok_or_else(|| {
                SimilarityError::format(file, format!("the category '{cat}' has no \"fnames\" list; expected {{\"{cat}\": {{\"fnames\": [...]}}}}"))
            })?;
            super::json::string_list(file, list, &format!("the category '{cat}', member \"{k}\""))
        }
        _ => Err(SimilarityError::format(
            file,
            format!(
                "the category '{cat}' is not a list of names; expected {{\"{cat}\": {{\"fnames\": [...]}}}}"
            ),
        )),
    }
}

/// The file-name part of a name: trimmed, with directories removed ('images/001.png' → '001.png').
pub(crate) fn clean_name(name: &str) -> String {
    crate::file_names::base_name(name.trim()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            parse_names_file("n.json", br#"["a.png", "b.png"]"#, None).unwrap(),
            ["a.png", "b.png"]
        );
        let peterson = br#"{"animals": {"fnames": ["a.png"]}, "fruits": {"fnames": ["f.png"]}}"#;
        assert_eq!(parse_names_file("f.json", peterson, Some("fruits")).unwrap(), ["f.png"]);
        assert_eq!(
            parse_names_file("n.txt", b"\xEF\xBB\xBFa.png\r\n\r\nb c.png\r\n", None).unwrap(),
            ["a.png", "b c.png"]
        );
        assert_eq!(parse_names_file("n.json", br#"{"x": ["q"]}"#, None).unwrap(), ["q"]);
        assert_eq!(parse_names_file("n.json", br#"{"fnames": ["q"]}"#, None).unwrap(), ["q"]);
    }

    #[test]
    fn errors() {
        let peterson = br#"{"animals": {"fnames": ["a.png"]}, "fruits": {"fnames": ["f.png"]}}"#;
        let e = parse_names_file("fnames.json", peterson, Some("animal")).unwrap_err().to_string();
        assert!(e.contains("no category named 'animal'") && e.contains("animals, fruits"), "{e}");
        let e = parse_names_file("fnames.json", peterson, None).unwrap_err().to_string();
        assert!(e.contains("--key") && e.contains("animals, fruits"), "{e}");
        let e = parse_names_file("n.json", br#"["a", 1]"#, None).unwrap_err().to_string();
        assert!(e.contains("item 2"), "{e}");
        assert!(matches!(
            parse_names_file("n.txt", b" \n", None),
            Err(SimilarityError::Empty { .. })
        ));
    }

    #[test]
    fn cleaning() {
        assert_eq!(clean_name(" images/001.png "), "001.png");
        assert_eq!(clean_name("C:\\x\\y.jpg"), "y.jpg");
    }
}
