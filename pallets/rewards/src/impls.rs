//! Epoch closes, lazy settlement of points into claimable balances, claims, the `WorkRecorder`
//! the job escrow credits, and the invariants.
//!
//! Closing an epoch is O(1): it mints the emission, measures the fees that came in, and records
//! one pool per role with the epoch's total points. An account's points are turned into a
//! balance (`pool · points / total`, rounded down) the next time it earns or claims, so no hook
//! ever visits every account. When a pool's last point is settled, its rounding dust goes to the
//! treasury.

use crate::{pallet::*, BalanceOf, Earnings, Pool, RewardParamsOf, WeightInfo};
use frame_support::{
	ensure,
	traits::{
		fungible::{Inspect, Mutate},
		tokens::Preservation,
		Get,
	},
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{AccountIdConversion, CheckedAdd, Saturating, UniqueSaturatedInto, Zero},
	ArithmeticError, DispatchError, DispatchResult, Perbill,
};

/// Which pool a point belongs to.
#[derive(Copy, Clone)]
enum Role {
	Work,
	Audit,
}

impl<T: Config> Pallet<T> {
	/// The pallet's account.
	pub fn account_id() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	pub(crate) fn ensure_params_valid(p: &RewardParamsOf<T>) -> DispatchResult {
		let shares = p.provider_share.deconstruct().checked_add(p.validator_share.deconstruct());
		ensure!(
			!p.epoch_length.is_zero() && shares.is_some_and(|s| s <= Perbill::one().deconstruct()),
			Error::<T>::InvalidParams
		);
		Ok(())
	}

	fn to_treasury(amount: BalanceOf<T>) -> Result<(), DispatchError> {
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::transfer(
			&Self::account_id(),
			&T::TreasuryAccount::get(),
			amount,
			Preservation::Preserve,
		)?;
		TotalToTreasury::<T>::mutate(|t| *t = t.saturating_add(amount));
		Ok(())
	}

	/// Closes the open epoch when its length has passed.
	pub(crate) fn maybe_close_epoch(now: BlockNumberFor<T>) -> Weight {
		let params = Params::<T>::get();
		if now < EpochStart::<T>::get().saturating_add(params.epoch_length) {
			return T::WeightInfo::on_initialize_idle();
		}
		if let Err(e) = Self::close_epoch(now, &params) {
			log::error!(target: "runtime::rewards", "closing the epoch failed: {e:?}");
		}
		T::WeightInfo::on_initialize_epoch()
	}

	fn close_epoch(now: BlockNumberFor<T>, params: &RewardParamsOf<T>) -> DispatchResult {
		let epoch = CurrentEpoch::<T>::get();
		let (work, audits) = OpenPoints::<T>::take();
		let account = Self::account_id();
		let emitted = match T::Currency::mint_into(&account, params.emission_per_epoch) {
			Ok(minted) => minted,
			Err(e) => {
				log::error!(target: "runtime::rewards", "epoch {epoch}: emission not minted: {e:?}");
				Zero::zero()
			}
		};
		// Whatever the account holds beyond what it owes (and its existential deposit) is this
		// epoch's pool: the emission just minted plus the fees that came in.
		let pool = T::Currency::balance(&account)
			.saturating_sub(T::Currency::minimum_balance())
			.saturating_sub(TotalOwed::<T>::get());
		let fees = pool.saturating_sub(emitted);
		let to_providers =
			if work > 0 { params.provider_share.mul_floor(pool) } else { Zero::zero() };
		let to_auditors =
			if audits > 0 { params.validator_share.mul_floor(pool) } else { Zero::zero() };
		let to_treasury = pool.saturating_sub(to_providers).saturating_sub(to_auditors);

		TotalEmitted::<T>::mutate(|t| *t = t.saturating_add(emitted));
		TotalFees::<T>::mutate(|t| *t = t.saturating_add(fees));
		Self::to_treasury(to_treasury)?;
		let pool_of = |amount, points| Pool {
			amount,
			points,
			settled_points: 0,
			settled_amount: Zero::zero(),
		};
		if !to_providers.is_zero() {
			WorkPools::<T>::insert(epoch, pool_of(to_providers, work));
		}
		if !to_auditors.is_zero() {
			AuditPools::<T>::insert(epoch, pool_of(to_auditors, audits));
		}
		TotalOwed::<T>::mutate(|t| *t = t.saturating_add(to_providers).saturating_add(to_auditors));
		CurrentEpoch::<T>::put(epoch.saturating_add(1));
		EpochStart::<T>::put(now);
		Self::deposit_event(Event::EpochClosed {
			epoch,
			emitted,
			fees,
			to_providers,
			to_auditors,
			to_treasury,
		});
		Ok(())
	}

