//! The governed validator set: session keys with ownership proofs, added by governance.

use super::*;

/// Registers real session keys for `who`, with a valid ownership proof, as a validator would
/// after `author_rotateKeys`.
fn set_session_keys(who: &AccountId) {
	let generated = SessionKeys::generate(&who.encode(), None);
	assert_ok!(Session::set_keys(
		RuntimeOrigin::signed(who.clone()),
		generated.keys,
		generated.proof.encode()
	));
}

#[test]
fn governance_adds_a_validator_once_it_has_session_keys() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::signed(alice()), provider()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), provider()),
			pallet_validator_set::Error::<Runtime>::NoSessionKeys
		);
		set_session_keys(&provider());
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), provider()));
		let mut expected = vec![alice(), provider()];
		expected.sort();
		assert_eq!(pallet_validator_set::Validators::<Runtime>::get().into_inner(), expected);
		// Handed to the session pallet at the next rotation.
		assert_eq!(
			<ValidatorSet as pallet_session::SessionManager<AccountId>>::new_session(2),
			Some(expected)
		);
	});
}

#[test]
fn setting_keys_with_a_forged_proof_is_rejected() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		// Keys generated for Alice cannot be registered by Bob.
		let generated = SessionKeys::generate(&alice().encode(), None);
		assert_noop!(
			Session::set_keys(
				RuntimeOrigin::signed(provider()),
				generated.keys,
				generated.proof.encode()
			),
			pallet_session::Error::<Runtime>::InvalidProof
		);
	});
}
