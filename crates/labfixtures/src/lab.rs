//! The lab's binary payloads, encoded by labproto (so fixtures and servers agree).

use labproto::{v2, v3};

/// Protocol version byte the lab's clients send.
pub const VERSION: u8 = 1;

/// A v2 message (29 bytes, `!BII20s`): version 1, `order`, size = `msg.len()`,
/// `msg` cut or NUL-padded to 20 bytes.
pub fn v2(order: u32, msg: &[u8]) -> Vec<u8> {
    v2::Repr::new(VERSION, order, msg).to_bytes().to_vec()
}

/// A v3 message (`!BII` + payload): version 1, `order`, size = `msg.len()`.
///
/// A payload of 4 GiB or more cannot be described by the 32-bit size field; the
/// header then says `u32::MAX`, as a fixture for oversize handling would want.
pub fn v3(order: u32, msg: &[u8]) -> Vec<u8> {
    let repr = v3::Repr {
        version: VERSION,
        order,
        payload: msg,
    };
    match repr.to_vec() {
        Ok(bytes) => bytes,
        Err(_) => {
            let mut out = Vec::with_capacity(v3::HEADER_LEN + msg.len());
            out.push(VERSION);
            out.extend_from_slice(&order.to_be_bytes());
            out.extend_from_slice(&u32::MAX.to_be_bytes());
            out.extend_from_slice(msg);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_vectors() {
        // python3 -c "import struct; print((struct.pack('!BII',1,3,5)+b'hello').hex())"
        assert_eq!(
            v3(3, b"hello"),
            [1, 0, 0, 0, 3, 0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o']
        );
        let m = v2(7, b"hello");
        assert_eq!(m.len(), 29);
        assert_eq!(
            &m[..14],
            &[1, 0, 0, 0, 7, 0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o']
        );
        assert!(m[14..].iter().all(|&b| b == 0));
    }
}
