//! Issue 15's cheap attacks on the market, tried on the real runtime (real staking, real
//! balances, the dev preset): squatting a model's provider list and submitting input the model
//! cannot read.

use super::*;
use crate::{genesis_config_presets::MINILM, ComputeStaking, JobEscrow, RuntimeHoldReason};
use frame_support::traits::{
	fungible::{InspectHold, Mutate},
	Get,
};
use infera_primitives::{Accelerator, HardwareProfile};
use pallet_compute_staking::{HoldReason as StakingHold, ProvidersByModel};

fn cpu() -> HardwareProfile {
	HardwareProfile {
		accelerator: Accelerator::Cpu,
		cpu_cores: 2,
		memory_mib: 24_576,
		accelerator_memory_mib: 0,
	}
}

fn deposit_held(who: &AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::ComputeStaking(StakingHold::ProviderDeposit), who)
}

/// Funds `who` with `free`, registers it, bonds `bond` and declares MiniLM.
fn join(who: &AccountId, free: Balance, bond: Balance) -> sp_runtime::DispatchResult {
	Balances::set_balance(who, free);
	let origin = || RuntimeOrigin::signed(who.clone());
	ComputeStaking::register_provider(origin(), cpu())?;
	ComputeStaking::bond(origin(), bond)?;
	ComputeStaking::set_models(origin(), frame_support::BoundedVec::truncate_from(vec![MINILM]))
}

/// Squatting: accounts at the minimum bond fill MiniLM's list of 64. Each paid a deposit and
/// a bond it can lose; a provider bonded more takes the weakest one's place, one bonded the same
/// is told the list is full, and the chilled preset auditors never held a place at all.
#[test]
fn squatting_a_models_provider_list_costs_bonds_and_never_locks_out_a_stronger_provider() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let min = pallet_compute_staking::Params::<Runtime>::get().min_bond;
		let deposit = <Runtime as pallet_compute_staking::Config>::ProviderDeposit::get();
		let max = <Runtime as pallet_compute_staking::Config>::MaxProvidersPerModel::get();
		assert!(deposit > 0);
		// Only Bob, active and bonded, is listed: the auditors are chilled.
		let bob = Sr25519Keyring::Bob.to_account_id();
		assert_eq!(ProvidersByModel::<Runtime>::get(MINILM).to_vec(), vec![bob.clone()]);
		for a in preset_auditors() {
			assert!(deposit_held(&a) == deposit, "the preset auditors paid the deposit too");
		}

		// An account with only the existential deposit cannot even register.
		let broke: AccountId = sp_core::crypto::AccountId32::new([200; 32]);
		Balances::set_balance(&broke, crate::EXISTENTIAL_DEPOSIT);
		assert_noop!(
			ComputeStaking::register_provider(RuntimeOrigin::signed(broke), cpu()),
			pallet_compute_staking::Error::<Runtime>::CannotPayDeposit
		);

		let squatters: Vec<AccountId> =
			(1..max).map(|i| sp_core::crypto::AccountId32::new([i as u8; 32])).collect();
		let issuance = Balances::total_issuance();
		for s in &squatters {
			assert_ok!(join(s, min + deposit + UNITS, min));
			assert_eq!(deposit_held(s), deposit);
		}
		assert_eq!(ProvidersByModel::<Runtime>::get(MINILM).len() as u32, max);
		// Squatting locked up 63 bonds and deposits; nothing was created or destroyed.
		assert_eq!(
			Balances::total_issuance(),
			issuance + (max as Balance - 1) * (min + deposit + UNITS)
		);

		// Bonded exactly the minimum, like the weakest: refused with a clear error.
		let equal: AccountId = sp_core::crypto::AccountId32::new([201; 32]);
		assert_eq!(
			join(&equal, min + deposit + UNITS, min),
			Err(pallet_compute_staking::Error::<Runtime>::ModelProvidersFull.into())
		);
		assert!(!ProvidersByModel::<Runtime>::get(MINILM).contains(&equal));
		// One unit more: it takes the place of the weakest member (among equals, the latest to
		// join: the last squatter).
		let challenger: AccountId = sp_core::crypto::AccountId32::new([202; 32]);
		assert_ok!(join(&challenger, min + deposit + UNITS + 1, min + 1));
		let list = ProvidersByModel::<Runtime>::get(MINILM);
		assert!(list.contains(&challenger) && list.contains(&bob));
		let displaced_one = squatters.last().unwrap().clone();
		assert!(!list.contains(&displaced_one), "the latest of the weakest is displaced");
		assert_eq!(list.len() as u32, max);
		assert!(events().iter().any(|e| matches!(
			e,
			RuntimeEvent::ComputeStaking(pallet_compute_staking::Event::ProviderDisplaced {
				model, displaced, by, ..
			}) if *model == MINILM && *displaced == displaced_one && *by == challenger
		)));
		// The displaced squatter is never drawn for MiniLM; it can leave and get everything
		// back (deposit included) after the unbonding delay.
		use infera_primitives::traits::ComputeProviders;
		for i in 0..32u8 {
			let drawn = ComputeStaking::select(MINILM, 0, &[], [i; 32]);
			assert_ne!(drawn, Some(displaced_one.clone()));
		}
		check_invariants();
	});
}

