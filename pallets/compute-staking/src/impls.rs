//! What the dispatchables do, the slash, the `ComputeProviders` trait the job escrow uses, and the
//! invariants.

use crate::{
	pallet::*, BalanceOf, ModelsOf, ProviderInfo, ProviderInfoOf, ProviderStatus, SlashOutcome,
	StakingParamsOf, UnlockChunk, INITIAL_REPUTATION, MAX_REPUTATION,
};
use frame_support::{
	ensure,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
		Get,
	},
	BoundedVec,
};
use infera_primitives::{traits::ModelRegistry as _, Accelerator, HardwareProfile, ModelId};
use sp_runtime::{
	traits::{CheckedAdd, CheckedSub, Saturating, Zero},
	ArithmeticError, DispatchError, DispatchResult,
};

impl<T: Config> Pallet<T> {
	fn provider(who: &T::AccountId) -> Result<ProviderInfoOf<T>, DispatchError> {
		Providers::<T>::get(who).ok_or_else(|| Error::<T>::NotProvider.into())
	}

	/// Takes `who` off `model`'s provider list (and its weight off the weights), dropping both
	/// when the list empties.
	fn leave_model_index(model: ModelId, who: &T::AccountId) {
		let mut list = ProvidersByModel::<T>::get(model);
		let Some(at) = list.iter().position(|p| p == who) else { return };
		let mut weights = ListWeights::<T>::get(model);
		list.remove(at);
		if at < weights.len() {
			weights.remove(at);
		}
		Self::put_list(model, list, weights);
	}

	/// Stores a list and its weights, or removes both when the list is empty.
	fn put_list(
		model: ModelId,
		list: BoundedVec<T::AccountId, T::MaxProvidersPerModel>,
		weights: BoundedVec<u128, T::MaxProvidersPerModel>,
	) {
		if list.is_empty() {
			ProvidersByModel::<T>::remove(model);
			ListWeights::<T>::remove(model);
		} else {
			ProvidersByModel::<T>::insert(model, list);
			ListWeights::<T>::insert(model, weights);
		}
	}

	/// Writes `who`'s current selection weight into every list it holds a place in.
	fn refresh_weights(who: &T::AccountId, info: &ProviderInfoOf<T>) {
		let weight = Self::selection_weight(info);
		for model in info.models.iter() {
			let list = ProvidersByModel::<T>::get(model);
			if let Some(at) = list.iter().position(|p| p == who) {
				ListWeights::<T>::mutate(model, |w| {
					if let Some(slot) = w.get_mut(at) {
						*slot = weight;
					}
				});
			}
		}
	}

	fn hold_reason() -> T::RuntimeHoldReason {
		HoldReason::ProviderBond.into()
	}

	fn deposit_reason() -> T::RuntimeHoldReason {
		HoldReason::ProviderDeposit.into()
	}

	/// Whether a provider belongs in the provider lists of the models it declares: active and
	/// bonded. (Its bond may fall under a raised minimum later; selection skips it then, and any
	/// provider bonded more displaces it.)
	fn listable(info: &ProviderInfoOf<T>) -> bool {
		info.status == ProviderStatus::Active && !info.bonded.is_zero()
	}

