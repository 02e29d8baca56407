#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code
#![allow(clippy::arithmetic_side_effects)] // reason: test code

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};
use infera_primitives::{traits::ComputeProviders, Accelerator, HardwareProfile, ModelId};
use sp_runtime::DispatchError;

const M1: ModelId = ModelId(1);
const M2: ModelId = ModelId(2);
const M3: ModelId = ModelId(3);

fn held(who: u64) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::ComputeStaking(HoldReason::ProviderBond), &who)
}

fn models(ids: &[ModelId]) -> ModelsOf<Test> {
	BoundedVec::truncate_from(ids.to_vec())
}

/// Registers `who`, bonds `bond` and serves `serving`.
fn provider(who: u64, bond: Balance, serving: &[ModelId]) {
	assert_ok!(ComputeStaking::register_provider(RuntimeOrigin::signed(who), cpu()));
	assert_ok!(ComputeStaking::bond(RuntimeOrigin::signed(who), bond));
	assert_ok!(ComputeStaking::set_models(RuntimeOrigin::signed(who), models(serving)));
}

fn info(who: u64) -> ProviderInfoOf<Test> {
	Providers::<Test>::get(who).expect("a registered provider")
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event was emitted").event
}

fn seed(i: u32) -> [u8; 32] {
	sp_io::hashing::blake2_256(&i.to_le_bytes())
}

