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

/// A header of block `number` in `slot`, authored by `author` (pre-digest and seal), with
/// `extrinsics_root` telling two such headers apart.
fn babe_header(author: Sr25519Keyring, slot: u64, number: u32, tag: u8) -> crate::Header {
	use sp_consensus_babe::digests::{CompatibleDigestItem, PreDigest, SecondaryPlainPreDigest};
	use sp_runtime::{traits::Header as _, DigestItem};
	let authority_index = Session::validators()
		.iter()
		.position(|v| *v == author.to_account_id())
		.expect("the author is a validator") as u32;
	let pre =
		PreDigest::SecondaryPlain(SecondaryPlainPreDigest { authority_index, slot: slot.into() });
	let mut header = crate::Header::new(
		number,
		sp_core::H256::repeat_byte(tag),
		Default::default(),
		System::parent_hash(),
		sp_runtime::generic::Digest { logs: vec![DigestItem::babe_pre_digest(pre)] },
	);
	let signature = author.sign(header.hash().as_ref());
	header.digest_mut().push(DigestItem::babe_seal(signature.into()));
	header
}

/// What a node does on seeing two blocks of one author in one slot: builds the proof, asks the
/// runtime for a key-ownership proof and submits the unsigned report.
fn babe_report(
	offender: Sr25519Keyring,
	slot: u64,
) -> (sp_consensus_babe::EquivocationProof<crate::Header>, sp_session::MembershipProof) {
	use frame_support::traits::KeyOwnerProofSystem;
	let proof = sp_consensus_babe::EquivocationProof {
		offender: offender.public().into(),
		slot: slot.into(),
		first_header: babe_header(offender, slot, 2, 1),
		second_header: babe_header(offender, slot, 2, 2),
	};
	let key_owner_proof = crate::Historical::prove((
		sp_consensus_babe::KEY_TYPE,
		sp_consensus_babe::AuthorityId::from(offender.public()),
	))
	.expect("the offender's key is in the current session");
	(proof, key_owner_proof)
}

#[test]
fn a_babe_equivocation_is_reported_and_the_offender_is_disabled_then_removed() {
	use sp_runtime::transaction_validity::{InvalidTransaction, TransactionSource};
	ext_from_preset(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let charlie = Sr25519Keyring::Charlie;
		assert_eq!(Session::validators().len(), 4);
		let slot = 5;
		let (proof, key_owner_proof) = babe_report(charlie, slot);
		let call = pallet_babe::Call::<Runtime>::report_equivocation_unsigned {
			equivocation_proof: Box::new(proof.clone()),
			key_owner_proof: key_owner_proof.clone(),
		};
		// The pool accepts the report as a node submits it.
		assert_ok!(Babe::validate_unsigned(TransactionSource::Local, &call));
		assert_ok!(Babe::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(proof.clone()),
			key_owner_proof.clone()
		));
		let charlie_id = charlie.to_account_id();
		let index = Session::validator_id_to_index(&charlie_id).unwrap();
		assert_eq!(Session::disabled_validators(), vec![index]);
		assert!(!pallet_validator_set::Validators::<Runtime>::get().contains(&charlie_id));
		assert!(events().contains(&RuntimeEvent::ValidatorSet(
			pallet_validator_set::Event::OffenderPunished {
				who: charlie_id.clone(),
				kind: *b"babe:equivocatio",
				session: 0,
				disabled: true,
				removed: true,
			}
		)));
		// The same report again is stale in the pool and refused in a block; reports reach the
		// pool only from the node that saw the equivocation.
		assert_eq!(
			Babe::validate_unsigned(TransactionSource::Local, &call),
			Err(InvalidTransaction::Stale.into())
		);
		assert_eq!(
			Babe::validate_unsigned(TransactionSource::External, &call),
			Err(InvalidTransaction::Call.into())
		);
		assert_noop!(
			Babe::report_equivocation_unsigned(
				RuntimeOrigin::none(),
				Box::new(proof),
				key_owner_proof
			),
			pallet_babe::Error::<Runtime>::DuplicateOffenceReport
		);
		// At the next rotation the session pallet gets the set without Charlie.
		let next = <ValidatorSet as pallet_session::SessionManager<AccountId>>::new_session(1)
			.expect("the set changed");
		assert_eq!(next.len(), 3);
		assert!(!next.contains(&charlie_id));
		check_invariants();
	});
}

