//! The customer status, derived from its registrations by one pure function (contract §5), and
//! the event a customer entering a status records.

use acorn_types::{CustomerStatus, DocumentsState, EventKind, RegistrationStatus};

/// What the derivation needs to know about one registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationFacts {
    /// The registration's status.
    pub status: RegistrationStatus,
    /// Where its documents stand.
    pub documents: DocumentsState,
    /// Whether the provider flagged it for manual review.
    pub manual_review: bool,
    /// Whether the provider says customer fields are missing.
    pub has_missing_fields: bool,
}

/// The customer's status: the first rule of contract §5 that matches wins.
pub fn derive_customer_status(regs: &[RegistrationFacts]) -> CustomerStatus {
    use RegistrationStatus as R;
    let any = |f: &dyn Fn(&RegistrationFacts) -> bool| regs.iter().any(f);
    if regs.is_empty() {
        CustomerStatus::NotStarted
    } else if any(&|r| r.status == R::Approved) {
        CustomerStatus::Approved
    } else if any(&|r| r.documents == DocumentsState::Required) {
        CustomerStatus::DocumentRequired
    } else if any(&|r| r.documents == DocumentsState::Submitted) {
        CustomerStatus::DocumentPending
    } else if any(&|r| r.documents == DocumentsState::Accepted) {
        CustomerStatus::DocumentApproved
    } else if any(&|r| r.status == R::AwaitingConfirmation) {
        CustomerStatus::AwaitingConfirmation
    } else if any(&|r| r.status == R::Processing && r.manual_review) {
        CustomerStatus::InReview
    } else if any(&|r| {
        r.status == R::Restricted || (r.status == R::Processing && r.has_missing_fields)
    }) {
        CustomerStatus::Incomplete
    } else if any(&|r| r.status == R::Processing) {
        CustomerStatus::Processing
    } else if any(&|r| r.status == R::Submitted) {
        CustomerStatus::Initiated
    } else if any(&|r| r.status == R::NotSubmitted) {
        CustomerStatus::Pending
    } else {
        // Every remaining status is rejected, cancelled or error.
        CustomerStatus::Rejected
    }
}

