//! A browser for the in-process web tests: it calls the router directly (no socket), keeps the
//! session cookie, and reads the CSRF token from pages as a browser's form would send it.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The password of every account the tests create.
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Browser {
    pub app: axum::Router,
    pub cookie: Option<String>,
}

pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

impl Browser {
    pub fn new(app: &axum::Router) -> Browser {
        Browser {
            app: app.clone(),
            cookie: None,
        }
    }

    pub async fn send(&mut self, req: Request<Body>) -> Answer {
        let res = self.app.clone().oneshot(req).await.unwrap();
        if let Some(c) = res.headers().get(header::SET_COOKIE) {
            let c = c.to_str().unwrap();
            if c.starts_with("lang=") {
                // The language choice: no secret, kept by the tests that ask for it.
            } else if c.contains("Max-Age=0") {
                self.cookie = None;
            } else {
                // The session cookie: never readable by scripts, never sent cross-site.
                assert!(
                    c.contains("HttpOnly") && c.contains("SameSite=Strict"),
                    "{c}"
                );
                self.cookie = Some(c.split(';').next().unwrap().to_string());
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let location = headers
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_string());
        let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        Answer {
            status,
            location,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    pub fn request(&self, method: &str, path: &str) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(c) = &self.cookie {
            b = b.header(header::COOKIE, c);
        }
        b
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let req = self.request("GET", path).body(Body::empty()).unwrap();
        self.send(req).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = self
            .request("POST", path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// A multipart form: each part a field name, a file name for a file, and its content.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> Answer {
        const BOUNDARY: &str = "XBOUNDARYX";
        let mut body = Vec::new();
        for (name, file, content) in parts {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            match file {
                Some(f) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                         Content-Type: text/csv\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let req = self
            .request("POST", path)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// A form with text `fields` and, if chosen, one file (field name, file name, bytes), as a
    /// browser sends a form with a file input.
    pub async fn post_form_with_file(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, &[u8])>,
    ) -> Answer {
        let mut parts: Vec<(&str, Option<&str>, &[u8])> = fields
            .iter()
            .map(|(k, v)| (*k, None, v.as_bytes()))
            .collect();
        if let Some((name, file_name, bytes)) = file {
            parts.push((name, Some(file_name), bytes));
        }
        self.post_multipart(path, &parts).await
    }

    /// A JSON API call, with the CSRF token in its header if given.
    pub async fn post_json(
        &mut self,
        path: &str,
        csrf: Option<&str>,
        body: serde_json::Value,
    ) -> Answer {
        let mut req = self
            .request("POST", path)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = csrf {
            req = req.header("x-csrf-token", t);
        }
        let req = req.body(Body::from(body.to_string())).unwrap();
        self.send(req).await
    }

    /// The CSRF token in the page at `path`.
    pub async fn csrf(&mut self, path: &str) -> String {
        let page = self.get(path).await;
        let at = page
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no csrf field in {path}: {}", page.body));
        let rest = &page.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    /// A browser signed in as `name` (with [`PASSWORD`]).
    pub async fn login(app: &axum::Router, name: &str) -> Browser {
        let mut b = Browser::new(app);
        let csrf = b.csrf("/login").await;
        let a = b
            .post_form(
                "/login",
                &[("name", name), ("password", PASSWORD), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{name}: {}", a.body);
        b
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
