//! Test runtime: System, Balances and budgets, with a job escrow that behaves like the real one
//! where budgets can tell: it refuses what the real one refuses (empty inputs, an inactive model,
//! too many inputs, a client that cannot pay), takes each job's escrow out of the client's free
//! balance, and when a job ends pays what it cost out of the escrow and frees the rest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code
#![allow(clippy::arithmetic_side_effects)] // reason: test code

use crate::{self as pallet_budgets};
use core::cell::RefCell;
use frame_support::{
	derive_impl,
	traits::{fungible::Mutate, tokens::Preservation, ConstU32, ConstU64},
	weights::Weight,
};
use infera_primitives::{
	traits::{JobSubmitter, OnJobFinished},
	JobId, ModelId,
};
use sp_runtime::{BuildStorage, DispatchError};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Budgets: pallet_budgets,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type Balance = Balance;
	type ExistentialDeposit = ConstU64<10>;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const PAYER: u64 = 1;
pub const AGENT: u64 = 2;
pub const OTHER_AGENT: u64 = 3;
pub const STRANGER: u64 = 4;
/// Holds open jobs' escrow (the real escrow holds it on the client; moving it here makes the
/// client's balance move exactly as much).
pub const ESCROW: u64 = 90;
/// Receives what finished jobs cost.
pub const PROVIDER: u64 = 91;
pub const MODEL: ModelId = ModelId(0);
pub const INACTIVE: ModelId = ModelId(9);
pub const MAX_INPUTS: u32 = 4;
/// Price of a job: 100 + a unit per input byte.
pub const BASE_PRICE: Balance = 100;

thread_local! {
	static OPEN: RefCell<Vec<(JobId, u64, Balance)>> = const { RefCell::new(Vec::new()) };
	static NEXT: RefCell<u64> = const { RefCell::new(0) };
}

/// The mock job escrow.
pub struct MockJobs;

impl JobSubmitter<u64, Balance, u64> for MockJobs {
	fn submit_jobs(
		client: &u64,
		model: ModelId,
		inputs: Vec<Vec<u8>>,
		max_fee: Balance,
		_deadline: u64,
	) -> Result<Vec<JobId>, DispatchError> {
		if model != MODEL {
			return Err(DispatchError::Other("ModelNotActive"));
		}
		if inputs.is_empty() || inputs.len() > MAX_INPUTS as usize {
			return Err(DispatchError::Other("NoInputs or TooManyInputs"));
		}
		for input in &inputs {
			if input.is_empty() {
				return Err(DispatchError::Other("EmptyInput"));
			}
			if max_fee < Self::price(input.len() as u32)? {
				return Err(DispatchError::Other("FeeBelowPrice"));
			}
		}
		let escrow = max_fee * inputs.len() as Balance;
		<Balances as Mutate<u64>>::transfer(client, &ESCROW, escrow, Preservation::Preserve)
			.map_err(|_| DispatchError::Other("InsufficientBalance"))?;
		let mut ids = Vec::new();
		for _ in &inputs {
			let id = NEXT.with(|n| {
				let id = *n.borrow();
				*n.borrow_mut() += 1;
				JobId(id)
			});
			OPEN.with(|o| o.borrow_mut().push((id, *client, max_fee)));
			ids.push(id);
		}
		Ok(ids)
	}

	fn submit_jobs_weight(_: u32, _: u32) -> Weight {
		Weight::zero()
	}

	fn max_inputs() -> u32 {
		MAX_INPUTS
	}

	fn max_input_len() -> u32 {
		64
	}

	fn price(bytes: u32) -> Result<Balance, DispatchError> {
		Ok(BASE_PRICE + Balance::from(bytes))
	}
}

/// Ends open job `job`, which cost `spent` (at most its escrow): as the real escrow does, the
/// cost goes out (to `PROVIDER`), the rest back to the client, and `OnJobFinished` is told.
pub fn finish_job(job: JobId, spent: Balance) {
	let (client, escrow) = OPEN.with(|o| {
		let mut open = o.borrow_mut();
		let at = open.iter().position(|(id, ..)| *id == job).expect("an open job");
		let (_, client, escrow) = open.remove(at);
		(client, escrow)
	});
	assert!(spent <= escrow);
	<Balances as Mutate<u64>>::transfer(&ESCROW, &PROVIDER, spent, Preservation::Expendable)
		.unwrap();
	<Balances as Mutate<u64>>::transfer(&ESCROW, &client, escrow - spent, Preservation::Expendable)
		.unwrap();
	let used =
		<Budgets as OnJobFinished<u64, Balance>>::on_job_finished(job, &client, escrow, spent);
	// A budget's job is charged the benchmark; any other job nothing beyond its lookup.
	let funded = used == <Budgets as OnJobFinished<u64, Balance>>::weight();
	assert!(funded || used == frame_support::weights::Weight::zero());
}

/// Escrow of the jobs still open.
pub fn open_escrow() -> Balance {
	OPEN.with(|o| o.borrow().iter().map(|(_, _, e)| *e).sum())
}

impl pallet_budgets::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Jobs = MockJobs;
	type MaxDelegates = ConstU32<3>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Helper;
}

#[cfg(feature = "runtime-benchmarks")]
pub struct Helper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for Helper {
	fn model() -> ModelId {
		MODEL
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(PAYER, 100_000),
			(AGENT, 1_000),
			(OTHER_AGENT, 1_000),
			(STRANGER, 1_000),
			(ESCROW, 10),
			(PROVIDER, 10),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		OPEN.with(|o| o.borrow_mut().clear());
		NEXT.with(|n| *n.borrow_mut() = 0);
	});
	ext
}

/// Runs `test`, then checks the invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Budgets::do_try_state().expect("invariants hold");
	});
}

pub fn run_to(n: u64) {
	System::set_block_number(n);
}