/// Unreadable input: bytes that are not UTF-8 sent to a text model are refused at submit. No
/// escrow is held and no provider is drawn, so none can be slashed for failing to run it.
#[test]
fn input_a_text_model_cannot_read_is_refused_at_submit() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let ferdie = Sr25519Keyring::Ferdie.to_account_id();
		let bob = Sr25519Keyring::Bob.to_account_id();
		let free = Balances::balance(&ferdie);
		let locked =
			<ComputeStaking as infera_primitives::traits::ComputeProviders<_, _>>::locked_stake(
				&bob,
			);
		let next = pallet_job_escrow::NextJobId::<Runtime>::get();
		for input in [vec![0xff, 0xfe, 0xfd], b"caf\xc3".to_vec(), vec![b'a', 0x80]] {
			assert_noop!(
				JobEscrow::submit_job(
					RuntimeOrigin::signed(ferdie.clone()),
					MINILM,
					input,
					UNITS,
					System::block_number() + 100
				),
				pallet_job_escrow::Error::<Runtime>::InputNotText
			);
		}
		assert_eq!(Balances::balance(&ferdie), free);
		assert_eq!(pallet_job_escrow::NextJobId::<Runtime>::get(), next);
		assert_eq!(
			<ComputeStaking as infera_primitives::traits::ComputeProviders<_, _>>::locked_stake(
				&bob
			),
			locked
		);
		// Valid UTF-8 of any script is accepted.
		assert_ok!(JobEscrow::submit_job(
			RuntimeOrigin::signed(ferdie),
			MINILM,
			"Ünïcödé ✓ 日本語".as_bytes().to_vec(),
			UNITS,
			System::block_number() + 100
		));
		check_invariants();
	});
}

/// Jamming: 256 jobs for a model nobody serves fill that model's queue, and only that one. A
/// job for another model still queues and is assigned as soon as a provider serves it; the
/// jammer's jobs are refunded at their deadline less the storage fee each (the wake-ups of all
/// 256 falling in one block are carried over, none lost), so the jam cost real money.
#[test]
fn jamming_one_models_queue_costs_the_jammer_and_never_blocks_another_model() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		run_to(1);
		let jammed = register_model(&alice(), 20);
		let other = register_model(&alice(), 21);
		let jammer: AccountId = sp_core::crypto::AccountId32::new([77; 32]);
		let client = Sr25519Keyring::Ferdie.to_account_id();
		Balances::set_balance(&jammer, 1_000 * UNITS);
		let max_queued = <Runtime as pallet_job_escrow::Config>::MaxQueued::get();
		let params = pallet_job_escrow::Params::<Runtime>::get();
		let deadline = System::block_number() + 40;
		let submit = |who: &AccountId, model| {
			JobEscrow::submit_job(
				RuntimeOrigin::signed(who.clone()),
				model,
				b"jam".to_vec(),
				UNITS / 10,
				deadline,
			)
		};
		let jammer_start = Balances::balance(&jammer);
		for _ in 0..max_queued {
			assert_ok!(submit(&jammer, jammed));
		}
		assert_noop!(submit(&jammer, jammed), pallet_job_escrow::Error::<Runtime>::QueueFull);

		// Another model's job queues behind nobody's and is assigned once Bob's stash serves it.
		let id = pallet_job_escrow::NextJobId::<Runtime>::get();
		assert_ok!(submit(&client, other));
		assert_eq!(
			pallet_job_escrow::Jobs::<Runtime>::get(id).map(|j| j.status),
			Some(pallet_job_escrow::JobStatus::Queued)
		);
		assert_ok!(ComputeStaking::register_provider(RuntimeOrigin::signed(provider()), cpu()));
		assert_ok!(ComputeStaking::bond(RuntimeOrigin::signed(provider()), 1_000 * UNITS));
		assert_ok!(ComputeStaking::set_models(
			RuntimeOrigin::signed(provider()),
			frame_support::BoundedVec::truncate_from(vec![other])
		));
		run_to(System::block_number() + 2);
		let job = pallet_job_escrow::Jobs::<Runtime>::get(id).expect("kept");
		assert_eq!(job.status, pallet_job_escrow::JobStatus::Assigned);
		assert_eq!(job.provider.map(|p| p.who), Some(provider()));

		// The jam ends at its deadline: 256 refunds in its block (the hook takes up to 8,192
		// wake-ups a block, within 60 % of the block's weight).
		run_to(deadline);
		// (count, storage fees kept) of the refunds for want of a provider so far.
		let refunded = || {
			events().iter().fold((0u32, 0), |(n, kept), e| match e {
				RuntimeEvent::JobEscrow(pallet_job_escrow::Event::JobRefunded {
					reason: pallet_job_escrow::RefundReason::NoProvider,
					storage_fee,
					..
				}) => (n + 1, kept + storage_fee),
				_ => (n, kept),
			})
		};
		let all = refunded();
		assert_eq!(all.0, 256, "all in the deadline's block");
		assert!(pallet_job_escrow::Queues::<Runtime>::get(jammed).is_empty());
		let cost = params.storage_fee * Balance::from(max_queued);
		assert!(cost > 0);
		assert_eq!(all.1, cost, "the protocol kept a storage fee per job");
		assert_eq!(Balances::balance(&jammer), jammer_start - cost);
		check_invariants();
	});
}
