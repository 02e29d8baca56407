#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code
#![allow(clippy::arithmetic_side_effects)] // reason: test code

use crate::{mock::*, *};
use codec::Encode;
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};
use infera_primitives::{
	traits::ModelRegistry as _, Architecture, ClassificationTolerance, EmbeddingTolerance,
	GenerationTolerance, ModelId,
};
use sp_core::H256;
use sp_runtime::{DispatchError, Perbill};

fn files(seed: u8) -> ModelFiles {
	ModelFiles {
		weights_hash: H256::repeat_byte(seed),
		weights_size: 90_868_376,
		config_hash: H256::repeat_byte(seed.wrapping_add(100)),
		tokenizer_hash: H256::repeat_byte(seed.wrapping_add(200)),
	}
}

fn embedding() -> Architecture {
	Architecture::TextEmbedding {
		dimensions: 384,
		tolerance: EmbeddingTolerance {
			min_cosine: Perbill::from_parts(999_000_000),
			max_element_diff: 256,
		},
	}
}

fn meta(name: &str, license: &str) -> ModelMetadataOf<Test> {
	ModelMetadata {
		name: BoundedVec::truncate_from(name.as_bytes().to_vec()),
		version: BoundedVec::truncate_from(b"1.0".to_vec()),
		license: BoundedVec::truncate_from(license.as_bytes().to_vec()),
		dataset_hash: None,
	}
}

fn register(who: u64, seed: u8, parent: Option<ModelId>) -> ModelId {
	let id = NextModelId::<Test>::get();
	assert_ok!(ModelRegistry::register_model(
		RuntimeOrigin::signed(who),
		files(seed),
		embedding(),
		meta("all-MiniLM-L6-v2", "Apache-2.0"),
		parent,
		Perbill::from_percent(5),
	));
	id
}

fn held(who: u64) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::ModelRegistry(HoldReason::ModelDeposit), &who)
}

#[test]
fn register_holds_a_per_byte_deposit_and_indexes_the_model() {
	build_and_execute(|| {
		let free_before = Balances::balance(&ALICE);
		let id = register(ALICE, 1, None);
		let info = Models::<Test>::get(id).unwrap();
		let expected = 100 + info.encoded_size() as u64;
		assert_eq!(info.deposit, expected);
		assert_eq!(held(ALICE), expected);
		assert_eq!(Balances::balance(&ALICE), free_before - expected);
		assert_eq!(ModelByWeights::<Test>::get(H256::repeat_byte(1)), Some(id));
		assert_eq!(ModelRegistry::models_by_owner(&ALICE, None, 10), vec![id]);
		assert!(ModelRegistry::is_active(id));
		System::assert_last_event(
			Event::ModelRegistered {
				model: id,
				owner: ALICE,
				weights_hash: H256::repeat_byte(1),
				parent: None,
				deposit: expected,
			}
			.into(),
		);
	});
}

#[test]
fn lineage_follows_parents_to_the_root_and_is_bounded() {
	build_and_execute(|| {
		let root = register(ALICE, 1, None);
		let v2 = register(BOB, 2, Some(root));
		let v3 = register(BOB, 3, Some(v2));
		let v4 = register(ALICE, 4, Some(v3));
		assert_eq!(ModelRegistry::lineage(v4), vec![v3, v2, root]);
		assert_eq!(Models::<Test>::get(v4).unwrap().depth, 3);
		assert_eq!(Models::<Test>::get(root).unwrap().children, 1);
		// MaxLineageDepth is 3.
		assert_noop!(
			ModelRegistry::register_model(
				RuntimeOrigin::signed(ALICE),
				files(5),
				embedding(),
				meta("too deep", "MIT"),
				Some(v4),
				Perbill::zero(),
			),
			Error::<Test>::LineageTooDeep
		);
	});
}

