//! The registry's logic: what the dispatchables do, the `ModelRegistry` trait other pallets use,
//! the reads behind the runtime API, and the invariants.

use crate::{pallet::*, BalanceOf, ModelInfo, ModelInfoOf, ModelMetadataOf, ModelStatus};
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	ensure,
	traits::{fungible::MutateHold, tokens::Precision, Get},
};
use infera_primitives::{canonical::MAX_EMBEDDING_DIMENSIONS, Architecture, ModelId};
use sp_runtime::{
	traits::{CheckedAdd, CheckedMul, CheckedSub, Zero},
	ArithmeticError, DispatchError, DispatchResult, Perbill,
};

/// Characters an SPDX license expression may contain (`Apache-2.0 OR MIT`,
/// `LicenseRef-custom`, `GPL-2.0+ WITH Classpath-exception-2.0`).
fn is_spdx_char(c: u8) -> bool {
	c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'+' | b' ' | b'(' | b')' | b':')
}

impl<T: Config> Pallet<T> {
	fn ensure_metadata_valid(metadata: &ModelMetadataOf<T>) -> DispatchResult {
		let readable = |s: &[u8]| !s.is_empty() && core::str::from_utf8(s).is_ok();
		ensure!(readable(&metadata.name) && readable(&metadata.version), Error::<T>::EmptyName);
		ensure!(
			!metadata.license.is_empty() && metadata.license.iter().all(|&c| is_spdx_char(c)),
			Error::<T>::InvalidLicense
		);
		Ok(())
	}

	fn ensure_architecture_allowed(
		architecture: &Architecture,
		params: &crate::RegistryParams<BalanceOf<T>>,
	) -> DispatchResult {
		match *architecture {
			Architecture::TextEmbedding { dimensions, tolerance } => {
				let max_dims = u32::try_from(MAX_EMBEDDING_DIMENSIONS).unwrap_or(u32::MAX);
				ensure!(dimensions > 0 && dimensions <= max_dims, Error::<T>::InvalidArchitecture);
				ensure!(
					tolerance.min_cosine >= params.min_cosine_floor
						&& tolerance.max_element_diff <= params.max_element_diff_cap,
					Error::<T>::ToleranceTooLoose
				);
			}
			Architecture::Classification { classes, tolerance } => {
				ensure!(classes > 0, Error::<T>::InvalidArchitecture);
				ensure!(
					tolerance.tie_margin <= params.max_tie_margin,
					Error::<T>::ToleranceTooLoose
				);
			}
			Architecture::Generation { max_tokens, tolerance } => {
				ensure!(
					max_tokens > 0
						&& max_tokens <= infera_primitives::canonical::MAX_GENERATION_TOKENS,
					Error::<T>::InvalidArchitecture
				);
				// Audit panels record near-ties up to MAX_NEAR_GAP: a wider τ could not be
				// checked, whatever governance allows.
				ensure!(
					tolerance.logit_margin <= params.max_logit_margin
						&& tolerance.logit_margin <= infera_primitives::canonical::MAX_NEAR_GAP,
					Error::<T>::ToleranceTooLoose
				);
			}
		}
		Ok(())
	}

	/// The deposit for storing `info`: base plus a price per encoded byte.
	pub fn deposit_for(info: &ModelInfoOf<T>) -> Result<BalanceOf<T>, DispatchError> {
		let params = Params::<T>::get();
		let bytes = u32::try_from(info.encoded_size()).map_err(|_| ArithmeticError::Overflow)?;
		params
			.deposit_per_byte
			.checked_mul(&BalanceOf::<T>::from(bytes))
			.and_then(|b| b.checked_add(&params.deposit_base))
			.ok_or_else(|| ArithmeticError::Overflow.into())
	}

	fn owned(who: &T::AccountId, model: ModelId) -> Result<ModelInfoOf<T>, DispatchError> {
		let info = Models::<T>::get(model).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(&info.owner == who, Error::<T>::NotOwner);
		Ok(info)
	}

