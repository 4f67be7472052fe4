//! Frames the page drives (§12): `context` (what the shopper looks at) and
//! `feedback` (a rating of one reply), with a bound on every field. `cancel`
//! belongs to the reply it stops (`turns`).

use vizochok_proto::frame::{Overlong, MAX_FEEDBACK_COMMENT_CHARS};
use vizochok_proto::{ClientFrame, PageContext, Rating};

use crate::intake::is_action_id;
use crate::session::Feedback;
use crate::{ConnId, Engine, LogKind};

/// Why a `context`, `cancel` or `feedback` frame cannot be honoured as sent
/// (developer-facing English); other frames pass.
pub(crate) fn check(frame: &ClientFrame) -> Result<(), String> {
    match frame {
        ClientFrame::Context { context, .. } => check_context(context),
        ClientFrame::Cancel { reply_to, .. } if !is_action_id(reply_to) => {
            Err("reply_to must be 1 to 64 ASCII characters".into())
        }
        ClientFrame::Feedback { message_id, comment, .. } => {
            if !is_action_id(message_id) {
                return Err("message_id must be 1 to 64 ASCII characters".into());
            }
            bounded("comment", comment.as_deref(), MAX_FEEDBACK_COMMENT_CHARS)
        }
        _ => Ok(()),
    }
}

fn check_context(context: &PageContext) -> Result<(), String> {
    match context.overlong() {
        Some(Overlong { field, chars, max }) => Err(format!("{field} of {chars} characters exceeds {max}")),
        None => Ok(()),
    }
}

fn bounded(field: &str, value: Option<&str>, max: usize) -> Result<(), String> {
    match value.map(|v| v.chars().count()) {
        Some(chars) if chars > max => Err(format!("{field} of {chars} characters exceeds {max}")),
        _ => Ok(()),
    }
}

impl Engine {
    /// The page's latest context replaces the previous one; the assistant
    /// sees it from the next turn on.
    pub(crate) fn set_context(&mut self, session_id: &str, context: PageContext) {
        if let Some(session) = self.sessions.get_mut(session_id) {
            session.data.context = (context != PageContext::default()).then_some(context);
        }
    }

    /// Keeps a rating on the session and writes it to the log.
    pub(crate) fn record_feedback(
        &mut self,
        now: u64,
        conn: ConnId,
        session_id: &str,
        message_id: String,
        rating: Rating,
        comment: Option<String>,
    ) {
        let said = comment.as_deref().map_or(String::new(), |c| format!(": {c:?}"));
        let detail = format!("{} for {message_id}{said}", rating.as_str());
        let Some(session) = self.sessions.get_mut(session_id) else { return };
        // A restored history shows the latest rating of each reply.
        if let Some(entry) = session.data.history.iter_mut().rev().find(|e| e.message_id.as_ref() == Some(&message_id))
        {
            entry.rating = Some(rating);
        }
        session.data.record_feedback(Feedback { message_id, rating, comment, at: now });
        let store_id = session.data.store_id.clone();
        self.log(now, LogKind::Feedback, Some(conn), Some(session_id.to_owned()), Some(store_id), detail);
    }
}

#[cfg(test)]
mod tests {
    use vizochok_proto::PageInfo;

    use super::*;

    fn context(context: PageContext) -> ClientFrame {
        ClientFrame::Context { id: "c1".into(), context }
    }

    #[test]
    fn every_field_is_bounded() {
        let long = |n: usize| Some("ї".repeat(n));
        let page = |url, title| Some(PageInfo { url, title });
        assert!(check(&context(PageContext { page: page(long(2_048), long(500)), ..PageContext::default() })).is_ok());
        for bad in [
            PageContext { page: page(long(2_049), None), ..PageContext::default() },
            PageContext { page: page(None, long(501)), ..PageContext::default() },
            PageContext { sku: long(129), ..PageContext::default() },
            PageContext { category: long(501), ..PageContext::default() },
            PageContext { query: long(501), ..PageContext::default() },
            PageContext { locale: long(36), ..PageContext::default() },
            PageContext { currency: Some("UAHX".into()), ..PageContext::default() },
        ] {
            assert!(check(&context(bad.clone())).is_err(), "{bad:?}");
        }
        let feedback = |message_id: &str, comment: Option<String>| ClientFrame::Feedback {
            id: "f1".into(),
            message_id: message_id.into(),
            rating: Rating::Up,
            comment,
        };
        assert!(check(&feedback("m1", long(500))).is_ok());
        assert!(check(&feedback("m1", long(501))).is_err());
        assert!(check(&feedback("", None)).is_err());
        let cancel = |reply_to: String| ClientFrame::Cancel { id: "x1".into(), reply_to };
        assert!(check(&cancel("m1".into())).is_ok());
        assert!(check(&cancel("m".repeat(65))).is_err());
    }
}