	/// Puts `who` (bonded `bond`) on `model`'s provider list. A full list makes room by dropping
	/// its weakest member (least bond; the latest to join among equals) when `who` is bonded
	/// more; otherwise `ModelProvidersFull`. Reads at most one list and its members' records.
	fn join_list(model: ModelId, who: &T::AccountId, info: &ProviderInfoOf<T>) -> DispatchResult {
		let bond = info.bonded;
		let mut list = ProvidersByModel::<T>::get(model);
		if list.contains(who) {
			return Ok(());
		}
		let mut weights = ListWeights::<T>::get(model);
		if list.try_push(who.clone()).is_err() {
			let mut weakest: Option<(usize, BalanceOf<T>)> = None;
			for (i, member) in list.iter().enumerate() {
				let b = Providers::<T>::get(member).map(|p| p.bonded).unwrap_or_else(Zero::zero);
				if weakest.is_none_or(|(_, w)| b <= w) {
					weakest = Some((i, b));
				}
			}
			let (at, weakest_bond) = weakest.ok_or(Error::<T>::ModelProvidersFull)?;
			ensure!(bond > weakest_bond, Error::<T>::ModelProvidersFull);
			let displaced = list.remove(at);
			if at < weights.len() {
				weights.remove(at);
			}
			list.try_push(who.clone()).map_err(|_| Error::<T>::ModelProvidersFull)?;
			Self::deposit_event(Event::ProviderDisplaced {
				model,
				displaced,
				displaced_bond: weakest_bond,
				by: who.clone(),
			});
		}
		// The weights run parallel to the list: `who` is last in both.
		weights
			.try_push(Self::selection_weight(info))
			.map_err(|_| Error::<T>::ModelProvidersFull)?;
		Self::put_list(model, list, weights);
		Ok(())
	}

	/// Joins the lists of every model `who` declares where it fits; `NotListed` for the others.
	fn join_lists_where_possible(who: &T::AccountId, info: &ProviderInfoOf<T>) {
		if !Self::listable(info) {
			return;
		}
		for model in info.models.iter() {
			if Self::join_list(*model, who, info).is_err() {
				Self::deposit_event(Event::NotListed { who: who.clone(), model: *model });
			}
		}
	}

	fn leave_lists(who: &T::AccountId, info: &ProviderInfoOf<T>) {
		for model in info.models.iter() {
			Self::leave_model_index(*model, who);
		}
	}

	fn ensure_hardware_valid(hw: &HardwareProfile) -> DispatchResult {
		let accelerator_ok = match hw.accelerator {
			Accelerator::Cpu => hw.accelerator_memory_mib == 0,
			Accelerator::Cuda => hw.accelerator_memory_mib > 0,
		};
		ensure!(
			hw.cpu_cores > 0 && hw.memory_mib > 0 && accelerator_ok,
			Error::<T>::InvalidHardware
		);
		Ok(())
	}