	pub(crate) fn do_register(
		who: T::AccountId,
		files: crate::ModelFiles,
		architecture: Architecture,
		metadata: ModelMetadataOf<T>,
		parent: Option<ModelId>,
		royalty: Perbill,
	) -> Result<ModelId, DispatchError> {
		let params = Params::<T>::get();
		ensure!(files.weights_size > 0, Error::<T>::EmptyWeights);
		Self::ensure_metadata_valid(&metadata)?;
		Self::ensure_architecture_allowed(&architecture, &params)?;
		ensure!(royalty <= params.max_royalty, Error::<T>::RoyaltyTooHigh);
		ensure!(
			!ModelByWeights::<T>::contains_key(files.weights_hash),
			Error::<T>::WeightsAlreadyRegistered
		);
		let depth = match parent {
			Some(parent) => {
				let parent_info = Models::<T>::get(parent).ok_or(Error::<T>::ParentNotFound)?;
				let depth = parent_info.depth.checked_add(1).ok_or(Error::<T>::LineageTooDeep)?;
				ensure!(depth <= T::MaxLineageDepth::get(), Error::<T>::LineageTooDeep);
				depth
			}
			None => 0,
		};
		let model = NextModelId::<T>::get();
		let next = model.next().ok_or(Error::<T>::ModelIdsExhausted)?;
		let count = ModelCount::<T>::get().checked_add(1).ok_or(Error::<T>::ModelIdsExhausted)?;

		let mut info = ModelInfo {
			owner: who.clone(),
			depositor: who.clone(),
			deposit: Zero::zero(),
			files,
			architecture,
			metadata,
			parent,
			depth,
			children: 0,
			royalty,
			status: ModelStatus::Active,
			registered_at: frame_system::Pallet::<T>::block_number(),
		};
		let deposit = Self::deposit_for(&info)?;
		info.deposit = deposit;
		T::Currency::hold(&HoldReason::ModelDeposit.into(), &who, deposit)
			.map_err(|_| Error::<T>::InsufficientDeposit)?;

		if let Some(parent) = parent {
			Models::<T>::mutate(parent, |p| {
				if let Some(p) = p {
					p.children = p.children.saturating_add(1);
				}
			});
		}
		ModelByWeights::<T>::insert(files.weights_hash, model);
		ModelsByOwner::<T>::insert(&who, model, ());
		Models::<T>::insert(model, info);
		NextModelId::<T>::put(next);
		ModelCount::<T>::put(count);
		Self::deposit_event(Event::ModelRegistered {
			model,
			owner: who,
			weights_hash: files.weights_hash,
			parent,
			deposit,
		});
		Ok(model)
	}

	pub(crate) fn do_update_metadata(
		who: T::AccountId,
		model: ModelId,
		metadata: ModelMetadataOf<T>,
	) -> DispatchResult {
		let mut info = Self::owned(&who, model)?;
		Self::ensure_metadata_valid(&metadata)?;
		let old_deposit = info.deposit;
		let old_depositor = info.depositor.clone();
		info.metadata = metadata;
		let new_deposit = Self::deposit_for(&info)?;
		let reason = HoldReason::ModelDeposit.into();
		if old_depositor == who {
			if let Some(more) = new_deposit.checked_sub(&old_deposit).filter(|d| !d.is_zero()) {
				T::Currency::hold(&reason, &who, more)
					.map_err(|_| Error::<T>::InsufficientDeposit)?;
			} else if let Some(less) = old_deposit.checked_sub(&new_deposit) {
				T::Currency::release(&reason, &who, less, Precision::Exact)?;
			}
		} else {
			// The deposit moves to the owner who now shapes the entry.
			T::Currency::hold(&reason, &who, new_deposit)
				.map_err(|_| Error::<T>::InsufficientDeposit)?;
			T::Currency::release(&reason, &old_depositor, old_deposit, Precision::Exact)?;
			info.depositor = who;
		}
		info.deposit = new_deposit;
		Models::<T>::insert(model, info);
		Self::deposit_event(Event::MetadataUpdated { model, deposit: new_deposit });
		Ok(())
	}

