#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code

use crate::{mock::*, Error, Event, Offenders, SetChanged, Validators};
use frame_support::{assert_noop, assert_ok};
use pallet_session::SessionManager;
use sp_runtime::DispatchError;

fn set() -> Vec<u64> {
	Validators::<Test>::get().into_inner()
}

#[test]
fn genesis_set_is_sorted_and_handed_to_session() {
	build_and_execute(|| {
		assert_eq!(set(), vec![1, 2, 3]);
		assert_eq!(ValidatorSet::new_session_genesis(0), Some(vec![1, 2, 3]));
		assert!(!SetChanged::<Test>::get());
		// Nothing changed: session keeps its set.
		assert_eq!(ValidatorSet::new_session(1), None);
	});
}

#[test]
fn add_validator_joins_at_next_rotation() {
	build_and_execute(|| {
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 10));
		System::assert_last_event(Event::ValidatorAdded { who: 10, set_size: 4 }.into());
		assert_eq!(set(), vec![1, 2, 3, 10]);
		assert_eq!(ValidatorSet::new_session(2), Some(vec![1, 2, 3, 10]));
		System::assert_last_event(Event::NewSetPlanned { session: 2, set_size: 4 }.into());
		// Handed over once; the next rotation keeps it.
		assert_eq!(ValidatorSet::new_session(3), None);
	});
}

#[test]
fn remove_validator_leaves_at_next_rotation() {
	build_and_execute(|| {
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 2));
		System::assert_last_event(Event::ValidatorRemoved { who: 2, set_size: 2 }.into());
		assert_eq!(ValidatorSet::new_session(2), Some(vec![1, 3]));
	});
}

#[test]
fn only_governance_may_change_the_set() {
	build_and_execute(|| {
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::signed(10), 10),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::signed(1), 1),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn add_without_session_keys_is_rejected() {
	build_and_execute(|| {
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 99),
			Error::<Test>::NoSessionKeys
		);
	});
}

#[test]
fn add_twice_is_rejected() {
	build_and_execute(|| {
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 2),
			Error::<Test>::AlreadyValidator
		);
	});
}

#[test]
fn add_beyond_max_is_rejected() {
	build_and_execute(|| {
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 10));
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 11),
			Error::<Test>::TooManyValidators
		);
	});
}

#[test]
fn remove_unknown_is_rejected() {
	build_and_execute(|| {
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), 10),
			Error::<Test>::NotValidator
		);
	});
}

#[test]
fn remove_below_min_is_rejected() {
	build_and_execute(|| {
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 1));
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 2));
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), 3),
			Error::<Test>::TooFewValidators
		);
		assert_eq!(set(), vec![3]);
	});
}

#[test]
fn members_without_keys_are_left_out_at_rotation() {
	build_and_execute(|| {
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 10));
		// Validator 2 purges its keys before the rotation.
		WithKeys::mutate(|k| k.retain(|v| *v != 2));
		assert_eq!(ValidatorSet::new_session(2), Some(vec![1, 3, 10]));
		// Still a member on chain: governance decides membership, keys decide authoring.
		assert_eq!(set(), vec![1, 2, 3, 10]);
	});
}

#[test]
fn a_set_with_no_keys_at_all_keeps_the_current_one() {
	build_and_execute(|| {
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 1));
		WithKeys::set(vec![]);
		assert_eq!(ValidatorSet::new_session(2), None);
		// The change is still pending and is handed over once keys exist again.
		assert!(SetChanged::<Test>::get());
		WithKeys::set(vec![2]);
		assert_eq!(ValidatorSet::new_session(3), Some(vec![2]));
	});
}

#[test]
fn try_state_catches_an_unsorted_set() {
	new_test_ext().execute_with(|| {
		Validators::<Test>::put(frame_support::BoundedVec::truncate_from(vec![2, 1]));
		assert!(ValidatorSet::do_try_state().is_err());
		Validators::<Test>::put(frame_support::BoundedVec::truncate_from(vec![1, 1]));
		assert!(ValidatorSet::do_try_state().is_err());
	});
}

/// An equivocation as BABE and GRANDPA report it: one offender, identified as (account, id).
struct Equivocation {
	offender: u64,
	session: u32,
	slot: u64,
}

impl sp_staking::offence::Offence<(u64, ())> for Equivocation {
	const ID: sp_staking::offence::Kind = *b"test:equivocatio";
	type Slot = u64;
	fn offenders(&self) -> Vec<(u64, ())> {
		vec![(self.offender, ())]
	}
	fn session_index(&self) -> u32 {
		self.session
	}
	fn validator_set_count(&self) -> u32 {
		3
	}
	fn slot(&self) -> u64 {
		self.slot
	}
	fn slash_fraction(&self, _: u32) -> sp_runtime::Perbill {
		sp_runtime::Perbill::one()
	}
}

fn report(offender: u64, slot: u64) -> Result<(), sp_staking::offence::OffenceError> {
	<ValidatorSet as sp_staking::offence::ReportOffence<u64, (u64, ()), Equivocation>>::report_offence(
		vec![],
		Equivocation { offender, session: 7, slot },
	)
}

fn known(offender: u64, slot: u64) -> bool {
	<ValidatorSet as sp_staking::offence::ReportOffence<u64, (u64, ()), Equivocation>>::is_known_offence(
		&[(offender, ())],
		&slot,
	)
}

#[test]
fn an_equivocating_validator_is_disabled_at_once_and_leaves_at_the_next_rotation() {
	build_and_execute(|| {
		assert!(!known(2, 100));
		assert_ok!(report(2, 100));
		assert_eq!(Disabled::get(), vec![2]);
		assert_eq!(set(), vec![1, 3]);
		assert!(SetChanged::<Test>::get());
		assert_eq!(Offenders::<Test>::get(2), Some(7));
		System::assert_has_event(Event::ValidatorRemoved { who: 2, set_size: 2 }.into());
		System::assert_last_event(
			Event::OffenderPunished {
				who: 2,
				kind: *b"test:equivocatio",
				session: 7,
				disabled: true,
				removed: true,
			}
			.into(),
		);
		assert_eq!(ValidatorSet::new_session(8), Some(vec![1, 3]));
	});
}

#[test]
fn a_second_report_against_a_punished_validator_is_known_and_refused() {
	build_and_execute(|| {
		assert_ok!(report(2, 100));
		// Another slot of the same validator: it is out already; the report pool drops it.
		assert!(known(2, 101));
		assert_eq!(report(2, 101), Err(sp_staking::offence::OffenceError::DuplicateReport));
		assert_eq!(Disabled::get(), vec![2]);
		// An honest validator is not known.
		assert!(!known(1, 100));
	});
}

#[test]
fn the_last_validators_are_disabled_but_kept_for_governance() {
	build_and_execute(|| {
		assert_ok!(report(1, 1));
		assert_ok!(report(2, 1));
		// Removing 3 too would leave fewer than MinValidators (1): it is disabled, not removed.
		assert_ok!(report(3, 1));
		assert_eq!(set(), vec![3]);
		System::assert_last_event(
			Event::OffenderPunished {
				who: 3,
				kind: *b"test:equivocatio",
				session: 7,
				disabled: true,
				removed: false,
			}
			.into(),
		);
	});
}

#[test]
fn governance_readmitting_an_offender_clears_its_record() {
	build_and_execute(|| {
		assert_ok!(report(2, 100));
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 2));
		assert!(!known(2, 100));
		assert_eq!(Offenders::<Test>::get(2), None);
		// Readmitted, it answers for a new offence like anyone else.
		assert_ok!(report(2, 200));
		assert_eq!(set(), vec![1, 3]);
	});
}
