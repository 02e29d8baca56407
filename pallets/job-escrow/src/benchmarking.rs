//! Benchmarks at the worst case of each call's bounds: selection over a full provider list,
//! the longest input, the largest embedding the output bound allows, a full auditor set and the
//! largest audit panel, and block hooks that reassign every job due in the block or replace
//! every silent checker of every audit due in it.

use super::*;
use crate::pallet::{Auditors, Jobs, Params, Queues};
use alloc::vec::Vec;
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use infera_primitives::{
	canonical::{CanonicalOutput, MAX_EMBEDDING_DIMENSIONS},
	traits::ModelRegistry as _,
	Architecture, JobId, ModelId,
};
use sp_core::H256;
use sp_runtime::{
	traits::{Bounded, Saturating},
	Perbill,
};

/// Most wake-ups a hook benchmark handles: the hook's visits cost the same each (one job, its
/// records), so the weights are linear and extrapolated to the hook's bounds
/// (`MaxWakeupsPerBlock`, `MaxWakeupWeight`).
const MEASURED_WAKEUPS: u32 = 128;

fn funded<T: Config>(name: &'static str, i: u32) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account(name, i, 0);
	let _ = T::Currency::set_balance(
		&who,
		Perbill::from_parts(100_000).mul_floor(BalanceOf::<T>::max_value()),
	);
	who
}

/// The largest embedding whose canonical encoding fits `MaxOutputLen`.
fn largest_dimensions<T: Config>() -> u32 {
	let fits = T::MaxOutputLen::get().saturating_sub(8) / 2;
	fits.min(MAX_EMBEDDING_DIMENSIONS as u32)
}

/// A model with the most providers the staking pallet allows.
fn crowded_model<T: Config>() -> ModelId
where
	T::Currency: Mutate<T::AccountId>,
{
	let model = T::BenchmarkHelper::model(largest_dimensions::<T>());
	add_providers::<T>(model, T::BenchmarkHelper::max_providers());
	model
}

fn add_providers<T: Config>(model: ModelId, count: u32)
where
	T::Currency: Mutate<T::AccountId>,
{
	for i in 0..count {
		let who = funded::<T>("provider", i);
		T::BenchmarkHelper::provider(&who, model);
	}
}

/// Adds auditors until there are `count`; with a model, each new one is bonded and declares it.
fn fill_auditors<T: Config>(count: u32, model: Option<ModelId>) -> Result<(), BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	let mut i = 0u32;
	while (Auditors::<T>::get().len() as u32) < count {
		let who = funded::<T>("auditor", i);
		if let Some(model) = model {
			T::BenchmarkHelper::checker(&who, model);
		}
		Pallet::<T>::do_add_auditor(who)?;
		i = i.saturating_add(1);
	}
	Ok(())
}

/// A model with one provider and as many auditors checking it as the auditor set and the
/// model's provider list hold, every job audited by the largest panel.
fn audited_model<T: Config>() -> Result<ModelId, BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	let model = T::BenchmarkHelper::model(largest_dimensions::<T>());
	add_providers::<T>(model, 1);
	Params::<T>::mutate(|p| {
		p.audit_rate = Perbill::one();
		p.committee_size = T::MaxCommittee::get();
	});
	let auditors = T::MaxAuditors::get().min(T::BenchmarkHelper::max_providers().saturating_sub(1));
	fill_auditors::<T>(auditors, Some(model))?;
	Ok(model)
}

fn checkers_of<T: Config>(id: JobId) -> Vec<T::AccountId> {
	Jobs::<T>::get(id)
		.map(|j| j.checkers.iter().map(|c| c.who.clone()).collect())
		.unwrap_or_default()
}

/// A canonical embedding of `model`'s dimensions; `skew` moves it far from the unskewed one.
fn output<T: Config>(model: ModelId, skew: bool) -> Vec<u8> {
	output_variant::<T>(model, skew, 0)
}