	/// Deprecates `model`; `by` is the owner, or `None` for governance.
	pub(crate) fn do_deprecate(by: Option<T::AccountId>, model: ModelId) -> DispatchResult {
		let mut info = match &by {
			Some(who) => Self::owned(who, model)?,
			None => Models::<T>::get(model).ok_or(Error::<T>::ModelNotFound)?,
		};
		ensure!(info.status == ModelStatus::Active, Error::<T>::AlreadyDeprecated);
		let by_governance = by.is_none();
		info.status = ModelStatus::Deprecated { by_governance };
		Models::<T>::insert(model, info);
		Self::deposit_event(Event::ModelDeprecated { model, by_governance });
		Ok(())
	}

	pub(crate) fn do_transfer(
		who: T::AccountId,
		model: ModelId,
		new_owner: T::AccountId,
	) -> DispatchResult {
		let mut info = Self::owned(&who, model)?;
		ensure!(new_owner != who, Error::<T>::SameOwner);
		info.owner = new_owner.clone();
		ModelsByOwner::<T>::remove(&who, model);
		ModelsByOwner::<T>::insert(&new_owner, model, ());
		Models::<T>::insert(model, info);
		Self::deposit_event(Event::OwnershipTransferred { model, from: who, to: new_owner });
		Ok(())
	}

	pub(crate) fn do_remove(who: T::AccountId, model: ModelId) -> DispatchResult {
		let info = Self::owned(&who, model)?;
		ensure!(info.status != ModelStatus::Active, Error::<T>::NotDeprecated);
		ensure!(OpenJobs::<T>::get(model) == 0, Error::<T>::HasOpenJobs);
		ensure!(info.children == 0, Error::<T>::HasChildren);
		let count = ModelCount::<T>::get().checked_sub(1).ok_or(ArithmeticError::Underflow)?;
		T::Currency::release(
			&HoldReason::ModelDeposit.into(),
			&info.depositor,
			info.deposit,
			Precision::Exact,
		)?;
		if let Some(parent) = info.parent {
			Models::<T>::mutate(parent, |p| {
				if let Some(p) = p {
					p.children = p.children.saturating_sub(1);
				}
			});
		}
		ModelByWeights::<T>::remove(info.files.weights_hash);
		ModelsByOwner::<T>::remove(&info.owner, model);
		OpenJobs::<T>::remove(model);
		Models::<T>::remove(model);
		ModelCount::<T>::put(count);
		Self::deposit_event(Event::ModelRemoved {
			model,
			depositor: info.depositor,
			deposit: info.deposit,
		});
		Ok(())
	}

	pub(crate) fn do_set_params(params: crate::RegistryParams<BalanceOf<T>>) -> DispatchResult {
		// Free storage would invite spam; a zero floor on the cosine would accept any output.
		ensure!(
			!params.deposit_per_byte.is_zero() && !params.min_cosine_floor.is_zero(),
			Error::<T>::InvalidParams
		);
		Params::<T>::put(params);
		Self::deposit_event(Event::ParamsUpdated { params });
		Ok(())
	}

	/// The model with id `model`.
	pub fn model(model: ModelId) -> Option<ModelInfoOf<T>> {
		Models::<T>::get(model)
	}

	/// `model`'s ancestors, parent first, up to its root. Bounded by `MaxLineageDepth`.
	pub fn lineage(model: ModelId) -> Vec<ModelId> {
		let mut out = Vec::new();
		let mut next = Models::<T>::get(model).and_then(|m| m.parent);
		while let Some(id) = next {
			if out.len() > T::MaxLineageDepth::get() as usize {
				break;
			}
			out.push(id);
			next = Models::<T>::get(id).and_then(|m| m.parent);
		}
		out
	}

