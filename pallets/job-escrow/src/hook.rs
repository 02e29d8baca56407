//! The block hook: the wake-up scheduler and what happens to a job when its phase ends.

use crate::{
	pallet::*, BalanceOf, JobOf, JobStatus, RefundReason, Verdict, Wakeup, WakeupPageLen,
	WeightInfo,
};
use alloc::{collections::BTreeSet, vec::Vec};
use frame_support::{traits::Get, weights::Weight, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use infera_primitives::{traits::ComputeProviders, JobId, ModelId};
use sp_runtime::traits::{Saturating, Zero};

/// What waking a job cost, for the hook's weight: each kind of visit is charged its own
/// benchmark at its worst case, so a job's life is charged what it really does.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Visit {
	/// A wake-up left behind by a phase that ended early: the job was read and left alone.
	Stale,
	/// A committed job for which no audit was drawn: its reveals open (`on_initialize_decide`).
	Decide,
	/// A payment or a refund (`on_initialize_settle`, the dearer of the two) of a job whose
	/// provider or model no earlier payment of the block touched.
	Settle,
	/// A payment or a refund whose provider and model an earlier one of the block already
	/// touched: their records are written once, at the end of the block
	/// (`on_initialize_settle_shared`).
	SettleShared,
	/// A finished job removed with its provider's output, its receipt kept
	/// (`on_initialize_prune`).
	Prune,
	/// A finished job removed with a panel's outputs or the index entries of providers that
	/// failed it (`on_initialize_prune_full`).
	PruneFull,
	/// An expired receipt removed with its index entries (`on_initialize_expire`).
	Expire,
	/// A reassignment, a panel drawn or re-staffed, or reveals judged.
	Heavy,
}

/// How many visits of each kind a block's hook made, and what paying jobs touched.
struct Visits<T: Config> {
	stale: u32,
	decide: u32,
	settle: u32,
	settle_shared: u32,
	prune: u32,
	prune_full: u32,
	expire: u32,
	heavy: u32,
	/// Providers and models whose records a payment or refund of this block wrote.
	payees: BTreeSet<T::AccountId>,
	models: BTreeSet<ModelId>,
	/// What `OnJobFinished` used for the jobs paid or refunded (beyond their benchmark).
	finished: Weight,
	/// Wake-up pages the walk read, and removed or wrote back.
	pages: u32,
	/// Wake-up pages the visits wrote new entries into (each read and written once however
	/// many entries it got).
	touched: BTreeSet<(BlockNumberFor<T>, u64)>,
}

impl<T: Config> Default for Visits<T> {
	fn default() -> Self {
		Self {
			stale: 0,
			decide: 0,
			settle: 0,
			settle_shared: 0,
			prune: 0,
			prune_full: 0,
			expire: 0,
			heavy: 0,
			payees: BTreeSet::new(),
			models: BTreeSet::new(),
			finished: Weight::zero(),
			pages: 0,
			touched: BTreeSet::new(),
		}
	}
}

impl<T: Config> Visits<T> {
	fn add(&mut self, visit: Visit) {
		let n = match visit {
			Visit::Stale => &mut self.stale,
			Visit::Decide => &mut self.decide,
			Visit::Settle => &mut self.settle,
			Visit::SettleShared => &mut self.settle_shared,
			Visit::Prune => &mut self.prune,
			Visit::PruneFull => &mut self.prune_full,
			Visit::Expire => &mut self.expire,
			Visit::Heavy => &mut self.heavy,
		};
		*n = n.saturating_add(1);
	}

