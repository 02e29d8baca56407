//! Verification: the audit decision, the blind audit panel, its replacement when checkers stay
//! silent, and the verdict with its slashes and credits.
//!
//! A committed job is audited with probability `audit_rate`, decided by the randomness of a block
//! after the commit. An audited job gets a panel of `committee_size` checkers: admitted auditors
//! that are bonded in compute staking and declare the model, each locking as much stake as the
//! provider. They commit while no output of the job is public, so a checker that did not run the
//! model has nothing to copy. Then provider and panel reveal; a verdict needs a majority of the
//! panel size (`quorum`):
//! - a majority matches the provider: it is paid; checkers that contradicted it lose
//!   `fraud_slash` of their stake (a false accusation), with the provider as reporter;
//! - a majority contradicts it: the provider loses `fraud_slash` of its stake and the client is
//!   refunded; checkers that vouched for the wrong output lose as much;
//! - no majority: the provider's output was not shown wrong and stands (`Undecided`); nobody is
//!   slashed for a vote.
//!
//! Whoever commits and does not reveal loses `fraud_slash` too, so withholding never beats being
//! caught. A checker that does not commit loses `no_show_slash` and is replaced once while the
//! deadline allows. Audits of probes (`probes.rs`) earn audit points for the checkers whose
//! revealed output counted toward the verdict; audits of client jobs earn none (a client could
//! buy them for a colluding auditor), and a client-demanded audit pays its panel from the
//! client's bond.

use crate::{pallet::*, JobOf, JobStatus, Party, RefundReason, Verdict};
use alloc::vec::Vec;
use frame_support::traits::fungible::MutateHold;
use frame_system::pallet_prelude::BlockNumberFor;
use infera_primitives::{
	canonical::{CanonicalOutput, Refusal},
	tolerance::Vote,
	traits::{ComputeProviders, WorkRecorder},
	JobId, ModelId,
};
use sp_runtime::{
	traits::{CheckedDiv, Saturating, Zero},
	Perbill,
};

impl<T: Config> Pallet<T> {
	/// The votes a verdict needs: a majority of the panel size.
	pub fn quorum() -> u32 {
		(Params::<T>::get().committee_size / 2).saturating_add(1)
	}

	/// Admitted auditors that can check `model` with `stake` at risk, none of them in
	/// `exclude`, in the auditor set's order.
	pub(crate) fn eligible_checkers(
		model: ModelId,
		stake: crate::BalanceOf<T>,
		exclude: &[T::AccountId],
	) -> Vec<T::AccountId> {
		Auditors::<T>::get()
			.into_iter()
			.filter(|a| !exclude.contains(a) && T::Providers::can_check(a, model, stake))
			.collect()
	}

	/// How many admitted, bonded auditors declare `model`, leaving out `except`. Zero means the
	/// model is unverifiable: its jobs cannot be audited and earn no emission.
	pub fn checkers_for(model: ModelId, except: Option<&T::AccountId>) -> u32 {
		let exclude: Vec<T::AccountId> = except.into_iter().cloned().collect();
		Self::eligible_checkers(model, Zero::zero(), &exclude).len() as u32
	}

	/// Everyone who must not check `job`: its client, provider, failed providers and every
	/// checker drawn so far.
	fn excluded(job: &JobOf<T>) -> Vec<T::AccountId> {
		core::iter::once(job.client.clone())
			.chain(job.provider.iter().map(|p| p.who.clone()))
			.chain(job.no_shows.iter().cloned())
			.chain(job.checkers.iter().map(|p| p.who.clone()))
			.chain(job.silent.iter().cloned())
			.collect()
	}

	/// Draws up to `count` checkers uniformly at random, locks their stake and adds them to the
	/// panel. Returns who was drawn.
	pub(crate) fn draw_checkers(
		id: JobId,
		job: &mut JobOf<T>,
		count: u32,
		purpose: &[u8],
	) -> Vec<T::AccountId> {
		let mut pool = Self::eligible_checkers(job.model, job.stake, &Self::excluded(job));
		let seed = Self::random_seed(purpose, id);
		let mut drawn = Vec::new();
		for round in 0..count {
			let len = pool.len() as u64;
			if len == 0 {
				break;
			}
			let index = Self::seed_u64(&seed, round).checked_rem(len).unwrap_or(0) as usize;
			if index >= pool.len() {
				break;
			}
			let who = pool.swap_remove(index);
			if T::Providers::lock(&who, job.stake).is_err() {
				continue;
			}
			if job.checkers.try_push(Party::new(who.clone())).is_err() {
				T::Providers::unlock(&who, job.stake);
				break;
			}
			drawn.push(who);
		}
		drawn
	}

