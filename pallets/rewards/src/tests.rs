#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code
#![allow(clippy::arithmetic_side_effects)] // reason: test code

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, Mutate},
};
use infera_primitives::traits::WorkRecorder;
use sp_runtime::{DispatchError, Perbill};

fn balance(who: u64) -> Balance {
	Balances::balance(&who)
}

fn closed(epoch: u32) -> Event<Test> {
	System::events()
		.into_iter()
		.find_map(|r| match r.event {
			RuntimeEvent::Rewards(e @ Event::EpochClosed { epoch: x, .. }) if x == epoch => Some(e),
			_ => None,
		})
		.expect("the epoch closed")
}

#[test]
fn an_epoch_without_work_sends_its_whole_pool_to_the_treasury() {
	build_and_execute(|| {
		let issuance = Balances::total_issuance();
		run_to(11);
		assert_eq!(
			closed(0),
			Event::EpochClosed {
				epoch: 0,
				emitted: 1_000,
				fees: 0,
				to_providers: 0,
				to_auditors: 0,
				to_treasury: 1_000,
			}
		);
		assert_eq!(balance(TREASURY), 10 + 1_000);
		assert_eq!(Balances::total_issuance(), issuance + 1_000);
		assert_eq!((CurrentEpoch::<Test>::get(), TotalOwed::<Test>::get()), (1, 0));
	});
}

#[test]
fn rewards_are_split_by_points_and_claimed_once() {
	build_and_execute(|| {
		Rewards::credit_work(&P1, 3);
		Rewards::credit_work(&P2, 1);
		Rewards::credit_audit(&V1);
		assert_noop!(Rewards::claim(RuntimeOrigin::signed(P1)), Error::<Test>::NothingToClaim);
		run_to(11);
		assert_eq!(
			closed(0),
			Event::EpochClosed {
				epoch: 0,
				emitted: 1_000,
				fees: 0,
				to_providers: 700,
				to_auditors: 200,
				to_treasury: 100,
			}
		);
		assert_eq!((Rewards::claimable(&P1), Rewards::claimable(&P2)), (525, 175));
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(P1)));
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(P2)));
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(V1)));
		assert_eq!((balance(P1), balance(P2), balance(V1)), (525, 175, 200));
		assert_noop!(Rewards::claim(RuntimeOrigin::signed(P1)), Error::<Test>::NothingToClaim);
		assert_eq!((TotalPaid::<Test>::get(), TotalOwed::<Test>::get()), (900, 0));
		assert!(WorkPools::<Test>::get(0).is_none() && AuditPools::<Test>::get(0).is_none());
		assert_noop!(Rewards::claim(RuntimeOrigin::none()), DispatchError::BadOrigin);
	});
}

#[test]
fn fees_received_in_an_epoch_join_its_pool() {
	build_and_execute(|| {
		Rewards::credit_work(&P1, 1);
		// The job escrow pays the protocol cut to the pallet's account.
		assert_ok!(Balances::transfer(
			&PAYER,
			&Rewards::account_id(),
			500,
			frame_support::traits::tokens::Preservation::Preserve
		));
		run_to(11);
		assert_eq!(
			closed(0),
			Event::EpochClosed {
				epoch: 0,
				emitted: 1_000,
				fees: 500,
				to_providers: 1_050,
				to_auditors: 0,
				to_treasury: 450,
			}
		);
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(P1)));
		assert_eq!(balance(P1), 1_050);
		assert_eq!(TotalFees::<Test>::get(), 500);
	});
}

#[test]
fn rounding_dust_goes_to_the_treasury_once_the_pool_is_settled() {
	build_and_execute(|| {
		Rewards::credit_work(&P1, 1);
		Rewards::credit_work(&P2, 2);
		run_to(11);
		let treasury = balance(TREASURY);
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(P1)));
		assert_eq!(balance(P1), 233);
		assert_eq!(balance(TREASURY), treasury);
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(P2)));
		assert_eq!(balance(P2), 466);
		// 700 − 233 − 466 = 1 unit of dust, not lost.
		assert_eq!(balance(TREASURY), treasury + 1);
		assert!(System::events()
			.iter()
			.any(|r| r.event == Event::<Test>::DustToTreasury { epoch: 0, amount: 1 }.into()));
		assert_eq!(TotalOwed::<Test>::get(), 0);
	});
}

#[test]
fn earning_in_a_later_epoch_settles_the_earlier_one_first() {
	build_and_execute(|| {
		Rewards::credit_work(&P1, 1);
		Rewards::credit_work(&P2, 1);
		run_to(11); // epoch 0: 350 each
		run_to(21); // epoch 1: nobody worked
		Rewards::credit_work(&P1, 5); // epoch 2
		assert_eq!(Accounts::<Test>::get(P1).claimable, 350);
		assert_eq!(Accounts::<Test>::get(P1).work, 5);
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(P1)));
		assert_eq!(balance(P1), 350);
		run_to(31); // epoch 2: P1 alone earns the 700
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(P1)));
		assert_eq!(balance(P1), 1_050);
		assert_eq!(TotalEmitted::<Test>::get(), 3_000);
	});
}

#[test]
fn emission_is_minted_exactly_once_per_epoch() {
	build_and_execute(|| {
		let issuance = Balances::total_issuance();
		run_to(35);
		assert_eq!(CurrentEpoch::<Test>::get(), 3);
		assert_eq!(TotalEmitted::<Test>::get(), 3_000);
		assert_eq!(Balances::total_issuance(), issuance + 3_000);
	});
}

#[test]
fn params_are_governance_only_and_consistent() {
	build_and_execute(|| {
		let p = DefaultParams::get();
		assert_noop!(Rewards::set_params(RuntimeOrigin::signed(P1), p), DispatchError::BadOrigin);
		for bad in [
			RewardParams { epoch_length: 0, ..p },
			RewardParams { provider_share: Perbill::from_percent(90), ..p },
		] {
			assert_noop!(
				Rewards::set_params(RuntimeOrigin::root(), bad),
				Error::<Test>::InvalidParams
			);
		}
		let longer = RewardParams { epoch_length: 20, emission_per_epoch: 0, ..p };
		assert_ok!(Rewards::set_params(RuntimeOrigin::root(), longer));
		run_to(15);
		assert_eq!(CurrentEpoch::<Test>::get(), 0);
		run_to(21);
		assert_eq!(CurrentEpoch::<Test>::get(), 1);
		assert_eq!(TotalEmitted::<Test>::get(), 0);
	});
}

#[test]
fn a_claim_the_account_cannot_cover_fails_without_paying() {
	build_and_execute(|| {
		Rewards::credit_work(&P1, 1);
		run_to(11);
		let account = Rewards::account_id();
		let held = balance(account);
		// Something drained the account (it cannot happen through the pallet's calls).
		Balances::set_balance(&account, 10);
		assert_noop!(Rewards::claim(RuntimeOrigin::signed(P1)), Error::<Test>::InsufficientFunds);
		assert_eq!(balance(P1), 0);
		Balances::set_balance(&account, held);
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(P1)));
	});
}
