//! Balances, transaction fees and the treasury.

use crate::{
	AccountId, Authorship, Balance, Balances, BlockNumber, Runtime, RuntimeEvent,
	RuntimeFreezeReason, RuntimeHoldReason, System, Treasury, DAYS, EXISTENTIAL_DEPOSIT, UNITS,
};
use frame_support::{
	parameter_types,
	traits::{
		fungible::{Balanced, Credit},
		tokens::imbalance::ResolveTo,
		tokens::{PayFromAccount, UnityAssetBalanceConversion},
		ConstU32, ConstU8, Imbalance, OnUnbalanced,
	},
	weights::{ConstantMultiplier, IdentityFee},
	PalletId,
};
use frame_system::EnsureRoot;
use pallet_transaction_payment::{FungibleAdapter, Multiplier, TargetedFeeAdjustment};
use sp_runtime::{
	traits::{Bounded, IdentityLookup},
	FixedPointNumber, Permill, Perquintill,
};

parameter_types! {
	pub const ExistentialDeposit: Balance = EXISTENTIAL_DEPOSIT;
}

impl pallet_balances::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type Balance = Balance;
	// Dust of reaped accounts goes to the treasury rather than vanishing from the issuance.
	type DustRemoval = ResolveTo<TreasuryAccount, Balances>;
	type ExistentialDeposit = ExistentialDeposit;
	type AccountStore = System;
	type ReserveIdentifier = [u8; 8];
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<50>;
	type MaxFreezes = ConstU32<8>;
	type DoneSlashHandler = ();
}

/// Fees go to the treasury, tips to the block author; nothing is burned by accident.
pub struct DealWithFees;
impl OnUnbalanced<Credit<AccountId, Balances>> for DealWithFees {
	fn on_unbalanceds(mut fees_then_tips: impl Iterator<Item = Credit<AccountId, Balances>>) {
		if let Some(fees) = fees_then_tips.next() {
			ResolveTo::<TreasuryAccount, Balances>::on_unbalanced(fees);
		}
		if let Some(tips) = fees_then_tips.next() {
			if tips.peek() == 0 {
				return;
			}
			let unpaid = match Authorship::author() {
				Some(author) => Balances::resolve(&author, tips).err(),
				None => Some(tips),
			};
			// A tip the author cannot take (no author, or below the existential deposit) goes to
			// the treasury as well.
			if let Some(rest) = unpaid {
				ResolveTo::<TreasuryAccount, Balances>::on_unbalanced(rest);
			}
		}
	}
}

parameter_types! {
	/// One micro-INFR per unit of byte length.
	pub const TransactionByteFee: Balance = crate::MICRO_UNITS;
	/// Fees rise when blocks are more than a quarter full.
	pub const TargetBlockFullness: Perquintill = Perquintill::from_percent(25);
	pub AdjustmentVariable: Multiplier = Multiplier::saturating_from_rational(3, 100_000);
	pub MinimumMultiplier: Multiplier = Multiplier::saturating_from_rational(1, 1_000_000u128);
	pub MaximumMultiplier: Multiplier = Bounded::max_value();
}

/// Weight to fee: one plank per picosecond of reference time (1 INFR ≈ 1 000 s of compute).
pub type WeightToFee = IdentityFee<Balance>;

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, DealWithFees>;
	type WeightToFee = WeightToFee;
	type LengthToFee = ConstantMultiplier<Balance, TransactionByteFee>;
	type FeeMultiplierUpdate = TargetedFeeAdjustment<
		Self,
		TargetBlockFullness,
		AdjustmentVariable,
		MinimumMultiplier,
		MaximumMultiplier,
	>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const TreasuryPalletId: PalletId = PalletId(*b"inf/trsy");
	pub TreasuryAccount: AccountId = Treasury::account_id();
	pub const SpendPeriod: BlockNumber = 6 * DAYS;
	/// Nothing is burned: unspent funds stay for future spends.
	pub const Burn: Permill = Permill::zero();
	pub const MaxApprovals: u32 = 100;
	pub const PayoutPeriod: BlockNumber = 30 * DAYS;
	pub const MaxTreasurySpend: Balance = 1_000_000 * UNITS;
}

impl pallet_treasury::Config for Runtime {
	type Currency = Balances;
	type RejectOrigin = EnsureRoot<AccountId>;
	type RuntimeEvent = RuntimeEvent;
	type SpendPeriod = SpendPeriod;
	type Burn = Burn;
	type PalletId = TreasuryPalletId;
	type BurnDestination = ();
	type WeightInfo = pallet_treasury::weights::SubstrateWeight<Runtime>;
	type SpendFunds = ();
	type MaxApprovals = MaxApprovals;
	type SpendOrigin = frame_system::EnsureRootWithSuccess<AccountId, MaxTreasurySpend>;
	type AssetKind = ();
	type Beneficiary = AccountId;
	type BeneficiaryLookup = IdentityLookup<AccountId>;
	type Paymaster = PayFromAccount<Balances, TreasuryAccount>;
	type BalanceConverter = UnityAssetBalanceConversion;
	type PayoutPeriod = PayoutPeriod;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
	type BlockNumberProvider = System;
}
