//! The sandbox provider: a deterministic simulation with state and rules (contract §7).
//!
//! Outcomes are chosen by the customer's email, like card test numbers: the local part
//! containing `+reject` → rejected; `+documents` → documents required, then accepted after an
//! upload, then approved; `+review` → stays processing, flagged for manual review; `+confirm` →
//! awaiting confirmation; `+incomplete` → processing with `document_number` missing; anything
//! else → approved. Progress happens in durable job steps (see [`crate::workers::jobs`]).

use std::sync::atomic::{AtomicU64, Ordering};

use acorn_types::{
    BalanceTotal, DocumentsState, Provider, Registration, RegistrationId, RegistrationStatus,
    TargetRole,
};
use async_trait::async_trait;
use serde_json::{json, Value};

use super::{
    BalanceAccount, ProviderAdapter, ProviderError, RegistrationRequest, Submitted, SyncPush,
};
use crate::store::Store;

/// The sandbox adapter (the same for every provider; the provider shapes its answers).
#[derive(Debug)]
pub struct SandboxAdapter {
    store: Store,
    sync_calls: AtomicU64,
}

impl SandboxAdapter {
    /// A sandbox whose ledger lives in `store`.
    pub fn new(store: Store) -> Self {
        SandboxAdapter {
            store,
            sync_calls: AtomicU64::new(0),
        }
    }

    /// How many sync pushes this process's sandbox has received (diagnostics and tests).
    pub fn sync_calls(&self) -> u64 {
        self.sync_calls.load(Ordering::Relaxed)
    }
}

/// The id of a registration's account at the simulated provider: the provider's id for it
/// (`cus_sbx_…` for a customer, `acct_sbx_…` for a connected account, `sub_sbx_…`), the same
/// one its balances and ledger entries name.
pub fn account_id(role: TargetRole, id: RegistrationId, provider_id: Option<&str>) -> String {
    provider_id.map_or_else(|| provider_customer_id(role, id), str::to_owned)
}

/// The outcome a customer's email asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Reject,
    Documents,
    Review,
    Confirm,
    Incomplete,
    Approve,
}

/// Reads the rule from an email's local part (first match in this order wins).
pub fn rule_for(email: &str) -> Rule {
    let local = email
        .rsplit_once('@')
        .map_or(email, |(l, _)| l)
        .to_ascii_lowercase();
    [
        ("+reject", Rule::Reject),
        ("+documents", Rule::Documents),
        ("+review", Rule::Review),
        ("+confirm", Rule::Confirm),
        ("+incomplete", Rule::Incomplete),
    ]
    .into_iter()
    .find(|(tag, _)| local.contains(tag))
    .map_or(Rule::Approve, |(_, rule)| rule)
}

/// The provider-side state a step reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxState {
    pub status: RegistrationStatus,
    pub documents: DocumentsState,
    pub manual_review: bool,
    pub missing_fields: Vec<String>,
    pub action_required: bool,
    pub rejection_reason: Option<String>,
}

/// What one step does: the new state, and whether another step should follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub state: SandboxState,
    pub next: bool,
}

/// One step of the simulation; `None` when the registration waits (for an upload, a person, or
/// nothing at all).
pub fn advance(current: &SandboxState, rule: Rule) -> Option<Step> {
    use RegistrationStatus as R;
    let mut s = current.clone();
    match current.status {
        R::Submitted => {
            s.status = R::Processing;
            return Some(Step {
                state: s,
                next: true,
            });
        }
        R::Processing => {}
        _ => return None,
    }
    // Documents uploaded (whatever the rule): the provider accepts them, then decides.
    if current.documents == DocumentsState::Submitted {
        s.documents = DocumentsState::Accepted;
        s.action_required = false;
        return Some(Step {
            state: s,
            next: true,
        });
    }
    let step = |s: SandboxState, next| Some(Step { state: s, next });
    match rule {
        Rule::Reject => {
            s.status = R::Rejected;
            s.rejection_reason = Some("sandbox: rejected by the +reject email rule".to_owned());
            step(s, false)
        }
        Rule::Documents => match current.documents {
            DocumentsState::None => {
                s.documents = DocumentsState::Required;
                s.action_required = true;
                step(s, false)
            }
            DocumentsState::Accepted => approve(s),
            _ => None,
        },
        Rule::Review if !current.manual_review => {
            s.manual_review = true;
            step(s, false)
        }
        Rule::Confirm => {
            s.status = R::AwaitingConfirmation;
            s.action_required = true;
            step(s, false)
        }
        Rule::Incomplete if current.missing_fields.is_empty() => {
            s.missing_fields = vec!["document_number".to_owned()];
            s.action_required = true;
            step(s, false)
        }
        Rule::Approve => approve(s),
        Rule::Review | Rule::Incomplete => None,
    }
}

fn approve(mut s: SandboxState) -> Option<Step> {
    s.status = RegistrationStatus::Approved;
    s.action_required = false;
    s.missing_fields.clear();
    Some(Step {
        state: s,
        next: false,
    })
}

