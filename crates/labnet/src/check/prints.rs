//! The messages a student's server printed, read back from its output and compared
//! with the messages the checks sent. The lab's servers print what they decoded:
//! Python's `print(addr, version, order, size, payload)` gives
//! `('127.0.0.1', 41000) 1 2 17 b'hello from labnet'`, labnet's own servers log
//! `received v3 version=1 order=2 size=17 payload="hello from labnet"`. A server that
//! frames wrongly prints fields no client sent, even when its echo is byte-exact.

/// One message the server printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    pub version: u64,
    pub order: u64,
    pub size: u64,
    pub payload: Vec<u8>,
}

/// One message a check sent (whole, as the lab's client packs it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub order: u32,
    pub text: Vec<u8>,
}

impl Printed {
    /// Printed from `e`: same order and size, and the payload shown is the start of
    /// the text sent (servers print a cut: 20 bytes for v2, `[:40]`).
    pub fn is(&self, e: &Expected) -> bool {
        let shown = trim_nuls(&self.payload);
        self.order == u64::from(e.order)
            && self.size == e.text.len() as u64
            && e.text.starts_with(shown)
    }
}

impl std::fmt::Display for Printed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = &self.payload[..self.payload.len().min(24)];
        write!(
            f,
            "version {}, order {}, size {}, payload \"{}\"",
            self.version,
            self.order,
            self.size,
            labproto::text::escape(shown)
        )
    }
}

fn trim_nuls(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
    &b[..end]
}

/// The message a line prints, if it prints one.
pub fn parse(line: &str) -> Option<Printed> {
    parse_labnet(line).or_else(|| parse_python(line))
}

/// `... version=1 order=2 size=5 payload="hello"`.
fn parse_labnet(line: &str) -> Option<Printed> {
    let field = |key: &str| -> Option<u64> {
        let at = line.find(&format!(" {key}="))? + key.len() + 2;
        let digits: String = line[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    };
    let start = line.find(" payload=\"")? + " payload=\"".len();
    let (payload, _) = unescape(&line[start..], '"');
    Some(Printed {
        version: field("version")?,
        order: field("order")?,
        size: field("size")?,
        payload,
    })
}

/// `... 1 2 17 b'hello'`: the three integers right before a bytes literal, labels
/// between them allowed (`version: 1 order: 2 size: 17 payload: b'hello'`,
/// `version=1 ...`).
fn parse_python(line: &str) -> Option<Printed> {
    let (at, quote) = [" b'", " b\""]
        .iter()
        .filter_map(|q| line.find(q).map(|i| (i, q.as_bytes()[2] as char)))
        .min_by_key(|(i, _)| *i)?;
    let mut ints: Vec<u64> = Vec::with_capacity(3);
    let tokens = line[..at]
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty());
    for t in tokens.rev() {
        let value = t.rsplit_once(['=', ':']).map_or(t, |(_, v)| v);
        if let Ok(n) = value.parse::<u64>() {
            ints.push(n);
            if ints.len() == 3 {
                break;
            }
        } else if !t
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ':' | '=' | '_'))
        {
            // Neither a number nor a label: the fields are not all here.
            return None;
        }
    }
    let [size, order, version] = ints[..] else {
        return None;
    };
    let (payload, _) = unescape(&line[at + 3..], quote);
    Some(Printed {
        version,
        order,
        size,
        payload,
    })
}

/// Python / labnet escapes up to the closing `quote`: \\xNN, \\n, \\r, \\t, \\0, \\\\,
/// \\', \\". Returns the bytes and the characters read.
fn unescape(s: &str, quote: char) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == quote => return (out, i),
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('n') => out.push(b'\n'),
                Some('r') => out.push(b'\r'),
                Some('t') => out.push(b'\t'),
                Some('0') => out.push(0),
                Some('x') => {
                    let hex: String = chars.by_ref().take(2).map(|(_, c)| c).collect();
                    out.push(u8::from_str_radix(&hex, 16).unwrap_or(b'?'));
                }
                Some(other) => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
                }
                None => break,
            },
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    (out, s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labelled_python_prints_are_read() {
        let p = parse(
            "From ('127.0.0.1', 51288) version: 1 order: 2 size: 16 payload: b'Hello server v3!' \
             (got 16 bytes)",
        )
        .expect("a message");
        assert_eq!((p.version, p.order, p.size), (1, 2, 16));
        assert_eq!(p.payload, b"Hello server v3!");
        let p = parse("got version=1 order=3 size=2 b'hi'").expect("a message");
        assert_eq!((p.version, p.order, p.size), (1, 3, 2));
        // An address's port is no field.
        assert!(parse("New client ('127.0.0.1', 51288) b'x'").is_none());
    }

    #[test]
    fn python_and_labnet_prints() {
        let p = parse("('127.0.0.1', 41000) 1 2 17 b'hello from labnet'");
        assert_eq!(
            p,
            Some(Printed {
                version: 1,
                order: 2,
                size: 17,
                payload: b"hello from labnet".to_vec()
            })
        );
        let p = parse(r#"('127.0.0.1', 5) 84 1701344288 544104803 b"\x00it's\n""#);
        assert_eq!(p.map(|p| p.payload), Some(b"\0it's\n".to_vec()));
        let p = parse(
            r#"12:00:00.000 [thread 1] received v3 version=1 order=3 size=5 payload="he\"y!""#,
        );
        assert_eq!(
            p.map(|p| (p.order, p.size, p.payload)),
            Some((3, 5, b"he\"y!".to_vec()))
        );
        assert_eq!(parse("port 5005"), None);
        assert_eq!(parse("connected by ('127.0.0.1', 41000)"), None);
        let e = Expected {
            order: 1,
            text: b"an original message of 37 bytes: ok!!".to_vec(),
        };
        let v2 = parse(r"('127.0.0.1', 1) 1 1 37 b'an original message \x00'");
        assert!(v2.is_some_and(|p| p.is(&e)));
    }
}