	/// `pool.amount · points / pool.points`, rounded down.
	fn share_of(pool: &Pool<BalanceOf<T>>, points: u128) -> BalanceOf<T> {
		let amount: u128 = pool.amount.unique_saturated_into();
		sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
			amount,
			points,
			pool.points.max(1),
			sp_runtime::Rounding::Down,
		)
		.unwrap_or(0)
		.unique_saturated_into()
	}

	/// Turns `points` of `role` earned in closed `epoch` into a balance.
	fn settle_points(epoch: u32, role: Role, points: u128) -> BalanceOf<T> {
		if points == 0 {
			return Zero::zero();
		}
		let take = |e| match role {
			Role::Work => WorkPools::<T>::get(e),
			Role::Audit => AuditPools::<T>::get(e),
		};
		// No pool: the epoch's share for this role was zero.
		let Some(mut pool) = take(epoch) else { return Zero::zero() };
		let share =
			Self::share_of(&pool, points).min(pool.amount.saturating_sub(pool.settled_amount));
		pool.settled_points = pool.settled_points.saturating_add(points);
		pool.settled_amount = pool.settled_amount.saturating_add(share);
		if pool.settled_points >= pool.points {
			let dust = pool.amount.saturating_sub(pool.settled_amount);
			if Self::to_treasury(dust).is_ok() {
				TotalOwed::<T>::mutate(|t| *t = t.saturating_sub(dust));
				if !dust.is_zero() {
					Self::deposit_event(Event::DustToTreasury { epoch, amount: dust });
				}
			} else {
				log::error!(target: "runtime::rewards", "epoch {epoch}: dust transfer failed");
			}
			match role {
				Role::Work => WorkPools::<T>::remove(epoch),
				Role::Audit => AuditPools::<T>::remove(epoch),
			}
		} else {
			match role {
				Role::Work => WorkPools::<T>::insert(epoch, pool),
				Role::Audit => AuditPools::<T>::insert(epoch, pool),
			}
		}
		share
	}

	/// Settles `e` when its epoch has closed.
	fn settle(e: &mut Earnings<BalanceOf<T>>) {
		if e.epoch >= CurrentEpoch::<T>::get() {
			return;
		}
		let work = Self::settle_points(e.epoch, Role::Work, e.work);
		let audits = Self::settle_points(e.epoch, Role::Audit, e.audits);
		e.claimable = e.claimable.saturating_add(work).saturating_add(audits);
		e.work = 0;
		e.audits = 0;
	}

	fn credit(who: &T::AccountId, work: u128, audits: u128) {
		let current = CurrentEpoch::<T>::get();
		let mut e = Accounts::<T>::get(who);
		if e.epoch != current {
			Self::settle(&mut e);
			e.epoch = current;
		}
		e.work = e.work.saturating_add(work);
		e.audits = e.audits.saturating_add(audits);
		Accounts::<T>::insert(who, e);
		OpenPoints::<T>::mutate(|(w, a)| {
			*w = w.saturating_add(work);
			*a = a.saturating_add(audits);
		});
	}

	/// What `who` could claim now (closed epochs only).
	pub fn claimable(who: &T::AccountId) -> BalanceOf<T> {
		let e = Accounts::<T>::get(who);
		if e.epoch >= CurrentEpoch::<T>::get() {
			return e.claimable;
		}
		let preview = |pool: Option<Pool<BalanceOf<T>>>, points: u128| {
			pool.map(|p| Self::share_of(&p, points)).unwrap_or_else(Zero::zero)
		};
		e.claimable
			.saturating_add(preview(WorkPools::<T>::get(e.epoch), e.work))
			.saturating_add(preview(AuditPools::<T>::get(e.epoch), e.audits))
	}

	pub(crate) fn do_claim(who: T::AccountId) -> DispatchResult {
		let mut e = Accounts::<T>::get(&who);
		Self::settle(&mut e);
		let amount = e.claimable;
		ensure!(!amount.is_zero(), Error::<T>::NothingToClaim);
		let owed = TotalOwed::<T>::get();
		ensure!(amount <= owed, Error::<T>::InsufficientFunds);
		T::Currency::transfer(&Self::account_id(), &who, amount, Preservation::Preserve)
			.map_err(|_| Error::<T>::InsufficientFunds)?;
		TotalOwed::<T>::put(owed.saturating_sub(amount));
		let paid = TotalPaid::<T>::get().checked_add(&amount).ok_or(ArithmeticError::Overflow)?;
		TotalPaid::<T>::put(paid);
		e.claimable = Zero::zero();
		if e.work == 0 && e.audits == 0 {
			Accounts::<T>::remove(&who);
		} else {
			Accounts::<T>::insert(&who, e);
		}
		Self::deposit_event(Event::Claimed { who, amount });
		Ok(())
	}

	/// Checks that nothing is lost: paid + owed + sent to the treasury == emitted + fees; the
	/// account holds what it owes; what it owes is exactly the claimable balances plus the
	/// unsettled parts of the pools; the open epoch's points are the accounts' points in it.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let owed = TotalOwed::<T>::get();
		ensure!(
			TotalPaid::<T>::get().saturating_add(owed).saturating_add(TotalToTreasury::<T>::get())
				== TotalEmitted::<T>::get().saturating_add(TotalFees::<T>::get()),
			"paid + owed + treasury differs from emitted + fees"
		);
		ensure!(
			T::Currency::balance(&Self::account_id()) >= owed,
			"the pallet's account holds less than it owes"
		);
		let mut sum = BalanceOf::<T>::zero();
		for pool in WorkPools::<T>::iter_values().chain(AuditPools::<T>::iter_values()) {
			ensure!(pool.settled_points < pool.points, "a fully settled pool was kept");
			ensure!(pool.settled_amount <= pool.amount, "a pool paid out more than it held");
			sum = sum.saturating_add(pool.amount.saturating_sub(pool.settled_amount));
		}
		let current = CurrentEpoch::<T>::get();
		let (mut work, mut audits) = (0u128, 0u128);
		for e in Accounts::<T>::iter_values() {
			sum = sum.saturating_add(e.claimable);
			if e.epoch == current {
				work = work.saturating_add(e.work);
				audits = audits.saturating_add(e.audits);
			}
		}
		ensure!(sum == owed, "owed differs from claimable balances plus unsettled pools");
		ensure!(OpenPoints::<T>::get() == (work, audits), "open points differ from the accounts'");
		Ok(())
	}
}

impl<T: Config> infera_primitives::traits::WorkRecorder<T::AccountId> for Pallet<T> {
	fn credit_work(provider: &T::AccountId, points: u64) {
		Self::credit(provider, u128::from(points), 0);
	}

	fn credit_audit(validator: &T::AccountId) {
		Self::credit(validator, 0, 1);
	}
}
