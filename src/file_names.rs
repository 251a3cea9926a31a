//! File names as the user's files carry them: the last path component, and the stem that
//! matches a matrix row, a saliency map or an overlay to its image.

/// The name without directories, either separator ('images/001.png' → '001.png').
pub fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// The base name without its extension ('dir/001.png' → '001'; '.hidden' and 'README' stay).
pub fn stem(name: &str) -> &str {
    let base = base_name(name);
    match base.rfind('.') {
        Some(i) if i > 0 => &base[..i],
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_base_names() {
        assert_eq!(base_name("a/b\\c.png"), "c.png");
        assert_eq!(stem("a/b\\c.tar.png"), "c.tar");
        assert_eq!(stem(".hidden"), ".hidden");
        assert_eq!(stem("README"), "README");
        assert_eq!(stem("a.b.png"), "a.b");
        assert_eq!(stem("x/"), "");
    }
}
