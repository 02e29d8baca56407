#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code

use crate::{mock::*, Error, Event, SetChanged, Validators};
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