	pub(crate) fn do_register(who: T::AccountId, hardware: HardwareProfile) -> DispatchResult {
		ensure!(!Providers::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
		Self::ensure_hardware_valid(&hardware)?;
		let count = ProviderCount::<T>::get().checked_add(1).ok_or(Error::<T>::TooManyProviders)?;
		let deposit = T::ProviderDeposit::get();
		if !deposit.is_zero() {
			T::Currency::hold(&Self::deposit_reason(), &who, deposit)
				.map_err(|_| Error::<T>::CannotPayDeposit)?;
		}
		let info = ProviderInfo {
			hardware,
			bonded: Zero::zero(),
			locked: Zero::zero(),
			unlocking: BoundedVec::new(),
			models: BoundedVec::new(),
			status: ProviderStatus::Active,
			reputation: INITIAL_REPUTATION,
			jobs_verified: 0,
			no_shows: 0,
			registered_at: frame_system::Pallet::<T>::block_number(),
		};
		Providers::<T>::insert(&who, info);
		ProviderCount::<T>::put(count);
		Self::deposit_event(Event::ProviderRegistered { who, hardware });
		Ok(())
	}

	/// `extra`: whether this adds to an existing bond (`bond_extra`) or starts one (`bond`).
	pub(crate) fn do_bond(who: T::AccountId, value: BalanceOf<T>, extra: bool) -> DispatchResult {
		let mut info = Self::provider(&who)?;
		ensure!(!value.is_zero(), Error::<T>::ZeroAmount);
		if extra {
			ensure!(!info.bonded.is_zero(), Error::<T>::NotBonded);
		} else {
			ensure!(info.bonded.is_zero(), Error::<T>::AlreadyBonded);
		}
		let bonded = info.bonded.checked_add(&value).ok_or(ArithmeticError::Overflow)?;
		ensure!(bonded >= Params::<T>::get().min_bond, Error::<T>::BelowMinimumBond);
		let total = TotalBonded::<T>::get().checked_add(&value).ok_or(ArithmeticError::Overflow)?;
		T::Currency::hold(&Self::hold_reason(), &who, value)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		info.bonded = bonded;
		TotalBonded::<T>::put(total);
		Self::deposit_event(Event::Bonded { who: who.clone(), amount: value, bonded });
		// A first bond lists the provider; more bond may win a place in a full list, and raises
		// its weight where it is listed.
		Self::refresh_weights(&who, &info);
		Self::join_lists_where_possible(&who, &info);
		Providers::<T>::insert(&who, info);
		Ok(())
	}

	pub(crate) fn do_set_models(who: T::AccountId, models: ModelsOf<T>) -> DispatchResult {
		let mut info = Self::provider(&who)?;
		ensure!(
			models.len() <= Params::<T>::get().max_models_per_provider as usize,
			Error::<T>::TooManyModels
		);
		for (i, model) in models.iter().enumerate() {
			ensure!(T::ModelRegistry::is_active(*model), Error::<T>::ModelNotActive);
			ensure!(
				!models.iter().take(i).any(|earlier| earlier == model),
				Error::<T>::DuplicateModel
			);
		}
		for old in info.models.iter().filter(|m| !models.contains(m)) {
			Self::leave_model_index(*old, &who);
		}
		// The call is transactional: a list it cannot join undoes every change.
		if Self::listable(&info) {
			for model in models.iter() {
				Self::join_list(*model, &who, &info)?;
			}
		}
		info.models = models.clone();
		Providers::<T>::insert(&who, info);
		Self::deposit_event(Event::ModelsSet { who, models });
		Ok(())
	}

	pub(crate) fn do_unbond(who: T::AccountId, value: BalanceOf<T>) -> DispatchResult {
		let mut info = Self::provider(&who)?;
		ensure!(!value.is_zero(), Error::<T>::ZeroAmount);
		let free = info.bonded.saturating_sub(info.locked);
		ensure!(value <= free, Error::<T>::InsufficientFreeStake);
		let remaining = info.bonded.checked_sub(&value).ok_or(Error::<T>::InsufficientFreeStake)?;
		let params = Params::<T>::get();
		ensure!(remaining.is_zero() || remaining >= params.min_bond, Error::<T>::BelowMinimumBond);
		let unlock_at =
			frame_system::Pallet::<T>::block_number().saturating_add(params.unbonding_delay);
		// Unbonds in the same block share a chunk.
		match info.unlocking.last_mut() {
			Some(last) if last.unlock_at == unlock_at => {
				last.value = last.value.checked_add(&value).ok_or(ArithmeticError::Overflow)?;
			}
			_ => info
				.unlocking
				.try_push(UnlockChunk { value, unlock_at })
				.map_err(|_| Error::<T>::TooManyUnlockingChunks)?,
		}
		info.bonded = remaining;
		if remaining.is_zero() {
			Self::leave_lists(&who, &info);
		} else {
			Self::refresh_weights(&who, &info);
		}
		Providers::<T>::insert(&who, info);
		Self::deposit_event(Event::Unbonded { who, amount: value, unlock_at });
		Ok(())
	}

	pub(crate) fn do_withdraw(who: T::AccountId) -> DispatchResult {
		let mut info = Self::provider(&who)?;
		let now = frame_system::Pallet::<T>::block_number();
		let mut amount = BalanceOf::<T>::zero();
		for chunk in info.unlocking.iter().filter(|c| c.unlock_at <= now) {
			amount = amount.checked_add(&chunk.value).ok_or(ArithmeticError::Overflow)?;
		}
		ensure!(!amount.is_zero(), Error::<T>::NothingToWithdraw);
		let total =
			TotalBonded::<T>::get().checked_sub(&amount).ok_or(ArithmeticError::Underflow)?;
		T::Currency::release(&Self::hold_reason(), &who, amount, Precision::Exact)?;
		info.unlocking.retain(|c| c.unlock_at > now);
		Providers::<T>::insert(&who, info);
		TotalBonded::<T>::put(total);
		Self::deposit_event(Event::Withdrawn { who, amount });
		Ok(())
	}

	pub(crate) fn do_set_status(who: T::AccountId, status: ProviderStatus) -> DispatchResult {
		let mut info = Self::provider(&who)?;
		match status {
			ProviderStatus::Chilled => {
				ensure!(info.status == ProviderStatus::Active, Error::<T>::AlreadyChilled)
			}
			ProviderStatus::Active => {
				ensure!(info.status == ProviderStatus::Chilled, Error::<T>::NotChilled)
			}
		}
		info.status = status;
		Self::deposit_event(match status {
			ProviderStatus::Chilled => Event::Chilled { who: who.clone() },
			ProviderStatus::Active => Event::Unchilled { who: who.clone() },
		});
		match status {
			ProviderStatus::Chilled => Self::leave_lists(&who, &info),
			ProviderStatus::Active => Self::join_lists_where_possible(&who, &info),
		}
		Providers::<T>::insert(&who, info);
		Ok(())
	}

	pub(crate) fn do_deregister(who: T::AccountId) -> DispatchResult {
		let info = Self::provider(&who)?;
		ensure!(info.locked.is_zero(), Error::<T>::StakeLocked);
		ensure!(info.bonded.is_zero() && info.unlocking.is_empty(), Error::<T>::StillBonded);
		Self::leave_lists(&who, &info);
		let deposit = T::Currency::release_all(
			&Self::deposit_reason(),
			&who,
			frame_support::traits::tokens::Precision::BestEffort,
		)?;
		Providers::<T>::remove(&who);
		ProviderCount::<T>::mutate(|c| *c = c.saturating_sub(1));
		Self::deposit_event(Event::ProviderDeregistered { who, deposit });
		Ok(())
	}

	pub(crate) fn do_set_params(params: StakingParamsOf<T>) -> DispatchResult {
		// A zero minimum bond would let empty providers take jobs; a zero no-show penalty would
		// make missing jobs free; the model cap must fit the storage bound.
		ensure!(
			!params.min_bond.is_zero()
				&& params.no_show_penalty > 0
				&& params.max_models_per_provider > 0
				&& params.max_models_per_provider <= T::MaxModelsPerProvider::get(),
			Error::<T>::InvalidParams
		);
		Params::<T>::put(params);
		Self::deposit_event(Event::ParamsUpdated { params });
		Ok(())
	}

	/// Takes up to `amount` from `who`'s bond, first from the active bond, then from unbonding
	/// chunks (newest first). `params.reporter_share` of it goes to `reporter`, the rest to the
	/// treasury. When the reporter cannot receive its share (e.g. it would stay below the
	/// existential deposit) the treasury gets it: slashed funds never vanish.
	pub fn do_slash(
		who: &T::AccountId,
		amount: BalanceOf<T>,
		reporter: Option<&T::AccountId>,
	) -> Result<SlashOutcome<BalanceOf<T>>, DispatchError> {
		let mut info = Self::provider(who)?;
		let mut remaining = amount;
		let from_bond = remaining.min(info.bonded);
		info.bonded = info.bonded.saturating_sub(from_bond);
		remaining = remaining.saturating_sub(from_bond);
		for chunk in info.unlocking.iter_mut().rev() {
			if remaining.is_zero() {
				break;
			}
			let take = remaining.min(chunk.value);
			chunk.value = chunk.value.saturating_sub(take);
			remaining = remaining.saturating_sub(take);
		}
		info.unlocking.retain(|c| !c.value.is_zero());
		let slashed = amount.saturating_sub(remaining);
		let total =
			TotalBonded::<T>::get().checked_sub(&slashed).ok_or(ArithmeticError::Underflow)?;

		let reason = Self::hold_reason();
		let mut to_reporter = BalanceOf::<T>::zero();
		if let Some(r) = reporter {
			let share = Params::<T>::get().reporter_share.mul_floor(slashed);
			if !share.is_zero()
				&& T::Currency::transfer_on_hold(
					&reason,
					who,
					r,
					share,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Force,
				)
				.is_ok()
			{
				to_reporter = share;
			}
		}
		let to_treasury = slashed.saturating_sub(to_reporter);
		if !to_treasury.is_zero() {
			T::Currency::transfer_on_hold(
				&reason,
				who,
				&T::TreasuryAccount::get(),
				to_treasury,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Force,
			)?;
		}
		Providers::<T>::insert(who, info);
		TotalBonded::<T>::put(total);
		Self::deposit_event(Event::Slashed {
			who: who.clone(),
			requested: amount,
			slashed,
			reporter: reporter.cloned(),
			to_reporter,
			to_treasury,
		});
		Ok(SlashOutcome { slashed, to_reporter, to_treasury })
	}

	/// Bond of `who` not locked by open jobs (zero when not a provider).
	pub fn free_stake_of(who: &T::AccountId) -> BalanceOf<T> {
		Providers::<T>::get(who)
			.map(|p| p.bonded.saturating_sub(p.locked))
			.unwrap_or_else(Zero::zero)
	}

	/// How many providers take jobs for `model` now (listed, active, bonded at least the
	/// minimum), for the runtime API. Reads one bounded list.
	pub fn active_providers(model: ModelId) -> u32 {
		use infera_primitives::traits::ComputeProviders;
		ProvidersByModel::<T>::get(model).iter().filter(|who| Self::serves(who, model)).count()
			as u32
	}

	/// The provider record of `who`, for the runtime API.
	pub fn provider_info(who: &T::AccountId) -> Option<ProviderInfoOf<T>> {
		Providers::<T>::get(who)
	}

	/// Checks the pallet's invariants: the bond held from each provider equals its active plus
	/// unbonding bond, `TotalBonded` is their sum, every account holds a registration deposit
	/// exactly when it is a provider (and a bond only then), a model's list names only active
	/// providers declaring the model, reputations are in range and `ProviderCount` is right.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::traits::fungible::InspectHold;
		let mut count: u32 = 0;
		let mut total = BalanceOf::<T>::zero();
		let mut indexed: u32 = 0;
		for (who, info) in Providers::<T>::iter() {
			count = count.saturating_add(1);
			let mut own = info.bonded;
			for chunk in info.unlocking.iter() {
				ensure!(!chunk.value.is_zero(), "an empty unbonding chunk is stored");
				own = own.checked_add(&chunk.value).ok_or("bond sum overflows")?;
			}
			ensure!(
				T::Currency::balance_on_hold(&Self::hold_reason(), &who) == own,
				"held bond differs from the recorded bond"
			);
			total = total.checked_add(&own).ok_or("total bond overflows")?;
			ensure!(info.reputation <= MAX_REPUTATION, "reputation above the maximum");
			for model in info.models.iter() {
				// A declared model's list may lack the provider: it is chilled or unbonded, or
				// the list was full of providers bonded as much when it tried to join.
				if ProvidersByModel::<T>::get(model).contains(&who) {
					indexed = indexed.saturating_add(1);
				}
			}
		}
		// Deposits: every provider holds one and nobody else does, over every account.
		for who in frame_system::Account::<T>::iter_keys() {
			let held = T::Currency::balance_on_hold(&Self::deposit_reason(), &who);
			if Providers::<T>::contains_key(&who) {
				ensure!(
					T::ProviderDeposit::get().is_zero() || !held.is_zero(),
					"a provider holds no registration deposit"
				);
			} else {
				ensure!(held.is_zero(), "a registration deposit is held from a non-provider");
				ensure!(
					T::Currency::balance_on_hold(&Self::hold_reason(), &who).is_zero(),
					"a bond is held from a non-provider"
				);
			}
		}
		ensure!(count == ProviderCount::<T>::get(), "ProviderCount does not match the providers");
		ensure!(total == TotalBonded::<T>::get(), "TotalBonded does not match the bonds");
		let mut listed: u32 = 0;
		for model in ListWeights::<T>::iter_keys() {
			ensure!(ProvidersByModel::<T>::contains_key(model), "weights of no list are stored");
		}
		for (model, list) in ProvidersByModel::<T>::iter() {
			ensure!(!list.is_empty(), "an empty model index is stored");
			ensure!(
				ListWeights::<T>::get(model).len() == list.len(),
				"a list's weights and members differ in number"
			);
			for who in list.iter() {
				let info = Providers::<T>::get(who).ok_or("a model index names a non-provider")?;
				ensure!(
					info.models.contains(&model),
					"a model index names a provider not serving it"
				);
				ensure!(
					info.status == ProviderStatus::Active,
					"a chilled provider holds a place in a model's list"
				);

				listed = listed.saturating_add(1);
			}
		}
		ensure!(listed == indexed, "model index and provider model lists differ in size");
		Ok(())
	}
}

