//! Structured random inputs: sequences of plausible calls with hostile parameters, encoded in the
//! byte form the harness reads. Random bytes alone rarely decode to a call that gets far; these
//! seed libFuzzer's corpus and are the replay test's "few thousand seeded random inputs". Every
//! choice comes from a seed, so an input is reproduced from its seed alone.
#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)] // reason: a test tool

use crate::{accounts, encode_ops, Op};
use frame_support::BoundedVec;
use infera_primitives::{
	Accelerator, Architecture, ClassificationTolerance, EmbeddingTolerance, GenerationTolerance,
	HardwareProfile, JobId, ModelId,
};
use infera_runtime::{Balance, RuntimeCall, UNITS};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{MultiAddress, Perbill};

/// A small, fast, seeded generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
	pub fn new(seed: u64) -> Self {
		Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
	}
	pub fn next_u64(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}
	/// Uniform in `0..n` (`n > 0`).
	pub fn below(&mut self, n: u64) -> u64 {
		self.next_u64() % n.max(1)
	}
	pub fn chance(&mut self, percent: u64) -> bool {
		self.below(100) < percent
	}
	pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
		items[self.below(items.len() as u64) as usize].clone()
	}
}

/// What the generator knows of the chain it writes for (an estimate: it cannot see the state).
struct Plan {
	rng: Rng,
	block: u32,
	jobs: u64,
	models: u32,
}

/// One input of up to `max_ops` operations from `seed`.
pub fn input(seed: u64, max_ops: usize) -> Vec<u8> {
	encode_ops(&ops(seed, max_ops))
}

/// The operations of [`input`].
pub fn ops(seed: u64, max_ops: usize) -> Vec<Op> {
	let mut p = Plan { rng: Rng::new(seed), block: 1, jobs: 0, models: 1 };
	let n = 1 + p.rng.below(max_ops as u64) as usize;
	let mut ops = Vec::with_capacity(n);
	while ops.len() < n {
		match p.rng.below(10) {
			// Mostly a block or two, so the workers act inside their windows; sometimes a jump.
			0..=2 => {
				let b = if p.rng.chance(75) {
					p.rng.below(2)
				} else if p.rng.chance(4) {
					255 // a long jump (costly: rare here; the fuzzer chains them where they pay)
				} else {
					p.rng.below(256)
				} as u8;
				p.block += crate::blocks_of(b);
				ops.push(Op::Blocks(b));
			}
			// Half the time every party is honest.
			3 | 4 => {
				let b = if p.rng.chance(50) { 0 } else { p.rng.below(256) as u8 };
				ops.push(Op::Workers(b));
			}
			_ => {
				let (origin, call) = p.call(0);
				ops.push(Op::Call { origin, call });
			}
		}
	}
	ops
}

fn account(k: Sr25519Keyring) -> sp_runtime::AccountId32 {
	k.to_account_id()
}

impl Plan {
	fn who(&mut self) -> Sr25519Keyring {
		let all = accounts();
		self.rng.pick(&all)
	}

	fn origin_of(k: Sr25519Keyring) -> u8 {
		accounts().iter().position(|a| *a == k).unwrap_or(0) as u8
	}

	fn amount(&mut self) -> Balance {
		match self.rng.below(8) {
			0 => 0,
			1 => 1,
			2 => infera_runtime::EXISTENTIAL_DEPOSIT,
			3 => UNITS / 100,
			4 => 100 * UNITS,
			5 => 1_000 * UNITS,
			6 => 2_000_000 * UNITS,
			_ => u128::from(self.rng.next_u64()) * u128::from(self.rng.below(UNITS as u64)),
		}
	}

	fn job(&mut self) -> JobId {
		JobId(self.rng.below(self.jobs + 2))
	}

	fn model(&mut self) -> ModelId {
		if self.rng.chance(70) {
			ModelId(0)
		} else {
			ModelId(self.rng.below(u64::from(self.models) + 1))
		}
	}

	fn input_bytes(&mut self) -> Vec<u8> {
		const WORDS: &[&str] = &["infera", "verified", "compute", "the", "model", "🦀", "жаба"];
		match self.rng.below(20) {
			0 => Vec::new(),
			// Not UTF-8.
			1 => vec![0xff, 0xfe, 0x80, self.rng.below(256) as u8],
			// Over the runtime's 2,048-byte bound.
			2 => vec![b'a'; 2_049],
			_ => {
				let n = 1 + self.rng.below(12);
				let words: Vec<&str> = (0..n).map(|_| self.rng.pick(WORDS)).collect();
				words.join(" ").into_bytes()
			}
		}
	}