	/// Up to `limit` models of `owner`, continuing after `start_after` (a page cursor).
	pub fn models_by_owner(
		owner: &T::AccountId,
		start_after: Option<ModelId>,
		limit: u32,
	) -> Vec<ModelId> {
		let limit = limit.min(1_000) as usize;
		match start_after {
			Some(cursor) => ModelsByOwner::<T>::iter_key_prefix_from(
				owner,
				ModelsByOwner::<T>::hashed_key_for(owner, cursor),
			)
			.take(limit)
			.collect(),
			None => ModelsByOwner::<T>::iter_key_prefix(owner).take(limit).collect(),
		}
	}

	/// The registry's invariants.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let mut count: u32 = 0;
		let mut children: BTreeMap<ModelId, u32> = BTreeMap::new();
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let next = NextModelId::<T>::get();
		for (id, info) in Models::<T>::iter() {
			count = count.saturating_add(1);
			ensure!(id < next, "a model id is at or beyond NextModelId");
			ensure!(
				ModelByWeights::<T>::get(info.files.weights_hash) == Some(id),
				"weights index does not point back to the model"
			);
			ensure!(
				ModelsByOwner::<T>::contains_key(&info.owner, id),
				"owner index lacks the model"
			);
			match info.parent {
				Some(parent) => {
					let p = Models::<T>::get(parent).ok_or("parent of a model is missing")?;
					ensure!(p.depth.saturating_add(1) == info.depth, "depth is not parent's + 1");
					let c = children.entry(parent).or_default();
					*c = c.saturating_add(1);
				}
				None => ensure!(info.depth == 0, "a root model has a non-zero depth"),
			}
			let d = deposits.entry(info.depositor.clone()).or_insert_with(Zero::zero);
			*d = d.checked_add(&info.deposit).ok_or("deposit sum overflows")?;
		}
		ensure!(count == ModelCount::<T>::get(), "ModelCount does not match the models");
		ensure!(
			ModelByWeights::<T>::iter().count() == count as usize,
			"weights index has extra entries"
		);
		ensure!(
			ModelsByOwner::<T>::iter().count() == count as usize,
			"owner index has extra entries"
		);
		for (id, info) in Models::<T>::iter() {
			ensure!(
				children.get(&id).copied().unwrap_or(0) == info.children,
				"children count does not match the models naming this parent"
			);
		}
		let reason = HoldReason::ModelDeposit.into();
		for (who, recorded) in deposits {
			ensure!(
				T::Currency::balance_on_hold(&reason, &who) == recorded,
				"held deposit differs from the deposits recorded on the models"
			);
		}
		Ok(())
	}
}

impl<T: Config> infera_primitives::traits::ModelRegistry<T::AccountId> for Pallet<T> {
	fn is_active(model: ModelId) -> bool {
		Models::<T>::get(model).is_some_and(|m| m.status == ModelStatus::Active)
	}

	fn architecture(model: ModelId) -> Option<Architecture> {
		Models::<T>::get(model).map(|m| m.architecture)
	}

	fn royalty(model: ModelId) -> Option<(T::AccountId, Perbill)> {
		Models::<T>::get(model).map(|m| (m.owner, m.royalty))
	}

	fn provenance(model: ModelId) -> Option<([u8; 32], Option<[u8; 32]>)> {
		Models::<T>::get(model)
			.map(|m| (m.files.weights_hash.0, m.metadata.dataset_hash.map(|h| h.0)))
	}

	fn note_job_opened(model: ModelId) -> DispatchResult {
		let info = Models::<T>::get(model).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(info.status == ModelStatus::Active, Error::<T>::AlreadyDeprecated);
		OpenJobs::<T>::try_mutate(model, |n| {
			*n = n.checked_add(1).ok_or(ArithmeticError::Overflow)?;
			Ok(())
		})
	}

	fn note_job_closed(model: ModelId) {
		OpenJobs::<T>::mutate_exists(model, |n| {
			let open = n.unwrap_or(0);
			if open == 0 {
				frame_support::defensive!("a job closed on a model with no open jobs");
			}
			*n = open.checked_sub(1).filter(|left| *left > 0);
		});
	}
}
