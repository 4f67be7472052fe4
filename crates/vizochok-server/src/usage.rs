//! Durable quota counters: tokens per store and day/month, messages per
//! shopper and day. Periods are derived from the host's `now`, so a counter
//! resets when the period number changes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

const DAY_MS: u64 = 86_400_000;
/// A "month" is 30 days of host time: the engine has no calendar.
const MONTH_MS: u64 = 30 * DAY_MS;

/// A count within one numbered period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct PeriodCount {
    period: u64,
    count: u64,
}

impl PeriodCount {
    fn get(&self, period: u64) -> u64 {
        if self.period == period {
            self.count
        } else {
            0
        }
    }

    fn add(&mut self, period: u64, n: u64) {
        let current = self.get(period);
        *self = PeriodCount { period, count: current.saturating_add(n) };
    }
}

/// Token use of one store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct TenantUsage {
    daily: PeriodCount,
    monthly: PeriodCount,
}

/// Every quota counter of the engine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Usage {
    tenants: BTreeMap<String, TenantUsage>,
    /// store → shopper key → messages today.
    messages: BTreeMap<String, BTreeMap<String, PeriodCount>>,
}

impl Usage {
    /// Tokens the store used today and this month.
    pub fn tenant_tokens(&self, store: &str, now: u64) -> (u64, u64) {
        self.tenants.get(store).map_or((0, 0), |t| (t.daily.get(now / DAY_MS), t.monthly.get(now / MONTH_MS)))
    }

    /// Counts `tokens` against the store.
    pub fn add_tokens(&mut self, store: &str, now: u64, tokens: u64) {
        let tenant = self.tenants.entry(store.to_owned()).or_default();
        tenant.daily.add(now / DAY_MS, tokens);
        tenant.monthly.add(now / MONTH_MS, tokens);
    }

    /// Messages the shopper sent today.
    pub fn user_messages(&self, store: &str, user: &str, now: u64) -> u64 {
        self.messages.get(store).and_then(|users| users.get(user)).map_or(0, |c| c.get(now / DAY_MS))
    }

    /// Counts one message of the shopper.
    pub fn add_user_message(&mut self, store: &str, user: &str, now: u64) {
        self.messages.entry(store.to_owned()).or_default().entry(user.to_owned()).or_default().add(now / DAY_MS, 1);
    }

    /// Forgets a shopper's message count (the session it was keyed by is gone).
    pub fn forget_user(&mut self, store: &str, user: &str) {
        if let Some(users) = self.messages.get_mut(store) {
            users.remove(user);
            if users.is_empty() {
                self.messages.remove(store);
            }
        }
    }

    /// Drops the message counts of days before `now`'s: they read as zero anyway.
    pub fn prune(&mut self, now: u64) {
        let today = now / DAY_MS;
        for users in self.messages.values_mut() {
            users.retain(|_, count| count.period == today);
        }
        self.messages.retain(|_, users| !users.is_empty());
    }

    /// Message counters held.
    pub fn entries(&self) -> usize {
        self.messages.values().map(|users| users.len()).sum()
    }
}

/// The token estimate of a text: characters / 4, rounded up.
pub(crate) fn tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_reset_with_their_period() {
        let mut usage = Usage::default();
        usage.add_tokens("s", 0, 10);
        usage.add_tokens("s", DAY_MS - 1, 5);
        assert_eq!(usage.tenant_tokens("s", 1), (15, 15));
        assert_eq!(usage.tenant_tokens("s", DAY_MS), (0, 15));
        assert_eq!(usage.tenant_tokens("s", MONTH_MS), (0, 0));
        usage.add_user_message("s", "u", 0);
        assert_eq!(usage.user_messages("s", "u", 5), 1);
        assert_eq!(usage.user_messages("s", "u", DAY_MS), 0);
        assert_eq!(tokens("abcde"), 2);
        usage.add_user_message("s", "v", DAY_MS);
        usage.prune(DAY_MS);
        assert_eq!((usage.entries(), usage.user_messages("s", "v", DAY_MS)), (1, 1), "yesterday's count is gone");
        usage.forget_user("s", "v");
        assert_eq!(usage.entries(), 0);
    }
}
