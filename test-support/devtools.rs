//! A small Chrome DevTools protocol driver for Debian's `/usr/bin/chromium` (no browser
//! download): launch it headless, open a page with the network off, run JavaScript,
//! collect script errors and requests, take screenshots. Shared by labsniff's browser
//! test (`tests/html_browser.rs`) and `cargo xtask screenshots` (included with
//! `#[path]`). Every wait is bounded; the browser is killed when [`Browser`] drops.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// The browser Debian installs (`apt-get install -y chromium`).
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Events kept while waiting for a response (beyond it they are dropped, counted).
const EVENTS_KEPT: usize = 10_000;

/// A headless Chromium, killed (and its profile directory removed) on drop.
pub struct Browser {
    child: Child,
    profile: PathBuf,
    socket: WebSocket<TcpStream>,
    next_id: u64,
    session: Option<String>,
    /// Events received so far (method, params), bounded by [`EVENTS_KEPT`].
    pub events: Vec<(String, serde_json::Value)>,
    pub events_dropped: usize,
    timeout: Duration,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Browser(pid {})", self.child.id())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.socket.close(None);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Why the browser cannot be used: absent (tests skip) or failing (tests fail).
#[derive(Debug)]
pub enum Unavailable {
    Missing(String),
    Failed(String),
}

impl Browser {
    /// Start Chromium and open one page target; every step within `timeout`.
    pub fn launch(timeout: Duration) -> Result<Browser, Unavailable> {
        if !Path::new(CHROMIUM).exists() {
            return Err(Unavailable::Missing(format!(
                "{CHROMIUM} is not installed (apt-get install -y chromium)"
            )));
        }
        let profile = std::env::temp_dir().join(format!(
            "labsniff-chromium-{}-{}",
            std::process::id(),
            rand_seed()
        ));
        let fail = |e: String| Unavailable::Failed(e);
        std::fs::create_dir_all(&profile).map_err(|e| fail(e.to_string()))?;
        let mut child = Command::new(CHROMIUM)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--remote-debugging-port=0",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("cannot start {CHROMIUM}: {e}")))?;
        let url = match devtools_url(&mut child, timeout) {
            Ok(u) => u,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_dir_all(&profile);
                return Err(fail(e));
            }
        };
        let socket = match connect(&url) {
            Ok(s) => s,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_dir_all(&profile);
                return Err(fail(e));
            }
        };
        let mut browser = Browser {
            child,
            profile,
            socket,
            next_id: 0,
            session: None,
            events: Vec::new(),
            events_dropped: 0,
            timeout,
        };
        let target = browser
            .send(
                "Target.createTarget",
                serde_json::json!({"url": "about:blank"}),
            )
            .map_err(fail)?;
        let id = target["targetId"].as_str().unwrap_or_default().to_string();
        let attached = browser
            .send(
                "Target.attachToTarget",
                serde_json::json!({"targetId": id, "flatten": true}),
            )
            .map_err(fail)?;
        browser.session = attached["sessionId"].as_str().map(str::to_string);
        if browser.session.is_none() {
            return Err(fail(format!("no session: {attached}")));
        }
        Ok(browser)
    }

    /// Send a command to the page (or the browser before a page is attached) and wait
    /// for its result; events that arrive meanwhile are kept in [`Browser::events`].
    pub fn send(
        &mut self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = serde_json::json!({"id": id, "method": method, "params": params});
        if let Some(s) = &self.session {
            msg["sessionId"] = serde_json::Value::String(s.clone());
        }
        self.socket
            .send(Message::text(msg.to_string()))
            .map_err(|e| format!("{method}: {e}"))?;
        let deadline = Instant::now() + self.timeout;
        loop {
            let v = self.receive(deadline, method)?;
            if v["id"].as_u64() == Some(id) {
                if let Some(err) = v.get("error") {
                    return Err(format!("{method}: {err}"));
                }
                return Ok(v["result"].clone());
            }
        }
    }

    /// Wait (at most the timeout) for the event `method`; true when it came.
    pub fn wait_event(&mut self, method: &str) -> Result<bool, String> {
        if self.events.iter().any(|(m, _)| m == method) {
            return Ok(true);
        }
        let deadline = Instant::now() + self.timeout;
        while Instant::now() < deadline {
            match self.receive(deadline, method) {
                Ok(_) => {
                    if self.events.iter().any(|(m, _)| m == method) {
                        return Ok(true);
                    }
                }
                Err(_) => return Ok(false),
            }
        }
        Ok(false)
    }

    /// One message, before `deadline`; events are recorded.
    fn receive(&mut self, deadline: Instant, what: &str) -> Result<serde_json::Value, String> {
        loop {
            if Instant::now() >= deadline {
                return Err(format!("{what}: no answer within {:?}", self.timeout));
            }
            match self.socket.read() {
                Ok(Message::Text(t)) => {
                    let v: serde_json::Value =
                        serde_json::from_str(t.as_str()).map_err(|e| e.to_string())?;
                    if let Some(m) = v["method"].as_str() {
                        if self.events.len() < EVENTS_KEPT {
                            self.events.push((m.to_string(), v["params"].clone()));
                        } else {
                            self.events_dropped += 1;
                        }
                    }
                    return Ok(v);
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(format!("{what}: {e}")),
            }
        }
    }

    /// Open `path` from file:// with the network off; waits for the load event.
    pub fn open_offline(&mut self, path: &Path, width: u32, height: u32) -> Result<(), String> {
        for domain in [
            "Page.enable",
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
        ] {
            self.send(domain, serde_json::json!({}))?;
        }
        self.send(
            "Network.emulateNetworkConditions",
            serde_json::json!({"offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        )?;
        self.send(
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        )?;
        let abs = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
        self.events.retain(|(m, _)| m != "Page.loadEventFired");
        self.send(
            "Page.navigate",
            serde_json::json!({"url": format!("file://{}", abs.display())}),
        )?;
        if !self.wait_event("Page.loadEventFired")? {
            return Err(format!("{}: no load event", path.display()));
        }
        Ok(())
    }

    /// Evaluate `expression` in the page; its value (JSON).
    pub fn eval(&mut self, expression: &str) -> Result<serde_json::Value, String> {
        let r = self.send(
            "Runtime.evaluate",
            serde_json::json!({"expression": expression, "returnByValue": true}),
        )?;
        if let Some(e) = r.get("exceptionDetails") {
            return Err(format!("{expression}: {e}"));
        }
        Ok(r["result"]["value"].clone())
    }

    /// Script errors so far: exceptions, console errors, error log entries.
    pub fn errors(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|(m, p)| match m.as_str() {
                "Runtime.exceptionThrown" => Some(format!("exception: {}", p["exceptionDetails"])),
                "Runtime.consoleAPICalled" if p["type"] == "error" => {
                    Some(format!("console.error: {}", p["args"]))
                }
                "Log.entryAdded" if p["entry"]["level"] == "error" => {
                    Some(format!("log: {}", p["entry"]["text"]))
                }
                _ => None,
            })
            .collect()
    }

    /// Requests the page made to anything but a file: or data: URL.
    pub fn remote_requests(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|(m, _)| m == "Network.requestWillBeSent")
            .filter_map(|(_, p)| p["request"]["url"].as_str())
            .filter(|u| !u.starts_with("file:") && !u.starts_with("data:"))
            .map(str::to_string)
            .collect()
    }

    /// A PNG of the viewport, written to `out`; its size in bytes.
    pub fn screenshot(&mut self, out: &Path) -> Result<usize, String> {
        let r = self.send(
            "Page.captureScreenshot",
            serde_json::json!({"format": "png"}),
        )?;
        let data = base64_decode(r["data"].as_str().unwrap_or_default())?;
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        std::fs::write(out, &data).map_err(|e| format!("{}: {e}", out.display()))?;
        Ok(data.len())
    }
}

fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos().into())
}

