//! The kinds of background job, one enum instead of strings. The wire (database) spelling of
//! each is what the `jobs.kind` column has always held, so rows written before keep running.

use std::fmt;

/// What a job row asks the worker to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// `sandbox.advance`: move a sandbox registration one step along its simulated review
    /// (payload `{"registration_id": …}`).
    SandboxAdvance,
    /// `sync.attempt`: one try of a sync attempt (payload `{"attempt_id": "sync_…"}`).
    SyncAttempt,
    /// `provider.reconcile`: read a registration's state again from its real provider, so a
    /// missed webhook is caught up (payload `{"registration_id": …}`).
    ProviderReconcile,
}

/// A `jobs.kind` value this version does not know (the worker discards such jobs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a known job kind")]
pub struct UnknownJobKind(pub String);

impl JobKind {
    /// Every kind.
    pub const ALL: &'static [JobKind] = &[
        JobKind::SandboxAdvance,
        JobKind::SyncAttempt,
        JobKind::ProviderReconcile,
    ];

    /// The spelling stored in `jobs.kind`.
    pub fn as_str(&self) -> &'static str {
        match self {
            JobKind::SandboxAdvance => "sandbox.advance",
            JobKind::SyncAttempt => "sync.attempt",
            JobKind::ProviderReconcile => "provider.reconcile",
        }
    }

    /// Reads a stored `jobs.kind` (exact spelling).
    pub fn parse(s: &str) -> Result<Self, UnknownJobKind> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownJobKind(s.to_owned()))
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for JobKind {
    type Err = UnknownJobKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_are_the_stored_ones() {
        assert_eq!(JobKind::SandboxAdvance.as_str(), "sandbox.advance");
        assert_eq!(JobKind::SyncAttempt.as_str(), "sync.attempt");
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Ok(*k));
            assert_eq!(k.to_string().parse::<JobKind>(), Ok(*k));
        }
        assert_eq!(
            JobKind::parse("webhook.deliver"),
            Err(UnknownJobKind("webhook.deliver".into()))
        );
        assert!(JobKind::parse("Sync.Attempt").is_err());
    }
}
