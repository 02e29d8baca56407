//! The phase table: who must commit or reveal in which status. The pallet's `commit_result` and
//! `reveal_result` and the runtime's offchain worker both ask this module, so the rule lives in
//! one place.
//!
//! | status                         | provider | checker (audit panel) |
//! |--------------------------------|----------|-----------------------|
//! | `Assigned`                     | commit   | —                     |
//! | `Committed`                    | —        | — (audit decision)    |
//! | `Auditing`                     | —        | commit (blind)        |
//! | `Revealing { audited: false }` | reveal   | —                     |
//! | `Revealing { audited: true }`  | reveal   | reveal                |
//!
//! A phase ends at the job's `wake_at`; whoever still owes a step then is penalised by the block
//! hook (see `hook.rs`).

use crate::{JobStatus, Party};
pub use infera_primitives::Role;

/// What a party owes the job now.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Due {
	/// Submit `commit_result`.
	Commit,
	/// Submit `reveal_result`.
	Reveal,
	/// Nothing in this status.
	Nothing,
}

/// Whether `role` commits in `status`.
pub fn commits_in(status: JobStatus, role: Role) -> bool {
	matches!(
		(status, role),
		(JobStatus::Assigned, Role::Provider) | (JobStatus::Auditing, Role::Checker)
	)
}

/// Whether `role` reveals in `status`.
pub fn reveals_in(status: JobStatus, role: Role) -> bool {
	matches!(
		(status, role),
		(JobStatus::Revealing { .. }, Role::Provider)
			| (JobStatus::Revealing { audited: true }, Role::Checker)
	)
}

/// What `party`, playing `role`, owes a job in `status`.
pub fn due<AccountId>(status: JobStatus, role: Role, party: &Party<AccountId>) -> Due {
	match (party.commitment, party.output_hash) {
		(None, _) if commits_in(status, role) => Due::Commit,
		(Some(_), None) if reveals_in(status, role) => Due::Reveal,
		_ => Due::Nothing,
	}
}

/// The roles `who` plays in a job with this provider and panel.
pub fn role_of<'a, AccountId: PartialEq>(
	provider: Option<&'a Party<AccountId>>,
	checkers: &'a [Party<AccountId>],
	who: &AccountId,
) -> Option<(Role, &'a Party<AccountId>)> {
	if let Some(p) = provider.filter(|p| &p.who == who) {
		return Some((Role::Provider, p));
	}
	checkers.iter().find(|p| &p.who == who).map(|p| (Role::Checker, p))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn each_status_names_who_acts() {
		let fresh = Party::new(1u64);
		let committed =
			Party { who: 1u64, commitment: Some(Default::default()), output_hash: None };
		let revealed = Party {
			who: 1u64,
			commitment: Some(Default::default()),
			output_hash: Some(Default::default()),
		};
		use JobStatus::*;
		assert_eq!(due(Assigned, Role::Provider, &fresh), Due::Commit);
		assert_eq!(due(Assigned, Role::Checker, &fresh), Due::Nothing);
		assert_eq!(due(Committed, Role::Provider, &committed), Due::Nothing);
		assert_eq!(due(Auditing, Role::Checker, &fresh), Due::Commit);
		assert_eq!(due(Auditing, Role::Provider, &committed), Due::Nothing);
		assert_eq!(due(Revealing { audited: false }, Role::Provider, &committed), Due::Reveal);
		assert_eq!(due(Revealing { audited: false }, Role::Checker, &committed), Due::Nothing);
		assert_eq!(due(Revealing { audited: true }, Role::Checker, &committed), Due::Reveal);
		assert_eq!(due(Revealing { audited: true }, Role::Provider, &revealed), Due::Nothing);
		assert_eq!(due(Verified, Role::Provider, &committed), Due::Nothing);
	}
}