	/// What the visits weigh, with `more_heavy` further heavy visits. A heavy visit may be a
	/// no-show to reassign, an audit to staff or re-staff, or an audit to judge: charged the
	/// dearest, and the most `OnJobFinished` may cost. Every other kind is charged its own
	/// benchmark; a stale wake-up, the read of its job; a payment or refund also what its
	/// `OnJobFinished` used. Wake-up pages are charged by the page: each the walk took (read,
	/// then removed or written back) and each a visit wrote to (read and written).
	fn weight(&self, more_heavy: u32) -> Weight {
		let db = <T as frame_system::Config>::DbWeight::get();
		let heavy = self.heavy.saturating_add(more_heavy);
		let each =
			|n: u32, weight: fn(u32) -> Weight| if n == 0 { Weight::zero() } else { weight(n) };
		let dearest = |n: u32| {
			T::WeightInfo::on_initialize_wakeups(n)
				.max(T::WeightInfo::on_initialize_audits(n))
				.max(T::WeightInfo::on_initialize_judge(n))
		};
		each(heavy, dearest)
			.saturating_add(
				<T::OnJobFinished as infera_primitives::traits::OnJobFinished<_, _>>::weight()
					.saturating_mul(u64::from(heavy)),
			)
			.saturating_add(each(self.decide, T::WeightInfo::on_initialize_decide))
			.saturating_add(each(self.settle, T::WeightInfo::on_initialize_settle))
			.saturating_add(each(self.settle_shared, T::WeightInfo::on_initialize_settle_shared))
			.saturating_add(each(self.prune, T::WeightInfo::on_initialize_prune))
			.saturating_add(each(self.prune_full, T::WeightInfo::on_initialize_prune_full))
			.saturating_add(each(self.expire, T::WeightInfo::on_initialize_expire))
			.saturating_add(db.reads(self.stale.into()))
			.saturating_add(self.finished)
			.saturating_add({
				let pages = u64::from(self.pages).saturating_add(self.touched.len() as u64);
				db.reads_writes(pages, pages)
			})
	}

