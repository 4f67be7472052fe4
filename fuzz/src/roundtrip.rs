//! Target `frame_roundtrip`: frames built from bytes, encoded, parsed back.

use vizochok_proto::frame::{self, ClientFrame, ServerFrame};

use crate::gen::{self, Known};
use crate::Reader;

/// Builds frames of both directions until the bytes run out; each must
/// survive encode → parse unchanged and stay within the depth limit.
pub fn run(data: &[u8]) {
    let mut r = Reader::new(data);
    let known = Known { action_ids: vec!["a-1".into(), "a-2".into()], last_seq: 5, session_ids: vec!["s1".into()] };
    let mut frames = 0;
    while !r.is_empty() && frames < 64 {
        frames += 1;
        let server = gen::server_frame(&mut r, &known, "pk_key");
        let text = frame::encode(&server);
        match frame::parse_server(&text) {
            Ok(back) => crate::assert_same(&server, &back, &text),
            Err(e) => panic!("an encoded server frame does not parse: {e}\n{text}"),
        }
        let client = gen::client_frame(&mut r);
        let text = frame::encode(&client);
        match frame::parse_client(&text) {
            Ok(back) => crate::assert_same(&client, &back, &text),
            Err(e) => panic!("an encoded client frame does not parse: {e}\n{text}"),
        }
        assert!(!matches!(client, ClientFrame::Unknown) && !matches!(server, ServerFrame::Unknown));
    }
}