/// `output`, with its last element nudged by `variant`: different bytes (so no comparison can
/// short-cut on equal hashes) within any tolerance of the un-nudged one.
fn output_variant<T: Config>(model: ModelId, skew: bool, variant: u32) -> Vec<u8> {
	let dims = match T::ModelRegistry::architecture(model) {
		Some(Architecture::TextEmbedding { dimensions, .. }) => dimensions,
		_ => 1,
	};
	let nudge = i16::try_from(variant).unwrap_or(i16::MAX);
	let v: Vec<i16> = (0..dims)
		.map(|i| if skew && i % 2 == 0 { -300 } else { 300 })
		.enumerate()
		.map(
			|(i, x)| if (i as u32).saturating_add(1) == dims { x.saturating_add(nudge) } else { x },
		)
		.collect();
	CanonicalOutput::Embedding(v).encode()
}

fn submit<T: Config>(
	client: &T::AccountId,
	model: ModelId,
	len: u32,
) -> Result<JobId, BenchmarkError> {
	let price = Pallet::<T>::price_for(len)?;
	let deadline = Pallet::<T>::now().saturating_add(Params::<T>::get().max_deadline);
	let input = alloc::vec![b'a'; len as usize];
	Ok(Pallet::<T>::do_submit(client.clone(), model, input, price, deadline)?)
}

fn commit_as<T: Config>(id: JobId, who: &T::AccountId, out: &[u8]) -> Result<(), BenchmarkError> {
	let hash = H256(sp_io::hashing::blake2_256(out));
	let c = crate::commitment_of(id, who, &hash, &[1u8; 32]);
	Ok(Pallet::<T>::do_commit(who.clone(), id, c)?)
}

fn run_to<T: Config>(n: BlockNumberFor<T>) {
	while Pallet::<T>::now() < n {
		let next = Pallet::<T>::now().saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(next);
		Pallet::<T>::on_block(next);
	}
}

/// Runs every block's hook before `n`, then enters block `n` without running its hook: the
/// measured block.
fn stop_before<T: Config>(n: BlockNumberFor<T>) {
	run_to::<T>(n.saturating_sub(1u32.into()));
	frame_system::Pallet::<T>::set_block_number(n);
}

fn provider_of<T: Config>(id: JobId) -> Result<T::AccountId, BenchmarkError> {
	Jobs::<T>::get(id)
		.and_then(|j| j.provider)
		.map(|p| p.who)
		.ok_or(BenchmarkError::Stop("job has no provider"))
}

/// A model of the largest embedding, with no providers.
fn largest_model<T: Config>() -> ModelId {
	T::BenchmarkHelper::model(largest_dimensions::<T>())
}

/// `n` jobs, each of its own client, committed with the right output: each on a model of its
/// own with its own provider, or (`shared`) all on one model served by one provider. Returns
/// each job, its model and its provider.
fn committed_jobs<T: Config>(
	n: u32,
	shared: bool,
) -> Result<Vec<(JobId, ModelId, T::AccountId)>, BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	let mut jobs = Vec::new();
	let mut model = None;
	for k in 0..n {
		let model = match model {
			Some(m) if shared => m,
			_ => {
				let m = largest_model::<T>();
				T::BenchmarkHelper::provider(&funded::<T>("life-provider", k), m);
				model = Some(m);
				m
			}
		};
		let id = submit::<T>(&funded::<T>("life-client", k), model, 16)?;
		let provider = provider_of::<T>(id)?;
		commit_as::<T>(id, &provider, &output::<T>(model, false))?;
		jobs.push((id, model, provider));
	}
	Ok(jobs)
}

