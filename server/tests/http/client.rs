//! A small HTTP/1.1 client over loopback (hyper-util's, which shares hyper
//! with the server), every call bounded by a timeout, and a server on
//! `127.0.0.1:0`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use zorg_pdp_server::Decider;

/// Every request and server start gives up after this
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// A running server and a client for it
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

/// An answer: status, headers, body
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: hyper::HeaderMap,
    pub(crate) body: String,
}

impl Reply {
    /// The body as JSON
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl Server {
    /// Serves `router` on 127.0.0.1:0
    pub(crate) async fn start(router: axum::Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(zorg_pdp_server::serve(listener, router));
        let client = Client::builder(TokioExecutor::new()).build_http();
        Self {
            addr,
            client,
            task: Some(task),
        }
    }

    /// A client for a server already serving on `addr` in `task`, which is
    /// aborted when this is dropped
    pub(crate) fn serving(
        addr: SocketAddr,
        task: tokio::task::JoinHandle<std::io::Result<()>>,
    ) -> Self {
        Self {
            addr,
            client: Client::builder(TokioExecutor::new()).build_http(),
            task: Some(task),
        }
    }

    /// A client for a server running elsewhere (another process)
    pub(crate) fn client_for(addr: SocketAddr) -> Self {
        Self {
            addr,
            client: Client::builder(TokioExecutor::new()).build_http(),
            task: None,
        }
    }

    /// A server over `decider`
    pub(crate) async fn with(decider: Arc<dyn Decider>) -> Self {
        Self::start(zorg_pdp_server::router(decider, "https://pdp.example")).await
    }

    /// A raw request: method, path, content type, headers and body
    pub(crate) async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let mut b = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        if let Some(ct) = content_type {
            b = b.header("content-type", ct);
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let request = b.body(Full::new(Bytes::from(body.to_owned()))).unwrap();
        let response = tokio::time::timeout(TIMEOUT, self.client.request(request))
            .await
            .expect("the request timed out")
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = tokio::time::timeout(TIMEOUT, response.into_body().collect())
            .await
            .expect("the body timed out")
            .unwrap()
            .to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    /// POSTs JSON, giving a failed or timed-out exchange back as an error
    /// instead of panicking (for a client that outlives its server)
    pub(crate) async fn try_post(&self, path: &str, body: &str) -> Result<Reply, String> {
        let request = hyper::Request::builder()
            .method("POST")
            .uri(format!("http://{}{path}", self.addr))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|e| e.to_string())?;
        let response = tokio::time::timeout(TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| "timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = tokio::time::timeout(TIMEOUT, response.into_body().collect())
            .await
            .map_err(|_| "the body timed out".to_owned())?
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok(Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    /// POSTs JSON
    pub(crate) async fn post(&self, path: &str, body: &str) -> Reply {
        self.send("POST", path, Some("application/json"), &[], body)
            .await
    }

    /// POSTs a JSON value
    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.post(path, &body.to_string()).await
    }

    /// GETs
    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, &[], "").await
    }
}
