//! The web dashboard at `/dashboard`: static HTML, CSS and vanilla JavaScript modules compiled
//! into the binary. The pages need no token (they hold no data); every API call they make
//! carries the merchant's bearer token, which the script keeps in a JavaScript variable only.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Where the dashboard lives.
pub const BASE: &str = "/dashboard";

/// The policy every dashboard response carries: only Acorn's own scripts, styles and API;
/// images and PDF previews may also come from `blob:` URLs the script made from downloads.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' blob: data:; connect-src 'self'; frame-src blob:; object-src 'none'; \
base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One embedded file: its path under [`BASE`], content type and bytes.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";

const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_str!("assets/index.html"),
    },
    Asset {
        path: "/style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/style.css"),
    },
    Asset {
        path: "/app.js",
        content_type: JS,
        body: include_str!("assets/app.js"),
    },
    Asset {
        path: "/api.js",
        content_type: JS,
        body: include_str!("assets/api.js"),
    },
    Asset {
        path: "/ui.js",
        content_type: JS,
        body: include_str!("assets/ui.js"),
    },
    Asset {
        path: "/customers.js",
        content_type: JS,
        body: include_str!("assets/customers.js"),
    },
    Asset {
        path: "/customer.js",
        content_type: JS,
        body: include_str!("assets/customer.js"),
    },
    Asset {
        path: "/actions.js",
        content_type: JS,
        body: include_str!("assets/actions.js"),
    },
    Asset {
        path: "/events.js",
        content_type: JS,
        body: include_str!("assets/events.js"),
    },
    Asset {
        path: "/webhooks.js",
        content_type: JS,
        body: include_str!("assets/webhooks.js"),
    },
];

/// The response for one asset. `no-cache` (revalidate every time) because the files change
/// with the binary and are small; the security headers ride on every one of them.
fn serve(asset: &'static Asset) -> Response {
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ];
    (StatusCode::OK, headers, asset.body).into_response()
}

/// The public dashboard routes: `/dashboard` and `/dashboard/` serve the page (which names its
/// assets by absolute path); the other assets sit next to it.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let page = &ASSETS[0];
    let mut router = Router::new().route(BASE, get(move || async move { serve(page) }));
    for asset in ASSETS {
        router = router.route(
            &format!("{BASE}{}", asset.path),
            get(move || async move { serve(asset) }),
        );
    }
    router
}
