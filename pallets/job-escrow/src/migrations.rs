//! Storage migrations.

/// Version 2 (issue 15): wake-ups keyed by block and job with a cursor (carried over, never
/// refused), a queue per model, receipts that expire, indexes in id order, and two new
/// parameters. It reads every wake-up, queued job, index entry and receipt once: fit for the
/// test networks that exist; a chain with millions of receipts would need a multi-block
/// migration.
pub mod v2 {
	use crate::{pallet::*, BalanceOf, JobKey, JobParams};
	use alloc::vec::Vec;
	use codec::{Decode, Encode, MaxEncodedLen};
	use frame_support::{
		pallet_prelude::*,
		storage_alias,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		BoundedVec,
	};
	use frame_system::pallet_prelude::BlockNumberFor;
	use infera_primitives::JobId;
	use sp_runtime::{traits::Saturating, Perbill};

	/// The parameters as version 1 stored them.
	#[derive(Encode, Decode, MaxEncodedLen, Clone, Copy)]
	pub struct OldJobParams<Balance, BlockNumber> {
		pub audit_rate: Perbill,
		pub committee_size: u32,
		pub commit_window: BlockNumber,
		pub reveal_window: BlockNumber,
		pub challenge_window: BlockNumber,
		pub max_deadline: BlockNumber,
		pub base_fee: Balance,
		pub fee_per_byte: Balance,
		pub max_fee: Balance,
		pub max_reassignments: u32,
		pub collateral_ratio: u32,
		pub no_show_slash: Perbill,
		pub fraud_slash: Perbill,
		pub protocol_cut: Perbill,
		pub retention: BlockNumber,
		pub probe_interval: BlockNumber,
	}

	/// Version 1's storage, under the same names.
	pub mod old {
		use super::*;

		#[storage_alias]
		pub type Wakeups<T: Config> = StorageMap<
			Pallet<T>,
			Twox64Concat,
			BlockNumberFor<T>,
			BoundedVec<JobId, <T as Config>::MaxWakeupsPerBlock>,
			ValueQuery,
		>;

		#[storage_alias]
		pub type Queue<T: Config> =
			StorageValue<Pallet<T>, BoundedVec<JobId, <T as Config>::MaxQueued>, ValueQuery>;

		#[storage_alias]
		pub type JobsByClient<T: Config> = StorageDoubleMap<
			Pallet<T>,
			Blake2_128Concat,
			<T as frame_system::Config>::AccountId,
			Twox64Concat,
			JobId,
			(),
		>;

		#[storage_alias]
		pub type JobsByProvider<T: Config> = StorageDoubleMap<
			Pallet<T>,
			Blake2_128Concat,
			<T as frame_system::Config>::AccountId,
			Twox64Concat,
			JobId,
			(),
		>;

		#[storage_alias]
		pub type Params<T: Config> =
			StorageValue<Pallet<T>, OldJobParams<BalanceOf<T>, BlockNumberFor<T>>>;
	}