#[test]
fn the_same_weights_cannot_be_registered_twice() {
	build_and_execute(|| {
		register(ALICE, 1, None);
		assert_noop!(
			ModelRegistry::register_model(
				RuntimeOrigin::signed(BOB),
				files(1),
				embedding(),
				meta("copy", "MIT"),
				None,
				Perbill::zero(),
			),
			Error::<Test>::WeightsAlreadyRegistered
		);
	});
}

/// Every rejected registration leaves balances and storage as they were.
#[test]
fn bad_registrations_are_rejected_with_named_errors() {
	build_and_execute(|| {
		let try_register = |who, files: ModelFiles, arch, meta, parent, royalty| {
			ModelRegistry::register_model(
				RuntimeOrigin::signed(who),
				files,
				arch,
				meta,
				parent,
				royalty,
			)
		};
		let ok_meta = || meta("m", "MIT");
		assert_noop!(
			try_register(
				ALICE,
				files(1),
				embedding(),
				ok_meta(),
				Some(ModelId(42)),
				Perbill::zero()
			),
			Error::<Test>::ParentNotFound
		);
		assert_noop!(
			try_register(ALICE, files(1), embedding(), ok_meta(), None, Perbill::from_percent(31)),
			Error::<Test>::RoyaltyTooHigh
		);
		let loose = Architecture::TextEmbedding {
			dimensions: 384,
			tolerance: EmbeddingTolerance {
				min_cosine: Perbill::from_percent(90),
				max_element_diff: 1,
			},
		};
		assert_noop!(
			try_register(ALICE, files(1), loose, ok_meta(), None, Perbill::zero()),
			Error::<Test>::ToleranceTooLoose
		);
		let wide_diff = Architecture::TextEmbedding {
			dimensions: 384,
			tolerance: EmbeddingTolerance { min_cosine: Perbill::one(), max_element_diff: 4_096 },
		};
		assert_noop!(
			try_register(ALICE, files(1), wide_diff, ok_meta(), None, Perbill::zero()),
			Error::<Test>::ToleranceTooLoose
		);
		let wide_tie = Architecture::Classification {
			classes: 10,
			tolerance: ClassificationTolerance { tie_margin: (1 << 16) + 1 },
		};
		assert_noop!(
			try_register(ALICE, files(1), wide_tie, ok_meta(), None, Perbill::zero()),
			Error::<Test>::ToleranceTooLoose
		);
		let wide_logit = Architecture::Generation {
			max_tokens: 64,
			tolerance: GenerationTolerance { logit_margin: (1 << 17) + 1 },
		};
		assert_noop!(
			try_register(ALICE, files(1), wide_logit, ok_meta(), None, Perbill::zero()),
			Error::<Test>::ToleranceTooLoose
		);
		// Within governance's bound (2 logits in this mock) but wider than audit panels record:
		// no checker could vouch for a near-tie that wide.
		let unrecorded = Architecture::Generation {
			max_tokens: 64,
			tolerance: GenerationTolerance {
				logit_margin: infera_primitives::canonical::MAX_NEAR_GAP + 1,
			},
		};
		assert_noop!(
			try_register(ALICE, files(1), unrecorded, ok_meta(), None, Perbill::zero()),
			Error::<Test>::ToleranceTooLoose
		);
		for bad in [
			Architecture::Generation {
				max_tokens: infera_primitives::canonical::MAX_GENERATION_TOKENS + 1,
				tolerance: GenerationTolerance { logit_margin: 0 },
			},
			Architecture::TextEmbedding {
				dimensions: 0,
				tolerance: EmbeddingTolerance { min_cosine: Perbill::one(), max_element_diff: 0 },
			},
			Architecture::TextEmbedding {
				dimensions: 8_193,
				tolerance: EmbeddingTolerance { min_cosine: Perbill::one(), max_element_diff: 0 },
			},
			Architecture::Classification {
				classes: 0,
				tolerance: ClassificationTolerance { tie_margin: 0 },
			},
			Architecture::Generation {
				max_tokens: 0,
				tolerance: GenerationTolerance { logit_margin: 0 },
			},
		] {
			assert_noop!(
				try_register(ALICE, files(1), bad, ok_meta(), None, Perbill::zero()),
				Error::<Test>::InvalidArchitecture
			);
		}
		assert_noop!(
			try_register(ALICE, files(1), embedding(), meta("", "MIT"), None, Perbill::zero()),
			Error::<Test>::EmptyName
		);
		let mut not_utf8 = ok_meta();
		not_utf8.version = BoundedVec::truncate_from(vec![0xff, 0xfe]);
		assert_noop!(
			try_register(ALICE, files(1), embedding(), not_utf8, None, Perbill::zero()),
			Error::<Test>::EmptyName
		);
		for license in ["", "MIT; rm -rf", "Apache/2"] {
			assert_noop!(
				try_register(
					ALICE,
					files(1),
					embedding(),
					meta("m", license),
					None,
					Perbill::zero()
				),
				Error::<Test>::InvalidLicense
			);
		}
		let mut empty = files(1);
		empty.weights_size = 0;
		assert_noop!(
			try_register(ALICE, empty, embedding(), ok_meta(), None, Perbill::zero()),
			Error::<Test>::EmptyWeights
		);
		assert_noop!(
			try_register(POOR, files(1), embedding(), ok_meta(), None, Perbill::zero()),
			Error::<Test>::InsufficientDeposit
		);
		assert_eq!(ModelCount::<Test>::get(), 0);
	});
}