	/// Whether the panel of a job in `status` holds locked stake.
	pub(crate) fn panel_locked(status: JobStatus) -> bool {
		matches!(status, JobStatus::Auditing | JobStatus::Revealing { audited: true })
	}

	/// Unlocks the stake of every checker on the panel.
	pub(crate) fn release_checkers(job: &JobOf<T>) {
		if Self::panel_locked(job.status) {
			for c in job.checkers.iter() {
				T::Providers::unlock(&c.who, job.stake);
			}
		}
	}

	/// Randomness from a block after the commit decides whether the job is audited; an
	/// audited job gets its panel at once. Returns whether a panel was drawn (or tried).
	pub(crate) fn decide_audit(id: JobId, mut job: JobOf<T>, now: BlockNumberFor<T>) -> bool {
		let params = Params::<T>::get();
		let seed = Self::random_seed(b"infera/audit", id);
		let parts = Self::seed_u64(&seed, 0).checked_rem(1_000_000_000).unwrap_or(0);
		// A probe is always audited: it is what emission pays for.
		if !job.probe && Perbill::from_parts(parts as u32) >= params.audit_rate {
			Self::deposit_event(Event::AuditDecided {
				job: id,
				audited: false,
				checkers: Vec::new(),
			});
			Self::open_reveals(id, job, false, now);
			return false;
		}
		if !job.probe {
			AuditStats::<T>::mutate(|s| s.drawn = s.drawn.saturating_add(1));
		}
		let checkers = Self::draw_checkers(id, &mut job, params.committee_size, b"infera/checkers");
		Self::deposit_event(Event::AuditDecided {
			job: id,
			audited: true,
			checkers: checkers.clone(),
		});
		if checkers.is_empty() {
			job.verdict = Verdict::Unverifiable;
			Self::deposit_event(Event::AuditUnavailable { job: id, model: job.model });
			Self::open_reveals(id, job, false, now);
			return true;
		}
		job.status = JobStatus::Auditing;
		let at = now.saturating_add(params.commit_window);
		Self::advance(id, job, JobStatus::Auditing, at);
		true
	}

	/// The panel's commit window ended: silent checkers are penalised and, once, replaced while
	/// the deadline leaves time for a full commit and reveal window.
	pub(crate) fn close_audit_commits(id: JobId, mut job: JobOf<T>, now: BlockNumberFor<T>) {
		let params = Params::<T>::get();
		let (committed, silent): (Vec<_>, Vec<_>) =
			job.checkers.iter().cloned().partition(|c| c.commitment.is_some());
		for c in silent {
			T::Providers::unlock(&c.who, job.stake);
			Self::slash_or_log(&c.who, params.no_show_slash.mul_floor(job.stake), None);
			T::Providers::record_no_show(&c.who);
			// `silent` holds a whole first panel, the only one whose silent members must be kept
			// from the (single) replacement draw; a full list after that excludes no one needed.
			let _ = job.silent.try_push(c.who.clone());
			Self::deposit_event(Event::PartyMissedWindow {
				job: id,
				who: c.who,
				status: job.status,
			});
		}
		job.checkers = frame_support::BoundedVec::truncate_from(committed);
		let missing = params.committee_size.saturating_sub(job.checkers.len() as u32);
		let time_left =
			now.saturating_add(params.commit_window).saturating_add(params.reveal_window)
				<= job.deadline;
		if missing > 0 && !job.replaced && time_left {
			job.replaced = true;
			let drawn = Self::draw_checkers(id, &mut job, missing, b"infera/replace");
			if !drawn.is_empty() {
				Self::deposit_event(Event::CheckersReplaced { job: id, checkers: drawn });
				let at = now.saturating_add(params.commit_window);
				Self::advance(id, job, JobStatus::Auditing, at);
				return;
			}
		}
		if job.checkers.is_empty() {
			// Nobody checked: the audit lapsed and the job ends saying so.
			job.verdict = Verdict::Undecided;
			Self::open_reveals(id, job, false, now);
		} else {
			Self::open_reveals(id, job, true, now);
		}
	}

	/// Opens the reveal window (for the panel too when `audited`).
	pub(crate) fn open_reveals(id: JobId, job: JobOf<T>, audited: bool, now: BlockNumberFor<T>) {
		let at = now.saturating_add(Params::<T>::get().reveal_window);
		let reveal_by = Self::advance(id, job, JobStatus::Revealing { audited }, at);
		Self::deposit_event(Event::RevealsOpened { job: id, reveal_by });
	}