/// The specific event recorded (besides `customer.updated`) when a customer enters `status`.
pub fn status_event(status: CustomerStatus) -> Option<EventKind> {
    use CustomerStatus as S;
    match status {
        S::Initiated
        | S::Pending
        | S::Processing
        | S::InReview
        | S::DocumentPending
        | S::DocumentApproved => Some(EventKind::CustomerProcessing),
        S::DocumentRequired | S::Incomplete | S::AwaitingConfirmation => {
            Some(EventKind::CustomerActionRequired)
        }
        S::Approved => Some(EventKind::CustomerVerified),
        S::Rejected => Some(EventKind::CustomerRejected),
        S::NotStarted => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CustomerStatus as C;
    use DocumentsState as D;
    use RegistrationStatus as R;

    fn reg(status: R) -> RegistrationFacts {
        RegistrationFacts {
            status,
            documents: D::None,
            manual_review: false,
            has_missing_fields: false,
        }
    }
    fn docs(status: R, documents: D) -> RegistrationFacts {
        RegistrationFacts {
            documents,
            ..reg(status)
        }
    }
    fn review() -> RegistrationFacts {
        RegistrationFacts {
            manual_review: true,
            ..reg(R::Processing)
        }
    }
    fn missing() -> RegistrationFacts {
        RegistrationFacts {
            has_missing_fields: true,
            ..reg(R::Processing)
        }
    }

    #[test]
    fn each_rule_alone() {
        let table: Vec<(Vec<RegistrationFacts>, C)> = vec![
            (vec![reg(R::Approved)], C::Approved),
            (vec![docs(R::Processing, D::Required)], C::DocumentRequired),
            (vec![docs(R::Processing, D::Submitted)], C::DocumentPending),
            (vec![docs(R::Processing, D::Accepted)], C::DocumentApproved),
            (vec![reg(R::AwaitingConfirmation)], C::AwaitingConfirmation),
            (vec![review()], C::InReview),
            (vec![reg(R::Restricted)], C::Incomplete),
            (vec![missing()], C::Incomplete),
            (vec![reg(R::Processing)], C::Processing),
            (vec![reg(R::Submitted)], C::Initiated),
            (vec![reg(R::NotSubmitted)], C::Pending),
            (vec![reg(R::Rejected)], C::Rejected),
            (vec![reg(R::Cancelled), reg(R::Error)], C::Rejected),
            (vec![], C::NotStarted),
        ];
        for (regs, expected) in table {
            assert_eq!(derive_customer_status(&regs), expected, "{regs:?}");
        }
    }

    #[test]
    fn priority_between_rules() {
        let table: Vec<(Vec<RegistrationFacts>, C)> = vec![
            // 1 beats everything.
            (
                vec![
                    docs(R::Processing, D::Required),
                    reg(R::Approved),
                    reg(R::Rejected),
                ],
                C::Approved,
            ),
            (vec![docs(R::Approved, D::Accepted)], C::Approved),
            // 2 beats 3, 4, 5…
            (
                vec![
                    docs(R::Processing, D::Submitted),
                    docs(R::Processing, D::Required),
                ],
                C::DocumentRequired,
            ),
            (
                vec![
                    reg(R::AwaitingConfirmation),
                    docs(R::Processing, D::Required),
                ],
                C::DocumentRequired,
            ),
            // 3 beats 4.
            (
                vec![
                    docs(R::Processing, D::Accepted),
                    docs(R::Processing, D::Submitted),
                ],
                C::DocumentPending,
            ),
            // 4 beats 5.
            (
                vec![
                    reg(R::AwaitingConfirmation),
                    docs(R::Processing, D::Accepted),
                ],
                C::DocumentApproved,
            ),
            // 5 beats 6.
            (
                vec![review(), reg(R::AwaitingConfirmation)],
                C::AwaitingConfirmation,
            ),
            // 6 beats 7 (review and missing fields on one registration, and on two).
            (
                vec![RegistrationFacts {
                    manual_review: true,
                    ..missing()
                }],
                C::InReview,
            ),
            (vec![reg(R::Restricted), review()], C::InReview),
            // 7 beats 8.
            (vec![reg(R::Processing), missing()], C::Incomplete),
            (vec![reg(R::Processing), reg(R::Restricted)], C::Incomplete),
            // 8 beats 9, 9 beats 10, 10 beats 11.
            (vec![reg(R::Submitted), reg(R::Processing)], C::Processing),
            (vec![reg(R::NotSubmitted), reg(R::Submitted)], C::Initiated),
            (vec![reg(R::Rejected), reg(R::NotSubmitted)], C::Pending),
            // Review or missing fields only count while processing.
            (
                vec![RegistrationFacts {
                    manual_review: true,
                    ..reg(R::Submitted)
                }],
                C::Initiated,
            ),
            (
                vec![RegistrationFacts {
                    has_missing_fields: true,
                    ..reg(R::Rejected)
                }],
                C::Rejected,
            ),
        ];
        for (regs, expected) in table {
            assert_eq!(derive_customer_status(&regs), expected, "{regs:?}");
        }
    }

    #[test]
    fn events_per_status() {
        assert_eq!(status_event(C::Approved), Some(EventKind::CustomerVerified));
        assert_eq!(status_event(C::Rejected), Some(EventKind::CustomerRejected));
        assert_eq!(
            status_event(C::DocumentRequired),
            Some(EventKind::CustomerActionRequired)
        );
        assert_eq!(
            status_event(C::DocumentPending),
            Some(EventKind::CustomerProcessing)
        );
        assert_eq!(status_event(C::NotStarted), None);
        for s in CustomerStatus::ALL {
            assert!(*s == C::NotStarted || status_event(*s).is_some());
        }
    }
}
