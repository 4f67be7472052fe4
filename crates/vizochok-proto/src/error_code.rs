//! The machine-readable error codes of the callback contract: 12 server
//! codes and 7 client codes (`message_too_large` is both), spelled exactly
//! as the contract spells them.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($($variant:ident => $text:literal,)*) => {
        /// Every `WidgetError.code` a host can see.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename_all = "snake_case"))]
        #[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
        pub enum ErrorCode {
            // Each variant's doc is its spelling, as a plain literal (uniffi reads docs and cannot expand `concat!`).
            $(
                #[doc = $text]
                $variant,
            )*
        }

        impl ErrorCode {
            /// Every code, in the callback contract's order (server codes, then client-only codes).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The callback contract's spelling of this code.
            pub fn as_str(self) -> &'static str {
                // A line of one string, not a `match`: no table of string
                // pointers and lengths in the browser's module.
                crate::i18n::line(concat!($($text, "\n",)*), self as usize)
            }

            /// Parses the callback contract's spelling.
            pub fn parse(text: &str) -> Option<ErrorCode> {
                // A search of `ALL`, not a `match`: the same answer in a
                // fraction of the browser module's code.
                ErrorCode::ALL.iter().copied().find(|code| code.as_str() == text)
            }
        }
    };
}

error_codes! {
    RateLimitExceeded => "rate_limit_exceeded",
    UserMessageLimit => "user_message_limit",
    UserConversationLimit => "user_conversation_limit",
    TenantDailyTokenLimit => "tenant_daily_token_limit",
    TenantMonthlyTokenLimit => "tenant_monthly_token_limit",
    AgentBusy => "agent_busy",
    MessageTooLarge => "message_too_large",
    InvalidJson => "invalid_json",
    InternalError => "internal_error",
    MaxRoundsExceeded => "max_rounds_exceeded",
    SessionTokenLimit => "session_token_limit",
    NoCatalogData => "no_catalog_data",
    AuthError => "auth_error",
    AuthTimeout => "auth_timeout",
    WsError => "ws_error",
    QueueFull => "queue_full",
    MaxReconnect => "max_reconnect",
    ConnectionLost => "connection_lost",
}

impl ErrorCode {
    /// Whether a server may send this code in an `error` frame.
    pub fn is_server_code(self) -> bool {
        (self as u8) <= (ErrorCode::NoCatalogData as u8)
    }

    /// Whether the client raises this code itself.
    pub fn is_client_code(self) -> bool {
        self == ErrorCode::MessageTooLarge || !self.is_server_code()
    }

    /// Server codes after which the client retries the action (§4).
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorCode::AgentBusy | ErrorCode::RateLimitExceeded)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_server_and_seven_client_codes_with_contract_spellings() {
        let server: Vec<_> = ErrorCode::ALL.iter().filter(|c| c.is_server_code()).map(|c| c.as_str()).collect();
        let client: Vec<_> = ErrorCode::ALL.iter().filter(|c| c.is_client_code()).map(|c| c.as_str()).collect();
        assert_eq!(
            server,
            [
                "rate_limit_exceeded",
                "user_message_limit",
                "user_conversation_limit",
                "tenant_daily_token_limit",
                "tenant_monthly_token_limit",
                "agent_busy",
                "message_too_large",
                "invalid_json",
                "internal_error",
                "max_rounds_exceeded",
                "session_token_limit",
                "no_catalog_data",
            ]
        );
        assert_eq!(
            client,
            [
                "message_too_large",
                "auth_error",
                "auth_timeout",
                "ws_error",
                "queue_full",
                "max_reconnect",
                "connection_lost"
            ]
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_and_parse_agree_with_as_str() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
        }
        assert_eq!(ErrorCode::parse("nope"), None);
    }
}
