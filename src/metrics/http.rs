//! A small HTTP/1.1 server for `GET /metrics`.
//!
//! Requests are parsed by `httparse` (hyper's parser); the server is a
//! thread per connection with a deadline, so no client can hold up
//! another: a request head must arrive whole within
//! [`Config::request_timeout`] (a client that sends one byte a second is
//! answered 408 and closed), answers are written within
//! [`Config::write_timeout`], and at most [`Config::max_connections`]
//! connections are served at once (more wait in the listen backlog).
//! Scrapes run one at a time, so 100 concurrent scrapes cost 100 gathers
//! in a row, not 100 at once. Only `GET /metrics` (any query string) is
//! served: other paths are 404, other methods 405, malformed requests 400,
//! oversized heads 431. Each answer closes its connection.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use netobs_core::stop::{wait, Stop, Wake};

use super::{negotiate, Error, Registry, Result};

/// Called with the errors of the sources a scrape left out (for a log).
pub type ErrorLog = Arc<dyn Fn(&[String]) + Send + Sync>;

/// Server limits.
#[derive(Clone)]
pub struct Config {
    /// Connections served at once; more wait in the kernel's listen
    /// backlog until one ends.
    pub max_connections: usize,
    /// Time a client has to send its whole request head.
    pub request_timeout: Duration,
    /// Time a client has to take the answer.
    pub write_timeout: Duration,
    /// Where the errors of failed sources go.
    pub error_log: Option<ErrorLog>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_connections: 128,
            request_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
            error_log: None,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("max_connections", &self.max_connections)
            .field("request_timeout", &self.request_timeout)
            .field("write_timeout", &self.write_timeout)
            .finish_non_exhaustive()
    }
}

/// The largest request head read.
const MAX_HEAD: usize = 16 * 1024;

/// What the server answers a request head (`None`: incomplete, read on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /metrics`, with the Accept header's value.
    Metrics {
        /// The Accept header.
        accept: Option<String>,
    },
    /// An error status: 400, 404, 405, 431.
    Status(u16),
}

/// Parses a request head with httparse and routes it; `None` while the
/// head is incomplete.
pub fn route(head: &[u8]) -> Option<Route> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Partial) if head.len() >= MAX_HEAD => Some(Route::Status(431)),
        Ok(httparse::Status::Partial) => None,
        Err(httparse::Error::TooManyHeaders) => Some(Route::Status(431)),
        Err(_) => Some(Route::Status(400)),
        Ok(httparse::Status::Complete(_)) => {
            let path = req.path.unwrap_or("");
            let path = path.split('?').next().unwrap_or("");
            if path != "/metrics" {
                return Some(Route::Status(404));
            }
            if req.method != Some("GET") {
                return Some(Route::Status(405));
            }
            let accept = req
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("accept"))
                .map(|h| String::from_utf8_lossy(h.value).into_owned());
            Some(Route::Metrics { accept })
        }
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

fn respond(stream: &mut TcpStream, code: u16, content_type: &str, body: &[u8]) {
    let allow = if code == 405 { "Allow: GET\r\n" } else { "" };
    let head = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{allow}Connection: close\r\n\r\n",
        reason(code),
        body.len()
    );
    // A client that went away or stalls past the write timeout loses its
    // answer; nothing else depends on it.
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body));
    let _ = stream.flush();
}

fn status(stream: &mut TcpStream, code: u16) {
    let body = format!("{code} {}\n", reason(code));
    respond(stream, code, "text/plain; charset=utf-8", body.as_bytes());
}

/// Reads a request head until it routes or the deadline passes.
fn read_route(stream: &mut TcpStream, timeout: Duration) -> Option<Route> {
    let deadline = Instant::now() + timeout;
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Some(Route::Status(408));
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => {
                let room = MAX_HEAD.saturating_sub(head.len());
                head.extend_from_slice(&chunk[..n.min(room)]);
                if let Some(r) = route(&head) {
                    return Some(r);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return Some(Route::Status(408))
            }
            Err(_) => return None,
        }
    }
}

struct Shared {
    registry: Arc<Registry>,
    gather: Mutex<()>,
    active: AtomicUsize,
    config: Config,
}