	/// Rewrites version 1's storage as version 2's; use through [`MigrateToV2`].
	pub struct InnerMigrateToV2<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV2<T> {
		fn on_runtime_upgrade() -> Weight {
			let (mut reads, mut writes) = (0u64, 0u64);
			let now = frame_system::Pallet::<T>::block_number();

			// Everything old is read in full before the new layout (same prefixes) is written.
			let wakeups: Vec<_> = old::Wakeups::<T>::drain().collect();
			let queue = old::Queue::<T>::take();
			let clients: Vec<_> = old::JobsByClient::<T>::drain().map(|(a, j, _)| (a, j)).collect();
			let providers: Vec<_> =
				old::JobsByProvider::<T>::drain().map(|(a, j, _)| (a, j)).collect();
			reads = reads.saturating_add(
				(wakeups.len().saturating_add(clients.len()).saturating_add(providers.len())
					as u64)
					.saturating_add(1),
			);

			if let Some(p) = old::Params::<T>::get() {
				let defaults = T::DefaultParams::get();
				Params::<T>::put(JobParams {
					audit_rate: p.audit_rate,
					committee_size: p.committee_size,
					commit_window: p.commit_window,
					reveal_window: p.reveal_window,
					challenge_window: p.challenge_window,
					max_deadline: p.max_deadline,
					base_fee: p.base_fee,
					fee_per_byte: p.fee_per_byte,
					max_fee: p.max_fee,
					max_reassignments: p.max_reassignments,
					collateral_ratio: p.collateral_ratio,
					no_show_slash: p.no_show_slash,
					fraud_slash: p.fraud_slash,
					protocol_cut: p.protocol_cut,
					retention: p.retention,
					receipt_retention: defaults.receipt_retention.max(p.retention),
					storage_fee: defaults.storage_fee.min(p.base_fee),
					probe_interval: p.probe_interval,
				});
				reads.saturating_inc();
				writes.saturating_inc();
			}

			// The old hook had not run for this block yet: the new one starts here.
			WakeCursor::<T>::put(now);
			for (block, ids) in wakeups {
				for id in ids {
					crate::migrations::v4::old::Wakeups::<T>::insert(block.max(now), id, ());
					writes.saturating_inc();
				}
			}
			for id in queue {
				reads.saturating_inc();
				if let Some(job) = Jobs::<T>::get(id) {
					Queues::<T>::mutate(job.model, |q| {
						// Each model's queue is bounded like the old shared one.
						let _ = q.try_push(id);
					});
					writes.saturating_inc();
				}
			}
			for (who, id) in clients {
				JobsByClient::<T>::insert(who, JobKey::from(id), ());
				writes.saturating_inc();
			}
			for (who, id) in providers {
				JobsByProvider::<T>::insert(who, JobKey::from(id), ());
				writes.saturating_inc();
			}
			// Receipts of pruned jobs were kept for ever; now each expires.
			let retention = Params::<T>::get().receipt_retention;
			for (id, receipt) in Receipts::<T>::iter() {
				reads.saturating_inc();
				if !Jobs::<T>::contains_key(id) {
					let at = receipt.finished_at.saturating_add(retention);
					crate::migrations::v4::old::Wakeups::<T>::insert(at.max(now), id, ());
					writes.saturating_inc();
				}
			}
			T::DbWeight::get().reads_writes(reads, writes)
		}
	}

	/// The version-guarded migration from storage version 1 to 2.
	pub type MigrateToV2<T> = frame_support::migrations::VersionedMigration<
		1,
		2,
		InnerMigrateToV2<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;

	#[cfg(test)]
	#[allow(clippy::expect_used, clippy::unwrap_used)] // reason: test code
	mod tests {
		use super::*;
		use crate::mock::*;
		use frame_support::traits::{OnRuntimeUpgrade, StorageVersion};

		#[test]
		fn version_1_storage_becomes_version_2() {
			new_test_ext().execute_with(|| {
				// A queued job (no provider yet), an assigned one, and a pruned job's receipt.
				let submit = || {
					crate::Pallet::<Test>::do_submit(CLIENT, MODEL, b"hi".to_vec(), 1_000, 50)
						.expect("submitted")
				};
				let queued = submit();
				add_provider(P1, 1_000_000);
				let assigned = submit();
				let pruned = JobId(7);
				Receipts::<Test>::insert(
					pruned,
					crate::Receipt {
						client: CLIENT,
						model: MODEL,
						weights_hash: Default::default(),
						dataset_hash: None,
						input_hash: Default::default(),
						output_hash: None,
						provider: Some(P1),
						checkers: Default::default(),
						verdict: crate::Verdict::NoResult,
						status: crate::JobStatus::Refunded {
							reason: crate::RefundReason::Cancelled,
						},
						fee_paid: 0,
						finished_at: 1,
					},
				);
				// Rewrite it all in version 1's layout.
				let wakeups: Vec<(u64, JobId)> = WakeupPages::<Test>::iter()
					.flat_map(|(block, _, page)| page.into_iter().map(move |e| (block, e.job())))
					.collect();
				let _ = WakeupPages::<Test>::clear(u32::MAX, None);
				for (block, id) in wakeups {
					old::Wakeups::<Test>::mutate(block, |l| l.try_push(id).expect("room"));
				}
				let _ = Queues::<Test>::clear(u32::MAX, None);
				old::Queue::<Test>::put(BoundedVec::truncate_from(vec![queued]));
				let _ = JobsByClient::<Test>::clear(u32::MAX, None);
				let _ = JobsByProvider::<Test>::clear(u32::MAX, None);
				for id in [queued, assigned, pruned] {
					old::JobsByClient::<Test>::insert(CLIENT, id, ());
				}
				old::JobsByProvider::<Test>::insert(P1, assigned, ());
				old::JobsByProvider::<Test>::insert(P1, pruned, ());
				let p = Params::<Test>::get();
				old::Params::<Test>::put(OldJobParams {
					audit_rate: p.audit_rate,
					committee_size: p.committee_size,
					commit_window: p.commit_window,
					reveal_window: p.reveal_window,
					challenge_window: p.challenge_window,
					max_deadline: p.max_deadline,
					base_fee: p.base_fee,
					fee_per_byte: p.fee_per_byte,
					max_fee: p.max_fee,
					max_reassignments: p.max_reassignments,
					collateral_ratio: 25,
					no_show_slash: p.no_show_slash,
					fraud_slash: p.fraud_slash,
					protocol_cut: p.protocol_cut,
					retention: p.retention,
					probe_interval: p.probe_interval,
				});
				StorageVersion::new(1).put::<crate::Pallet<Test>>();

				let _ = MigrateToV2::<Test>::on_runtime_upgrade();
				assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 2);
				// The later versions follow, as in the runtime.
				let _ = crate::migrations::v3::MigrateToV3::<Test>::on_runtime_upgrade();
				let _ = crate::migrations::v4::MigrateToV4::<Test>::on_runtime_upgrade();

				assert_eq!(Params::<Test>::get().collateral_ratio, 25, "kept what governance set");
				assert_eq!(Queues::<Test>::get(MODEL).to_vec(), vec![queued]);
				assert_eq!(
					crate::Pallet::<Test>::jobs_by_client(&CLIENT, None, 10),
					vec![queued, assigned, pruned]
				);
				assert_eq!(
					crate::Pallet::<Test>::jobs_by_provider(&P1, Some(assigned), 10),
					vec![pruned]
				);
				assert!(
					WakeupPages::<Test>::get(41, pruned.0 / crate::WAKEUP_GROUP)
						.contains(&crate::Wakeup::Receipt(pruned)),
					"the receipt now expires"
				);
				crate::Pallet::<Test>::do_try_state().expect("the invariants hold");
				// And the chain goes on: the queued job finds its provider.
				run_to(3);
				assert_eq!(
					Jobs::<Test>::get(queued).map(|j| j.status),
					Some(crate::JobStatus::Assigned)
				);
			});
		}
	}
}