	/// Reveals are over (everyone revealed, or the window ended): withholders are slashed, and
	/// an audited job is judged by its panel.
	pub(crate) fn close_reveals(id: JobId, mut job: JobOf<T>) {
		let params = Params::<T>::get();
		let fraud = params.fraud_slash.mul_floor(job.stake);
		let status = job.status;
		let audited = Self::panel_locked(status);
		Self::release_checkers(&job);
		// From here on no checker holds stake for this job.
		job.status = JobStatus::Verified;
		let panel: Vec<Party<T::AccountId>> = job.checkers.to_vec();
		for c in panel.iter().filter(|c| c.output_hash.is_none()) {
			Self::slash_or_log(&c.who, fraud, None);
			Self::deposit_event(Event::PartyMissedWindow { job: id, who: c.who.clone(), status });
		}
		let revealed: Vec<&Party<T::AccountId>> =
			panel.iter().filter(|c| c.output_hash.is_some()).collect();
		let Some(provider) = job.provider.clone() else {
			job.verdict = Verdict::NoResult;
			Self::refund(id, job, RefundReason::NoShow);
			return;
		};
		if provider.output_hash.is_none() {
			// Committed and withheld: as costly as a wrong output that was caught.
			T::Providers::unlock(&provider.who, job.stake);
			// No reporter: revealing anything at all would otherwise earn a share of the slash.
			Self::slash_or_log(&provider.who, fraud, None);
			T::Providers::record_no_show(&provider.who);
			Self::deposit_event(Event::PartyMissedWindow { job: id, who: provider.who, status });
			Self::credit_probe_audits(&job, revealed.iter());
			if audited && !job.probe {
				AuditStats::<T>::mutate(|s| s.concluded = s.concluded.saturating_add(1));
			}
			job.stake = Zero::zero();
			job.verdict = Verdict::Withheld;
			Self::refund(id, job, RefundReason::Withheld);
			return;
		}
		if !audited {
			if let Some(reason) = Self::refusal(id, &job.model, &provider) {
				Self::check_refusal(id, job, reason);
				return;
			}
			// A demanded audit nobody committed to: the client's bond comes back.
			Self::pay_challenge_bond(id, &mut job, &[]);
			Self::verify(id, job);
			return;
		}
		// Each checker's output is the reference its vote judges the provider's by. A checker
		// that cannot decide (its generation parts from the provider's at a near-tie) abstains:
		// it is neither slashed nor counted.
		let votes: Vec<(&Party<T::AccountId>, Vote)> =
			revealed.into_iter().map(|c| (c, Self::vote_on(job.model, id, c, &provider))).collect();
		let agree: Vec<&Party<T::AccountId>> =
			votes.iter().filter(|(_, v)| *v == Vote::Agree).map(|(c, _)| *c).collect();
		let disagree: Vec<&Party<T::AccountId>> =
			votes.iter().filter(|(_, v)| matches!(v, Vote::Disagree(_))).map(|(c, _)| *c).collect();
		let quorum = Self::quorum() as usize;
		let (for_provider, against) = (agree.len() as u32, disagree.len() as u32);
		if agree.len() >= quorum {
			for c in disagree.iter() {
				Self::slash_or_log(&c.who, fraud, Some(&provider.who));
			}
			Self::credit_probe_audits(&job, agree.iter());
			if job.challenge_bond.is_zero() && !job.probe {
				AuditStats::<T>::mutate(|s| s.concluded = s.concluded.saturating_add(1));
			}
			let confirmed: Vec<T::AccountId> = agree.iter().map(|c| c.who.clone()).collect();
			Self::pay_challenge_bond(id, &mut job, &confirmed);
			job.verdict = Verdict::AuditPassed;
			Self::deposit_event(Event::AuditJudged {
				job: id,
				for_provider,
				against,
				verdict: job.verdict,
			});
			Self::verify(id, job);
		} else if disagree.len() >= quorum {
			for c in agree.iter() {
				Self::slash_or_log(&c.who, fraud, None);
			}
			Self::credit_probe_audits(&job, disagree.iter());
			T::Providers::unlock(&provider.who, job.stake);
			// The reporter is a dissenter another dissenter confirms: a checker that revealed
			// garbage contradicts a cheat too, but earns nothing for it.
			let reporter = disagree.iter().find(|c| {
				disagree
					.iter()
					.any(|d| d.who != c.who && Self::vote_on(job.model, id, c, d) == Vote::Agree)
			});
			Self::slash_or_log(&provider.who, fraud, reporter.map(|c| &c.who));
			if job.challenge_bond.is_zero() && !job.probe {
				AuditStats::<T>::mutate(|s| s.concluded = s.concluded.saturating_add(1));
			}
			job.stake = Zero::zero();
			job.verdict = Verdict::AuditFailed;
			Self::deposit_event(Event::AuditJudged {
				job: id,
				for_provider,
				against,
				verdict: job.verdict,
			});
			Self::refund(id, job, RefundReason::Fraud);
		} else {
			Self::credit_probe_audits(&job, agree.iter().chain(disagree.iter()));
			let worked: Vec<T::AccountId> =
				agree.iter().chain(disagree.iter()).map(|c| c.who.clone()).collect();
			Self::pay_challenge_bond(id, &mut job, &worked);
			job.verdict = Verdict::Undecided;
			Self::deposit_event(Event::AuditJudged {
				job: id,
				for_provider,
				against,
				verdict: job.verdict,
			});
			Self::verify(id, job);
		}
	}

