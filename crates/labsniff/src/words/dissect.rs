//! The words for what dissection found: the protocol and why, `struct` mistakes,
//! framing errors, bytes skipped and where decoding resumed.

use labfacts::event::{Detection, DetectionBasis, Dir};
use labproto::Proto;

/// `proto_detected`, after "frame N: ".
pub fn detected(conv: u64, proto: Proto, detection: &Detection) -> String {
    format!(
        "conversation {conv} carries {proto}: {}",
        detection_reason(detection)
    )
}

/// Why the detection chose the protocol: what [`detected`] says after the protocol.
pub fn detection_reason(detection: &Detection) -> String {
    match detection {
        Detection::FirstBytes { dir, basis } => {
            format!("the {}'s first bytes: {}", dir.sender(), basis_words(basis))
        }
        Detection::NoBinaryFormat => "no binary lab format fits the first bytes".to_string(),
    }
}

/// Why labproto's detection chose the protocol (its `Guess::reason`).
pub fn basis_words(basis: &DetectionBasis) -> String {
    match basis {
        DetectionBasis::WrongStruct(m) => format!(
            "the bytes look like {} packed with a wrong struct format ({})",
            m.proto(),
            m.code()
        ),
        DetectionBasis::Text { percent, bytes } => {
            format!("{percent}% of the first {bytes} bytes are printable text")
        }
        DetectionBasis::V2(p) => format!(
            "the bytes split into 29-byte `!BII20s` records with one version byte, plausible sizes and NUL padding (v2 score {}, v3 {}, text {})",
            p.v2, p.v3, p.text
        ),
        DetectionBasis::V3(p) => format!(
            "the bytes chain as `!BII` headers whose size fields land exactly on the next header (v3 score {}, v2 {}, text {})",
            p.v3, p.v2, p.text
        ),
    }
}

/// `unframed`, after "frame N: ".
pub fn unframed(dir: Dir, bytes: u64, proto: Proto) -> String {
    let (amount, verb) = if bytes == 1 {
        ("1 byte".to_string(), "was")
    } else {
        (format!("{bytes} bytes"), "were")
    };
    format!(
        "{amount} of the {}'s stream could not be framed as {proto} and {verb} skipped",
        dir.sender()
    )
}

/// `resync`, after "frame N: ".
pub fn resync(dir: Dir, offset: u64, proto: Proto, skipped: usize) -> String {
    let skipped = if skipped > 0 {
        format!(" ({skipped} bytes skipped)")
    } else {
        String::new()
    };
    format!(
        "the {}'s stream resynchronised at stream offset {offset}, the next provable {proto} message boundary{skipped}",
        dir.sender()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use labfacts::dissect::basis_of;
    use labproto::detect;

    /// The engine states which of labproto's detection rules decided; these words must
    /// be labproto's own reason for every guess (byte for byte).
    #[test]
    fn detection_words_are_labprotos() {
        let mut inputs: Vec<Vec<u8>> = vec![
            b"hello lab\n".to_vec(),
            b"GET / HTTP/1.0\r\n\r\n".to_vec(),
            b"\x01\x02\x03".to_vec(),
        ];
        let v2 = |order: u32, size: u32, payload: &[u8]| {
            let mut m = vec![2];
            m.extend_from_slice(&order.to_be_bytes());
            m.extend_from_slice(&size.to_be_bytes());
            let mut p = payload.to_vec();
            p.resize(20, 0);
            m.extend_from_slice(&p);
            m
        };
        let v3 = |order: u32, payload: &[u8], le: bool| {
            let mut m = vec![3];
            let size = payload.len() as u32;
            if le {
                m.extend_from_slice(&order.to_le_bytes());
                m.extend_from_slice(&size.to_le_bytes());
            } else {
                m.extend_from_slice(&order.to_be_bytes());
                m.extend_from_slice(&size.to_be_bytes());
            }
            m.extend_from_slice(payload);
            m
        };
        inputs.push([v2(1, 5, b"hello"), v2(2, 3, b"abc")].concat());
        inputs.push(v2(1, 25, b"a long message cut here"));
        inputs.push([v3(1, b"hello", false), v3(2, b"lab", false)].concat());
        inputs.push(v3(1, &[b'x'; 20], false));
        inputs.push([v3(1, b"hello", true), v3(2, b"lab", true)].concat());
        // Native alignment: 'BII20s' pads the version byte to 4 bytes, little-endian.
        let mut native = vec![2, 0, 0, 0];
        native.extend_from_slice(&1u32.to_le_bytes());
        native.extend_from_slice(&5u32.to_le_bytes());
        native.extend_from_slice(b"hello\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        inputs.push(native.repeat(2));
        // A spread of arbitrary bytes (a fixed linear congruential sequence).
        let mut x: u32 = 12345;
        for len in 1..200usize {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    let b = (x >> 16) as u8;
                    if len % 3 == 0 {
                        b % 8
                    } else {
                        b
                    }
                })
                .collect();
            inputs.push(bytes);
        }
        // Guesses checked per basis: wrong struct, text, v2, v3.
        let mut checked = [0; 4];
        for bytes in &inputs {
            for at_end in [false, true] {
                for max_size in [1 << 20, 64] {
                    if let Some(g) = detect::guess(bytes, max_size, at_end) {
                        let basis = basis_of(&g, bytes, max_size, at_end);
                        assert_eq!(basis_words(&basis), g.reason, "{bytes:?}");
                        checked[match basis {
                            DetectionBasis::WrongStruct(_) => 0,
                            DetectionBasis::Text { .. } => 1,
                            DetectionBasis::V2(_) => 2,
                            DetectionBasis::V3(_) => 3,
                        }] += 1;
                    }
                }
            }
        }
        assert!(checked.iter().all(|&n| n > 0), "{checked:?}");
    }
}