	fn architecture(&mut self) -> Architecture {
		match self.rng.below(4) {
			0 => Architecture::Classification {
				classes: self.rng.below(5) as u32,
				tolerance: ClassificationTolerance { tie_margin: self.rng.below(1 << 17) as u32 },
			},
			1 => Architecture::Generation {
				max_tokens: self.rng.below(40) as u32,
				tolerance: GenerationTolerance { logit_margin: self.rng.below(1 << 18) as u32 },
			},
			_ => Architecture::TextEmbedding {
				dimensions: self.rng.pick(&[0, 1, 384, 70_000]),
				tolerance: EmbeddingTolerance {
					min_cosine: Perbill::from_percent(self.rng.pick(&[0, 99, 100])),
					max_element_diff: self.rng.pick(&[0, 64, 4_096]),
				},
			},
		}
	}

	/// A call and who signs it. `depth` bounds nesting through batches, proxies and sudo.
	fn call(&mut self, depth: u32) -> (u8, RuntimeCall) {
		use pallet_compute_staking::Call as Cs;
		use pallet_job_escrow::Call as Je;
		use pallet_model_registry::Call as Mr;
		let who = self.who();
		let origin = Self::origin_of(who);
		let nested = depth < 2;
		// Budgets and many-input submissions: their own draw, so the rest keeps its mix.
		if self.rng.chance(12) {
			return (origin, self.budgets_call());
		}
		let call: RuntimeCall = match self.rng.below(if nested { 30 } else { 26 }) {
			0..=5 => {
				self.jobs += 1;
				let deadline = self.block + self.rng.pick(&[0, 3, 12, 60, 100, 200, 400, 20_000]);
				let max_fee = if self.rng.chance(80) { UNITS } else { self.amount() };
				Je::submit_job { model: self.model(), input: self.input_bytes(), max_fee, deadline }
					.into()
			}
			6 => Je::cancel_job { job: self.job() }.into(),
			7 => Je::challenge_job { job: self.job() }.into(),
			8 => Je::commit_result { job: self.job(), commitment: Default::default() }.into(),
			9 => Cs::register_provider {
				hardware: HardwareProfile {
					accelerator: self.rng.pick(&[Accelerator::Cpu, Accelerator::Cuda]),
					cpu_cores: self.rng.below(64) as u16,
					memory_mib: self.rng.below(1 << 20) as u32,
					accelerator_memory_mib: self.rng.below(1 << 17) as u32,
				},
			}
			.into(),
			10 => Cs::bond { value: self.amount() }.into(),
			11 => Cs::bond_extra { value: self.amount() }.into(),
			12 => {
				let n = self.rng.below(4);
				let models: Vec<ModelId> = (0..n).map(|_| self.model()).collect();
				Cs::set_models { models: BoundedVec::truncate_from(models) }.into()
			}
			13 => Cs::unbond { value: self.amount() }.into(),
			14 => self.rng.pick(&[
				Cs::withdraw_unbonded {}.into(),
				Cs::chill {}.into(),
				Cs::unchill {}.into(),
				Cs::deregister {}.into(),
			]),
			15 => {
				self.models += 1;
				Mr::register_model {
					files: pallet_model_registry::ModelFiles {
						weights_hash: sp_core::H256::repeat_byte(self.rng.below(4) as u8),
						weights_size: self.rng.next_u64(),
						config_hash: Default::default(),
						tokenizer_hash: Default::default(),
					},
					architecture: self.architecture(),
					metadata: pallet_model_registry::ModelMetadata {
						name: BoundedVec::truncate_from(b"fuzz".to_vec()),
						version: BoundedVec::truncate_from(b"1".to_vec()),
						license: BoundedVec::truncate_from(b"MIT".to_vec()),
						dataset_hash: None,
					},
					parent: if self.rng.chance(30) { Some(self.model()) } else { None },
					royalty: Perbill::from_percent(self.rng.below(101) as u32),
				}
				.into()
			}
			16 => {
				let (model, new_owner) = (self.model(), account(self.who()));
				self.rng.pick(&[
					Mr::deprecate_model { model }.into(),
					Mr::remove_model { model }.into(),
					Mr::transfer_ownership { model, new_owner }.into(),
				])
			}
			17 => pallet_rewards::Call::claim {}.into(),
			18 | 19 => {
				use pallet_balances::Call as B;
				let dest = MultiAddress::Id(account(self.who()));
				let value = self.amount();
				let keep_alive = self.rng.chance(50);
				self.rng.pick(&[
					B::transfer_allow_death { dest: dest.clone(), value }.into(),
					B::transfer_keep_alive { dest: dest.clone(), value }.into(),
					B::transfer_all { dest, keep_alive }.into(),
					B::burn { value, keep_alive }.into(),
				])
			}
			20..=22 => return (Self::origin_of(Sr25519Keyring::Alice), self.sudo(depth)),
			23 => pallet_proxy::Call::add_proxy {
				delegate: MultiAddress::Id(account(self.who())),
				proxy_type: infera_runtime::configs::ProxyType::Any,
				delay: 0,
			}
			.into(),
			24 => {
				frame_system::Call::remark { remark: vec![0; self.rng.below(64) as usize] }.into()
			}
			25 => {
				Je::reveal_result { job: self.job(), output: vec![1, 2, 3], salt: [0; 32] }.into()
			}
			// Nesting (only at the top levels).
			26 | 27 => {
				let n = 1 + self.rng.below(3);
				let calls = (0..n).map(|_| self.call(depth + 1).1).collect();
				use pallet_utility::Call as U;
				match self.rng.below(3) {
					0 => U::batch { calls }.into(),
					1 => U::batch_all { calls }.into(),
					_ => U::force_batch { calls }.into(),
				}
			}
			28 => pallet_proxy::Call::proxy {
				real: MultiAddress::Id(account(self.who())),
				force_proxy_type: None,
				call: Box::new(self.call(depth + 1).1),
			}
			.into(),
			_ => return (origin, self.sudo(depth)),
		};
		(origin, call)
	}