#[test]
fn register_provider_records_hardware_and_rejects_impossible_profiles() {
	build_and_execute(|| {
		assert_ok!(ComputeStaking::register_provider(RuntimeOrigin::signed(ALICE), cpu()));
		assert_eq!(last_event(), Event::ProviderRegistered { who: ALICE, hardware: cpu() }.into());
		let p = info(ALICE);
		assert_eq!((p.bonded, p.status, p.reputation), (0, ProviderStatus::Active, 500));
		assert_eq!(ProviderCount::<Test>::get(), 1);
		assert_noop!(
			ComputeStaking::register_provider(RuntimeOrigin::signed(ALICE), cpu()),
			Error::<Test>::AlreadyRegistered
		);

		let bad = [
			HardwareProfile { cpu_cores: 0, ..cpu() },
			HardwareProfile { memory_mib: 0, ..cpu() },
			HardwareProfile { accelerator_memory_mib: 8_192, ..cpu() },
			HardwareProfile { accelerator: Accelerator::Cuda, ..cpu() },
		];
		for hw in bad {
			assert_noop!(
				ComputeStaking::register_provider(RuntimeOrigin::signed(BOB), hw),
				Error::<Test>::InvalidHardware
			);
		}
		let gpu = HardwareProfile {
			accelerator: Accelerator::Cuda,
			accelerator_memory_mib: 81_920,
			..cpu()
		};
		assert_ok!(ComputeStaking::register_provider(RuntimeOrigin::signed(BOB), gpu));
		assert_noop!(
			ComputeStaking::register_provider(RuntimeOrigin::none(), cpu()),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn bond_holds_funds_and_checks_every_condition() {
	build_and_execute(|| {
		assert_noop!(
			ComputeStaking::bond(RuntimeOrigin::signed(ALICE), 5_000),
			Error::<Test>::NotProvider
		);
		assert_ok!(ComputeStaking::register_provider(RuntimeOrigin::signed(ALICE), cpu()));
		assert_noop!(
			ComputeStaking::bond(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			ComputeStaking::bond(RuntimeOrigin::signed(ALICE), 999),
			Error::<Test>::BelowMinimumBond
		);
		assert_noop!(
			ComputeStaking::bond_extra(RuntimeOrigin::signed(ALICE), 5_000),
			Error::<Test>::NotBonded
		);
		let issuance = Balances::total_issuance();
		assert_ok!(ComputeStaking::bond(RuntimeOrigin::signed(ALICE), 5_000));
		assert_eq!(last_event(), Event::Bonded { who: ALICE, amount: 5_000, bonded: 5_000 }.into());
		assert_eq!(held(ALICE), 5_000);
		assert_eq!(Balances::balance(&ALICE), 995_000 - DEPOSIT);
		assert_noop!(
			ComputeStaking::bond(RuntimeOrigin::signed(ALICE), 5_000),
			Error::<Test>::AlreadyBonded
		);
		assert_ok!(ComputeStaking::bond_extra(RuntimeOrigin::signed(ALICE), 1));
		assert_eq!(
			(info(ALICE).bonded, held(ALICE), TotalBonded::<Test>::get()),
			(5_001, 5_001, 5_001)
		);
		assert_eq!(Balances::total_issuance(), issuance);

		assert_ok!(ComputeStaking::register_provider(RuntimeOrigin::signed(POOR), cpu()));
		assert_noop!(
			ComputeStaking::bond(RuntimeOrigin::signed(POOR), 1_000),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn set_models_accepts_only_active_distinct_models_within_the_caps() {
	build_and_execute(|| {
		assert_noop!(
			ComputeStaking::set_models(RuntimeOrigin::signed(ALICE), models(&[M1])),
			Error::<Test>::NotProvider
		);
		assert_ok!(ComputeStaking::register_provider(RuntimeOrigin::signed(ALICE), cpu()));
		assert_noop!(
			ComputeStaking::set_models(RuntimeOrigin::signed(ALICE), models(&[M1, ModelId(77)])),
			Error::<Test>::ModelNotActive
		);
		assert_noop!(
			ComputeStaking::set_models(RuntimeOrigin::signed(ALICE), models(&[M1, M2, M1])),
			Error::<Test>::DuplicateModel
		);
		ActiveModels::mutate(|m| m.push(ModelId(4)));
		assert_noop!(
			ComputeStaking::set_models(
				RuntimeOrigin::signed(ALICE),
				models(&[M1, M2, M3, ModelId(4)])
			),
			Error::<Test>::TooManyModels
		);

		// Declared without a bond: recorded, but no place in any list.
		assert_ok!(ComputeStaking::set_models(RuntimeOrigin::signed(ALICE), models(&[M1, M2])));
		assert_eq!(last_event(), Event::ModelsSet { who: ALICE, models: models(&[M1, M2]) }.into());
		assert!(!ProvidersByModel::<Test>::contains_key(M1));
		// The first bond lists it.
		assert_ok!(ComputeStaking::bond(RuntimeOrigin::signed(ALICE), 2_000));
		assert_eq!(ProvidersByModel::<Test>::get(M1).to_vec(), vec![ALICE]);
		assert_eq!(ProvidersByModel::<Test>::get(M2).to_vec(), vec![ALICE]);
		// Replacing the list moves the provider between the model indexes.
		assert_ok!(ComputeStaking::set_models(RuntimeOrigin::signed(ALICE), models(&[M2, M3])));
		assert!(!ProvidersByModel::<Test>::contains_key(M1));
		assert_eq!(ProvidersByModel::<Test>::get(M3).to_vec(), vec![ALICE]);

		for who in [BOB, CHARLIE] {
			provider(who, 2_000, &[M1, M3]);
		}
		// M3 now has three providers bonded 2_000, the mock's bound; DAVE, bonded as much, does
		// not displace any of them, and its whole call fails, M1 included.
		provider(DAVE, 2_000, &[]);
		assert_noop!(
			ComputeStaking::set_models(RuntimeOrigin::signed(DAVE), models(&[M1, M3])),
			Error::<Test>::ModelProvidersFull
		);
	});
}

#[test]
fn unbond_respects_locks_minimum_and_chunk_bound_then_withdraws_after_the_delay() {
	build_and_execute(|| {
		provider(ALICE, 10_000, &[M1]);
		assert_noop!(
			ComputeStaking::unbond(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			ComputeStaking::unbond(RuntimeOrigin::signed(BOB), 1),
			Error::<Test>::NotProvider
		);
		assert_ok!(<ComputeStaking as ComputeProviders<_, _>>::lock(&ALICE, 4_000));
		assert_noop!(
			ComputeStaking::unbond(RuntimeOrigin::signed(ALICE), 6_001),
			Error::<Test>::InsufficientFreeStake
		);
		// 9_500 would leave 500 bonded: under the minimum of 1_000.
		<ComputeStaking as ComputeProviders<_, _>>::unlock(&ALICE, 4_000);
		assert_noop!(
			ComputeStaking::unbond(RuntimeOrigin::signed(ALICE), 9_500),
			Error::<Test>::BelowMinimumBond
		);

		assert_ok!(ComputeStaking::unbond(RuntimeOrigin::signed(ALICE), 1_000));
		assert_eq!(
			last_event(),
			Event::Unbonded { who: ALICE, amount: 1_000, unlock_at: 11 }.into()
		);
		// A second unbond in the same block joins the same chunk.
		assert_ok!(ComputeStaking::unbond(RuntimeOrigin::signed(ALICE), 500));
		assert_eq!(
			info(ALICE).unlocking.to_vec(),
			vec![UnlockChunk { value: 1_500, unlock_at: 11 }]
		);
		assert_eq!((info(ALICE).bonded, held(ALICE)), (8_500, 10_000));

		System::set_block_number(2);
		assert_ok!(ComputeStaking::unbond(RuntimeOrigin::signed(ALICE), 500));
		System::set_block_number(3);
		assert_noop!(
			ComputeStaking::unbond(RuntimeOrigin::signed(ALICE), 500),
			Error::<Test>::TooManyUnlockingChunks
		);

		assert_noop!(
			ComputeStaking::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NothingToWithdraw
		);
		System::set_block_number(11);
		let free = Balances::balance(&ALICE);
		assert_ok!(ComputeStaking::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!(last_event(), Event::Withdrawn { who: ALICE, amount: 1_500 }.into());
		assert_eq!(Balances::balance(&ALICE), free + 1_500);
		assert_eq!(held(ALICE), 8_000 + 500);
		System::set_block_number(12);
		assert_ok!(ComputeStaking::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!((held(ALICE), TotalBonded::<Test>::get()), (8_000, 8_000));
		assert_noop!(
			ComputeStaking::withdraw_unbonded(RuntimeOrigin::signed(BOB)),
			Error::<Test>::NotProvider
		);
	});
}

#[test]
fn chill_and_unchill_toggle_eligibility() {
	build_and_execute(|| {
		provider(ALICE, 10_000, &[M1]);
		assert!(ComputeStaking::serves(&ALICE, M1));
		assert_noop!(
			ComputeStaking::unchill(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NotChilled
		);
		assert_ok!(ComputeStaking::chill(RuntimeOrigin::signed(ALICE)));
		assert_eq!(last_event(), Event::Chilled { who: ALICE }.into());
		assert_noop!(
			ComputeStaking::chill(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::AlreadyChilled
		);
		assert!(!ComputeStaking::serves(&ALICE, M1));
		assert_eq!(ComputeStaking::select(M1, 0, &[], seed(0)), None);
		assert_ok!(ComputeStaking::unchill(RuntimeOrigin::signed(ALICE)));
		assert_eq!(last_event(), Event::Unchilled { who: ALICE }.into());
		assert_eq!(ComputeStaking::select(M1, 0, &[], seed(0)), Some(ALICE));
		assert_noop!(ComputeStaking::chill(RuntimeOrigin::signed(BOB)), Error::<Test>::NotProvider);
	});
}

#[test]
fn deregister_only_when_nothing_is_bonded_or_locked() {
	build_and_execute(|| {
		assert_noop!(
			ComputeStaking::deregister(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NotProvider
		);
		provider(ALICE, 2_000, &[M1, M2]);
		assert_ok!(<ComputeStaking as ComputeProviders<_, _>>::lock(&ALICE, 100));
		assert_noop!(
			ComputeStaking::deregister(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::StakeLocked
		);
		<ComputeStaking as ComputeProviders<_, _>>::unlock(&ALICE, 100);
		assert_noop!(
			ComputeStaking::deregister(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::StillBonded
		);
		assert_ok!(ComputeStaking::unbond(RuntimeOrigin::signed(ALICE), 2_000));
		assert_noop!(
			ComputeStaking::deregister(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::StillBonded
		);
		System::set_block_number(11);
		assert_ok!(ComputeStaking::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_ok!(ComputeStaking::deregister(RuntimeOrigin::signed(ALICE)));
		assert_eq!(
			last_event(),
			Event::ProviderDeregistered { who: ALICE, deposit: DEPOSIT }.into()
		);
		assert!(!Providers::<Test>::contains_key(ALICE));
		assert!(!ProvidersByModel::<Test>::contains_key(M1));
		// The deposit came back with the bond: the account is whole.
		assert_eq!((ProviderCount::<Test>::get(), Balances::balance(&ALICE)), (0, 1_000_000));
	});
}

#[test]
fn set_params_is_governance_only_and_rejects_inconsistent_values() {
	build_and_execute(|| {
		let params = StakingParams { min_bond: 2_000, ..DefaultParams::get() };
		assert_noop!(
			ComputeStaking::set_params(RuntimeOrigin::signed(ALICE), params),
			DispatchError::BadOrigin
		);
		for bad in [
			StakingParams { min_bond: 0, ..params },
			StakingParams { max_models_per_provider: 0, ..params },
			StakingParams { max_models_per_provider: 5, ..params },
			StakingParams { no_show_penalty: 0, ..params },
		] {
			assert_noop!(
				ComputeStaking::set_params(RuntimeOrigin::root(), bad),
				Error::<Test>::InvalidParams
			);
		}
		assert_ok!(ComputeStaking::set_params(RuntimeOrigin::root(), params));
		assert_eq!(last_event(), Event::ParamsUpdated { params }.into());
		assert_ok!(ComputeStaking::register_provider(RuntimeOrigin::signed(ALICE), cpu()));
		assert_noop!(
			ComputeStaking::bond(RuntimeOrigin::signed(ALICE), 1_999),
			Error::<Test>::BelowMinimumBond
		);
	});
}

#[test]
fn slash_splits_between_reporter_and_treasury_and_creates_nothing() {
	build_and_execute(|| {
		provider(ALICE, 10_000, &[M1]);
		assert_ok!(Balances::transfer_allow_death(RuntimeOrigin::signed(BOB), REPORTER, 100));
		let issuance = Balances::total_issuance();
		let treasury = Balances::balance(&TREASURY);

		let outcome = ComputeStaking::do_slash(&ALICE, 3_000, Some(&REPORTER)).unwrap();
		assert_eq!(outcome, SlashOutcome { slashed: 3_000, to_reporter: 300, to_treasury: 2_700 });
		assert_eq!(
			last_event(),
			Event::Slashed {
				who: ALICE,
				requested: 3_000,
				slashed: 3_000,
				reporter: Some(REPORTER),
				to_reporter: 300,
				to_treasury: 2_700,
			}
			.into()
		);
		assert_eq!((info(ALICE).bonded, held(ALICE)), (7_000, 7_000));
		assert_eq!(Balances::balance(&REPORTER), 400);
		assert_eq!(Balances::balance(&TREASURY), treasury + 2_700);
		assert_eq!(Balances::total_issuance(), issuance);
		// Slashed below the minimum: no longer selected.
		assert_ok!(ComputeStaking::do_slash(&ALICE, 6_500, None));
		assert!(!ComputeStaking::serves(&ALICE, M1));
		assert_eq!(ComputeStaking::select(M1, 0, &[], seed(1)), None);
		assert_noop!(ComputeStaking::do_slash(&BOB, 1, None), Error::<Test>::NotProvider);
	});
}

#[test]
fn slashing_more_than_bonded_takes_unbonding_stake_too_and_says_how_much() {
	build_and_execute(|| {
		provider(ALICE, 5_000, &[M1]);
		assert_ok!(ComputeStaking::unbond(RuntimeOrigin::signed(ALICE), 2_000));
		System::set_block_number(2);
		assert_ok!(ComputeStaking::unbond(RuntimeOrigin::signed(ALICE), 1_000));
		let treasury = Balances::balance(&TREASURY);
		// 2_000 bonded + 3_000 unbonding exist; 9_000 is asked for.
		let slashed = ComputeStaking::slash(&ALICE, 9_000, None).unwrap();
		assert_eq!(slashed, 5_000);
		assert_eq!(
			last_event(),
			Event::Slashed {
				who: ALICE,
				requested: 9_000,
				slashed: 5_000,
				reporter: None,
				to_reporter: 0,
				to_treasury: 5_000,
			}
			.into()
		);
		let p = info(ALICE);
		assert_eq!((p.bonded, p.unlocking.len(), held(ALICE)), (0, 0, 0));
		assert_eq!(Balances::balance(&TREASURY), treasury + 5_000);

		// A partial slash of the unbonding stake takes the newest chunk first.
		provider(BOB, 3_000, &[M1]);
		assert_ok!(ComputeStaking::unbond(RuntimeOrigin::signed(BOB), 2_000));
		System::set_block_number(3);
		assert_ok!(ComputeStaking::unbond(RuntimeOrigin::signed(BOB), 1_000));
		assert_eq!(ComputeStaking::slash(&BOB, 1_500, None), Ok(1_500));
		assert_eq!(info(BOB).unlocking.to_vec(), vec![UnlockChunk { value: 1_500, unlock_at: 12 }]);
	});
}

#[test]
fn a_reporter_share_that_cannot_be_paid_goes_to_the_treasury() {
	build_and_execute(|| {
		provider(ALICE, 5_000, &[M1]);
		let treasury = Balances::balance(&TREASURY);
		// 10 % of 50 is 5, below the existential deposit of 10 for an empty account.
		let outcome = ComputeStaking::do_slash(&ALICE, 50, Some(&REPORTER)).unwrap();
		assert_eq!(outcome, SlashOutcome { slashed: 50, to_reporter: 0, to_treasury: 50 });
		assert_eq!(Balances::balance(&REPORTER), 0);
		assert_eq!(Balances::balance(&TREASURY), treasury + 50);
	});
}

#[test]
fn lock_takes_only_free_stake_and_unlock_saturates() {
	build_and_execute(|| {
		provider(ALICE, 5_000, &[M1]);
		assert_ok!(ComputeStaking::lock(&ALICE, 3_000));
		assert_eq!(ComputeStaking::free_stake(&ALICE), 2_000);
		assert_noop!(ComputeStaking::lock(&ALICE, 2_001), Error::<Test>::InsufficientFreeStake);
		assert_noop!(ComputeStaking::lock(&BOB, 1), Error::<Test>::NotProvider);
		// A provider whose free stake cannot cover the job is not a candidate.
		assert_eq!(ComputeStaking::select(M1, 2_001, &[], seed(0)), None);
		assert_eq!(ComputeStaking::select(M1, 2_000, &[], seed(0)), Some(ALICE));
		ComputeStaking::unlock(&ALICE, 10_000);
		assert_eq!((info(ALICE).locked, ComputeStaking::free_stake(&ALICE)), (0, 5_000));
		assert_eq!(ComputeStaking::free_stake(&BOB), 0);
	});
}

#[test]
fn reputation_falls_with_no_shows_and_rises_with_verified_work_within_bounds() {
	build_and_execute(|| {
		provider(ALICE, 5_000, &[M1]);
		ComputeStaking::record_no_show(&ALICE);
		assert_eq!(last_event(), Event::NoShowRecorded { who: ALICE, reputation: 400 }.into());
		for _ in 0..10 {
			ComputeStaking::record_no_show(&ALICE);
		}
		assert_eq!((info(ALICE).reputation, info(ALICE).no_shows), (0, 11));
		for _ in 0..200 {
			ComputeStaking::record_verified(&ALICE);
		}
		assert_eq!((info(ALICE).reputation, info(ALICE).jobs_verified), (MAX_REPUTATION, 200));
		// Unknown accounts are ignored rather than created.
		ComputeStaking::record_no_show(&BOB);
		ComputeStaking::record_verified(&BOB);
		assert!(!Providers::<Test>::contains_key(BOB));
	});
}

#[test]
fn selection_is_stake_weighted_excludes_accounts_and_is_deterministic() {
	build_and_execute(|| {
		provider(ALICE, 30_000, &[M1]);
		provider(BOB, 10_000, &[M1]);
		provider(CHARLIE, 50_000, &[M2]);
		assert_eq!(ComputeStaking::select(M3, 0, &[], seed(0)), None);
		assert_eq!(ComputeStaking::select(M1, 0, &[ALICE, BOB], seed(0)), None);
		assert_eq!(ComputeStaking::select(M1, 0, &[ALICE], seed(0)), Some(BOB));
		assert_eq!(
			ComputeStaking::select(M1, 0, &[], seed(5)),
			ComputeStaking::select(M1, 0, &[], seed(5))
		);

		let draws = 4_000u32;
		let alice = (0..draws)
			.filter(|i| ComputeStaking::select(M1, 0, &[], seed(*i)) == Some(ALICE))
			.count() as u32;
		// Expected 3/4 of the draws; ±4 % is beyond five standard deviations (σ ≈ 0.7 %).
		assert!((2_840..=3_160).contains(&alice), "ALICE chosen {alice} of {draws} times");
	});
}

#[test]
fn low_reputation_lowers_the_chance_of_selection() {
	build_and_execute(|| {
		provider(ALICE, 10_000, &[M1]);
		provider(BOB, 10_000, &[M1]);
		for _ in 0..5 {
			ComputeStaking::record_no_show(&BOB);
		}
		assert_eq!(info(BOB).reputation, 0);
		// Weights: ALICE (500 + 111) / 1111, BOB 111 / 1111: BOB expects 111 / 722 ≈ 15.4 %.
		let draws = 4_000u32;
		let bob = (0..draws)
			.filter(|i| ComputeStaking::select(M1, 0, &[], seed(*i)) == Some(BOB))
			.count() as u32;
		assert!((470..=760).contains(&bob), "BOB chosen {bob} of {draws} times");
		assert!(ComputeStaking::candidates(M1, 0, &[]).iter().all(|(_, w)| *w > 0));
	});
}

#[test]
fn registration_stops_when_the_provider_count_is_exhausted() {
	new_test_ext().execute_with(|| {
		ProviderCount::<Test>::put(u32::MAX);
		assert_noop!(
			ComputeStaking::register_provider(RuntimeOrigin::signed(ALICE), cpu()),
			Error::<Test>::TooManyProviders
		);
		assert!(!Providers::<Test>::contains_key(ALICE));
	});
}

#[test]
fn genesis_providers_are_registered_bonded_and_serving() {
	use sp_runtime::BuildStorage;
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(BOB, 1_000_000), (CHARLIE, 1_000_000)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	crate::GenesisConfig::<Test> {
		providers: vec![(BOB, cpu(), 5_000, vec![M1]), (CHARLIE, cpu(), 3_000, vec![M1])],
		chilled: vec![CHARLIE],
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		let info = Providers::<Test>::get(BOB).expect("Bob registered at genesis");
		assert_eq!(info.bonded, 5_000);
		assert_eq!(held(BOB), 5_000);
		// Charlie is chilled: it holds no place in M1's list.
		assert_eq!(ProvidersByModel::<Test>::get(M1).into_inner(), vec![BOB]);
		assert!(ComputeStaking::serves(&BOB, M1));
		// Charlie starts chilled: bonded and declaring M1, so it can check M1's jobs, but it is
		// never assigned one.
		assert_eq!(Providers::<Test>::get(CHARLIE).unwrap().status, ProviderStatus::Chilled);
		assert!(!ComputeStaking::serves(&CHARLIE, M1));
		assert!(ComputeStaking::can_check(&CHARLIE, M1, 3_000));
		assert!(!ComputeStaking::can_check(&CHARLIE, M1, 3_001), "only free bond backs a check");
		assert!(!ComputeStaking::can_check(&CHARLIE, M2, 0), "only declared models");
		assert!(!ComputeStaking::can_check(&DAVE, M1, 0), "only bonded providers");
		assert_ok!(ComputeStaking::lock(&CHARLIE, 1_000));
		assert_eq!(ComputeStaking::with_locked_stake(), vec![CHARLIE]);
		assert!(!ComputeStaking::can_check(&CHARLIE, M1, 2_001));
		ComputeStaking::do_try_state().unwrap();
	});
}

fn deposit_held(who: u64) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::ComputeStaking(HoldReason::ProviderDeposit), &who)
}

/// Issue 15's slot squatting: accounts at the minimum bond fill a model's list. They cost a
/// deposit and a bond each, and any provider bonded more than the weakest takes its place;
/// one bonded as much does not, and chilled or unbonded providers leave the list.
#[test]
fn a_full_list_never_locks_out_a_provider_bonded_more_than_its_weakest_member() {
	build_and_execute(|| {
		let squatters: Vec<u64> = (100..103).collect();
		for (i, &who) in squatters.iter().enumerate() {
			fund(who, 1_000 + DEPOSIT + 10 + i as u64);
			assert_ok!(ComputeStaking::register_provider(RuntimeOrigin::signed(who), cpu()));
			assert_eq!(deposit_held(who), DEPOSIT, "registering holds the deposit");
			assert_ok!(ComputeStaking::bond(RuntimeOrigin::signed(who), 1_000 + i as u64));
			assert_ok!(ComputeStaking::set_models(RuntimeOrigin::signed(who), models(&[M1])));
		}
		assert_eq!(ProvidersByModel::<Test>::get(M1).to_vec(), squatters);
		// An account without the deposit cannot even register.
		fund(200, DEPOSIT - 1);
		assert_noop!(
			ComputeStaking::register_provider(RuntimeOrigin::signed(200), cpu()),
			Error::<Test>::CannotPayDeposit
		);

		// Bonded exactly as much as the weakest (1_000): refused, nothing changes.
		provider(ALICE, 1_000, &[]);
		assert_noop!(
			ComputeStaking::set_models(RuntimeOrigin::signed(ALICE), models(&[M1])),
			Error::<Test>::ModelProvidersFull
		);
		// A little more: Alice takes the weakest squatter's place.
		assert_ok!(ComputeStaking::bond_extra(RuntimeOrigin::signed(ALICE), 5));
		assert_ok!(ComputeStaking::set_models(RuntimeOrigin::signed(ALICE), models(&[M1])));
		assert!(System::events().iter().any(|r| r.event
			== Event::ProviderDisplaced {
				model: M1,
				displaced: 100,
				displaced_bond: 1_000,
				by: ALICE
			}
			.into()));
		assert_eq!(ProvidersByModel::<Test>::get(M1).to_vec(), vec![101, 102, ALICE]);
		// The displaced squatter still declares M1 but is never drawn for it.
		assert_eq!(info(100).models.to_vec(), vec![M1]);
		for i in 0..50 {
			assert_ne!(ComputeStaking::select(M1, 0, &[], seed(i)), Some(100));
		}
		// A provider that bonds first and declares later gets in the same way; with its bond
		// raised, a provider that could not join gets in by `bond_extra` (a `NotListed` event
		// tells it where it was left out).
		provider(BOB, 1_500, &[M1]);
		assert_eq!(ProvidersByModel::<Test>::get(M1).to_vec(), vec![102, ALICE, BOB]);

		// A chilled provider leaves every list; unchilling brings it back where it fits.
		assert_ok!(ComputeStaking::chill(RuntimeOrigin::signed(BOB)));
		assert_eq!(ProvidersByModel::<Test>::get(M1).to_vec(), vec![102, ALICE]);
		assert_ok!(ComputeStaking::unchill(RuntimeOrigin::signed(BOB)));
		assert_eq!(ProvidersByModel::<Test>::get(M1).to_vec(), vec![102, ALICE, BOB]);
		// While Bob is chilled, Charlie takes the free place; unchilling, Bob (1_500) displaces
		// the weakest member, the last squatter (1_002).
		assert_ok!(ComputeStaking::chill(RuntimeOrigin::signed(BOB)));
		provider(CHARLIE, 3_000, &[M1]);
		assert_ok!(ComputeStaking::unchill(RuntimeOrigin::signed(BOB)));
		assert_eq!(ProvidersByModel::<Test>::get(M1).to_vec(), vec![ALICE, CHARLIE, BOB]);
		// A chilled provider may declare a full list's model; unchilling without the bond to
		// displace anyone leaves it out, and says so.
		provider(DAVE, 1_000, &[]);
		assert_ok!(ComputeStaking::chill(RuntimeOrigin::signed(DAVE)));
		assert_ok!(ComputeStaking::set_models(RuntimeOrigin::signed(DAVE), models(&[M1])));
		assert_ok!(ComputeStaking::unchill(RuntimeOrigin::signed(DAVE)));
		assert_eq!(last_event(), Event::NotListed { who: DAVE, model: M1 }.into());
		assert_eq!(ProvidersByModel::<Test>::get(M1).to_vec(), vec![ALICE, CHARLIE, BOB]);
		// With more bond than the weakest (Alice, 1_005), `bond_extra` gets it in.
		assert_ok!(ComputeStaking::bond_extra(RuntimeOrigin::signed(DAVE), 500));
		assert_eq!(ProvidersByModel::<Test>::get(M1).to_vec(), vec![CHARLIE, BOB, DAVE]);

		// Unbonding everything leaves the lists too.
		assert_ok!(ComputeStaking::unbond(RuntimeOrigin::signed(CHARLIE), 3_000));
		assert!(!ProvidersByModel::<Test>::get(M1).contains(&CHARLIE));
		assert_eq!(deposit_held(CHARLIE), DEPOSIT);
	});
}

/// Issue 15: a selection reads the list's stored weights and only the records it draws. A busy
/// provider (no free stake) is drawn around; a stored weight is a snapshot that catches up when
/// its provider is drawn, and at once when it bonds more.
#[test]
fn selection_draws_from_stored_weights_around_busy_providers_and_refreshes_what_it_draws() {
	build_and_execute(|| {
		provider(ALICE, 10_000, &[M1]);
		provider(BOB, 10_000, &[M1]);
		let weights = || crate::ListWeights::<Test>::get(M1).into_inner();
		assert_eq!(weights().len(), 2);
		assert_eq!(weights()[0], ComputeStaking::selection_weight(&info(ALICE)));

		assert_ok!(ComputeStaking::lock(&BOB, 10_000));
		for i in 0..50 {
			assert_eq!(ComputeStaking::select(M1, 1, &[], seed(i)), Some(ALICE), "Bob is busy");
		}
		ComputeStaking::unlock(&BOB, 10_000);

		let before = weights()[1];
		for _ in 0..5 {
			ComputeStaking::record_no_show(&BOB);
		}
		assert_eq!(weights()[1], before, "a snapshot until Bob is drawn");
		assert!((0..400).any(|i| ComputeStaking::select(M1, 0, &[], seed(i)) == Some(BOB)));
		assert_eq!(weights()[1], ComputeStaking::selection_weight(&info(BOB)));
		assert!(weights()[1] < before);

		assert_ok!(ComputeStaking::bond_extra(RuntimeOrigin::signed(ALICE), 10_000));
		assert_eq!(weights()[0], ComputeStaking::selection_weight(&info(ALICE)));
		// Leaving the list takes the weight with it.
		assert_ok!(ComputeStaking::chill(RuntimeOrigin::signed(ALICE)));
		assert_eq!(weights().len(), 1);
		assert_eq!(ProvidersByModel::<Test>::get(M1).to_vec(), vec![BOB]);
	});
}
