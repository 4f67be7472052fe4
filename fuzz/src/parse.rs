//! Target `frame_parse`: arbitrary bytes into both parsers.

use vizochok_proto::frame::{self, ClientFrame, ServerFrame};

/// Parses `data` as a server and a client frame, with the default limit and
/// with a tiny one. Whatever parses must re-encode to text that parses to
/// the same frame, floats exactly.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let small = usize::from(data.first().copied().unwrap_or(0));
    for max in [frame::MAX_INBOUND_BYTES, small] {
        if let Ok(parsed) = frame::parse::<ServerFrame>(&text, max) {
            check_fixed_point(&parsed, frame::parse_server);
        }
        if let Ok(parsed) = frame::parse::<ClientFrame>(&text, max) {
            check_fixed_point(&parsed, frame::parse_client);
        }
    }
}

fn check_fixed_point<T: frame::Frame + PartialEq + std::fmt::Debug>(
    parsed: &T,
    parse: impl Fn(&str) -> Result<T, frame::FrameError>,
) {
    let encoded = frame::encode(parsed);
    let again = parse(&encoded).unwrap_or_else(|e| panic!("re-encoded frame does not parse: {e}\n{encoded}"));
    crate::assert_same(parsed, &again, &encoded);
}
