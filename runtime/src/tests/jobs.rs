//! Jobs on the real pallets: fees to the treasury, selection and slashing, exact payment splits
//! and the fee estimate of `InferaApi`.

use super::*;

#[test]
fn fees_go_to_the_treasury() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		use frame_support::traits::OnUnbalanced;
		let treasury = pallet_treasury::Pallet::<Runtime>::account_id();
		let before = Balances::balance(&treasury);
		let issuance = Balances::total_issuance();
		let fee = <Balances as frame_support::traits::fungible::Balanced<AccountId>>::withdraw(
			&alice(),
			UNITS,
			frame_support::traits::tokens::Precision::Exact,
			frame_support::traits::tokens::Preservation::Preserve,
			frame_support::traits::tokens::Fortitude::Polite,
		)
		.unwrap();
		crate::configs::DealWithFees::on_unbalanceds([fee].into_iter());
		assert_eq!(Balances::balance(&treasury), before + UNITS);
		// Nothing created or destroyed.
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn a_provider_bonds_serves_a_registered_model_is_selected_and_slashed_to_the_treasury() {
	use crate::ComputeStaking;
	use infera_primitives::{traits::ComputeProviders, Accelerator, HardwareProfile};
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let model = register_model(&alice(), 7);
		let bob = provider();
		assert_ok!(ComputeStaking::register_provider(
			RuntimeOrigin::signed(bob.clone()),
			HardwareProfile {
				accelerator: Accelerator::Cpu,
				cpu_cores: 2,
				memory_mib: 24_576,
				accelerator_memory_mib: 0,
			}
		));
		assert_ok!(ComputeStaking::bond(RuntimeOrigin::signed(bob.clone()), 1_000 * UNITS));
		let models = frame_support::BoundedVec::truncate_from(vec![model]);
		assert_ok!(ComputeStaking::set_models(RuntimeOrigin::signed(bob.clone()), models));
		assert_eq!(ComputeStaking::select(model, 10 * UNITS, &[], [3u8; 32]), Some(bob.clone()));
		check_invariants();

		// A deprecated model cannot be taken up by new providers.
		assert_ok!(crate::ModelRegistry::deprecate_model(RuntimeOrigin::signed(alice()), model));
		let ferdie = Sr25519Keyring::Ferdie.to_account_id();
		assert_ok!(Balances::transfer_allow_death(
			RuntimeOrigin::signed(alice()),
			ferdie.clone().into(),
			10_000 * UNITS
		));
		assert_ok!(ComputeStaking::register_provider(
			RuntimeOrigin::signed(ferdie.clone()),
			HardwareProfile {
				accelerator: Accelerator::Cuda,
				cpu_cores: 16,
				memory_mib: 65_536,
				accelerator_memory_mib: 81_920,
			}
		));
		assert_noop!(
			ComputeStaking::set_models(
				RuntimeOrigin::signed(ferdie),
				frame_support::BoundedVec::truncate_from(vec![model])
			),
			pallet_compute_staking::Error::<Runtime>::ModelNotActive
		);

		let treasury = pallet_treasury::Pallet::<Runtime>::account_id();
		let before = Balances::balance(&treasury);
		let reporter_before = Balances::balance(&alice());
		let issuance = Balances::total_issuance();
		assert_eq!(ComputeStaking::slash(&bob, 200 * UNITS, Some(&alice())), Ok(200 * UNITS));
		assert_eq!(Balances::balance(&treasury), before + 180 * UNITS);
		assert_eq!(Balances::balance(&alice()), reporter_before + 20 * UNITS);
		assert_eq!(Balances::total_issuance(), issuance);
		check_invariants();
	});
}

