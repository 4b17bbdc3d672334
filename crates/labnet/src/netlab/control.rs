//! The forwarder's control socket (`STATE_DIR/control.sock`): `status`, `set` and
//! `stop` as one JSON line each way. A unix socket rather than SIGHUP + file: the
//! caller gets an answer (new settings accepted, or why not) and no signal
//! handler is needed.

use super::forwarder::Shared;
use super::settings::{Dir, Settings};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Answer requests until the process exits (this thread is never joined).
pub fn serve(listener: UnixListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
        let answer = match read_request(&conn) {
            Ok(request) => handle(&request, &shared),
            Err(e) => json!({"ok": false, "error": e}),
        };
        let mut conn = conn;
        let _ = writeln!(conn, "{answer}");
        if shared.stop.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
    }
}

fn read_request(conn: &UnixStream) -> Result<Value, String> {
    let mut line = String::new();
    BufReader::new(conn)
        .take(1 << 16)
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the request: {e}"))?;
    serde_json::from_str(&line).map_err(|e| format!("the request is not JSON: {e}"))
}

fn handle(request: &Value, shared: &Shared) -> Value {
    match request.get("cmd").and_then(Value::as_str) {
        Some("status") => {
            let settings = super::forwarder_settings(shared);
            json!({
                "ok": true,
                "uptime_s": shared.uptime().as_secs_f64(),
                "settings": settings,
                "counters": shared.counters_json(),
                "queued": {"c2s": shared.queued(Dir::C2s), "s2c": shared.queued(Dir::S2c)},
            })
        }
        Some("set") => {
            let parsed = request
                .get("settings")
                .cloned()
                .ok_or_else(|| "no settings".to_string())
                .and_then(|v| {
                    serde_json::from_value::<Settings>(v).map_err(|e| format!("bad settings: {e}"))
                })
                .and_then(|s| s.validate().map(|()| s));
            match parsed {
                Ok(s) => {
                    super::replace_forwarder_settings(shared, s);
                    json!({"ok": true})
                }
                Err(e) => json!({"ok": false, "error": e}),
            }
        }
        Some("stop") => {
            shared.request_stop();
            json!({"ok": true})
        }
        _ => json!({"ok": false, "error": "unknown command (status, set or stop)"}),
    }
}

/// Send one request to the forwarder of the lab whose socket is `path`.
pub fn request(path: &Path, request: &Value) -> Result<Value, String> {
    let mut conn = UnixStream::connect(path)
        .map_err(|e| format!("the forwarder does not answer on {}: {e}", path.display()))?;
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = conn.set_write_timeout(Some(Duration::from_secs(5)));
    writeln!(conn, "{request}").map_err(|e| format!("cannot send to the forwarder: {e}"))?;
    let mut line = String::new();
    BufReader::new(&conn)
        .read_line(&mut line)
        .map_err(|e| format!("no answer from the forwarder: {e}"))?;
    let answer: Value = serde_json::from_str(&line)
        .map_err(|e| format!("the forwarder's answer is not JSON: {e}"))?;
    if answer.get("ok").and_then(Value::as_bool) == Some(true) {
        Ok(answer)
    } else {
        Err(answer
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("the forwarder refused")
            .to_string())
    }
}