/// The provider's id for an approved registration (`cus_sbx_…`, `acct_sbx_…`, `sub_sbx_…`).
pub fn provider_customer_id(role: TargetRole, id: RegistrationId) -> String {
    let prefix = match role {
        TargetRole::Customer => "cus",
        TargetRole::ConnectedAccount => "acct",
        TargetRole::Subaccount => "sub",
    };
    format!("{prefix}_sbx_{}", &id.uuid().simple().to_string()[8..])
}

/// Wallet ids the sandbox gives a connected account on approval.
pub fn wallets(id: RegistrationId) -> (String, String) {
    let tail = &id.uuid().simple().to_string()[8..];
    (format!("wal_sbx_{tail}"), format!("twal_sbx_{tail}"))
}

/// What approval fills in, as the real provider would (contract §7): the provider's id on the
/// registration, and for a connected account the customer's account type and wallets. Returns
/// the customer columns to fill (where the customer has none yet).
pub fn approval_fills(reg: &mut Registration) -> anyhow::Result<Vec<(&'static str, String)>> {
    let id = RegistrationId::parse(&reg.id).map_err(|e| anyhow::anyhow!("registration id: {e}"))?;
    if reg.provider_customer_id.is_none() {
        reg.provider_customer_id = Some(provider_customer_id(reg.target_role, id));
    }
    approve_response(reg);
    if reg.target_role != TargetRole::ConnectedAccount {
        return Ok(vec![]);
    }
    let (wallet, trading) = wallets(id);
    let account_type = reg
        .provider_data
        .as_ref()
        .and_then(|d| d.get("account_type"))
        .and_then(Value::as_str)
        .unwrap_or("express")
        .to_owned();
    Ok(vec![
        ("account_type", account_type),
        ("customer_wallet", wallet),
        ("trading_wallet", trading),
    ])
}

/// What the simulated provider answers once it approved: the answer of submit time moves on as
/// the real provider's would (a connected account can take charges and payouts and has its
/// details; Bridge's KYC and terms are approved), instead of staying as it was at submission.
fn approve_response(reg: &mut Registration) {
    let Some(Value::Object(response)) = reg.provider_response.as_mut() else {
        return;
    };
    let updates = match (reg.provider, reg.target_role) {
        (_, TargetRole::ConnectedAccount) => vec![
            ("charges_enabled", json!(true)),
            ("payouts_enabled", json!(true)),
            ("details_submitted", json!(true)),
        ],
        (Provider::Bridge, _) => vec![
            ("kyc_status", json!("approved")),
            ("tos_status", json!("approved")),
        ],
        _ => vec![],
    };
    for (key, value) in updates {
        response.insert(key.to_owned(), value);
    }
    if reg.target_role == TargetRole::ConnectedAccount {
        response.remove("onboarding_url");
    }
}

/// Applies a step's state to a registration.
pub fn apply(reg: &mut Registration, s: SandboxState) {
    reg.status = s.status;
    reg.documents = s.documents;
    reg.manual_review = s.manual_review;
    reg.missing_fields = s.missing_fields;
    reg.action_required = s.action_required;
    reg.rejection_reason = s.rejection_reason;
}

/// The simulation's view of a registration.
pub fn state_of(reg: &Registration) -> SandboxState {
    SandboxState {
        status: reg.status,
        documents: reg.documents,
        manual_review: reg.manual_review,
        missing_fields: reg.missing_fields.clone(),
        action_required: reg.action_required,
        rejection_reason: reg.rejection_reason.clone(),
    }
}

#[async_trait]
impl ProviderAdapter for SandboxAdapter {
    async fn submit(&self, req: &RegistrationRequest<'_>) -> Result<Submitted, ProviderError> {
        let id = provider_customer_id(req.role, req.registration_id);
        let response = match (req.provider, req.role) {
            (_, TargetRole::ConnectedAccount) => json!({
                "id": id, "object": "account", "livemode": false,
                "type": req.provider_data.get("account_type").cloned().unwrap_or(Value::Null),
                "charges_enabled": false, "payouts_enabled": false, "details_submitted": false,
                "onboarding_url": format!("https://connect.sandbox.acorn.invalid/setup/{id}"),
            }),
            (Provider::Bridge, _) => json!({
                "id": id, "kyc_status": "not_started", "tos_status": "pending",
                "kyc_link": format!("https://bridge.sandbox.acorn.invalid/kyc/{id}"),
                "tos_link": format!("https://bridge.sandbox.acorn.invalid/terms/{id}"),
            }),
            (Provider::Stripe, _) => json!({"id": id, "object": "customer", "livemode": false}),
            (provider, _) => {
                json!({"id": id, "provider": provider.as_str(), "status": "received", "sandbox": true})
            }
        };
        Ok(Submitted {
            response,
            state: None,
        })
    }

