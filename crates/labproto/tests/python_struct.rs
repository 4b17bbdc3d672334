//! Byte-for-byte agreement with CPython's `struct` module, run live when `python3` exists.
//! (The unit tests hold the same vectors as constants, so they run everywhere.)

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

use labproto::{v2, v3, Message, Proto};
use std::process::Command;

fn python(code: &str) -> Option<Vec<u8>> {
    let out = match Command::new("python3").arg("-c").arg(code).output() {
        Ok(out) => out,
        Err(_) => {
            skip_note!("skipped: python3 not found");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

#[test]
fn v2_hello_matches_python() {
    let Some(bytes) =
        python("import struct,sys; sys.stdout.buffer.write(struct.pack('!BII20s',1,7,5,b'hello'))")
    else {
        return;
    };
    assert_eq!(bytes.len(), 29);
    let repr = v2::Repr::parse(&bytes).unwrap();
    assert_eq!(
        (repr.version, repr.order, repr.size, repr.payload),
        (1, 7, 5, &b"hello"[..])
    );
    assert_eq!(v2::Repr::new(1, 7, b"hello").to_bytes().to_vec(), bytes);
}

#[test]
fn v2_long_message_matches_python() {
    let msg = "a v2 message longer than twenty bytes";
    let Some(bytes) = python(&format!(
        "import struct,sys; m=b'{msg}'; sys.stdout.buffer.write(struct.pack('!BII20s',1,42,len(m),m))"
    )) else {
        return;
    };
    let m = Message::decode(Proto::V2, &bytes).unwrap();
    assert_eq!(m.size, Some(msg.len() as u32));
    assert_eq!(m.payload, &msg.as_bytes()[..20]);
    assert!(m.truncated);
    assert_eq!(
        Message::new(Proto::V2, 1, 42, msg.as_bytes())
            .unwrap()
            .encode(),
        bytes
    );
}

#[test]
fn v3_300_bytes_matches_python() {
    let Some(bytes) = python(
        "import struct,sys; p=bytes((i*7+3)%256 for i in range(300)); \
         sys.stdout.buffer.write(struct.pack('!BII',1,9,len(p))+p)",
    ) else {
        return;
    };
    let payload: Vec<u8> = (0..300u32).map(|i| ((i * 7 + 3) % 256) as u8).collect();
    assert_eq!(bytes.len(), 309);
    let repr = v3::Repr::parse(&bytes).unwrap();
    assert_eq!(
        (repr.version, repr.order, repr.payload),
        (1, 9, &payload[..])
    );
    assert_eq!(
        v3::Repr {
            version: 1,
            order: 9,
            payload: &payload
        }
        .to_vec()
        .unwrap(),
        bytes
    );
}

#[test]
fn orders_and_sizes_at_the_u32_edges() {
    let Some(bytes) = python(
        "import struct,sys; sys.stdout.buffer.write(struct.pack('!BII20s',255,4294967295,4294967295,b'x'*20)+struct.pack('!BII',0,0,0))",
    ) else {
        return;
    };
    let r = v2::Repr::parse(&bytes).unwrap();
    assert_eq!((r.version, r.order, r.size), (255, u32::MAX, u32::MAX));
    let r3 = v3::Repr::parse(&bytes[29..]).unwrap();
    assert_eq!((r3.version, r3.order, r3.payload.len()), (0, 0, 0));
}

/// The native-alignment offsets `native` declares are where CPython's `struct` puts
/// the fields when the format has no `!` (on the little-endian 64-bit Linux of the lab).
#[test]
fn native_layouts_match_python() {
    use labproto::native::{bii, bii20s, bll20s};
    use std::ops::Range;
    if !cfg!(all(
        target_os = "linux",
        target_pointer_width = "64",
        target_endian = "little"
    )) {
        return;
    }
    let le = |b: &[u8], r: Range<usize>| {
        b[r].iter()
            .rev()
            .fold(0u64, |a, &x| (a << 8) | u64::from(x))
    };
    let fixed = [
        (bll20s::FORMAT, bll20s::ORDER, bll20s::SIZE, bll20s::PAYLOAD),
        (bii20s::FORMAT, bii20s::ORDER, bii20s::SIZE, bii20s::PAYLOAD),
    ];
    for (format, order, size, payload) in fixed {
        let Some(bytes) = python(&format!(
            "import struct,sys; sys.stdout.buffer.write(struct.pack('{format}',1,7,5,b'hello'))"
        )) else {
            return;
        };
        assert_eq!(bytes.len(), payload.end, "{format}");
        assert_eq!((le(&bytes, order), le(&bytes, size)), (7, 5), "{format}");
        assert_eq!(
            &bytes[payload.start..payload.start + 5],
            b"hello",
            "{format}"
        );
    }
    let Some(bytes) = python(&format!(
        "import struct,sys; sys.stdout.buffer.write(struct.pack('{}',1,7,5)+b'hello')",
        bii::FORMAT
    )) else {
        return;
    };
    assert_eq!(bytes.len(), bii::HEADER_LEN + 5);
    assert_eq!((le(&bytes, bii::ORDER), le(&bytes, bii::SIZE)), (7, 5));
    assert_eq!(&bytes[bii::PAYLOAD], b"hello");
}