/// `n` unaudited jobs revealed and verified (see `committed_jobs`); returns them and the
/// block they are paid in. Retention is short, so later phases are near.
fn verified_jobs<T: Config>(
	n: u32,
	shared: bool,
) -> Result<(Vec<JobId>, BlockNumberFor<T>), BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	Params::<T>::mutate(|p| {
		p.audit_rate = Perbill::zero();
		p.retention = 2u32.into();
		p.receipt_retention = 5u32.into();
	});
	let jobs = committed_jobs::<T>(n, shared)?;
	let decide = Pallet::<T>::now().saturating_add(crate::AUDIT_DECISION_DELAY.into());
	run_to::<T>(decide);
	for (id, model, provider) in jobs.iter() {
		Pallet::<T>::do_reveal(provider.clone(), *id, output::<T>(*model, false), [1u8; 32])?;
	}
	let pay = decide.saturating_add(Params::<T>::get().challenge_window);
	Ok((jobs.into_iter().map(|(id, _, _)| id).collect(), pay))
}

/// `n` settled jobs (see `verified_jobs`), waiting to be pruned.
fn settled_jobs<T: Config>(n: u32) -> Result<Vec<JobId>, BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	let (jobs, pay) = verified_jobs::<T>(n, false)?;
	run_to::<T>(pay);
	Ok(jobs)
}

/// The block the jobs wake at next (all the same); the next block when there are none.
fn wake_of<T: Config>(jobs: &[JobId]) -> Result<BlockNumberFor<T>, BenchmarkError> {
	match jobs.first() {
		Some(id) => Jobs::<T>::get(id).map(|j| j.wake_at).ok_or(BenchmarkError::Weightless),
		None => Ok(Pallet::<T>::now().saturating_add(1u32.into())),
	}
}