#[test]
fn forged_equivocation_reports_punish_nobody() {
	use pallet_babe::Error::{InvalidEquivocationProof, InvalidKeyOwnershipProof};
	let report = |origin, (proof, key_owner_proof): (_, _)| {
		Babe::report_equivocation_unsigned(origin, Box::new(proof), key_owner_proof)
	};
	ext_from_preset(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let charlie = || babe_report(Sr25519Keyring::Charlie, 5);
		// Blaming Dave for Charlie's two blocks: the seals are not Dave's.
		let (mut proof, key_owner_proof) = charlie();
		proof.offender = Sr25519Keyring::Dave.public().into();
		assert_noop!(
			report(RuntimeOrigin::none(), (proof, key_owner_proof)),
			InvalidEquivocationProof::<Runtime>
		);
		// One block is no equivocation.
		let (mut proof, key_owner_proof) = charlie();
		proof.second_header = proof.first_header.clone();
		assert_noop!(
			report(RuntimeOrigin::none(), (proof, key_owner_proof)),
			InvalidEquivocationProof::<Runtime>
		);
		// Charlie's real equivocation with Dave's key-ownership proof.
		let (_, dave_proof) = babe_report(Sr25519Keyring::Dave, 5);
		assert_noop!(
			report(RuntimeOrigin::none(), (charlie().0, dave_proof)),
			InvalidKeyOwnershipProof::<Runtime>
		);
		// A signed origin cannot use the unsigned path.
		assert_noop!(report(RuntimeOrigin::signed(alice()), charlie()), DispatchError::BadOrigin);
		assert!(Session::disabled_validators().is_empty());
		assert_eq!(pallet_validator_set::Validators::<Runtime>::get().len(), 4);
		check_invariants();
	});
}

/// `sc-consensus-babe` 0.60 reports equivocations with the seals stripped from both headers.
/// Such a proof can never punish anyone, so the runtime API refuses to put it in the pool, where
/// it would hold the tag `(offender, slot)` that the node's sealed report needs; the sealed one is
/// submitted.
#[test]
fn a_babe_report_whose_headers_lost_their_seals_never_reaches_the_pool() {
	use sp_core::offchain::{testing::TestTransactionPoolExt, TransactionPoolExt};
	use sp_runtime::traits::Header as _;
	let mut ext = ext_from_preset(LOCAL_TESTNET_RUNTIME_PRESET);
	let (pool, pool_state) = TestTransactionPoolExt::new();
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.execute_with(|| {
		let (sealed, key_owner_proof) = babe_report(Sr25519Keyring::Charlie, 5);
		let opaque = || sp_consensus_babe::OpaqueKeyOwnershipProof::new(key_owner_proof.encode());
		let mut unsealed = sealed.clone();
		unsealed.first_header.digest_mut().pop();
		unsealed.second_header.digest_mut().pop();
		assert_ne!(unsealed.first_header.hash(), unsealed.second_header.hash());
		assert_eq!(crate::configs::submit_babe_equivocation_report(unsealed, opaque()), None);
		assert!(pool_state.read().transactions.is_empty(), "nothing was submitted");

		assert_eq!(
			crate::configs::submit_babe_equivocation_report(sealed.clone(), opaque()),
			Some(())
		);
		let submitted = pool_state.read().transactions.clone();
		assert_eq!(submitted.len(), 1);
		// What was submitted is the sealed report, and it punishes when dispatched.
		let xt =
			<crate::UncheckedExtrinsic as codec::Decode>::decode(&mut &submitted[0][..]).unwrap();
		let RuntimeCall::Babe(pallet_babe::Call::report_equivocation_unsigned {
			equivocation_proof,
			key_owner_proof: in_pool,
		}) = xt.function
		else {
			panic!("not a BABE report: {:?}", xt.function)
		};
		assert_eq!(*equivocation_proof, sealed);
		assert_ok!(Babe::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			equivocation_proof,
			in_pool
		));
		assert_eq!(Session::disabled_validators().len(), 1);
		check_invariants();
	});
}

