//! `alignmap serve`: the browser app's static files on localhost.

use std::path::{Component, Path, PathBuf};

use alignmap::error::{Error, Result};

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// Maps a request path to a file under `root`, refusing anything that climbs out of it.
fn resolve(root: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let mut file = root.to_path_buf();
    for component in Path::new(path.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => file.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    file.is_file().then_some(file)
}

pub fn serve(dir: &Path, port: u16) -> Result<()> {
    if !dir.join("index.html").is_file() {
        return Err(Error::Invalid(format!(
            "{}: no index.html to serve (run scripts/serve.sh from the repository root)",
            dir.display()
        )));
    }
    let server = tiny_http::Server::http(("127.0.0.1", port))
        .map_err(|e| Error::Invalid(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    eprintln!("alignmap: serving {} at http://127.0.0.1:{port}/ (Ctrl-C stops)", dir.display());
    for request in server.incoming_requests() {
        let response = match resolve(dir, request.url())
            .and_then(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        {
            Some((path, bytes)) => tiny_http::Response::from_data(bytes)
                .with_header(
                    tiny_http::Header::from_bytes("Content-Type", content_type(&path))
                        .expect("valid header"),
                )
                .with_header(
                    tiny_http::Header::from_bytes("Cache-Control", "no-cache")
                        .expect("valid header"),
                )
                .with_status_code(200),
            None => tiny_http::Response::from_string("not found").with_status_code(404),
        };
        let _ = request.respond(response);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_cannot_leave_the_served_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "x").unwrap();
        assert_eq!(resolve(dir.path(), "/").unwrap(), dir.path().join("index.html"));
        assert_eq!(resolve(dir.path(), "/index.html?v=1").unwrap(), dir.path().join("index.html"));
        assert!(resolve(dir.path(), "/../etc/passwd").is_none());
        assert!(resolve(dir.path(), "/missing.js").is_none());
    }
}