	/// A call of pallet-budgets (a payer funding, withdrawing, authorising or revoking; a delegate
	/// submitting for a payer) or a many-input `submit_jobs` of the job escrow.
	fn budgets_call(&mut self) -> RuntimeCall {
		use pallet_budgets::{Call as Bu, Limits};
		let deadline = self.block + self.rng.pick(&[0, 12, 60, 400]);
		let max_fee = if self.rng.chance(70) { UNITS } else { self.amount() };
		let inputs: Vec<Vec<u8>> = (0..self.rng.below(5)).map(|_| self.input_bytes()).collect();
		match self.rng.below(7) {
			0 => Bu::fund { amount: self.amount() }.into(),
			1 => Bu::withdraw { amount: self.amount() }.into(),
			2 => {
				let limits = Limits {
					per_job: self.amount(),
					per_period: self.amount(),
					period: self.rng.pick(&[0, 1, 10, 600]),
					total: self.amount(),
					expires_at: if self.rng.chance(30) {
						Some(self.block + self.rng.below(50) as u32)
					} else {
						None
					},
				};
				Bu::authorize { delegate: account(self.who()), limits }.into()
			}
			3 => Bu::revoke { delegate: account(self.who()) }.into(),
			4 | 5 => {
				self.jobs += inputs.len() as u64;
				let payer = account(self.who());
				Bu::submit_jobs { payer, model: self.model(), inputs, max_fee, deadline }.into()
			}
			_ => {
				self.jobs += inputs.len() as u64;
				pallet_job_escrow::Call::submit_jobs {
					model: self.model(),
					inputs,
					max_fee,
					deadline,
				}
				.into()
			}
		}
	}

	/// A Root call wrapped in `sudo` (Alice holds the key in the presets).
	fn sudo(&mut self, depth: u32) -> RuntimeCall {
		let inner: RuntimeCall =
			match self.rng.below(9) {
				0 => {
					let mut p = infera_runtime::genesis_config_presets::dev_job_params();
					p.commit_window = self.rng.pick(&[0, 1, 2, 5, 1_000]);
					p.reveal_window = self.rng.pick(&[0, 1, 2, 5]);
					p.challenge_window = self.rng.pick(&[0, 1, 3]);
					p.audit_rate = Perbill::from_percent(self.rng.pick(&[0, 5, 50, 100]));
					p.committee_size = self.rng.pick(&[0, 1, 3, 8, 9]);
					p.max_reassignments = self.rng.pick(&[0, 1, 2, 3, 4]);
					p.collateral_ratio = self.rng.pick(&[0, 1, 30, u32::MAX]);
					p.storage_fee = self.rng.pick(&[0, UNITS / 100, UNITS]);
					p.retention = self.rng.pick(&[0, 1, 10]);
					p.receipt_retention = self.rng.pick(&[0, 10, 30]);
					pallet_job_escrow::Call::set_params { params: p }.into()
				}
				1 => pallet_job_escrow::Call::add_auditor { who: account(self.who()) }.into(),
				2 => pallet_job_escrow::Call::remove_auditor { who: account(self.who()) }.into(),
				3 => pallet_model_registry::Call::force_deprecate { model: self.model() }.into(),
				4 => pallet_balances::Call::force_set_balance {
					who: MultiAddress::Id(account(self.who())),
					new_free: self.amount(),
				}
				.into(),
				5 => {
					let mut p: pallet_rewards::RewardParams<Balance, u32> =
					<infera_runtime::configs::DefaultRewardParams as frame_support::traits::Get<_>>::get();
					p.epoch_length = self.rng.pick(&[0, 1, 3, 600]);
					p.emission_per_epoch = self.amount();
					pallet_rewards::Call::set_params { params: p }.into()
				}
				6 => {
					let who = account(self.who());
					if self.rng.chance(50) {
						pallet_validator_set::Call::add_validator { who }.into()
					} else {
						pallet_validator_set::Call::remove_validator { who }.into()
					}
				}
				7 => pallet_job_escrow::Call::set_probe_models {
					models: BoundedVec::truncate_from(vec![self.model()]),
				}
				.into(),
				_ => self.call(depth + 1).1,
			};
		pallet_sudo::Call::sudo { call: Box::new(inner) }.into()
	}
}