/// A job of `model` (see `audited_model`) audited by the largest panel, in the current block:
/// the provider committed and revealed a wrong output, the first `quorum` checkers a right one
/// (contradicting it) and the others the provider's; every output differs in its bytes, so
/// each comparison decodes and compares in full. The last checker has not revealed yet:
/// returns the job, that checker and its output. `k` numbers the job among others.
fn audit_to_judge<T: Config>(
	model: ModelId,
	k: u32,
) -> Result<(JobId, T::AccountId, Vec<u8>), BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	let client = funded::<T>("client", k);
	let id = submit::<T>(&client, model, 16)?;
	let provider = provider_of::<T>(id)?;
	let wrong = output::<T>(model, true);
	commit_as::<T>(id, &provider, &wrong)?;
	let decide = Jobs::<T>::get(id).map(|j| j.wake_at).ok_or(BenchmarkError::Weightless)?;
	run_to::<T>(decide);
	let panel = checkers_of::<T>(id);
	if panel.len() as u32 != T::MaxCommittee::get() {
		return Err(BenchmarkError::Stop("the panel is not full"));
	}
	let quorum = Pallet::<T>::quorum() as usize;
	let out = |i: usize| output_variant::<T>(model, i >= quorum, (i as u32).saturating_add(1));
	for (i, c) in panel.iter().enumerate() {
		commit_as::<T>(id, c, &out(i))?;
	}
	Pallet::<T>::do_reveal(provider, id, wrong, [1u8; 32])?;
	let (last, rest) = panel.split_last().ok_or(BenchmarkError::Weightless)?;
	for (i, c) in rest.iter().enumerate() {
		Pallet::<T>::do_reveal(c.clone(), id, out(i), [1u8; 32])?;
	}
	Ok((id, last.clone(), out(panel.len().saturating_sub(1))))
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	/// Selection over a full provider list, with `n` input bytes.
	#[benchmark]
	fn submit_job(n: Linear<1, { T::MaxInputLen::get() }>) -> Result<(), BenchmarkError> {
		let model = crowded_model::<T>();
		let client = funded::<T>("client", 0);
		let price = Pallet::<T>::price_for(n)?;
		let deadline = Pallet::<T>::now().saturating_add(Params::<T>::get().max_deadline);
		let id = crate::NextJobId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(client), model, alloc::vec![b'a'; n as usize], price, deadline);

		let status = Jobs::<T>::get(id).map(|j| j.status);
		assert_eq!(status, Some(JobStatus::Assigned));
		Ok(())
	}

	/// `n` jobs of `l`-byte inputs in one call, each assigned by a selection over a full
	/// provider list.
	#[benchmark]
	fn submit_jobs(
		n: Linear<1, { T::MaxJobsPerCall::get() }>,
		l: Linear<1, { T::MaxInputLen::get() }>,
	) -> Result<(), BenchmarkError> {
		let model = crowded_model::<T>();
		let client = funded::<T>("client", 0);
		let price = Pallet::<T>::price_for(l)?;
		let deadline = Pallet::<T>::now().saturating_add(Params::<T>::get().max_deadline);
		let first = crate::NextJobId::<T>::get();
		let inputs: Vec<Vec<u8>> = (0..n).map(|_| alloc::vec![b'a'; l as usize]).collect();

		#[extrinsic_call]
		_(RawOrigin::Signed(client), model, inputs, price, deadline);

		let mut id = first;
		for _ in 0..n {
			assert_eq!(Jobs::<T>::get(id).map(|j| j.status), Some(JobStatus::Assigned));
			id = id.next().ok_or(BenchmarkError::Stop("job ids"))?;
		}
		Ok(())
	}

	#[benchmark]
	fn commit_result() -> Result<(), BenchmarkError> {
		let model = crowded_model::<T>();
		let client = funded::<T>("client", 0);
		let id = submit::<T>(&client, model, 16)?;
		let provider = provider_of::<T>(id)?;
		let out = output::<T>(model, false);
		let c = crate::commitment_of(
			id,
			&provider,
			&H256(sp_io::hashing::blake2_256(&out)),
			&[1u8; 32],
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(provider), id, c);

		assert_eq!(Jobs::<T>::get(id).map(|j| j.status), Some(JobStatus::Committed));
		Ok(())
	}

	/// The reveal that completes the largest audit panel on the largest embedding: stored, and
	/// the judgement left to the next block's hook (`on_initialize_judge`).
	#[benchmark]
	fn reveal_result() -> Result<(), BenchmarkError> {
		let model = audited_model::<T>()?;
		let (id, last, last_out) = audit_to_judge::<T>(model, 0)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(last), id, last_out, [1u8; 32]);

		let job = Jobs::<T>::get(id).ok_or(BenchmarkError::Weightless)?;
		assert_eq!(job.status, JobStatus::Revealing { audited: true });
		assert_eq!(job.wake_at, Pallet::<T>::now().saturating_add(1u32.into()));
		Ok(())
	}

	/// `n` audits judged in the same block, each by the largest panel on the largest
	/// embedding: every output is decoded and compared with the provider's, a majority
	/// contradicts it, and the provider and every checker that vouched for it are slashed.
	/// The setup grows with `n` full panels, so `n` runs to 16 and the (linear) weight is
	/// extrapolated to the hook's bound.
	#[benchmark]
	fn on_initialize_judge(
		n: Linear<0, { T::MaxWakeupsPerBlock::get().min(16) }>,
	) -> Result<(), BenchmarkError> {
		let model = audited_model::<T>()?;
		let mut ids = Vec::new();
		for k in 0..n {
			let (id, last, last_out) = audit_to_judge::<T>(model, k)?;
			Pallet::<T>::do_reveal(last, id, last_out, [1u8; 32])?;
			ids.push(id);
		}
		let judge = Pallet::<T>::now().saturating_add(1u32.into());
		stop_before::<T>(judge);

		#[block]
		{
			Pallet::<T>::on_block(judge);
		}

		for id in ids {
			let status = Jobs::<T>::get(id).map(|j| j.status);
			assert_eq!(status, Some(JobStatus::Refunded { reason: RefundReason::Fraud }));
		}
		Ok(())
	}

	/// The provider's reveal of an unaudited job with the largest embedding: decoded, stored,
	/// and the job verified. What every reveal that judges nothing costs.
	#[benchmark]
	fn reveal_result_unaudited() -> Result<(), BenchmarkError> {
		let model = T::BenchmarkHelper::model(largest_dimensions::<T>());
		add_providers::<T>(model, 1);
		Params::<T>::mutate(|p| p.audit_rate = Perbill::zero());
		let client = funded::<T>("client", 0);
		let id = submit::<T>(&client, model, 16)?;
		let provider = provider_of::<T>(id)?;
		let out = output::<T>(model, false);
		commit_as::<T>(id, &provider, &out)?;
		let decide = Jobs::<T>::get(id).map(|j| j.wake_at).ok_or(BenchmarkError::Weightless)?;
		run_to::<T>(decide);

		#[extrinsic_call]
		reveal_result(RawOrigin::Signed(provider), id, out, [1u8; 32]);

		assert_eq!(Jobs::<T>::get(id).map(|j| j.status), Some(JobStatus::Verified));
		Ok(())
	}

	/// A client demands an audit of its verified job: the largest panel is drawn over a full
	/// auditor set and locks its stake.
	#[benchmark]
	fn challenge_job() -> Result<(), BenchmarkError> {
		let model = audited_model::<T>()?;
		Params::<T>::mutate(|p| p.audit_rate = Perbill::zero());
		let client = funded::<T>("client", 0);
		let id = submit::<T>(&client, model, 16)?;
		let provider = provider_of::<T>(id)?;
		let out = output::<T>(model, false);
		commit_as::<T>(id, &provider, &out)?;
		let decide = Jobs::<T>::get(id).map(|j| j.wake_at).ok_or(BenchmarkError::Weightless)?;
		run_to::<T>(decide);
		Pallet::<T>::do_reveal(provider, id, out, [1u8; 32])?;

		#[extrinsic_call]
		_(RawOrigin::Signed(client), id);

		let job = Jobs::<T>::get(id).ok_or(BenchmarkError::Weightless)?;
		assert_eq!(job.status, JobStatus::Auditing);
		assert_eq!(job.checkers.len() as u32, T::MaxCommittee::get());
		Ok(())
	}

	/// A queued job (its model has no provider) cancelled from a full queue.
	#[benchmark]
	fn cancel_job() -> Result<(), BenchmarkError> {
		let model = T::BenchmarkHelper::model(largest_dimensions::<T>());
		let client = funded::<T>("client", 0);
		for _ in 1..T::MaxQueued::get() {
			submit::<T>(&client, model, 16)?;
		}
		let id = submit::<T>(&client, model, T::MaxInputLen::get())?;

		#[extrinsic_call]
		_(RawOrigin::Signed(client), id);

		let status = Jobs::<T>::get(id).map(|j| j.status);
		assert_eq!(status, Some(JobStatus::Refunded { reason: RefundReason::Cancelled }));
		Ok(())
	}

	/// The largest probe-model list, each model checked.
	#[benchmark]
	fn set_probe_models(n: Linear<0, 16>) -> Result<(), BenchmarkError> {
		let origin =
			T::ParamsOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let mut models: Vec<ModelId> =
			(0..n).map(|_| T::BenchmarkHelper::model(largest_dimensions::<T>())).collect();
		// Each is a new model on a real runtime; a mock may hand out the same one.
		models.sort();
		models.dedup();
		let models = crate::ProbeModelsList::truncate_from(models);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, models.clone());

		assert_eq!(crate::ProbeModels::<T>::get(), models);
		Ok(())
	}

	/// A block that issues a probe: the sentence, and a selection over a full provider list.
	#[benchmark]
	fn on_initialize_probe() -> Result<(), BenchmarkError> {
		let model = crowded_model::<T>();
		crate::ProbeModels::<T>::put(crate::ProbeModelsList::truncate_from(alloc::vec![model]));
		let now = Pallet::<T>::now();
		Params::<T>::mutate(|p| p.probe_interval = 1u32.into());
		let next = now.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(next);
		let id = crate::NextJobId::<T>::get();

		#[block]
		{
			Pallet::<T>::on_block(next);
		}

		let job = Jobs::<T>::get(id).ok_or(BenchmarkError::Stop("no probe issued"))?;
		assert!(job.probe && job.status == JobStatus::Assigned);
		Ok(())
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin =
			T::ParamsOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let mut params = Params::<T>::get();
		params.audit_rate = Perbill::from_percent(10);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(Params::<T>::get(), params);
		Ok(())
	}

	#[benchmark]
	fn add_auditor() -> Result<(), BenchmarkError> {
		fill_auditors::<T>(T::MaxAuditors::get().saturating_sub(1), None)?;
		let origin =
			T::AuditorOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let who: T::AccountId = account("new-auditor", 0, 0);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(Auditors::<T>::get().contains(&who));
		Ok(())
	}

	#[benchmark]
	fn remove_auditor() -> Result<(), BenchmarkError> {
		fill_auditors::<T>(T::MaxAuditors::get(), None)?;
		let origin =
			T::AuditorOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let first = Auditors::<T>::get().first().cloned().ok_or(BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, first.clone());

		assert!(!Auditors::<T>::get().contains(&first));
		Ok(())
	}

	/// `n` jobs whose providers all miss the commit window in the same block: each is
	/// penalised and its job reassigned by a selection over a full provider list. Each job is on
	/// a model of its own with its own full list of providers, so no selection reads a record
	/// another one read (the worst case: one model per job). The setup grows with `n × 64`
	/// providers, so `n` runs to 16 and the (linear) weight is extrapolated to the hook's bound.
	#[benchmark]
	fn on_initialize_wakeups(
		n: Linear<0, { T::MaxWakeupsPerBlock::get().min(16) }>,
	) -> Result<(), BenchmarkError> {
		let client = funded::<T>("client", 0);
		let mut ids: Vec<JobId> = Vec::new();
		for k in 0..n {
			let model = T::BenchmarkHelper::model(largest_dimensions::<T>());
			for i in 0..T::BenchmarkHelper::max_providers() {
				let who = funded::<T>("wake-provider", k.saturating_mul(1_000).saturating_add(i));
				T::BenchmarkHelper::provider(&who, model);
			}
			ids.push(submit::<T>(&client, model, 16)?);
		}
		let wake = Pallet::<T>::now().saturating_add(Params::<T>::get().commit_window);
		frame_system::Pallet::<T>::set_block_number(wake);

		#[block]
		{
			Pallet::<T>::on_block(wake);
		}

		for id in ids {
			let retried = Jobs::<T>::get(id).map(|j| j.no_shows.len());
			assert_eq!(retried, Some(1));
		}
		Ok(())
	}

	/// `n` audits whose whole (largest) panel stays silent in the same block: every checker is
	/// unlocked, slashed and marked, and a new panel is drawn over a full auditor set.
	#[benchmark]
	fn on_initialize_audits(
		n: Linear<0, { T::MaxWakeupsPerBlock::get().min(MEASURED_WAKEUPS) }>,
	) -> Result<(), BenchmarkError> {
		let model = audited_model::<T>()?;
		let client = funded::<T>("client", 0);
		let ids: Vec<JobId> =
			(0..n).map(|_| submit::<T>(&client, model, 16)).collect::<Result<_, _>>()?;
		let right = output::<T>(model, false);
		for id in ids.iter() {
			commit_as::<T>(*id, &provider_of::<T>(*id)?, &right)?;
		}
		let decide = Pallet::<T>::now().saturating_add(crate::AUDIT_DECISION_DELAY.into());
		run_to::<T>(decide);
		let wake = decide.saturating_add(Params::<T>::get().commit_window);
		// The wake-ups the commits left behind at the end of the providers' window are handled
		// before the measured block.
		stop_before::<T>(wake);

		#[block]
		{
			Pallet::<T>::on_block(wake);
		}

		for id in ids {
			let job = Jobs::<T>::get(id).ok_or(BenchmarkError::Weightless)?;
			assert!(job.replaced && job.silent.len() as u32 == T::MaxCommittee::get());
		}
		Ok(())
	}

	/// `n` committed jobs for which no audit is drawn in the same block, each on a model of its
	/// own with its own provider: the decision is taken and the reveals open. What a job's
	/// audit decision costs 95 % of the time.
	#[benchmark]
	fn on_initialize_decide(
		n: Linear<0, { T::MaxWakeupsPerBlock::get().min(MEASURED_WAKEUPS) }>,
	) -> Result<(), BenchmarkError> {
		Params::<T>::mutate(|p| p.audit_rate = Perbill::zero());
		let jobs = committed_jobs::<T>(n, false)?;
		let decide = Pallet::<T>::now().saturating_add(crate::AUDIT_DECISION_DELAY.into());
		frame_system::Pallet::<T>::set_block_number(decide);

		#[block]
		{
			Pallet::<T>::on_block(decide);
		}

		for (id, _, _) in jobs {
			let status = Jobs::<T>::get(id).map(|j| j.status);
			assert_eq!(status, Some(JobStatus::Revealing { audited: false }));
		}
		Ok(())
	}

	/// `n` verified jobs paid in the same block, each of its own client, on a model of its own
	/// (its own owner and provider): royalty, protocol cut and provider share moved out of each
	/// escrow, the rest released, the stake unlocked, the receipt written.
	#[benchmark]
	fn on_initialize_settle(
		n: Linear<0, { T::MaxWakeupsPerBlock::get().min(MEASURED_WAKEUPS) }>,
	) -> Result<(), BenchmarkError> {
		let (jobs, pay) = verified_jobs::<T>(n, false)?;
		stop_before::<T>(pay);

		#[block]
		{
			Pallet::<T>::on_block(pay);
		}

		for id in jobs {
			assert_eq!(Jobs::<T>::get(id).map(|j| j.status), Some(JobStatus::Settled));
		}
		Ok(())
	}

	/// `n` verified jobs paid in the same block, each of its own client, all on one model
	/// served by one provider: what each payment after the block's first costs when its
	/// provider's and model owner's records were already touched (written once, at the end).
	#[benchmark]
	fn on_initialize_settle_shared(
		n: Linear<0, { T::MaxWakeupsPerBlock::get().min(MEASURED_WAKEUPS) }>,
	) -> Result<(), BenchmarkError> {
		let (jobs, pay) = verified_jobs::<T>(n, true)?;
		stop_before::<T>(pay);

		#[block]
		{
			Pallet::<T>::on_block(pay);
		}

		for id in jobs {
			assert_eq!(Jobs::<T>::get(id).map(|j| j.status), Some(JobStatus::Settled));
		}
		Ok(())
	}

	/// `n` finished jobs removed in the same block, each as most jobs end: the provider's
	/// output and no party that failed it.
	#[benchmark]
	fn on_initialize_prune(
		n: Linear<0, { T::MaxWakeupsPerBlock::get().min(MEASURED_WAKEUPS) }>,
	) -> Result<(), BenchmarkError> {
		let jobs = settled_jobs::<T>(n)?;
		let at = wake_of::<T>(&jobs)?;
		stop_before::<T>(at);

		#[block]
		{
			Pallet::<T>::on_block(at);
		}

		for id in jobs {
			assert!(Jobs::<T>::get(id).is_none());
			assert!(crate::pallet::Receipts::<T>::contains_key(id));
		}
		Ok(())
	}

	/// `n` finished jobs removed in the same block, each at its largest: the outputs of a
	/// provider and a full panel, and a full list of providers that failed it (whose index
	/// entries go with it).
	#[benchmark]
	fn on_initialize_prune_full(
		n: Linear<0, { T::MaxWakeupsPerBlock::get().min(MEASURED_WAKEUPS) }>,
	) -> Result<(), BenchmarkError> {
		let jobs = settled_jobs::<T>(n)?;
		let bytes = output::<T>(largest_model::<T>(), false);
		let out: BoundedVec<u8, T::MaxOutputLen> =
			bytes.try_into().map_err(|_| BenchmarkError::Stop("output too long"))?;
		for (k, id) in jobs.iter().enumerate() {
			let key = crate::JobKey::from(*id);
			let mut failed = Vec::new();
			for i in 0..T::MaxAttempts::get() {
				let who: T::AccountId =
					account("no-show", (k as u32).saturating_mul(1_000).saturating_add(i), 0);
				crate::pallet::JobsByProvider::<T>::insert(&who, key, ());
				failed.push(who);
			}
			let mut panel = Vec::new();
			for i in 0..T::MaxCommittee::get() {
				let who: T::AccountId =
					account("checker", (k as u32).saturating_mul(1_000).saturating_add(i), 0);
				crate::pallet::Outputs::<T>::insert(id, &who, out.clone());
				panel.push(crate::Party {
					who,
					commitment: Some(H256::zero()),
					output_hash: Some(H256::zero()),
				});
			}
			Jobs::<T>::mutate(id, |j| {
				if let Some(j) = j {
					j.no_shows = BoundedVec::truncate_from(failed);
					j.checkers = BoundedVec::truncate_from(panel);
				}
			});
		}
		let at = wake_of::<T>(&jobs)?;
		stop_before::<T>(at);

		#[block]
		{
			Pallet::<T>::on_block(at);
		}

		for id in jobs {
			assert!(Jobs::<T>::get(id).is_none());
			assert_eq!(crate::pallet::Outputs::<T>::iter_prefix(id).count(), 0);
		}
		Ok(())
	}

	/// `n` expired receipts removed in the same block with their client's and provider's
	/// index entries.
	#[benchmark]
	fn on_initialize_expire(
		n: Linear<0, { T::MaxWakeupsPerBlock::get().min(MEASURED_WAKEUPS) }>,
	) -> Result<(), BenchmarkError> {
		let jobs = settled_jobs::<T>(n)?;
		let prune = wake_of::<T>(&jobs)?;
		run_to::<T>(prune);
		let expire = Params::<T>::get().receipt_retention.saturating_add(prune);
		let expire = expire.saturating_sub(Params::<T>::get().retention);
		stop_before::<T>(expire);

		#[block]
		{
			Pallet::<T>::on_block(expire);
		}

		for id in jobs {
			assert!(!crate::pallet::Receipts::<T>::contains_key(id));
		}
		Ok(())
	}

	/// `n` queued jobs, each in the queue of its own model (a queue read and written per
	/// model), that find a provider in the block, each by a selection over a full provider
	/// list.
	#[benchmark]
	fn on_initialize_assign(
		n: Linear<0, { T::AssignPerBlock::get() }>,
	) -> Result<(), BenchmarkError> {
		let client = funded::<T>("client", 0);
		let models: Vec<ModelId> =
			(0..n).map(|_| T::BenchmarkHelper::model(largest_dimensions::<T>())).collect();
		let ids: Vec<JobId> =
			models.iter().map(|m| submit::<T>(&client, *m, 16)).collect::<Result<_, _>>()?;
		for (k, model) in models.iter().enumerate() {
			for i in 0..T::BenchmarkHelper::max_providers() {
				let who = funded::<T>(
					"queue-provider",
					(k as u32).saturating_mul(1_000).saturating_add(i),
				);
				T::BenchmarkHelper::provider(&who, *model);
			}
		}
		let next = Pallet::<T>::now().saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(next);

		#[block]
		{
			Pallet::<T>::on_block(next);
		}

		assert_eq!(Queues::<T>::iter_keys().count(), 0);
		for id in ids {
			assert_eq!(Jobs::<T>::get(id).map(|j| j.status), Some(JobStatus::Assigned));
		}
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
