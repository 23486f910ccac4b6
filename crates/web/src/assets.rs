//! Every stylesheet and script is embedded in the binary (offices are often air-gapped) and
//! served with a content hash in its URL, so it can be cached for good.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::{Path, RawQuery};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::Embed;
use sha2::{Digest, Sha256};

#[derive(Embed)]
#[folder = "assets/"]
struct Assets;

fn hashes() -> &'static HashMap<String, String> {
    static HASHES: OnceLock<HashMap<String, String>> = OnceLock::new();
    HASHES.get_or_init(|| {
        Assets::iter()
            .filter_map(|name| {
                let file = Assets::get(&name)?;
                Some((name.to_string(), hex::encode(&Sha256::digest(&file.data)[..6])))
            })
            .collect()
    })
}

/// The URL of an embedded asset, with its content hash.
pub fn url(name: &str) -> String {
    match hashes().get(name) {
        Some(h) => format!("/assets/{name}?v={h}"),
        None => format!("/assets/{name}"),
    }
}

pub fn routes() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .route("/assets/{*file}", get(serve))
        // Browsers ask for an icon at the root whatever the page says.
        .route("/favicon.ico", get(favicon))
        .route("/favicon.svg", get(favicon))
}

async fn favicon() -> Response {
    serve(Path("favicon.svg".to_string()), RawQuery(None)).await
}

async fn serve(Path(file): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some(asset) = Assets::get(&file) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mime = match file.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    };
    let cache =
        if query.is_some_and(|q| q.starts_with("v=")) { "public, max-age=31536000, immutable" } else { "no-cache" };
    ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, cache)], asset.data.into_owned()).into_response()
}
