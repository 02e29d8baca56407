//! What must hold after every transaction and every block, over every account: value is
//! neither created nor destroyed except by emission and deliberate burns, every hold is one its
//! pallet recorded, every pallet's `try_state` passes, blocks fit their weight.
#![allow(clippy::arithmetic_side_effects)] // reason: a test tool

use infera_runtime::{Balance, Runtime, RuntimeEvent, RuntimeHoldReason, System};
use std::collections::BTreeMap;

/// The step name of a block's start.
pub const BLOCK_START: &str = "the block's start";

/// Tracks what the checks compare across steps.
pub struct Checker {
	/// Total issuance after the last check.
	issuance: Balance,
	/// The block the last check ran in, and how many of its events it had seen.
	block: u32,
	seen: usize,
	/// Invariant checks run (for the reports).
	pub checks: u64,
}

impl Checker {
	/// A checker that has seen nothing yet, for a chain whose state is not set up; replaced by
	/// [`Checker::new`] inside the state.
	pub(crate) fn before_genesis() -> Self {
		Checker { issuance: 0, block: 0, seen: 0, checks: 0 }
	}

	pub fn new() -> Self {
		let c = Checker {
			issuance: pallet_balances::TotalIssuance::<Runtime>::get(),
			block: System::block_number(),
			seen: 0,
			checks: 0,
		};
		value_is_conserved();
		c
	}

	/// After a transaction, or a block's start (its hooks and inherents: the pallets' own
	/// `try_state` waits for the first transaction or the block's end, where it runs anyway).
	pub fn after_step(&mut self, what: &str) {
		self.checks += 1;
		value_is_conserved();
		self.issuance_moves_only_by_emission_and_burns(what);
		holds_are_recorded();
		if what != BLOCK_START {
			try_state();
		}
	}

	/// After a block's end (`on_idle`, `on_finalize`).
	///
	/// A block's weight stays within the maximum, except in a block that rotates the session:
	/// `pallet_session` charges the whole block for the rotation (its `on_initialize` returns
	/// `max_block`), so any other hook's weight in that block goes over. Substrate accepts that
	/// (mandatory weight may exceed the limit; no transaction fits in that block).
	pub fn after_block(&mut self) {
		self.after_step("the block's end");
		let used = System::block_weight().total();
		let max = <Runtime as frame_system::Config>::BlockWeights::get().max_block;
		let rotated = System::read_events_no_consensus().any(|r| {
			matches!(r.event, RuntimeEvent::Session(pallet_session::Event::NewSession { .. }))
		});
		assert!(
			rotated || used.all_lte(max),
			"block {} used {used:?}, above the maximum {max:?}",
			self.block
		);
	}

	/// Total issuance changes only by the events that say so, and those are: the rewards
	/// pallet's emission (minted into its account), a signer burning its own funds
	/// (`Balances::burn`), or Root acting (sudo, or a call the scheduler dispatched).
	fn issuance_moves_only_by_emission_and_burns(&mut self, what: &str) {
		use pallet_balances::Event as B;
		let now = System::block_number();
		if now != self.block {
			self.block = now;
			self.seen = 0;
		}
		let events = System::read_events_no_consensus().map(|r| r.event).collect::<Vec<_>>();
		let new = events.get(self.seen..).unwrap_or(&[]);
		self.seen = events.len();
		let root = new.iter().any(|e| {
			matches!(
				e,
				RuntimeEvent::Sudo(_)
					| RuntimeEvent::Scheduler(pallet_scheduler::Event::Dispatched { .. })
			)
		});
		let rewards = pallet_rewards::Pallet::<Runtime>::account_id();
		let (mut up, mut down): (Balance, Balance) = (0, 0);
		for e in new {
			let RuntimeEvent::Balances(e) = e else { continue };
			match e {
				B::Minted { who, amount } => {
					assert!(
						root || *who == rewards,
						"{what}: {amount} minted into {who}, not by emission"
					);
					up += amount;
				}
				B::Issued { amount } | B::MintedCredit { amount } => {
					assert!(root, "{what}: {amount} issued outside Root: {e:?}");
					up += amount;
				}
				B::Burned { amount, .. } => down += amount,
				B::Rescinded { amount } | B::BurnedDebt { amount } => {
					assert!(root, "{what}: {amount} rescinded outside Root: {e:?}");
					down += amount;
				}
				B::BurnedHeld { amount, .. } => {
					assert!(root, "{what}: {amount} burned from a hold outside Root: {e:?}");
					down += amount;
				}
				_ => {}
			}
		}
		let issuance = pallet_balances::TotalIssuance::<Runtime>::get();
		assert_eq!(
			issuance,
			self.issuance + up - down,
			"{what}: total issuance moved from {} to {issuance}, but the events account for +{up} \
			 −{down}",
			self.issuance
		);
		self.issuance = issuance;
	}
}

impl Default for Checker {
	fn default() -> Self {
		Self::new()
	}
}

/// Total issuance is exactly what the accounts hold, over every account.
pub fn value_is_conserved() {
	let mut sum: Balance = 0;
	for (_, info) in frame_system::Account::<Runtime>::iter() {
		sum += info.data.free + info.data.reserved;
	}
	let issuance = pallet_balances::TotalIssuance::<Runtime>::get();
	assert_eq!(sum, issuance, "the accounts hold {sum}, total issuance says {issuance}");
}

/// Every hold of Infera's pallets, over every account, adds up to what the pallets recorded:
/// escrow to the open jobs' escrow, bonds to the providers' bonds (unlocking included), model
/// deposits to the models' deposits. (Each pallet's `try_state` checks the accounts it has
/// records for; this catches a hold left on an account it has none for.)
pub fn holds_are_recorded() {
	let mut held: BTreeMap<&'static str, Balance> = BTreeMap::new();
	for (_, holds) in pallet_balances::Holds::<Runtime>::iter() {
		for h in holds {
			let reason = match h.id {
				RuntimeHoldReason::JobEscrow(_) => "escrow",
				RuntimeHoldReason::ComputeStaking(
					pallet_compute_staking::HoldReason::ProviderBond,
				) => "bonds",
				RuntimeHoldReason::ModelRegistry(_) => "model deposits",
				RuntimeHoldReason::Budgets(_) => "budgets",
				_ => continue,
			};
			*held.entry(reason).or_default() += h.amount;
		}
	}
	let deposits: Balance =
		pallet_model_registry::Models::<Runtime>::iter_values().map(|m| m.deposit).sum();
	let budgets: Balance =
		pallet_budgets::PayerBudgets::<Runtime>::iter_values().map(|b| b.balance).sum();
	let recorded = [
		("budgets", budgets),
		("escrow", pallet_job_escrow::Pallet::<Runtime>::escrow_of_open_jobs()),
		("bonds", pallet_compute_staking::TotalBonded::<Runtime>::get()),
		("model deposits", deposits),
	];
	for (reason, recorded) in recorded {
		let held = held.get(reason).copied().unwrap_or(0);
		assert_eq!(held, recorded, "{reason}: {held} held over all accounts, {recorded} recorded");
	}
}

/// Every pallet's `try_state` (with the `try-runtime` feature).
pub fn try_state() {
	#[cfg(feature = "try-runtime")]
	{
		use frame_support::traits::{TryState, TryStateSelect};
		if let Err(e) = <infera_runtime::AllPalletsWithSystem as TryState<u32>>::try_state(
			System::block_number(),
			TryStateSelect::All,
		) {
			panic!("try_state failed: {e:?}");
		}
	}
}