/// The `ws://` URL Chromium prints on stderr ("DevTools listening on ws://…").
fn devtools_url(child: &mut Child, timeout: Duration) -> Result<String, String> {
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = mpsc::channel();
    // Reads stderr to its end (the browser's exit), so that it never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("ws://") {
                let _ = tx.send(line[at..].trim().to_string());
            }
        }
    });
    rx.recv_timeout(timeout)
        .map_err(|_| format!("{CHROMIUM} printed no DevTools URL within {timeout:?}"))
}

/// A websocket on `url`, with a short read timeout so that every wait can be bounded.
fn connect(url: &str) -> Result<WebSocket<TcpStream>, String> {
    let rest = url.strip_prefix("ws://").ok_or("not a ws:// URL")?;
    let host = rest.split('/').next().unwrap_or_default();
    let stream = TcpStream::connect(host).map_err(|e| format!("{host}: {e}"))?;
    // The handshake with a long bound (a short timeout would interrupt it), the
    // messages after it with a short one (each wait loops to its own deadline).
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    let (socket, _) = tungstenite::client(url, stream).map_err(|e| format!("{url}: {e}"))?;
    socket
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    Ok(socket)
}

/// Standard base64 (what DevTools sends screenshots in).
pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let value = |c: u8| -> Result<u32, String> {
        Ok(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("not base64: {:?}", c as char)),
        }
        .into())
    };
    let bytes: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().filter(|&&b| b == b'=').count();
        let mut n = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            let v = if b == b'=' { 0 } else { value(b)? };
            n |= v << (18 - 6 * i);
        }
        let got = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&got[..(chunk.len() - 1).saturating_sub(pad).min(3)]);
    }
    Ok(out)
}
