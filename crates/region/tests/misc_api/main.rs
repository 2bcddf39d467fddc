//! Boot resources and sources, files, machine details, notifications,
//! package repositories, SSL/license keys, SSH key import, scripts and
//! script results: shapes as clients read them, permissions, bad input with
//! nothing written, and python-libmaas reading them.

use maas_testkit as common;

mod admin;
mod boot;
mod files;
mod keys;
mod node_devices;

use serde_json::Value;

pub const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// GET returning the raw body (files, BSON).
pub async fn raw(api: &common::Api, path: &str, q: &[(&str, &str)]) -> (u16, String, Vec<u8>) {
    let mut rb = api.http.get(api.url(path)).query(q);
    if let Some(h) = api.auth_header() {
        rb = rb.header("Authorization", h);
    }
    let resp = rb.send().await.unwrap();
    let st = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (st, ct, resp.bytes().await.unwrap().to_vec())
}

pub async fn upload(api: &common::Api, filename: &str, content: Vec<u8>) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .text("filename", filename.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(content).file_name(filename.to_string()),
        );
    api.send(api.http.post(api.url("files/")).multipart(form))
        .await
}