#[test]
fn spdx_expressions_are_accepted() {
	build_and_execute(|| {
		assert_ok!(ModelRegistry::register_model(
			RuntimeOrigin::signed(ALICE),
			files(1),
			embedding(),
			meta("m", "(Apache-2.0 OR MIT) AND LicenseRef-infera-1.0"),
			None,
			Perbill::zero(),
		));
	});
}

#[test]
fn update_metadata_rebalances_the_deposit() {
	build_and_execute(|| {
		let id = register(ALICE, 1, None);
		let before = held(ALICE);
		let longer = meta("all-MiniLM-L6-v2, fine-tuned for code search", "Apache-2.0");
		assert_ok!(ModelRegistry::update_metadata(RuntimeOrigin::signed(ALICE), id, longer));
		let grown = held(ALICE);
		assert!(grown > before);
		System::assert_last_event(Event::MetadataUpdated { model: id, deposit: grown }.into());
		assert_ok!(ModelRegistry::update_metadata(
			RuntimeOrigin::signed(ALICE),
			id,
			meta("x", "MIT")
		));
		assert!(held(ALICE) < before);
		assert_eq!(held(ALICE), Models::<Test>::get(id).unwrap().deposit);
	});
}

#[test]
fn update_metadata_is_for_the_owner_with_valid_fields() {
	build_and_execute(|| {
		let id = register(ALICE, 1, None);
		assert_noop!(
			ModelRegistry::update_metadata(RuntimeOrigin::signed(BOB), id, meta("x", "MIT")),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			ModelRegistry::update_metadata(
				RuntimeOrigin::signed(ALICE),
				ModelId(9),
				meta("x", "MIT")
			),
			Error::<Test>::ModelNotFound
		);
		assert_noop!(
			ModelRegistry::update_metadata(RuntimeOrigin::signed(ALICE), id, meta("x", "")),
			Error::<Test>::InvalidLicense
		);
	});
}

#[test]
fn after_a_transfer_the_new_owner_takes_over_the_deposit_when_editing() {
	build_and_execute(|| {
		let id = register(ALICE, 1, None);
		let deposit = held(ALICE);
		assert_ok!(ModelRegistry::transfer_ownership(RuntimeOrigin::signed(ALICE), id, BOB));
		System::assert_last_event(
			Event::OwnershipTransferred { model: id, from: ALICE, to: BOB }.into(),
		);
		// The deposit stays with Alice until Bob edits the entry.
		assert_eq!(held(ALICE), deposit);
		assert_eq!(ModelRegistry::models_by_owner(&BOB, None, 10), vec![id]);
		assert!(ModelRegistry::models_by_owner(&ALICE, None, 10).is_empty());
		assert_eq!(ModelRegistry::royalty(id), Some((BOB, Perbill::from_percent(5))));
		assert_ok!(ModelRegistry::update_metadata(
			RuntimeOrigin::signed(BOB),
			id,
			meta("b", "MIT")
		));
		assert_eq!(held(ALICE), 0);
		assert_eq!(held(BOB), Models::<Test>::get(id).unwrap().deposit);
	});
}