/// Version 3 (issue 15): the aggregates `TotalEscrow` and `OpenJobs` are gone. Every submit and
/// every settlement read and wrote both, a fifth of a job's writes for a number the invariants
/// can count from the jobs themselves (`escrow_of_open_jobs`). Two removals.
pub mod v3 {
	use crate::pallet::*;
	use frame_support::{
		pallet_prelude::*,
		storage_alias,
		traits::{Get, UncheckedOnRuntimeUpgrade},
	};

	/// Version 2's aggregates, under their names.
	pub mod old {
		use super::*;

		#[storage_alias]
		pub type TotalEscrow<T: Config> = StorageValue<Pallet<T>, crate::BalanceOf<T>, ValueQuery>;

		#[storage_alias]
		pub type OpenJobs<T: Config> = StorageValue<Pallet<T>, u32, ValueQuery>;
	}

	/// Removes version 2's aggregates; use through [`MigrateToV3`].
	pub struct InnerMigrateToV3<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV3<T> {
		fn on_runtime_upgrade() -> Weight {
			old::TotalEscrow::<T>::kill();
			old::OpenJobs::<T>::kill();
			T::DbWeight::get().writes(2)
		}
	}

	/// Version 2 to 3, once, recorded in the pallet's storage version.
	pub type MigrateToV3<T> = frame_support::migrations::VersionedMigration<
		2,
		3,
		InnerMigrateToV3<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;

	#[cfg(test)]
	mod tests {
		use super::*;
		use crate::mock::*;
		use frame_support::traits::{OnRuntimeUpgrade, StorageVersion};

		#[test]
		fn version_2_aggregates_are_removed() {
			new_test_ext().execute_with(|| {
				old::TotalEscrow::<Test>::put(1_000);
				old::OpenJobs::<Test>::put(3);
				StorageVersion::new(2).put::<Pallet<Test>>();

				let _ = MigrateToV3::<Test>::on_runtime_upgrade();

				assert_eq!(StorageVersion::get::<Pallet<Test>>(), 3);
				assert!(!old::TotalEscrow::<Test>::exists());
				assert!(!old::OpenJobs::<Test>::exists());
			});
		}
	}
}