#[test]
fn at_most_a_third_of_the_set_is_disabled_so_finality_survives() {
	ext_from_preset(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		for (who, slot) in [(Sr25519Keyring::Charlie, 5), (Sr25519Keyring::Dave, 6)] {
			let (proof, key_owner_proof) = babe_report(who, slot);
			assert_ok!(Babe::report_equivocation_unsigned(
				RuntimeOrigin::none(),
				Box::new(proof),
				key_owner_proof
			));
		}
		// Both leave at the next rotation, but only one of four is disabled now: disabling two
		// would leave GRANDPA without a two-thirds majority for the rest of the session.
		assert_eq!(Session::disabled_validators().len(), 1);
		assert_eq!(pallet_validator_set::Validators::<Runtime>::get().len(), 2);
		check_invariants();
	});
}

/// Two different prevotes of `voter` in one round of set 0, as a GRANDPA node sees them.
fn grandpa_equivocation(
	voter: sp_keyring::Ed25519Keyring,
	round: u64,
) -> sp_consensus_grandpa::EquivocationProof<sp_core::H256, u32> {
	grandpa_votes(voter, voter, round)
}

/// Two different prevotes signed by `signer`, claimed to be `identity`'s.
fn grandpa_votes(
	signer: sp_keyring::Ed25519Keyring,
	identity: sp_keyring::Ed25519Keyring,
	round: u64,
) -> sp_consensus_grandpa::EquivocationProof<sp_core::H256, u32> {
	use sp_consensus_grandpa::{localized_payload, Equivocation};
	let vote = |tag: u8| {
		let prevote = finality_grandpa::Prevote {
			target_hash: sp_core::H256::repeat_byte(tag),
			target_number: 1u32,
		};
		let payload =
			localized_payload(round, 0, &finality_grandpa::Message::Prevote(prevote.clone()));
		(prevote, signer.sign(&payload).into())
	};
	sp_consensus_grandpa::EquivocationProof::new(
		0,
		Equivocation::Prevote(finality_grandpa::Equivocation {
			round_number: round,
			identity: identity.public().into(),
			first: vote(1),
			second: vote(2),
		}),
	)
}

#[test]
fn a_grandpa_equivocation_is_reported_and_the_offender_is_punished_once() {
	use frame_support::traits::KeyOwnerProofSystem;
	ext_from_preset(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let dave = sp_keyring::Ed25519Keyring::Dave;
		let key_owner_proof = crate::Historical::prove((
			sp_consensus_grandpa::KEY_TYPE,
			sp_consensus_grandpa::AuthorityId::from(dave.public()),
		))
		.expect("dave's GRANDPA key is in the current session");
		// Votes signed by Charlie's key are no evidence against Dave.
		let forged = grandpa_votes(sp_keyring::Ed25519Keyring::Charlie, dave, 3);
		assert_noop!(
			Grandpa::report_equivocation_unsigned(
				RuntimeOrigin::none(),
				Box::new(forged),
				key_owner_proof.clone()
			),
			pallet_grandpa::Error::<Runtime>::InvalidEquivocationProof
		);
		assert_ok!(Grandpa::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(grandpa_equivocation(dave, 3)),
			key_owner_proof.clone()
		));
		let who = Sr25519Keyring::Dave.to_account_id();
		assert!(events().contains(&RuntimeEvent::ValidatorSet(
			pallet_validator_set::Event::OffenderPunished {
				who: who.clone(),
				kind: *b"grandpa:equivoca",
				session: 0,
				disabled: true,
				removed: true,
			}
		)));
		assert!(!pallet_validator_set::Validators::<Runtime>::get().contains(&who));
		// Another round's equivocation by the same voter: punished already, refused.
		assert_noop!(
			Grandpa::report_equivocation_unsigned(
				RuntimeOrigin::none(),
				Box::new(grandpa_equivocation(dave, 4)),
				key_owner_proof
			),
			pallet_grandpa::Error::<Runtime>::DuplicateOffenceReport
		);
		check_invariants();
	});
}