	/// The refusal `party` revealed for job `id`, if its output is one.
	fn refusal(id: JobId, model: &ModelId, party: &Party<T::AccountId>) -> Option<Refusal> {
		let output = Outputs::<T>::get(id, &party.who)?;
		match Self::decode_output(*model, &output)? {
			CanonicalOutput::Refused(reason) => Some(reason),
			_ => None,
		}
	}

	/// The provider of an unaudited job revealed that the model cannot run its input. A claim
	/// nobody checked would pay for no work, so a panel is drawn to run the input itself (once:
	/// a job whose audit lapsed is not drawn again); its verdict decides as in any audit. With
	/// nobody to check it, the job ends without a result: nobody paid, nobody slashed, the
	/// client's storage fee kept.
	fn check_refusal(id: JobId, mut job: JobOf<T>, reason: Refusal) {
		let now = Self::now();
		let params = Params::<T>::get();
		if job.verdict == Verdict::Unaudited && job.challenge_bond.is_zero() {
			let checkers =
				Self::draw_checkers(id, &mut job, params.committee_size, b"infera/refusal");
			if !checkers.is_empty() {
				if !job.probe {
					AuditStats::<T>::mutate(|s| s.drawn = s.drawn.saturating_add(1));
				}
				Self::deposit_event(Event::RefusalAudited { job: id, reason, checkers });
				let at = now.saturating_add(params.commit_window);
				Self::advance(id, job, JobStatus::Auditing, at);
				return;
			}
		}
		Self::pay_challenge_bond(id, &mut job, &[]);
		job.verdict = Verdict::NoResult;
		Self::refund(id, job, RefundReason::Unrunnable);
	}

	/// Pays a demanded audit's bond in equal shares to `to` (the checkers that confirmed the
	/// provider, or all that revealed when no majority formed); with nobody to pay, or for the
	/// rounding rest, it goes back to the client.
	pub(crate) fn pay_challenge_bond(id: JobId, job: &mut JobOf<T>, to: &[T::AccountId]) {
		let bond = core::mem::replace(&mut job.challenge_bond, Zero::zero());
		if bond.is_zero() {
			return;
		}
		let mut rest = bond;
		if let Ok(n) = u32::try_from(to.len()) {
			if n > 0 {
				// `n > 0`: the division cannot fail.
				let share =
					bond.checked_div(&crate::BalanceOf::<T>::from(n)).unwrap_or_else(Zero::zero);
				for who in to {
					if Self::pay(&job.client, who, share) {
						rest = rest.saturating_sub(share);
					}
				}
			}
		}
		if let Err(e) = T::Currency::release(
			&Self::escrow_reason(),
			&job.client,
			rest,
			frame_support::traits::tokens::Precision::BestEffort,
		) {
			log::error!(target: "runtime::job-escrow", "job {}: bond release failed: {e:?}", id.0);
		}
		Self::deposit_event(Event::ChallengeBondPaid {
			job: id,
			to_checkers: bond.saturating_sub(rest),
			returned: rest,
		});
	}

	/// Credits an audit point to each of `checkers` when `job` is a probe: only probes' audits
	/// earn points (a client could buy its own jobs' audits for a colluding auditor).
	fn credit_probe_audits<'a>(
		job: &JobOf<T>,
		checkers: impl Iterator<Item = &'a &'a Party<T::AccountId>>,
	) where
		T::AccountId: 'a,
	{
		if job.probe {
			for c in checkers {
				T::WorkRecorder::credit_audit(&c.who);
			}
		}
	}

	/// The result stands: it is paid when the challenge window ends.
	pub(crate) fn verify(id: JobId, job: JobOf<T>) {
		let pay_at = Self::now().saturating_add(Params::<T>::get().challenge_window);
		let verdict = job.verdict;
		let pay_at = Self::advance(id, job, JobStatus::Verified, pay_at);
		Self::deposit_event(Event::JobVerified { job: id, verdict, pay_at });
	}
}