/// Version 4 (issue 15): wake-ups in pages by block and job group (`WakeupPages`), instead of
/// one key per job and block. A phase's entry was removed and the next one written, two writes
/// a phase; now the next one joins a page that others of its group share, and the hook removes
/// a page at a time. Each entry becomes a job's or a receipt's, as its job is kept or pruned.
pub mod v4 {
	use crate::{pallet::*, Wakeup};
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		storage_alias,
		traits::{Get, UncheckedOnRuntimeUpgrade},
	};
	use frame_system::pallet_prelude::BlockNumberFor;
	use infera_primitives::JobId;

	/// Version 3's wake-ups, under their name.
	pub mod old {
		use super::*;

		#[storage_alias]
		pub type Wakeups<T: Config> =
			StorageDoubleMap<Pallet<T>, Twox64Concat, BlockNumberFor<T>, Twox64Concat, JobId, ()>;
	}

	/// Moves every wake-up to its page; use through [`MigrateToV4`]. It reads every wake-up
	/// once (version 3 kept one per open job and receipt): fit for the test networks that
	/// exist.
	pub struct InnerMigrateToV4<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV4<T> {
		fn on_runtime_upgrade() -> Weight {
			let entries: Vec<(BlockNumberFor<T>, JobId)> =
				old::Wakeups::<T>::drain().map(|(block, id, ())| (block, id)).collect();
			let n = entries.len() as u64;
			for (block, id) in entries {
				// Every entry of version 3 was at or after the cursor; it stays in its block.
				let entry =
					if Jobs::<T>::contains_key(id) { Wakeup::Job(id) } else { Wakeup::Receipt(id) };
				Pallet::<T>::push_wakeup(block, entry);
			}
			T::DbWeight::get().reads_writes(n.saturating_mul(3), n.saturating_mul(2))
		}
	}

	/// Version 3 to 4, once, recorded in the pallet's storage version.
	pub type MigrateToV4<T> = frame_support::migrations::VersionedMigration<
		3,
		4,
		InnerMigrateToV4<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;

	#[cfg(test)]
	#[allow(clippy::expect_used, clippy::unwrap_used)] // reason: test code
	mod tests {
		use super::*;
		use crate::{mock::*, WAKEUP_GROUP};
		use frame_support::traits::{OnRuntimeUpgrade, StorageVersion};
		use sp_runtime::Perbill;

		#[test]
		fn version_3_wake_ups_move_to_their_pages() {
			new_test_ext().execute_with(|| {
				System::set_block_number(1);
				Params::<Test>::mutate(|p| p.audit_rate = Perbill::zero());
				add_provider(P1, 10_000);
				let submit = || {
					let id = NextJobId::<Test>::get();
					frame_support::assert_ok!(JobEscrow::submit_job(
						RuntimeOrigin::signed(CLIENT),
						MODEL,
						b"hello".to_vec(),
						1_000,
						50
					));
					id
				};
				let (open, pruned) = (submit(), submit());
				Jobs::<Test>::remove(pruned);
				Receipts::<Test>::insert(pruned, receipt_of(pruned));
				let wake = Jobs::<Test>::get(open).map(|j| j.wake_at).expect("kept");
				// Version 3's layout: one key per job and block.
				let _ = WakeupPages::<Test>::clear(u32::MAX, None);
				old::Wakeups::<Test>::insert(wake, open, ());
				old::Wakeups::<Test>::insert(41, pruned, ());
				StorageVersion::new(3).put::<Pallet<Test>>();

				let _ = MigrateToV4::<Test>::on_runtime_upgrade();

				assert_eq!(StorageVersion::get::<Pallet<Test>>(), 4);
				assert_eq!(old::Wakeups::<Test>::iter().count(), 0);
				let page = WakeupPages::<Test>::get(wake, open.0 / WAKEUP_GROUP);
				assert_eq!(page.to_vec(), vec![Wakeup::Job(open)]);
				let page = WakeupPages::<Test>::get(41, pruned.0 / WAKEUP_GROUP);
				assert_eq!(page.to_vec(), vec![Wakeup::Receipt(pruned)]);
			});
		}

		fn receipt_of(id: JobId) -> crate::ReceiptOf<Test> {
			crate::Receipt {
				client: CLIENT,
				model: MODEL,
				weights_hash: Default::default(),
				dataset_hash: None,
				input_hash: Default::default(),
				output_hash: None,
				provider: None,
				checkers: Default::default(),
				verdict: crate::Verdict::NoResult,
				status: crate::JobStatus::Refunded { reason: crate::RefundReason::Cancelled },
				fee_paid: 0,
				finished_at: id.0,
			}
		}
	}
}