#[test]
fn a_job_is_paid_with_exact_royalty_protocol_cut_and_refund_on_the_real_pallets() {
	use crate::JobEscrow;
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let model = model_served_by_bob();
		let client = Sr25519Keyring::Ferdie.to_account_id();
		let input = b"The quick brown fox jumps over the lazy dog".to_vec();
		let price = UNITS / 100 + UNITS / 100_000 * input.len() as u128;
		let max_fee = UNITS;
		let (client0, bob0, alice0) = (
			Balances::balance(&client),
			Balances::balance(&provider()),
			Balances::balance(&alice()),
		);
		let issuance = Balances::total_issuance();
		let job = pallet_job_escrow::NextJobId::<Runtime>::get();
		assert_ok!(JobEscrow::submit_job(
			RuntimeOrigin::signed(client.clone()),
			model,
			input,
			max_fee,
			200
		));
		assert_eq!(Balances::balance(&client), client0 - max_fee);
		check_invariants();
		run_honest_job(job);

		let royalty = price * 5 / 100;
		let protocol = price * 5 / 100;
		assert_eq!(Balances::balance(&client), client0 - price);
		assert_eq!(Balances::balance(&alice()), alice0 + royalty);
		assert_eq!(Balances::balance(&provider()), bob0 + price - royalty - protocol);
		let receipt = pallet_job_escrow::Receipts::<Runtime>::get(job).unwrap();
		assert_eq!((receipt.provider, receipt.fee_paid), (Some(provider()), price));
		check_invariants();

		// The protocol cut reaches the rewards pool of the epoch it arrived in. A client-paid job
		// earns its fee, not emission: with no probe answered in the epoch, the providers' share
		// goes to the treasury and Bob has nothing to claim.
		let epoch = pallet_rewards::CurrentEpoch::<Runtime>::get();
		run_to(System::block_number() + 10);
		let closes: Vec<(u32, Balance, Balance, Balance, Balance)> = events()
			.into_iter()
			.filter_map(|e| match e {
				RuntimeEvent::Rewards(pallet_rewards::Event::EpochClosed {
					epoch,
					emitted,
					fees,
					to_providers,
					to_treasury,
					..
				}) => Some((epoch, emitted, fees, to_providers, to_treasury)),
				_ => None,
			})
			.collect();
		let total_fees: Balance = closes.iter().map(|c| c.2).sum();
		assert_eq!(total_fees, protocol, "exactly the protocol cut reached the rewards pool");
		let (_, emitted, fees, to_providers, _) =
			*closes.iter().find(|c| c.0 == epoch).expect("Bob's epoch closed");
		assert!(emitted + fees > 0);
		assert_eq!(to_providers, 0);
		assert_noop!(
			crate::Rewards::claim(RuntimeOrigin::signed(provider())),
			pallet_rewards::Error::<Runtime>::NothingToClaim
		);
		let minted: Balance = closes.iter().map(|c| c.1).sum();
		assert_eq!(Balances::total_issuance(), issuance + minted, "only the emission was created");
		check_invariants();
	});
}

#[test]
fn infera_api_estimates_fees_and_names_every_rejection() {
	use crate::genesis_config_presets::MINILM;
	use crate::infera_api::{implementation::estimate_fee, FeeEstimateError};
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let e = estimate_fee(MINILM, 43).unwrap();
		assert_eq!(e.price, UNITS / 100 + 43 * UNITS / 100_000);
		assert_eq!(e.royalty, e.price / 20);
		assert_eq!(e.provider_stake, e.price * 30);
		// Bob takes jobs; the four auditors check them.
		assert_eq!(e.checkers, 4);
		assert_eq!(e.providers, 1);
		assert_eq!(
			estimate_fee(infera_primitives::ModelId(77), 43),
			Err(FeeEstimateError::ModelNotActive)
		);
		assert_eq!(estimate_fee(MINILM, 0), Err(FeeEstimateError::EmptyInput));
		let max =
			<<Runtime as pallet_job_escrow::Config>::MaxInputLen as frame_support::traits::Get<
				u32,
			>>::get();
		assert_eq!(estimate_fee(MINILM, max + 1), Err(FeeEstimateError::InputTooLong { max }));
	});
}
