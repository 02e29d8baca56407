//! Governance: the parameters and the incentive check they must pass, and the auditor set.

use crate::{pallet::*, AuditRecord, JobParamsOf, AUDIT_DECISION_DELAY};
use frame_support::ensure;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{Get, Saturating, Zero},
	DispatchResult,
};

/// Audits drawn before the measured share that reached a verdict replaces the assumption that
/// every drawn audit does.
pub const MIN_AUDITS_MEASURED: u64 = 100;

const BILLION: u128 = 1_000_000_000;

impl<T: Config> Pallet<T> {
	/// The share of drawn audits that reached a verdict, in parts per billion: 1 until
	/// `MIN_AUDITS_MEASURED` audits were drawn, then what was measured.
	pub fn audit_reliability(stats: &AuditRecord) -> u128 {
		if stats.drawn < MIN_AUDITS_MEASURED {
			return BILLION;
		}
		u128::from(stats.concluded)
			.saturating_mul(BILLION)
			.checked_div(u128::from(stats.drawn))
			.unwrap_or(BILLION)
	}

	/// The parameters are consistent, and no strategy pays better than honest work (ADR 0009):
	/// with the *effective* audit probability `p_eff = audit_rate · reliability`, skipping the
	/// work and revealing anything earns `(1 − p_eff)·f − p_eff·fraud·S` against the honest
	/// `f − c`; with `c ≤ f` honesty wins when `p_eff · (1 + fraud_slash · collateral) ≥ 1`.
	/// Withholding a committed result costs `fraud·S` whether audited or not, and not committing
	/// costs `no_show·S`, which must be more than nothing and no more than the fraud slash (or a
	/// cheater would rather commit junk and withhold).
	pub(crate) fn ensure_params_valid(p: &JobParamsOf<T>) -> DispatchResult {
		let zero = BlockNumberFor::<T>::zero();
		let shortest = p
			.commit_window
			.saturating_add(p.commit_window)
			.saturating_add(p.reveal_window)
			.saturating_add(AUDIT_DECISION_DELAY.into());
		ensure!(
			p.commit_window > zero
				&& p.reveal_window > zero
				&& p.challenge_window > zero
				&& p.retention > zero
				&& p.receipt_retention >= p.retention
				&& p.storage_fee <= p.base_fee
				&& p.max_deadline >= shortest
				&& p.committee_size > 0
				&& p.committee_size <= T::MaxCommittee::get()
				&& p.max_reassignments < T::MaxAttempts::get()
				&& p.collateral_ratio > 0
				&& p.max_fee >= p.base_fee,
			Error::<T>::InvalidParams
		);
		ensure!(
			!p.no_show_slash.is_zero() && p.no_show_slash <= p.fraud_slash,
			Error::<T>::BreaksIncentiveInequality
		);
		// p_eff · (1 + fraud_slash · collateral) ≥ 1, in parts per billion.
		let reliability = Self::audit_reliability(&AuditStats::<T>::get());
		let p_eff = u128::from(p.audit_rate.deconstruct())
			.saturating_mul(reliability)
			.checked_div(BILLION)
			.unwrap_or(0);
		let slash_parts = u128::from(p.fraud_slash.deconstruct());
		let gain =
			BILLION.saturating_add(slash_parts.saturating_mul(u128::from(p.collateral_ratio)));
		ensure!(
			p_eff.saturating_mul(gain) >= BILLION.saturating_mul(BILLION),
			Error::<T>::BreaksIncentiveInequality
		);
		Ok(())
	}

	pub(crate) fn do_set_params(params: JobParamsOf<T>) -> DispatchResult {
		Self::ensure_params_valid(&params)?;
		Params::<T>::put(params);
		Self::deposit_event(Event::ParamsUpdated { params });
		Ok(())
	}

	pub(crate) fn do_set_probe_models(models: crate::ProbeModelsList) -> DispatchResult {
		use infera_primitives::traits::ModelRegistry;
		for (i, model) in models.iter().enumerate() {
			ensure!(T::ModelRegistry::is_active(*model), Error::<T>::ModelNotActive);
			ensure!(!models.iter().take(i).any(|m| m == model), Error::<T>::DuplicateModel);
		}
		ProbeModels::<T>::put(models.clone());
		Self::deposit_event(Event::ProbeModelsSet { models: models.into_inner() });
		Ok(())
	}

	pub(crate) fn do_add_auditor(who: T::AccountId) -> DispatchResult {
		let mut auditors = Auditors::<T>::get();
		let at = auditors.binary_search(&who).err().ok_or(Error::<T>::AlreadyAuditor)?;
		auditors.try_insert(at, who.clone()).map_err(|_| Error::<T>::TooManyAuditors)?;
		Auditors::<T>::put(auditors);
		Self::deposit_event(Event::AuditorAdded { who });
		Ok(())
	}

	pub(crate) fn do_remove_auditor(who: T::AccountId) -> DispatchResult {
		let mut auditors = Auditors::<T>::get();
		let at = auditors.binary_search(&who).map_err(|_| Error::<T>::NotAuditor)?;
		auditors.remove(at);
		Auditors::<T>::put(auditors);
		Self::deposit_event(Event::AuditorRemoved { who });
		Ok(())
	}
}