/// Counts a connection from its accept until its thread ends (or its
/// thread could not start).
struct Active(Arc<Shared>);
impl Drop for Active {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

fn handle(shared: &Shared, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(shared.config.write_timeout));
    match read_route(&mut stream, shared.config.request_timeout) {
        None => {}
        Some(Route::Status(code)) => status(&mut stream, code),
        Some(Route::Metrics { accept }) => {
            let (format, content_type) = negotiate(accept.as_deref());
            let gathered = {
                let _one_at_a_time = shared.gather.lock().unwrap_or_else(|p| p.into_inner());
                shared.registry.gather()
            };
            if let (Some(log), false) = (&shared.config.error_log, gathered.errors.is_empty()) {
                log(&gathered.errors);
            }
            let body = gathered.encode(format);
            respond(&mut stream, 200, content_type, body.as_bytes());
        }
    }
}

/// Serves `registry` on `listener` until `stop` is tripped.
pub fn serve(listener: TcpListener, registry: Arc<Registry>, stop: &Stop, config: Config) -> Result<()> {
    let io = |what: &str| {
        let what = what.to_string();
        move |source| Error::Io { what, source }
    };
    listener
        .set_nonblocking(true)
        .map_err(io("make the listening socket non-blocking"))?;
    let shared = Arc::new(Shared {
        registry,
        gather: Mutex::new(()),
        active: AtomicUsize::new(0),
        config,
    });
    let mut revents = Vec::new();
    loop {
        match wait(&[listener.as_fd()], None, Some(stop), &mut revents).map_err(io("wait for connections"))? {
            Wake::Stopped => return Ok(()),
            Wake::Interrupted if stop.is_stopped() => return Ok(()),
            _ => {}
        }
        loop {
            // At the limit, connections wait in the listen backlog (the
            // kernel's queue) until a served one ends: no thread, no read.
            if shared.active.load(Ordering::Acquire) >= shared.config.max_connections {
                std::thread::sleep(Duration::from_millis(5));
                break;
            }
            let stream = match listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                // ECONNABORTED, EMFILE, ...: this connection is lost, the
                // server goes on (EMFILE frees up as connections end).
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(10));
                    break;
                }
            };
            let _ = stream.set_nonblocking(false);
            shared.active.fetch_add(1, Ordering::AcqRel);
            let active = Active(shared.clone());
            let spawned = std::thread::Builder::new()
                .name("netobs-http".into())
                .spawn(move || handle(&active.0, stream));
            if spawned.is_err() {
                // The closure (its count and connection) went with the error.
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"), None);
        assert_eq!(
            route(b"GET /metrics?x=1 HTTP/1.1\r\nAccept: text/plain\r\n\r\n"),
            Some(Route::Metrics {
                accept: Some("text/plain".into())
            })
        );
        assert_eq!(route(b"POST /metrics HTTP/1.1\r\n\r\n"), Some(Route::Status(405)));
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Some(Route::Status(404)));
        assert_eq!(route(b"\x00\x01garbage\r\n\r\n"), Some(Route::Status(400)));
        assert_eq!(route(&[b'a'; MAX_HEAD]), Some(Route::Status(431)));
        let mut long = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        long.resize(MAX_HEAD, b'a');
        assert_eq!(route(&long), Some(Route::Status(431)));
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

            /// Any bytes route without panicking; a routed answer is one
            /// of the statuses the server knows.
            #[test]
            fn any_head_routes(b in proptest::collection::vec(any::<u8>(), 0..512)) {
                if let Some(Route::Status(c)) = route(&b) {
                    prop_assert!([400, 404, 405, 431].contains(&c));
                }
            }

            /// A valid request split anywhere is incomplete before the
            /// split and routed after it.
            #[test]
            fn prefixes_wait(cut in 0usize..40) {
                let req = b"GET /metrics HTTP/1.1\r\nAccept: */*\r\n\r\n";
                let cut = cut.min(req.len() - 1);
                prop_assert_eq!(route(&req[..cut]), None);
                let routed = matches!(route(req), Some(Route::Metrics { .. }));
                prop_assert!(routed);
            }
        }
    }
}