#[test]
fn transfer_errors() {
	build_and_execute(|| {
		let id = register(ALICE, 1, None);
		assert_noop!(
			ModelRegistry::transfer_ownership(RuntimeOrigin::signed(ALICE), id, ALICE),
			Error::<Test>::SameOwner
		);
		assert_noop!(
			ModelRegistry::transfer_ownership(RuntimeOrigin::signed(BOB), id, BOB),
			Error::<Test>::NotOwner
		);
	});
}

#[test]
fn deprecated_models_take_no_jobs_and_removal_releases_the_deposit() {
	build_and_execute(|| {
		let id = register(ALICE, 1, None);
		let free = Balances::balance(&ALICE);
		let deposit = held(ALICE);
		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NotDeprecated
		);
		assert_ok!(ModelRegistry::deprecate_model(RuntimeOrigin::signed(ALICE), id));
		assert!(!ModelRegistry::is_active(id));
		assert_noop!(ModelRegistry::note_job_opened(id), Error::<Test>::AlreadyDeprecated);
		assert_noop!(
			ModelRegistry::deprecate_model(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::AlreadyDeprecated
		);
		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::NotOwner
		);
		assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::signed(ALICE), id));
		System::assert_last_event(
			Event::ModelRemoved { model: id, depositor: ALICE, deposit }.into(),
		);
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), free + deposit);
		assert!(Models::<Test>::get(id).is_none());
		// The weights can be registered again once removed.
		register(BOB, 1, None);
	});
}

#[test]
fn a_model_with_open_jobs_or_children_cannot_be_removed() {
	build_and_execute(|| {
		let parent = register(ALICE, 1, None);
		let child = register(BOB, 2, Some(parent));
		assert_ok!(ModelRegistry::note_job_opened(parent));
		assert_ok!(ModelRegistry::deprecate_model(RuntimeOrigin::signed(ALICE), parent));
		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::signed(ALICE), parent),
			Error::<Test>::HasOpenJobs
		);
		ModelRegistry::note_job_closed(parent);
		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::signed(ALICE), parent),
			Error::<Test>::HasChildren
		);
		// Lineage stays readable while the parent is deprecated.
		assert_eq!(ModelRegistry::lineage(child), vec![parent]);
		assert_ok!(ModelRegistry::deprecate_model(RuntimeOrigin::signed(BOB), child));
		assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::signed(BOB), child));
		assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::signed(ALICE), parent));
		assert_eq!(ModelCount::<Test>::get(), 0);
	});
}

#[test]
fn governance_sets_params_and_force_deprecates() {
	build_and_execute(|| {
		let id = register(ALICE, 1, None);
		assert_noop!(
			ModelRegistry::force_deprecate(RuntimeOrigin::signed(ALICE), id),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ModelRegistry::force_deprecate(RuntimeOrigin::root(), ModelId(7)),
			Error::<Test>::ModelNotFound
		);
		assert_ok!(ModelRegistry::force_deprecate(RuntimeOrigin::root(), id));
		System::assert_last_event(Event::ModelDeprecated { model: id, by_governance: true }.into());

		let mut params = DefaultParams::get();
		params.max_royalty = Perbill::from_percent(1);
		assert_noop!(
			ModelRegistry::set_params(RuntimeOrigin::signed(ALICE), params),
			DispatchError::BadOrigin
		);
		assert_ok!(ModelRegistry::set_params(RuntimeOrigin::root(), params));
		assert_noop!(
			ModelRegistry::register_model(
				RuntimeOrigin::signed(ALICE),
				files(2),
				embedding(),
				meta("m", "MIT"),
				None,
				Perbill::from_percent(2),
			),
			Error::<Test>::RoyaltyTooHigh
		);
		params.deposit_per_byte = 0;
		assert_noop!(
			ModelRegistry::set_params(RuntimeOrigin::root(), params),
			Error::<Test>::InvalidParams
		);
	});
}

