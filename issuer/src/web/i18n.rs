//! The page language: Chinese first, English on request. The choice is a cookie (`lang=en`)
//! set by `/lang?to=en`; a middleware reads it once per request into a task-local, so every
//! page and the layout ask [`lang`] instead of threading it through each call. Texts are
//! written as pairs beside their use — `t("登录", "Sign in")` — so that a page's two languages
//! are read and changed together.

use axum::extract::{Query, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub use checkpass::verdict::Lang;

tokio::task_local! {
    static LANG: Lang;
}

/// This request's language (Chinese outside a request).
pub fn lang() -> Lang {
    LANG.try_with(|l| *l).unwrap_or_default()
}

/// The text in this request's language.
pub fn t(zh: &'static str, en: &'static str) -> &'static str {
    match lang() {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// An application's status in this request's language.
pub fn status(s: crate::workflow::Status) -> &'static str {
    t(s.label_zh(), s.label_en())
}

/// A role in this request's language.
pub fn role(r: crate::accounts::Role) -> &'static str {
    t(r.label_zh(), r.label_en())
}

/// A cargo category in this request's language.
pub fn category(c: checkpass::pass::Category) -> &'static str {
    t(c.label_zh(), c.label_en())
}

/// A form field's (spreadsheet column's) name in this request's language.
pub fn column(c: crate::validate::Column) -> &'static str {
    t(c.header(), c.header_en())
}

/// An intake problem in this request's language, with its detail.
pub fn problem(p: &crate::problem::Problem) -> String {
    match (lang(), &p.detail) {
        (Lang::Zh, _) => p.to_string(),
        (Lang::En, Some(d)) => format!("{} ({d})", p.kind.message(Lang::En)),
        (Lang::En, None) => p.kind.message(Lang::En),
    }
}

/// The language a request's `Cookie` header asks for.
pub fn from_cookies(cookies: Option<&str>) -> Lang {
    let asked = cookies
        .into_iter()
        .flat_map(|c| c.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == COOKIE).then_some(v)
        });
    match asked {
        Some("en") => Lang::En,
        _ => Lang::Zh,
    }
}

const COOKIE: &str = "lang";

/// Runs the rest of the request in the language its cookie asks for.
pub async fn middleware(req: Request, next: Next) -> Response {
    let lang = from_cookies(
        req.headers()
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok()),
    );
    LANG.scope(lang, next.run(req)).await
}

#[derive(Deserialize)]
pub struct Switch {
    to: Option<String>,
    back: Option<String>,
}

/// `GET /lang?to=en|zh[&back=/path]`: remembers the language for a year and goes back to the
/// page it was asked from (`back`, else the `Referer`'s path) — only ever a path of this site,
/// never an open redirect.
pub async fn switch(headers: axum::http::HeaderMap, Query(q): Query<Switch>) -> Response {
    let to = match q.to.as_deref() {
        Some("en") => "en",
        _ => "zh",
    };
    let referer = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.parse::<axum::http::Uri>().ok())
        .and_then(|u| u.path_and_query().map(|p| p.as_str().to_string()));
    let back = q
        .back
        .or(referer)
        .filter(|b| local_path(b))
        .unwrap_or_else(|| "/".into());
    (
        [(
            header::SET_COOKIE,
            format!("{COOKIE}={to}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"),
        )],
        Redirect::to(&back),
    )
        .into_response()
}

/// A path of this site: `/…`, not `//host` or `/\\host`, which browsers take for another site.
fn local_path(p: &str) -> bool {
    p.starts_with('/') && !p.starts_with("//") && !p.contains('\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_to_go_back_to() {
        assert!(local_path("/queue?status=all"));
        assert!(!local_path("//evil.example/"));
        assert!(!local_path("/\\evil.example/"));
        assert!(!local_path("https://evil.example/"));
    }

    #[test]
    fn the_cookie_chooses_and_chinese_is_the_default() {
        assert_eq!(from_cookies(None), Lang::Zh);
        assert_eq!(from_cookies(Some("id=abc; lang=en")), Lang::En);
        assert_eq!(from_cookies(Some("lang=fr")), Lang::Zh);
        assert_eq!(from_cookies(Some("xlang=en")), Lang::Zh);
        assert_eq!(t("登录", "Sign in"), "登录");
    }

    #[tokio::test]
    async fn a_request_in_english() {
        let text = LANG.scope(Lang::En, async { t("登录", "Sign in") }).await;
        assert_eq!(text, "Sign in");
    }
}