	/// A payment or refund of a job of `model` served by `provider`, whose `OnJobFinished`
	/// used `finished`: shared when an earlier one of the block touched the same provider (or
	/// none) and model, so their records cost no further database write.
	fn paid(&mut self, provider: Option<T::AccountId>, model: ModelId, finished: Weight) -> Visit {
		self.finished = self.finished.saturating_add(finished);
		let new_payee = provider.is_some_and(|p| self.payees.insert(p));
		let new_model = self.models.insert(model);
		if new_payee || new_model {
			Visit::Settle
		} else {
			Visit::SettleShared
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Puts `entry` in the wake-up list of block `at`, or of the next block when `at` is not
	/// in the future (its hook has run or is running). Any number of jobs may share a block:
	/// the hook carries what it cannot handle over to the next block, so scheduling never
	/// fails. The entry of the phase before stays where it is (see `WakeupPages`).
	pub(crate) fn schedule(entry: Wakeup, at: BlockNumberFor<T>) -> BlockNumberFor<T> {
		let when = at.max(Self::now().saturating_add(1u32.into()));
		Self::push_wakeup(when, entry);
		when
	}

	/// Adds `entry` to its page of block `when` (once).
	pub(crate) fn push_wakeup(when: BlockNumberFor<T>, entry: Wakeup) {
		WakeupPages::<T>::mutate(when, entry.group(), |page| {
			// A page holds at most one entry of each kind per job of its group: room for all.
			if !page.contains(&entry) && page.try_push(entry).is_err() {
				frame_support::defensive!("a wake-up page has room for each job of its group");
			}
		});
	}

	/// Moves an open job to `status`, waking at `at` (see `schedule`). Returns the wake-up.
	pub(crate) fn advance(
		id: JobId,
		mut job: JobOf<T>,
		status: JobStatus,
		at: BlockNumberFor<T>,
	) -> BlockNumberFor<T> {
		let when = Self::schedule(Wakeup::Job(id), at);
		job.status = status;
		job.wake_at = when;
		Jobs::<T>::insert(id, job);
		when
	}

	/// Handles up to `MaxWakeupsPerBlock` wake-ups, oldest block first (what an earlier block
	/// could not handle comes before this block's own), then tries to assign a few queued jobs.
	pub(crate) fn on_block(now: BlockNumberFor<T>) -> Weight {
		let (visits, blocks) = Self::wake_due(now);
		let tried = Self::assign_queued(now);
		let probe = if Self::maybe_probe(now) {
			T::WeightInfo::on_initialize_probe()
		} else {
			Weight::zero()
		};
		// An idle block reads the cursor, the wake-up list and the queue cursor; each further
		// block the cursor walks reads one more (empty) list.
		let db = <T as frame_system::Config>::DbWeight::get();
		let idle = db.reads_writes(3u64.saturating_add(blocks.into()), 1);
		let assign =
			if tried == 0 { Weight::zero() } else { T::WeightInfo::on_initialize_assign(tried) };
		idle.saturating_add(visits.weight(0)).saturating_add(assign).saturating_add(probe)
	}

	/// Takes wake-ups from the cursor's block up to `now`, page by page, at most
	/// `MaxWakeupsPerBlock` of them, and no more once one more visit, at the dearest, could take
	/// what they weigh past `MaxWakeupWeight` (the first is always taken, so the hook always
	/// moves on). A page handled is removed; one the budget stopped in keeps what is left.
	/// Moves the cursor past every block it emptied. Returns the visits of each kind and the
	/// blocks looked at.
	fn wake_due(now: BlockNumberFor<T>) -> (Visits<T>, u32) {
		let budget = T::MaxWakeupsPerBlock::get();
		let max_weight = T::MaxWakeupWeight::get();
		let mut block = WakeCursor::<T>::get();
		let (mut woken, mut blocks) = (0u32, 0u32);
		let mut visits = Visits::<T>::default();
		// Each block looked at costs a read even when empty, so the walk is bounded too: a
		// cursor far behind (after an upgrade) catches up over several blocks.
		'blocks: while block <= now && woken < budget && blocks < budget {
			blocks = blocks.saturating_add(1);
			while let Some((group, page)) = WakeupPages::<T>::iter_prefix(block).next() {
				visits.pages = visits.pages.saturating_add(1);
				let entries = page.into_inner();
				let mut done = 0usize;
				for entry in entries.iter() {
					let over = woken > 0 && visits.weight(1).any_gt(max_weight);
					if woken >= budget || over {
						break;
					}
					woken = woken.saturating_add(1);
					done = done.saturating_add(1);
					let visit = Self::wake(*entry, block, now, &mut visits);
					visits.add(visit);
				}
				match entries.get(done..) {
					Some(rest) if !rest.is_empty() => {
						let rest =
							BoundedVec::<Wakeup, WakeupPageLen>::truncate_from(rest.to_vec());
						WakeupPages::<T>::insert(block, group, rest);
						break 'blocks;
					}
					_ => WakeupPages::<T>::remove(block, group),
				}
				if woken >= budget {
					// The block may still have pages: look again next block.
					break 'blocks;
				}
			}
			block = block.saturating_add(1u32.into());
		}
		WakeCursor::<T>::put(block);
		(visits, blocks)
	}

	/// Wake-up `entry` of `block` comes due now (the same block, or a later one when wake-ups
	/// were carried over): the phase of its job ends, or its receipt expires. An entry left
	/// behind by a phase that ended early, or naming a job or receipt that is gone, is stale.
	fn wake(
		entry: Wakeup,
		block: BlockNumberFor<T>,
		now: BlockNumberFor<T>,
		visits: &mut Visits<T>,
	) -> Visit {
		let id = match entry {
			Wakeup::Receipt(id) => {
				return if Self::expire_receipt(id) { Visit::Expire } else { Visit::Stale };
			}
			Wakeup::Job(id) => id,
		};
		let Some(job) = Jobs::<T>::get(id) else { return Visit::Stale };
		if job.wake_at != block {
			return Visit::Stale;
		}
		let group = entry.group();
		if matches!(job.status, JobStatus::Settled | JobStatus::Refunded { .. }) {
			// Outputs are the provider's and the panel's; index entries go for providers that
			// failed the job.
			let full = !job.checkers.is_empty() || !job.no_shows.is_empty();
			let expires = Self::prune(id, job);
			visits.touched.insert((expires, group));
			return if full { Visit::PruneFull } else { Visit::Prune };
		}
		let visit = match job.status {
			JobStatus::Queued => {
				Self::dequeue(job.model, id);
				let model = job.model;
				let finished = Self::refund(id, job, RefundReason::NoProvider);
				visits.paid(None, model, finished)
			}
			JobStatus::Assigned => {
				Self::provider_no_show(id, job, now);
				Visit::Heavy
			}
			JobStatus::Committed => {
				if Self::decide_audit(id, job, now) {
					Visit::Heavy
				} else {
					Visit::Decide
				}
			}
			JobStatus::Auditing => {
				Self::close_audit_commits(id, job, now);
				Visit::Heavy
			}
			JobStatus::Revealing { .. } => {
				Self::close_reveals(id, job);
				Visit::Heavy
			}
			JobStatus::Verified => {
				let (provider, model) = (job.provider.as_ref().map(|p| p.who.clone()), job.model);
				let finished = Self::settle(id, job);
				visits.paid(provider, model, finished)
			}
			JobStatus::Settled | JobStatus::Refunded { .. } => Visit::Stale,
		};
		// Every other phase moves the job on to a later wake-up.
		if let Some(job) = Jobs::<T>::get(id) {
			visits.touched.insert((job.wake_at, group));
		}
		visit
	}

	/// The assigned provider did not commit: it is penalised and the job goes to another
	/// provider while reassignments and time remain, otherwise it is refunded.
	fn provider_no_show(id: JobId, mut job: JobOf<T>, now: BlockNumberFor<T>) {
		if let Some(provider) = job.provider.take() {
			let status = job.status;
			T::Providers::unlock(&provider.who, job.stake);
			Self::slash_or_log(
				&provider.who,
				Params::<T>::get().no_show_slash.mul_floor(job.stake),
				None,
			);
			T::Providers::record_no_show(&provider.who);
			// The list holds at most `MaxAttempts`; a full list only means no more reassignments.
			let _ = job.no_shows.try_push(provider.who.clone());
			Self::deposit_event(Event::PartyMissedWindow { job: id, who: provider.who, status });
		}
		let params = Params::<T>::get();
		let time_left = Self::shortest_deadline(now) <= job.deadline;
		let attempts_left = (job.no_shows.len() as u32) <= params.max_reassignments;
		if time_left && attempts_left && Self::try_assign(id, &mut job, now) {
			let at = job.wake_at;
			Self::advance(id, job, JobStatus::Assigned, at);
		} else {
			job.verdict = Verdict::NoResult;
			Self::refund(id, job, RefundReason::NoShow);
		}
	}

	/// Slashes `amount` of `who`'s bond. A slash the staking pallet refuses is logged, never
	/// hidden: it means `who` holds no bond, which the draws exclude.
	pub(crate) fn slash_or_log(
		who: &T::AccountId,
		amount: BalanceOf<T>,
		reporter: Option<&T::AccountId>,
	) -> BalanceOf<T> {
		if amount.is_zero() {
			return Zero::zero();
		}
		T::Providers::slash(who, amount, reporter).unwrap_or_else(|e| {
			log::error!(target: "runtime::job-escrow", "slashing a party failed: {e:?}");
			Zero::zero()
		})
	}

	/// Tries to assign up to `AssignPerBlock` queued jobs, taking the models' queues in turn
	/// from the one after `QueueCursor`: in each, the oldest jobs until one finds no provider,
	/// which goes to the back of its queue. Returns how many jobs it tried.
	fn assign_queued(now: BlockNumberFor<T>) -> u32 {
		let budget = T::AssignPerBlock::get();
		if budget == 0 {
			return 0;
		}
		let mut models: Vec<ModelId> = match QueueCursor::<T>::get() {
			Some(last) => Queues::<T>::iter_keys_from_key(last).take(budget as usize).collect(),
			None => Vec::new(),
		};
		// Wrap around to the first queues (the last one tried may come again, last).
		for model in Queues::<T>::iter_keys() {
			if models.len() as u32 >= budget {
				break;
			}
			if !models.contains(&model) {
				models.push(model);
			}
		}
		let mut tried = 0u32;
		for model in models {
			if tried >= budget {
				break;
			}
			tried =
				tried.saturating_add(Self::assign_from(model, budget.saturating_sub(tried), now));
			QueueCursor::<T>::put(model);
		}
		tried
	}

	/// Tries up to `max` of `model`'s queued jobs, oldest first, stopping at the first that
	/// finds no provider (it goes to the back). Returns how many it tried.
	fn assign_from(model: ModelId, max: u32, now: BlockNumberFor<T>) -> u32 {
		let mut queue: Vec<JobId> = Queues::<T>::get(model).into_inner();
		let mut tried = 0u32;
		while tried < max && !queue.is_empty() {
			let id = queue.remove(0);
			tried = tried.saturating_add(1);
			// A queued job always exists: it leaves the queue when it ends.
			let Some(mut job) = Jobs::<T>::get(id) else { continue };
			if Self::try_assign(id, &mut job, now) {
				let at = job.wake_at;
				Self::advance(id, job, JobStatus::Assigned, at);
			} else {
				queue.push(id);
				break;
			}
		}
		// The queue is no longer than it was: it lost the jobs assigned and kept the rest.
		let queue = BoundedVec::<JobId, T::MaxQueued>::truncate_from(queue);
		if queue.is_empty() {
			Queues::<T>::remove(model);
		} else {
			Queues::<T>::insert(model, queue);
		}
		tried
	}

	/// Takes `id` out of `model`'s queue.
	pub(crate) fn dequeue(model: ModelId, id: JobId) {
		Queues::<T>::mutate_exists(model, |maybe| {
			if let Some(queue) = maybe {
				queue.retain(|j| *j != id);
				if queue.is_empty() {
					*maybe = None;
				}
			}
		});
	}
}
