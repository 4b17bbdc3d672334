use super::CapturePoint;

#[test]
fn capture_point_from_handshake_legs() {
    let at = |a, b| CapturePoint::from_handshake(Some(a), Some(b));
    // At the server: it answers the SYN in 30 µs; the client's ACK takes the RTT.
    assert_eq!(at(0.000_030, 0.020_4), CapturePoint::Server);
    // At the client: the SYN-ACK takes the RTT; the ACK leaves at once.
    assert_eq!(at(0.020_4, 0.000_040), CapturePoint::Client);
    // On the path: both legs are part of the round trip.
    assert_eq!(at(0.012, 0.008), CapturePoint::Between);
    // Loopback: nothing measurable.
    assert_eq!(at(0.000_015, 0.000_016), CapturePoint::Unknown);
    assert_eq!(
        CapturePoint::from_handshake(None, Some(0.02)),
        CapturePoint::Unknown
    );
}