    async fn populate(&self, req: &RegistrationRequest<'_>) -> Result<Value, ProviderError> {
        let profile = serde_json::to_value(req.customer).unwrap_or(Value::Null);
        let received: Vec<&str> = acorn_types::customer::WRITABLE_FIELDS
            .iter()
            .filter(|f| profile.get(f.name).is_some_and(|v| !v.is_null()))
            .map(|f| f.name)
            .collect();
        Ok(json!({"object": "profile_update", "livemode": false, "fields_received": received}))
    }

    async fn sync(&self, push: &SyncPush<'_>) -> Result<Value, ProviderError> {
        self.sync_calls.fetch_add(1, Ordering::Relaxed);
        if push
            .email
            .rsplit_once('@')
            .is_some_and(|(local, _)| local.to_ascii_lowercase().contains("+syncfail"))
        {
            return Err(ProviderError {
                message: "sandbox: the provider refused the update (+syncfail email rule)"
                    .to_owned(),
                retryable: true,
            });
        }
        Ok(json!({
            "object": "sync", "livemode": false, "provider": push.provider.as_str(),
            "id": push.provider_customer_id.map_or_else(|| provider_customer_id(push.role, push.registration_id), str::to_owned),
            "fields_updated": push.values.keys().collect::<Vec<_>>(),
        }))
    }

    async fn balances(
        &self,
        accounts: &[BalanceAccount],
    ) -> Result<Vec<(String, Vec<BalanceTotal>)>, ProviderError> {
        let ids: Vec<RegistrationId> = accounts.iter().map(|a| a.registration_id).collect();
        let mut totals = self
            .store
            .ledger_totals(&ids)
            .await
            .map_err(|e| ProviderError {
                message: format!("sandbox ledger unavailable: {e}"),
                retryable: true,
            })?;
        Ok(accounts
            .iter()
            .map(|a| {
                let account =
                    account_id(a.role, a.registration_id, a.provider_account_id.as_deref());
                (
                    account,
                    totals.remove(&a.registration_id).unwrap_or_default(),
                )
            })
            .collect())
    }

    fn simulated(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RegistrationStatus as R;

    fn state(status: R) -> SandboxState {
        SandboxState {
            status,
            documents: DocumentsState::None,
            manual_review: false,
            missing_fields: vec![],
            action_required: false,
            rejection_reason: None,
        }
    }

    /// Runs steps until the simulation waits; returns the states passed through.
    fn run(rule: Rule, mut s: SandboxState) -> Vec<SandboxState> {
        let mut seen = vec![];
        while let Some(step) = advance(&s, rule) {
            s = step.state;
            seen.push(s.clone());
            if !step.next {
                break;
            }
        }
        seen
    }

    #[test]
    fn rules_from_email() {
        assert_eq!(rule_for("a+reject@x.com"), Rule::Reject);
        assert_eq!(rule_for("A+Documents@x.com"), Rule::Documents);
        assert_eq!(rule_for("a+review+x@x.com"), Rule::Review);
        assert_eq!(rule_for("a+confirm@x.com"), Rule::Confirm);
        assert_eq!(rule_for("a+incomplete@x.com"), Rule::Incomplete);
        assert_eq!(rule_for("alice@x.com"), Rule::Approve);
        assert_eq!(
            rule_for("alice@reject.com"),
            Rule::Approve,
            "only the local part counts"
        );
    }

    #[test]
    fn each_rule_ends_where_the_contract_says() {
        let end = |rule| {
            run(rule, state(R::Submitted))
                .last()
                .cloned()
                .expect("moved")
        };
        assert_eq!(end(Rule::Approve).status, R::Approved);
        let r = end(Rule::Reject);
        assert_eq!(r.status, R::Rejected);
        assert!(r.rejection_reason.is_some());
        let d = end(Rule::Documents);
        assert_eq!(
            (d.status, d.documents, d.action_required),
            (R::Processing, DocumentsState::Required, true)
        );
        let v = end(Rule::Review);
        assert_eq!((v.status, v.manual_review), (R::Processing, true));
        assert_eq!(end(Rule::Confirm).status, R::AwaitingConfirmation);
        assert_eq!(end(Rule::Incomplete).missing_fields, ["document_number"]);
    }

    #[test]
    fn documents_flow_after_upload() {
        let mut s = run(Rule::Documents, state(R::Submitted))
            .pop()
            .expect("state");
        assert!(
            advance(&s, Rule::Documents).is_none(),
            "waits for the upload"
        );
        s.documents = DocumentsState::Submitted;
        let after = run(Rule::Documents, s);
        assert_eq!(after[0].documents, DocumentsState::Accepted);
        assert_eq!(after.last().map(|s| s.status), Some(R::Approved));
    }

    #[test]
    fn terminal_states_do_not_move() {
        for st in [
            R::Approved,
            R::Rejected,
            R::Cancelled,
            R::NotSubmitted,
            R::AwaitingConfirmation,
        ] {
            assert!(advance(&state(st), Rule::Approve).is_none(), "{st}");
        }
    }
}