impl<T: Config> infera_primitives::traits::ComputeProviders<T::AccountId, BalanceOf<T>>
	for Pallet<T>
{
	fn serves(who: &T::AccountId, model: ModelId) -> bool {
		Providers::<T>::get(who).is_some_and(|p| {
			p.status == ProviderStatus::Active
				&& p.bonded >= Params::<T>::get().min_bond
				&& p.models.contains(&model)
		})
	}

	fn free_stake(who: &T::AccountId) -> BalanceOf<T> {
		Self::free_stake_of(who)
	}

	fn can_check(who: &T::AccountId, model: ModelId, stake_needed: BalanceOf<T>) -> bool {
		Providers::<T>::get(who).is_some_and(|p| {
			p.bonded >= Params::<T>::get().min_bond
				&& p.models.contains(&model)
				&& p.bonded.saturating_sub(p.locked) >= stake_needed
		})
	}

	fn with_locked_stake() -> alloc::vec::Vec<T::AccountId> {
		Providers::<T>::iter().filter(|(_, p)| !p.locked.is_zero()).map(|(who, _)| who).collect()
	}

	fn locked_stake(who: &T::AccountId) -> BalanceOf<T> {
		Providers::<T>::get(who).map(|p| p.locked).unwrap_or_else(Zero::zero)
	}

	fn select(
		model: ModelId,
		stake_needed: BalanceOf<T>,
		exclude: &[T::AccountId],
		seed: [u8; 32],
	) -> Option<T::AccountId> {
		Self::select_provider(model, stake_needed, exclude, seed)
	}

	fn lock(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		let mut info = Self::provider(who)?;
		ensure!(
			amount <= info.bonded.saturating_sub(info.locked),
			Error::<T>::InsufficientFreeStake
		);
		info.locked = info.locked.checked_add(&amount).ok_or(ArithmeticError::Overflow)?;
		Providers::<T>::insert(who, info);
		Ok(())
	}

	fn unlock(who: &T::AccountId, amount: BalanceOf<T>) {
		Providers::<T>::mutate(who, |maybe| {
			if let Some(info) = maybe {
				info.locked = info.locked.saturating_sub(amount);
			}
		});
	}

	fn slash(
		who: &T::AccountId,
		amount: BalanceOf<T>,
		reporter: Option<&T::AccountId>,
	) -> Result<BalanceOf<T>, DispatchError> {
		Self::do_slash(who, amount, reporter).map(|o| o.slashed)
	}

	fn record_no_show(who: &T::AccountId) {
		let penalty = Params::<T>::get().no_show_penalty;
		let updated = Providers::<T>::mutate(who, |maybe| {
			maybe.as_mut().map(|info| {
				info.reputation = info.reputation.saturating_sub(penalty);
				info.no_shows = info.no_shows.saturating_add(1);
				info.reputation
			})
		});
		if let Some(reputation) = updated {
			Self::deposit_event(Event::NoShowRecorded { who: who.clone(), reputation });
		}
	}

	fn record_verified(who: &T::AccountId) {
		let reward = Params::<T>::get().verified_reward;
		Providers::<T>::mutate(who, |maybe| {
			if let Some(info) = maybe {
				info.reputation = info.reputation.saturating_add(reward).min(MAX_REPUTATION);
				info.jobs_verified = info.jobs_verified.saturating_add(1);
			}
		});
	}
}