#[test]
fn open_job_accounting() {
	build_and_execute(|| {
		let id = register(ALICE, 1, None);
		assert_noop!(ModelRegistry::note_job_opened(ModelId(9)), Error::<Test>::ModelNotFound);
		assert_ok!(ModelRegistry::note_job_opened(id));
		assert_ok!(ModelRegistry::note_job_opened(id));
		assert_eq!(OpenJobs::<Test>::get(id), 2);
		ModelRegistry::note_job_closed(id);
		ModelRegistry::note_job_closed(id);
		assert!(!OpenJobs::<Test>::contains_key(id));
		assert_eq!(ModelRegistry::architecture(id), Some(embedding()));
	});
}

#[test]
fn model_ids_running_out_is_an_error_not_a_wrap() {
	build_and_execute(|| {
		NextModelId::<Test>::put(ModelId(u64::MAX));
		assert_noop!(
			ModelRegistry::register_model(
				RuntimeOrigin::signed(ALICE),
				files(1),
				embedding(),
				meta("m", "MIT"),
				None,
				Perbill::zero(),
			),
			Error::<Test>::ModelIdsExhausted
		);
	});
}

#[test]
fn owner_pages_continue_after_the_cursor() {
	build_and_execute(|| {
		let ids: Vec<ModelId> = (1..=5).map(|s| register(ALICE, s, None)).collect();
		let first = ModelRegistry::models_by_owner(&ALICE, None, 2);
		assert_eq!(first.len(), 2);
		let rest = ModelRegistry::models_by_owner(&ALICE, first.last().copied(), 10);
		assert_eq!(rest.len(), 3);
		let mut all: Vec<ModelId> = first.into_iter().chain(rest).collect();
		all.sort();
		assert_eq!(all, ids);
	});
}

#[test]
fn try_state_catches_a_deposit_that_is_not_held() {
	new_test_ext().execute_with(|| {
		let id = register(ALICE, 1, None);
		Models::<Test>::mutate(id, |m| m.as_mut().unwrap().deposit += 1);
		assert!(ModelRegistry::do_try_state().is_err());
	});
}

#[test]
fn genesis_models_are_registered_with_their_deposit_and_a_bad_one_stops_the_chain_spec() {
	use sp_runtime::BuildStorage;
	let model = GenesisModel {
		owner: ALICE,
		files: files(7),
		architecture: embedding(),
		name: b"all-MiniLM-L6-v2".to_vec(),
		version: b"gt-0.1.0".to_vec(),
		license: b"Apache-2.0".to_vec(),
		royalty: Perbill::from_percent(5),
	};
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(ALICE, 1_000_000)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	crate::GenesisConfig::<Test> { models: vec![model.clone()] }
		.assimilate_storage(&mut storage)
		.unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		let info = Models::<Test>::get(ModelId(0)).expect("model 0 registered at genesis");
		assert_eq!(info.files, files(7));
		assert_eq!(info.owner, ALICE);
		assert_eq!(ModelByWeights::<Test>::get(files(7).weights_hash), Some(ModelId(0)));
		assert_eq!(held(ALICE), info.deposit);
		assert!(info.deposit > 0);
		ModelRegistry::do_try_state().unwrap();
	});

	// The same weights twice is refused when the genesis is built, not silently skipped.
	let twice = std::panic::catch_unwind(|| {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![(ALICE, 1_000_000)],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		crate::GenesisConfig::<Test> { models: vec![model.clone(), model.clone()] }
			.assimilate_storage(&mut storage)
			.unwrap();
	});
	assert!(twice.is_err());
}
